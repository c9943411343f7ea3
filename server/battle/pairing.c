/* The arena's pairing: the rules of rating/pairing.h over the enabled
 * models, from memory (battle/pairing.h). */
#include "battle/pairing.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "battle/arena_impl.h"
#include "util/clock.h"
#include "util/log.h"

#define MAX_PAIRED 512 /* enabled models a draw considers, as before */

/* Kernel randomness as a uniform [0, 1) double (53 bits). */
static double kernel_uniform(void *state) {
  (void)state;
  uint64_t x = 0;
  if (getrandom(&x, sizeof x, 0) != sizeof x)
    x = (uint64_t)mono_ms() * 6364136223846793005ull;
  return (double)(x >> 11) * 0x1.0p-53;
}

void pairing_cache_init(struct pairing_cache *c) {
  memset(c, 0, sizeof *c);
  pthread_mutex_init(&c->lock, NULL);
}

static void cache_clear(struct pairing_cache *c) {
  pairing_table_release(&c->table);
  free(c->models);
  free(c->boosted);
  c->models = NULL;
  c->boosted = NULL;
  c->built = 0;
  c->n = 0;
}

void pairing_cache_release(struct pairing_cache *c) {
  cache_clear(c);
  pthread_mutex_destroy(&c->lock);
}

static enum pairing_rule rule_of(enum config_pairing p) {
  switch (p) {
  case CONFIG_PAIRING_UNIFORM:
    return PAIRING_UNIFORM;
  case CONFIG_PAIRING_ACTIVE:
    return PAIRING_ACTIVE;
  case CONFIG_PAIRING_WEIGHTED:
    break;
  }
  return PAIRING_WEIGHTED;
}

/* What a table is built from, gathered outside the cache's lock. */
struct pairing_input {
  size_t models[MAX_PAIRED];
  struct pairing_model m[MAX_PAIRED];
  unsigned char boosted[MAX_PAIRED];
  int n;
};

/* The enabled models, their weights and counted battles (the live Elo
 * table's rows, under its lock: memory only). */
static void gather(struct arena *a, const struct config *cfg,
                   struct pairing_input *in) {
  in->n = 0;
  for (size_t i = 0; i < cfg->n_models && in->n < MAX_PAIRED; i++) {
    const struct model_config *mc = &cfg->models[i];
    if (!mc->enabled)
      continue;
    /* a model built without the loader's defaults draws as weight 1 */
    in->m[in->n] = (struct pairing_model){
        .weight = mc->weight > 0 ? mc->weight : 1,
        .boost = mc->boost >= 1 ? mc->boost : 1,
        .boost_until = mc->boost_until};
    in->models[in->n++] = i;
  }
  if (cfg->pairing == CONFIG_PAIRING_UNIFORM)
    return;
  pthread_mutex_lock(&a->live.lock);
  for (int k = 0; k < in->n; k++) {
    if (in->m[k].boost == 1)
      continue;
    const struct rating_row *r =
        rating_table_find(&a->live.elo, cfg->models[in->models[k]].name);
    in->m[k].battles = r ? r->battles : 0;
  }
  pthread_mutex_unlock(&a->live.lock);
  for (int k = 0; k < in->n; k++)
    in->boosted[k] = in->m[k].boost > 1 &&
                     in->m[k].battles < in->m[k].boost_until;
}

/* Whether c's table was built from in, cfg and fit. */
static int cache_holds(const struct pairing_cache *c, const struct config *cfg,
                       const struct pairing_input *in, long fit) {
  return c->built && c->generation == cfg->generation &&
         c->rule == cfg->pairing && c->fit == fit && c->n == in->n &&
         !memcmp(c->models, in->models, (size_t)in->n * sizeof *in->models) &&
         !memcmp(c->boosted, in->boosted, (size_t)in->n);
}

/* The active scores of in's models from the snapshot (NaN for a model it
 * does not hold), into a new n * n matrix; NULL without scores. */
static double *scores_of(const struct bt_snapshot *s, const struct config *cfg,
                         const struct pairing_input *in) {
  if (!s || !s->active)
    return NULL;
  size_t n = (size_t)in->n;
  double *score = malloc(n * n * sizeof *score);
  int *at = malloc(n * sizeof *at);
  if (!score || !at) {
    free(score);
    free(at);
    return NULL;
  }
  for (size_t k = 0; k < n; k++)
    at[k] = bt_snapshot_find(s, cfg->models[in->models[k]].name);
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++)
      score[i * n + j] =
          i == j ? 0
          : at[i] < 0 || at[j] < 0
              ? NAN
              : s->active[(size_t)at[i] * (size_t)s->n + (size_t)at[j]];
  free(at);
  return score;
}

/* Rebuild c's table from in (caller holds c->lock). 0 or -1. */
static int cache_build(struct pairing_cache *c, const struct config *cfg,
                       const struct pairing_input *in,
                       const struct bt_snapshot *snap) {
  cache_clear(c);
  size_t n = (size_t)in->n;
  double *score = cfg->pairing == CONFIG_PAIRING_ACTIVE
                      ? scores_of(snap, cfg, in)
                      : NULL;
  c->models = malloc(n * sizeof *c->models);
  c->boosted = malloc(n);
  if (!c->models || !c->boosted ||
      pairing_table_build(&c->table, rule_of(cfg->pairing), in->n, in->m,
                          score, PAIRING_FLOOR)) {
    free(score);
    cache_clear(c);
    return -1;
  }
  free(score);
  memcpy(c->models, in->models, n * sizeof *c->models);
  memcpy(c->boosted, in->boosted, n);
  c->n = in->n;
  c->generation = cfg->generation;
  c->rule = cfg->pairing;
  c->fit = snap && cfg->pairing == CONFIG_PAIRING_ACTIVE ? snap->fit : 0;
  c->built = 1;
  return 0;
}

/* Make sure the cache's table is the one of in (gathered): 0 with
 * c->lock held for the caller to draw and unlock, or -1. */
static int cache_ready(struct arena *a, const struct config *cfg,
                       struct pairing_input *in) {
  if (in->n < 2)
    return -1;
  struct bt_snapshot *snap = cfg->pairing == CONFIG_PAIRING_ACTIVE
                                 ? rating_worker_snapshot(&a->bt)
                                 : NULL;
  long fit = snap ? snap->fit : 0;
  struct pairing_cache *c = &a->pairing;
  pthread_mutex_lock(&c->lock);
  int rc = 0;
  if (!cache_holds(c, cfg, in, fit) && cache_build(c, cfg, in, snap)) {
    log_error("msg=\"cannot build the pairing table\" models=%d", in->n);
    pthread_mutex_unlock(&c->lock);
    rc = -1;
  }
  bt_snapshot_unref(snap);
  return rc;
}

int arena_pairing_draw(struct arena *a, const struct config *cfg,
                       size_t *model_a, size_t *model_b) {
  struct pairing_input *in = malloc(sizeof *in);
  struct pairing_rng r = {kernel_uniform, NULL};
  int rc = -1;
  if (!in)
    goto fallback;
  gather(a, cfg, in);
  if (cache_ready(a, cfg, in)) {
    if (in->n < 2)
      goto out;
    goto fallback;
  }
  int i = 0, j = 1;
  pairing_draw(&a->pairing.table, &r, &i, &j);
  *model_a = a->pairing.models[i];
  *model_b = a->pairing.models[j];
  pthread_mutex_unlock(&a->pairing.lock);
  rc = 0;
  goto out;
fallback:
  /* out of memory: two distinct enabled models, uniformly */
  {
    size_t en[MAX_PAIRED], n = 0;
    for (size_t k = 0; k < cfg->n_models && n < MAX_PAIRED; k++)
      if (cfg->models[k].enabled)
        en[n++] = k;
    if (n >= 2) {
      size_t x = (size_t)(kernel_uniform(NULL) * (double)n);
      size_t y = (size_t)(kernel_uniform(NULL) * (double)(n - 1));
      x = x < n ? x : n - 1;
      y = y < n - 1 ? y : n - 2;
      if (y >= x)
        y++;
      *model_a = en[x];
      *model_b = en[y];
      rc = 0;
    }
  }
out:
  free(in);
  return rc;
}

long arena_pairing_draw_one(struct arena *a, const struct config *cfg,
                            const char *partner, const char *const *exclude,
                            size_t n_exclude) {
  struct pairing_input *in = malloc(sizeof *in);
  struct pairing_rng r = {kernel_uniform, NULL};
  long found = -1;
  if (!in)
    return -1;
  gather(a, cfg, in);
  unsigned char ex[MAX_PAIRED] = {0};
  int left = 0, p = -1;
  for (int k = 0; k < in->n; k++) {
    const char *name = cfg->models[in->models[k]].name;
    for (size_t e = 0; e < n_exclude; e++)
      if (exclude[e] && !strcmp(exclude[e], name))
        ex[k] = 1;
    if (partner && !strcmp(partner, name)) {
      p = k;
      ex[k] = 1;
    }
    left += !ex[k];
  }
  if (!left)
    goto out;
  if (in->n >= 2 && !cache_ready(a, cfg, in)) {
    int k = pairing_draw_one(&a->pairing.table, p, ex, &r);
    pthread_mutex_unlock(&a->pairing.lock);
    if (k >= 0) {
      found = (long)in->models[k];
      goto out;
    }
  }
  /* one enabled model only, or out of memory: any one left, uniformly */
  {
    int pick = (int)(kernel_uniform(NULL) * left);
    for (int k = 0; k < in->n; k++)
      if (!ex[k] && pick-- == 0) {
        found = (long)in->models[k];
        break;
      }
  }
out:
  free(in);
  return found;
}
