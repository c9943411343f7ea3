/* The pairing rules (rating/pairing.h): each rule's distribution against
 * its expected probabilities by a chi-square test over many seeded
 * draws, the boost until N battles, equation (9) and the active rule's
 * preference for the pair of widest difference variance, the floor, and
 * drawing one replacement model. */
#include <stdlib.h>

#include "check.h"
#include "rating/pairing.h"
#include "rating/rng.h"

static double uniform(void *state) { return rng_uniform(state); }

/* The chi-square statistic's critical value at p = 0.0005 for df degrees
 * of freedom (Wilson-Hilferty): the seeds are fixed, so a pass is a pass
 * every run; the bound only says the draws follow the table. */
static double chi2_critical(int df) {
  double z = 3.29, a = 2.0 / (9.0 * df);
  double c = 1 - a + z * sqrt(a);
  return df * c * c * c;
}

/* Draw `draws` pairs from t and test their counts against its
 * probabilities; also each pair's sides: either model on side a about
 * half the time (5 sigma). */
static void check_draws(const struct pairing_table *t, uint64_t seed,
                        long draws) {
  int n = t->n;
  long *count = calloc((size_t)n * n, sizeof *count);
  struct rng g;
  rng_seed(&g, seed);
  struct pairing_rng r = {uniform, &g};
  for (long d = 0; d < draws; d++) {
    int a = -1, b = -1;
    pairing_draw(t, &r, &a, &b);
    CHECK(a >= 0 && b >= 0 && a < n && b < n && a != b);
    count[(size_t)a * n + b]++; /* ordered: a is side a */
  }
  double chi2 = 0;
  int cells = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      long o = count[(size_t)i * n + j] + count[(size_t)j * n + i];
      double e = pairing_table_prob(t, i, j) * draws;
      CHECK(e > 0);
      chi2 += (o - e) * (o - e) / e;
      cells++;
      if (o > 0) {
        double half = o / 2.0, sd = sqrt(o * 0.25);
        CHECK(fabs(count[(size_t)i * n + j] - half) <= 5 * sd);
      }
    }
  CHECK(chi2 < chi2_critical(cells - 1));
  if (!(chi2 < chi2_critical(cells - 1)))
    fprintf(stderr, "  chi2 %.1f over %d cells\n", chi2, cells);
  free(count);
}

static void test_weight_and_boost(void) {
  struct pairing_model m = {.weight = 2, .boost = 5, .boost_until = 3};
  m.battles = 0;
  CHECK(pairing_weight(&m) == 10);
  m.battles = 2;
  CHECK(pairing_weight(&m) == 10);
  m.battles = 3; /* boost_until battles: no longer new */
  CHECK(pairing_weight(&m) == 2);
  m.battles = 1000;
  CHECK(pairing_weight(&m) == 2);
  m = (struct pairing_model){.weight = 1, .boost = 1, .boost_until = 5};
  CHECK(pairing_weight(&m) == 1);
  enum pairing_rule r;
  CHECK(pairing_rule_parse("active", &r) == 0 && r == PAIRING_ACTIVE);
  CHECK(pairing_rule_parse("uniform", &r) == 0 && r == PAIRING_UNIFORM);
  CHECK(pairing_rule_parse("weighted", &r) == 0 && r == PAIRING_WEIGHTED);
  CHECK(pairing_rule_parse("Active", &r) == -1);
  CHECK(pairing_rule_parse("", &r) == -1);
  CHECK_STR(pairing_rule_name(PAIRING_WEIGHTED), "weighted");
}

static const struct pairing_model five[] = {
    {0.1, 1, 0, 0}, {1, 1, 0, 0}, {1, 1, 0, 0}, {2, 1, 0, 0}, {5, 1, 0, 0}};

static void test_uniform(void) {
  struct pairing_table t;
  CHECK(pairing_table_build(&t, PAIRING_UNIFORM, 5, five, NULL, 0) == 0);
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++)
      CHECK_NEAR(pairing_table_prob(&t, i, j), i == j ? 0 : 0.1, 1e-12);
  check_draws(&t, 1, 200000);
  pairing_table_release(&t);
  CHECK(pairing_table_build(&t, PAIRING_UNIFORM, 1, five, NULL, 0) == -1);
}

static void test_weighted(void) {
  struct pairing_table t;
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 5, five, NULL, 0) == 0);
  double z = 0;
  for (int i = 0; i < 5; i++)
    for (int j = i + 1; j < 5; j++)
      z += five[i].weight * five[j].weight;
  for (int i = 0; i < 5; i++)
    for (int j = 0; j < 5; j++)
      if (i != j)
        CHECK_NEAR(pairing_table_prob(&t, i, j),
                   five[i].weight * five[j].weight / z, 1e-12);
  check_draws(&t, 2, 400000);
  pairing_table_release(&t);
  /* active with no scores is weighted */
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 5, five, NULL,
                            PAIRING_FLOOR) == 0);
  CHECK_NEAR(pairing_table_prob(&t, 0, 4), 0.5 / z, 1e-12);
  pairing_table_release(&t);
  /* every weight equal: weighted is uniform */
  struct pairing_model same[4] = {{3, 1, 0, 0}, {3, 1, 0, 0}, {3, 1, 0, 0},
                                  {3, 1, 0, 0}};
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 4, same, NULL, 0) == 0);
  CHECK_NEAR(pairing_table_prob(&t, 1, 3), 1.0 / 6, 1e-12);
  pairing_table_release(&t);
  /* a weight of 0 breaks the contract */
  same[2].weight = 0;
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 4, same, NULL, 0) == -1);
}

/* The boost lasts until boost_until battles, then the model is drawn by
 * its weight alone. */
static void test_boost_until(void) {
  struct pairing_model m[3] = {{1, 5, 100, 99}, {1, 1, 0, 0}, {1, 1, 0, 0}};
  struct pairing_table t;
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 3, m, NULL, 0) == 0);
  /* pairs 5, 5, 1 out of 11 */
  CHECK_NEAR(pairing_table_prob(&t, 0, 1), 5.0 / 11, 1e-12);
  CHECK_NEAR(pairing_table_prob(&t, 1, 2), 1.0 / 11, 1e-12);
  check_draws(&t, 3, 100000);
  pairing_table_release(&t);
  m[0].battles = 100;
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 3, m, NULL, 0) == 0);
  CHECK_NEAR(pairing_table_prob(&t, 0, 1), 1.0 / 3, 1e-12);
  check_draws(&t, 4, 100000);
  pairing_table_release(&t);
  /* uniform ignores weights and boosts */
  m[0].battles = 0;
  CHECK(pairing_table_build(&t, PAIRING_UNIFORM, 3, m, NULL, 0) == 0);
  CHECK_NEAR(pairing_table_prob(&t, 0, 1), 1.0 / 3, 1e-12);
  pairing_table_release(&t);
}

/* Equation (9): sqrt(S/n) - sqrt(S/(n+1)) when the pair's variance is its
 * own votes' (V = S/n, S = 1/info); larger with a wider variance. */
static void test_equation_9(void) {
  for (long n = 1; n < 2000; n = n * 3 + 1) {
    double info = 0.21, s = 1 / info, v = s / n;
    CHECK_NEAR(pairing_active_score(v, info), sqrt(s / n) - sqrt(s / (n + 1)),
               1e-12);
  }
  CHECK(pairing_active_score(2, 0.25) > pairing_active_score(1, 0.25));
  CHECK(pairing_active_score(1, 0.25) > pairing_active_score(1, 0.1));
  CHECK(pairing_active_score(INFINITY, 0.25) == INFINITY);
  CHECK(pairing_active_score(NAN, 0.25) == INFINITY);
  CHECK(pairing_active_score(0, 0.25) == 0);
}

/* The covariance of a fit: two models, N votes, the textbook variance of
 * the difference 1 / (N p q); models of two components are unknown to
 * each other (+INFINITY); a model without battles is NaN. */
static void test_active_scores(void) {
  double r[5] = {1100, 1000, 1000, 1030, NAN};
  int comp[5] = {0, 0, 1, 1, -1};
  struct bt_pair pairs[] = {{0, 1, 30, 10, 0}, {2, 3, 7, 9, 4}};
  double s[25];
  CHECK(pairing_active_scores(5, r, comp, pairs, 2, s) == 0);
  double p = bt_win_probability(1100, 1000), q = p * (1 - p);
  CHECK_NEAR(s[0 * 5 + 1], pairing_active_score(1 / (40 * q), q), 1e-9);
  CHECK(s[1 * 5 + 0] == s[0 * 5 + 1] && s[0] == 0);
  p = bt_win_probability(1000, 1030);
  q = p * (1 - p);
  CHECK_NEAR(s[2 * 5 + 3], pairing_active_score(1 / (20 * q), q), 1e-9);
  CHECK(s[0 * 5 + 2] == INFINITY && s[1 * 5 + 3] == INFINITY);
  CHECK(isnan(s[0 * 5 + 4]) && isnan(s[4 * 5 + 3]));
}

/* The active rule draws most the pair of widest difference variance: four
 * models of equal rating, three of them much compared, the fourth met
 * once; and its draws follow its table. The floor holds for every pair. */
static void test_active(void) {
  double r[4] = {1000, 1000, 1000, 1000};
  int comp[4] = {0, 0, 0, 0};
  struct bt_pair pairs[] = {{0, 1, 200, 200, 0}, {0, 2, 200, 200, 0},
                            {1, 2, 200, 200, 0}, {0, 3, 1, 1, 0}};
  double s[16];
  CHECK(pairing_active_scores(4, r, comp, pairs, 4, s) == 0);
  struct pairing_model m[4] = {{1, 1, 0, 0}, {1, 1, 0, 0}, {1, 1, 0, 0},
                               {1, 1, 0, 0}};
  struct pairing_table t;
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 4, m, s, PAIRING_FLOOR) == 0);
  /* the variance of 3's differences is the widest, and 3 against 1 or 2
   * (never met) the widest of all */
  int best_i = -1, best_j = -1;
  double best = -1;
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      if (pairing_table_prob(&t, i, j) > best) {
        best = pairing_table_prob(&t, i, j);
        best_i = i;
        best_j = j;
      }
  CHECK(best_j == 3 && (best_i == 1 || best_i == 2));
  CHECK(pairing_table_prob(&t, 1, 3) > pairing_table_prob(&t, 0, 3));
  CHECK(pairing_table_prob(&t, 0, 3) > pairing_table_prob(&t, 0, 1));
  CHECK(pairing_table_prob(&t, 0, 3) + pairing_table_prob(&t, 1, 3) +
            pairing_table_prob(&t, 2, 3) >
        0.9);
  /* the floor: at least PAIRING_FLOOR of the weighted (here uniform) 1/6 */
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      CHECK(pairing_table_prob(&t, i, j) >= PAIRING_FLOOR / 6 - 1e-12);
  check_draws(&t, 5, 200000);
  pairing_table_release(&t);
  /* weights multiply: model 0 weighted up takes more of the draws */
  double before;
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 4, m, s, PAIRING_FLOOR) == 0);
  before = pairing_table_prob(&t, 0, 1);
  pairing_table_release(&t);
  m[0].weight = 4;
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 4, m, s, PAIRING_FLOOR) == 0);
  CHECK(pairing_table_prob(&t, 0, 1) > before);
  pairing_table_release(&t);
  m[0].weight = 1;
  /* a model the fit does not hold counts as the most uncertain pair */
  double u[25];
  for (int i = 0; i < 25; i++)
    u[i] = NAN;
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      u[i * 5 + j] = s[i * 4 + j];
  struct pairing_model m5[5] = {{1, 1, 0, 0}, {1, 1, 0, 0}, {1, 1, 0, 0},
                                {1, 1, 0, 0}, {1, 1, 0, 0}};
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 5, m5, u, PAIRING_FLOOR) == 0);
  CHECK_NEAR(pairing_table_prob(&t, 0, 4), pairing_table_prob(&t, 1, 3),
             1e-12);
  pairing_table_release(&t);
  /* an extreme table: one pair's score dwarfs all; the floor still holds */
  for (int i = 0; i < 16; i++)
    s[i] = i / 4 == i % 4 ? 0 : 1e-12;
  s[0 * 4 + 1] = s[1 * 4 + 0] = 1e6;
  CHECK(pairing_table_build(&t, PAIRING_ACTIVE, 4, m, s, PAIRING_FLOOR) == 0);
  for (int i = 0; i < 4; i++)
    for (int j = i + 1; j < 4; j++)
      CHECK(pairing_table_prob(&t, i, j) >= PAIRING_FLOOR / 6 - 1e-12);
  CHECK(pairing_table_prob(&t, 0, 1) > 0.9);
  check_draws(&t, 6, 200000);
  pairing_table_release(&t);
}

/* One replacement: against a partner, model k in proportion to the pair
 * (partner, k); excluded models never; every one excluded: -1. */
static void test_draw_one(void) {
  struct pairing_table t;
  CHECK(pairing_table_build(&t, PAIRING_WEIGHTED, 5, five, NULL, 0) == 0);
  unsigned char ex[5] = {0, 0, 1, 0, 0};
  struct rng g;
  rng_seed(&g, 7);
  struct pairing_rng r = {uniform, &g};
  long count[5] = {0};
  long draws = 200000;
  for (long d = 0; d < draws; d++) {
    int k = pairing_draw_one(&t, 1, ex, &r);
    CHECK(k >= 0 && k != 1 && k != 2);
    if (k >= 0)
      count[k]++;
  }
  /* expected: weights 0.1, 2, 5 of models 0, 3, 4 */
  double w[5] = {0.1, 0, 0, 2, 5}, z = 7.1, chi2 = 0;
  for (int k = 0; k < 5; k++)
    if (w[k] > 0) {
      double e = w[k] / z * draws;
      chi2 += (count[k] - e) * (count[k] - e) / e;
    }
  CHECK(chi2 < chi2_critical(2));
  /* no partner: by the marginal */
  long c4 = 0;
  for (long d = 0; d < draws; d++)
    c4 += pairing_draw_one(&t, -1, NULL, &r) == 4;
  double p4 = t.marginal[4] / (2 * t.total);
  CHECK(fabs(c4 - p4 * draws) < 5 * sqrt(draws * p4 * (1 - p4)));
  unsigned char all[5] = {1, 0, 1, 1, 1};
  CHECK(pairing_draw_one(&t, 1, all, &r) == -1);
  CHECK(pairing_draw_one(&t, -1, all, &r) == 1);
  pairing_table_release(&t);
}

int main(void) {
  test_weight_and_boost();
  test_uniform();
  test_weighted();
  test_boost_until();
  test_equation_9();
  test_active_scores();
  test_active();
  test_draw_one();
  return check_done("test_pairing");
}
