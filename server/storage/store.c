/* The engine a `database` value names, and every store_* call handed to
 * its operations (storage/ops.h). What is the same for every engine (who
 * takes st->lock, the judgments counter, releasing records) is here. */
#include "storage/ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "storage/sqlite/sqlite.h"
#ifdef AGON_HAVE_POSTGRES
#include "storage/postgres/postgres.h"
#endif

/* The engines this build has, by enum config_db_engine; NULL: not built. */
typedef int (*engine_open_fn)(struct store *st, const char *where,
                              int must_exist, char *err, size_t errlen);
static const engine_open_fn engines[] = {
    [CONFIG_DB_SQLITE] = sqlite_store_open,
#ifdef AGON_HAVE_POSTGRES
    [CONFIG_DB_POSTGRES] = pg_store_open,
#else
    [CONFIG_DB_POSTGRES] = NULL,
#endif
};

static int open_engine(struct store *st, const char *database, int must_exist,
                       char *err, size_t errlen) {
  memset(st, 0, sizeof *st);
  const char *where;
  enum config_db_engine e = config_db_engine(database, &where);
  if (!config_db_engine_built(e) || !engines[e]) {
    /* the value is not repeated: a URL may hold a password */
    snprintf(err, errlen, "cannot open the database: %s support is not built",
             config_db_engine_name(e));
    return -1;
  }
  pthread_mutex_init(&st->lock, NULL);
  atomic_init(&st->judgments, 0);
  if (engines[e](st, where, must_exist, err, errlen)) {
    pthread_mutex_destroy(&st->lock);
    memset(st, 0, sizeof *st);
    return -1;
  }
  return 0;
}

int store_open(struct store *st, const char *database, char *err,
               size_t errlen) {
  return open_engine(st, database, 0, err, errlen);
}

int store_open_existing(struct store *st, const char *path, char *err,
                        size_t errlen) {
  return open_engine(st, path, 1, err, errlen);
}

void store_close(struct store *st) {
  if (!st->ops)
    return;
  st->ops->close(st->impl);
  st->ops = NULL;
  st->impl = NULL;
  pthread_mutex_destroy(&st->lock);
}

int store_check_start(struct store *st, const char *path) {
  (void)path; /* the engine checks the database it opened */
  return STORE_OPS(st)->check_start(st->impl);
}

int store_corrupt(struct store *st, char *why, size_t len) {
  return st->ops->corrupt(st->impl, why, len);
}

long store_data_version(struct store *st) {
  return STORE_OPS(st)->version(st->impl);
}

int store_schema_version(struct store *st) {
  return STORE_OPS(st)->schema_version(st->impl);
}

const char *store_error(struct store *st) { return st->ops->error(st->impl); }

enum agon_ec store_vote_gate(const char *owner, const char *session,
                             const char *status, const char *mode) {
  if (!owner || strcmp(owner, session))
    return VOTE_FORBIDDEN;
  if (!strcmp(status, "voted"))
    return VOTE_ALREADY_VOTED;
  if (!strcmp(status, "streaming"))
    return VOTE_STREAMING;
  if (!strcmp(status, "failed"))
    return VOTE_FAILED_BATTLE;
  if (mode && !strcmp(mode, "direct"))
    return VOTE_DIRECT;
  return VOTE_OK;
}

/* ---- transactions ---- */

int store_tx_begin(struct store *st) { return STORE_OPS(st)->begin(st->impl); }
int store_tx_commit(struct store *st) { return STORE_OPS(st)->commit(st->impl); }
void store_tx_rollback(struct store *st) { STORE_OPS(st)->rollback(st->impl); }
int store_savepoint(struct store *st) { return STORE_OPS(st)->savepoint(st->impl); }

int store_savepoint_release(struct store *st) {
  return STORE_OPS(st)->savepoint_release(st->impl);
}

int store_savepoint_rollback(struct store *st) {
  return STORE_OPS(st)->savepoint_rollback(st->impl);
}

int store_storage_error(struct store *st, char *why, size_t len) {
  return st->ops->storage_error(st->impl, why, len);
}

int store_contended(struct store *st) {
  return st->ops->contended ? st->ops->contended(st->impl) : 0;
}

int store_probe(struct store *st, char *why, size_t len) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->probe(st->impl, why, len);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- battles ---- */

int store_battle_create_tx(struct store *st, const char *id,
                           int64_t created_at, const char *model_a,
                           const char *model_b, const char *mode,
                           const char *session, const char *prompt) {
  return STORE_OPS(st)->battle_create(st->impl, id, created_at, model_a, model_b,
                                mode, session, prompt);
}

int store_turn_add_tx(struct store *st, const char *id, int turn,
                      const char *prompt, int64_t started_at) {
  return STORE_OPS(st)->turn_add(st->impl, id, turn, prompt, started_at);
}

int store_turn_replace_tx(struct store *st, const char *id,
                          const struct turn_replace *r) {
  return STORE_OPS(st)->turn_replace(st->impl, id, r);
}

int store_turn_finish_tx(struct store *st, const char *id, int turn,
                         const struct turn_answer ans[2],
                         int64_t finished_at, const char *status,
                         const char *identity,
                         const struct battle_tags *tags) {
  return STORE_OPS(st)->turn_finish(st->impl, id, turn, ans, finished_at, status,
                              identity, tags);
}

int store_battle_load(struct store *st, const char *id,
                      struct battle_record *out) {
  return STORE_OPS(st)->battle_load(st->impl, id, out);
}

void battle_record_release(struct battle_record *r) {
  free(r->model[0]);
  free(r->model[1]);
  for (size_t i = 0; i < r->n_turns; i++) {
    struct turn_record *t = &r->turns[i];
    free(t->prompt);
    for (int s = 0; s < 2; s++) {
      free(t->answer[s]);
      free(t->reasoning[s]);
      free(t->error[s]);
    }
  }
  free(r->turns);
  free(r->reasons);
  free(r->comment);
  r->reasons = r->comment = NULL;
  free(r->replaced);
  free(r->replacements);
  r->replaced = r->replacements = NULL;
  r->turns = NULL;
  r->n_turns = 0;
  r->model[0] = r->model[1] = NULL;
}

json_t *store_battles_list(struct store *st, const char *model,
                           const char *status, int64_t since, int64_t until,
                           long limit, long offset) {
  return STORE_OPS(st)->battles_list(st->impl, model, status, since, until, limit,
                               offset);
}

/* ---- shares and a session's own votes ---- */

int store_shares_load(struct store *st, long max, store_share_fn fn,
                      void *ctx) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->shares_load(st->impl, max, fn, ctx);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_share_put_tx(struct store *st, const char *token, const char *id,
                       int64_t at, char out[STORE_SHARE_TOKEN]) {
  return STORE_OPS(st)->share_put(st->impl, token, id, at, out);
}

int store_share_delete_tx(struct store *st, const char *id) {
  return STORE_OPS(st)->share_delete(st->impl, id);
}

int store_session_votes_locked(struct store *st, const char *session,
                               long max, store_session_vote_fn fn,
                               void *ctx) {
  return STORE_OPS(st)->session_votes(st->impl, session, max, fn, ctx);
}

/* ---- votes and ratings ---- */

enum agon_ec store_vote_tx(struct store *st, const struct vote_request *vr,
                           const struct live_ratings *live,
                           struct vote_batch *vb, struct vote_outcome *out) {
  return STORE_OPS(st)->vote(st->impl, vr, live, vb, out);
}

void vote_outcome_release(struct vote_outcome *o) {
  free(o->model[0]);
  free(o->model[1]);
  o->model[0] = o->model[1] = NULL;
}

int store_slices_load(struct store *st, struct slice_table *t) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->slices_load(st->impl, t);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_slices_replay(struct store *st, struct slice_table *t,
                        long *n_votes) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->slices_replay(st->impl, t, n_votes);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_battle_categories_tx(struct store *st, const char *id,
                               const struct category_verdict *v, size_t n,
                               const char *tagger, int64_t at,
                               struct vote_batch *vb) {
  return STORE_OPS(st)->battle_categories(st->impl, id, v, n, tagger, at, vb);
}

int store_dedup_stats(struct store *st, long *prompts, long *left_out) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->dedup_stats(st->impl, prompts, left_out);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_timed_votes(struct store *st, store_timed_fn fn, void *ctx) {
  return STORE_OPS(st)->timed_votes(st->impl, fn, ctx);
}

int store_style_votes(struct store *st, const char *language,
                      const char *category, store_style_fn fn, void *ctx,
                      long *skipped) {
  return STORE_OPS(st)->style_votes(st->impl, language, category, fn, ctx, skipped);
}

int store_ratings_load(struct store *st, struct rating_table *t,
                       struct pair_table *pairs) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->ratings_load(st->impl, t, pairs);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_live_load_locked(struct store *st, struct rating_table *t,
                           struct pair_table *pairs,
                           struct slice_table *slices) {
  if (STORE_OPS(st)->ratings_load(st->impl, t, pairs) ||
      st->ops->slices_load(st->impl, slices))
    return -1;
  return 0;
}

int store_replay_locked(struct store *st, double k, struct rating_table *t,
                        struct pair_table *pairs, long *n_votes) {
  return STORE_OPS(st)->ratings_replay(st->impl, k, t, pairs, n_votes);
}

int store_ratings_replay(struct store *st, double k, struct rating_table *t,
                         struct pair_table *pairs, long *n_votes) {
  pthread_mutex_lock(&st->lock);
  int rc = store_replay_locked(st, k, t, pairs, n_votes);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- agon bench's runs ---- */

int store_bench_run_open(struct store *st, const struct store_bench_key *k,
                         long items, int64_t at, int64_t *run_id) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->bench_run_open(st->impl, k, items, at, run_id);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_bench_items(struct store *st, int64_t run_id,
                      store_bench_item_fn fn, void *ctx) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->bench_items(st->impl, run_id, fn, ctx);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

int store_bench_items_put(struct store *st, int64_t run_id,
                          const struct store_bench_item *items, size_t n,
                          int64_t at) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->begin(st->impl);
  if (!rc)
    rc = STORE_OPS(st)->bench_items_put(st->impl, run_id, items, n, at);
  if (!rc)
    rc = STORE_OPS(st)->commit(st->impl);
  if (rc)
    STORE_OPS(st)->rollback(st->impl);
  pthread_mutex_unlock(&st->lock);
  return rc ? -1 : 0;
}

int store_bench_finish(struct store *st, int64_t run_id,
                       const struct store_bench_score *s, size_t n,
                       int64_t at) {
  pthread_mutex_lock(&st->lock);
  int rc = STORE_OPS(st)->begin(st->impl);
  if (!rc)
    rc = STORE_OPS(st)->bench_finish(st->impl, run_id, s, n, at);
  if (!rc)
    rc = STORE_OPS(st)->commit(st->impl);
  if (rc)
    STORE_OPS(st)->rollback(st->impl);
  pthread_mutex_unlock(&st->lock);
  return rc ? -1 : 0;
}

int store_bench_results(struct store *st, store_bench_result_fn fn,
                        void *ctx) {
  return STORE_OPS(st)->bench_results(st->impl, fn, ctx);
}
