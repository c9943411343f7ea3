/* Style counts: FastChat's Markdown regexes (their corner cases checked
 * against Python's re by hand), its code block removal, and our token
 * rule. */
#include <stdlib.h>

#include "check.h"
#include "tag/style_count.h"

static struct style_counts counts(const char *s) {
  struct style_counts c;
  memset(&c, 0xff, sizeof c);
  CHECK(style_count(s, strlen(s), &c) == 0);
  return c;
}

static uint64_t headers(const struct style_counts *c) {
  uint64_t h = 0;
  for (int k = 0; k < 6; k++)
    h += c->headers[k];
  return h;
}

static void test_headers(void) {
  struct style_counts c = counts("# a\n## b\n### c\n#### d\n##### e\n###### f\n"
                                 "####### g\n#h\n #i\n");
  for (int k = 0; k < 6; k++)
    CHECK(c.headers[k] == 1);
  /* the whitespace may be the newline, or a Unicode space */
  c = counts("#\n##\xe3\x80\x80x\n##\xc2\xa0y");
  CHECK(c.headers[0] == 1 && c.headers[1] == 2);
  /* "^" is after '\n' only */
  c = counts("a\r# b");
  CHECK(headers(&c) == 0);
}

static void test_lists(void) {
  struct style_counts c = counts("1. a\n2. b\n  10. c\n3.d\n- e\n* f\n+ g\n"
                                 "-h\n** i\n");
  CHECK(c.ordered == 3);
  CHECK(c.unordered == 3);
  /* \s* runs over blank lines: one match from the start, not two */
  c = counts("\n\n1. x");
  CHECK(c.ordered == 1);
  /* Unicode digits are \d; a fullwidth full stop is not '.' */
  c = counts("\xd9\xa3. a\n\xef\xbc\x91. b\n1\xef\xbc\x8e c");
  CHECK(c.ordered == 2);
  /* the marker's space may be the newline, and the next line still
   * starts a line */
  c = counts("-\n- a");
  CHECK(c.unordered == 2);
}

static void test_bold(void) {
  struct style_counts c = counts("**a** **b c** ** ** **\n** ***d*** __e__ "
                                 "__f_g__ ____");
  /* "a", "b c", "** **", then "** **" again from the end of the second
   * line: "***d***" has lost its opening pair to it */
  CHECK(c.bold_star == 4);
  /* "e", then "f_g" fails but "__ __" between "g" and the last "__" */
  CHECK(c.bold_under == 2);
}

static void test_code_removal(void) {
  /* the inner text goes, the fences stay */
  size_t n;
  char *s = style_strip_code("x ```# h\n- i``` y", 17, &n);
  CHECK_STR(s, "x `````` y");
  CHECK(n == 10);
  free(s);
  /* FastChat deletes the inner text wherever it occurs */
  s = style_strip_code("ab ```a``` ab", 13, &n);
  CHECK_STR(s, "b `````` b");
  free(s);
  /* unclosed fences and stray backticks are left alone */
  s = style_strip_code("```a`b```", 9, &n);
  CHECK_STR(s, "```a`b```");
  free(s);
  /* one match per pair of fences, searched left to right */
  s = style_strip_code("```a``````b```c```", 18, &n);
  CHECK_STR(s, "````````````c```");
  free(s);
  struct style_counts c = counts("# real\n```\n# not a header\n- nor a list\n"
                                 "**nor bold**\n```\n- item");
  CHECK(c.headers[0] == 1 && headers(&c) == 1);
  CHECK(c.unordered == 1);
  CHECK(c.bold_star == 0);
}

static void test_tokens(void) {
  CHECK(style_tokens("", 0) == 0);
  CHECK(style_tokens(" \n\t ", 4) == 0);
  /* words of up to six letters are one token, longer ones one per six */
  CHECK(style_tokens("Hello, world!", 13) == 4);
  CHECK(style_tokens("international", 13) == 3);
  /* digits in groups of three */
  CHECK(style_tokens("1234567", 7) == 3);
  /* punctuation runs in pairs */
  CHECK(style_tokens("**Bold**:", 9) == 4);
  CHECK(style_tokens("```", 3) == 2);
  /* each CJK character is one; CJK punctuation is one */
  const char *zh = "\xe4\xbd\xa0\xe5\xa5\xbd\xe3\x80\x82"; /* 你好。 */
  CHECK(style_tokens(zh, strlen(zh)) == 3);
  /* Hangul syllables, kana */
  const char *ko = "\xec\x95\x88\xeb\x85\x95 \xe3\x81\x82"; /* 안녕 あ */
  CHECK(style_tokens(ko, strlen(ko)) == 3);
  /* accented and Cyrillic letters join their word */
  const char *fr = "caf\xc3\xa9 \xd0\xbc\xd0\xb8\xd1\x80"; /* café мир */
  CHECK(style_tokens(fr, strlen(fr)) == 2);
  /* an emoji is one, a zero-width joiner nothing */
  const char *em = "\xf0\x9f\x91\x8d\xe2\x80\x8d\xf0\x9f\x91\x8d";
  CHECK(style_tokens(em, strlen(em)) == 2);
  /* bytes that are not UTF-8 count as letters */
  CHECK(style_tokens("\xff\xfe", 2) == 1);
  /* code is counted too */
  struct style_counts c = counts("```\nfoo(bar, baz);\n```");
  CHECK(c.tokens == 2 + 6 + 2);
}

int main(void) {
  test_headers();
  test_lists();
  test_bold();
  test_code_removal();
  test_tokens();
  return check_done("style_count");
}
