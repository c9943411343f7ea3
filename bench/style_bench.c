/* Bradley-Terry with style control (rating/style.c), timed on synthetic
 * battles: a fit, and a bootstrap with 1 thread and with T.
 *
 * usage: style_bench [BATTLES (100000)] [MODELS (50)] [ROUNDS (100)]
 *                    [THREADS (2)]
 *
 * Battles are drawn from planted strengths and a planted length effect
 * (a fixed generator, so every run times the same data). Prints wall and
 * CPU seconds of each phase, and what the fit found. Built with
 * -Dbench=true. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rating/rng.h"
#include "rating/style.h"

static double now(clockid_t c) {
  struct timespec ts;
  clock_gettime(c, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  size_t count = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
  int n = argc > 2 ? atoi(argv[2]) : 50;
  int rounds = argc > 3 ? atoi(argv[3]) : 100;
  int threads = argc > 4 ? atoi(argv[4]) : 2;
  if (n < 2 || count < 1 || rounds < 0 || threads < 1) {
    fprintf(stderr, "usage: style_bench [BATTLES] [MODELS] [ROUNDS] [THREADS]\n");
    return 2;
  }
  struct style_battle *b = malloc(count * sizeof *b);
  double *rating = malloc((size_t)n * 3 * sizeof *rating);
  if (!b || !rating)
    return 1;
  struct rng r;
  rng_seed(&r, 42);
  for (size_t k = 0; k < count; k++) {
    int a = (int)(rng_u64(&r) % (uint64_t)n);
    int c = (int)(rng_u64(&r) % (uint64_t)(n - 1));
    c += c >= a;
    double la = 50 + 400 * rng_uniform(&r), lb = 50 + 400 * rng_uniform(&r);
    double ha = (double)(rng_u64(&r) % 4), hb = (double)(rng_u64(&r) % 4);
    double ia = (double)(rng_u64(&r) % 8), ib = (double)(rng_u64(&r) % 8);
    double oa = (double)(rng_u64(&r) % 5), ob = (double)(rng_u64(&r) % 5);
    double z = 2.0 * (a - c) / n + 1.2 * (la - lb) / (la + lb + 1) +
               0.3 * (ia - ib) / (ia + ib + 1);
    double p = 1 / (1 + exp(-z)), u = rng_uniform(&r);
    b[k] = (struct style_battle){a, c, u < 0.9 * p ? 1.0 : u < 0.9 ? 0.0 : 0.5,
                                 {la, ha, ia, oa}, {lb, hb, ib, ob}};
  }
  struct style_data d = {n, b, count};
  struct style_result res;
  double beta_lo[4], beta_hi[4];
  double w0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
  if (style_fit(&d, rating, NULL, &res))
    return 1;
  double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
  printf("%zu battles, %d models\n", count, n);
  printf("fit                %7.3f s wall %7.3f s cpu  (%d Newton steps, "
         "gradient %.1e)\n",
         w1 - w0, c1 - c0, res.iterations, res.gradient_norm);
  printf("  beta: length %.4f headers %.4f lists %.4f bold %.4f\n",
         res.beta[0], res.beta[1], res.beta[2], res.beta[3]);
  int tcounts[2] = {1, threads};
  for (int t = 0; t < (threads > 1 ? 2 : 1); t++) {
    w0 = now(CLOCK_MONOTONIC);
    c0 = now(CLOCK_PROCESS_CPUTIME_ID);
    if (style_bootstrap(&d, rounds, 1, tcounts[t], rating + n, rating + 2 * n,
                        beta_lo, beta_hi))
      return 1;
    w1 = now(CLOCK_MONOTONIC);
    c1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("bootstrap %4d x%-2d %7.3f s wall %7.3f s cpu  (length %.4f..%.4f)\n",
           rounds, tcounts[t], w1 - w0, c1 - c0, beta_lo[0], beta_hi[0]);
  }
  free(rating);
  free(b);
  return 0;
}
