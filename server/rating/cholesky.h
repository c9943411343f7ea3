/* Dense Cholesky: the factor and the solve that Bradley-Terry (bt.c) and
 * style control (style.c) share for their Newton steps. Pure. */
#ifndef AGON_RATING_CHOLESKY_H
#define AGON_RATING_CHOLESKY_H

/* In-place Cholesky factor (lower triangle; the upper is left as it was)
 * of the n x n symmetric matrix A, row-major. 0, or -1 when A is not
 * positive definite (to rounding). */
int cholesky_factor(double *A, int n);

/* Solve L L^T x = b with the factor from cholesky_factor; x may alias b. */
void cholesky_solve(const double *L, int n, const double *b, double *x);

#endif
