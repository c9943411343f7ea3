#include "rating/style.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rating/bootstrap.h"
#include "rating/cholesky.h"
#include "rating/newton.h"

const char *const style_feature_names[STYLE_FEATURES] = {"length", "headers",
                                                         "lists", "bold"};

#define NF STYLE_FEATURES
#define LN10 2.302585092994045684
#define REG 0.5          /* FastChat's reg: the gradient of the L2 term */
#define TOL 1e-10        /* on the gradient's Euclidean norm */
#define MAX_NEWTON 100
#define MAX_CHORD 40

static int valid(const struct style_data *d) {
  if (d->n < 0 || (d->count && !d->battles))
    return 0;
  for (size_t k = 0; k < d->count; k++) {
    const struct style_battle *b = &d->battles[k];
    if (b->a < 0 || b->a >= d->n || b->b < 0 || b->b >= d->n || b->a == b->b ||
        !(b->outcome >= 0.0 && b->outcome <= 1.0))
      return 0;
    for (int f = 0; f < NF; f++)
      if (!(b->count_a[f] >= 0.0 && b->count_a[f] < INFINITY &&
            b->count_b[f] >= 0.0 && b->count_b[f] < INFINITY))
        return 0;
  }
  return 1;
}

static double ratio(const struct style_battle *b, int f) {
  return (b->count_a[f] - b->count_b[f]) / (b->count_a[f] + b->count_b[f] + 1.0);
}

int style_features(const struct style_data *d, double *x, double *mean,
                   double *std) {
  if (!valid(d))
    return -1;
  size_t n = d->count;
  for (int f = 0; f < NF; f++) {
    double sum = 0, lo = INFINITY, hi = -INFINITY;
    for (size_t k = 0; k < n; k++) {
      double v = ratio(&d->battles[k], f);
      sum += v;
      lo = v < lo ? v : lo;
      hi = v > hi ? v : hi;
    }
    double m = n ? sum / (double)n : 0.0, ss = 0;
    for (size_t k = 0; k < n; k++) {
      double v = ratio(&d->battles[k], f) - m;
      ss += v * v;
    }
    /* all equal: np.std would be 0 (or a rounding error), the feature 0 */
    double s = n && hi > lo ? sqrt(ss / (double)n) : 0.0;
    for (size_t k = 0; k < n; k++)
      x[k * NF + f] = s > 0 ? (ratio(&d->battles[k], f) - m) / s : 0.0;
    if (mean)
      mean[f] = m;
    if (std)
      std[f] = s;
  }
  return 0;
}

/* ---- the objective ---- */

/* One problem: the battles, their features and weights (NULL: 1 each),
 * and the work space of a fit. Parameters are r[0..n-1], beta[0..3]. */
struct problem {
  int n, P;
  const struct style_battle *b;
  size_t count;
  const double *x;
  const uint32_t *w;
  struct newton_space ns;
  double *g_trial, *H_trial; /* at ns.trial: swapped with ns.g and ns.H
                                when the trial is taken */
};

static void problem_free(struct problem *p) {
  newton_space_release(&p->ns);
  free(p->g_trial);
  free(p->H_trial);
  memset(p, 0, sizeof *p);
}

static int problem_init(struct problem *p, const struct style_data *d,
                        const double *x) {
  memset(p, 0, sizeof *p);
  p->n = d->n;
  p->P = d->n + NF;
  p->b = d->battles;
  p->count = d->count;
  p->x = x;
  size_t P = (size_t)p->P;
  p->g_trial = calloc(P, sizeof(double));
  p->H_trial = calloc(P * P, sizeof(double));
  if (newton_space_init(&p->ns, P) || !p->g_trial || !p->H_trial) {
    problem_free(p);
    return -1;
  }
  return 0;
}

/* The objective at th (when want_f; else 0); its gradient into g; when H
 * is not NULL, its Hessian into H (P x P, both triangles). */
static double evaluate_f(const struct problem *p, const double *th, double *g,
                         double *H, int want_f) {
  int n = p->n, P = p->P;
  const double *beta = th + n;
  double f = 0;
  memset(g, 0, (size_t)P * sizeof *g);
  if (H)
    memset(H, 0, (size_t)P * (size_t)P * sizeof *H);
  for (size_t k = 0; k < p->count; k++) {
    double w = p->w ? (double)p->w[k] : 1.0;
    if (w == 0)
      continue;
    const struct style_battle *bt = &p->b[k];
    const double *x = p->x + k * NF;
    int a = bt->a, b = bt->b;
    double z = LN10 * (th[a] - th[b]) + x[0] * beta[0] + x[1] * beta[1] +
               x[2] * beta[2] + x[3] * beta[3];
    /* softplus(z) - y z, and p = sigmoid(z), from one exp */
    double e = exp(-fabs(z));
    double pr = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    double y = bt->outcome;
    if (want_f)
      f += w * ((z > 0 ? z : 0.0) + log1p(e) - y * z);
    double r = w * (pr - y);
    g[a] += LN10 * r;
    g[b] -= LN10 * r;
    for (int i = 0; i < NF; i++)
      g[n + i] += x[i] * r;
    if (H) {
      double h = w * pr * (1.0 - pr), hl = LN10 * h, hll = LN10 * hl;
      int hi = a > b ? a : b, lo = a > b ? b : a;
      H[(size_t)a * P + a] += hll;
      H[(size_t)b * P + b] += hll;
      H[(size_t)hi * P + lo] -= hll;
      for (int i = 0; i < NF; i++) {
        double *row = H + (size_t)(n + i) * P;
        row[a] += hl * x[i];
        row[b] -= hl * x[i];
        for (int j = 0; j <= i; j++)
          row[n + j] += h * x[i] * x[j];
      }
    }
  }
  double sq = 0;
  for (int i = 0; i < P; i++) {
    sq += th[i] * th[i];
    g[i] += REG * th[i];
  }
  f += 0.5 * REG * sq;
  if (H) {
    for (int i = 0; i < P; i++) {
      H[(size_t)i * P + i] += REG;
      for (int j = 0; j < i; j++)
        H[(size_t)j * P + i] = H[(size_t)i * P + j];
    }
  }
  return f;
}

static double evaluate(const struct problem *p, const double *th, double *g,
                       double *H) {
  return evaluate_f(p, th, g, H, 1);
}

static double norm(const double *v, int n) {
  double s = 0;
  for (int i = 0; i < n; i++)
    s += v[i] * v[i];
  return sqrt(s);
}

/* x = -(L L^T)^-1 b with the factor from cholesky_factor() (the Hessian
 * is symmetric positive definite here: the L2 term adds 0.5 I to a sum of
 * positive semi-definite terms). */
static void solve_neg(const double *L, int P, const double *b, double *x) {
  for (int i = 0; i < P; i++)
    x[i] = -b[i];
  cholesky_solve(L, P, x, x);
}

static void swap_ptr(double **x, double **y) {
  double *t = *x;
  *x = *y;
  *y = t;
}

/* Newton's method with step halving from p->ns.theta. When factor is not
 * NULL, it gets the Cholesky factor of the Hessian at the result. Returns
 * the number of steps, or -1 when a factorisation failed. */
static int newton(struct problem *p, double *factor, double *gnorm) {
  int P = p->P, it = 0;
  double f = evaluate(p, p->ns.theta, p->ns.g, p->ns.H);
  double gn = norm(p->ns.g, P);
  for (; it < MAX_NEWTON && gn > TOL; it++) {
    if (cholesky_factor(p->ns.H, P))
      return -1;
    solve_neg(p->ns.H, P, p->ns.g, p->ns.step);
    double slope = 0;
    for (int i = 0; i < P; i++)
      slope += p->ns.g[i] * p->ns.step[i];
    double t = 1.0, ft = f;
    int accepted = 0;
    for (int half = 0; half < 60 && !accepted; half++, t *= 0.5) {
      for (int i = 0; i < P; i++)
        p->ns.trial[i] = p->ns.theta[i] + t * p->ns.step[i];
      ft = evaluate(p, p->ns.trial, p->g_trial, p->H_trial);
      /* Armijo; near the minimum f no longer resolves the decrease, and a
       * smaller gradient is progress enough */
      accepted = ft <= f + 1e-4 * t * slope ||
                 (ft <= f + 1e-13 * fabs(f) && norm(p->g_trial, P) < gn);
    }
    if (!accepted)
      break; /* at the limit of double precision */
    swap_ptr(&p->ns.theta, &p->ns.trial);
    swap_ptr(&p->ns.g, &p->g_trial);
    swap_ptr(&p->ns.H, &p->H_trial);
    f = ft;
    gn = norm(p->ns.g, P);
  }
  if (factor) {
    evaluate(p, p->ns.theta, p->ns.g, factor);
    if (cholesky_factor(factor, P))
      return -1;
  }
  *gnorm = gn;
  return it;
}

/* Chord steps from p->ns.theta with the fixed factor L of a nearby Hessian:
 * one pass over the battles each, no Hessian. 0 when the gradient got
 * below TOL; -1 when it stopped shrinking fast (then Newton takes over). */
static int chord(struct problem *p, const double *L, double *gnorm) {
  int P = p->P;
  double prev = INFINITY;
  for (int it = 0; it < MAX_CHORD; it++) {
    evaluate_f(p, p->ns.theta, p->ns.g, NULL, 0);
    double gn = norm(p->ns.g, P);
    *gnorm = gn;
    if (gn <= TOL)
      return 0;
    if (!(gn < 0.5 * prev))
      return -1;
    prev = gn;
    solve_neg(L, P, p->ns.g, p->ns.step);
    for (int i = 0; i < P; i++)
      p->ns.theta[i] += p->ns.step[i];
  }
  return -1;
}

/* Connected groups of the battles with weight (w NULL: all): comp[n]. */
static int components(const struct style_data *d, const uint32_t *w,
                      int *comp) {
  int n = d->n;
  int *parent = malloc((size_t)(n ? n : 1) * sizeof *parent);
  if (!parent)
    return -1;
  for (int i = 0; i < n; i++) {
    parent[i] = i;
    comp[i] = -1;
  }
  for (size_t k = 0; k < d->count; k++) {
    if (w && !w[k])
      continue;
    int a = d->battles[k].a, b = d->battles[k].b;
    comp[a] = comp[b] = 0; /* has battles */
    while (parent[a] != a)
      a = parent[a] = parent[parent[a]];
    while (parent[b] != b)
      b = parent[b] = parent[parent[b]];
    if (a != b)
      parent[a > b ? a : b] = a > b ? b : a;
  }
  int groups = 0;
  for (int i = 0; i < n; i++) {
    if (comp[i] < 0)
      continue;
    int r = i;
    while (parent[r] != r)
      r = parent[r];
    /* the root is the group's smallest index, so it was numbered first */
    comp[i] = r == i ? groups++ : comp[r];
  }
  free(parent);
  return 0;
}

int style_fit(const struct style_data *d, double *rating, int *component,
              struct style_result *res) {
  int rc = -1, n = d->n;
  struct problem p = {0};
  double *x = malloc((d->count ? d->count : 1) * NF * sizeof *x);
  int *comp = malloc((size_t)(n ? n : 1) * sizeof *comp);
  struct style_result r = {0};
  if (!x || !comp || style_features(d, x, r.mean, r.std) ||
      components(d, NULL, comp) || problem_init(&p, d, x))
    goto out;
  r.iterations = newton(&p, NULL, &r.gradient_norm);
  if (r.iterations < 0)
    goto out;
  for (int i = 0; i < n; i++) {
    rating[i] = comp[i] < 0 ? NAN : STYLE_INIT + STYLE_SCALE * p.ns.theta[i];
    if (component)
      component[i] = comp[i];
  }
  memcpy(r.beta, p.ns.theta + n, sizeof r.beta);
  if (res)
    *res = r;
  rc = 0;
out:
  problem_free(&p);
  free(comp);
  free(x);
  return rc;
}

/* ---- bootstrap ---- */

struct boot {
  const struct style_data *d;
  struct bootstrap_rounds rounds;
  const double *x;           /* features of the full data */
  const double *theta_hat;   /* the full fit */
  const double *L_hat;       /* the factor of its Hessian */
  const int *comp_hat;
  uint64_t seed;
  double *samples;           /* rounds x P: ratings (NaN absent), betas */
};

static void *boot_worker(void *arg) {
  struct boot *bs = arg;
  const struct style_data *d = bs->d;
  int n = d->n, P = n + NF;
  struct problem p;
  uint32_t *w = malloc((d->count ? d->count : 1) * sizeof *w);
  char *present = malloc((size_t)(n ? n : 1));
  int ok = w && present && problem_init(&p, d, bs->x) == 0;
  if (!ok) {
    bootstrap_rounds_fail(&bs->rounds);
    goto out;
  }
  p.w = w;
  int round;
  while ((round = bootstrap_rounds_claim(&bs->rounds)) >= 0) {
    struct rng r;
    bootstrap_rng(&r, bs->seed, round);
    memset(w, 0, d->count * sizeof *w);
    for (size_t k = 0; k < d->count; k++)
      w[rng_u64(&r) % d->count]++;
    memset(present, 0, (size_t)n);
    for (size_t k = 0; k < d->count; k++)
      if (w[k])
        present[d->battles[k].a] = present[d->battles[k].b] = 1;
    int all = 1;
    for (int i = 0; i < n && all; i++)
      all = present[i] || bs->comp_hat[i] < 0;
    memcpy(p.ns.theta, bs->theta_hat, (size_t)P * sizeof *p.ns.theta);
    double gn;
    /* a model missing from the round moves far from the full fit, where
     * the full fit's Hessian is a poor guide: Newton at once */
    if (!all || chord(&p, bs->L_hat, &gn)) {
      memcpy(p.ns.theta, bs->theta_hat, (size_t)P * sizeof *p.ns.theta);
      if (newton(&p, NULL, &gn) < 0) {
        bootstrap_rounds_fail(&bs->rounds);
        break;
      }
    }
    double *out = bs->samples + (size_t)round * P;
    for (int i = 0; i < n; i++)
      out[i] = present[i] ? STYLE_INIT + STYLE_SCALE * p.ns.theta[i] : NAN;
    memcpy(out + n, p.ns.theta + n, NF * sizeof *out);
  }
  problem_free(&p);
out:
  free(present);
  free(w);
  return NULL;
}

int style_bootstrap(const struct style_data *d, int rounds, uint64_t seed,
                    int threads, double *ci_low, double *ci_high,
                    double *beta_low, double *beta_high) {
  int rc = -1, n = d->n, P = n + NF, rounds_ready = 0;
  struct problem p = {0};
  struct boot bs = {0};
  double *x = malloc((d->count ? d->count : 1) * NF * sizeof *x);
  double *L = malloc((size_t)P * (size_t)P * sizeof *L);
  int *comp = malloc((size_t)(n ? n : 1) * sizeof *comp);
  double *col = malloc((size_t)(rounds > 0 ? rounds : 1) * sizeof *col);
  double gn;
  if (rounds < 0 || !x || !L || !comp || !col ||
      style_features(d, x, NULL, NULL) || components(d, NULL, comp) ||
      problem_init(&p, d, x) || newton(&p, L, &gn) < 0)
    goto out;
  bs.d = d;
  bs.x = x;
  bs.theta_hat = p.ns.theta;
  bs.L_hat = L;
  bs.comp_hat = comp;
  bs.seed = seed;
  bs.samples = malloc((size_t)(rounds > 0 ? rounds : 1) * (size_t)P *
                      sizeof *bs.samples);
  if (!bs.samples)
    goto out;
  bootstrap_rounds_init(&bs.rounds, rounds);
  rounds_ready = 1;
  /* no more threads than rounds */
  bootstrap_run(boot_worker, &bs, threads < rounds ? threads : rounds);
  if (bootstrap_rounds_failed(&bs.rounds))
    goto out;
  for (int i = 0; i < n; i++) {
    if (comp[i] < 0)
      ci_low[i] = ci_high[i] = NAN;
    else
      bootstrap_interval(bs.samples, rounds, P, i, col, &ci_low[i],
                         &ci_high[i]);
  }
  for (int f = 0; f < NF; f++) {
    double lo, hi;
    bootstrap_interval(bs.samples, rounds, P, n + f, col, &lo, &hi);
    if (beta_low)
      beta_low[f] = lo;
    if (beta_high)
      beta_high[f] = hi;
  }
  rc = 0;
out:
  if (rounds_ready)
    bootstrap_rounds_release(&bs.rounds);
  free(bs.samples);
  problem_free(&p);
  free(col);
  free(comp);
  free(L);
  free(x);
  return rc;
}
