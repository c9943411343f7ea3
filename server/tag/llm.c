#include "tag/llm.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The instructions say what FastChat's classifiers ask, in our words. */
static const char criteria_system[] =
    "You judge how well a user prompt tests an advanced AI assistant. "
    "Check the prompt against these 7 criteria:\n"
    "1. Specificity: it asks for a definite output (code, a worked "
    "solution, a simplification, a plan, a concrete setup).\n"
    "2. Domain knowledge: it needs knowledge of a particular field "
    "(programming, mathematics, logic, engineering, hardware...).\n"
    "3. Complexity: it has several parts or steps, not one plain fact.\n"
    "4. Problem solving: the assistant must work out a solution for the "
    "situation given, not recall a known fact.\n"
    "5. Creativity: a good answer needs an original approach fitted to "
    "the user's needs and constraints.\n"
    "6. Technical accuracy: the answer must be precise and correct in a "
    "technical sense.\n"
    "7. Real-world application: it concerns a practical task someone "
    "would really carry out.\n\n"
    "Reply with the numbers of the criteria the prompt meets, as one "
    "list in square brackets, for example [1, 3, 4]. Write [] when it "
    "meets none. Do not explain.";

static const char math_system[] =
    "You decide whether answering a user prompt means solving a "
    "mathematical problem with mathematical reasoning. Consider: does it "
    "call for a mathematical concept or formula; does it involve "
    "calculation, algebra or formal logic; is there a definite problem to "
    "solve; would a right answer show skill in an area of mathematics?\n\n"
    "Reply with <decision>yes</decision> or <decision>no</decision> and "
    "nothing else.";

static const char creative_system[] =
    "You decide whether a user prompt asks mainly for creative writing: "
    "writing beyond plain professional, news, academic or technical "
    "text, driven by imagination and expression, such as fiction, poems, "
    "scripts and dialogue, personal or narrative essays, songs and "
    "lyrics. Consider: does it ask for invented content or scenarios; "
    "for feelings or experiences beyond facts; for a creative form (a "
    "story, a poem, a script); is its aim expression rather than "
    "information or analysis; does it ask for imagery, metaphor or "
    "dialogue; does it expect prose or verse rather than code, numbers "
    "or pictures?\n\n"
    "Reply with <decision>yes</decision> or <decision>no</decision> and "
    "nothing else.";

static const char if_system[] =
    "You decide how well a user prompt tests an AI assistant's ability "
    "to follow instructions. Consider: does it give specific instructions "
    "or requirements; several steps or elements to cover; a required "
    "format or structure for the answer; a demanding constraint that "
    "tests precise compliance? Good prompts for this have clear "
    "directions whose fulfilment can be checked objectively.\n\n"
    "Score it from 0 to 5:\n"
    "0 = it does not test instruction following at all\n"
    "1 = it tests it poorly\n"
    "2 = it tests it somewhat\n"
    "3 = it tests simple instruction following well\n"
    "4 = it tests complex instruction following well\n"
    "5 = it tests advanced instruction following well\n\n"
    "Reply with <score>N</score>, N your score, and nothing else.";

const struct llm_tag_category llm_tag_builtins[LLM_TAG_BUILTINS] = {
    {"hard_prompt", LLM_TAG_CRITERIA, criteria_system},
    {"math", LLM_TAG_YESNO, math_system},
    {"creative_writing", LLM_TAG_YESNO, creative_system},
    {"instruction_following", LLM_TAG_SCORE, if_system},
};

const struct llm_tag_category *llm_tag_builtin(const char *name) {
  for (int i = 0; i < LLM_TAG_BUILTINS; i++)
    if (name && !strcmp(llm_tag_builtins[i].name, name))
      return &llm_tag_builtins[i];
  return NULL;
}

void llm_tag_custom_system(const char *question, char *out, size_t len) {
  snprintf(out, len,
           "You decide whether a user prompt belongs to a category. The "
           "category is defined by this question about the prompt:\n%s\n\n"
           "Reply with <decision>yes</decision> or <decision>no</decision> "
           "and nothing else.",
           question);
}

json_t *llm_tag_messages(const char *system, const char *const *prompts,
                         size_t n_prompts) {
  static const char open[] = "<user_prompt>\n", close[] = "\n</user_prompt>";
  char *text = malloc(LLM_TAG_MAX_PROMPT + sizeof open + sizeof close);
  json_t *msgs = NULL;
  if (!text)
    goto cleanup;
  size_t off = 0;
  memcpy(text, open, sizeof open - 1);
  off = sizeof open - 1;
  size_t used = 0;
  for (size_t i = 0; i < n_prompts && used < LLM_TAG_MAX_PROMPT; i++) {
    const char *p = prompts[i] ? prompts[i] : "";
    if (i > 0 && used + 2 <= LLM_TAG_MAX_PROMPT) {
      memcpy(text + off, "\n\n", 2);
      off += 2;
      used += 2;
    }
    size_t n = strlen(p);
    if (n > LLM_TAG_MAX_PROMPT - used) {
      n = LLM_TAG_MAX_PROMPT - used; /* back to a character's start */
      while (n > 0 && ((unsigned char)p[n] & 0xC0) == 0x80)
        n--;
    }
    memcpy(text + off, p, n);
    off += n;
    used += n;
  }
  memcpy(text + off, close, sizeof close); /* with the NUL */
  msgs = json_pack("[{s:s, s:s}, {s:s, s:s}]", "role", "system", "content",
                   system, "role", "user", "content", text);
cleanup:
  free(text);
  return msgs;
}

/* Every value between open and close tags in reply (spaces, new lines
 * and brackets inside ignored; case ignored): they must all agree. The
 * value (at most len-1 bytes) into out; 1 found, 0 none, -1 disagree. */
static int tagged_value(const char *reply, const char *open,
                        const char *close, char *out, size_t len) {
  int found = 0;
  size_t ol = strlen(open);
  for (const char *p = strcasestr(reply, open); p;
       p = strcasestr(p + 1, open)) {
    const char *v = p + ol, *e = strcasestr(v, close);
    if (!e)
      break;
    char val[32];
    size_t n = 0;
    for (const char *q = v; q < e && n < sizeof val - 1; q++)
      if (!isspace((unsigned char)*q) && *q != '[' && *q != ']')
        val[n++] = (char)tolower((unsigned char)*q);
    val[n] = '\0';
    if (!n)
      continue;
    if (found && strcmp(val, out) != 0)
      return -1;
    snprintf(out, len, "%s", val);
    found = 1;
  }
  return found;
}

/* The criteria list: every "[d, d, ...]" (or "[]") in reply must be the
 * same; the number of distinct criteria 1..7 it names, or -1. */
static int criteria_count(const char *reply) {
  int count = -1;
  char seen_list[64] = "";
  for (const char *p = strchr(reply, '['); p; p = strchr(p + 1, '[')) {
    const char *e = strchr(p, ']');
    if (!e)
      break;
    char list[64];
    size_t n = 0;
    int ok = 1, mask = 0;
    for (const char *q = p + 1; q < e; q++) {
      if (isspace((unsigned char)*q))
        continue;
      if (*q >= '1' && *q <= '7' && (q + 1 == e || !isdigit((unsigned char)q[1])))
        mask |= 1 << (*q - '0');
      else if (*q != ',')
        ok = 0;
      if (n < sizeof list - 1)
        list[n++] = *q;
    }
    list[n] = '\0';
    if (!ok)
      continue;
    if (count >= 0 && strcmp(list, seen_list) != 0)
      return -1;
    snprintf(seen_list, sizeof seen_list, "%s", list);
    count = __builtin_popcount((unsigned)mask);
  }
  return count;
}

int llm_tag_parse(enum llm_tag_kind kind, const char *reply, int *score) {
  char val[32];
  int s = -1, rc = -1;
  if (!reply)
    goto done;
  switch (kind) {
  case LLM_TAG_CRITERIA:
    s = criteria_count(reply);
    rc = s < 0 ? -1 : s >= 6;
    break;
  case LLM_TAG_SCORE:
    if (tagged_value(reply, "<score>", "</score>", val, sizeof val) == 1 &&
        val[0] >= '0' && val[0] <= '5' && val[1] == '\0') {
      s = val[0] - '0';
      rc = s >= 4;
    }
    break;
  case LLM_TAG_YESNO:
    if (tagged_value(reply, "<decision>", "</decision>", val, sizeof val) ==
        1) {
      if (!strcmp(val, "yes"))
        rc = 1;
      else if (!strcmp(val, "no"))
        rc = 0;
    }
    break;
  }
done:
  if (score)
    *score = rc < 0 ? -1 : s;
  return rc;
}
