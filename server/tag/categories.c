#include "tag/categories.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "tag/style_count.h"

static const char *const heuristic_names[TAG_N_HEURISTIC] = {
    "coding", "multi_turn", "long_query", "no_short", "no_refusal"};

const char *heuristic_tag_name(int i) {
  return i >= 0 && i < TAG_N_HEURISTIC ? heuristic_names[i] : NULL;
}

/* Whether needle (ASCII, lowercase) occurs in hay, ignoring ASCII case,
 * starting and ending at a word boundary (a boundary is anything but an
 * ASCII letter or digit, so "python3" does not hold "python" but
 * "Python," does). When word is 0, anywhere. */
static int has(const char *hay, const char *needle, int word) {
  size_t n = strlen(needle);
  for (const char *p = hay; *p; p++) {
    if (strncasecmp(p, needle, n) != 0)
      continue;
    if (!word)
      return 1;
    int before = p == hay || !isalnum((unsigned char)p[-1]);
    int after = !isalnum((unsigned char)p[n]);
    if (before && after)
      return 1;
  }
  return 0;
}

/* Names and words that ask about programming, as whole words. */
static const char *const coding_words[] = {
    "python", "javascript", "typescript", "java", "c++", "c#", "golang",
    "kotlin", "php", "perl", "haskell", "sql", "sqlite", "postgresql",
    "mysql", "bash", "shell script", "powershell", "regex", "regexp", "html",
    "css", "json", "yaml", "numpy", "docker", "kubernetes", "git", "api",
    "compiler", "code", "coding", "programming", "algorithm", "debug",
    "snippet", "stack trace", "segfault", "linked list", "binary tree",
    "hash map", "recursion",
    /* es, pt, fr, it, de */
    "código", "programación", "programação", "programmation",
    "programmazione", "programmieren", "programmierung", "algoritmo",
    "algorithme", "algorithmus", "lista enlazada", "lista ligada",
    "liste chaînée", "lista concatenata", "verkettete liste",
    NULL};

/* Written without spaces, or in scripts without case: found anywhere. */
static const char *const coding_substrings[] = {
    "```", "#include", "def ", "() {", ");", "=>", "!=", "==", "console.log",
    "printf(", "print(", "std::", "public static", "import ", "</", "/>",
    "select * from", "<?php",
    /* ru, ko, ja, zh */
    "программ", "код", "алгоритм", "связный список",
    "코드", "프로그래밍", "알고리즘", "연결 리스트",
    "コード", "プログラ", "アルゴリズム", "連結リスト",
    "代码", "编程", "算法", "链表",
    NULL};

/* Lines that read as code: a statement or block opener at the end, or a
 * definition at the start. */
static int code_line(const char *line, size_t len) {
  while (len > 0 && isspace((unsigned char)line[len - 1]))
    len--;
  size_t lead = 0;
  while (lead < len && (line[lead] == ' ' || line[lead] == '\t'))
    lead++;
  if (len == lead)
    return 0;
  char last = line[len - 1];
  if ((last == ';' || last == '{') && len - lead >= 4)
    return 1;
  static const char *const starts[] = {"def ", "class ", "function ",
                                       "fn ", "func ", "for (", "while (",
                                       "if (", "return ", "var ", "let ",
                                       "const ", NULL};
  for (int i = 0; starts[i]; i++)
    if (len - lead > strlen(starts[i]) &&
        strncmp(line + lead, starts[i], strlen(starts[i])) == 0 &&
        (last == ':' || last == ')' || last == '{' || last == ';'))
      return 1;
  return 0;
}

int is_coding(const char *text) {
  if (!text)
    return 0;
  for (int i = 0; coding_substrings[i]; i++)
    if (has(text, coding_substrings[i], 0))
      return 1;
  for (int i = 0; coding_words[i]; i++)
    if (has(text, coding_words[i], 1))
      return 1;
  for (const char *p = text; *p;) {
    const char *e = strchr(p, '\n');
    size_t len = e ? (size_t)(e - p) : strlen(p);
    if (code_line(p, len))
      return 1;
    p += len + (e ? 1 : 0);
  }
  return 0;
}

unsigned prompt_tags(const char *const *prompts, size_t n, size_t *tokens) {
  unsigned t = 0;
  size_t tok = 0;
  for (size_t i = 0; i < n; i++) {
    if (!prompts[i])
      continue;
    tok += (size_t)style_tokens(prompts[i], strlen(prompts[i]));
    if (is_coding(prompts[i]))
      t |= TAG_CODING;
  }
  if (n >= 2)
    t |= TAG_MULTI_TURN;
  if (tok >= LONG_QUERY_TOKENS)
    t |= TAG_LONG_QUERY;
  if (tok >= SHORT_QUERY_TOKENS)
    t |= TAG_NO_SHORT;
  if (tokens)
    *tokens = tok;
  return t;
}

/* Openings of a refusal, compared after white space, '*' and '_'. */
static const char *const refusal_openings[] = {
    "i'm sorry, but i can", "i’m sorry, but i can", "i am sorry, but i can",
    "sorry, but i can't", "sorry, i can't", "i can't help with",
    "i cannot help with", "i can't assist", "i cannot assist",
    "i can't provide", "i cannot provide", "i can't comply",
    "i cannot comply", "i won't be able to", "i'm unable to",
    "i am unable to", "i'm not able to", "i must decline",
    "as an ai", "as a language model", "i cannot fulfill",
    "i can't fulfill", "i apologize, but i can",
    /* es, pt, fr, de, it, ru, ko, ja, zh */
    "lo siento, pero no puedo", "no puedo ayudar", "desculpe, mas não posso",
    "não posso ajudar", "je suis désolé, mais je ne peux",
    "je ne peux pas vous aider", "es tut mir leid, aber ich kann",
    "ich kann dabei nicht helfen", "mi dispiace, ma non posso",
    "non posso aiutarti", "извините, но я не могу", "я не могу помочь",
    "죄송하지만", "죄송합니다만", "申し訳ありませんが", "申し訳ございませんが",
    "抱歉，我无法", "对不起，我不能", "抱歉，我不能",
    NULL};

int is_refusal(const char *answer) {
  if (!answer)
    return 0;
  const char *p = answer;
  while (*p && (isspace((unsigned char)*p) || *p == '*' || *p == '_'))
    p++;
  for (int i = 0; refusal_openings[i]; i++)
    if (strncasecmp(p, refusal_openings[i], strlen(refusal_openings[i])) == 0)
      return 1;
  return 0;
}
