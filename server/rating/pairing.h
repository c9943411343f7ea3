/* Which two models a new battle pairs, and which one model replaces a
 * failed side: the pairing rules, pure (no arena types, no I/O, no clock;
 * randomness comes from the caller's uniform source).
 *
 * Three rules ([arena] pairing):
 * - uniform: every pair of models alike; weights and boosts ignored.
 * - weighted: the pair {i, j} with probability proportional to w_i * w_j,
 *   where w = weight, times boost while the model has fewer than
 *   boost_until counted battles (pairing_weight). With every w equal this
 *   is uniform.
 * - active: the pair whose next vote is expected to shrink the
 *   Bradley-Terry intervals most (Chiang et al. 2024, "Chatbot Arena: An
 *   Open Platform for Evaluating LLMs by Human Preference", section 5,
 *   equation (9); see pairing_active_score), times w_i * w_j, mixed with
 *   the weighted rule by a floor (PAIRING_FLOOR) so that every pair keeps
 *   a probability of at least floor * its weighted one.
 *
 * A draw is made from a pairing_table, built once for a set of models
 * (O(n^2)) and then drawn from in O(log n) (a pair) or O(n) (one model). */
#ifndef AGON_RATING_PAIRING_H
#define AGON_RATING_PAIRING_H

#include <stddef.h>

#include "rating/bt.h"

enum pairing_rule { PAIRING_UNIFORM, PAIRING_WEIGHTED, PAIRING_ACTIVE };

/* The share of the active rule's draws made by the weighted rule: every
 * pair keeps at least this much of its weighted probability, so that no
 * pair is ever starved, and the rule's probabilities stay bounded away
 * from 0 as the paper's intervals require (P_t(a) > epsilon > 0). */
#define PAIRING_FLOOR 0.1

/* A uniform random source: uniform(state) is in [0, 1). */
struct pairing_rng {
  double (*uniform)(void *state);
  void *state;
};

/* One model as the rules see it. */
struct pairing_model {
  double weight;     /* > 0; 1 by default */
  double boost;      /* >= 1; 1: none */
  long boost_until;  /* the boost applies while battles < boost_until */
  long battles;      /* its counted battles (the live Elo table's) */
};

/* w = weight, times boost while battles < boost_until. */
double pairing_weight(const struct pairing_model *m);

/* "uniform", "weighted", "active" -> 0 and *out set; else -1. */
int pairing_rule_parse(const char *s, enum pairing_rule *out);
const char *pairing_rule_name(enum pairing_rule r);

/* Equation (9) of the paper, for one pair a = (i, j):
 *     P_t(a) ∝ sqrt(Σ_{t,a,a} / n_a) - sqrt(Σ_{t,a,a} / (n_a + 1)),
 * n_a = |{t : A_t = a}|, the reduction of the pair's interval by one more
 * vote of that pair. There Σ_{a,a} is the per-vote variance of the pair's
 * own estimate, so Σ/n_a is its variance now and Σ/(n_a + 1) after one
 * more vote; in information terms 1/V' = 1/V + 1/Σ. For Bradley-Terry the
 * pair's estimate is the difference θ_i - θ_j, whose variance now is
 * var_diff = Σ_ii + Σ_jj - 2 Σ_ij of the fit's covariance (which counts
 * the indirect evidence through other models too), and one more vote adds
 * the information info = p (1 - p) along e_i - e_j (p: the fit's P(i
 * beats j)), so that by Sherman-Morrison V' = V / (1 + info V). The score
 * is then sqrt(V) - sqrt(V / (1 + info V)): exactly equation (9) when the
 * pair's difference is known from its own votes only (V = 1 / (n_a info)).
 * A pair whose difference is unknown (var_diff infinite or NaN: models
 * that never met, directly or not) gets +INFINITY. */
double pairing_active_score(double var_diff, double info);

/* The active score of every pair of a fit's n models into score[n * n]
 * (row-major, symmetric, diagonal 0; +INFINITY between models of
 * different components), from the ratings (Elo scale, as bt_fit gives
 * them; NaN: no battles) and the pair counts the fit used. The covariance
 * is the inverse of the Fisher information of the fit (the Hessian of the
 * negative log-likelihood at the fitted ratings), in each component's
 * own gauge (the differences do not depend on it). O(n^3). Returns 0, or
 * -1 when out of memory or the information is singular (a model whose
 * every vote went one way at an infinite rating). */
int pairing_active_scores(int n, const double *rating, const int *component,
                          const struct bt_pair *pairs, size_t n_pairs,
                          double *score);

/* The distribution over the pairs of n models under one rule. */
struct pairing_table {
  int n;
  double *cum;       /* n (n - 1) / 2: cumulative mass of pairs i < j in
                        row-major order */
  size_t *row;       /* n: cum's index where row i starts */
  double *marginal;  /* n: the mass of the pairs holding model i */
  double *mass;      /* n * n: each pair's mass (symmetric) */
  double total;
};

/* Build t for models m[n] (n >= 2) under rule. score (n * n, as from
 * pairing_active_scores, NaN where unknown: a model the fit does not
 * hold) is read by PAIRING_ACTIVE only, and may be NULL: then, or when
 * no pair has a finite score, active is weighted. In active, a pair
 * whose score is unknown or infinite (a model without a rating, models
 * never compared) counts as the pair of the largest finite score: as
 * uncertain as the most uncertain known one. floor in [0, 1] is the
 * active rule's weighted share (PAIRING_FLOOR). Returns 0, or -1 when
 * out of memory or n < 2 (t is then empty). */
int pairing_table_build(struct pairing_table *t, enum pairing_rule rule,
                        int n, const struct pairing_model *m,
                        const double *score, double floor);

void pairing_table_release(struct pairing_table *t);

/* The probability that a draw pairs i and j (i != j). */
double pairing_table_prob(const struct pairing_table *t, int i, int j);

/* Draw a pair: *a and *b distinct, in random order (the side swap).
 * O(log n). */
void pairing_draw(const struct pairing_table *t, struct pairing_rng *r,
                  int *a, int *b);

/* Draw one model not in exclude[n] (nonzero: excluded; may be NULL) by
 * the same rule: with partner >= 0 (the model it will face), model k with
 * probability proportional to the pair (partner, k)'s; with partner < 0,
 * proportional to k's marginal. O(n). Returns its index, or -1 when every
 * model is excluded. */
int pairing_draw_one(const struct pairing_table *t, int partner,
                     const unsigned char *exclude, struct pairing_rng *r);

#endif
