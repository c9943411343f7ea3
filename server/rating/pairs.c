#include "rating/pairs.h"

#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

/* a, a separator, then b: ("ab", "c") and ("a", "bc") differ */
static size_t pair_hash(const char *a, const char *b) {
  uint64_t h = hash_fnv1a_add_str(HASH_FNV1A_BASIS, a);
  h = hash_fnv1a_add(h, "\xff", 1);
  return (size_t)hash_fnv1a_add_str(h, b);
}

/* Rebuild the index for at least `want` rows. 0 or -1. */
static int reindex(struct pair_table *t, size_t want) {
  size_t n = 64;
  while (n < want * 2)
    n *= 2;
  int *slots = malloc(n * sizeof *slots);
  if (!slots)
    return -1;
  for (size_t i = 0; i < n; i++)
    slots[i] = -1;
  for (size_t r = 0; r < t->n; r++) {
    size_t s = pair_hash(t->rows[r].a, t->rows[r].b) & (n - 1);
    while (slots[s] >= 0)
      s = (s + 1) & (n - 1);
    slots[s] = (int)r;
  }
  free(t->slots);
  t->slots = slots;
  t->n_slots = n;
  return 0;
}

struct pair_row *pair_table_get(struct pair_table *t, const char *x,
                                const char *y, int create) {
  const char *a = strcmp(x, y) < 0 ? x : y;
  const char *b = a == x ? y : x;
  if (t->n_slots < (t->n + 1) * 2 && reindex(t, t->n + 1))
    return NULL;
  size_t s = pair_hash(a, b) & (t->n_slots - 1);
  while (t->slots[s] >= 0) {
    struct pair_row *r = &t->rows[t->slots[s]];
    if (!strcmp(r->a, a) && !strcmp(r->b, b))
      return r;
    s = (s + 1) & (t->n_slots - 1);
  }
  if (!create)
    return NULL;
  struct pair_row *rows = realloc(t->rows, (t->n + 1) * sizeof *rows);
  if (!rows)
    return NULL;
  t->rows = rows;
  struct pair_row *r = &rows[t->n];
  memset(r, 0, sizeof *r);
  r->a = strdup(a);
  r->b = strdup(b);
  if (!r->a || !r->b) {
    free(r->a);
    free(r->b);
    return NULL;
  }
  t->slots[s] = (int)t->n;
  t->n++;
  return r;
}

int pair_table_add(struct pair_table *t, const char *x, const char *y,
                   enum winner w) {
  struct pair_row *r = pair_table_get(t, x, y, 1);
  if (!r)
    return -1;
  switch (pair_column(x, y, w)) {
  case PAIR_WINS_A: r->wins_a++; break;
  case PAIR_WINS_B: r->wins_b++; break;
  case PAIR_TIES: r->ties++; break;
  }
  return 0;
}

enum pair_column pair_column(const char *x, const char *y, enum winner w) {
  int x_is_a = strcmp(x, y) < 0;
  if (w == WINNER_A)
    return x_is_a ? PAIR_WINS_A : PAIR_WINS_B;
  if (w == WINNER_B)
    return x_is_a ? PAIR_WINS_B : PAIR_WINS_A;
  return PAIR_TIES;
}

int pair_table_copy(struct pair_table *dst, const struct pair_table *src) {
  dst->rows = calloc(src->n + 1, sizeof *dst->rows);
  dst->n = 0;
  dst->slots = NULL;
  dst->n_slots = 0;
  if (!dst->rows)
    return -1;
  for (size_t i = 0; i < src->n; i++) {
    dst->rows[i] = src->rows[i];
    dst->rows[i].a = strdup(src->rows[i].a);
    dst->rows[i].b = strdup(src->rows[i].b);
    dst->n++;
    if (!dst->rows[i].a || !dst->rows[i].b)
      return -1;
  }
  return reindex(dst, dst->n + 1);
}

static int index_of(const char *const *names, int n, const char *s) {
  for (int i = 0; i < n; i++)
    if (!strcmp(names[i], s))
      return i;
  return -1;
}

int pair_table_to_bt(const struct pair_table *t, const char *const *names,
                     int n, struct bt_pair **pairs, size_t *n_pairs) {
  *n_pairs = 0;
  *pairs = calloc(t->n + 1, sizeof **pairs);
  if (!*pairs)
    return -1;
  for (size_t k = 0; k < t->n; k++) {
    int i = index_of(names, n, t->rows[k].a);
    int j = index_of(names, n, t->rows[k].b);
    if (i < 0 || j < 0)
      continue;
    (*pairs)[(*n_pairs)++] = (struct bt_pair){i, j, t->rows[k].wins_a,
                                              t->rows[k].wins_b, t->rows[k].ties};
  }
  return 0;
}

void pair_table_release(struct pair_table *t) {
  for (size_t i = 0; i < t->n; i++) {
    free(t->rows[i].a);
    free(t->rows[i].b);
  }
  free(t->rows);
  free(t->slots);
  t->rows = NULL;
  t->n = 0;
  t->slots = NULL;
  t->n_slots = 0;
}

int pair_table_equal(const struct pair_table *a, const struct pair_table *b) {
  if (a->n != b->n)
    return 0;
  for (size_t i = 0; i < b->n; i++) {
    const struct pair_row *r = &b->rows[i];
    const struct pair_row *l =
        pair_table_get((struct pair_table *)a, r->a, r->b, 0);
    if (!l || l->wins_a != r->wins_a || l->wins_b != r->wins_b ||
        l->ties != r->ties)
      return 0;
  }
  return 1;
}

long pair_table_total(const struct pair_table *t) {
  long n = 0;
  for (size_t i = 0; i < t->n; i++)
    n += t->rows[i].wins_a + t->rows[i].wins_b + t->rows[i].ties;
  return n;
}
