#include "rating/bt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rating/bootstrap.h"
#include "rating/cholesky.h"
#include "rating/newton.h"

#define MAX_NEWTON 200
#define TOL_THETA 1e-11

/* One fitting problem: counts per pair as doubles (a bootstrap sample or
 * the data itself), plus the workspace of a solver. */
struct problem {
  int n;
  size_t np;
  const struct bt_pair *pairs;
  double *wi, *wj, *t;    /* per pair */
  int *comp;              /* per model, -1 without battles */
  int *fixed;             /* per model: gauge-fixed (theta = 0 in the fit) */
  int *prior;             /* per model: gets the virtual tie */
  char *core;             /* per model: 1 in its component's main strongly
                             connected part (where the MLE exists); 2 in a
                             component without one (all get the prior);
                             0 otherwise */
  int *root;              /* per model: gauge-fixed member of its core */
  const char *mask;       /* when set, only pairs with both ends masked */
  const char *const *names; /* optional, for order-free tie-breaks */
  int any_prior;
  /* workspace */
  struct newton_space ns;
  int *adj_start, *adj;   /* CSR adjacency: pair indices per model */
  int *queue;
  char *seen;
};

static void problem_free(struct problem *p) {
  free(p->wi);
  free(p->wj);
  free(p->t);
  free(p->comp);
  free(p->fixed);
  free(p->prior);
  free(p->core);
  free(p->root);
  newton_space_release(&p->ns);
  free(p->adj_start);
  free(p->adj);
  free(p->queue);
  free(p->seen);
}

static int problem_init(struct problem *p, const struct bt_data *d) {
  memset(p, 0, sizeof *p);
  size_t n = (size_t)d->n, np = d->n_pairs;
  p->n = d->n;
  p->np = np;
  p->pairs = d->pairs;
  p->names = d->names;
  p->wi = calloc(np + 1, sizeof(double));
  p->wj = calloc(np + 1, sizeof(double));
  p->t = calloc(np + 1, sizeof(double));
  p->comp = calloc(n + 1, sizeof(int));
  p->fixed = calloc(n + 1, sizeof(int));
  p->prior = calloc(n + 1, sizeof(int));
  p->core = calloc(n + 1, 1);
  p->root = calloc(n + 1, sizeof(int));
  p->adj_start = calloc(n + 2, sizeof(int));
  p->adj = calloc(2 * np + 1, sizeof(int));
  p->queue = calloc(n + 1, sizeof(int));
  p->seen = calloc(n + 1, 1);
  if (!p->wi || !p->wj || !p->t || !p->comp || !p->fixed || !p->prior ||
      !p->core || !p->root || newton_space_init(&p->ns, n) ||
      !p->adj_start || !p->adj || !p->queue || !p->seen) {
    problem_free(p);
    return -1;
  }
  /* adjacency (fixed by the pairs, whatever the counts) */
  for (size_t k = 0; k < np; k++) {
    p->adj_start[d->pairs[k].i + 1]++;
    p->adj_start[d->pairs[k].j + 1]++;
  }
  for (size_t i = 0; i < n; i++)
    p->adj_start[i + 1] += p->adj_start[i];
  int *fill = calloc(n + 1, sizeof(int));
  if (!fill) {
    problem_free(p);
    return -1;
  }
  for (size_t k = 0; k < np; k++) {
    int i = d->pairs[k].i, j = d->pairs[k].j;
    p->adj[p->adj_start[i] + fill[i]++] = (int)k;
    p->adj[p->adj_start[j] + fill[j]++] = (int)k;
  }
  free(fill);
  return 0;
}

static void load_counts(struct problem *p) {
  for (size_t k = 0; k < p->np; k++) {
    p->wi[k] = (double)p->pairs[k].wins_i;
    p->wj[k] = (double)p->pairs[k].wins_j;
    p->t[k] = (double)p->pairs[k].ties;
  }
}

static double games(const struct problem *p, size_t k) {
  return p->wi[k] + p->wj[k] + p->t[k];
}

/* Does `from` have at least half a win over the other side of pair k? */
static int beats(const struct problem *p, size_t k, int from) {
  double half = 0.5 * p->t[k];
  return (from == p->pairs[k].i ? p->wi[k] : p->wj[k]) + half > 0;
}

static int other(const struct problem *p, size_t k, int v) {
  return p->pairs[k].i == v ? p->pairs[k].j : p->pairs[k].i;
}

/* Search from s through pairs with games; forward follows "s beats",
 * backward "beaten by"; only_games: plain connectivity. Marks seen[]. */
static int reach(struct problem *p, int s, int mode) {
  int head = 0, tail = 0, count = 1;
  p->queue[tail++] = s;
  p->seen[s] = 1;
  while (head < tail) {
    int v = p->queue[head++];
    for (int a = p->adj_start[v]; a < p->adj_start[v + 1]; a++) {
      size_t k = (size_t)p->adj[a];
      if (games(p, k) <= 0)
        continue;
      int u = other(p, k, v);
      if (p->seen[u])
        continue;
      if (mode == 1 && !beats(p, k, v))
        continue;
      if (mode == 2 && !beats(p, k, u))
        continue;
      p->seen[u] = 1;
      p->queue[tail++] = u;
      count++;
    }
  }
  return count;
}

/* Search forward from v, then backward, within the component in_comp:
 * fwd gets the models reached forward, p->seen those reached backward
 * (and those outside the component), so that the strongly connected part
 * holding v is where in_comp, fwd and p->seen all hold. */
static void reach_both(struct problem *p, int v, const char *in_comp,
                       char *fwd) {
  int n = p->n;
  for (int i = 0; i < n; i++)
    p->seen[i] = !in_comp[i];
  reach(p, v, 1);
  for (int i = 0; i < n; i++)
    fwd[i] = in_comp[i] && p->seen[i];
  for (int i = 0; i < n; i++)
    p->seen[i] = !in_comp[i];
  reach(p, v, 2);
}

/* Components, and each component's core: its largest strongly connected
 * part of the "won at least half a game against" graph, where the MLE
 * exists. Every other model of the component will be placed against the
 * core with a prior. */
static void analyse(struct problem *p) {
  int n = p->n;
  if (n <= 0)
    return;
  for (int i = 0; i < n; i++) {
    p->comp[i] = -1;
    p->core[i] = 0;
    p->root[i] = 0;
  }
  p->any_prior = 0;
  int next = 0;
  char *in_comp = calloc((size_t)n, 1), *fwd = calloc((size_t)n, 1),
       *done = calloc((size_t)n, 1);
  int *members = calloc((size_t)n, sizeof *members);
  if (!in_comp || !fwd || !done || !members)
    goto out;
  memset(p->seen, 0, (size_t)n);
  for (int s = 0; s < n; s++) {
    if (p->comp[s] >= 0 || p->seen[s])
      continue;
    int size = reach(p, s, 0);
    if (size < 2)
      continue; /* no battles: no rating */
    memcpy(members, p->queue, (size_t)size * sizeof *members);
    memset(in_comp, 0, (size_t)n);
    for (int m = 0; m < size; m++) {
      p->comp[members[m]] = next;
      in_comp[members[m]] = 1;
    }
    /* strongly connected parts: reach forward, then backward, from each
     * member not yet placed; keep the largest */
    memset(done, 0, (size_t)n);
    int best = -1, best_size = 0;
    double best_games = 0;
    int best_first = -1; /* the member whose name (or index) sorts first */
    for (int m = 0; m < size; m++) {
      int v = members[m];
      if (done[v])
        continue;
      reach_both(p, v, in_comp, fwd);
      int cnt = 0, first = -1;
      for (int i = 0; i < n; i++) {
        if (fwd[i] && in_comp[i] && p->seen[i]) {
          done[i] = 1;
          cnt++;
          if (first < 0 ||
              (p->names && strcmp(p->names[i], p->names[first]) < 0))
            first = i;
        }
      }
      double g = 0;
      for (size_t k = 0; k < p->np; k++) {
        int a = p->pairs[k].i, b = p->pairs[k].j;
        if (fwd[a] && p->seen[a] && fwd[b] && p->seen[b] && in_comp[a] &&
            in_comp[b])
          g += games(p, k);
      }
      int better = cnt > best_size;
      if (!better && cnt == best_size && cnt > 0) {
        if (g != best_games)
          better = g > best_games;
        else if (p->names)
          better = strcmp(p->names[first], p->names[best_first]) < 0;
      }
      if (better) {
        best_size = cnt;
        best = v;
        best_games = g;
        best_first = first;
      }
    }
    if (best_size < 2) {
      /* no two models of it can be placed by the data alone (say, two
       * models of which one always won): all get the prior, and the
       * component is centred on all of them */
      for (int m = 0; m < size; m++)
        p->core[members[m]] = 2;
      p->any_prior = 1;
    } else {
      reach_both(p, best, in_comp, fwd);
      for (int i = 0; i < n; i++)
        if (fwd[i] && in_comp[i] && p->seen[i])
          p->core[i] = 1;
      p->root[best] = 1;
      if (best_size < size)
        p->any_prior = 1;
    }
    /* mark the whole component as visited for the outer loop */
    for (int m = 0; m < size; m++)
      p->seen[members[m]] = 1;
    memset(p->seen, 0, (size_t)n);
    for (int i = 0; i < n; i++)
      if (p->comp[i] >= 0)
        p->seen[i] = 1;
    next++;
  }
out:
  free(in_comp);
  free(fwd);
  free(done);
  free(members);
}

static double log_sigmoid(double x) {
  return x >= 0 ? -log1p(exp(-x)) : x - log1p(exp(x));
}

static double sigmoid(double x) {
  if (x >= 0)
    return 1.0 / (1.0 + exp(-x));
  double e = exp(x);
  return e / (1.0 + e);
}

static double loglik(const struct problem *p, const double *th) {
  double ll = 0;
  for (size_t k = 0; k < p->np; k++) {
    double n = games(p, k);
    if (n <= 0 || (p->mask && !(p->mask[p->pairs[k].i] && p->mask[p->pairs[k].j])))
      continue;
    double d = th[p->pairs[k].i] - th[p->pairs[k].j];
    double wi = p->wi[k] + 0.5 * p->t[k], wj = p->wj[k] + 0.5 * p->t[k];
    ll += wi * log_sigmoid(d) + wj * log_sigmoid(-d);
  }
  for (int i = 0; i < p->n; i++)
    if (p->prior[i])
      ll += 0.5 * log_sigmoid(th[i]) + 0.5 * log_sigmoid(-th[i]);
  return ll;
}

/* Gradient of the log-likelihood (g) and, when H is not NULL, the
 * negated Hessian with gauge-fixed rows replaced by the identity. */
static void derivatives(const struct problem *p, const double *th, double *g,
                        double *H) {
  int n = p->n;
  memset(g, 0, (size_t)n * sizeof *g);
  if (H)
    memset(H, 0, (size_t)n * (size_t)n * sizeof *H);
  for (size_t k = 0; k < p->np; k++) {
    double N = games(p, k);
    int i = p->pairs[k].i, j = p->pairs[k].j;
    if (N <= 0 || (p->mask && !(p->mask[i] && p->mask[j])))
      continue;
    double pr = sigmoid(th[i] - th[j]);
    double r = p->wi[k] + 0.5 * p->t[k] - N * pr;
    g[i] += r;
    g[j] -= r;
    if (H) {
      double h = N * pr * (1.0 - pr);
      H[i * n + i] += h;
      H[j * n + j] += h;
      H[i * n + j] -= h;
      H[j * n + i] -= h;
    }
  }
  for (int i = 0; i < n; i++) {
    if (p->prior[i]) {
      double pr = sigmoid(th[i]);
      g[i] += 0.5 - pr;
      if (H)
        H[i * n + i] += pr * (1.0 - pr);
    }
  }
  for (int i = 0; i < n; i++) {
    if (!p->fixed[i])
      continue;
    g[i] = 0;
    if (H) {
      for (int k = 0; k < n; k++)
        H[i * n + k] = H[k * n + i] = 0;
      H[i * n + i] = 1;
    }
  }
}

static double max_abs(const double *x, int n) {
  double m = 0;
  for (int i = 0; i < n; i++)
    if (fabs(x[i]) > m)
      m = fabs(x[i]);
  return m;
}

/* Newton's method with step halving from p->ns.theta. 0 when converged. */
static int newton(struct problem *p) {
  int n = p->n;
  double ll = loglik(p, p->ns.theta);
  for (int it = 0; it < MAX_NEWTON; it++) {
    derivatives(p, p->ns.theta, p->ns.g, p->ns.H);
    if (cholesky_factor(p->ns.H, n))
      return -1;
    cholesky_solve(p->ns.H, n, p->ns.g, p->ns.step);
    double lambda = 1.0;
    double next_ll = ll;
    for (int half = 0; half < 60; half++) {
      for (int i = 0; i < n; i++)
        p->ns.trial[i] = p->ns.theta[i] + lambda * p->ns.step[i];
      next_ll = loglik(p, p->ns.trial);
      if (next_ll >= ll - 1e-12 * fabs(ll))
        break;
      lambda *= 0.5;
    }
    memcpy(p->ns.theta, p->ns.trial, (size_t)n * sizeof *p->ns.theta);
    ll = next_ll;
    if (max_abs(p->ns.step, n) * lambda < TOL_THETA)
      return 0;
  }
  return 0; /* close enough: the last steps were tiny or we ran out */
}

/* Chord iterations with a fixed factor L (of a nearby Hessian); fall back
 * to Newton when they do not converge. */
static int chord(struct problem *p, const double *L) {
  int n = p->n;
  for (int it = 0; it < 60; it++) {
    derivatives(p, p->ns.theta, p->ns.g, NULL);
    cholesky_solve(L, n, p->ns.g, p->ns.step);
    for (int i = 0; i < n; i++)
      p->ns.theta[i] += p->ns.step[i];
    double m = max_abs(p->ns.step, n);
    if (!isfinite(m))
      break;
    if (m < 1e-9)
      return 0;
  }
  for (int i = 0; i < n; i++)
    if (!isfinite(p->ns.theta[i]))
      p->ns.theta[i] = 0;
  return newton(p);
}

/* Fit the current counts, in two stages: each component's core by exact
 * maximum likelihood on the battles among its members; then, when there
 * are models outside the cores, those with the core held fixed, each with
 * one virtual tie against the core's centre (theta 0). */
static void solve(struct problem *p) {
  int n = p->n;
  char *strong = p->seen; /* scratch: the cores fitted by the data alone */
  for (int i = 0; i < n; i++) {
    strong[i] = p->core[i] == 1;
    p->prior[i] = 0;
    p->fixed[i] = !strong[i] || p->root[i];
    if (p->fixed[i])
      p->ns.theta[i] = 0;
  }
  p->mask = strong;
  newton(p);
  p->mask = NULL;
  /* centre each core at 0 */
  for (int i = 0; i < n; i++) {
    if (!p->root[i])
      continue;
    double sum = 0;
    int cnt = 0;
    for (int k = 0; k < n; k++)
      if (p->core[k] == 1 && p->comp[k] == p->comp[i]) {
        sum += p->ns.theta[k];
        cnt++;
      }
    for (int k = 0; k < n; k++)
      if (p->core[k] == 1 && p->comp[k] == p->comp[i])
        p->ns.theta[k] -= sum / cnt;
  }
  if (!p->any_prior)
    return;
  for (int i = 0; i < n; i++) {
    p->fixed[i] = p->core[i] == 1 || p->comp[i] < 0;
    p->prior[i] = !p->fixed[i];
  }
  newton(p);
  for (int i = 0; i < n; i++)
    p->prior[i] = 0;
}

/* Centre theta in place: each component at a mean of 0 over all its
 * members. */
static void centre(int n, double *theta, const int *comp) {
  for (int c = 0;; c++) {
    double sum = 0;
    int cnt = 0;
    for (int i = 0; i < n; i++)
      if (comp[i] == c) {
        sum += theta[i];
        cnt++;
      }
    if (!cnt)
      break;
    for (int i = 0; i < n; i++)
      if (comp[i] == c)
        theta[i] -= sum / cnt;
  }
}

/* Ratings from theta. With ref (the full data's centred fit), a bootstrap
 * replicate is aligned on it: each component of comp is shifted so that
 * its members present in the replicate (comp_now >= 0) have the same mean
 * as in ref, and absent members get NaN (no sample). Without ref, theta
 * is centred. */
static void to_ratings(int n, double *theta, const int *comp,
                       const int *comp_now, const double *ref,
                       double *rating) {
  if (!ref) {
    centre(n, theta, comp);
  } else {
    for (int c = 0;; c++) {
      double sum = 0;
      int cnt = 0, any = 0;
      for (int i = 0; i < n; i++) {
        if (comp[i] != c)
          continue;
        any = 1;
        if (comp_now[i] >= 0) {
          sum += theta[i] - ref[i];
          cnt++;
        }
      }
      if (!any)
        break;
      for (int i = 0; i < n; i++)
        if (comp[i] == c)
          theta[i] -= cnt ? sum / cnt : 0;
    }
  }
  for (int i = 0; i < n; i++)
    rating[i] = comp[i] >= 0 && (!comp_now || comp_now[i] >= 0)
                    ? 1000.0 + BT_SCALE * theta[i]
                    : NAN;
}

int bt_fit(const struct bt_data *d, double *rating, int *component,
           int *prior_used) {
  struct problem p;
  if (problem_init(&p, d))
    return -1;
  load_counts(&p);
  analyse(&p);
  solve(&p);
  to_ratings(d->n, p.ns.theta, p.comp, NULL, NULL, rating);
  if (component)
    memcpy(component, p.comp, (size_t)d->n * sizeof *component);
  if (prior_used)
    *prior_used = p.any_prior;
  problem_free(&p);
  return 0;
}

double bt_win_probability(double rating_i, double rating_j) {
  return sigmoid((rating_i - rating_j) / BT_SCALE);
}

/* ---- bootstrap ---- */

struct boot {
  const struct bt_data *d;
  struct bootstrap_rounds rounds;
  uint64_t seed;
  const double *theta_hat;  /* the full-data fit */
  const int *comp_hat;      /* its components */
  const char *core_hat;     /* its cores */
  const int *root_hat;      /* its gauge roots */
  const double *L_hat;      /* factor of its Hessian, NULL if unusable */
  double *samples;          /* rounds x n ratings */
  long total;               /* battles */
};

static void resample(struct problem *p, struct rng *r, long total) {
  /* multinomial over the 3 * np cells by conditional binomials */
  long left = total;
  double mass = (double)total;
  for (size_t k = 0; k < p->np; k++) {
    long c[3] = {p->pairs[k].wins_i, p->pairs[k].wins_j, p->pairs[k].ties};
    double *dst[3] = {&p->wi[k], &p->wj[k], &p->t[k]};
    for (int x = 0; x < 3; x++) {
      long draw = 0;
      if (c[x] > 0 && left > 0) {
        double prob = (double)c[x] / mass;
        draw = prob >= 1.0 ? left : rng_binomial(r, left, prob);
      }
      *dst[x] = (double)draw;
      left -= draw;
      mass -= (double)c[x];
    }
  }
}

static void *boot_worker(void *arg) {
  struct boot *b = arg;
  const struct bt_data *d = b->d;
  struct problem p;
  if (problem_init(&p, d)) {
    bootstrap_rounds_fail(&b->rounds);
    return NULL;
  }
  int round;
  while ((round = bootstrap_rounds_claim(&b->rounds)) >= 0) {
    struct rng r;
    bootstrap_rng(&r, b->seed, round);
    resample(&p, &r, b->total);
    analyse(&p);
    /* the fast path: the same structure as the full data, every model in
     * its core; then chord steps from the full fit converge in a few */
    int same = !p.any_prior;
    for (int i = 0; same && i < d->n; i++)
      same = p.comp[i] == b->comp_hat[i] && p.root[i] == b->root_hat[i];
    if (b->L_hat && same) {
      memcpy(p.ns.theta, b->theta_hat, (size_t)d->n * sizeof *p.ns.theta);
      for (int i = 0; i < d->n; i++) {
        p.prior[i] = 0;
        p.fixed[i] = p.root[i] || p.comp[i] < 0;
      }
      p.mask = NULL;
      chord(&p, b->L_hat);
    } else {
      solve(&p);
    }
    /* align on the full fit, so that replicates compare */
    to_ratings(d->n, p.ns.theta, b->comp_hat, p.comp, b->theta_hat,
               b->samples + (size_t)round * d->n);
  }
  problem_free(&p);
  return NULL;
}

int bt_bootstrap(const struct bt_data *d, int rounds, uint64_t seed,
                 int threads, double *ci_low, double *ci_high) {
  int n = d->n, rc = -1;
  struct problem p;
  struct boot b = {0};
  double *col = NULL;
  if (problem_init(&p, d))
    return -1;
  load_counts(&p);
  analyse(&p);
  solve(&p);
  centre(n, p.ns.theta, p.comp);
  b.d = d;
  b.seed = seed;
  b.theta_hat = p.ns.theta;
  b.comp_hat = p.comp;
  b.core_hat = p.core;
  b.root_hat = p.root;
  for (size_t k = 0; k < d->n_pairs; k++)
    b.total += d->pairs[k].wins_i + d->pairs[k].wins_j + d->pairs[k].ties;
  /* the Hessian at the fit, factored once for the chord iterations */
  if (!p.any_prior) {
    for (int i = 0; i < n; i++) {
      p.prior[i] = 0;
      p.fixed[i] = p.root[i] || p.comp[i] < 0;
    }
    p.mask = NULL;
    derivatives(&p, p.ns.theta, p.ns.g, p.ns.H);
    if (cholesky_factor(p.ns.H, n) == 0)
      b.L_hat = p.ns.H;
  }
  b.samples = malloc((size_t)(rounds > 0 ? rounds : 1) * (size_t)(n ? n : 1) *
                     sizeof(double));
  col = malloc((size_t)(rounds > 0 ? rounds : 1) * sizeof(double));
  if (!b.samples || !col)
    goto out;
  bootstrap_rounds_init(&b.rounds, rounds);
  bootstrap_run(boot_worker, &b, threads);
  int failed = bootstrap_rounds_failed(&b.rounds);
  bootstrap_rounds_release(&b.rounds);
  if (failed)
    goto out;
  for (int i = 0; i < n; i++) {
    if (p.comp[i] < 0)
      ci_low[i] = ci_high[i] = NAN;
    else /* over the replicates in which the model had battles */
      bootstrap_interval(b.samples, rounds, n, i, col, &ci_low[i],
                         &ci_high[i]);
  }
  rc = 0;
out:
  free(col);
  free(b.samples);
  problem_free(&p);
  return rc;
}

void bt_rank_ub(int n, const double *ci_low, const double *ci_high,
                const int *component, int *rank_ub) {
  for (int i = 0; i < n; i++) {
    if (isnan(ci_high[i])) {
      rank_ub[i] = 0;
      continue;
    }
    int r = 1;
    for (int j = 0; j < n; j++)
      if (j != i && !isnan(ci_low[j]) && ci_low[j] > ci_high[i] &&
          (!component || component[j] == component[i]))
        r++;
    rank_ub[i] = r;
  }
}
