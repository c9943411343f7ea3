/* A follow-up turn: stored first, then added in memory and asked. */
#include "battle/arena_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"

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
  registry_account(&t->a->battles, b);  /* streaming: no longer at rest */
  if (rc != EC_OK)
    atomic_fetch_sub(&t->a->streaming, 1);
  t->rc = rc;
  waiter_tell(&t->waiter);
}

static enum agon_ec turn_start(struct arena *a, struct battle *b,
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
  if (!b->model[0].base_url ||
      (battle_sides(b) == 2 && !b->model[1].base_url)) {
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

enum agon_ec arena_turn_start(struct arena *a, struct arena_held *h,
                              const char *session, const char *prompt,
                              arena_vote_fn done, void *cls,
                              struct arena_turn **out) {
  *out = NULL;
  struct battle *b = arena_held_battle(h);
  if (!b)
    return EC_BATTLE_NOT_FOUND;
  enum agon_ec rc = session ? turn_start(a, b, session, prompt, done, cls, out)
                            : EC_NOT_YOUR_BATTLE;
  battle_unref(b);
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
