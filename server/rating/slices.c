#include "rating/slices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/array.h"

static int part_ok(const char *s, size_t max) {
  size_t n = strlen(s);
  return n < max && strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n;
}

int slice_key(char out[SLICE_KEY_MAX], const char *language,
              const char *category) {
  int has_l = language && *language, has_c = category && *category;
  out[0] = '\0';
  if ((has_l && !part_ok(language, SLICE_LANG_MAX)) ||
      (has_c && !part_ok(category, SLICE_CAT_MAX)))
    return -1;
  if (has_l && has_c)
    snprintf(out, SLICE_KEY_MAX, "language=%s&category=%s", language,
             category);
  else if (has_l)
    snprintf(out, SLICE_KEY_MAX, "language=%s", language);
  else if (has_c)
    snprintf(out, SLICE_KEY_MAX, "category=%s", category);
  return 0;
}

size_t slice_keys(const char *language, const char *const *categories,
                  size_t n_categories, char (*out)[SLICE_KEY_MAX],
                  size_t max) {
  size_t n = 0;
  int lang = language && *language && strcmp(language, "und") != 0;
  if (lang && n < max && slice_key(out[n], language, NULL) == 0)
    n++;
  for (size_t i = 0; i < n_categories; i++) {
    if (n < max && slice_key(out[n], NULL, categories[i]) == 0)
      n++;
    if (lang && n < max && slice_key(out[n], language, categories[i]) == 0)
      n++;
  }
  return n;
}

void slice_table_init(struct slice_table *t) { memset(t, 0, sizeof *t); }

void slice_table_release(struct slice_table *t) {
  for (size_t i = 0; i < t->n; i++) {
    free(t->s[i].key);
    pair_table_release(&t->s[i].pairs);
  }
  free(t->s);
  slice_table_init(t);
}

const struct slice *slice_table_find(const struct slice_table *t,
                                     const char *key) {
  for (size_t i = 0; i < t->n; i++)
    if (!strcmp(t->s[i].key, key))
      return &t->s[i];
  return NULL;
}

struct slice *slice_table_get(struct slice_table *t, const char *key,
                              int create) {
  struct slice *s = (struct slice *)slice_table_find(t, key);
  if (s || !create)
    return s;
  struct slice *grown = array_grow(t->s, t->n, &t->cap, sizeof *grown, 16);
  if (!grown)
    return NULL;
  t->s = grown;
  s = &t->s[t->n];
  memset(s, 0, sizeof *s);
  if (!(s->key = strdup(key)))
    return NULL;
  t->n++;
  return s;
}

int slice_table_add(struct slice_table *t, const char *key, const char *x,
                    const char *y, enum winner w) {
  struct slice *s = slice_table_get(t, key, 1);
  if (!s || pair_table_add(&s->pairs, x, y, w))
    return -1;
  s->votes++;
  return 0;
}

int slice_table_copy(struct slice_table *dst, const struct slice_table *src) {
  slice_table_init(dst);
  if (!src->n)
    return 0;
  dst->s = calloc(src->n, sizeof *dst->s);
  if (!dst->s)
    return -1;
  dst->cap = src->n;
  for (size_t i = 0; i < src->n; i++) {
    struct slice *d = &dst->s[i];
    d->key = strdup(src->s[i].key);
    d->votes = src->s[i].votes;
    dst->n++;
    if (!d->key || pair_table_copy(&d->pairs, &src->s[i].pairs)) {
      slice_table_release(dst);
      return -1;
    }
  }
  return 0;
}

/* Copy the value of "name=" at the start of *s up to '&' into out[max],
 * advancing *s past it. 1 when found, 0 when *s starts otherwise, -1 when
 * the value does not fit. */
static int key_part(const char **s, const char *name, char *out, size_t max) {
  size_t nl = strlen(name);
  if (strncmp(*s, name, nl) || (*s)[nl] != '=')
    return 0;
  const char *v = *s + nl + 1;
  size_t l = strcspn(v, "&");
  if (l == 0 || l >= max)
    return -1;
  memcpy(out, v, l);
  out[l] = '\0';
  *s = v + l;
  return 1;
}

int slice_key_parts(const char *key, char language[SLICE_LANG_MAX],
                    char category[SLICE_CAT_MAX]) {
  language[0] = category[0] = '\0';
  const char *s = key;
  if (!*s)
    return 0; /* the whole board */
  int l = key_part(&s, "language", language, SLICE_LANG_MAX);
  if (l < 0)
    return -1;
  if (l == 1 && *s == '&')
    s++;
  else if (l == 1)
    return *s ? -1 : 0;
  int c = key_part(&s, "category", category, SLICE_CAT_MAX);
  if (c <= 0 || *s)
    return -1;
  return 0;
}
