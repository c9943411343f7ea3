#include "tag/style_count.h"

#include <stdlib.h>
#include <string.h>

/* One code point at text[i] (i < n): its value, or -1 for a byte that
 * does not start valid UTF-8 (then one byte long). *len gets its length. */
static long decode(const unsigned char *t, size_t i, size_t n, size_t *len) {
  unsigned c = t[i];
  if (c < 0x80) {
    *len = 1;
    return (long)c;
  }
  size_t need;
  long cp, min;
  if (c >= 0xc2 && c <= 0xdf) {
    need = 1;
    cp = c & 0x1f;
    min = 0x80;
  } else if (c >= 0xe0 && c <= 0xef) {
    need = 2;
    cp = c & 0x0f;
    min = 0x800;
  } else if (c >= 0xf0 && c <= 0xf4) {
    need = 3;
    cp = c & 0x07;
    min = 0x10000;
  } else {
    *len = 1;
    return -1;
  }
  if (n - i <= need) {
    *len = 1;
    return -1;
  }
  for (size_t k = 1; k <= need; k++) {
    unsigned b = t[i + k];
    if ((b & 0xc0) != 0x80) {
      *len = 1;
      return -1;
    }
    cp = (cp << 6) | (b & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
    *len = 1;
    return -1;
  }
  *len = need + 1;
  return cp;
}

/* Python's \s on str: the characters for which str.isspace() is true. */
static int is_space(long c) {
  if (c < 0x80)
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20);
  return c == 0x85 || c == 0xa0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 ||
         c == 0x202f || c == 0x205f || c == 0x3000;
}

/* Python's \d on str: Unicode decimal digits (category Nd, Unicode 14).
 * Each range starts at a zero; all are ten long but one. */
static int is_digit(long c) {
  static const struct {
    long first;
    int count;
  } nd[] = {
      {0x30, 10},    {0x660, 10},   {0x6f0, 10},   {0x7c0, 10},
      {0x966, 10},   {0x9e6, 10},   {0xa66, 10},   {0xae6, 10},
      {0xb66, 10},   {0xbe6, 10},   {0xc66, 10},   {0xce6, 10},
      {0xd66, 10},   {0xde6, 10},   {0xe50, 10},   {0xed0, 10},
      {0xf20, 10},   {0x1040, 10},  {0x1090, 10},  {0x17e0, 10},
      {0x1810, 10},  {0x1946, 10},  {0x19d0, 10},  {0x1a80, 10},
      {0x1a90, 10},  {0x1b50, 10},  {0x1bb0, 10},  {0x1c40, 10},
      {0x1c50, 10},  {0xa620, 10},  {0xa8d0, 10},  {0xa900, 10},
      {0xa9d0, 10},  {0xa9f0, 10},  {0xaa50, 10},  {0xabf0, 10},
      {0xff10, 10},  {0x104a0, 10}, {0x10d30, 10}, {0x11066, 10},
      {0x110f0, 10}, {0x11136, 10}, {0x111d0, 10}, {0x112f0, 10},
      {0x11450, 10}, {0x114d0, 10}, {0x11650, 10}, {0x116c0, 10},
      {0x11730, 10}, {0x118e0, 10}, {0x11950, 10}, {0x11c50, 10},
      {0x11d50, 10}, {0x11da0, 10}, {0x16a60, 10}, {0x16ac0, 10},
      {0x16b50, 10}, {0x1d7ce, 50}, {0x1e140, 10}, {0x1e2f0, 10},
      {0x1e950, 10}, {0x1fbf0, 10},
  };
  if (c < 0x80)
    return c >= '0' && c <= '9';
  for (size_t k = 0; k < sizeof nd / sizeof nd[0]; k++)
    if (c >= nd[k].first && c < nd[k].first + nd[k].count)
      return 1;
  return 0;
}

/* ---- tokens ---- */

enum tclass { T_NONE, T_DIGIT, T_PUNCT, T_LETTER, T_ONE };

static enum tclass token_class(long c) {
  if (c < 0)
    return T_LETTER;
  if (c < 0x80) {
    if (c >= '0' && c <= '9')
      return T_DIGIT;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      return T_LETTER;
    if (c > 0x20 && c < 0x7f)
      return T_PUNCT;
    return T_NONE; /* whitespace and controls */
  }
  if (is_space(c) || c < 0xa0 || (c >= 0x200b && c <= 0x200f) ||
      (c >= 0x2060 && c <= 0x206f) || (c >= 0xfe00 && c <= 0xfe0f) ||
      c == 0xfeff)
    return T_NONE; /* C1 controls, zero-width marks, variation selectors */
  if ((c >= 0x1100 && c <= 0x11ff) || (c >= 0x3040 && c <= 0x30ff) ||
      (c >= 0x3130 && c <= 0x318f) || (c >= 0x31f0 && c <= 0x31ff) ||
      (c >= 0x3400 && c <= 0x4dbf) || (c >= 0x4e00 && c <= 0x9fff) ||
      (c >= 0xa960 && c <= 0xa97f) || (c >= 0xac00 && c <= 0xd7ff) ||
      (c >= 0xf900 && c <= 0xfaff) || (c >= 0xff66 && c <= 0xff9f) ||
      (c >= 0x20000 && c <= 0x3ffff))
    return T_ONE; /* CJK ideographs, kana, Hangul */
  if ((c >= 0xa1 && c <= 0xbf) || c == 0xd7 || c == 0xf7 ||
      (c >= 0x2010 && c <= 0x2bff) || (c >= 0x3001 && c <= 0x303f) ||
      (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff01 && c <= 0xff0f) ||
      (c >= 0xff1a && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) ||
      (c >= 0xff5b && c <= 0xff65) || (c >= 0x1f000 && c <= 0x1faff))
    return T_ONE; /* symbols */
  return T_LETTER;
}

static uint64_t run_tokens(enum tclass k, uint64_t n) {
  switch (k) {
  case T_DIGIT: return (n + 2) / 3;
  case T_PUNCT: return (n + 1) / 2;
  case T_LETTER: return (n + 5) / 6;
  case T_ONE: return n;
  default: return 0;
  }
}

uint64_t style_tokens(const char *text, size_t len) {
  const unsigned char *t = (const unsigned char *)text;
  uint64_t tokens = 0, run = 0;
  enum tclass cur = T_NONE;
  for (size_t i = 0; i < len;) {
    size_t l;
    long c = decode(t, i, len, &l);
    enum tclass k = token_class(c);
    if (k != cur) {
      tokens += run_tokens(cur, run);
      cur = k;
      run = 0;
    }
    run++;
    i += l;
  }
  return tokens + run_tokens(cur, run);
}

/* ---- Markdown counts ---- */

/* Index of the first line start at or after i (n when none). */
static size_t line_start(const char *t, size_t i, size_t n) {
  if (i == 0 || (i <= n && t[i - 1] == '\n'))
    return i;
  const char *nl = i < n ? memchr(t + i, '\n', n - i) : NULL;
  return nl ? (size_t)(nl - t) + 1 : n + 1;
}

/* Length of the \s code point at i, or 0 when there is none. */
static size_t space_at(const unsigned char *t, size_t i, size_t n) {
  if (i >= n)
    return 0;
  size_t l;
  long c = decode(t, i, n, &l);
  return is_space(c) ? l : 0;
}

/* The end of ^\s*\d+\.\s (ordered) or ^\s*[-*+]\s at line start i, or 0
 * when there is no match; *first gets where the \s* run ends. */
static size_t list_item(const unsigned char *t, size_t i, size_t n,
                        int ordered, size_t *first) {
  size_t l;
  while ((l = space_at(t, i, n)))
    i += l;
  *first = i;
  if (i >= n)
    return 0;
  if (ordered) {
    size_t j = i;
    while (j < n) {
      long c = decode(t, j, n, &l);
      if (!is_digit(c))
        break;
      j += l;
    }
    if (j == i || j >= n || t[j] != '.')
      return 0;
    l = space_at(t, j + 1, n);
    return l ? j + 1 + l : 0;
  }
  if (t[i] != '-' && t[i] != '*' && t[i] != '+')
    return 0;
  l = space_at(t, i + 1, n);
  return l ? i + 1 + l : 0;
}

static uint64_t count_list(const char *text, size_t n, int ordered) {
  const unsigned char *t = (const unsigned char *)text;
  uint64_t count = 0;
  size_t pos = 0;
  for (;;) {
    size_t L = line_start(text, pos, n);
    if (L >= n)
      break;
    size_t first, end = list_item(t, L, n, ordered, &first);
    if (end) {
      count++;
      pos = end;
    } else {
      /* every line start up to `first` skips to the same place and fails
       * the same way */
      if (first >= n)
        break;
      pos = first + 1;
    }
  }
  return count;
}

/* \*\*[^*\n]+\*\* (mark '*') or __[^_\n]+__ (mark '_'). */
static uint64_t count_bold(const char *t, size_t n, char mark) {
  uint64_t count = 0;
  size_t i = 0;
  while (i + 1 < n) {
    if (t[i] != mark || t[i + 1] != mark) {
      i++;
      continue;
    }
    size_t j = i + 2;
    while (j < n && t[j] != mark && t[j] != '\n')
      j++;
    if (j > i + 2 && j + 1 < n && t[j] == mark && t[j + 1] == mark) {
      count++;
      i = j + 2;
    } else {
      i++;
    }
  }
  return count;
}

void style_count_markdown(const char *text, size_t n,
                          struct style_counts *out) {
  const unsigned char *t = (const unsigned char *)text;
  memset(out->headers, 0, sizeof out->headers);
  for (size_t L = 0; L < n; L = line_start(text, L + 1, n)) {
    size_t k = 0;
    while (L + k < n && t[L + k] == '#')
      k++;
    if (k >= 1 && k <= 6 && space_at(t, L + k, n))
      out->headers[k - 1]++;
  }
  out->ordered = count_list(text, n, 1);
  out->unordered = count_list(text, n, 0);
  out->bold_star = count_bold(text, n, '*');
  out->bold_under = count_bold(text, n, '_');
}

/* ---- code blocks ---- */

/* The matches of ```([^`]*)``` from i: the inner text's start and end, or
 * 0 when there is no further match. */
static int next_block(const char *t, size_t n, size_t *i, size_t *start,
                      size_t *end) {
  while (*i + 6 <= n) {
    const char *f = memmem(t + *i, n - *i, "```", 3);
    if (!f)
      return 0;
    size_t a = (size_t)(f - t) + 3, j = a;
    while (j < n && t[j] != '`')
      j++;
    if (j + 3 <= n && !memcmp(t + j, "```", 3)) {
      *start = a;
      *end = j;
      *i = j + 3;
      return 1;
    }
    *i = a - 2; /* retry one byte later, as a regex search does */
  }
  return 0;
}

/* Delete every occurrence of needle from s[0..*len), left to right,
 * without overlaps (Python's str.replace(needle, "")), in place. */
static void delete_all(char *s, size_t *len, const char *needle, size_t nl) {
  size_t r = 0, w = 0, n = *len;
  while (r < n) {
    char *hit = memmem(s + r, n - r, needle, nl);
    size_t upto = hit ? (size_t)(hit - s) : n;
    memmove(s + w, s + r, upto - r);
    w += upto - r;
    r = hit ? upto + nl : n;
  }
  s[w] = '\0';
  *len = w;
}

/* Past this much work (blocks times bytes), the blocks are removed where
 * they stand instead (a log built to be slow; FastChat would take hours
 * on it too). */
#define STRIP_WORK_MAX ((uint64_t)1 << 31)

char *style_strip_code(const char *text, size_t len, size_t *out_len) {
  char *out = malloc(len + 1), *result = NULL;
  struct span {
    size_t start, end;
  } *blocks = NULL;
  size_t nb = 0, cap = 0;
  if (!out)
    goto out;
  memcpy(out, text, len);
  out[len] = '\0';
  size_t pos = 0, s, e;
  while (next_block(text, len, &pos, &s, &e)) {
    if (nb == cap) {
      size_t c = cap ? cap * 2 : 16;
      struct span *more = realloc(blocks, c * sizeof *more);
      if (!more)
        goto out;
      blocks = more;
      cap = c;
    }
    blocks[nb].start = s;
    blocks[nb++].end = e;
  }
  size_t n = len;
  if ((uint64_t)nb * (uint64_t)len <= STRIP_WORK_MAX) {
    for (size_t k = 0; k < nb; k++)
      if (blocks[k].end > blocks[k].start)
        delete_all(out, &n, text + blocks[k].start,
                   blocks[k].end - blocks[k].start);
  } else {
    size_t w = 0, r = 0;
    for (size_t k = 0; k < nb; k++) {
      memcpy(out + w, text + r, blocks[k].start - r);
      w += blocks[k].start - r;
      r = blocks[k].end;
    }
    memcpy(out + w, text + r, len - r);
    n = w + len - r;
    out[n] = '\0';
  }
  *out_len = n;
  result = out;
  out = NULL;
out:
  free(blocks);
  free(out);
  return result;
}

int style_count(const char *text, size_t len, struct style_counts *out) {
  size_t n;
  char *stripped = style_strip_code(text, len, &n);
  if (!stripped)
    return -1;
  out->tokens = style_tokens(text, len);
  style_count_markdown(stripped, n, out);
  free(stripped);
  return 0;
}
