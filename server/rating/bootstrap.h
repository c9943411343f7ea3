/* What the bootstraps of Bradley-Terry (bt.c) and style control
 * (style.c) share: rounds handed out to worker threads, the threads, each
 * round's random stream, and the interval read from the samples. */
#ifndef AGON_RATING_BOOTSTRAP_H
#define AGON_RATING_BOOTSTRAP_H

#include <pthread.h>
#include <stdint.h>

#include "rating/rng.h"

/* The most threads a bootstrap runs on. */
#define BOOTSTRAP_MAX_THREADS 64

/* The rounds 0 .. total-1, handed out one at a time. */
struct bootstrap_rounds {
  pthread_mutex_t lock;
  int total;
  int next;
  int failed;          /* a worker failed: the run's samples are void */
};

void bootstrap_rounds_init(struct bootstrap_rounds *br, int total);
void bootstrap_rounds_release(struct bootstrap_rounds *br);

/* The next round to compute, or -1 when every round is handed out or a
 * worker has failed. Any thread. */
int bootstrap_rounds_claim(struct bootstrap_rounds *br);

/* Mark the run failed: no more rounds are handed out. Any thread. */
void bootstrap_rounds_fail(struct bootstrap_rounds *br);

/* Whether a worker failed; after bootstrap_run. */
int bootstrap_rounds_failed(struct bootstrap_rounds *br);

/* Run worker(arg) on `threads` threads (taken into 1 ..
 * BOOTSTRAP_MAX_THREADS), the calling thread one of them, and return when
 * all have. A thread that cannot be started is done without. */
void bootstrap_run(void *(*worker)(void *), void *arg, int threads);

/* Seed r for round `round` of a bootstrap seeded with seed: the same
 * stream for the same round, whatever thread computes it. */
void bootstrap_rng(struct rng *r, uint64_t seed, int round);

/* The 2.5% and 97.5% quantiles of column c of samples (rounds rows of
 * stride values), over its values that are not NaN; both NaN when fewer
 * than two are. col: room for rounds values. */
void bootstrap_interval(const double *samples, int rounds, int stride, int c,
                        double *col, double *lo, double *hi);

#endif
