/* Bradley-Terry ratings by maximum likelihood, with bootstrap confidence
 * intervals. Pure: no I/O.
 *
 * P(i beats j) = 1 / (1 + exp(theta_j - theta_i)); a tie (and "both bad")
 * counts as half a win for each side. Ratings are on the Elo scale:
 * rating = 1000 + (400 / ln 10) * theta.
 *
 * Rules where the maximum likelihood estimate does not exist:
 * - Models that never met (different connected components of the graph of
 *   battles) cannot be placed against each other: every component is
 *   centred on its own, at a mean rating of 1000.
 * - Within a component, the MLE exists exactly when the graph of "i won
 *   at least half a game against j" is strongly connected (Zermelo, Ford).
 *   The component's core is its largest strongly connected part (on a tie:
 *   the one with more battles among its members, then the one whose first
 *   model name sorts first): the core
 *   gets the exact MLE from the battles among its members. Each other
 *   model of the component (say, a newcomer with only wins) is then placed
 *   against the fixed core with one virtual tie against a virtual opponent
 *   at the core's centre: a tiny prior that keeps its rating finite and
 *   leaves the differences within the core untouched.
 *   When no two models are strongly connected (two models, one always
 *   won), every model gets that prior and the component is centred on
 *   all of them. Components whose MLE exists get no prior at all.
 * - A model without battles has no rating (NaN here; null in the API). */
#ifndef AGON_RATING_BT_H
#define AGON_RATING_BT_H

#include <stddef.h>
#include <stdint.h>

/* Outcomes between models i and j (i != j): i's wins, j's wins, ties
 * (ties include "both bad"). */
struct bt_pair {
  int i, j;
  long wins_i, wins_j, ties;
};

struct bt_data {
  int n;                   /* models 0..n-1 */
  const struct bt_pair *pairs;
  size_t n_pairs;
  const char *const *names; /* optional: breaks ties between equal cores,
                               so that results never depend on the order
                               in which models were numbered */
};

#define BT_SCALE (400.0 / 2.302585092994046)

/* Fit. rating[n] gets each model's rating (NaN without battles),
 * component[n] (may be NULL) its component id (-1 without battles), and
 * *prior_used (may be NULL) whether any component needed the prior.
 * Returns 0, or -1 when out of memory. */
int bt_fit(const struct bt_data *d, double *rating, int *component,
           int *prior_used);

/* Bootstrap: `rounds` resamples of the battles (a multinomial over the
 * aggregated outcome counts), each refitted and aligned on the full fit
 * (each group shifted so that its models present in the resample keep
 * their mean). ci_low[n] and ci_high[n] get the 2.5% and 97.5% quantiles
 * (linear interpolation) of each model's rating over the resamples in
 * which it has battles. Results depend on seed and rounds only, not on
 * threads.
 * Returns 0, or -1 when out of memory. */
int bt_bootstrap(const struct bt_data *d, int rounds, uint64_t seed,
                 int threads, double *ci_low, double *ci_high);

/* rank_ub[i] = 1 + the number of models of the same component (models
 * that never met cannot be ranked against each other; component may be
 * NULL for one group) whose ci_low is above i's ci_high. Models with NaN
 * bounds are skipped, and get 0. */
void bt_rank_ub(int n, const double *ci_low, const double *ci_high,
                const int *component, int *rank_ub);

/* Predicted P(i beats j) from two ratings. */
double bt_win_probability(double rating_i, double rating_j);

#endif
