#include "rating/bootstrap.h"

#include <math.h>
#include <stdlib.h>

#include "rating/quantile.h"

void bootstrap_rounds_init(struct bootstrap_rounds *br, int total) {
  pthread_mutex_init(&br->lock, NULL);
  br->total = total;
  br->next = 0;
  br->failed = 0;
}

void bootstrap_rounds_release(struct bootstrap_rounds *br) {
  pthread_mutex_destroy(&br->lock);
}

int bootstrap_rounds_claim(struct bootstrap_rounds *br) {
  pthread_mutex_lock(&br->lock);
  int round = br->failed || br->next >= br->total ? -1 : br->next++;
  pthread_mutex_unlock(&br->lock);
  return round;
}

void bootstrap_rounds_fail(struct bootstrap_rounds *br) {
  pthread_mutex_lock(&br->lock);
  br->failed = 1;
  pthread_mutex_unlock(&br->lock);
}

int bootstrap_rounds_failed(struct bootstrap_rounds *br) {
  pthread_mutex_lock(&br->lock);
  int failed = br->failed;
  pthread_mutex_unlock(&br->lock);
  return failed;
}

void bootstrap_run(void *(*worker)(void *), void *arg, int threads) {
  if (threads < 1)
    threads = 1;
  if (threads > BOOTSTRAP_MAX_THREADS)
    threads = BOOTSTRAP_MAX_THREADS;
  pthread_t tids[BOOTSTRAP_MAX_THREADS];
  int started = 0;
  for (int t = 1; t < threads; t++)
    if (pthread_create(&tids[started], NULL, worker, arg) == 0)
      started++;
  worker(arg);
  for (int t = 0; t < started; t++)
    pthread_join(tids[t], NULL);
}

void bootstrap_rng(struct rng *r, uint64_t seed, int round) {
  rng_seed(r, seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(round + 1)));
}

void bootstrap_interval(const double *samples, int rounds, int stride, int c,
                        double *col, double *lo, double *hi) {
  int m = 0;
  for (int r = 0; r < rounds; r++) {
    double v = samples[(size_t)r * (size_t)stride + (size_t)c];
    if (!isnan(v))
      col[m++] = v;
  }
  if (m < 2) {
    *lo = *hi = NAN;
    return;
  }
  qsort(col, (size_t)m, sizeof *col, cmp_double);
  *lo = quantile_sorted(col, m, 0.025);
  *hi = quantile_sorted(col, m, 0.975);
}
