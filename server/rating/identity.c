#include "rating/identity.h"

#include <ctype.h>
#include <string.h>

static int is_word_char(unsigned char c) {
  return isalnum(c) || c >= 0x80;
}

int contains_word(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  if (!n)
    return 0;
  for (const char *p = hay; *p; p++) {
    if (tolower((unsigned char)*p) != (unsigned char)needle[0])
      continue;
    if (p > hay && is_word_char((unsigned char)p[-1]) &&
        is_word_char((unsigned char)needle[0]))
      continue;
    if (strncasecmp(p, needle, n))
      continue;
    if (is_word_char((unsigned char)p[n]) &&
        is_word_char((unsigned char)needle[n - 1]))
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
