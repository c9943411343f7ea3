/* lm-evaluation-harness's metrics on one item, and a score's 95%
 * interval over the items. Pure. */
#ifndef AGON_BENCH_METRICS_H
#define AGON_BENCH_METRICS_H

#include <stddef.h>

/* numpy.argmax: the index of the first largest of x[0..n-1] (n >= 1). */
size_t bench_argmax(const double *x, size_t n);

/* acc: 1 when the likeliest choice (ll, n) is gold. */
int bench_acc(const double *ll, size_t n, int gold);

/* acc_norm: the same with each log-likelihood divided by its choice's
 * length in characters (chars, > 0). */
int bench_acc_norm(const double *ll, const size_t *chars, size_t n, int gold);

/* TruthfulQA MC2 (utils.py process_results_mc2): the probabilities
 * exp(ll) normalised over the choices, summed over those labelled 1.
 * (Computed with the largest log-likelihood taken out first: the same
 * number, without exp underflowing to 0 for long answers.) */
double bench_mc2(const double *ll, const int *labels, size_t n);

/* The Wilson score interval for k successes in n trials at 95%
 * (z = 1.959964): *lo, *hi. n = 0 gives 0 and 1. */
void bench_wilson(double k, size_t n, double *lo, double *hi);

/* The 95% percentile bootstrap interval of the mean of x (n values):
 * `rounds` resamples of n with replacement (Python's random.Random(seed)
 * choices), the 2.5th and 97.5th percentiles of their means. 0, or -1
 * when out of memory. */
int bench_bootstrap_mean(const double *x, size_t n, unsigned rounds,
                         unsigned long seed, double *lo, double *hi);

#endif
