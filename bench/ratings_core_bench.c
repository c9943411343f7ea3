/* The phases of `agon ratings`, timed one by one on a battle log, through
 * the same library functions the command uses:
 *
 *   parse      battle_log_read (JSON array or JSON lines, with jansson)
 *   sort       battle_log_sort (tstamp order)
 *   elo        online Elo replay of every battle (elo_update, K = 4)
 *   aggregate  summary_pairs (battles -> per-pair win/loss/tie counts)
 *   fit        bt_fit (Newton, exact MLE)
 *   bootstrap  bt_bootstrap, `rounds` rounds, with 1 thread and with T
 *
 * usage: ratings_core_bench FILE [ROUNDS (1000)] [THREADS (2)] [REPEAT (5)]
 *
 * The Elo replay, aggregation, fit and bootstraps are repeated REPEAT times
 * and the best time is printed (wall and CPU seconds). Built by
 * bench/ratings_bench.sh against the library of a build directory. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fastchat/battle_log.h"
#include "rating/bt.h"
#include "rating/elo.h"
#include "rating/summary.h"

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

struct timer {
  double wall, cpu;
};

static struct timer start(void) {
  return (struct timer){now(CLOCK_MONOTONIC), now(CLOCK_PROCESS_CPUTIME_ID)};
}

static struct timer stop(struct timer t0) {
  return (struct timer){now(CLOCK_MONOTONIC) - t0.wall,
                        now(CLOCK_PROCESS_CPUTIME_ID) - t0.cpu};
}

static void best(struct timer *b, struct timer t) {
  if (b->wall == 0 || t.wall < b->wall)
    *b = t;
}

static void show(const char *what, struct timer t) {
  printf("%-28s %9.3f s wall %9.3f s cpu\n", what, t.wall, t.cpu);
}

static void problem(void *cls, const char *file, size_t index,
                    const char *msg) {
  (void)cls;
  fprintf(stderr, "%s: record %zu: %s\n", file, index, msg);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s FILE [ROUNDS] [THREADS] [REPEAT]\n", argv[0]);
    return 2;
  }
  int rounds = argc > 2 ? atoi(argv[2]) : 1000;
  int threads = argc > 3 ? atoi(argv[3]) : 2;
  int repeat = argc > 4 ? atoi(argv[4]) : 5;
  if (repeat < 1)
    repeat = 1;
  char err[1024];
  struct battle_log log;
  battle_log_init(&log);

  struct timer t = start();
  if (battle_log_read(&log, argv[1], BATTLE_LOG_FAST, problem, NULL, err,
                      sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  struct timer parse = stop(t);
  t = start();
  battle_log_sort(&log);
  struct timer sort = stop(t);

  size_t n = log.n;
  int m = (int)log.n_models;
  struct outcome *o = malloc((n + 1) * sizeof *o);
  double *elo = malloc(((size_t)m + 1) * sizeof *elo);
  double *rating = malloc(((size_t)m + 1) * sizeof *rating);
  double *lo = malloc(((size_t)m + 1) * sizeof *lo);
  double *hi = malloc(((size_t)m + 1) * sizeof *hi);
  if (!o || !elo || !rating || !lo || !hi)
    return 1;
  for (size_t i = 0; i < n; i++)
    o[i] = (struct outcome){log.battles[i].a, log.battles[i].b,
                            log.battles[i].w};

  struct timer t_elo = {0}, t_agg = {0}, t_fit = {0}, t_b1 = {0}, t_bt = {0};
  struct bt_pair *pairs = NULL;
  size_t np = 0;
  double check = 0;
  for (int r = 0; r < repeat; r++) {
    t = start();
    for (int i = 0; i < m; i++)
      elo[i] = ELO_INITIAL;
    for (size_t k = 0; k < n; k++)
      elo_update(&elo[o[k].a], &elo[o[k].b], o[k].w, 4.0);
    best(&t_elo, stop(t));
    check += elo[0];

    free(pairs);
    t = start();
    if (summary_pairs(m, o, n, &pairs, &np))
      return 1;
    best(&t_agg, stop(t));

    struct bt_data d = {m, pairs, np, (const char *const *)log.models};
    t = start();
    if (bt_fit(&d, rating, NULL, NULL))
      return 1;
    best(&t_fit, stop(t));

    if (rounds > 0) {
      t = start();
      if (bt_bootstrap(&d, rounds, 1, 1, lo, hi))
        return 1;
      best(&t_b1, stop(t));
      t = start();
      if (bt_bootstrap(&d, rounds, 1, threads, lo, hi))
        return 1;
      best(&t_bt, stop(t));
    }
  }

  printf("%zu battles, %d models, %zu pairs, %d bootstrap rounds, best of %d\n",
         n, m, np, rounds, repeat);
  show("parse (once)", parse);
  show("sort (once)", sort);
  show("online Elo replay", t_elo);
  show("aggregate pairs", t_agg);
  show("BT fit", t_fit);
  if (rounds > 0) {
    char what[64];
    snprintf(what, sizeof what, "bootstrap, 1 thread");
    show(what, t_b1);
    snprintf(what, sizeof what, "bootstrap, %d threads", threads);
    show(what, t_bt);
    show("BT fit + bootstrap (T thr.)",
         (struct timer){t_fit.wall + t_bt.wall, t_fit.cpu + t_bt.cpu});
  }
  if (check != check)
    puts("(NaN)");
  free(pairs);
  free(o);
  free(elo);
  free(rating);
  free(lo);
  free(hi);
  battle_log_release(&log);
  return 0;
}
