/* Item metrics and intervals (metrics.h). */
#include "bench/metrics.h"

#include <math.h>
#include <stdlib.h>

#include "bench/pyrandom.h"

size_t bench_argmax(const double *x, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; i++)
    if (x[i] > x[best])
      best = i;
  return best;
}

int bench_acc(const double *ll, size_t n, int gold) {
  return n && (int)bench_argmax(ll, n) == gold;
}

int bench_acc_norm(const double *ll, const size_t *chars, size_t n,
                   int gold) {
  double *v = malloc((n ? n : 1) * sizeof *v);
  if (!v)
    return 0;
  for (size_t i = 0; i < n; i++)
    v[i] = ll[i] / (double)(chars[i] ? chars[i] : 1);
  int ok = n && (int)bench_argmax(v, n) == gold;
  free(v);
  return ok;
}

double bench_mc2(const double *ll, const int *labels, size_t n) {
  if (!n)
    return 0;
  double top = ll[bench_argmax(ll, n)], sum = 0, sum_true = 0;
  for (size_t i = 0; i < n; i++) {
    double p = exp(ll[i] - top);
    sum += p;
    if (labels[i] == 1)
      sum_true += p;
  }
  return sum_true / sum;
}

void bench_wilson(double k, size_t n, double *lo, double *hi) {
  if (!n) {
    *lo = 0;
    *hi = 1;
    return;
  }
  const double z = 1.959963984540054;
  double nn = (double)n, p = k / nn, z2 = z * z;
  double den = 1 + z2 / nn;
  double center = (p + z2 / (2 * nn)) / den;
  double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / den;
  *lo = center - half < 0 ? 0 : center - half;
  *hi = center + half > 1 ? 1 : center + half;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* numpy.percentile's default (linear) of sorted v (n values), q in 0..100 */
static double percentile(const double *v, size_t n, double q) {
  double pos = q / 100.0 * (double)(n - 1);
  size_t i = (size_t)floor(pos);
  if (i + 1 >= n)
    return v[n - 1];
  return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

int bench_bootstrap_mean(const double *x, size_t n, unsigned rounds,
                         unsigned long seed, double *lo, double *hi) {
  if (!n || !rounds) {
    *lo = 0;
    *hi = 1;
    return 0;
  }
  double *means = malloc(rounds * sizeof *means);
  if (!means)
    return -1;
  struct pyrandom r;
  pyrandom_seed(&r, seed);
  for (unsigned b = 0; b < rounds; b++) {
    double s = 0;
    for (size_t i = 0; i < n; i++) /* random.choices: floor(random() * n) */
      s += x[(size_t)floor(pyrandom_double(&r) * (double)n)];
    means[b] = s / (double)n;
  }
  qsort(means, rounds, sizeof *means, cmp_double);
  *lo = percentile(means, rounds, 2.5);
  *hi = percentile(means, rounds, 97.5);
  free(means);
  return 0;
}
