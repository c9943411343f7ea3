/* A battle as the public sees it (GET /api/battles/ID): blind until it is
 * voted. */
#include "battle/arena_impl.h"

#include <stdio.h>

static const char *const replaced_keys[] = {
    "turn", "side", "attempt", "kind", "model", "answer", "failed", NULL};
static const char *const replacement_keys[] = {"side", "turn", "old_model",
                                               "new_model", NULL};

/* A new array of copies of list's objects, with only these keys ([] for
 * NULL), so that the caller owns all of it. */
static json_t *pick(const json_t *list, const char *const *keys) {
  json_t *out = json_array();
  for (size_t i = 0; list && i < json_array_size(list); i++) {
    json_t *from = json_array_get(list, i), *row = json_object();
    for (size_t k = 0; keys[k]; k++) {
      json_t *v = json_object_get(from, keys[k]);
      json_object_set_new(row, keys[k], v ? json_deep_copy(v) : json_null());
    }
    json_array_append_new(out, row);
  }
  return out;
}

enum agon_ec arena_battle_json(struct arena *a, struct arena_held *h,
                               json_t **out) {
  *out = NULL;
  (void)a;
  struct battle *b = arena_held_battle(h);
  if (!b)
    return EC_BATTLE_NOT_FOUND;
  json_t *turns = json_array();
  pthread_mutex_lock(&b->lock);
  for (size_t i = 0; i < b->n_turns; i++) {
    struct battle_turn *t = &b->turns[i];
    json_t *turn = json_object();
    json_object_set_new(turn, "prompt", json_string(t->prompt));
    const char *names[2] = {"a", "b"};
    if (battle_sides(b) < 2) { /* a direct chat: no side b at all */
      json_object_set_new(turn, "b", json_null());
      json_object_set_new(turn, "b_html", json_null());
      json_object_set_new(turn, "b_reasoning", json_null());
    }
    for (int s = 0; s < battle_sides(b); s++) {
      struct buf *tx = &t->side[s].text;
      json_object_set_new(turn, names[s],
                          json_stringn(tx->data ? tx->data : "", tx->len));
      char key[16];
      snprintf(key, sizeof key, "%s_html", names[s]);
      json_object_set_new(turn, key,
                          t->side[s].html ? json_string(t->side[s].html)
                                          : json_null());
      /* the reasoning, apart from the answer, once the battle is voted:
       * before, that a side reasons at all would tell a reasoning model */
      const struct buf *r = &t->side[s].reasoning;
      snprintf(key, sizeof key, "%s_reasoning", names[s]);
      json_object_set_new(turn, key,
                          b->status == BATTLE_VOTED && t->side[s].html &&
                                  r->len
                              ? json_stringn(r->data, r->len)
                              : json_null());
    }
    json_t *errors = json_null();
    if (t->side[0].failed || t->side[1].failed)
      errors = json_pack("{s:s?, s:s?}", "a",
                         t->side[0].failed ? t->side[0].public_error : NULL,
                         "b",
                         t->side[1].failed ? t->side[1].public_error : NULL);
    json_object_set_new(turn, "errors", errors);
    /* from the public answers alone: tells nothing about the models */
    json_object_set_new(turn, "identical",
                        json_boolean(battle_turn_identical_locked(b, i)));
    json_array_append_new(turns, turn);
  }
  json_t *body = json_pack(
      "{s:s, s:s, s:s, s:o, s:b}", "id", b->id, "status",
      battle_status_name(b->status), "mode", battle_mode_name(b->mode),
      "turns", turns, "identical",
      b->n_turns && battle_turn_identical_locked(b, b->n_turns - 1));
  json_object_set_new(body, "winner",
                      b->status == BATTLE_VOTED && b->winner >= 0
                          ? json_string(winner_name((enum winner)b->winner))
                          : json_null());
  /* an anonymous battle's names once voted; a chosen one's at once (the
   * visitor chose them) */
  if ((b->status == BATTLE_VOTED && b->winner >= 0) ||
      b->mode != BATTLE_ANONY)
    json_object_set_new(body, "models",
                        json_pack("{s:s, s:s?}", "a", b->model[0].name, "b",
                                  battle_sides(b) == 2 ? b->model[1].name
                                                       : NULL));
  else
    json_object_set_new(body, "models", json_null());
  /* what the voter said beside the verdict: there is none before it */
  json_t *reasons = b->reasons ? json_loads(b->reasons, 0, NULL) : NULL;
  json_object_set_new(body, "reasons", reasons ? reasons : json_array());
  json_object_set_new(body, "comment", b->comment ? json_string(b->comment)
                                                  : json_null());
  /* what regenerates and retries replaced, with their models: once the
   * names are public (voted, or chosen by the visitor) */
  int named = (b->status == BATTLE_VOTED && b->winner >= 0) ||
              b->mode != BATTLE_ANONY;
  json_object_set_new(body, "replaced",
                      named ? pick(b->replaced, replaced_keys) : json_null());
  json_object_set_new(body, "replacements",
                      named ? pick(b->replacements, replacement_keys)
                            : json_null());
  pthread_mutex_unlock(&b->lock);
  battle_unref(b);
  *out = body;
  return EC_OK;
}
