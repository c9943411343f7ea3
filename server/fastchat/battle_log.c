#include "fastchat/battle_log.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fastchat/fields.h"
#include "rating/dedup.h"
#include "tag/style_count.h"
#include "util/buf.h"
#include "util/hash.h"

void battle_log_init(struct battle_log *log) { memset(log, 0, sizeof *log); }

void battle_log_release(struct battle_log *log) {
  for (size_t i = 0; i < log->n_models; i++)
    free(log->models[i]);
  free(log->models);
  for (size_t i = 0; i < log->n; i++)
    json_decref(log->battles[i].record);
  free(log->battles);
  free(log->slots);
  free(log->meta);
  for (size_t i = 0; i < log->n_languages; i++)
    free(log->languages[i]);
  free(log->languages);
  memset(log, 0, sizeof *log);
}

int fastchat_winner_parse(const char *s, enum winner *w) {
  if (!strcmp(s, "model_a"))
    *w = WINNER_A;
  else if (!strcmp(s, "model_b"))
    *w = WINNER_B;
  else if (!strcmp(s, "tie"))
    *w = WINNER_TIE;
  else if (!strcmp(s, "tie (bothbad)") || !strcmp(s, "both_bad"))
    *w = WINNER_BOTHBAD;
  else
    return -1;
  return 0;
}

const char *fastchat_winner_name(enum winner w) {
  static const char *const names[] = {"model_a", "model_b", "tie",
                                      "tie (bothbad)"};
  return names[w];
}

static int grow_slots(struct battle_log *log) {
  size_t n = log->n_slots ? log->n_slots * 2 : 64;
  int *slots = malloc(n * sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < n; i++)
    slots[i] = -1;
  for (size_t m = 0; m < log->n_models; m++) {
    size_t s = hash_fnv1a_str(log->models[m]) & (n - 1);
    while (slots[s] >= 0)
      s = (s + 1) & (n - 1);
    slots[s] = (int)m;
  }
  free(log->slots);
  log->slots = slots;
  log->n_slots = n;
  return 0;
}

int battle_log_model(struct battle_log *log, const char *name) {
  if ((log->n_models + 1) * 2 > log->n_slots && grow_slots(log))
    return -1;
  size_t s = hash_fnv1a_str(name) & (log->n_slots - 1);
  while (log->slots[s] >= 0) {
    if (!strcmp(log->models[log->slots[s]], name))
      return log->slots[s];
    s = (s + 1) & (log->n_slots - 1);
  }
  char **models = realloc(log->models, (log->n_models + 1) * sizeof *models);
  if (!models)
    return -1;
  log->models = models;
  models[log->n_models] = strdup(name);
  if (!models[log->n_models])
    return -1;
  log->slots[s] = (int)log->n_models;
  return (int)log->n_models++;
}

/* ---- what a record says about itself (BATTLE_LOG_META) ---- */

static const char *const category_names[LOG_CATEGORIES] = {
    [LOG_CAT_MATH] = "math",
    [LOG_CAT_IF] = "if",
    [LOG_CAT_CREATIVE_WRITING] = "creative_writing",
    [LOG_CAT_HARD_6] = "hard_6",
    [LOG_CAT_HARD_ENGLISH_6] = "hard_english_6",
    [LOG_CAT_CODING] = "coding",
    [LOG_CAT_LONG_USER] = "long_user",
    [LOG_CAT_NO_SHORT] = "no_short",
    [LOG_CAT_MULTITURN] = "multiturn",
    [LOG_CAT_NO_TIE] = "no_tie",
    [LOG_CAT_NO_REFUSAL] = "no_refusal",
    [LOG_CAT_DEDUP] = "dedup",
};

const char *log_category_name(enum log_category c) {
  return (unsigned)c < LOG_CATEGORIES ? category_names[c] : NULL;
}

int log_category_parse(const char *name) {
  for (int c = 0; c < LOG_CATEGORIES; c++)
    if (!strcmp(name, category_names[c]))
      return c;
  return -1;
}

/* ISO 639-1 codes and the names FastChat's language detection (polyglot)
 * gives them; a code may have several names, the first is the one an
 * export writes (log_language_name). */
static const struct {
  const char *code, *name;
} languages[] = {
    {"en", "English"},    {"zh", "Chinese"},    {"ru", "Russian"},
    {"es", "Spanish"},    {"de", "German"},     {"fr", "French"},
    {"ja", "Japanese"},   {"ko", "Korean"},     {"pt", "Portuguese"},
    {"it", "Italian"},    {"pl", "Polish"},     {"vi", "Vietnamese"},
    {"ar", "Arabic"},     {"id", "Indonesian"}, {"tr", "Turkish"},
    {"nl", "Dutch"},      {"uk", "Ukrainian"},  {"fa", "Persian"},
    {"fa", "Farsi"},      {"hi", "Hindi"},      {"cs", "Czech"},
    {"sv", "Swedish"},    {"hu", "Hungarian"},  {"el", "Greek"},
    {"he", "Hebrew"},     {"th", "Thai"},       {"ro", "Romanian"},
    {"bg", "Bulgarian"},  {"fi", "Finnish"},    {"da", "Danish"},
    {"no", "Norwegian"},  {"nb", "Norwegian Bokmal"},
    {"ms", "Malay"},      {"bn", "Bengali"},    {"ta", "Tamil"},
    {"sr", "Serbian"},    {"hr", "Croatian"},   {"sk", "Slovak"},
    {"ca", "Catalan"},    {"lt", "Lithuanian"}, {"lv", "Latvian"},
    {"et", "Estonian"},   {"sl", "Slovenian"},  {"ur", "Urdu"},
    {"sw", "Swahili"},    {"tl", "Tagalog"},    {"tl", "Filipino"},
};

const char *log_language_code(const char *language) {
  size_t n = strcspn(language, "-_");
  if (n == 2)
    for (size_t k = 0; k < sizeof languages / sizeof languages[0]; k++)
      if (!strncasecmp(language, languages[k].code, 2))
        return languages[k].code;
  for (size_t k = 0; k < sizeof languages / sizeof languages[0]; k++)
    if (!strcasecmp(language, languages[k].name))
      return languages[k].code;
  return NULL;
}

const char *log_language_name(const char *code) {
  if (!code)
    return NULL;
  for (size_t k = 0; k < sizeof languages / sizeof languages[0]; k++)
    if (!strcmp(code, languages[k].code))
      return languages[k].name;
  return NULL;
}

int log_language_match(const char *record_language, const char *wanted) {
  const char *a = log_language_code(record_language);
  const char *b = log_language_code(wanted);
  if (a && b)
    return !strcmp(a, b);
  return !strcasecmp(record_language, wanted);
}

/* The index of an interned language, adding it when new; -1 when out of
 * memory. Few distinct values, mostly the same one: a scan from the last
 * one found. */
static int intern_language(struct battle_log *log, const char *s, int *last) {
  if (*last >= 0 && (size_t)*last < log->n_languages &&
      !strcmp(log->languages[*last], s))
    return *last;
  for (size_t i = 0; i < log->n_languages; i++)
    if (!strcmp(log->languages[i], s))
      return *last = (int)i;
  char **more =
      realloc(log->languages, (log->n_languages + 1) * sizeof *more);
  if (!more)
    return -1;
  log->languages = more;
  if (!(more[log->n_languages] = strdup(s)))
    return -1;
  return *last = (int)log->n_languages++;
}

static int is_true(json_t *obj, const char *key) {
  return json_is_true(json_object_get(obj, key));
}

/* A conv_metadata count: a number, or an object whose numbers are
 * summed; -1 when absent or not a count. */
static double meta_count(json_t *v) {
  if (json_is_number(v)) {
    double x = json_number_value(v);
    return x >= 0 ? x : -1;
  }
  if (!json_is_object(v))
    return -1;
  double sum = 0;
  const char *key;
  json_t *item;
  json_object_foreach(v, key, item) {
    double x = json_number_value(item);
    if (!json_is_number(item) || x < 0)
      return -1;
    sum += x;
  }
  (void)key;
  return sum;
}

/* What one conversation side says: the style counts of its assistant
 * turns (joined with "\n", as FastChat joins them), its user turns'
 * tokens and count, and whether a turn holds a ``` fence. */
struct side {
  int have;               /* the conversation is an array */
  struct style_counts c;
  uint64_t user_tokens;
  long user_turns;
  int fence;
};

static int read_side(json_t *conv, int want_style, struct side *s) {
  memset(s, 0, sizeof *s);
  if (!json_is_array(conv))
    return 0;
  s->have = 1;
  struct buf joined;
  buf_init(&joined, (size_t)1 << 40);
  int rc = -1, first = 1;
  size_t i;
  json_t *turn;
  json_array_foreach(conv, i, turn) {
    const char *role = json_string_value(json_object_get(turn, "role"));
    json_t *content = json_object_get(turn, "content");
    const char *text = json_string_value(content);
    size_t len = text ? json_string_length(content) : 0;
    if (!text)
      text = "";
    if (len >= 3 && memmem(text, len, "```", 3))
      s->fence = 1;
    if (role && !strcmp(role, "user")) {
      s->user_turns++;
      s->user_tokens += style_tokens(text, len);
    } else if (role && !strcmp(role, "assistant") && want_style) {
      if ((!first && buf_append(&joined, "\n", 1)) ||
          buf_append(&joined, text, len))
        goto out;
      first = 0;
    }
  }
  if (want_style &&
      style_count(joined.data ? joined.data : "", joined.len, &s->c))
    goto out;
  rc = 0;
out:
  buf_release(&joined);
  return rc;
}

/* The four style counts of one side: conv_metadata's where it has them,
 * else the conversation's. 1 when all four are known. */
static int side_style(json_t *cm, const char *const keys[4],
                      const struct side *conv, double out[4]) {
  double from_text[4] = {
      (double)conv->c.tokens,
      (double)(conv->c.headers[0] + conv->c.headers[1] + conv->c.headers[2] +
               conv->c.headers[3] + conv->c.headers[4] + conv->c.headers[5]),
      (double)(conv->c.ordered + conv->c.unordered),
      (double)(conv->c.bold_star + conv->c.bold_under)};
  int known = 1;
  for (int f = 0; f < 4; f++) {
    double v = meta_count(json_object_get(cm, keys[f]));
    if (v < 0 && conv->have)
      v = from_text[f];
    if (v < 0)
      known = 0;
    out[f] = v < 0 ? 0 : v;
  }
  return known;
}

static const char *const style_keys[] = {
    "sum_assistant_a_tokens", "header_count_a", "list_count_a",
    "bold_count_a", "sum_assistant_b_tokens", "header_count_b",
    "list_count_b", "bold_count_b"};

int log_meta_style(json_t *conv_metadata, double a[4], double b[4]) {
  struct side none;
  memset(&none, 0, sizeof none);
  return side_style(conv_metadata, style_keys, &none, a) &
         side_style(conv_metadata, style_keys + 4, &none, b);
}

void log_record_prompt(json_t *rec, struct dedup_prompt *p) {
  size_t i;
  json_t *msg;
  json_array_foreach(json_object_get(rec, "conversation_a"), i, msg) {
    const char *role = json_string_value(json_object_get(msg, "role"));
    json_t *content = json_object_get(msg, "content");
    if (role && !strcmp(role, "user") && json_is_string(content))
      dedup_prompt_add_turn(p, json_string_value(content),
                            json_string_length(content));
  }
}

/* Fill m from the record; -1 when out of memory. */
static int read_meta(struct battle_log *log, json_t *rec, enum winner w,
                     int *last_language, struct log_meta *m) {
  memset(m, 0, sizeof *m);
  m->language = -1;
  const char *lang = json_string_value(json_object_get(rec, "language"));
  if (lang && (m->language = intern_language(log, lang, last_language)) < 0)
    return -1;
  json_t *cm = json_object_get(rec, "conv_metadata");
  json_t *ct = json_object_get(rec, "category_tag");
  int need_text = 0;
  for (int k = 0; k < 8 && !need_text; k++)
    need_text = meta_count(json_object_get(cm, style_keys[k])) < 0;
  struct side sa, sb;
  if (read_side(json_object_get(rec, "conversation_a"), need_text, &sa) ||
      read_side(json_object_get(rec, "conversation_b"), need_text, &sb))
    return -1;
  m->style = side_style(cm, style_keys, &sa, m->style_a) &
             side_style(cm, style_keys + 4, &sb, m->style_b);

  uint32_t c = 0;
  if (is_true(json_object_get(ct, "math_v0.1"), "math"))
    c |= 1u << LOG_CAT_MATH;
  if (is_true(json_object_get(ct, "if_v0.1"), "if"))
    c |= 1u << LOG_CAT_IF;
  if (is_true(json_object_get(ct, "creative_writing_v0.1"), "creative_writing"))
    c |= 1u << LOG_CAT_CREATIVE_WRITING;
  /* hard_6 from FastChat's criteria, or from Agon's own verdict (an
   * export of a live battle: fastchat/fields.h) */
  if (fastchat_hard_criteria(json_object_get(ct, "criteria_v0.1")) >= 6 ||
      is_true(json_object_get(ct, "agon_categories_v0.1"), "hard_prompt")) {
    c |= 1u << LOG_CAT_HARD_6;
    if (lang && log_language_match(lang, "en"))
      c |= 1u << LOG_CAT_HARD_ENGLISH_6;
  }
  json_t *code = json_object_get(rec, "is_code");
  if (json_is_boolean(code) ? json_is_true(code) : sa.fence || sb.fence)
    c |= 1u << LOG_CAT_CODING;
  json_t *ut = json_object_get(cm, "sum_user_tokens");
  double user = json_is_number(ut) ? json_number_value(ut)
                : sa.have        ? (double)sa.user_tokens
                                 : -1;
  if (user >= 500)
    c |= 1u << LOG_CAT_LONG_USER;
  if (user < 0 || user >= 5)
    c |= 1u << LOG_CAT_NO_SHORT;
  json_t *turn = json_object_get(rec, "turn");
  if (json_is_number(turn) ? json_number_value(turn) >= 2 : sa.user_turns >= 2)
    c |= 1u << LOG_CAT_MULTITURN;
  if (w == WINNER_A || w == WINNER_B)
    c |= 1u << LOG_CAT_NO_TIE;
  if (!is_true(rec, "is_refusal"))
    c |= 1u << LOG_CAT_NO_REFUSAL;
  json_t *dd = json_object_get(rec, "dedup_tag");
  if (!json_is_object(dd) || is_true(dd, "sampled"))
    c |= 1u << LOG_CAT_DEDUP;
  m->dedup_tag = json_is_object(dd);
  if (!m->dedup_tag) {
    struct dedup_prompt p;
    dedup_prompt_init(&p);
    log_record_prompt(rec, &p);
    m->prompted = p.turns > 0;
    m->prompt = p.hash;
    const char *qid = json_string_value(json_object_get(rec, "question_id"));
    m->named = qid != NULL;
    m->id = qid ? dedup_battle_id(qid) : 0;
  }
  m->categories = c;
  return 0;
}

/* Room for 4096 more battles (and their meta). 0 or -1. */
static int grow_battles(struct battle_log *log, int meta) {
  struct log_battle *b = realloc(log->battles, (log->n + 4096) * sizeof *b);
  if (!b)
    return -1;
  log->battles = b;
  if (meta) {
    struct log_meta *m = realloc(log->meta, (log->n + 4096) * sizeof *m);
    if (!m)
      return -1;
    log->meta = m;
  }
  return 0;
}

/* One record; returns 0 (kept), 1 (malformed, reported), -1 (no memory). */
static int add_record(struct battle_log *log, json_t *rec, const char *file,
                      size_t index, int keep, int meta, int *last_language,
                      log_problem_fn problem, void *cls) {
  const char *why = NULL;
  const char *ma = NULL, *mb = NULL, *ws = NULL;
  enum winner w = WINNER_TIE;
  if (!json_is_object(rec)) {
    why = "not a JSON object";
  } else {
    ma = json_string_value(json_object_get(rec, "model_a"));
    mb = json_string_value(json_object_get(rec, "model_b"));
    ws = json_string_value(json_object_get(rec, "winner"));
    json_t *ts = json_object_get(rec, "tstamp");
    json_t *an = json_object_get(rec, "anony");
    if (!ma || !*ma)
      why = "\"model_a\" is missing or not a non-empty string";
    else if (!mb || !*mb)
      why = "\"model_b\" is missing or not a non-empty string";
    else if (!strcmp(ma, mb))
      why = "\"model_a\" and \"model_b\" are the same model";
    else if (!ws || fastchat_winner_parse(ws, &w))
      why = "\"winner\" is not one of model_a, model_b, tie, tie (bothbad), "
            "both_bad";
    else if (ts && !json_is_null(ts) && !json_is_number(ts))
      why = "\"tstamp\" is not a number";
    else if (an && !json_is_null(an) && !json_is_boolean(an))
      why = "\"anony\" is not a boolean";
  }
  if (why) {
    log->malformed++;
    if (problem)
      problem(cls, file, index, why);
    return 1;
  }
  if (log->n % 4096 == 0 && grow_battles(log, meta))
    return -1;
  if (meta && read_meta(log, rec, w, last_language, &log->meta[log->n]))
    return -1;
  int a = battle_log_model(log, ma), b = battle_log_model(log, mb);
  if (a < 0 || b < 0)
    return -1;
  struct log_battle *lb = &log->battles[log->n];
  lb->a = a;
  lb->b = b;
  lb->w = w;
  lb->anony = json_is_true(json_object_get(rec, "anony"));
  lb->tstamp = json_number_value(json_object_get(rec, "tstamp"));
  lb->seq = log->n;
  lb->record = keep ? json_incref(rec) : NULL;
  log->n++;
  return 0;
}

/* A bump allocator for jansson while records are read and dropped one by
 * one: every allocation of a record comes from one block, and the block
 * is reused for the next record. jansson's allocator is process-wide, so
 * this is only used when the caller says nothing else uses jansson
 * meanwhile (BATTLE_LOG_FAST). */
static _Thread_local struct {
  char *block;
  size_t size, used;
  struct spill {
    struct spill *next;
  } *spills;                  /* allocations that did not fit */
} bump;

static void *bump_malloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!bump.block) {
    bump.block = malloc(1u << 20);
    bump.size = bump.block ? 1u << 20 : 0;
    bump.used = 0;
  }
  if (bump.block && bump.used + n <= bump.size) {
    void *p = bump.block + bump.used;
    bump.used += n;
    return p;
  }
  struct spill *s = malloc(sizeof(struct spill) + 16 + n);
  if (!s)
    return NULL;
  s->next = bump.spills;
  bump.spills = s;
  return (char *)s + 16;
}

static void bump_free(void *p) { (void)p; }

static void bump_reset(void) {
  bump.used = 0;
  while (bump.spills) {
    struct spill *s = bump.spills;
    bump.spills = s->next;
    free(s);
  }
}

static size_t skip_space(const char *p, size_t i, size_t n) {
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
    i++;
  return i;
}

/* Reading records from a byte range: one scanner per thread. */
struct scan {
  struct battle_log *log;
  const char *data;
  size_t n, i;
  int array;                 /* 1 inside a top-level array, 2 after ']' */
  size_t index;              /* records seen (kept or malformed) */
  int keep, fast, meta;
  int last_language;         /* the language found last (a guess) */
  const char *path;
  log_problem_fn problem;
  void *cls;
  char *err;
  size_t errlen;
};

/* Read records until the end, or until the next record would start at or
 * after stop (0: no stop). Returns 0, or -1 with the error set. */
static int scan_records(struct scan *sc, size_t stop) {
  const char *data = sc->data;
  size_t n = sc->n;
  while (sc->i < n && (!stop || sc->i < stop)) {
    size_t i = sc->i;
    if (sc->array == 1 && data[i] == ']') {
      i = skip_space(data, i + 1, n);
      if (i < n) {
        snprintf(sc->err, sc->errlen, "%s: unexpected text after the closing ']'",
                 sc->path);
        return -1;
      }
      sc->i = i;
      sc->array = 2;
      break;
    }
    json_error_t jerr;
    json_t *rec = json_loadb(data + i, n - i,
                             JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY, &jerr);
    if (!rec) {
      /* one bad line of JSON lines is a malformed record; in an array the
       * structure is lost, so the file is rejected */
      if (sc->array) {
        snprintf(sc->err, sc->errlen, "%s: record %zu: invalid JSON: %s",
                 sc->path, sc->index, jerr.text);
        return -1;
      }
      sc->log->malformed++;
      if (sc->fast)
        bump_reset();
      if (sc->problem)
        sc->problem(sc->cls, sc->path, sc->index, "invalid JSON");
      const char *nl = memchr(data + i, '\n', n - i);
      i = nl ? (size_t)(nl - data) + 1 : n;
      sc->i = skip_space(data, i, n);
      sc->index++;
      continue;
    }
    i += jerr.position;
    int r = add_record(sc->log, rec, sc->path, sc->index, sc->keep,
                       sc->meta, &sc->last_language, sc->problem, sc->cls);
    json_decref(rec);
    if (sc->fast)
      bump_reset();
    if (r < 0) {
      snprintf(sc->err, sc->errlen, "%s: out of memory", sc->path);
      return -1;
    }
    sc->index++;
    i = skip_space(data, i, n);
    if (sc->array == 1) {
      if (i < n && data[i] == ',')
        i = skip_space(data, i + 1, n);
      else if (i >= n || data[i] != ']') {
        snprintf(sc->err, sc->errlen, "%s: record %zu: expected ',' or ']'",
                 sc->path, sc->index - 1);
        return -1;
      }
    }
    sc->i = i;
  }
  return 0;
}

/* Problems found by the second reader, reported once its records are
 * known to be real ones. */
struct deferred {
  struct {
    size_t index;
    const char *msg;      /* static strings */
  } *items;
  size_t n;
};

static void defer_problem(void *cls, const char *file, size_t index,
                          const char *msg) {
  struct deferred *d = cls;
  void *more = realloc(d->items, (d->n + 1) * sizeof *d->items);
  if (!more)
    return;
  d->items = more;
  d->items[d->n].index = index;
  d->items[d->n++].msg = msg;
}

struct second {
  pthread_t thread;
  struct scan sc;
  struct battle_log log;
  struct deferred problems;
  char err[512];
  int rc;
  size_t start;
  int joined;
};

static void *second_main(void *arg) {
  struct second *t = arg;
  t->sc.log = &t->log;
  t->rc = scan_records(&t->sc, 0);
  if (t->sc.fast) {
    bump_reset();
    free(bump.block); /* this thread's own block */
    bump.block = NULL;
  }
  return NULL;
}

int battle_log_read(struct battle_log *log, const char *path, int flags,
                    log_problem_fn problem, void *cls, char *err,
                    size_t errlen) {
  int rc = -1;
  int keep_records = flags & BATTLE_LOG_KEEP;
  int fast = (flags & BATTLE_LOG_FAST) && !keep_records;
  struct second *t2 = NULL;
  struct buf whole;
  buf_init(&whole, (size_t)1 << 40);
  const char *data = NULL;
  size_t n = 0;
  void *map = MAP_FAILED;
  int fd = -1;
  if (!strcmp(path, "-")) {
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, stdin)) > 0)
      if (buf_append(&whole, chunk, got)) {
        snprintf(err, errlen, "%s: out of memory", path);
        goto out;
      }
    data = whole.data ? whole.data : "";
    n = whole.len;
  } else {
    fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
      snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
      goto out;
    }
    n = (size_t)st.st_size;
    if (n) {
      map = mmap(NULL, n, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map == MAP_FAILED) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        goto out;
      }
      data = map;
    } else {
      data = "";
    }
  }
  if (fast)
    json_set_alloc_funcs(bump_malloc, bump_free);
  struct scan sc = {.log = log, .data = data, .n = n, .keep = keep_records,
                    .fast = fast, .meta = (flags & BATTLE_LOG_META) != 0,
                    .last_language = -1, .path = path, .problem = problem,
                    .cls = cls, .err = err, .errlen = errlen};
  sc.i = skip_space(data, 0, n);
  if (sc.i < n && data[sc.i] == '[') {
    sc.array = 1;
    sc.i = skip_space(data, sc.i + 1, n);
  }
  /* A large log is read by two threads: the second starts at the first
   * line after the middle that begins with '{' (a raw newline is never
   * inside a JSON string, so this is a token boundary; whether it is a
   * record boundary is only known when the first reader gets there: if
   * it does not land on it exactly, the second reader's work is
   * dropped). */
  size_t guess = 0;
  if (fast && n > (8u << 20)) {
    const char *nl = memchr(data + n / 2, '\n', n - n / 2);
    if (nl) {
      size_t g = skip_space(data, (size_t)(nl - data) + 1, n);
      if (g < n && data[g] == '{')
        guess = g;
    }
  }
  if (guess) {
    t2 = calloc(1, sizeof *t2);
    if (t2) {
      battle_log_init(&t2->log);
      t2->start = guess;
      t2->sc = sc;
      t2->sc.i = guess;
      t2->sc.index = 0;
      t2->sc.last_language = -1;
      t2->sc.problem = defer_problem;
      t2->sc.cls = &t2->problems;
      t2->sc.err = t2->err;
      t2->sc.errlen = sizeof t2->err;
      if (pthread_create(&t2->thread, NULL, second_main, t2)) {
        battle_log_release(&t2->log);
        free(t2);
        t2 = NULL;
      }
    }
  }
  if (scan_records(&sc, t2 ? t2->start : 0))
    goto out;
  if (t2) {
    pthread_join(t2->thread, NULL);
    t2->joined = 1;
    if (sc.i == t2->start && t2->rc == 0) {
      /* the guess was a record boundary: take the second half as read */
      size_t base = sc.index;
      for (size_t k = 0; k < t2->problems.n && problem; k++)
        problem(cls, path, base + t2->problems.items[k].index,
                t2->problems.items[k].msg);
      log->malformed += t2->log.malformed;
      for (size_t k = 0; k < t2->log.n; k++) {
        struct log_battle b = t2->log.battles[k];
        int a = battle_log_model(log, t2->log.models[b.a]);
        int c = battle_log_model(log, t2->log.models[b.b]);
        if (a < 0 || c < 0 || (log->n % 4096 == 0 && grow_battles(log, sc.meta))) {
          snprintf(err, errlen, "%s: out of memory", path);
          goto out;
        }
        if (sc.meta) {
          struct log_meta m = t2->log.meta[b.seq];
          if (m.language >= 0 &&
              (m.language = intern_language(log, t2->log.languages[m.language],
                                            &sc.last_language)) < 0) {
            snprintf(err, errlen, "%s: out of memory", path);
            goto out;
          }
          log->meta[log->n] = m;
        }
        b.a = a;
        b.b = c;
        b.seq = log->n;
        log->battles[log->n++] = b;
      }
      sc.i = t2->sc.i;
      sc.array = t2->sc.array;
      sc.index += t2->sc.index;
    } else {
      /* not a boundary, or trouble there: read the rest ourselves */
      if (scan_records(&sc, 0))
        goto out;
    }
  }
  if (sc.array == 1) {
    snprintf(err, errlen, "%s: the JSON array is not closed", path);
    goto out;
  }
  rc = 0;
out:
  if (t2) {
    if (!t2->joined)
      pthread_join(t2->thread, NULL);
    battle_log_release(&t2->log);
    free(t2->problems.items);
    free(t2);
  }
  if (fast) {
    json_set_alloc_funcs(malloc, free);
    bump_reset();
    free(bump.block);
    bump.block = NULL;
  }
  if (map != MAP_FAILED)
    munmap(map, n);
  if (fd >= 0)
    close(fd);
  buf_release(&whole);
  return rc;
}

int battle_log_dedup(struct battle_log *log, struct dedup_summary *summary,
                     size_t *n) {
  struct dedup_battle *b = calloc(log->n + 1, sizeof *b);
  size_t *at = malloc((log->n + 1) * sizeof *at);
  unsigned char *flags = malloc(log->n + 1);
  size_t k = 0;
  int rc = -1;
  if (!b || !at || !flags)
    goto out;
  for (size_t i = 0; log->meta && i < log->n; i++) {
    const struct log_meta *m = &log->meta[i];
    if (!m->dedup_tag && m->prompted) {
      char seq[32];
      snprintf(seq, sizeof seq, "#%zu", i);
      b[k] = (struct dedup_battle){m->prompt,
                                   m->named ? m->id : dedup_battle_id(seq)};
      at[k++] = i;
    }
  }
  if (dedup_compute(b, k, DEDUP_PERCENTILE, DEDUP_SEED, flags, summary))
    goto out;
  for (size_t j = 0; j < k; j++) {
    uint32_t *c = &log->meta[at[j]].categories;
    if (flags[j] & DEDUP_SAMPLED)
      *c |= 1u << LOG_CAT_DEDUP;
    else
      *c &= ~(1u << LOG_CAT_DEDUP);
  }
  if (n)
    *n = k;
  rc = 0;
out:
  free(b);
  free(at);
  free(flags);
  return rc;
}

static int by_tstamp(const void *x, const void *y) {
  const struct log_battle *a = x, *b = y;
  if (a->tstamp != b->tstamp)
    return a->tstamp < b->tstamp ? -1 : 1;
  return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void battle_log_sort(struct battle_log *log) {
  if (log->n < 2)
    return;
  qsort(log->battles, log->n, sizeof *log->battles, by_tstamp);
}
