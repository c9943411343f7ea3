#include "rating/quantile.h"

#include <math.h>

int cmp_double(const void *x, const void *y) {
  double a = *(const double *)x, b = *(const double *)y;
  return a < b ? -1 : a > b;
}

double quantile_sorted(const double *v, int n, double q) {
  double pos = q * (n - 1);
  int lo = (int)floor(pos);
  int hi = lo + 1 < n ? lo + 1 : lo;
  double f = pos - lo;
  return v[lo] + (v[hi] - v[lo]) * f;
}
