/* FastChat's language, is_code, is_refusal, conv_metadata, category_tag and
 * dedup_tag read into Agon's tags and written from them
 * (fastchat/fields.h). */
#include "check.h"
#include "fastchat/battle_log.h"
#include "fastchat/fields.h"
#include "rating/dedup.h"
#include "tag/categories.h"

static json_t *parse(const char *text) {
  json_error_t e;
  json_t *j = json_loads(text, 0, &e);
  if (!j)
    fprintf(stderr, "bad test JSON: %s\n", e.text);
  return j;
}

/* The value of category name in f: 1, 0, or -1 when absent. */
static int category(const struct fastchat_fields *f, const char *name) {
  for (size_t i = 0; i < f->n_categories; i++)
    if (!strcmp(f->categories[i].name, name))
      return f->categories[i].value;
  return -1;
}

static void language_of(const char *value, const char *want) {
  char text[128];
  snprintf(text, sizeof text, "{\"language\": \"%s\"}", value);
  json_t *r = parse(text);
  struct fastchat_fields f;
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK_STR(f.language, want);
  fastchat_fields_release(&f);
  json_decref(r);
}

int main(void) {
  struct fastchat_fields f, g;

  /* ---- a record that says it all: nothing is computed ---- */
  json_t *r = parse(
      "{\"language\": \"Korean\", \"is_code\": true, \"is_refusal\": false,"
      " \"turn\": 2, \"conv_metadata\": {\"sum_user_tokens\": 600,"
      " \"sum_assistant_a_tokens\": 10, \"sum_assistant_b_tokens\": 12},"
      " \"category_tag\": {\"criteria_v0.1\": {\"specificity\": true,"
      " \"domain_knowledge\": true, \"complexity\": true, \"problem_solving\":"
      " true, \"creativity\": false, \"technical_accuracy\": true,"
      " \"real_world\": true}, \"math_v0.1\": {\"math\": false},"
      " \"creative_writing_v0.1\": {\"creative_writing\": true, \"score\":"
      " \"yes\"}, \"if_v0.1\": {\"if\": true, \"score\": 4}},"
      " \"conversation_a\": [{\"role\": \"user\", \"content\": \"hi\"}]}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK_STR(f.language, "ko");
  CHECK(f.tagged);
  CHECK(f.mask == (TAG_CODING | TAG_MULTI_TURN | TAG_LONG_QUERY |
                   TAG_NO_SHORT | TAG_NO_REFUSAL));
  CHECK(f.conv_metadata == json_object_get(r, "conv_metadata"));
  CHECK(!f.counted_style);
  CHECK(f.n_categories == 4);
  CHECK(category(&f, "hard_prompt") == 1); /* 6 of 7 */
  CHECK(category(&f, "math") == 0);
  CHECK(category(&f, "creative_writing") == 1);
  CHECK(category(&f, "instruction_following") == 1);
  fastchat_fields_release(&f);
  json_decref(r);

  /* ---- the edges of the verdicts ---- */
  r = parse("{\"category_tag\": {\"criteria_v0.1\": {\"specificity\": true,"
            " \"domain_knowledge\": true, \"complexity\": true,"
            " \"problem_solving\": true, \"creativity\": true},"
            " \"if_v0.1\": {\"if\": true, \"score\": 3},"
            " \"agon_categories_v0.1\": {\"math\": true, \"Bad Name\": true,"
            " \"legal\": false}, \"math_v0.1\": {\"math\": false}}}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK(category(&f, "hard_prompt") == 0);          /* 5 of 7 */
  CHECK(category(&f, "instruction_following") == 0); /* the score says 3 */
  CHECK(category(&f, "math") == 1);     /* Agon's own verdict first */
  CHECK(category(&f, "legal") == 0);
  CHECK(category(&f, "Bad Name") == -1); /* cannot name a slice */
  CHECK(!f.tagged && f.language[0] == '\0' && !f.conv_metadata);
  fastchat_fields_release(&f);
  json_decref(r);
  r = parse("{\"category_tag\": {\"if_v0.1\": {\"if\": true, \"score\": null},"
            " \"creative_writing_v0.1\": {\"score\": \"yes\"}}}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK(category(&f, "instruction_following") == 1); /* no score: "if" */
  CHECK(category(&f, "creative_writing") == -1);     /* no verdict */
  fastchat_fields_release(&f);
  json_decref(r);

  /* ---- a record with nothing but its battle: untagged ---- */
  r = parse("{\"model_a\": \"x\", \"model_b\": \"y\", \"winner\": \"tie\"}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK(f.language[0] == '\0' && !f.tagged && f.mask == 0);
  CHECK(f.n_categories == 0 && !f.conv_metadata && !f.counted_style);
  fastchat_fields_release(&f);
  json_decref(r);

  /* ---- a conversation only: tagged as a live battle is ---- */
  r = parse(
      "{\"conversation_a\": [{\"role\": \"user\", \"content\": \"Can you "
      "write a Python function that reverses a linked list and explain how "
      "it works?\"}, {\"role\": \"assistant\", \"content\": \"## Reversing\\n"
      "- walk the list\\n- **flip** each pointer\"}, {\"role\": \"user\", "
      "\"content\": \"And what is its complexity in time and in memory?\"}, "
      "{\"role\": \"assistant\", \"content\": \"Linear time.\"}], "
      "\"conversation_b\": [{\"role\": \"user\", \"content\": \"(same)\"}, "
      "{\"role\": \"assistant\", \"content\": \"Sure.\"}, {\"role\": "
      "\"user\", \"content\": \"(same)\"}, {\"role\": \"assistant\", "
      "\"content\": \"I'm sorry, but I can't help with that.\"}]}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK_STR(f.language, "en");
  CHECK(f.tagged);
  CHECK(f.mask == (TAG_CODING | TAG_MULTI_TURN | TAG_NO_SHORT)); /* b refused */
  CHECK(f.counted_style && !f.conv_metadata);
  CHECK(f.style.turns == 2 && f.style.user_tokens > 5);
  CHECK(f.style.style[0].headers[1] == 1 && f.style.style[0].unordered == 2);
  CHECK(f.style.style[0].bold_star == 1 && f.style.style[1].headers[1] == 0);
  fastchat_fields_release(&f);
  json_decref(r);
  /* ...and the record's own fields win over the conversation */
  r = parse("{\"is_refusal\": false, \"turn\": 1, \"is_code\": false,"
            " \"conversation_a\": [{\"role\": \"user\", \"content\": \"Write "
            "Python code\"}, {\"role\": \"user\", \"content\": \"again\"}]}");
  CHECK(fastchat_fields_read(r, &f) == 0);
  CHECK(f.mask == TAG_NO_REFUSAL); /* 4 tokens: not no_short */
  CHECK(f.style.user_tokens == 4);
  fastchat_fields_release(&f);
  json_decref(r);

  /* ---- languages: FastChat's names, codes, and what they cannot be ---- */
  language_of("English", "en");
  language_of("Chinese", "zh");
  language_of("unknown", "und");
  language_of("Klingon", "und");
  language_of("en-US", "en");
  language_of("haw", "haw");     /* CLD2's code, as an export writes it */
  language_of("und", "und");
  static const char *const codes[] = {"en", "zh", "ko", "ja", "ru", "es",
                                      "de", "fr", "fa", "tl", "no", "nb"};
  for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
    const char *name = log_language_name(codes[i]);
    CHECK(name && !strcmp(log_language_code(name), codes[i]));
  }
  CHECK_STR(log_language_name("ko"), "Korean");
  CHECK(log_language_name("xx") == NULL && log_language_name(NULL) == NULL);

  /* ---- written, then read back ---- */
  fastchat_fields_init(&f);
  strcpy(f.language, "ko");
  f.tagged = 1;
  f.mask = TAG_CODING | TAG_NO_SHORT;
  const char *names[] = {"hard_prompt", "math", "creative_writing",
                         "instruction_following", "legal"};
  for (int i = 0; i < 5; i++) {
    snprintf(f.categories[i].name, sizeof f.categories[i].name, "%s",
             names[i]);
    f.categories[i].value = i % 2 == 0;
  }
  f.n_categories = 5;
  f.conv_metadata = parse("{\"sum_user_tokens\": 7, \"turns\": 1}");
  f.dedup = DEDUP_HIGH_FREQ;
  r = json_object();
  CHECK(fastchat_fields_write(r, &f) == 0);
  char *text = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
  CHECK_STR(text,
            "{\"category_tag\":{\"agon_categories_v0.1\":{\"creative_writing\":"
            "true,\"hard_prompt\":true,\"instruction_following\":false,"
            "\"legal\":true,\"math\":false},\"agon_tags_v0.1\":{\"coding\":"
            "true,\"long_query\":false,\"multi_turn\":false,\"no_refusal\":"
            "false,\"no_short\":true},\"creative_writing_v0.1\":{"
            "\"creative_writing\":true,\"score\":\"yes\"},\"if_v0.1\":{\"if\":"
            "false,\"score\":null},\"math_v0.1\":{\"math\":false}},"
            "\"conv_metadata\":{\"sum_user_tokens\":7,\"turns\":1},"
            "\"dedup_tag\":{\"high_freq\":true,\"sampled\":false},\"is_code\":"
            "true,\"is_refusal\":true,\"language\":\"Korean\"}");
  free(text);
  CHECK(fastchat_fields_read(r, &g) == 0);
  CHECK_STR(g.language, "ko");
  CHECK(g.tagged && g.mask == f.mask);
  CHECK(g.n_categories == 5);
  for (int i = 0; i < 5; i++)
    CHECK(category(&g, names[i]) == (i % 2 == 0));
  CHECK(json_equal(g.conv_metadata, f.conv_metadata));
  fastchat_fields_release(&g);
  json_decref(r);
  /* untagged, no categories, no dedup: language only */
  fastchat_fields_release(&f);
  fastchat_fields_init(&f);
  strcpy(f.language, "und");
  r = json_object();
  CHECK(fastchat_fields_write(r, &f) == 0);
  text = json_dumps(r, JSON_SORT_KEYS | JSON_COMPACT);
  CHECK_STR(text, "{\"language\":\"unknown\"}");
  free(text);
  strcpy(f.language, "haw");
  CHECK(fastchat_fields_write(r, &f) == 0);
  CHECK_STR(json_string_value(json_object_get(r, "language")), "haw");
  json_decref(r);
  return check_done("fastchat_fields");
}
