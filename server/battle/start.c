/* Starting a battle: two distinct enabled models drawn by the pairing
 * rule ([arena] pairing, battle/pairing.c), or the ones the visitor
 * chose, stored, then asked. */
#include "battle/arena_impl.h"

#include <stdio.h>
#include <string.h>

#include "util/log.h"
#include "util/clock.h"
#include "util/node_id.h"

static enum agon_ec battle_start(struct arena *a, const struct config *cfg,
                                 const char *session, const char *prompt,
                                 struct battle **out);

_Static_assert(sizeof ((struct battle *)0)->id == ARENA_BATTLE_ID,
               "a battle id fits ARENA_BATTLE_ID");

enum agon_ec arena_battle_start(struct arena *a, const char *session,
                                const char *prompt, char id[ARENA_BATTLE_ID]) {
  struct battle *b = NULL;
  id[0] = '\0';
  maybe_sweep(a);
  struct config *cfg = arena_config(a);
  enum agon_ec rc = battle_start(a, cfg, session, prompt, &b);
  config_unref(cfg);
  if (b) {
    snprintf(id, ARENA_BATTLE_ID, "%s", b->id);
    battle_unref(b);
  }
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

/* Make, store and ask a battle of mode between ma and mb (NULL in a
 * direct chat), once a stream slot is reserved (given back on failure). */
static enum agon_ec battle_launch(struct arena *a, const struct config *cfg,
                                  const char *session, const char *prompt,
                                  const struct model_config *ma,
                                  const struct model_config *mb,
                                  enum battle_mode mode, struct battle **out) {
  char id[40];
  struct battle *b = NULL;
  int64_t created = now_ms();
  if (node_battle_id_new(a->node.name, id) ||
      !(b = battle_new(id, session, created, ma, mb))) {
    atomic_fetch_sub(&a->streaming, 1);
    return EC_INTERNAL_BATTLE;
  }
  b->mode = mode;
  pthread_mutex_lock(&b->lock);
  b->max_answer = (size_t)cfg->max_answer_bytes;
  int turn = battle_add_turn_locked(b, prompt, b->max_answer);
  pthread_mutex_unlock(&b->lock);
  battle_ref(b);  /* for battle_stored */
  if (turn < 0 ||
      store_writer_battle_create_mode(a->writer, id, created, ma->name,
                                      mb ? mb->name : "",
                                      battle_mode_name(mode), session, prompt,
                                      battle_stored, b)) {
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
  registry_account(&a->battles, have);  /* at rest if neither was asked */
  log_info("msg=\"battle started\" battle=%s mode=%s model_a=\"%s\" "
           "model_b=\"%s\"",
           id, battle_mode_name(mode), log_q(ma->name),
           mb ? log_q(mb->name) : "");
  *out = have;
  return EC_OK;
}

static enum agon_ec battle_start(struct arena *a, const struct config *cfg,
                                 const char *session, const char *prompt,
                                 struct battle **out) {
  if (config_enabled_models(cfg) < 2)
    return EC_NOT_ENOUGH_MODELS;
  char why[200];
  if (store_writer_fault(a->writer, why, sizeof why))
    return EC_STORAGE_UNAVAILABLE;  /* a 201 now could not be kept */
  if (reserve_stream(a, cfg))
    return EC_BUSY;
  size_t i = 0, j = 0;
  if (arena_pairing_draw(a, cfg, &i, &j)) {  /* by [arena] pairing */
    atomic_fetch_sub(&a->streaming, 1);
    return EC_NOT_ENOUGH_MODELS;
  }
  const struct model_config *ma = &cfg->models[i];
  const struct model_config *mb = &cfg->models[j];
  return battle_launch(a, cfg, session, prompt, ma, mb, BATTLE_ANONY, out);
}

/* The enabled model of cfg called name, or NULL. */
static const struct model_config *enabled_model(const struct config *cfg,
                                                const char *name) {
  const struct model_config *m = config_find_model(cfg, name);
  return m && m->enabled ? m : NULL;
}

enum agon_ec arena_battle_start_chosen(struct arena *a, const char *session,
                                       const char *prompt,
                                       const char *const *models, size_t n,
                                       char id[ARENA_BATTLE_ID], char *msg,
                                       size_t msglen) {
  struct battle *b = NULL;
  enum agon_ec rc = EC_INVALID_MODELS;
  id[0] = '\0';
  msg[0] = '\0';
  maybe_sweep(a);
  struct config *cfg = arena_config(a);
  const struct model_config *m[2] = {NULL, NULL};
  if (n < 1 || n > 2) {
    snprintf(msg, msglen, "\"models\" must name one model (a direct chat) "
                          "or two (side by side)");
    goto out;
  }
  for (size_t i = 0; i < n; i++) {
    /* the name is not echoed: it is the visitor's input, of any length */
    if (!(m[i] = enabled_model(cfg, models[i]))) {
      snprintf(msg, msglen, "\"models\"[%zu] is not an enabled model", i);
      goto out;
    }
  }
  if (n == 2 && m[0] == m[1]) {
    snprintf(msg, msglen, "\"models\" must name two different models");
    goto out;
  }
  char why[200];
  rc = EC_STORAGE_UNAVAILABLE;
  if (store_writer_fault(a->writer, why, sizeof why))
    goto out;  /* a 201 now could not be kept */
  rc = EC_BUSY;
  if (reserve_stream(a, cfg))
    goto out;
  rc = battle_launch(a, cfg, session, prompt, m[0], m[1],
                     n == 2 ? BATTLE_NAMED : BATTLE_DIRECT, &b);
  if (b) {
    snprintf(id, ARENA_BATTLE_ID, "%s", b->id);
    battle_unref(b);
  }
out:
  config_unref(cfg);
  return rc;
}
