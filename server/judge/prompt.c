#include "judge/prompt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

const char *const judge_criteria[4] = {"grammaticality", "cohesiveness",
                                       "likability", "relevance"};

static const char pairwise_instructions[] =
    "You are an impartial judge. Two AI assistants, A and B, answered the "
    "same user. Decide which assistant served the user better, considering "
    "helpfulness, relevance, accuracy, depth, creativity and clarity. Judge "
    "the content only: the order in which the answers appear, their length "
    "and any names must not sway you. Explain your reasoning in a few "
    "sentences, then end your reply with exactly one verdict on a line of "
    "its own: [[A]] if assistant A is better, [[B]] if assistant B is "
    "better, or [[C]] for a tie.";

static const char single_instructions[] =
    "You are an expert evaluator of writing by AI assistants. Rate the "
    "assistant's answer to the user on four attributes, each from 1 (very "
    "poor) to 20 (excellent): grammaticality (is the text fluent and free of "
    "errors?), cohesiveness (do the sentences fit together?), likability (is "
    "it pleasant to read?) and relevance (does it address the user's "
    "request?). Reply with exactly four lines and nothing else:\n"
    "Grammaticality: N\nCohesiveness: N\nLikability: N\nRelevance: N";

#define MAX_PROMPT (4u << 20)
#define EXAMPLE_CHARS 1500

/* Append text, cut to max bytes (at a UTF-8 boundary) when max > 0. */
static int append_cut(struct buf *b, const char *text, size_t max) {
  size_t n = strlen(text ? text : "");
  if (max && n > max) {
    while (max > 0 && ((unsigned char)text[max] & 0xC0) == 0x80)
      max--;
    return buf_append(b, text, max) || buf_append_str(b, " [...]");
  }
  return buf_append(b, text ? text : "", n);
}

static int append_case(struct buf *b, const struct judge_case *c, int swapped,
                       size_t cut) {
  int first = swapped ? 1 : 0;
  int rc = 0;
  for (size_t t = 0; t < c->n_turns && !rc; t++) {
    char head[64];
    snprintf(head, sizeof head, "### Turn %zu\n[User]\n", t + 1);
    rc |= buf_append_str(b, head);
    rc |= append_cut(b, c->prompts[t], cut);
    rc |= buf_append_str(b, "\n\n[Assistant A]\n");
    rc |= append_cut(b, c->answers[first][t], cut);
    rc |= buf_append_str(b, "\n\n[Assistant B]\n");
    rc |= append_cut(b, c->answers[1 - first][t], cut);
    rc |= buf_append_str(b, "\n\n");
  }
  return rc;
}

/* Fill out with the system message (instructions, or dflt when NULL) and
 * the user message built in u, which is released; failed: u is not whole.
 * 0, or -1 with out freed. */
static int messages_finish(struct chat_message out[2], const char *instructions,
                           const char *dflt, struct buf *u, int failed) {
  out[0].role = "system";
  out[0].content = strdup(instructions ? instructions : dflt);
  out[1].role = "user";
  out[1].content = failed ? NULL : buf_steal(u);
  buf_release(u);
  if (!out[0].content || !out[1].content) {
    judge_messages_free(out);
    return -1;
  }
  return 0;
}

int judge_pairwise_messages(const struct judge_case *c, int swapped,
                            const struct judge_case *examples, size_t n,
                            const char *instructions,
                            struct chat_message out[2]) {
  struct buf u;
  buf_init(&u, MAX_PROMPT);
  int rc = 0;
  for (size_t i = 0; i < n && !rc; i++) {
    char head[96];
    snprintf(head, sizeof head,
             "## Example %zu (judged by a person)\n\n", i + 1);
    rc |= buf_append_str(&u, head);
    rc |= append_case(&u, &examples[i], 0, EXAMPLE_CHARS);
    char verdict[48];
    snprintf(verdict, sizeof verdict, "Verdict: [[%c]]\n\n", examples[i].human);
    rc |= buf_append_str(&u, verdict);
  }
  if (n)
    rc |= buf_append_str(&u, "## Now judge this conversation\n\n");
  rc |= append_case(&u, c, swapped, 0);
  rc |= buf_append_str(&u, "Which assistant is better? End with [[A]], [[B]] "
                           "or [[C]].");
  return messages_finish(out, instructions, pairwise_instructions, &u, rc);
}

int judge_single_messages(const struct judge_case *c, int side,
                          const char *instructions,
                          struct chat_message out[2]) {
  struct buf u;
  buf_init(&u, MAX_PROMPT);
  int rc = 0;
  for (size_t t = 0; t < c->n_turns && !rc; t++) {
    char head[64];
    snprintf(head, sizeof head, "### Turn %zu\n[User]\n", t + 1);
    rc |= buf_append_str(&u, head);
    rc |= append_cut(&u, c->prompts[t], 0);
    rc |= buf_append_str(&u, "\n\n[Assistant]\n");
    rc |= append_cut(&u, c->answers[side][t], 0);
    rc |= buf_append_str(&u, "\n\n");
  }
  rc |= buf_append_str(&u, "Rate the assistant's answers.");
  return messages_finish(out, instructions, single_instructions, &u, rc);
}

void judge_messages_free(struct chat_message m[2]) {
  for (int i = 0; i < 2; i++) {
    free((char *)m[i].content);
    m[i].content = NULL;
  }
}

char judge_parse_verdict(const char *reply) {
  const char *last = NULL;
  for (const char *p = reply; (p = strstr(p, "[[")); p++)
    if ((p[2] == 'A' || p[2] == 'B' || p[2] == 'C') && p[3] == ']' &&
        p[4] == ']')
      last = p;
  return last ? last[2] : 0;
}

int judge_parse_scores(const char *reply, int scores[4]) {
  for (int k = 0; k < 4; k++) {
    scores[k] = -1;
    size_t n = strlen(judge_criteria[k]);
    for (const char *p = reply; *p; p++) {
      if (strncasecmp(p, judge_criteria[k], n))
        continue;
      const char *q = p + n;
      while (*q == ' ' || *q == '*' || *q == '\t')
        q++;
      if (*q != ':' && *q != '=')
        continue;
      q++;
      while (*q == ' ' || *q == '*' || *q == '\t')
        q++;
      if (!isdigit((unsigned char)*q))
        continue;
      char *end;
      long v = strtol(q, &end, 10);
      if (v >= 1 && v <= 20)
        scores[k] = (int)v; /* the last one wins, like the verdict */
    }
    if (scores[k] < 0)
      return -1;
  }
  return 0;
}
