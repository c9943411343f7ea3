/* Quantiles of bootstrap samples, shared by bt.c and style.c. Pure. */
#ifndef AGON_RATING_QUANTILE_H
#define AGON_RATING_QUANTILE_H

/* qsort's comparison of doubles, ascending. */
int cmp_double(const void *x, const void *y);

/* The q-quantile (0..1) of v[n], sorted ascending, n > 0, by linear
 * interpolation between the closest ranks. */
double quantile_sorted(const double *v, int n, double q);

/* The ranks quantile_sorted interpolates between for n values: *lo (and
 * lo + 1, or lo when it is the last) with weight *frac on the upper one.
 * For a caller that fetches those two values alone. n > 0. */
void quantile_ranks(long n, double q, long *lo, double *frac);

#endif
