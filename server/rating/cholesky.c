/* Cholesky factor and solve (cholesky.h). */
#include "rating/cholesky.h"

#include <math.h>
#include <stddef.h>

int cholesky_factor(double *A, int n) {
  for (int j = 0; j < n; j++) {
    double *rj = A + (size_t)j * n;
    double s = rj[j];
    for (int k = 0; k < j; k++)
      s -= rj[k] * rj[k];
    if (!(s > 0))
      return -1;
    double d = sqrt(s);
    rj[j] = d;
    for (int i = j + 1; i < n; i++) {
      double *ri = A + (size_t)i * n;
      double t = ri[j];
      for (int k = 0; k < j; k++)
        t -= ri[k] * rj[k];
      ri[j] = t / d;
    }
  }
  return 0;
}

void cholesky_solve(const double *L, int n, const double *b, double *x) {
  for (int i = 0; i < n; i++) {
    double s = b[i];
    const double *ri = L + (size_t)i * n;
    for (int k = 0; k < i; k++)
      s -= ri[k] * x[k];
    x[i] = s / ri[i];
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = x[i];
    for (int k = i + 1; k < n; k++)
      s -= L[(size_t)k * n + i] * x[k];
    x[i] = s / L[(size_t)i * n + i];
  }
}
