#include "rating/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int summary_pairs(int n, const struct outcome *o, size_t count,
                  struct bt_pair **pairs, size_t *n_pairs) {
  *pairs = NULL;
  *n_pairs = 0;
  if (n <= 0)
    return 0;
  /* dense index of pairs: n*n ints */
  int *index = malloc((size_t)n * (size_t)n * sizeof *index);
  if (!index)
    return -1;
  for (size_t i = 0; i < (size_t)n * (size_t)n; i++)
    index[i] = -1;
  size_t cap = 0;
  struct bt_pair *p = NULL;
  for (size_t k = 0; k < count; k++) {
    int a = o[k].a, b = o[k].b;
    if (a == b || a < 0 || b < 0 || a >= n || b >= n)
      continue;
    int lo = a < b ? a : b, hi = a < b ? b : a;
    int *slot = &index[(size_t)lo * n + hi];
    if (*slot < 0) {
      if (*n_pairs == cap) {
        cap = cap ? cap * 2 : 64;
        struct bt_pair *np = realloc(p, cap * sizeof *np);
        if (!np) {
          free(p);
          free(index);
          return -1;
        }
        p = np;
      }
      *slot = (int)*n_pairs;
      p[*n_pairs] = (struct bt_pair){lo, hi, 0, 0, 0};
      (*n_pairs)++;
    }
    struct bt_pair *bp = &p[*slot];
    if (o[k].w == WINNER_A || o[k].w == WINNER_B) {
      int winner = o[k].w == WINNER_A ? a : b;
      if (winner == lo)
        bp->wins_i++;
      else
        bp->wins_j++;
    } else {
      bp->ties++;
    }
  }
  free(index);
  *pairs = p;
  return 0;
}

int summary_bt(int n, const struct bt_pair *pairs, size_t n_pairs,
               const char *const *names, const struct summary_params *p,
               struct model_summary *out) {
  int rc = -1;
  double *rating = calloc((size_t)n + 1, sizeof *rating);
  double *lo = calloc((size_t)n + 1, sizeof *lo);
  double *hi = calloc((size_t)n + 1, sizeof *hi);
  int *comp = calloc((size_t)n + 1, sizeof *comp);
  int *rank = calloc((size_t)n + 1, sizeof *rank);
  if (!rating || !lo || !hi || !comp || !rank)
    goto out;
  struct bt_data d = {n, pairs, n_pairs, names};
  if (bt_fit(&d, rating, comp, NULL))
    goto out;
  if (p->rounds > 0) {
    if (bt_bootstrap(&d, p->rounds, p->seed, p->threads, lo, hi))
      goto out;
  } else {
    for (int i = 0; i < n; i++)
      lo[i] = hi[i] = NAN;
  }
  bt_rank_ub(n, lo, hi, comp, rank);
  for (int i = 0; i < n; i++) {
    out[i].bt = rating[i];
    out[i].ci_low = lo[i];
    out[i].ci_high = hi[i];
    out[i].rank_ub = rank[i];
    out[i].component = comp[i];
  }
  rc = 0;
out:
  free(rating);
  free(lo);
  free(hi);
  free(comp);
  free(rank);
  return rc;
}

int summary_compute(int n, const struct outcome *o, size_t count,
                    const char *const *names, const struct summary_params *p,
                    struct model_summary *out) {
  for (int i = 0; i < n; i++) {
    memset(&out[i], 0, sizeof out[i]);
    out[i].elo = ELO_INITIAL;
  }
  for (size_t k = 0; k < count; k++) {
    struct model_summary *a = &out[o[k].a], *b = &out[o[k].b];
    elo_update(&a->elo, &b->elo, o[k].w, p->k);
    a->battles++;
    b->battles++;
    if (o[k].w == WINNER_A) {
      a->wins++;
      b->losses++;
    } else if (o[k].w == WINNER_B) {
      b->wins++;
      a->losses++;
    } else {
      a->ties++;
      b->ties++;
    }
  }
  struct bt_pair *pairs;
  size_t np;
  if (summary_pairs(n, o, count, &pairs, &np))
    return -1;
  int rc = summary_bt(n, pairs, np, names, p, out);
  free(pairs);
  return rc;
}
