/* Answer extraction (extract.h): the regexes of lm-eval's gsm8k.yaml and
 * simple-evals' multiple choice pattern, each written out as the scan its
 * regex performs (leftmost match, the alternatives and the backtracking
 * of Python's re for these patterns). */
#include "bench/extract.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bench/text.h"

static int digit(char c) { return c >= '0' && c <= '9'; }
static int strict_class(char c) { return digit(c) || c == '.' || c == ','; }
static int flex_class(char c) { return strict_class(c) || c == '$'; }

char *gsm8k_strict(const char *text) {
  for (const char *p = strstr(text, "#### "); p; p = strstr(p + 1, "#### ")) {
    const char *q = p + 5, *start = NULL;
    if (*q == '-' && strict_class(q[1]))
      start = q;
    else if (strict_class(*q))
      start = q;
    if (!start)
      continue;
    const char *e = start + (*start == '-');
    while (strict_class(*e))
      e++;
    return strndup(start, (size_t)(e - start));
  }
  return strdup(GSM8K_INVALID);
}

/* The match of the flexible pattern at p: its end, or NULL when none. */
static const char *flex_match_at(const char *p) {
  const char *q = p + (*p == '-');
  size_t n = 0;
  while (flex_class(q[n]))
    n++;
  if (n >= 2) /* (-?[$0-9.,]{2,}) */
    return q + n;
  /* (-?[0-9]+): a lone digit, or '-' and digits */
  if (digit(*q)) {
    while (digit(*q))
      q++;
    return q;
  }
  return NULL;
}

char *gsm8k_flexible(const char *text) {
  const char *last = NULL, *last_end = NULL;
  const char *p = text;
  while (*p) {
    const char *e = flex_match_at(p);
    if (e) {
      last = p;
      last_end = e;
      p = e;
    } else {
      p++;
    }
  }
  if (!last)
    return strdup(GSM8K_INVALID);
  return strndup(last, (size_t)(last_end - last));
}

char *gsm8k_normalize(const char *s) {
  char *a = py_replace(s, ",", "");
  char *b = a ? py_replace(a, "$", "") : NULL;
  free(a);
  if (!b)
    return NULL;
  /* (?s).*#### : everything up to the last "#### " */
  const char *cut = b, *p = b;
  while ((p = strstr(p, "#### "))) {
    cut = p + 5;
    p++;
  }
  char *c = strdup(cut);
  free(b);
  if (!c)
    return NULL;
  /* \.$ : a '.' at the end, or before a final newline */
  size_t n = strlen(c);
  if (n && c[n - 1] == '.')
    c[n - 1] = '\0';
  else if (n >= 2 && c[n - 1] == '\n' && c[n - 2] == '.')
    memmove(c + n - 2, c + n - 1, 2);
  for (char *q = c; *q; q++)
    if (*q >= 'A' && *q <= 'Z')
      *q = (char)(*q - 'A' + 'a');
  return c;
}

int gsm8k_match(const char *extracted, const char *reference) {
  char *a = gsm8k_normalize(extracted), *b = gsm8k_normalize(reference);
  int rc = a && b ? !strcmp(a, b) : -1;
  free(a);
  free(b);
  return rc;
}

char *gsm8k_until(const char *text) {
  static const char *const until[] = {"Question:", "</s>", "<|im_end|>"};
  size_t end = strlen(text);
  for (size_t i = 0; i < sizeof until / sizeof until[0]; i++) {
    const char *p = strstr(text, until[i]);
    if (p && (size_t)(p - text) < end)
      end = (size_t)(p - text);
  }
  return strndup(text, end);
}

int mc_letter(const char *text, size_t n_choices, char *letter) {
  if (letter)
    *letter = '\0';
  if (n_choices > 26)
    n_choices = 26;
  char hi = (char)('A' + (int)n_choices - 1), lo = (char)('a' + (int)n_choices - 1);
  for (const char *p = text; *p; p++) {
    if (strncasecmp(p, "answer", 6))
      continue;
    const char *q = p + 6;
    while (*q == ' ' || *q == '\t')
      q++;
    if (*q != ':')
      continue;
    q++;
    while (*q == ' ' || *q == '\t')
      q++;
    if (*q == '$' && ((q[1] >= 'A' && q[1] <= hi) || (q[1] >= 'a' && q[1] <= lo)))
      q++;
    if (*q >= 'A' && *q <= hi) {
      if (letter)
        *letter = *q;
      return *q - 'A';
    }
    if (*q >= 'a' && *q <= lo) {
      if (letter)
        *letter = *q;
      return -1; /* read, but not one of the choices as simple-evals
                    compares them */
    }
  }
  return -1;
}
