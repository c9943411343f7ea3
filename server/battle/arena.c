#include "battle/arena_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fdbudget.h"
#include "util/log.h"
#include "util/clock.h"
#include "storage/interchange.h"

#define SWEEP_EVERY_MS 60000
#define IDLE_BATTLE_MS (2 * 60000)
#define REGISTRY_FINISHED_MAX 256

/* A tagger's verdicts moved a counted battle into slices: the boards'
 * caches are stale and the slices want a refit (writer thread). */
static void tags_moved(void *cls, int moved) {
  struct arena *a = cls;
  (void)moved;
  atomic_fetch_add(&a->version, 1);
  rating_worker_poke(&a->bt);
  style_boards_poke(&a->style);
}

/* The slices' counts were read from the database again (writer thread),
 * or could not be (rc -1). */
static void slices_reloaded(void *cls, int rc) {
  struct arena *a = cls;
  if (rc) {
    log_error("msg=\"cannot reload the slices' counts\"");
    return;
  }
  atomic_fetch_add(&a->version, 1);
  rating_worker_poke(&a->bt);
  style_boards_refit(&a->style);
  log_info("msg=\"slices' counts reloaded\"");
}

/* Tell the ratings worker which models have open weights (their cards'
 * open_weights), so that it fits the open-weights boards over them. */
static void open_weights_sync(struct arena *a, const struct config *cfg) {
  const char **names = calloc(cfg->n_models + 1, sizeof *names);
  size_t n = 0;
  for (size_t i = 0; names && i < cfg->n_models; i++)
    if (cfg->models[i].card.open_weights)
      names[n++] = cfg->models[i].name;
  if (!names || rating_worker_set_open(&a->bt, names, n))
    log_error("msg=\"cannot set the open-weights models: out of memory\"");
  free(names);
}

/* Set up *a (see arena_new). Returns 0, or -1 with err set. */
static int arena_init(struct arena *a, struct config *cfg, char *err,
                      size_t errlen) {
  memset(a, 0, sizeof *a);
  a->cfg = cfg;
  cfg->generation = a->generation = 1;
  pthread_mutex_init(&a->cfg_lock, NULL);
  registry_init(&a->battles);
  registry_set_max_bytes(&a->battles, (size_t)cfg->max_cached_battle_bytes);
  ratelimit_init(&a->limits);
  keycount_init(&a->streams);
  atomic_init(&a->streaming, 0);
  pthread_mutex_init(&a->live.lock, NULL);
  pairing_cache_init(&a->pairing);
  atomic_init(&a->last_sweep, mono_ms());
  atomic_init(&a->ratings_updated, now_ms());
  atomic_init(&a->dedup_left_out, 0);
  atomic_init(&a->own_reads, 0);
  own_boards_init(&a->own);
  share_map_init(&a->shares);
  arena_exports_init(a);
  if (arena_loader_start(a)) {
    snprintf(err, errlen, "cannot start the battle loader");
    goto fail_store;
  }
  if (store_open(&a->store, a->cfg->database, err, errlen))
    goto fail_store;
  /* this node's lease, and the turns its last life left streaming, which
   * can never finish: failed (a dead node's, by the others' reaper) */
  if (node_join(a, cfg, err, errlen))
    goto fail;
  if (store_ratings_load(&a->store, &a->live.elo, &a->live.pairs) ||
      store_slices_load(&a->store, &a->live.slices) ||
      store_secret(&a->store, a->secret) || shares_load(a)) {
    snprintf(err, errlen, "'%s': cannot load ratings: %s", a->cfg->database,
             store_error(&a->store));
    goto fail;
  }
  long prompts = 0, left_out = 0;
  if (store_dedup_stats(&a->store, &prompts, &left_out) == 0)
    atomic_init(&a->dedup_left_out, left_out);
  if (store_check_start(&a->store, a->cfg->database))
    log_warn("msg=\"cannot start the background database check\"");
  if (version_watch_start(&a->watch, &a->store)) {
    snprintf(err, errlen, "cannot start the data version watch");
    goto fail;
  }
  a->writer = store_writer_new(&a->store, &a->live);
  if (!a->writer) {
    snprintf(err, errlen, "cannot start the database writer");
    goto fail;
  }
  store_writer_follow(a->writer, node_followed, a);
  if (rating_worker_start(&a->bt, &a->live, (int)a->cfg->bootstrap_rounds,
                          250, a->cfg->pairing == CONFIG_PAIRING_ACTIVE)) {
    snprintf(err, errlen, "cannot start the ratings worker");
    goto fail;
  }
  open_weights_sync(a, cfg);
  if (style_boards_start(&a->style, &a->store, &a->live,
                         (int)a->cfg->bootstrap_rounds, 250)) {
    snprintf(err, errlen, "cannot start the style control worker");
    rating_worker_stop(&a->bt);
    goto fail;
  }
  if (history_start(&a->history, &a->store, &a->version, a->cfg->elo_k,
                    (int)a->cfg->bootstrap_rounds, 250)) {
    snprintf(err, errlen, "cannot start the rating history worker");
    style_boards_stop(&a->style);
    rating_worker_stop(&a->bt);
    goto fail;
  }
  a->up = upstream_new(UPSTREAM_LOOPS);
  if (!a->up) {
    snprintf(err, errlen, "cannot start the upstream loops");
    history_stop(&a->history);
    style_boards_stop(&a->style);
    rating_worker_stop(&a->bt);
    goto fail;
  }
  a->judges = judge_runner_new(&a->store, a->up);
  a->taggers = a->judges ? tag_runner_new(&a->store, a->writer, a->up,
                                          tags_moved, a)
                         : NULL;
  if (!a->taggers || node_start(a)) {
    snprintf(err, errlen, "cannot start the %s",
             !a->judges ? "judge runner"
             : !a->taggers ? "tagging runner" : "node's keeper");
    tag_runner_free(a->taggers);
    judge_runner_free(a->judges);
    upstream_free(a->up);
    history_stop(&a->history);
    style_boards_stop(&a->style);
    rating_worker_stop(&a->bt);
    goto fail;
  }
  return 0;
fail:
  store_writer_free(a->writer);
  version_watch_stop(&a->watch);
  node_release(a);  /* joined before any of these could fail */
  store_close(&a->store);
fail_store:
  arena_exports_stop(a);
  taskq_free(a->loader);
  ratelimit_release(&a->limits);
  keycount_release(&a->streams);
  rating_table_release(&a->live.elo);
  pair_table_release(&a->live.pairs);
  slice_table_release(&a->live.slices);
  registry_release(&a->battles);
  share_map_release(&a->shares);
  own_boards_release(&a->own);
  pthread_mutex_destroy(&a->live.lock);
  pairing_cache_release(&a->pairing);
  pthread_mutex_destroy(&a->cfg_lock);
  config_unref(a->cfg);
  return -1;
}

static void arena_release(struct arena *a) {
  upstream_stop(a->up);  /* finishes every transfer first */
  tag_runner_stop(a->taggers);   /* hands the writer the tags it has */
  node_stop(a);                  /* no more heartbeats queued */
  store_writer_free(a->writer);  /* then writes what they queued (a vote
                                    among them queues no more tags) */
  node_release(a);               /* the lease ends: everything is stored */
  tag_runner_free(a->taggers);
  judge_runner_free(a->judges);
  upstream_free(a->up);
  taskq_free(a->loader);  /* reads what was asked, into the registry */
  arena_exports_stop(a);  /* writes the exports under way, for nobody */
  history_stop(&a->history);
  style_boards_stop(&a->style);
  rating_worker_stop(&a->bt);
  registry_release(&a->battles);
  share_map_release(&a->shares);
  own_boards_release(&a->own);
  ratelimit_release(&a->limits);
  keycount_release(&a->streams);
  version_watch_stop(&a->watch);
  store_close(&a->store);
  rating_table_release(&a->live.elo);
  pair_table_release(&a->live.pairs);
  slice_table_release(&a->live.slices);
  pthread_mutex_destroy(&a->live.lock);
  pairing_cache_release(&a->pairing);
  pthread_mutex_destroy(&a->cfg_lock);
  config_unref(a->cfg);
  for (size_t i = 0; i < a->n_extra_models; i++)
    model_config_release(&a->extra_models[i]);
  free(a->extra_models);
}

struct arena *arena_new(struct config *cfg, char *err, size_t errlen) {
  struct arena *a = malloc(sizeof *a);
  if (!a) {
    snprintf(err, errlen, "out of memory");
    config_unref(cfg);
    return NULL;
  }
  if (arena_init(a, cfg, err, errlen)) {
    free(a);
    return NULL;
  }
  return a;
}

void arena_shutdown(struct arena *a) {
  upstream_stop(a->up);         /* ends every stream... */
  store_writer_flush(a->writer); /* ...stores the turns, and wakes their
                                    watchers */
}

void arena_tick(struct arena *a) { maybe_sweep(a); }

void arena_free(struct arena *a) {
  if (!a)
    return;
  arena_release(a);
  free(a);
}

struct config *arena_config(struct arena *a) {
  pthread_mutex_lock(&a->cfg_lock);
  struct config *cfg = a->cfg;
  config_ref(cfg);
  pthread_mutex_unlock(&a->cfg_lock);
  return cfg;
}

int arena_set_enabled(struct arena *a, const char *model, int enabled) {
  /* copy-on-write under the lock, so that two changes cannot lose one */
  pthread_mutex_lock(&a->cfg_lock);
  struct config *cfg = config_copy(a->cfg);
  int rc = -1;
  if (cfg) {
    for (size_t i = 0; i < cfg->n_models; i++) {
      if (!strcmp(cfg->models[i].name, model)) {
        cfg->models[i].enabled = enabled != 0;
        rc = 0;
      }
    }
    if (rc == 0) {
      struct config *prev = a->cfg;
      cfg->generation = ++a->generation;
      a->cfg = cfg;
      cfg = prev;
    }
  }
  pthread_mutex_unlock(&a->cfg_lock);
  config_unref(cfg);
  if (rc == 0)
    log_info("msg=\"model %s at run time\" model=\"%s\"",
             enabled ? "enabled" : "disabled", log_q(model));
  return rc;
}

int arena_keep_models(struct arena *a, const struct model_config *models,
                      size_t n) {
  struct model_config *m =
      realloc(a->extra_models, (a->n_extra_models + n) * sizeof *m);
  if (!m)
    return -1;
  a->extra_models = m;
  for (size_t i = 0; i < n; i++)
    model_config_copy(&a->extra_models[a->n_extra_models++], &models[i]);
  return 0;
}

/* Whether a and b are both NULL or the same string. */
static int same_or_null(const char *a, const char *b) {
  return (!a && !b) || (a && b && !strcmp(a, b));
}

int arena_reload(struct arena *a, char *err, size_t errlen) {
  struct config *old = arena_config(a);
  struct config *cfg = NULL;
  int rc = -1;
  if (!old->path) {
    snprintf(err, errlen, "no configuration file to reload");
    goto out;
  }
  cfg = config_new();
  if (!cfg) {
    snprintf(err, errlen, "out of memory");
    goto out;
  }
  free(cfg->database);
  cfg->database = NULL;
  if (config_load(cfg, old->path, err, errlen))
    goto out;
  for (size_t i = 0; i < a->n_extra_models; i++) {
    if (config_add_model(cfg, &a->extra_models[i])) {
      snprintf(err, errlen, "%s: model name '%s' is taken by a built-in model",
               old->path, a->extra_models[i].name);
      goto out;
    }
  }
  /* what cannot change while running stays as it is */
  if (cfg->database && strcmp(cfg->database, old->database))
    log_warn("msg=\"database cannot change on reload; restart to use it\" "
             "file=\"%s\"", log_q(old->path));
  if (strcmp(cfg->listen, old->listen))
    log_warn("msg=\"listen cannot change on reload; restart to use it\" "
             "file=\"%s\"", log_q(old->path));
  if (!same_or_null(cfg->node, old->node) ||
      !same_or_null(cfg->internal_url, old->internal_url) ||
      cfg->lease_seconds != old->lease_seconds ||
      cfg->heartbeat_seconds != old->heartbeat_seconds)
    log_warn("msg=\"node, internal_url and [cluster] cannot change on "
             "reload; restart to use them\" file=\"%s\"",
             log_q(old->path));
  free(cfg->database);
  cfg->database = strdup(old->database);
  free(cfg->listen);
  cfg->listen = strdup(old->listen);
  free(cfg->node);
  cfg->node = old->node ? strdup(old->node) : NULL;
  free(cfg->internal_url);
  cfg->internal_url = old->internal_url ? strdup(old->internal_url) : NULL;
  cfg->lease_seconds = old->lease_seconds;
  cfg->heartbeat_seconds = old->heartbeat_seconds;
  pthread_mutex_lock(&a->cfg_lock);
  struct config *prev = a->cfg;
  cfg->generation = ++a->generation;
  a->cfg = cfg;
  pthread_mutex_unlock(&a->cfg_lock);
  registry_set_max_bytes(&a->battles, (size_t)cfg->max_cached_battle_bytes);
  rating_worker_set_active(&a->bt, cfg->pairing == CONFIG_PAIRING_ACTIVE);
  open_weights_sync(a, cfg);
  config_unref(prev);
  cfg = NULL;
  rc = 0;
out:
  /* and the slices' counts, which `agon tag` beside the server moves in
   * the database only: whether or not the file could be read */
  if (store_writer_reload_slices(a->writer, slices_reloaded, a))
    slices_reloaded(a, -1);
  config_unref(cfg);
  config_unref(old);
  return rc;
}

int reserve_stream(struct arena *a, const struct config *cfg) {
  long max = cfg->max_concurrent_battles;
  if (max < 0)
    max = fdbudget_battles();
  long now = atomic_fetch_add(&a->streaming, 1);
  if (max > 0 && now >= max) {
    atomic_fetch_sub(&a->streaming, 1);
    return -1;
  }
  return 0;
}

void maybe_sweep(struct arena *a) {
  /* Finished battles are kept in memory only as a cache of the database.
   * Their bytes are bounded by max_cached_battle_bytes (the registry
   * evicts past it); their number by REGISTRY_FINISHED_MAX (beyond those
   * streaming): past it every idle one goes at once. Else the idle ones go
   * once a minute, from arena_tick or the next request, whichever comes
   * first. */
  long over = (long)registry_count(&a->battles) -
              atomic_load(&a->streaming) - REGISTRY_FINISHED_MAX;
  long long now = mono_ms();
  long long last = atomic_load(&a->last_sweep);
  if (over <= 0 && now - last < SWEEP_EVERY_MS)
    return;
  if (!atomic_compare_exchange_strong(&a->last_sweep, &last, now))
    return;
  size_t n = registry_sweep(&a->battles, over > 0 ? 0 : IDLE_BATTLE_MS);
  if (n)
    log_info("msg=\"idle battles dropped from memory\" count=%zu", n);
}

static const char *const limit_names[] = {"battle", "vote", "admin"};

static long limit_per_minute(struct arena *a, enum arena_limit kind) {
  struct config *cfg = arena_config(a);
  long n = kind == ARENA_LIMIT_PROMPTS ? cfg->battles_per_minute
           : kind == ARENA_LIMIT_VOTES ? cfg->votes_per_minute
                                       : cfg->admin_failures_per_minute;
  config_unref(cfg);
  return n;
}

int arena_rate_limit(struct arena *a, enum arena_limit kind,
                     const char *client) {
  return ratelimit_take(&a->limits, limit_names[kind], client,
                        limit_per_minute(a, kind));
}

void arena_rate_refund(struct arena *a, enum arena_limit kind,
                       const char *client) {
  ratelimit_refund(&a->limits, limit_names[kind], client,
                   limit_per_minute(a, kind));
}
