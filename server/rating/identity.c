#include "rating/identity.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Decode the UTF-8 character at p (invalid bytes count as themselves). */
static unsigned decode(const unsigned char *p) {
  if (p[0] < 0x80)
    return p[0];
  if ((p[0] & 0xE0) == 0xC0 && (p[1] & 0xC0) == 0x80)
    return ((p[0] & 0x1Fu) << 6) | (p[1] & 0x3Fu);
  if ((p[0] & 0xF0) == 0xE0 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
    return ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
  if ((p[0] & 0xF8) == 0xF0 && (p[1] & 0xC0) == 0x80 &&
      (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80)
    return ((p[0] & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) |
           ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
  return p[0];
}

/* Letters and digits continue a word; ASCII punctuation, and the
 * punctuation, symbol, space and emoji blocks of Unicode, end it. */
static int is_word_cp(unsigned c) {
  if (c < 0x80)
    return isalnum((int)c);
  if (c <= 0xBF)
    return c == 0xAA || c == 0xB5 || c == 0xBA;
  if (c == 0xD7 || c == 0xF7)
    return 0;
  if ((c >= 0x2000 && c <= 0x2BFF) || (c >= 0x3000 && c <= 0x303F) ||
      (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xFE30 && c <= 0xFE4F) ||
      (c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
      (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
      (c >= 0x1F000 && c <= 0x1FAFF) || c == 0xFEFF)
    return 0;
  return 1;
}

/* Does the character that ends just before p (not before start) continue
 * a word? */
static int word_before(const char *start, const char *p) {
  if (p <= start)
    return 0;
  const unsigned char *q = (const unsigned char *)p - 1;
  while ((const char *)q > start && (*q & 0xC0) == 0x80 &&
         (const unsigned char *)p - q < 4)
    q--;
  return is_word_cp(decode(q));
}

static int is_word_char(unsigned char c) { return c >= 0x80 || isalnum(c); }

int contains_word(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (!n)
    return 0;
  for (const char *p = hay; *p; p++) {
    if (tolower((unsigned char)*p) != (unsigned char)needle[0])
      continue;
    if (is_word_char((unsigned char)needle[0]) && word_before(hay, p))
      continue;
    if (strncasecmp(p, needle, n))
      continue;
    if (p[n] && is_word_char((unsigned char)needle[n - 1]) &&
        is_word_cp(decode((const unsigned char *)p + n)))
      continue;
    return 1;
  }
  return 0;
}

static int lower_contains(const char *hay, const char *name) {
  char low[AGON_MAX_MODEL_NAME + 1];
  size_t i = 0;
  for (; name[i] && i < AGON_MAX_MODEL_NAME; i++)
    low[i] = (char)tolower((unsigned char)name[i]);
  low[i] = '\0';
  return contains_word(hay, low);
}

const char *identity_leak(const struct config *cfg, const char *const *texts,
                          size_t n) {
  for (size_t t = 0; t < n; t++) {
    const char *text = texts[t];
    if (!text)
      continue;
    for (size_t m = 0; m < cfg->n_models; m++) {
      const struct model_config *mc = &cfg->models[m];
      if (lower_contains(text, mc->name))
        return mc->name;
      if (mc->upstream && lower_contains(text, mc->upstream))
        return mc->upstream;
      for (size_t a = 0; a < mc->n_aliases; a++)
        if (contains_word(text, mc->aliases[a]))
          return mc->aliases[a];
    }
    for (size_t w = 0; w < cfg->n_identity_words; w++)
      if (contains_word(text, cfg->identity_words[w]))
        return cfg->identity_words[w];
  }
  return NULL;
}
