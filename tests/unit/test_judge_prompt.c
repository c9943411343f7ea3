/* LLM judges: verdict and score parsing, and the messages a judge gets
 * (server/judge/prompt.h). */
#include <stdlib.h>

#include "check.h"
#include "judge/prompt.h"

static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
    n++;
  return n;
}

static int valid_utf8(const char *s) {
  const unsigned char *p = (const unsigned char *)s;
  while (*p) {
    int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2
                        : (*p & 0xF8) == 0xF0 ? 3 : -1;
    if (n < 0)
      return 0;
    p++;
    for (int i = 0; i < n; i++, p++)
      if ((*p & 0xC0) != 0x80)
        return 0;
  }
  return 1;
}

static void test_verdicts(void) {
  CHECK(judge_parse_verdict("[[A]]") == 'A');
  CHECK(judge_parse_verdict("[[B]]") == 'B');
  CHECK(judge_parse_verdict("[[C]]") == 'C');
  CHECK(judge_parse_verdict("reasoning...\nFinal verdict: [[B]]\n") == 'B');
  /* the last verdict wins */
  CHECK(judge_parse_verdict("A could be [[A]], but in the end [[B]]") == 'B');
  CHECK(judge_parse_verdict("[[B]] [[C]] [[A]]") == 'A');
  CHECK(judge_parse_verdict("[[C]] then [[A]] then [[C]]") == 'C');
  /* none */
  CHECK(judge_parse_verdict("") == 0);
  CHECK(judge_parse_verdict("no verdict at all") == 0);
  CHECK(judge_parse_verdict("[A] [B] [C]") == 0);
  CHECK(judge_parse_verdict("[[a]] [[b]] [[c]]") == 0);
  CHECK(judge_parse_verdict("[[ A ]]") == 0);
  CHECK(judge_parse_verdict("[[AB]]") == 0);
  /* [[D]] and other letters are ignored, before or after a real verdict */
  CHECK(judge_parse_verdict("[[D]]") == 0);
  CHECK(judge_parse_verdict("[[A]] and then [[D]]") == 'A');
  CHECK(judge_parse_verdict("[[D]] [[B]] [[E]] [[Z]]") == 'B');
  /* unfinished verdicts at the end of the text (no read past the end) */
  CHECK(judge_parse_verdict("[[") == 0);
  CHECK(judge_parse_verdict("[[A") == 0);
  CHECK(judge_parse_verdict("[[A]") == 0);
  CHECK(judge_parse_verdict("[[B]] then [[A]") == 'B');
  /* extra brackets around a verdict */
  CHECK(judge_parse_verdict("[[[C]]]") == 'C');
}

static void test_scores(void) {
  int s[4];
  /* the usual reply */
  CHECK(judge_parse_scores("Grammaticality: 15\nCohesiveness: 12\n"
                           "Likability: 9\nRelevance: 20\n", s) == 0);
  CHECK(s[0] == 15 && s[1] == 12 && s[2] == 9 && s[3] == 20);
  /* any order: the result is always in judge_criteria's order */
  CHECK(judge_parse_scores("Relevance: 4\nLikability: 3\nCohesiveness: 2\n"
                           "Grammaticality: 1", s) == 0);
  CHECK(s[0] == 1 && s[1] == 2 && s[2] == 3 && s[3] == 4);
  CHECK_STR(judge_criteria[0], "grammaticality");
  CHECK_STR(judge_criteria[1], "cohesiveness");
  CHECK_STR(judge_criteria[2], "likability");
  CHECK_STR(judge_criteria[3], "relevance");
  /* any case, markdown bold, '=' and spaces, text around */
  CHECK(judge_parse_scores("My scores:\n**GRAMMATICALITY**: 18\n"
                           "cohesiveness = 17\nLikAbility :  16 (good)\n"
                           "- Relevance:\t5/20\nThanks.", s) == 0);
  CHECK(s[0] == 18 && s[1] == 17 && s[2] == 16 && s[3] == 5);
  /* the bounds are 1 and 20 */
  CHECK(judge_parse_scores("Grammaticality: 1\nCohesiveness: 20\n"
                           "Likability: 1\nRelevance: 20", s) == 0);
  CHECK(s[0] == 1 && s[1] == 20 && s[2] == 1 && s[3] == 20);
  /* out of range: the whole reply fails */
  CHECK(judge_parse_scores("Grammaticality: 0\nCohesiveness: 5\n"
                           "Likability: 5\nRelevance: 5", s) == -1);
  CHECK(judge_parse_scores("Grammaticality: 5\nCohesiveness: 21\n"
                           "Likability: 5\nRelevance: 5", s) == -1);
  CHECK(judge_parse_scores("Grammaticality: 5\nCohesiveness: 5\n"
                           "Likability: 100\nRelevance: 5", s) == -1);
  CHECK(judge_parse_scores("Grammaticality: 5\nCohesiveness: 5\n"
                           "Likability: 5\nRelevance: -3", s) == -1);
  /* missing: one criterion absent, a name without a number, no reply */
  CHECK(judge_parse_scores("Grammaticality: 5\nCohesiveness: 5\n"
                           "Likability: 5", s) == -1);
  CHECK(judge_parse_scores("Grammaticality: 5\nCohesiveness: 5\n"
                           "Likability: 5\nRelevance: high", s) == -1);
  CHECK(judge_parse_scores("Grammaticality 5 Cohesiveness 5 Likability 5 "
                           "Relevance 5", s) == -1);
  CHECK(judge_parse_scores("", s) == -1);
  CHECK(judge_parse_scores("[[A]]", s) == -1);
  /* a criterion named in prose before its score line does not confuse */
  CHECK(judge_parse_scores("Relevance matters most here.\nGrammaticality: 7\n"
                           "Cohesiveness: 8\nLikability: 9\nRelevance: 10",
                           s) == 0);
  CHECK(s[0] == 7 && s[1] == 8 && s[2] == 9 && s[3] == 10);
  /* repeated: the last (valid) one wins */
  CHECK(judge_parse_scores("Grammaticality: 3\nCohesiveness: 3\n"
                           "Likability: 3\nRelevance: 3\nOn reflection:\n"
                           "Relevance: 11", s) == 0);
  CHECK(s[3] == 11);
}

static const char *p2[] = {"First question", "Second question"};
static const char *a2[] = {"alpha one", "alpha two"};
static const char *b2[] = {"bravo one", "bravo two"};

static void test_pairwise(void) {
  struct judge_case c = {2, p2, {a2, b2}, 0};
  struct chat_message m[2];
  const char *expected =
      "### Turn 1\n[User]\nFirst question\n\n[Assistant A]\nalpha one\n\n"
      "[Assistant B]\nbravo one\n\n"
      "### Turn 2\n[User]\nSecond question\n\n[Assistant A]\nalpha two\n\n"
      "[Assistant B]\nbravo two\n\n"
      "Which assistant is better? End with [[A]], [[B]] or [[C]].";
  const char *expected_swapped =
      "### Turn 1\n[User]\nFirst question\n\n[Assistant A]\nbravo one\n\n"
      "[Assistant B]\nalpha one\n\n"
      "### Turn 2\n[User]\nSecond question\n\n[Assistant A]\nbravo two\n\n"
      "[Assistant B]\nalpha two\n\n"
      "Which assistant is better? End with [[A]], [[B]] or [[C]].";

  /* the built-in prompt, in order */
  CHECK(judge_pairwise_messages(&c, 0, NULL, 0, NULL, m) == 0);
  CHECK_STR(m[0].role, "system");
  CHECK_STR(m[1].role, "user");
  CHECK(m[0].content && strstr(m[0].content, "[[A]]") &&
        strstr(m[0].content, "[[B]]") && strstr(m[0].content, "[[C]]"));
  CHECK_STR(m[1].content, expected);
  CHECK(!strstr(m[1].content, "Example"));
  char *builtin = strdup(m[0].content);
  judge_messages_free(m);
  CHECK(m[0].content == NULL && m[1].content == NULL);

  /* swapped: side B's answers are shown as assistant A */
  CHECK(judge_pairwise_messages(&c, 1, NULL, 0, NULL, m) == 0);
  CHECK_STR(m[1].content, expected_swapped);
  CHECK_STR(m[0].content, builtin);
  judge_messages_free(m);

  /* instructions replace the system prompt, the user message stays */
  const char *mine = "You are a strict judge. Say [[A]], [[B]] or [[C]].";
  CHECK(judge_pairwise_messages(&c, 0, NULL, 0, mine, m) == 0);
  CHECK_STR(m[0].content, mine);
  CHECK_STR(m[1].content, expected);
  CHECK(m[0].content != mine); /* a copy */
  judge_messages_free(m);
  CHECK(judge_pairwise_messages(&c, 1, NULL, 0, mine, m) == 0);
  CHECK_STR(m[0].content, mine);
  CHECK_STR(m[1].content, expected_swapped);
  judge_messages_free(m);

  /* few-shot: examples with their human verdicts, always in their own
   * order, then the case (swapped or not) */
  static const char *ep1[] = {"Example prompt one"};
  static const char *ea1[] = {"example answer 1a"};
  static const char *eb1[] = {"example answer 1b"};
  static const char *ep2[] = {"Example prompt two"};
  static const char *ea2[] = {"example answer 2a"};
  static const char *eb2[] = {"example answer 2b"};
  struct judge_case ex[2] = {{1, ep1, {ea1, eb1}, 'B'},
                             {1, ep2, {ea2, eb2}, 'C'}};
  const char *examples_text =
      "## Example 1 (judged by a person)\n\n"
      "### Turn 1\n[User]\nExample prompt one\n\n[Assistant A]\n"
      "example answer 1a\n\n[Assistant B]\nexample answer 1b\n\n"
      "Verdict: [[B]]\n\n"
      "## Example 2 (judged by a person)\n\n"
      "### Turn 1\n[User]\nExample prompt two\n\n[Assistant A]\n"
      "example answer 2a\n\n[Assistant B]\nexample answer 2b\n\n"
      "Verdict: [[C]]\n\n"
      "## Now judge this conversation\n\n";
  for (int swapped = 0; swapped < 2; swapped++) {
    CHECK(judge_pairwise_messages(&c, swapped, ex, 2, NULL, m) == 0);
    size_t n = strlen(examples_text);
    CHECK(m[1].content && !strncmp(m[1].content, examples_text, n));
    CHECK_STR(m[1].content + n, swapped ? expected_swapped : expected);
    CHECK(count(m[1].content, "## Example ") == 2);
    CHECK(count(m[1].content, "Verdict: [[") == 2);
    CHECK(count(m[1].content, "## Now judge this conversation") == 1);
    CHECK_STR(m[0].content, builtin);
    judge_messages_free(m);
  }
  /* one example; the instructions still replace only the system prompt */
  CHECK(judge_pairwise_messages(&c, 0, ex + 1, 1, mine, m) == 0);
  CHECK_STR(m[0].content, mine);
  CHECK(m[1].content && !strncmp(m[1].content,
                                 "## Example 1 (judged by a person)\n\n"
                                 "### Turn 1\n[User]\nExample prompt two\n\n",
                                 60));
  CHECK(strstr(m[1].content, "Verdict: [[C]]\n\n## Now judge this conversation"
                             "\n\n### Turn 1\n[User]\nFirst question\n"));
  CHECK(count(m[1].content, "## Example ") == 1);
  judge_messages_free(m);

  /* long examples are cut (at a UTF-8 boundary), the judged case is not */
  size_t big = 1 + 600 * 3;
  char *longtext = malloc(big + 1);
  longtext[0] = 'x';
  for (size_t i = 0; i < 600; i++)
    memcpy(longtext + 1 + 3 * i, "\xe2\x82\xac", 3); /* U+20AC */
  longtext[big] = '\0';
  const char *lp[] = {"long"};
  const char *la[] = {longtext};
  const char *lb[] = {"short"};
  struct judge_case lex = {1, lp, {la, lb}, 'A'};
  struct judge_case lcase = {1, lp, {la, lb}, 0};
  CHECK(judge_pairwise_messages(&lcase, 0, &lex, 1, NULL, m) == 0);
  CHECK(m[1].content && valid_utf8(m[1].content));
  /* in the example: 'x' and 499 whole euro signs (1498 bytes), then " [...]" */
  char *cut = malloc(1498 + 32);
  memcpy(cut, longtext, 1498);
  strcpy(cut + 1498, " [...]\n\n[Assistant B]\nshort");
  CHECK(m[1].content && strstr(m[1].content, cut));
  /* in the case: whole */
  char *whole = malloc(big + 64);
  snprintf(whole, big + 64, "[Assistant A]\n%s\n\n[Assistant B]\nshort\n\nWhich",
           longtext);
  CHECK(m[1].content && strstr(m[1].content, whole));
  CHECK(count(m[1].content, "[...]") == 1);
  judge_messages_free(m);
  free(cut);
  free(whole);
  free(longtext);
  free(builtin);
}

static void test_single(void) {
  struct judge_case c = {2, p2, {a2, b2}, 0};
  struct chat_message m[2];
  CHECK(judge_single_messages(&c, 0, NULL, m) == 0);
  CHECK_STR(m[0].role, "system");
  CHECK_STR(m[1].role, "user");
  for (int k = 0; k < 4; k++) {
    /* the built-in prompt names the four criteria (capitalised lines) */
    char line[32];
    snprintf(line, sizeof line, "%c%s: N", judge_criteria[k][0] - 32,
             judge_criteria[k] + 1);
    CHECK(m[0].content && strstr(m[0].content, line));
  }
  CHECK_STR(m[1].content,
            "### Turn 1\n[User]\nFirst question\n\n[Assistant]\nalpha one\n\n"
            "### Turn 2\n[User]\nSecond question\n\n[Assistant]\nalpha two\n\n"
            "Rate the assistant's answers.");
  judge_messages_free(m);
  CHECK(judge_single_messages(&c, 1, "Score it.", m) == 0);
  CHECK_STR(m[0].content, "Score it.");
  CHECK_STR(m[1].content,
            "### Turn 1\n[User]\nFirst question\n\n[Assistant]\nbravo one\n\n"
            "### Turn 2\n[User]\nSecond question\n\n[Assistant]\nbravo two\n\n"
            "Rate the assistant's answers.");
  CHECK(!strstr(m[1].content, "alpha"));
  judge_messages_free(m);
}

int main(void) {
  test_verdicts();
  test_scores();
  test_pairwise();
  test_single();
  return check_done("judge_prompt");
}
