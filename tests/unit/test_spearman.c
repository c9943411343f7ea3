/* Spearman's rank correlation, ties by average rank. */
#include "check.h"
#include "rating/spearman.h"

int main(void) {
  double x[] = {1, 2, 3, 4, 5}, y[] = {5, 6, 7, 8, 7};
  /* ranks of y: 1, 2, 3.5, 5, 3.5 */
  CHECK_NEAR(spearman(x, y, 5), 0.8207826816681233, 1e-12);
  double a[] = {10, 20, 30, 40}, b[] = {4, 3, 2, 1};
  CHECK_NEAR(spearman(a, b, 4), -1.0, 1e-12);
  CHECK_NEAR(spearman(a, a, 4), 1.0, 1e-12);
  double c[] = {7, 7, 7, 7};
  CHECK(isnan(spearman(a, c, 4)));   /* constant: undefined */
  CHECK(isnan(spearman(a, b, 1)));
  return check_done("test_spearman");
}
