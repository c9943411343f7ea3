#include "battle/arena.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "metrics/metrics.h"
#include "rating/identity.h"
#include "render/markdown.h"
#include "util/digest.h"
#include "util/fdbudget.h"
#include "util/log.h"
#include "util/util.h"
#include "storage/interchange.h"

#define SWEEP_EVERY_MS 60000
#define IDLE_BATTLE_MS (2 * 60000)
#define REGISTRY_FINISHED_MAX 256

/* What an upstream request reports back to: one side of one turn. */
struct side_ctx {
  struct arena *a;
  struct battle *b;   /* a reference */
  int turn;
  int side;
};

int arena_init(struct arena *a, struct config *cfg, char *err, size_t errlen) {
  memset(a, 0, sizeof *a);
  a->cfg = cfg;
  cfg->generation = a->generation = 1;
  pthread_mutex_init(&a->cfg_lock, NULL);
  registry_init(&a->battles);
  ratelimit_init(&a->limits);
  keycount_init(&a->streams);
  atomic_init(&a->streaming, 0);
  pthread_mutex_init(&a->live.lock, NULL);
  atomic_init(&a->last_sweep, mono_ms());
  atomic_init(&a->ratings_updated, now_ms());
  if (store_open(&a->store, a->cfg->database, err, errlen))
    goto fail_store;
  /* Turns that were streaming when the last process ended can never finish. */
  if (sqlite3_exec(a->store.db,
                   "UPDATE battles SET status = 'failed' WHERE status = "
                   "'streaming'",
                   NULL, NULL, NULL) != SQLITE_OK ||
      store_ratings_load(&a->store, &a->live.elo, &a->live.pairs) ||
      store_secret(&a->store, a->secret)) {
    snprintf(err, errlen, "'%s': cannot load ratings: %s", a->cfg->database,
             sqlite3_errmsg(a->store.db));
    goto fail;
  }
  if (store_check_start(&a->store, a->cfg->database))
    log_warn("msg=\"cannot start the background database check\"");
  a->writer = store_writer_new(&a->store, &a->live);
  if (!a->writer) {
    snprintf(err, errlen, "cannot start the database writer");
    goto fail;
  }
  if (rating_worker_start(&a->bt, &a->live, (int)a->cfg->bootstrap_rounds,
                          250)) {
    snprintf(err, errlen, "cannot start the ratings worker");
    goto fail;
  }
  a->up = upstream_new(UPSTREAM_LOOPS);
  if (!a->up) {
    snprintf(err, errlen, "cannot start the upstream loops");
    rating_worker_stop(&a->bt);
    goto fail;
  }
  a->judges = judge_runner_new(&a->store, a->up);
  if (!a->judges) {
    snprintf(err, errlen, "cannot start the judge runner");
    upstream_free(a->up);
    rating_worker_stop(&a->bt);
    goto fail;
  }
  return 0;
fail:
  store_writer_free(a->writer);
  store_close(&a->store);
fail_store:
  ratelimit_release(&a->limits);
  keycount_release(&a->streams);
  rating_table_release(&a->live.elo);
  pair_table_release(&a->live.pairs);
  registry_release(&a->battles);
  pthread_mutex_destroy(&a->live.lock);
  pthread_mutex_destroy(&a->cfg_lock);
  config_unref(a->cfg);
  return -1;
}

void arena_release(struct arena *a) {
  upstream_stop(a->up);  /* finishes every transfer first */
  store_writer_free(a->writer);  /* then writes what they queued */
  judge_runner_free(a->judges);
  upstream_free(a->up);
  rating_worker_stop(&a->bt);
  registry_release(&a->battles);
  ratelimit_release(&a->limits);
  keycount_release(&a->streams);
  store_close(&a->store);
  rating_table_release(&a->live.elo);
  pair_table_release(&a->live.pairs);
  pthread_mutex_destroy(&a->live.lock);
  pthread_mutex_destroy(&a->cfg_lock);
  config_unref(a->cfg);
  for (size_t i = 0; i < a->n_extra_models; i++)
    model_config_release(&a->extra_models[i]);
  free(a->extra_models);
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
  free(cfg->database);
  cfg->database = strdup(old->database);
  free(cfg->listen);
  cfg->listen = strdup(old->listen);
  pthread_mutex_lock(&a->cfg_lock);
  struct config *prev = a->cfg;
  cfg->generation = ++a->generation;
  a->cfg = cfg;
  pthread_mutex_unlock(&a->cfg_lock);
  config_unref(prev);
  cfg = NULL;
  rc = 0;
out:
  config_unref(cfg);
  config_unref(old);
  return rc;
}

static uint64_t random_u64(void) {
  uint64_t x = 0;
  if (getrandom(&x, sizeof x, 0) != sizeof x)
    x = (uint64_t)mono_ms() * 6364136223846793005ull;
  return x;
}

/* ---- upstream callbacks: run on the upstream thread ---- */

static void side_on_text(void *cls, const char *text, size_t len) {
  struct side_ctx *sc = cls;
  struct battle *b = sc->b;
  pthread_mutex_lock(&b->lock);
  struct battle_side *s = &b->turns[sc->turn].side[sc->side];
  if (buf_append(&s->text, text, len) == 0) {
    b->touched = mono_ms();
    battle_wake_locked(b);
  }
  pthread_mutex_unlock(&b->lock);
}

/* Reasoning is only stored: it is sent once the side is done (with its
 * HTML), so no watcher needs waking. */
static void side_on_reasoning(void *cls, const char *text, size_t len) {
  struct side_ctx *sc = cls;
  struct battle *b = sc->b;
  pthread_mutex_lock(&b->lock);
  struct battle_side *s = &b->turns[sc->turn].side[sc->side];
  if (buf_append(&s->reasoning, text, len) == 0)
    b->touched = mono_ms();
  pthread_mutex_unlock(&b->lock);
}

/* A finished turn on its way to the database. */
struct turn_ctx {
  struct arena *a;
  struct battle *b;   /* a reference */
  int turn;           /* 0-based */
  int failed;
};

/* Turn `turn` (0-based) of b is over, and stored as far as it will be:
 * only now may the battle be voted on or continued, so that every vote
 * finds its turn in the database. */
static void turn_end(struct arena *a, struct battle *b, int turn, int failed) {
  atomic_fetch_sub(&a->streaming, 1);
  pthread_mutex_lock(&b->lock);
  /* a vote may have come in between the turn's commit and now: it was
   * decided from the stored turn, and stays */
  if (b->status != BATTLE_VOTED)
    b->status = failed ? BATTLE_FAILED : BATTLE_READY;
  if (failed)
    battle_reveal_metrics_locked(b);  /* it can no longer be voted */
  b->finished_at = now_ms();
  atomic_store(&b->cancel, 0);
  b->touched = mono_ms();
  battle_wake_locked(b);
  pthread_mutex_unlock(&b->lock);
  log_info("msg=\"turn finished\" battle=%s turn=%d status=%s", b->id,
           turn + 1, failed ? "failed" : "ready");
  if (!failed) {
    /* judges with auto = true get every finished battle (a later turn
     * replaces the verdict on the earlier ones) */
    struct config *cfg = arena_config(a);
    for (size_t i = 0; i < cfg->n_judges; i++)
      if (cfg->judges[i].auto_judge)
        judge_runner_enqueue(a->judges, &cfg->judges[i], b->id);
    config_unref(cfg);
  }
}

/* The writer stored a finished turn (ok), or could not. Runs on the
 * writer thread (or wherever the turn could not be queued). */
static void turn_stored(void *cls, int ok) {
  struct turn_ctx *tc = cls;
  if (!ok)
    log_error("msg=\"cannot store finished turn\" battle=%s", tc->b->id);
  turn_end(tc->a, tc->b, tc->turn, tc->failed || !ok);
  battle_unref(tc->b);
  free(tc);
}

static void side_on_finish(void *cls, int ok, const char *public_msg,
                           const char *detail,
                           const struct upstream_stats *stats) {
  struct side_ctx *sc = cls;
  struct arena *a = sc->a;
  struct battle *b = sc->b;
  int complete;
  char *html = NULL;

  if (ok) {
    /* the text is final: render it outside the lock */
    pthread_mutex_lock(&b->lock);
    struct buf *tx = &b->turns[sc->turn].side[sc->side].text;
    char *copy = strndup(tx->data ? tx->data : "", tx->len);
    size_t len = tx->len;
    pthread_mutex_unlock(&b->lock);
    if (copy)
      html = markdown_to_html(copy, len);
    free(copy);
  }
  pthread_mutex_lock(&b->lock);
  struct battle_turn *t = &b->turns[sc->turn];
  struct battle_side *s = &t->side[sc->side];
  /* held back until the battle is revealed: see battle_reveal_metrics */
  s->m.outcome = ok ? 1 : 2;
  s->m.ttft = ok && stats ? stats->ttft : -1;
  s->m.tokens_per_s = -1;
  if (ok && stats && stats->ttft >= 0) {
    double streaming = stats->duration - stats->ttft;
    if (streaming > 0)
      s->m.tokens_per_s = (double)stats->chunks / streaming;
  }
  s->finished = 1;
  s->html = html;
  if (!ok) {
    s->failed = 1;
    if (atomic_load(&b->cancel))
      public_msg = "stopped because the other answer failed";
    snprintf(s->public_error, sizeof s->public_error, "%s", public_msg);
    s->detail = strdup(detail ? detail : "");
    atomic_store(&b->cancel, 1);  /* a failed battle needs no other side */
  }
  complete = t->side[0].finished && t->side[1].finished;
  if (!complete)
    battle_wake_locked(b);
  pthread_mutex_unlock(&b->lock);

  if (complete) {
    /* Both sides are final: their texts no longer change, and no new turn
     * can start before the status leaves STREAMING, which happens once the
     * turn is stored (turn_stored). */
    struct turn_ctx *tc = calloc(1, sizeof *tc);
    int failed = t->side[0].failed || t->side[1].failed;
    if (!tc) {
      log_error("msg=\"cannot store finished turn\" battle=%s", b->id);
      turn_end(a, b, sc->turn, 1);  /* left 'streaming' in the database:
                                       failed at the next start */
    } else {
      tc->a = a;
      tc->b = b;
      tc->turn = sc->turn;
      tc->failed = failed;
      battle_ref(b);
      /* the answers are borrowed until turn_stored: no text is appended
       * after a side finished, and no turn is added (which could move
       * them) while the battle is STREAMING; tc's reference keeps b */
      struct turn_answer ans[2];
      for (int i = 0; i < 2; i++) {
        ans[i].text = t->side[i].text.data;
        ans[i].reasoning = t->side[i].reasoning.data; /* NULL when none */
        ans[i].error = t->side[i].failed ? t->side[i].detail : NULL;
      }
      /* The identity check for the vote's verdict, made once here rather
       * than in the vote's transaction on the writer thread (a scan of
       * every word over answers of up to max_answer_bytes): the prompt,
       * the answers and the reasoning the voter will read. */
      const char *texts[VOTE_TEXTS_PER_TURN] = {
          t->prompt, ans[0].text, ans[1].text, ans[0].reasoning,
          ans[1].reasoning};
      struct config *cfg = arena_config(a);
      const char *word = identity_leak(cfg, texts, VOTE_TEXTS_PER_TURN);
      char identity[512];
      if (word)
        snprintf(identity, sizeof identity, "%s", word);
      config_unref(cfg);
      if (store_writer_turn_finish(a->writer, b->id, sc->turn + 1, ans,
                                   now_ms(), failed ? "failed" : "ready",
                                   word ? identity : NULL, turn_stored, tc))
        turn_stored(tc, 0);
    }
  }
  battle_unref(b);
  free(sc);
}

/* The conversation side `side` has seen up to turn `turn` (0-based),
 * ending with that turn's prompt. Caller holds the battle lock. */
static struct chat_message *conversation(struct battle *b, int turn, int side,
                                         size_t *n) {
  struct chat_message *m = calloc((size_t)turn * 2 + 1, sizeof *m);
  if (!m)
    return NULL;
  size_t k = 0;
  for (int i = 0; i < turn; i++) {
    m[k].role = "user";
    m[k++].content = b->turns[i].prompt;
    m[k].role = "assistant";
    m[k++].content = b->turns[i].side[side].text.data
                         ? b->turns[i].side[side].text.data
                         : "";
  }
  m[k].role = "user";
  m[k++].content = b->turns[turn].prompt;
  *n = k;
  return m;
}

/* Send turn `turn` of b to both models. Caller holds the battle lock. On
 * failure to queue a side, that side is finished as failed. */
static void ask_both_locked(struct arena *a, struct battle *b, int turn) {
  for (int side = 0; side < 2; side++) {
    size_t n = 0;
    struct chat_message *msgs = conversation(b, turn, side, &n);
    struct side_ctx *sc = calloc(1, sizeof *sc);
    struct upstream_callbacks cb = {.on_text = side_on_text,
                                    .on_reasoning = side_on_reasoning,
                                    .on_finish = side_on_finish,
                                    .cls = sc};
    int rc = -1;
    if (msgs && sc) {
      sc->a = a;
      sc->b = b;
      sc->turn = turn;
      sc->side = side;
      battle_ref(b);
      rc = upstream_chat(a->up, &b->model[side], msgs, n, b->max_answer,
                         &b->cancel, &cb);
      if (!rc)
        b->turns[turn].side[side].m.started = 1;
      if (rc)
        battle_unref(b);
    }
    free(msgs);
    if (rc) {
      free(sc);
      struct battle_side *s = &b->turns[turn].side[side];
      s->finished = s->failed = 1;
      snprintf(s->public_error, sizeof s->public_error,
               "the model could not be asked");
      log_error("msg=\"cannot queue upstream request\" battle=%s", b->id);
      /* the other side will see this one finished and complete the turn;
       * if both failed to queue, complete it here */
      if (b->turns[turn].side[0].finished && b->turns[turn].side[1].finished)
        b->status = BATTLE_FAILED;
    }
  }
}

/* Reserve a slot for one more streaming turn; 0, or -1 when full. */
static int reserve_stream(struct arena *a, const struct config *cfg) {
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

static void maybe_sweep(struct arena *a) {
  /* Finished battles are kept in memory only as a cache of the database:
   * past REGISTRY_FINISHED_MAX of them (beyond those streaming), every idle
   * one goes at once, so that their answers (up to max_answer_bytes a side
   * and turn) cannot pile up outside every limit; else the idle ones go
   * once a minute. */
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

static enum agon_ec battle_start(struct arena *a, const struct config *cfg,
                                 const char *session, const char *prompt,
                                 struct battle **out);

enum agon_ec arena_battle_start(struct arena *a, const char *session,
                                const char *prompt, struct battle **out) {
  *out = NULL;
  maybe_sweep(a);
  struct config *cfg = arena_config(a);
  enum agon_ec rc = battle_start(a, cfg, session, prompt, out);
  config_unref(cfg);
  return rc;
}

/* The writer stored a new battle, or could not: then its answers could
 * never be stored or voted on, so the battle is given up. */
static void battle_stored(void *cls, int ok) {
  struct battle *b = cls;
  if (!ok) {
    log_error("msg=\"cannot store new battle\" battle=%s", b->id);
    atomic_store(&b->cancel, 1);
  }
  battle_unref(b);
}

static enum agon_ec battle_start(struct arena *a, const struct config *cfg,
                                 const char *session, const char *prompt,
                                 struct battle **out) {
  size_t enabled[512];
  size_t n = 0;
  for (size_t i = 0; i < cfg->n_models && n < 512; i++)
    if (cfg->models[i].enabled)
      enabled[n++] = i;
  if (n < 2)
    return EC_NOT_ENOUGH_MODELS;
  char why[200];
  if (store_writer_fault(a->writer, why, sizeof why))
    return EC_STORAGE_UNAVAILABLE;  /* a 201 now could not be kept */
  if (reserve_stream(a, cfg))
    return EC_BUSY;
  size_t i = (size_t)(random_u64() % n);
  size_t j = (size_t)(random_u64() % (n - 1));
  if (j >= i)
    j++;
  const struct model_config *ma = &cfg->models[enabled[i]];
  const struct model_config *mb = &cfg->models[enabled[j]];

  char id[40];
  struct battle *b = NULL;
  int64_t created = now_ms();
  if (random_hex(id, 16) ||
      !(b = battle_new(id, session, created, ma, mb))) {
    atomic_fetch_sub(&a->streaming, 1);
    return EC_INTERNAL_BATTLE;
  }
  pthread_mutex_lock(&b->lock);
  b->max_answer = (size_t)cfg->max_answer_bytes;
  int turn = battle_add_turn_locked(b, prompt, b->max_answer);
  pthread_mutex_unlock(&b->lock);
  battle_ref(b);  /* for battle_stored */
  if (turn < 0 ||
      store_writer_battle_create(a->writer, id, created, ma->name, mb->name,
                                 session, prompt, battle_stored, b)) {
    battle_unref(b);
    battle_unref(b);
    atomic_fetch_sub(&a->streaming, 1);
    return EC_INTERNAL_BATTLE;
  }
  struct battle *have = registry_put(&a->battles, b);
  battle_unref(b);  /* registry_put gave us our own reference */
  pthread_mutex_lock(&have->lock);
  ask_both_locked(a, have, 0);
  pthread_mutex_unlock(&have->lock);
  log_info("msg=\"battle started\" battle=%s model_a=\"%s\" model_b=\"%s\"",
           id, log_q(ma->name), log_q(mb->name));
  *out = have;
  return EC_OK;
}

static enum battle_status status_from(const char *s) {
  if (!strcmp(s, "ready"))
    return BATTLE_READY;
  if (!strcmp(s, "voted"))
    return BATTLE_VOTED;
  if (!strcmp(s, "streaming"))
    return BATTLE_STREAMING;
  return BATTLE_FAILED;
}

/* A battle object for a stored battle: finished turns only. */
static struct battle *battle_from_record(const struct config *cfg,
                                         struct battle_record *r) {
  struct model_config m[2];
  for (int s = 0; s < 2; s++) {
    const struct model_config *c = config_find_model(cfg, r->model[s]);
    if (c) {
      m[s] = *c;
    } else {
      memset(&m[s], 0, sizeof m[s]);
      m[s].name = r->model[s];
    }
  }
  struct battle *b = battle_new(r->id, r->session, r->created_at, &m[0], &m[1]);
  if (!b)
    return NULL;
  b->max_answer = (size_t)cfg->max_answer_bytes;
  if (!config_find_model(cfg, r->model[0]) ||
      !config_find_model(cfg, r->model[1]))
    b->model[0].enabled = b->model[1].enabled = 0;
  b->status = status_from(r->status);
  b->winner = r->winner;
  for (size_t i = 0; i < r->n_turns; i++) {
    struct turn_record *tr = &r->turns[i];
    int t = battle_add_turn_locked(b, tr->prompt, b->max_answer);
    if (t < 0)
      goto fail;
    for (int s = 0; s < 2; s++) {
      struct battle_side *side = &b->turns[t].side[s];
      side->finished = 1;
      side->text.max = (size_t)-1 / 2;  /* stored answers are already bounded */
      side->reasoning.max = side->text.max;
      if ((tr->answer[s] && buf_append_str(&side->text, tr->answer[s])) ||
          (tr->reasoning[s] &&
           buf_append_str(&side->reasoning, tr->reasoning[s])))
        goto fail;
      if (tr->answer[s] && !tr->error[s])
        side->html = markdown_to_html(tr->answer[s], strlen(tr->answer[s]));
      if (tr->error[s]) {
        side->failed = 1;
        snprintf(side->public_error, sizeof side->public_error,
                 "this answer failed");
      } else if (!tr->answer[s]) {
        /* the turn never finished: the server stopped while it streamed */
        side->failed = 1;
        snprintf(side->public_error, sizeof side->public_error,
                 "the answer was interrupted");
      }
    }
  }
  if (b->status == BATTLE_STREAMING)
    b->status = BATTLE_FAILED;  /* a turn that can no longer finish */
  return b;
fail:
  battle_unref(b);
  return NULL;
}

struct battle *arena_battle_find(struct arena *a, const char *id) {
  struct battle *b = registry_get(&a->battles, id);
  if (b)
    return b;
  struct battle_record r;
  maybe_sweep(a);  /* loads from the database fill the registry too */
  if (store_battle_load(&a->store, id, &r))
    return NULL;
  struct config *cfg = arena_config(a);
  b = battle_from_record(cfg, &r);
  config_unref(cfg);
  battle_record_release(&r);
  if (!b)
    return NULL;
  struct battle *have = registry_put(&a->battles, b);
  battle_unref(b);
  return have;
}

/* A follow-up turn on its way through the writer: like arena_vote, two
 * references, the writer's and the caller's. */
struct arena_turn {
  struct waiter waiter;         /* first: see turn_release */
  enum agon_ec rc;
  int turn;                     /* 0-based */
  struct arena *a;
  struct battle *b;             /* a reference */
  char *prompt;
};

static void turn_release(struct waiter *w) {
  struct arena_turn *t = (struct arena_turn *)w;
  battle_unref(t->b);
  free(t->prompt);
  free(t);
}

/* The writer stored the new turn (rc 0), or refused it: on the writer
 * thread. Only now is the turn added in memory and asked upstream. */
static void turn_added(void *cls, int stored) {
  struct arena_turn *t = cls;
  struct battle *b = t->b;
  enum agon_ec rc = EC_OK;
  pthread_mutex_lock(&b->lock);
  b->turn_pending = 0;
  if (stored != 0) {
    /* 1: voted meanwhile */
    rc = stored == 1 ? EC_BATTLE_NOT_READY : EC_INTERNAL_TURN;
  } else if (battle_add_turn_locked(b, t->prompt, b->max_answer) < 0) {
    rc = EC_INTERNAL_TURN; /* stored 'streaming': failed at the next start */
  } else {
    b->status = BATTLE_STREAMING;
    b->touched = mono_ms();
    atomic_store(&b->cancel, 0);
    ask_both_locked(t->a, b, t->turn);
  }
  pthread_mutex_unlock(&b->lock);
  if (rc != EC_OK)
    atomic_fetch_sub(&t->a->streaming, 1);
  t->rc = rc;
  waiter_tell(&t->waiter);
}

enum agon_ec arena_turn_start(struct arena *a, struct battle *b,
                              const char *session, const char *prompt,
                              arena_vote_fn done, void *cls,
                              struct arena_turn **out) {
  enum agon_ec rc = EC_OK;
  struct config *cfg = arena_config(a);
  struct arena_turn *t = NULL;
  *out = NULL;
  pthread_mutex_lock(&b->lock);
  if (strcmp(b->session, session)) {
    rc = EC_NOT_YOUR_BATTLE;
    goto out;
  }
  if (b->status != BATTLE_READY || b->turn_pending) {
    rc = EC_BATTLE_NOT_READY;
    goto out;
  }
  if (b->n_turns >= (size_t)cfg->max_turns) {
    rc = EC_TOO_MANY_TURNS;
    goto out;
  }
  if (!b->model[0].base_url || !b->model[1].base_url) {
    rc = EC_MODELS_UNAVAILABLE;
    goto out;
  }
  char why[200];
  if (store_writer_fault(a->writer, why, sizeof why)) {
    rc = EC_STORAGE_TURN;
    goto out;
  }
  t = calloc(1, sizeof *t);
  if (!t || !(t->prompt = strdup(prompt))) {
    rc = EC_INTERNAL_TURN;
    goto out;
  }
  if (reserve_stream(a, cfg)) {
    rc = EC_BUSY;
    goto out;
  }
  waiter_init(&t->waiter, done, cls, turn_release);
  t->a = a;
  t->b = b;
  battle_ref(b);
  t->turn = (int)b->n_turns;
  /* Stored first (the writer refuses it if a vote came in), then added in
   * memory and asked (turn_added); no second turn meanwhile. */
  b->turn_pending = 1;
  if (store_writer_turn_add_async(a->writer, b->id, t->turn + 1, prompt,
                                  now_ms(), turn_added, t)) {
    b->turn_pending = 0;
    atomic_fetch_sub(&a->streaming, 1);
    waiter_unref(&t->waiter);  /* the writer's, never to tell */
    waiter_leave(&t->waiter);  /* ours: frees t */
    t = NULL;
    rc = EC_INTERNAL_TURN;
    goto out;
  }
  *out = t;
  t = NULL;
out:
  pthread_mutex_unlock(&b->lock);
  if (t) {
    free(t->prompt);
    free(t);
  }
  config_unref(cfg);
  return rc;
}

enum agon_ec arena_turn_result(struct arena_turn *t, int *turn) {
  *turn = t->turn + 1;
  return waiter_told(&t->waiter) ? t->rc : EC_INTERNAL_TURN;
}

void arena_turn_free(struct arena_turn *t) {
  if (t)
    waiter_leave(&t->waiter);
}

/* The vote's verdict, from the battle as stored (see vote_verdict_fn):
 * run by the writer inside the vote's transaction, so that a vote racing
 * the end of a stream is judged on the same facts as a calm one. */
struct verdict_ctx {
  const struct config *cfg;
  int64_t now;  /* wall ms the vote arrived */
};

static const char *vote_verdict(void *cls, const char *const *texts,
                                size_t n_texts, int64_t finished_at,
                                char *why, size_t whylen) {
  const struct verdict_ctx *vc = cls;
  /* the reasoning counts beside the answers (see turn_identity) */
  const char *word = identity_leak(vc->cfg, texts, n_texts);
  if (word) {
    snprintf(why, whylen, "identity: %s", word);
    return why;
  }
  if (finished_at &&
      (double)(vc->now - finished_at) / 1000.0 < vc->cfg->min_vote_seconds)
    return "too fast: voted before the answers could be read";
  return NULL;
}

/* One vote on its way through the writer. Two references: the writer's
 * (dropped once it has reported) and the caller's (arena_vote_free). */
struct arena_vote {
  struct waiter waiter;         /* first: see vote_release */
  struct arena *a;
  struct config *cfg;           /* a reference, for the verdict */
  struct verdict_ctx vc;
  char id[72];
  char session[40];
  char client_hash[65];
  enum winner w;
  struct vote_request vr;
  struct vote_outcome out;
  enum agon_ec vs;
};

static void vote_release(struct waiter *w) {
  struct arena_vote *v = (struct arena_vote *)w;
  vote_outcome_release(&v->out);
  config_unref(v->cfg);
  free(v);
}

/* What a stored vote changes beside the database: caches, the battle in
 * memory, metrics, the log. On the writer thread. */
static void vote_applied(struct arena *a, struct arena_vote *v) {
  struct vote_outcome *out = &v->out;
  atomic_fetch_add(&a->version, 1);
  if (out->counted)
    rating_worker_poke(&a->bt);
  const char *reason = out->counted ? NULL : out->reason;
  metrics_vote(out->counted, !reason                           ? NULL
                             : !strncmp(reason, "identity", 8) ? "identity"
                                                               : "too_fast");
  atomic_store(&a->ratings_updated, now_ms());
  struct battle *b = registry_get(&a->battles, v->id);
  if (b) {
    pthread_mutex_lock(&b->lock);
    b->status = BATTLE_VOTED;
    b->winner = (int)v->w;
    battle_reveal_metrics_locked(b);
    b->touched = mono_ms();
    pthread_mutex_unlock(&b->lock);
    battle_unref(b);
  }
  log_info("msg=\"vote\" battle=%s winner=%s counted=%d%s%s%s", v->id,
           winner_name(v->w), out->counted, reason ? " reason=\"" : "",
           reason ? log_q(reason) : "", reason ? "\"" : "");
}

static void vote_decided(void *cls, enum agon_ec vs) {
  struct arena_vote *v = cls;
  if (vs == EC_OK)
    vote_applied(v->a, v);
  v->vs = vs;
  waiter_tell(&v->waiter);
}

struct arena_vote *arena_vote_start(struct arena *a, const char *id,
                                    const char *session, const char *client,
                                    enum winner w, arena_vote_fn done,
                                    void *cls) {
  struct arena_vote *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  waiter_init(&v->waiter, done, cls, vote_release);
  v->a = a;
  v->cfg = arena_config(a);
  v->vc.cfg = v->cfg;
  v->vc.now = now_ms();
  snprintf(v->id, sizeof v->id, "%s", id);
  snprintf(v->session, sizeof v->session, "%s", session);
  if (hmac_sha256_hex(a->secret, strlen(a->secret), client, strlen(client),
                      v->client_hash))
    v->client_hash[0] = '\0';
  v->client_hash[32] = '\0';
  v->w = w;
  v->vr = (struct vote_request){.id = v->id,
                                .session = v->session,
                                .w = w,
                                .k = v->cfg->elo_k,
                                .counted = 1,
                                .client = v->client_hash[0] ? v->client_hash
                                                            : NULL,
                                .verdict = vote_verdict,
                                .verdict_cls = &v->vc};
  if (store_writer_vote_async(a->writer, &v->vr, &v->out, vote_decided, v)) {
    waiter_unref(&v->waiter);  /* the writer's, never to tell */
    waiter_leave(&v->waiter);  /* ours: frees v */
    return NULL;
  }
  return v;
}

enum agon_ec arena_vote_result(struct arena_vote *v,
                               const struct vote_outcome **out) {
  *out = &v->out;
  enum agon_ec vs = waiter_told(&v->waiter) ? v->vs : EC_INTERNAL_VOTE;
  char why[200];
  if (vs == EC_INTERNAL_VOTE &&
      store_writer_fault(v->a->writer, why, sizeof why))
    vs = EC_STORAGE_VOTE; /* not counted while the disk fails: try again */
  return vs;
}

void arena_vote_free(struct arena_vote *v) {
  if (v)
    waiter_leave(&v->waiter);
}
