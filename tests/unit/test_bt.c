/* Bradley-Terry: the textbook example, ties, the no-MLE rules,
 * disconnected groups, bootstrap determinism and the binomial sampler. */
#include <stdlib.h>

#include "check.h"
#include "rating/bt.h"
#include "rating/rng.h"

static double strength(double rating) { return exp((rating - 1000.0) / BT_SCALE); }

static void test_wikipedia(void) {
  /* Wikipedia, "Bradley-Terry model": A beat B 2 and D 1; B beat A 3 and
   * C 5; C beat B 3 and D 1; D beat A 4 and C 3. */
  enum { A, B, C, D };
  struct bt_pair pairs[] = {
      {A, B, 2, 3, 0}, {A, D, 1, 4, 0}, {B, C, 5, 3, 0}, {C, D, 1, 3, 0}};
  struct bt_data d = {4, pairs, 4, NULL};
  double r[4];
  int comp[4], prior = -1;
  CHECK(bt_fit(&d, r, comp, &prior) == 0);
  CHECK(prior == 0);
  CHECK_NEAR(strength(r[A]), 0.640, 0.0005);
  CHECK_NEAR(strength(r[B]), 1.043, 0.0005);
  CHECK_NEAR(strength(r[C]), 0.660, 0.0005);
  CHECK_NEAR(strength(r[D]), 2.270, 0.0005);
  CHECK_NEAR((r[A] + r[B] + r[C] + r[D]) / 4, 1000.0, 1e-9);
  CHECK(comp[A] == comp[D]);
  /* the same data with the pairs written the other way round */
  struct bt_pair rev[] = {
      {B, A, 3, 2, 0}, {D, A, 4, 1, 0}, {C, B, 3, 5, 0}, {D, C, 3, 1, 0}};
  struct bt_data dr = {4, rev, 4, NULL};
  double r2[4];
  bt_fit(&dr, r2, NULL, NULL);
  for (int i = 0; i < 4; i++)
    CHECK_NEAR(r2[i], r[i], 1e-9);
}

static void test_ties_and_two_models(void) {
  /* 3 wins, 1 loss, 2 ties: 4 effective wins of 6 -> p = 2/3, so
   * theta_a - theta_b = ln 2 exactly. */
  struct bt_pair pairs[] = {{0, 1, 3, 1, 2}};
  struct bt_data d = {2, pairs, 1, NULL};
  double r[2];
  bt_fit(&d, r, NULL, NULL);
  CHECK_NEAR(r[0] - r[1], BT_SCALE * log(2.0), 1e-7);
  CHECK_NEAR(r[0] + r[1], 2000.0, 1e-9);
  CHECK_NEAR(bt_win_probability(r[0], r[1]), 2.0 / 3.0, 1e-9);
}

static void test_no_mle(void) {
  /* model 0 only wins: no MLE; the prior keeps everything finite */
  struct bt_pair pairs[] = {{0, 1, 5, 0, 0}, {1, 2, 3, 3, 0}, {0, 2, 4, 0, 0}};
  struct bt_data d = {4, pairs, 3, NULL}; /* model 3 never played */
  double r[4];
  int comp[4], prior = 0;
  CHECK(bt_fit(&d, r, comp, &prior) == 0);
  CHECK(prior == 1);
  for (int i = 0; i < 3; i++)
    CHECK(isfinite(r[i]));
  CHECK(r[0] > r[1] && r[0] > r[2]);
  CHECK(isnan(r[3]) && comp[3] == -1);
  /* the group is centred at 1000; the core {1, 2} (3 wins each way) keeps
   * its exact MLE: equal ratings, untouched by 0's prior */
  CHECK_NEAR((r[0] + r[1] + r[2]) / 3, 1000.0, 1e-6);
  CHECK_NEAR(r[1], r[2], 1e-6);
  /* two models, one always won: both get the prior, centred on both */
  struct bt_pair two[] = {{0, 1, 4, 0, 0}};
  struct bt_data d2 = {2, two, 1, NULL};
  double r2[2];
  bt_fit(&d2, r2, NULL, NULL);
  CHECK(isfinite(r2[0]) && isfinite(r2[1]) && r2[0] > r2[1]);
  CHECK_NEAR(r2[0] + r2[1], 2000.0, 1e-6);
}

static void test_two_groups(void) {
  /* {0,1} and {2,3} never met: each group is centred at 1000 */
  struct bt_pair pairs[] = {{0, 1, 6, 3, 1}, {2, 3, 1, 9, 0}};
  struct bt_data d = {4, pairs, 2, NULL};
  double r[4];
  int comp[4];
  bt_fit(&d, r, comp, NULL);
  CHECK(comp[0] == comp[1] && comp[2] == comp[3] && comp[0] != comp[2]);
  CHECK_NEAR(r[0] + r[1], 2000.0, 1e-9);
  CHECK_NEAR(r[2] + r[3], 2000.0, 1e-9);
  CHECK_NEAR(r[0] - r[1], BT_SCALE * log(6.5 / 3.5), 1e-7);
}

static void test_bootstrap(void) {
  enum { A, B, C, D };
  struct bt_pair pairs[] = {{A, B, 20, 30, 5}, {A, D, 10, 40, 2},
                            {B, C, 50, 30, 8}, {C, D, 10, 30, 1},
                            {A, C, 25, 25, 3}};
  struct bt_data d = {4, pairs, 5, NULL};
  double lo1[4], hi1[4], lo2[4], hi2[4], r[4];
  bt_fit(&d, r, NULL, NULL);
  CHECK(bt_bootstrap(&d, 200, 42, 1, lo1, hi1) == 0);
  CHECK(bt_bootstrap(&d, 200, 42, 2, lo2, hi2) == 0);
  for (int i = 0; i < 4; i++) {
    CHECK(lo1[i] == lo2[i] && hi1[i] == hi2[i]); /* thread-independent */
    CHECK(lo1[i] < r[i] && r[i] < hi1[i]);
    CHECK(hi1[i] - lo1[i] < 200);
  }
  double lo3[4], hi3[4];
  bt_bootstrap(&d, 200, 43, 1, lo3, hi3);
  CHECK(lo3[0] != lo1[0]); /* another seed, other draws */
  int rank[4];
  bt_rank_ub(4, lo1, hi1, NULL, rank);
  CHECK(rank[D] == 1);
  CHECK(rank[A] >= 2);
}

static void test_binomial(void) {
  struct rng r;
  rng_seed(&r, 7);
  const long ns[] = {5, 40, 1000, 100000};
  const double ps[] = {0.01, 0.2, 0.5, 0.93};
  for (size_t a = 0; a < 4; a++) {
    for (size_t b = 0; b < 4; b++) {
      long n = ns[a];
      double p = ps[b];
      double sum = 0, sum2 = 0;
      int draws = 20000;
      int in_range = 1;
      for (int k = 0; k < draws; k++) {
        long x = rng_binomial(&r, n, p);
        in_range = in_range && x >= 0 && x <= n;
        sum += x;
        sum2 += (double)x * x;
      }
      double mean = sum / draws, var = sum2 / draws - mean * mean;
      double sd_mean = sqrt(n * p * (1 - p) / draws);
      CHECK(in_range);
      CHECK(fabs(mean - n * p) < 5 * sd_mean + 1e-9);
      CHECK(fabs(var - n * p * (1 - p)) < 0.1 * n * p * (1 - p) + 0.05);
    }
  }
}

int main(void) {
  test_wikipedia();
  test_ties_and_two_models();
  test_no_mle();
  test_two_groups();
  test_bootstrap();
  test_binomial();
  return check_done("test_bt");
}
