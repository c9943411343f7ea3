/* A session's own board: the Elo and the counts of its own counted votes
 * only (rating/own_boards.h holds them). Fed by each stored vote on the
 * writer thread; a session not held (after a restart, or dropped as least
 * recently used) is read back from the database on the writer thread, in
 * a call of its own (store_writer_call alone), while its request waits
 * suspended: that read sees every vote stored before it, and every vote
 * after it is fed in, so a board is never short of a vote nor counts one
 * twice. */
#include "battle/wait.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Own boards read back at once, at most. */
#define MAX_OWN_READS 32

static int by_elo(const void *x, const void *y) {
  const struct rating_row *a = x, *b = y;
  if (a->elo != b->elo)
    return a->elo < b->elo ? 1 : -1;
  return strcmp(a->model, b->model);
}

/* The board of session from memory: 1 with *out, 0 when the session is
 * not held, -1 when out of memory. */
static int board_json(struct arena *a, const char *session, double k,
                      json_t **out) {
  struct rating_table t = {0};
  long n = 0;
  int held = own_boards_replay(&a->own, session, k, &t, &n);
  if (held == 1) {
    if (t.n)
      qsort(t.rows, t.n, sizeof *t.rows, by_elo);
    json_t *models = json_array();
    for (size_t i = 0; i < t.n; i++) {
      const struct rating_row *r = &t.rows[i];
      json_array_append_new(
          models, json_pack("{s:s, s:f, s:I, s:I, s:I, s:I}", "model",
                            r->model, "elo", r->elo, "battles",
                            (json_int_t)r->battles, "wins",
                            (json_int_t)r->wins, "losses",
                            (json_int_t)r->losses, "ties",
                            (json_int_t)r->ties));
    }
    *out = json_pack("{s:I, s:f, s:o}", "votes", (json_int_t)n, "k", k,
                     "models", models);
    if (!*out)
      held = -1;
  }
  rating_table_release(&t);
  return held;
}

void own_board_vote(struct arena *a, const char *session, const char *model_a,
                    const char *model_b, enum winner w) {
  if (!session || !session[0])
    return;
  struct config *cfg = arena_config(a);
  own_boards_add(&a->own, session, model_a, model_b, w, cfg->own_board_votes);
  config_unref(cfg);
}

/* The votes read back, with their names owned. */
struct read_votes {
  struct own_vote_in *v;
  size_t n, cap;
};

static int collect(void *ctx, const char *model_a, const char *model_b,
                   enum winner w) {
  struct read_votes *rv = ctx;
  if (rv->n == rv->cap) {
    size_t cap = rv->cap ? rv->cap * 2 : 64;
    struct own_vote_in *p = realloc(rv->v, cap * sizeof *p);
    if (!p)
      return -1;
    rv->v = p;
    rv->cap = cap;
  }
  char *a = strdup(model_a), *b = strdup(model_b);
  if (!a || !b) {
    free(a);
    free(b);
    return -1;
  }
  rv->v[rv->n++] = (struct own_vote_in){a, b, w};
  return 0;
}

/* On the writer thread, alone: read the session's votes and hold them. */
static int own_run(void *cls, struct store *st) {
  struct arena_wait *w = cls;
  struct read_votes rv = {0};
  int rc = store_session_votes_locked(st, w->session, w->max_votes, collect,
                                      &rv);
  if (rc == 0)
    rc = own_boards_put(&w->a->own, w->session, rv.v, rv.n, w->max_sessions,
                        w->max_votes);
  for (size_t i = 0; i < rv.n; i++) {
    free((char *)rv.v[i].model_a);
    free((char *)rv.v[i].model_b);
  }
  free(rv.v);
  return rc;
}

static void own_done(void *cls, int ok) {
  struct arena_wait *w = cls;
  /* held now (own_board_sessions is at least 1, and nothing else runs on
   * this thread between the read and this) */
  if (ok && board_json(w->a, w->session, w->k, &w->body) == 1)
    w->rc = EC_OK;
  atomic_fetch_sub(&w->a->own_reads, 1);
  waiter_tell(&w->waiter);
}

enum agon_ec arena_own_board(struct arena *a, const char *session,
                             arena_vote_fn done, void *cls, json_t **body,
                             struct arena_wait **out) {
  *out = NULL;
  *body = NULL;
  struct config *cfg = arena_config(a);
  double k = cfg->elo_k;
  long max_votes = cfg->own_board_votes, max_sessions = cfg->own_board_sessions;
  config_unref(cfg);
  if (!session || !session[0] || strlen(session) >= OWN_BOARD_SESSION) {
    *body = json_pack("{s:i, s:f, s:[]}", "votes", 0, "k", k, "models");
    return *body ? EC_OK : EC_INTERNAL;
  }
  int held = board_json(a, session, k, body);
  if (held < 0)
    return EC_INTERNAL;
  if (held)
    return EC_OK;
  if (atomic_fetch_add(&a->own_reads, 1) >= MAX_OWN_READS) {
    atomic_fetch_sub(&a->own_reads, 1);
    return EC_NOT_QUEUED;
  }
  struct arena_wait *w = arena_wait_new(a, done, cls);
  if (!w) {
    atomic_fetch_sub(&a->own_reads, 1);
    return EC_NOT_QUEUED;
  }
  snprintf(w->session, sizeof w->session, "%s", session);
  w->k = k;
  w->max_votes = max_votes;
  w->max_sessions = max_sessions;
  if (store_writer_call(a->writer, own_run, own_done, w, 1)) {
    atomic_fetch_sub(&a->own_reads, 1);
    arena_wait_abandon(w);
    return EC_NOT_QUEUED;
  }
  *out = w;
  return EC_OK;
}
