/* The pairing rules (pairing.h). */
#include "rating/pairing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rating/cholesky.h"

double pairing_weight(const struct pairing_model *m) {
  return m->battles < m->boost_until ? m->weight * m->boost : m->weight;
}

static const char *const rule_names[] = {"uniform", "weighted", "active"};

int pairing_rule_parse(const char *s, enum pairing_rule *out) {
  for (int i = 0; i < 3; i++)
    if (!strcmp(s, rule_names[i])) {
      *out = (enum pairing_rule)i;
      return 0;
    }
  return -1;
}

const char *pairing_rule_name(enum pairing_rule r) {
  return (unsigned)r < 3 ? rule_names[r] : "?";
}

double pairing_active_score(double var_diff, double info) {
  if (!(var_diff < INFINITY))
    return INFINITY; /* infinite or NaN: nothing is known of the pair */
  if (!(var_diff > 0) || !(info > 0))
    return 0;
  /* sqrt(V) - sqrt(V / (1 + x)), x = info V, without the cancellation of
   * two close square roots: sqrt(V) x / (sqrt(1 + x) (1 + sqrt(1 + x))) */
  double x = info * var_diff;
  double r = sqrt(1 + x);
  return sqrt(var_diff) * x / (r * (1 + r));
}

int pairing_active_scores(int n, const double *rating, const int *component,
                          const struct bt_pair *pairs, size_t n_pairs,
                          double *score) {
  size_t nn = (size_t)n * (size_t)n;
  double *h = n ? calloc(nn, sizeof *h) : NULL;
  double *cov = n ? calloc(nn, sizeof *cov) : NULL;
  double *e = n ? calloc((size_t)n, sizeof *e) : NULL;
  int *size = n ? calloc((size_t)n, sizeof *size) : NULL;
  int rc = -1;
  if (n && (!h || !cov || !e || !size))
    goto out;
  /* the information: each pair's votes, p (1 - p) each, along e_i - e_j */
  for (size_t k = 0; k < n_pairs; k++) {
    const struct bt_pair *q = &pairs[k];
    if (q->i < 0 || q->j < 0 || q->i >= n || q->j >= n || q->i == q->j ||
        isnan(rating[q->i]) || isnan(rating[q->j]))
      continue;
    double p = bt_win_probability(rating[q->i], rating[q->j]);
    double v = (double)(q->wins_i + q->wins_j + q->ties) * p * (1 - p);
    h[(size_t)q->i * n + q->i] += v;
    h[(size_t)q->j * n + q->j] += v;
    h[(size_t)q->i * n + q->j] -= v;
    h[(size_t)q->j * n + q->i] -= v;
  }
  /* The gauge: the information is blind to shifting a component as a
   * whole (its indicator 1_c is a null vector). Adding tau / |c| 1_c 1_c^T
   * for each component makes it invertible and changes its inverse by
   * (|c| / tau) 1_c 1_c^T / |c|^2 only, which every difference cancels. */
  double tau = 0;
  int valid = 0;
  for (int i = 0; i < n; i++)
    if (!isnan(rating[i])) {
      tau += h[(size_t)i * n + i];
      valid++;
    }
  tau = valid && tau > 0 ? tau / valid : 1;
  for (int i = 0; i < n; i++) {
    if (isnan(rating[i]))
      continue;
    for (int j = 0; j < n; j++)
      size[i] += !isnan(rating[j]) &&
                 (component ? component[j] == component[i] : 1);
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      if (isnan(rating[i]) || isnan(rating[j])) {
        if (i == j)
          h[(size_t)i * n + i] = 1; /* no battles: kept apart, unread */
        continue;
      }
      if (!component || component[i] == component[j])
        h[(size_t)i * n + j] += tau / size[i];
    }
  if (cholesky_factor(h, n))
    goto out;
  for (int k = 0; k < n; k++) {
    memset(e, 0, (size_t)n * sizeof *e);
    e[k] = 1;
    cholesky_solve(h, n, e, e);
    for (int i = 0; i < n; i++)
      cov[(size_t)i * n + k] = e[i];
  }
  for (int i = 0; i < n; i++) {
    score[(size_t)i * n + i] = 0;
    for (int j = i + 1; j < n; j++) {
      double s;
      if (isnan(rating[i]) || isnan(rating[j]))
        s = NAN;
      else if (component && component[i] != component[j])
        s = INFINITY;
      else {
        double v = cov[(size_t)i * n + i] + cov[(size_t)j * n + j] -
                   cov[(size_t)i * n + j] - cov[(size_t)j * n + i];
        double p = bt_win_probability(rating[i], rating[j]);
        s = pairing_active_score(v > 0 ? v : 0, p * (1 - p));
      }
      score[(size_t)i * n + j] = score[(size_t)j * n + i] = s;
    }
  }
  rc = 0;
out:
  free(h);
  free(cov);
  free(e);
  free(size);
  return rc;
}

void pairing_table_release(struct pairing_table *t) {
  free(t->cum);
  free(t->row);
  free(t->marginal);
  free(t->mass);
  memset(t, 0, sizeof *t);
}

int pairing_table_build(struct pairing_table *t, enum pairing_rule rule,
                        int n, const struct pairing_model *m,
                        const double *score, double floor) {
  memset(t, 0, sizeof *t);
  if (n < 2)
    return -1;
  size_t nn = (size_t)n * (size_t)n, np = (size_t)n * (size_t)(n - 1) / 2;
  double *w = malloc((size_t)n * sizeof *w);
  t->n = n;
  t->cum = malloc(np * sizeof *t->cum);
  t->row = malloc((size_t)n * sizeof *t->row);
  t->marginal = calloc((size_t)n, sizeof *t->marginal);
  t->mass = calloc(nn, sizeof *t->mass);
  if (!w || !t->cum || !t->row || !t->marginal || !t->mass)
    goto fail;
  for (int i = 0; i < n; i++) {
    w[i] = rule == PAIRING_UNIFORM ? 1 : pairing_weight(&m[i]);
    if (!(w[i] > 0) || !(w[i] < INFINITY))
      goto fail; /* the contract: weight > 0, boost >= 1 */
  }
  /* the weighted rule's mass w_i w_j, and its total */
  double zw = 0;
  for (int i = 0; i < n; i++)
    for (int j = i + 1; j < n; j++) {
      t->mass[(size_t)i * n + j] = w[i] * w[j];
      zw += w[i] * w[j];
    }
  double smax = 0;
  if (rule == PAIRING_ACTIVE && score)
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++) {
        double s = score[(size_t)i * n + j];
        if (s < INFINITY && s > smax)
          smax = s;
      }
  if (rule == PAIRING_ACTIVE && smax > 0) {
    /* (1 - floor) of equation (9)'s rule, times the weights; floor of the
     * weighted one */
    double za = 0;
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++) {
        double s = score[(size_t)i * n + j];
        za += w[i] * w[j] * (s < INFINITY ? s : smax);
      }
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++) {
        double s = score[(size_t)i * n + j];
        double a = w[i] * w[j] * (s < INFINITY ? s : smax);
        double *q = &t->mass[(size_t)i * n + j];
        *q = (1 - floor) * a / za + floor * *q / zw;
      }
  }
  size_t k = 0;
  double sum = 0;
  for (int i = 0; i < n; i++) {
    t->row[i] = k;
    for (int j = i + 1; j < n; j++) {
      double q = t->mass[(size_t)i * n + j];
      t->mass[(size_t)j * n + i] = q;
      t->marginal[i] += q;
      t->marginal[j] += q;
      sum += q;
      t->cum[k++] = sum;
    }
  }
  t->total = sum;
  free(w);
  return 0;
fail:
  free(w);
  pairing_table_release(t);
  return -1;
}

double pairing_table_prob(const struct pairing_table *t, int i, int j) {
  if (i == j || i < 0 || j < 0 || i >= t->n || j >= t->n || !(t->total > 0))
    return 0;
  return t->mass[(size_t)i * t->n + j] / t->total;
}

void pairing_draw(const struct pairing_table *t, struct pairing_rng *r,
                  int *a, int *b) {
  size_t np = (size_t)t->n * (size_t)(t->n - 1) / 2;
  double u = r->uniform(r->state) * t->total;
  /* the first pair whose cumulative mass passes u */
  size_t lo = 0, hi = np - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (t->cum[mid] > u)
      hi = mid;
    else
      lo = mid + 1;
  }
  /* its row: the last i with row[i] <= lo (rows n - 1 and up are empty) */
  int rlo = 0, rhi = t->n - 2;
  while (rlo < rhi) {
    int mid = rlo + (rhi - rlo + 1) / 2;
    if (t->row[mid] <= lo)
      rlo = mid;
    else
      rhi = mid - 1;
  }
  int i = rlo, j = i + 1 + (int)(lo - t->row[i]);
  if (r->uniform(r->state) < 0.5) {
    *a = i;
    *b = j;
  } else {
    *a = j;
    *b = i;
  }
}

int pairing_draw_one(const struct pairing_table *t, int partner,
                     const unsigned char *exclude, struct pairing_rng *r) {
  const double *q = partner >= 0 && partner < t->n
                        ? &t->mass[(size_t)partner * t->n]
                        : t->marginal;
  double sum = 0;
  for (int k = 0; k < t->n; k++)
    if (k != partner && !(exclude && exclude[k]))
      sum += q[k];
  if (!(sum > 0))
    return -1;
  double u = r->uniform(r->state) * sum;
  int last = -1;
  for (int k = 0; k < t->n; k++) {
    if (k == partner || (exclude && exclude[k]) || !(q[k] > 0))
      continue;
    last = k;
    if (u < q[k])
      return k;
    u -= q[k];
  }
  return last; /* rounding left u at the end */
}
