/* Battles read back from the database, into the registry. */
#include "battle/arena_impl.h"

#include <stdio.h>
#include <string.h>

#include "render/markdown.h"
#include "util/node_id.h"

/* foreign: the battle is another node's, which may still stream it or
 * retry it; this node's own, read back, can no longer do either. */
static enum battle_status status_from(const char *s, int foreign) {
  if (!strcmp(s, "ready"))
    return BATTLE_READY;
  if (!strcmp(s, "voted"))
    return BATTLE_VOTED;
  if (!strcmp(s, "streaming"))
    return BATTLE_STREAMING;
  if (foreign && !strcmp(s, "retry"))
    return BATTLE_RETRY;
  return BATTLE_FAILED;
}

/* What regenerates and retries replaced, from r into b: the texts'
 * sizes counted, each turn's regenerations and the battle's retries. The
 * reasoning is left in the database (see battle_drop_reasoning_locked).
 * 0, or -1 when out of memory or the arrays cannot be read. */
static int replaced_from_record(struct battle *b, struct battle_record *r) {
  if (r->replaced && !(b->replaced = json_loads(r->replaced, 0, NULL)))
    return -1;
  if (r->replacements &&
      !(b->replacements = json_loads(r->replacements, 0, NULL)))
    return -1;
  for (size_t i = 0; b->replaced && i < json_array_size(b->replaced); i++) {
    json_t *row = json_array_get(b->replaced, i);
    json_object_del(row, "reasoning");
    const char *answer = json_string_value(json_object_get(row, "answer"));
    b->replaced_bytes += answer ? strlen(answer) : 0;
    json_int_t turn = json_integer_value(json_object_get(row, "turn"));
    const char *kind = json_string_value(json_object_get(row, "kind"));
    const char *side = json_string_value(json_object_get(row, "side"));
    if (turn >= 1 && (size_t)turn <= b->n_turns && kind && side &&
        !strcmp(kind, "regenerate") && !strcmp(side, "a"))
      b->turns[turn - 1].regenerations++;
    if (turn >= 1 && (size_t)turn <= b->n_turns)
      b->turns[turn - 1].attempt++;
  }
  b->retries = (int)json_array_size(b->replacements);
  return 0;
}

/* A battle object for a stored battle: finished turns only. The
 * reasoning only once voted (see battle_drop_reasoning_locked). A
 * foreign battle (another node's) keeps its status as stored: its latest
 * turn may still be streaming there (no answer here: the deltas never go
 * through the database). */
static struct battle *battle_from_record(const struct config *cfg,
                                         struct battle_record *r,
                                         int foreign) {
  enum battle_mode mode = !strcmp(r->mode, "named")    ? BATTLE_NAMED
                          : !strcmp(r->mode, "direct") ? BATTLE_DIRECT
                                                       : BATTLE_ANONY;
  int sides = mode == BATTLE_DIRECT ? 1 : 2;
  struct model_config m[2];
  memset(m, 0, sizeof m);
  for (int s = 0; s < sides; s++) {
    const struct model_config *c = config_find_model(cfg, r->model[s]);
    if (c) {
      m[s] = *c;
    } else {
      memset(&m[s], 0, sizeof m[s]);
      m[s].name = r->model[s];
    }
  }
  struct battle *b = battle_new(r->id, r->session, r->created_at, &m[0],
                                sides == 2 ? &m[1] : NULL);
  if (!b)
    return NULL;
  b->mode = mode;
  b->max_answer = (size_t)cfg->max_answer_bytes;
  if (!config_find_model(cfg, r->model[0]) ||
      (sides == 2 && !config_find_model(cfg, r->model[1])))
    b->model[0].enabled = b->model[1].enabled = 0;
  b->status = status_from(r->status, foreign);
  int streams = foreign && b->status == BATTLE_STREAMING;
  b->winner = r->winner;
  b->reasons = r->reasons;  /* taken over */
  b->comment = r->comment;
  r->reasons = r->comment = NULL;
  for (size_t i = 0; i < r->n_turns; i++) {
    struct turn_record *tr = &r->turns[i];
    int t = battle_add_turn_locked(b, tr->prompt, b->max_answer);
    if (t < 0)
      goto fail;
    b->turns[t].side[1].finished = 1;  /* also when absent (direct chat) */
    for (int s = 0; s < sides; s++) {
      struct battle_side *side = &b->turns[t].side[s];
      side->finished = 1;
      side->text.max = (size_t)-1 / 2;  /* stored answers are already bounded */
      side->reasoning.max = side->text.max;
      if (tr->answer[s] && buf_append_str(&side->text, tr->answer[s]))
        goto fail;
      if (tr->reasoning[s] && b->status != BATTLE_VOTED)
        b->reasoning_dropped = 1;
      else if (tr->reasoning[s] &&
               buf_append_str(&side->reasoning, tr->reasoning[s]))
        goto fail;
      if (tr->answer[s] && !tr->error[s]) {
        side->html = markdown_to_html(tr->answer[s], strlen(tr->answer[s]));
        side->html_len = side->html ? strlen(side->html) : 0;
      }
      if (tr->error[s]) {
        side->failed = 1;
        snprintf(side->public_error, sizeof side->public_error,
                 "this answer failed");
      } else if (!tr->answer[s] && streams && i + 1 == r->n_turns) {
        side->finished = 0;  /* its node streams it */
      } else if (!tr->answer[s]) {
        /* the turn never finished: the server stopped while it streamed */
        side->failed = 1;
        snprintf(side->public_error, sizeof side->public_error,
                 "the answer was interrupted");
      }
    }
  }
  if (b->status == BATTLE_STREAMING && !streams)
    b->status = BATTLE_FAILED;  /* a turn that can no longer finish */
  if (replaced_from_record(b, r))
    goto fail;
  return b;
fail:
  battle_unref(b);
  return NULL;
}

/* Reads of one battle that a change to its record may overtake (see
 * registry_put_loaded), before it counts as not found. Only a vote
 * changes a record without its battle in memory, and each battle is voted
 * once: a second read is all but certain to stand (it fails again only
 * for votes on other battles of its registry bucket meanwhile). */
#define LOAD_TRIES 8

/* Whether battle id is another node's (util/node_id.h). */
static int foreign_battle(struct arena *a, const char *id) {
  char node[NODE_NAME_MAX + 1];
  return node_of_battle(id, node) && strcmp(node, a->node.name);
}

struct battle *arena_battle_read(struct arena *a, const char *id) {
  struct battle *b = registry_get(&a->battles, id);
  if (b)
    return b;
  maybe_sweep(a);  /* loads from the database fill the registry too */
  int foreign = foreign_battle(a, id);
  for (int i = 0; i < LOAD_TRIES; i++) {
    struct battle_record r;
    struct registry_stamp stamp = registry_stamp(&a->battles, id);
    if (store_battle_load(&a->store, id, &r))
      return NULL;
    struct config *cfg = arena_config(a);
    b = battle_from_record(cfg, &r, foreign);
    config_unref(cfg);
    battle_record_release(&r);
    if (!b)
      return NULL;
    /* Another node's battle that it may still change (stream, retry,
     * follow up, regenerate) is read from the database each time, never
     * kept here: only a voted or failed one stays as it is. */
    if (foreign && b->status != BATTLE_VOTED && b->status != BATTLE_FAILED)
      return b;
    struct battle *have = registry_put_loaded(&a->battles, b, stamp);
    battle_unref(b);
    if (have)
      return have;
  }
  return NULL;
}
