/* How many votes each pairing rule (rating/pairing.h) needs for a given
 * precision of the leaderboard: a simulation with a planted ground truth,
 * run through Agon's own code (rating/pairing.c draws the pairs,
 * rating/bt.c fits and bootstraps them as the leaderboard does).
 *
 * M models with planted Bradley-Terry ratings (evenly spaced GAP Elo
 * apart); each vote draws a pair by the rule, and its outcome from the
 * planted P(i beats j) (no ties). Uniform and active draw with every
 * weight 1; weighted gives the strongest quarter weight 2 (an admin who
 * features them), to show what weights cost the board. As in the arena, the rules see a fit
 * published every REFIT votes (the ratings worker's debounced refit):
 * active reads the scores of the last fit (pairing_active_scores), and
 * weighted before the first one. Every STEP votes the board is measured
 * as the leaderboard would show it: the BT fit, its 95% bootstrap
 * intervals (ROUNDS rounds), their mean width, and the order against the
 * truth (Kendall tau, the top 3 right). For each rule and seed it prints
 * the first vote count at which the mean interval width falls below each
 * target, and from which the order is right (tau = 1, top 3) and stays
 * right to the end.
 *
 *   pairing_sim [MODELS] [GAP] [VOTES] [SEEDS] [ROUNDS] [REFIT] [STEP]
 *               (16 25 40000 5 100 250 500)
 *   pairing_sim --draw-cost      (the cost of a table build and a draw) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rating/bt.h"
#include "rating/pairing.h"
#include "rating/rng.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double uniform(void *state) { return rng_uniform(state); }

#define N_TARGETS 4
static const double targets[N_TARGETS] = {100, 75, 50, 35}; /* Elo */

struct outcome_of_run {
  long width_at[N_TARGETS]; /* first votes with mean width <= target; -1 */
  long tau_from, top3_from; /* votes from which tau = 1 / top 3 stay right */
  double final_width, final_tau, final_err;
};

static double kendall_tau(int n, const double *x, const double *truth) {
  long c = 0, d = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      double s = (x[i] - x[j]) * (truth[i] - truth[j]);
      c += s > 0;
      d += s < 0;
    }
  return (double)(c - d) / (n * (n - 1) / 2.0);
}

/* Whether the three highest of x are the three highest of truth, in
 * order. */
static int top3_right(int n, const double *x, const double *truth) {
  int bx[3], bt[3];
  for (int k = 0; k < 3; k++) {
    bx[k] = bt[k] = -1;
    for (int i = 0; i < n; i++) {
      int used_x = 0, used_t = 0;
      for (int q = 0; q < k; q++) {
        used_x |= bx[q] == i;
        used_t |= bt[q] == i;
      }
      if (!used_x && (bx[k] < 0 || x[i] > x[bx[k]]))
        bx[k] = i;
      if (!used_t && (bt[k] < 0 || truth[i] > truth[bt[k]]))
        bt[k] = i;
    }
    if (bx[k] != bt[k])
      return 0;
  }
  return 1;
}

/* Pairs (i < j) into the bt_pair list the fit reads. */
static size_t to_pairs(int n, const long *wins, struct bt_pair *out) {
  size_t k = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      long wi = wins[i * n + j], wj = wins[j * n + i];
      if (wi + wj)
        out[k++] = (struct bt_pair){i, j, wi, wj, 0};
    }
  return k;
}

static int simulate(enum pairing_rule rule, int n, const double *truth,
                    long votes, uint64_t seed, int rounds, long refit,
                    long step, struct outcome_of_run *res) {
  long *wins = calloc((size_t)n * n, sizeof *wins);
  struct bt_pair *pairs = calloc((size_t)n * n, sizeof *pairs);
  double *rating = calloc((size_t)n, sizeof *rating);
  double *lo = calloc((size_t)n, sizeof *lo), *hi = calloc((size_t)n, sizeof *hi);
  double *score = calloc((size_t)n * n, sizeof *score);
  int *comp = calloc((size_t)n, sizeof *comp);
  struct pairing_model *m = calloc((size_t)n, sizeof *m);
  if (!wins || !pairs || !rating || !lo || !hi || !score || !comp || !m)
    return -1;
  /* weighted: an admin who features the strongest quarter (weight 2);
   * uniform and active: every weight 1 */
  for (int i = 0; i < n; i++)
    m[i] = (struct pairing_model){
        rule == PAIRING_WEIGHTED && i >= n - n / 4 ? 2 : 1, 1, 0, 0};
  struct rng g;
  rng_seed(&g, seed);
  struct pairing_rng r = {uniform, &g};
  struct pairing_table t;
  if (pairing_table_build(&t, rule, n, m, NULL, PAIRING_FLOOR))
    return -1;
  for (int k = 0; k < N_TARGETS; k++)
    res->width_at[k] = -1;
  res->tau_from = res->top3_from = -1;
  for (long v = 1; v <= votes; v++) {
    int a, b;
    pairing_draw(&t, &r, &a, &b);
    double p = bt_win_probability(truth[a], truth[b]);
    if (rng_uniform(&g) < p)
      wins[a * n + b]++;
    else
      wins[b * n + a]++;
    if (v % refit == 0 && rule == PAIRING_ACTIVE) {
      /* the ratings worker publishes a fit: the active scores are read
       * from it until the next */
      size_t np = to_pairs(n, wins, pairs);
      struct bt_data d = {n, pairs, np, NULL};
      if (bt_fit(&d, rating, comp, NULL) == 0 &&
          pairing_active_scores(n, rating, comp, pairs, np, score) == 0) {
        pairing_table_release(&t);
        if (pairing_table_build(&t, rule, n, m, score, PAIRING_FLOOR))
          return -1;
      }
    }
    if (v % step == 0) {
      size_t np = to_pairs(n, wins, pairs);
      struct bt_data d = {n, pairs, np, NULL};
      if (bt_fit(&d, rating, comp, NULL) ||
          bt_bootstrap(&d, rounds, seed ^ (uint64_t)v, 1, lo, hi))
        return -1;
      double width = 0, err = 0, mean = 0, tmean = 0;
      for (int i = 0; i < n; i++) {
        width += (isnan(hi[i]) ? INFINITY : hi[i] - lo[i]) / n;
        mean += rating[i] / n;
        tmean += truth[i] / n;
      }
      for (int i = 0; i < n; i++)
        err += fabs((rating[i] - mean) - (truth[i] - tmean)) / n;
      for (int k = 0; k < N_TARGETS; k++)
        if (res->width_at[k] < 0 && width <= targets[k])
          res->width_at[k] = v;
      double tau = kendall_tau(n, rating, truth);
      if (tau < 1)
        res->tau_from = -1;
      else if (res->tau_from < 0)
        res->tau_from = v;
      if (!top3_right(n, rating, truth))
        res->top3_from = -1;
      else if (res->top3_from < 0)
        res->top3_from = v;
      res->final_width = width;
      res->final_tau = tau;
      res->final_err = err;
    }
  }
  pairing_table_release(&t);
  free(wins);
  free(pairs);
  free(rating);
  free(lo);
  free(hi);
  free(score);
  free(comp);
  free(m);
  return 0;
}

static int cmp_long(const void *x, const void *y) {
  long a = *(const long *)x, b = *(const long *)y;
  /* -1 (never) sorts last */
  if (a < 0)
    a = 1L << 60;
  if (b < 0)
    b = 1L << 60;
  return (a > b) - (a < b);
}

static void print_median(const char *what, long *v, int seeds) {
  qsort(v, (size_t)seeds, sizeof *v, cmp_long);
  long med = v[seeds / 2];
  printf("  %-22s median ", what);
  if (med < 0)
    printf("%8s", "never");
  else
    printf("%8ld", med);
  printf("   per seed:");
  for (int s = 0; s < seeds; s++)
    if (v[s] < 0)
      printf(" never");
    else
      printf(" %ld", v[s]);
  printf("\n");
}

/* The cost of building a table (on a new fit, reload or boost change)
 * and of one draw, for n models. */
static void draw_cost(void) {
  static const int ns[] = {16, 100, 512};
  for (size_t q = 0; q < sizeof ns / sizeof ns[0]; q++) {
    int n = ns[q];
    struct pairing_model *m = calloc((size_t)n, sizeof *m);
    double *score = calloc((size_t)n * n, sizeof *score);
    double *rating = calloc((size_t)n, sizeof *rating);
    int *comp = calloc((size_t)n, sizeof *comp);
    struct bt_pair *pairs = calloc((size_t)n * n, sizeof *pairs);
    struct rng g;
    rng_seed(&g, 1);
    size_t np = 0;
    for (int i = 0; i < n; i++) {
      m[i] = (struct pairing_model){1 + i % 3, 1, 0, 0};
      rating[i] = 1000 + 3.0 * i;
      for (int j = i + 1; j < n; j++)
        pairs[np++] = (struct bt_pair){i, j, 5 + (i * j) % 7, 5 + (i + j) % 5, 0};
    }
    double t0 = now();
    pairing_active_scores(n, rating, comp, pairs, np, score);
    double t1 = now();
    struct pairing_table t;
    int builds = n < 200 ? 200 : 5;
    for (int b = 0; b < builds; b++) {
      pairing_table_build(&t, PAIRING_ACTIVE, n, m, score, PAIRING_FLOOR);
      if (b + 1 < builds)
        pairing_table_release(&t);
    }
    double t2 = now();
    struct pairing_rng r = {uniform, &g};
    long draws = 2000000, sink = 0;
    for (long d = 0; d < draws; d++) {
      int a, b;
      pairing_draw(&t, &r, &a, &b);
      sink += a + b;
    }
    double t3 = now();
    long ones = 200000;
    for (long d = 0; d < ones; d++)
      sink += pairing_draw_one(&t, (int)(d % n), NULL, &r);
    double t4 = now();
    printf("n=%3d  scores from a fit (worker) %9.3f ms   table build %9.3f ms   "
           "draw %6.0f ns   draw_one %7.0f ns   (%ld)\n",
           n, (t1 - t0) * 1e3, (t2 - t1) * 1e3 / builds,
           (t3 - t2) * 1e9 / draws, (t4 - t3) * 1e9 / ones, sink % 10);
    pairing_table_release(&t);
    free(m);
    free(score);
    free(rating);
    free(comp);
    free(pairs);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "--draw-cost")) {
    draw_cost();
    return 0;
  }
  int n = argc > 1 ? atoi(argv[1]) : 16;
  double gap = argc > 2 ? atof(argv[2]) : 25;
  long votes = argc > 3 ? atol(argv[3]) : 40000;
  int seeds = argc > 4 ? atoi(argv[4]) : 5;
  int rounds = argc > 5 ? atoi(argv[5]) : 100;
  long refit = argc > 6 ? atol(argv[6]) : 250;
  long step = argc > 7 ? atol(argv[7]) : 500;
  if (n < 3 || n > 512 || seeds < 1 || seeds > 64 || votes < step ||
      refit < 1 || step < 1) {
    fprintf(stderr, "usage: pairing_sim [MODELS] [GAP] [VOTES] [SEEDS] "
                    "[ROUNDS] [REFIT] [STEP] | --draw-cost\n");
    return 2;
  }
  double *truth = malloc((size_t)n * sizeof *truth);
  for (int i = 0; i < n; i++)
    truth[i] = 1000 + gap * (i - (n - 1) / 2.0);
  printf("%d models %.0f Elo apart, %ld votes, %d seeds, %d bootstrap rounds, "
         "refit every %ld votes, measured every %ld\n",
         n, gap, votes, seeds, rounds, refit, step);
  static const enum pairing_rule rules[] = {PAIRING_UNIFORM, PAIRING_WEIGHTED,
                                            PAIRING_ACTIVE};
  for (size_t q = 0; q < 3; q++) {
    long at[N_TARGETS][64], tau[64], top3[64];
    double fw = 0, ft = 0, fe = 0, t0 = now();
    for (int s = 0; s < seeds; s++) {
      struct outcome_of_run res = {0};
      if (simulate(rules[q], n, truth, votes, 1000 + (uint64_t)s, rounds,
                   refit, step, &res)) {
        fprintf(stderr, "out of memory\n");
        return 1;
      }
      for (int k = 0; k < N_TARGETS; k++)
        at[k][s] = res.width_at[k];
      tau[s] = res.tau_from;
      top3[s] = res.top3_from;
      fw += res.final_width / seeds;
      ft += res.final_tau / seeds;
      fe += res.final_err / seeds;
    }
    printf("%s (%.1f s)\n", pairing_rule_name(rules[q]), now() - t0);
    for (int k = 0; k < N_TARGETS; k++) {
      char what[64];
      snprintf(what, sizeof what, "mean CI width <= %.0f", targets[k]);
      print_median(what, at[k], seeds);
    }
    print_median("tau = 1 from", tau, seeds);
    print_median("top 3 right from", top3, seeds);
    printf("  at %ld votes: mean CI width %.1f, tau %.3f, mean |error| %.1f "
           "Elo\n",
           votes, fw, ft, fe);
  }
  free(truth);
  return 0;
}
