#include "util/tokens.h"

#include "util/util.h"

unsigned utf8_decode(const char *s, size_t n, size_t *cl) {
  const unsigned char *p = (const unsigned char *)s;
  size_t l = utf8_char_len(s, n);
  *cl = l ? l : 1;
  switch (l) {
  case 2:
    return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
  case 3:
    return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
  case 4:
    return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
           ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
  default:
    return p[0];
  }
}

enum cls { C_SPACE, C_ASCII_LETTER, C_DIGIT, C_LETTER, C_SYLLABLE, C_OTHER };

static int is_space(unsigned c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 ||
         c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* CJK ideographs, kana, Hangul: one token a character. */
static int is_syllable(unsigned c) {
  return (c >= 0x3040 && c <= 0x30FF) ||   /* hiragana, katakana */
         (c >= 0x3400 && c <= 0x4DBF) ||   /* CJK extension A */
         (c >= 0x4E00 && c <= 0x9FFF) ||   /* CJK unified ideographs */
         (c >= 0xAC00 && c <= 0xD7AF) ||   /* Hangul syllables */
         (c >= 0x1100 && c <= 0x11FF) ||   /* Hangul jamo */
         (c >= 0x3130 && c <= 0x318F) ||   /* Hangul compatibility jamo */
         (c >= 0xF900 && c <= 0xFAFF) ||   /* CJK compatibility */
         (c >= 0x20000 && c <= 0x3FFFF);   /* CJK extensions B.. */
}

/* Letters of the other scripts: everything from U+00C0 up that is not
 * punctuation, symbols or emoji (the blocks below), nor a syllable. */
static int is_other_letter(unsigned c) {
  if (c < 0xC0 || c == 0xD7 || c == 0xF7)
    return 0;
  if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
      (c >= 0xFE00 && c <= 0xFE6F) || (c >= 0xFF00 && c <= 0xFF20) ||
      (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
      (c >= 0x1F000 && c <= 0x1FAFF) || c == 0xFEFF)
    return 0;
  return 1;
}

static enum cls classify(unsigned c) {
  if (c < 0x80) {
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z')
      return C_ASCII_LETTER;
    if (c >= '0' && c <= '9')
      return C_DIGIT;
    return is_space(c) ? C_SPACE : C_OTHER;
  }
  if (is_space(c))
    return C_SPACE;
  if (is_syllable(c))
    return C_SYLLABLE;
  return is_other_letter(c) ? C_LETTER : C_OTHER;
}

static size_t run_tokens(enum cls k, size_t run) {
  switch (k) {
  case C_ASCII_LETTER:
    return (run + 5) / 6;
  case C_DIGIT:
  case C_LETTER:
    return (run + 2) / 3;
  default:
    return 0;
  }
}

size_t count_tokens(const char *s, size_t len) {
  size_t n = 0, run = 0, i = 0;
  enum cls cur = C_SPACE;
  while (i < len) {
    size_t cl;
    unsigned c = utf8_decode(s + i, len - i, &cl);
    enum cls k = classify(c);
    i += cl;
    if (k == cur && (k == C_ASCII_LETTER || k == C_DIGIT || k == C_LETTER)) {
      run++;
      continue;
    }
    n += run_tokens(cur, run);
    cur = k;
    run = 1;
    if (k == C_SYLLABLE || k == C_OTHER) {
      n++;
      run = 0;
    }
  }
  return n + run_tokens(cur, run);
}
