/* Spearman's rank correlation. Pure. */
#ifndef AGON_RATING_SPEARMAN_H
#define AGON_RATING_SPEARMAN_H

#include <stddef.h>

/* Spearman's rho of x[n] and y[n]: Pearson's correlation of their ranks,
 * ties getting their average rank. NaN when n < 2 or either is constant. */
double spearman(const double *x, const double *y, size_t n);

#endif
