#include "rating/spearman.h"

#include <math.h>
#include <stdlib.h>

struct ranked {
  double v;
  size_t i;
};

static int by_value(const void *a, const void *b) {
  double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
  return x < y ? -1 : x > y;
}

/* Average ranks (1-based) of v into r. 0 or -1. */
static int ranks(const double *v, size_t n, double *r) {
  struct ranked *t = malloc(n * sizeof *t);
  if (!t)
    return -1;
  for (size_t i = 0; i < n; i++)
    t[i] = (struct ranked){v[i], i};
  qsort(t, n, sizeof *t, by_value);
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && t[j + 1].v == t[i].v)
      j++;
    double avg = (double)(i + j) / 2.0 + 1.0;
    for (size_t k = i; k <= j; k++)
      r[t[k].i] = avg;
    i = j + 1;
  }
  free(t);
  return 0;
}

double spearman(const double *x, const double *y, size_t n) {
  if (n < 2)
    return NAN;
  double *rx = malloc(n * sizeof *rx), *ry = malloc(n * sizeof *ry);
  double rho = NAN;
  if (!rx || !ry || ranks(x, n, rx) || ranks(y, n, ry))
    goto out;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) {
    mx += rx[i];
    my += ry[i];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx > 0 && syy > 0)
    rho = sxy / sqrt(sxx * syy);
out:
  free(rx);
  free(ry);
  return rho;
}
