/* Regenerate and retry: the latest turn re-asked, before the vote.
 *
 * A regenerate re-asks both sides (a direct chat's one) of a ready
 * battle's latest turn with the same models, in any mode; a retry re-asks
 * the one failed side of an anonymous battle in status retry (battle.h)
 * with another model (arena_pairing_draw_one), the
 * other side's answer kept. Either is stored first (the answers it
 * replaces kept in replaced_answers, the turn cleared, the battle back to
 * 'streaming': store_turn_replace_tx), then the sides are emptied in
 * memory and asked (replace_stored), and the turn ends as any other
 * (ask.c's turn_complete): the vote is decided on what it stored last. */
#include "battle/arena_impl.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

/* A regenerate or a retry on its way through the writer: two references,
 * the writer's and the caller's (as struct arena_turn). */
struct arena_replace {
  struct waiter waiter;        /* first: see replace_release */
  enum agon_ec rc;
  int turn;                    /* 0-based */
  int retry;
  int side;                    /* retry: the failed side */
  struct arena *a;
  struct battle *b;            /* a reference */
  struct model_config model;   /* retry: the new side's settings (a copy) */
};

static void replace_release(struct waiter *w) {
  struct arena_replace *r = (struct arena_replace *)w;
  battle_unref(r->b);
  model_config_release(&r->model);
  free(r);
}

/* At most this many names a retry's draw leaves out: the battle's two
 * models and those it held before. */
#define EXCLUDE_MAX 64

/* The models a retry's draw leaves out, into exclude: how many. Caller
 * holds the lock. */
static size_t excluded_locked(const struct battle *b,
                              const char *exclude[EXCLUDE_MAX]) {
  size_t n = 0;
  exclude[n++] = b->model[0].name;
  exclude[n++] = b->model[1].name;
  for (size_t i = 0; b->replacements && i < json_array_size(b->replacements) &&
                     n < EXCLUDE_MAX;
       i++)
    exclude[n++] = json_string_value(
        json_object_get(json_array_get(b->replacements, i), "old_model"));
  return n;
}

int battle_retry_left_locked(const struct battle *b,
                             const struct config *cfg) {
  /* only an anonymous battle's model is drawn; a chosen one's side fails
   * the battle, as before */
  if (b->mode != BATTLE_ANONY || b->retries >= cfg->max_side_retries)
    return 0;
  /* and a model to take over, now (how many there are does not depend on
   * which models the battle holds) */
  const char *exclude[EXCLUDE_MAX];
  size_t n = excluded_locked(b, exclude);
  return pairing_replacements_left(cfg, exclude, n) > 0;
}

/* Record in memory that side r->side now answers with r->model. */
static int replacement_note_locked(struct battle *b, struct arena_replace *r) {
  if (!b->replacements && !(b->replacements = json_array()))
    return -1;
  json_t *row = json_pack("{s:s, s:i, s:s, s:s}", "side",
                          r->side ? "b" : "a", "turn", r->turn + 1,
                          "old_model", b->model[r->side].name, "new_model",
                          r->model.name);
  if (!row || json_array_append_new(b->replacements, row))
    return -1;
  model_config_release(&b->model[r->side]);
  model_config_copy(&b->model[r->side], &r->model);
  b->retries++;
  return 0;
}

/* The writer stored the replacement (rc 0), or refused it (see
 * store_turn_replace_tx): on the writer thread. Only now are the sides
 * emptied and asked. */
static void replace_stored(void *cls, int stored) {
  struct arena_replace *r = cls;
  struct arena *a = r->a;
  struct battle *b = r->b;
  enum agon_ec rc = EC_OK;
  int asked_none = 0;
  pthread_mutex_lock(&b->lock);
  b->turn_pending = 0;
  struct battle_turn *t = &b->turns[r->turn];
  if (stored == 1) {
    rc = r->retry ? EC_NOTHING_TO_RETRY : EC_REGENERATE_NOT_READY;
  } else if (stored == 2) {
    rc = r->retry ? EC_TOO_MANY_RETRIES : EC_TOO_MANY_REGENERATIONS;
  } else if (stored != 0) {
    rc = EC_INTERNAL_TURN;
  } else {
    const char *kind = r->retry ? "retry" : "regenerate";
    for (int s = 0; s < battle_sides(b) && rc == EC_OK; s++)
      if ((!r->retry || s == r->side) &&
          battle_side_replace_locked(b, r->turn, s, kind))
        rc = EC_INTERNAL_TURN;
    if (rc == EC_OK && r->retry && replacement_note_locked(b, r))
      rc = EC_INTERNAL_TURN;
    if (rc != EC_OK) {
      /* stored 'streaming': failed at the next start */
      b->status = BATTLE_FAILED;
      battle_reveal_metrics_locked(b);
    } else {
      t->attempt++;
      if (!r->retry)
        t->regenerations++;
      b->status = BATTLE_STREAMING;
      b->touched = mono_ms();
      atomic_store(&b->cancel, 0);
      for (int s = 0; s < battle_sides(b); s++)
        if (!r->retry || s == r->side)
          ask_side_locked(a, b, r->turn, s);
      /* a side that could not be asked is finished as failed at once;
       * when every side is final, the turn ends here */
      asked_none = t->side[0].finished && t->side[1].finished;
    }
  }
  pthread_mutex_unlock(&b->lock);
  registry_account(&a->battles, b);  /* streaming: no longer at rest */
  if (rc != EC_OK)
    atomic_fetch_sub(&a->streaming, 1);
  else if (asked_none)
    turn_complete(a, b, r->turn);
  if (rc == EC_OK)
    log_info("msg=\"%s\" battle=%s turn=%d", r->retry ? "retry" : "regenerate",
             b->id, r->turn + 1);
  r->rc = rc;
  waiter_tell(&r->waiter);
}

/* The checks a retry needs beyond the owner's, and its model into
 * r->model. Caller holds the lock. */
static enum agon_ec retry_check_locked(struct battle *b,
                                       const struct config *cfg,
                                       struct arena_replace *r) {
  if (b->status != BATTLE_RETRY || b->turn_pending || !b->n_turns)
    return EC_NOTHING_TO_RETRY;
  struct battle_turn *t = &b->turns[b->n_turns - 1];
  if (t->side[0].failed == t->side[1].failed)
    return EC_NOTHING_TO_RETRY;
  if (b->retries >= cfg->max_side_retries)
    return EC_TOO_MANY_RETRIES;
  r->side = t->side[0].failed ? 0 : 1;
  if (!b->model[1 - r->side].base_url)
    return EC_MODELS_UNAVAILABLE; /* the survivor is asked no more, but
                                     its later turns would be */
  return EC_OK;
}

/* The model to take over the failed side of b, into *out: drawn by the
 * pairing rules ([arena] pairing: arena_pairing_draw_one, battle/pairing.c)
 * against the survivor, none of the battle's models nor those it held.
 * The lock is not held (the rules take locks of their own): the battle's
 * names are copied under it first, and the caller checks the battle again
 * under it before using the draw. */
static enum agon_ec retry_draw(struct arena *a, struct battle *b,
                               const struct config *cfg,
                               struct model_config *out) {
  const char *exclude[EXCLUDE_MAX];
  char *names[EXCLUDE_MAX] = {0};
  char *partner = NULL;
  int copied = 1;
  pthread_mutex_lock(&b->lock);
  size_t n = excluded_locked(b, exclude);
  const struct battle_turn *t = &b->turns[b->n_turns - 1];
  const char *survivor = b->model[t->side[0].failed ? 1 : 0].name;
  for (size_t i = 0; i < n; i++)
    if (exclude[i] && !(names[i] = strdup(exclude[i])))
      copied = 0;
  if (survivor && !(partner = strdup(survivor)))
    copied = 0;
  pthread_mutex_unlock(&b->lock);
  enum agon_ec rc = EC_INTERNAL_TURN;
  if (copied) {
    for (size_t i = 0; i < n; i++)
      exclude[i] = names[i];
    long k = arena_pairing_draw_one(a, cfg, partner, exclude, n);
    if (k < 0) {
      rc = EC_NO_REPLACEMENT_MODEL;
    } else {
      model_config_copy(out, &cfg->models[k]);
      rc = out->name ? EC_OK : EC_INTERNAL_TURN;
    }
  }
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(partner);
  return rc;
}

static enum agon_ec regenerate_check_locked(struct battle *b,
                                            const struct config *cfg) {
  if (b->status != BATTLE_READY || b->turn_pending || !b->n_turns)
    return EC_REGENERATE_NOT_READY;
  if (b->turns[b->n_turns - 1].regenerations >= cfg->max_regenerations)
    return EC_TOO_MANY_REGENERATIONS;
  for (int s = 0; s < battle_sides(b); s++)
    if (!b->model[s].base_url)
      return EC_MODELS_UNAVAILABLE;
  return EC_OK;
}

static enum agon_ec replace_start(struct arena *a, struct battle *b,
                                  const char *session, int retry,
                                  arena_vote_fn done, void *cls,
                                  struct arena_replace **out) {
  enum agon_ec rc = EC_OK;
  struct config *cfg = arena_config(a);
  struct arena_replace *r = calloc(1, sizeof *r);
  *out = NULL;
  if (r && retry) {
    /* checked, then drawn without the lock, then checked again below */
    pthread_mutex_lock(&b->lock);
    rc = strcmp(b->session, session) ? EC_NOT_YOUR_BATTLE
                                     : retry_check_locked(b, cfg, r);
    pthread_mutex_unlock(&b->lock);
    if (rc == EC_OK)
      rc = retry_draw(a, b, cfg, &r->model);
  }
  pthread_mutex_lock(&b->lock);
  if (!r) {
    rc = EC_INTERNAL_TURN;
    goto out;
  }
  if (rc)
    goto out;
  if (strcmp(b->session, session)) {
    rc = EC_NOT_YOUR_BATTLE;
    goto out;
  }
  rc = retry ? retry_check_locked(b, cfg, r) : regenerate_check_locked(b, cfg);
  if (rc)
    goto out;
  char why[200];
  if (store_writer_fault(a->writer, why, sizeof why)) {
    rc = EC_STORAGE_TURN;
    goto out;
  }
  if (reserve_stream(a, cfg)) {
    rc = EC_BUSY;
    goto out;
  }
  waiter_init(&r->waiter, done, cls, replace_release);
  r->a = a;
  r->b = b;
  battle_ref(b);
  r->retry = retry;
  r->turn = (int)b->n_turns - 1;
  struct turn_replace tr = {
      .turn = r->turn + 1,
      .sides = retry ? 1 << r->side : battle_sides(b) == 2 ? 3 : 1,
      .retry = retry,
      .new_model = retry ? r->model.name : NULL,
      .max = retry ? cfg->max_side_retries : cfg->max_regenerations,
      .at = now_ms()};
  /* stored first (the writer refuses it if a vote came in), then emptied
   * and asked (replace_stored); nothing else on the battle meanwhile */
  b->turn_pending = 1;
  if (store_writer_turn_replace_async(a->writer, b->id, &tr, replace_stored,
                                      r)) {
    b->turn_pending = 0;
    atomic_fetch_sub(&a->streaming, 1);
    waiter_unref(&r->waiter);  /* the writer's, never to tell */
    waiter_leave(&r->waiter);  /* ours: frees r */
    r = NULL;
    rc = EC_INTERNAL_TURN;
    goto out;
  }
  *out = r;
  r = NULL;
out:
  pthread_mutex_unlock(&b->lock);
  if (r) {
    model_config_release(&r->model);
    free(r);
  }
  config_unref(cfg);
  return rc;
}

enum agon_ec arena_replace_start(struct arena *a, struct arena_held *h,
                                 const char *session, int retry,
                                 arena_vote_fn done, void *cls,
                                 struct arena_replace **out) {
  *out = NULL;
  struct battle *b = arena_held_battle(h);
  if (!b)
    return EC_BATTLE_NOT_FOUND;
  enum agon_ec rc = session ? replace_start(a, b, session, retry, done, cls,
                                            out)
                            : EC_NOT_YOUR_BATTLE;
  battle_unref(b);
  return rc;
}

enum agon_ec arena_replace_result(struct arena_replace *r, int *turn) {
  *turn = r->turn + 1;
  return waiter_told(&r->waiter) ? r->rc : EC_INTERNAL_TURN;
}

void arena_replace_free(struct arena_replace *r) {
  if (r)
    waiter_leave(&r->waiter);
}
