#include "rating/quantile.h"

#include <math.h>

int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

void quantile_ranks(long n, double q, long *lo, double *frac) {
  double pos = q * (double)(n - 1);
  *lo = (long)floor(pos);
  *frac = pos - (double)*lo;
}

double quantile_sorted(const double *v, int n, double q) {
  long lo;
  double f;
  quantile_ranks(n, q, &lo, &f);
  long hi = lo + 1 < n ? lo + 1 : lo;
  return v[lo] + (v[hi] - v[lo]) * f;
}
