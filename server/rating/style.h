/* Bradley-Terry with style control, as FastChat defines it
 * (fastchat/serve/monitor/rating_systems.py: preprocess_for_style,
 * contextual_bt_loss_and_grad, fit_contextual_bt, compute_style_control,
 * compute_bootstrap_style_control), solved exactly. Pure: no I/O.
 *
 * Each battle k between models a and b has four style counts per side:
 * tokens, Markdown headers, list items and bold spans of the side's
 * answers (tag/style_count.h, or FastChat's conv_metadata).
 *
 * Features. For each count, the ratio d = (c_a - c_b) / (c_a + c_b + 1);
 * each ratio is then standardised over the battles given: x = (d - mean)
 * / std, with the population standard deviation (numpy's np.std). A ratio
 * that is the same in every battle (std 0, where FastChat would divide by
 * zero and fit NaN) becomes 0 in every battle, so its coefficient is 0.
 *
 * Model. logit P(a wins) = ln(10) * (r_a - r_b) + x_k . beta, with the
 * outcome y = 1 when a won, 0 when b won, 0.5 for a tie or "both bad".
 * The fit minimises over (r, beta)
 *     sum_k -[y log p + (1 - y) log(1 - p)]  +  0.25 * ||(r, beta)||^2
 * (FastChat's reg = 0.5 and half_reg = reg / 2: the L2 term covers the
 * ratings too). The L2 term makes the objective strictly convex, so the
 * minimiser always exists and is unique: we find it with Newton's method
 * (dense Hessian of size models + 4, Cholesky, step halving) until the
 * gradient's norm is below 1e-10, where FastChat stops after at most 100
 * L-BFGS steps (gtol 1e-6).
 *
 * Ratings are shown as 1000 + 400 * r (FastChat's scale_and_offset with
 * scale 400, init 1000). FastChat then shifts every fit so that
 * mixtral-8x7b-instruct-v0.1 sits at 1114 when that model is present; we
 * do not anchor on any model. Since the likelihood does not change when
 * every rating of a connected group of models moves by the same amount,
 * the L2 term puts each group's mean rating at exactly 1000: the same
 * convention as rating/bt.h. Differences are FastChat's either way.
 *
 * Bootstrap. Each round draws as many battles as there are, uniformly
 * with replacement (FastChat's np.random.randint), keeps the features of
 * the full data (FastChat standardises once, before resampling), and
 * refits (warm-started from the full fit). The 2.5% and 97.5% quantiles
 * (linear interpolation, as pandas' quantile) of each rating over the
 * rounds in which the model drew at least one battle, and of each
 * coefficient over all rounds, are the 95% intervals. (FastChat keeps the
 * rounds without the model, where its rating is 1000 by the L2 term
 * alone; that only happens with a handful of battles.) */
#ifndef AGON_RATING_STYLE_H
#define AGON_RATING_STYLE_H

#include <stddef.h>
#include <stdint.h>

enum style_feature {
  STYLE_LENGTH,   /* tokens: FastChat's sum_assistant_*_tokens */
  STYLE_HEADERS,  /* h1..h6 summed */
  STYLE_LISTS,    /* ordered + unordered items */
  STYLE_BOLD,     /* "**" + "__" spans */
  STYLE_FEATURES
};

/* "length", "headers", "lists", "bold" */
extern const char *const style_feature_names[STYLE_FEATURES];

struct style_battle {
  int a, b;                           /* model indices, 0..n-1, a != b */
  double outcome;                     /* 1: a won, 0: b won, 0.5: tie */
  double count_a[STYLE_FEATURES];     /* finite, >= 0 */
  double count_b[STYLE_FEATURES];
};

struct style_data {
  int n;                              /* models 0..n-1 */
  const struct style_battle *battles;
  size_t count;
};

#define STYLE_SCALE 400.0
#define STYLE_INIT 1000.0

/* What a fit found besides the ratings. */
struct style_result {
  double beta[STYLE_FEATURES];   /* per standard deviation of a feature */
  double mean[STYLE_FEATURES];   /* of each ratio over the battles */
  double std[STYLE_FEATURES];    /* 0: that feature was set to 0 */
  int iterations;                /* Newton steps */
  double gradient_norm;          /* at the result */
};

/* The standardised features: x[4 * k + f] for battle k and feature f;
 * mean[4] and std[4] (may be NULL) get each ratio's mean and standard
 * deviation. Returns 0, or -1 when a battle breaks the contract above. */
int style_features(const struct style_data *d, double *x, double *mean,
                   double *std);

/* Fit. rating[n] gets 1000 + 400 * r for each model (NaN for a model
 * without battles), component[n] (may be NULL) its connected group of
 * the graph of battles (groups numbered from 0 in the order of their
 * first model; -1 without battles), *res (may be NULL) the coefficients
 * and the features' statistics. Returns 0, or -1 when out of memory or
 * when a battle breaks the contract (nothing written then). */
int style_fit(const struct style_data *d, double *rating, int *component,
              struct style_result *res);

/* Bootstrap of `rounds` resamples as described above, on `threads`
 * threads (1 to 64). ci_low[n] and ci_high[n] get each rating's 2.5% and
 * 97.5% quantiles (NaN for a model without battles, or present in fewer
 * than two rounds); beta_low[4] and beta_high[4] (may be NULL) the
 * coefficients'. Results depend on the data, rounds and seed only, never
 * on threads. Returns 0, or -1 as style_fit. */
int style_bootstrap(const struct style_data *d, int rounds, uint64_t seed,
                    int threads, double *ci_low, double *ci_high,
                    double *beta_low, double *beta_high);

#endif
