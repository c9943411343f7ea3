#include "rating/style_board.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rating/bt.h"
#include "util/array.h"
#include "util/clock.h"

void style_input_init(struct style_input *in, size_t max) {
  memset(in, 0, sizeof *in);
  in->max = max;
}

void style_input_release(struct style_input *in) {
  for (int i = 0; i < in->n; i++)
    free(in->names[i]);
  free(in->names);
  free(in->battles);
  style_input_init(in, in->max);
}

/* The index of name, added when new; -1 when out of memory. Linear: a
 * board has tens of models, and the last two found are tried first. */
static int intern(struct style_input *in, const char *name) {
  for (int i = in->n - 1; i >= 0; i--)
    if (!strcmp(in->names[i], name))
      return i;
  char **more = realloc(in->names, (size_t)(in->n + 1) * sizeof *more);
  if (!more)
    return -1;
  in->names = more;
  if (!(more[in->n] = strdup(name)))
    return -1;
  return in->n++;
}

int style_input_add(struct style_input *in, const char *model_a,
                    const char *model_b, enum winner w, const double a[4],
                    const double b[4]) {
  if (!strcmp(model_a, model_b))
    return 0;
  if (in->max && in->count >= in->max) {
    in->dropped++;
    return 0;
  }
  int ia = intern(in, model_a), ib = intern(in, model_b);
  if (ia < 0 || ib < 0)
    return -1;
  if (in->count == in->cap) {
    size_t cap = in->cap ? 2 * in->cap : 256;
    struct style_battle *more = realloc(in->battles, cap * sizeof *more);
    if (!more)
      return -1;
    in->battles = more;
    in->cap = cap;
  }
  struct style_battle *s = &in->battles[in->count++];
  s->a = ia;
  s->b = ib;
  s->outcome = w == WINNER_A ? 1.0 : w == WINNER_B ? 0.0 : 0.5;
  for (int f = 0; f < STYLE_FEATURES; f++) {
    s->count_a[f] = isfinite(a[f]) && a[f] >= 0 ? a[f] : 0;
    s->count_b[f] = isfinite(b[f]) && b[f] >= 0 ? b[f] : 0;
  }
  return 0;
}

void style_board_unref(struct style_board *b) {
  if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
    return;
  for (int i = 0; i < b->n; i++)
    free(b->names[i]);
  free(b->names);
  free(b->rating);
  free(b->ci_low);
  free(b->ci_high);
  free(b->rank_ub);
  free(b->component);
  free(b->battles);
  free(b->wins);
  free(b->losses);
  free(b->ties);
  free(b);
}

int style_board_find(const struct style_board *b, const char *name) {
  return array_find_sorted_str(b->names, b->n, name);
}

static int cmp_name(const void *x, const void *y, void *ctx) {
  char **names = ctx;
  return strcmp(names[*(const int *)x], names[*(const int *)y]);
}

struct style_board *style_board_fit(const struct style_input *in, int rounds,
                                    int threads) {
  int n = in->n;
  struct style_board *b = calloc(1, sizeof *b);
  double *rating = calloc((size_t)n + 1, sizeof *rating);
  double *lo = calloc((size_t)n + 1, sizeof *lo);
  double *hi = calloc((size_t)n + 1, sizeof *hi);
  int *comp = calloc((size_t)n + 1, sizeof *comp);
  int *order = calloc((size_t)n + 1, sizeof *order);
  int ok = 0;
  if (!b || !rating || !lo || !hi || !comp || !order)
    goto fail;
  atomic_init(&b->refs, 1);
  b->count = in->count;
  b->names = calloc((size_t)n + 1, sizeof *b->names);
  b->rating = calloc((size_t)n + 1, sizeof *b->rating);
  b->ci_low = calloc((size_t)n + 1, sizeof *b->ci_low);
  b->ci_high = calloc((size_t)n + 1, sizeof *b->ci_high);
  b->rank_ub = calloc((size_t)n + 1, sizeof *b->rank_ub);
  b->component = calloc((size_t)n + 1, sizeof *b->component);
  b->battles = calloc((size_t)n + 1, sizeof *b->battles);
  b->wins = calloc((size_t)n + 1, sizeof *b->wins);
  b->losses = calloc((size_t)n + 1, sizeof *b->losses);
  b->ties = calloc((size_t)n + 1, sizeof *b->ties);
  if (!b->names || !b->rating || !b->ci_low || !b->ci_high || !b->rank_ub ||
      !b->component || !b->battles || !b->wins || !b->losses || !b->ties)
    goto fail;
  b->n = n; /* names[] holds n entries (NULL until copied) */
  for (int f = 0; f < STYLE_FEATURES; f++)
    b->beta_low[f] = b->beta_high[f] = NAN;
  struct style_data d = {.n = n, .battles = in->battles, .count = in->count};
  if (n > 0 && in->count > 0) {
    if (style_fit(&d, rating, comp, &b->res))
      goto fail;
    for (int i = 0; i < n; i++)
      lo[i] = hi[i] = NAN;
    if (rounds > 0 &&
        style_bootstrap(&d, rounds, 0, threads, lo, hi, b->beta_low,
                        b->beta_high))
      goto fail;
  } else {
    for (int i = 0; i < n; i++) {
      rating[i] = lo[i] = hi[i] = NAN;
      comp[i] = -1;
    }
  }
  /* the board in name order */
  for (int i = 0; i < n; i++)
    order[i] = i;
  qsort_r(order, (size_t)n, sizeof *order, cmp_name, in->names);
  int *where = calloc((size_t)n + 1, sizeof *where);
  if (!where)
    goto fail;
  for (int k = 0; k < n; k++) {
    int i = order[k];
    where[i] = k;
    if (!(b->names[k] = strdup(in->names[i]))) {
      free(where);
      goto fail;
    }
    b->rating[k] = rating[i];
    b->ci_low[k] = lo[i];
    b->ci_high[k] = hi[i];
    b->component[k] = comp[i];
  }
  for (size_t k = 0; k < in->count; k++) {
    const struct style_battle *s = &in->battles[k];
    int a = where[s->a], c = where[s->b];
    b->battles[a]++;
    b->battles[c]++;
    if (s->outcome == 1.0) {
      b->wins[a]++;
      b->losses[c]++;
    } else if (s->outcome == 0.0) {
      b->wins[c]++;
      b->losses[a]++;
    } else {
      b->ties[a]++;
      b->ties[c]++;
    }
  }
  free(where);
  bt_rank_ub(n, b->ci_low, b->ci_high, b->component, b->rank_ub);
  b->computed_at = now_ms();
  ok = 1;
fail:
  free(rating);
  free(lo);
  free(hi);
  free(comp);
  free(order);
  if (!ok) {
    style_board_unref(b);
    b = NULL;
  }
  return b;
}
