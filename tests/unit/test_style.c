/* Bradley-Terry with style control: a small fit against values found by
 * an independent minimiser of FastChat's loss, the features, the
 * properties the L2 term gives, degenerate data, and the bootstrap's
 * determinism. */
#include <stdlib.h>

#include "check.h"
#include "rating/style.h"

/* 4 models, 12 battles with every outcome kind. */
static const struct style_battle small[] = {
    {0, 1, 1.0, {100, 2, 5, 3}, {50, 0, 1, 0}},
    {1, 2, 0.0, {80, 1, 0, 2}, {120, 3, 4, 1}},
    {2, 3, 0.5, {60, 0, 2, 0}, {60, 1, 2, 0}},
    {3, 0, 0.0, {30, 0, 0, 0}, {200, 4, 8, 6}},
    {0, 2, 1.0, {150, 3, 6, 2}, {90, 1, 3, 1}},
    {1, 3, 1.0, {70, 0, 1, 1}, {40, 0, 0, 0}},
    {2, 0, 1.0, {300, 5, 9, 4}, {100, 1, 2, 1}},
    {3, 1, 0.0, {20, 0, 0, 0}, {90, 2, 3, 1}},
    {0, 3, 0.5, {110, 1, 1, 1}, {100, 1, 1, 1}},
    {1, 0, 0.0, {60, 0, 0, 0}, {60, 0, 0, 0}},
    {2, 1, 1.0, {50, 0, 0, 0}, {200, 2, 6, 3}},
    {3, 2, 1.0, {80, 2, 2, 2}, {40, 0, 0, 0}},
};
#define SMALL (sizeof small / sizeof small[0])

static void test_known_values(void) {
  /* The reference: numpy's mean and std of the ratios, then scipy's BFGS
   * (gtol 1e-13; gradient norm 1.7e-10 at its result) on FastChat's
   * contextual_bt_loss_and_grad with alpha = ln 10, reg = 0.5. */
  static const double mean[4] = {-0.03634101293497053, -0.060714285714285714,
                                 -0.056216931216931214, 0.06746031746031746};
  static const double sd[4] = {0.4005347332722611, 0.5220212077544618,
                               0.5874128338558605, 0.5102717894100901};
  static const double rating[4] = {1120.3525040020763, 765.1513314067128,
                                   1159.2542567422793, 955.2419078489316};
  static const double beta[4] = {0.4360727750991494, 0.6496548749295084,
                                 0.6720136608982578, 0.2738508026234405};
  struct style_data d = {4, small, SMALL};
  double r[4];
  int comp[4];
  struct style_result res;
  CHECK(style_fit(&d, r, comp, &res) == 0);
  for (int f = 0; f < 4; f++) {
    CHECK_NEAR(res.mean[f], mean[f], 1e-15);
    CHECK_NEAR(res.std[f], sd[f], 1e-15);
    CHECK_NEAR(res.beta[f], beta[f], 1e-8);
  }
  for (int i = 0; i < 4; i++) {
    CHECK_NEAR(r[i], rating[i], 1e-6);
    CHECK(comp[i] == 0);
  }
  CHECK(res.gradient_norm <= 1e-10);
  CHECK(res.iterations > 0 && res.iterations < 20);
  /* the L2 term centres the group on 1000 exactly */
  CHECK_NEAR((r[0] + r[1] + r[2] + r[3]) / 4, 1000.0, 1e-9);

  double x[SMALL * 4];
  CHECK(style_features(&d, x, NULL, NULL) == 0);
  /* battle 0, length: (100 - 50) / 151, standardised */
  CHECK_NEAR(x[0], (50.0 / 151.0 - mean[0]) / sd[0], 1e-12);
}

static void test_swapped_sides(void) {
  /* the same battles written from the other side: same ratings, same
   * coefficients */
  struct style_battle sw[SMALL];
  for (size_t k = 0; k < SMALL; k++) {
    sw[k] = small[k];
    sw[k].a = small[k].b;
    sw[k].b = small[k].a;
    sw[k].outcome = 1.0 - small[k].outcome;
    memcpy(sw[k].count_a, small[k].count_b, sizeof sw[k].count_a);
    memcpy(sw[k].count_b, small[k].count_a, sizeof sw[k].count_b);
  }
  struct style_data d = {4, small, SMALL}, ds = {4, sw, SMALL};
  double r[4], rs[4];
  struct style_result res, ress;
  CHECK(style_fit(&d, r, NULL, &res) == 0);
  CHECK(style_fit(&ds, rs, NULL, &ress) == 0);
  for (int i = 0; i < 4; i++)
    CHECK_NEAR(rs[i], r[i], 1e-8);
  for (int f = 0; f < 4; f++)
    CHECK_NEAR(ress.beta[f], res.beta[f], 1e-10);
}

static void test_no_style_two_models(void) {
  /* no style variation: every feature is 0, and the fit is BT with the
   * L2 term: for 3 wins, 1 loss and 2 ties of a over b, r_a = -r_b = t
   * where the gradient 6 ln10 (p - 4/6) + 0.5 t vanishes, p =
   * sigmoid(2 ln10 t) */
  struct style_battle b[6];
  double out[6] = {1, 1, 1, 0, 0.5, 0.5};
  for (int k = 0; k < 6; k++)
    b[k] = (struct style_battle){0, 1, out[k], {10, 1, 1, 1}, {10, 1, 1, 1}};
  struct style_data d = {3, b, 6}; /* model 2 never played */
  double r[3];
  int comp[3];
  struct style_result res;
  CHECK(style_fit(&d, r, comp, &res) == 0);
  for (int f = 0; f < 4; f++) {
    CHECK(res.std[f] == 0);
    CHECK(res.beta[f] == 0);
  }
  double lo = 0, hi = 1;
  for (int it = 0; it < 200; it++) {
    double t = (lo + hi) / 2;
    double p = 1 / (1 + exp(-2 * log(10.0) * t));
    if (6 * log(10.0) * (p - 4.0 / 6.0) + 0.5 * t > 0)
      hi = t;
    else
      lo = t;
  }
  CHECK_NEAR(r[0], 1000 + 400 * lo, 1e-8);
  CHECK_NEAR(r[1], 1000 - 400 * lo, 1e-8);
  CHECK(isnan(r[2]));
  CHECK(comp[0] == 0 && comp[1] == 0 && comp[2] == -1);
}

static void test_groups_and_extremes(void) {
  /* two groups that never met, one model with only wins: still finite
   * (the L2 term), each group centred on 1000 */
  struct style_battle b[] = {
      {0, 1, 1, {5, 0, 0, 0}, {1, 0, 0, 0}},
      {0, 1, 1, {1, 0, 0, 0}, {5, 0, 0, 0}},
      {0, 1, 1, {9, 0, 2, 0}, {9, 0, 0, 0}},
      {2, 3, 0, {0, 0, 0, 0}, {0, 0, 0, 0}},
      {3, 2, 0.5, {1e6, 0, 0, 0}, {0, 0, 0, 0}},
  };
  struct style_data d = {4, b, 5};
  double r[4];
  int comp[4];
  CHECK(style_fit(&d, r, comp, NULL) == 0);
  for (int i = 0; i < 4; i++)
    CHECK(isfinite(r[i]));
  CHECK(r[0] > r[1] && r[3] > r[2]);
  CHECK_NEAR(r[0] + r[1], 2000.0, 1e-9);
  CHECK_NEAR(r[2] + r[3], 2000.0, 1e-9);
  CHECK(comp[0] == 0 && comp[1] == 0 && comp[2] == 1 && comp[3] == 1);
  /* no battles at all */
  struct style_data none = {2, NULL, 0};
  double rn[2];
  struct style_result res;
  CHECK(style_fit(&none, rn, NULL, &res) == 0);
  CHECK(isnan(rn[0]) && isnan(rn[1]));
  /* contract violations are refused */
  struct style_battle bad[] = {{0, 0, 1, {0}, {0}}};
  struct style_data db = {2, bad, 1};
  CHECK(style_fit(&db, rn, NULL, NULL) == -1);
  bad[0].b = 1;
  bad[0].outcome = 2;
  CHECK(style_fit(&db, rn, NULL, NULL) == -1);
  bad[0].outcome = 1;
  bad[0].count_a[2] = -1;
  CHECK(style_fit(&db, rn, NULL, NULL) == -1);
  bad[0].count_a[2] = NAN;
  CHECK(style_fit(&db, rn, NULL, NULL) == -1);
}

static void test_bootstrap(void) {
  /* a larger random set: the intervals hold the fit, do not depend on
   * threads, and change with the seed */
  enum { N = 6, K = 3000 };
  static struct style_battle b[K];
  uint64_t s = 12345;
  for (int k = 0; k < K; k++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    int a = (int)((s >> 33) % N), c = (int)((s >> 40) % (N - 1));
    if (c >= a)
      c++;
    double la = (double)((s >> 20) % 500), lb = (double)((s >> 11) % 500);
    double u = (double)((s >> 3) % 1000) / 1000.0;
    double z = 0.3 * (a - c) + 1.5 * (la - lb) / (la + lb + 1);
    double p = 1 / (1 + exp(-z));
    b[k] = (struct style_battle){a, c, u < p * 0.9 ? 1 : u < 0.9 ? 0 : 0.5,
                                 {la, (double)(k % 3), (double)(k % 5), 0},
                                 {lb, (double)(k % 4), 1, 0}};
  }
  struct style_data d = {N, b, K};
  double r[N], lo1[N], hi1[N], lo4[N], hi4[N], lo5[N], hi5[N];
  double bl1[4], bh1[4], bl4[4], bh4[4];
  struct style_result res;
  CHECK(style_fit(&d, r, NULL, &res) == 0);
  CHECK(res.beta[STYLE_LENGTH] > 0.3);
  CHECK(res.std[STYLE_BOLD] == 0 && res.beta[STYLE_BOLD] == 0);
  CHECK(style_bootstrap(&d, 50, 7, 1, lo1, hi1, bl1, bh1) == 0);
  CHECK(style_bootstrap(&d, 50, 7, 4, lo4, hi4, bl4, bh4) == 0);
  CHECK(style_bootstrap(&d, 50, 8, 2, lo5, hi5, NULL, NULL) == 0);
  int differs = 0;
  for (int i = 0; i < N; i++) {
    CHECK(lo1[i] == lo4[i] && hi1[i] == hi4[i]);
    CHECK(lo1[i] < r[i] && r[i] < hi1[i]);
    differs |= lo5[i] != lo1[i];
  }
  CHECK(differs);
  for (int f = 0; f < 4; f++)
    CHECK(bl1[f] == bl4[f] && bh1[f] == bh4[f]);
  CHECK(bl1[STYLE_LENGTH] < res.beta[STYLE_LENGTH] &&
        res.beta[STYLE_LENGTH] < bh1[STYLE_LENGTH]);
  CHECK(bl1[STYLE_BOLD] == 0 && bh1[STYLE_BOLD] == 0);
  /* a model with a single battle is missing from some rounds: its
   * interval is over the rounds it is in */
  static struct style_battle more[K + 1];
  memcpy(more, b, sizeof b);
  more[K] = (struct style_battle){N, 0, 1, {1, 0, 0, 0}, {1, 0, 0, 0}};
  struct style_data dm = {N + 1, more, K + 1};
  double lom[N + 1], him[N + 1];
  CHECK(style_bootstrap(&dm, 40, 3, 3, lom, him, NULL, NULL) == 0);
  CHECK(isfinite(lom[N]) && isfinite(him[N]) && lom[N] <= him[N]);
  /* no rounds: no intervals */
  CHECK(style_bootstrap(&d, 0, 1, 2, lo1, hi1, bl1, bh1) == 0);
  CHECK(isnan(lo1[0]) && isnan(bh1[0]));
}

int main(void) {
  test_known_values();
  test_swapped_sides();
  test_no_style_two_models();
  test_groups_and_extremes();
  test_bootstrap();
  return check_done("style");
}
