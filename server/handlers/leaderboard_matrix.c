/* GET /api/leaderboard/matrix[?language=L][&category=C]: pairwise battle
 * counts, observed win fractions and Bradley-Terry predicted win
 * probabilities among the enabled models (row model against column model;
 * null where undefined), of the whole board or, with a language and/or a
 * category, of that slice: its own pair counts and its own fit
 * (arena_slice_snapshot), as its board (leaderboard_slice.c) shows them.
 * The matrices are the plain fit's: style=control is not applied to them.
 * With open_weights=true, of the open-weights board (of the whole board or
 * the slice): its fit, among the open-weights models only. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/slice_query.h"
#include "http/reply.h"

enum MHD_Result handle_leaderboard_matrix(struct request *rq) {
  struct slice_query sq;
  enum agon_ec ec = slice_query_read(rq, &sq);
  if (ec)
    return reply_ec(rq, ec);
  char open_key[RATING_OPEN_KEY_MAX];
  rating_worker_open_key(open_key, sq.key);
  struct bt_snapshot *snap = sq.open_weights ? arena_slice_snapshot(rq->arena, open_key)
                             : sq.key[0]     ? arena_slice_snapshot(rq->arena, sq.key)
                                             : arena_bt_snapshot(rq->arena);
  size_t n = 0;
  const char **names = calloc(rq->cfg->n_models + 1, sizeof *names);
  if (!names) {
    bt_snapshot_unref(snap);
    return MHD_NO;
  }
  for (size_t i = 0; i < rq->cfg->n_models; i++)
    if (rq->cfg->models[i].enabled &&
        (!sq.open_weights || rq->cfg->models[i].card.open_weights))
      names[n++] = rq->cfg->models[i].name;
  json_t *jnames = json_array(), *battles = json_array(),
         *fraction = json_array(), *predicted = json_array();
  for (size_t i = 0; i < n; i++) {
    json_array_append_new(jnames, json_string(names[i]));
    json_t *rb = json_array(), *rf = json_array(), *rp = json_array();
    int si = snap ? bt_snapshot_find(snap, names[i]) : -1;
    for (size_t j = 0; j < n; j++) {
      long games = 0;
      double wins = 0;
      int sj = snap ? bt_snapshot_find(snap, names[j]) : -1;
      if (snap && i != j) {
        struct pair_row *p = pair_table_get(&snap->pairs, names[i], names[j], 0);
        if (p) {
          int i_is_a = strcmp(names[i], names[j]) < 0;
          games = p->wins_a + p->wins_b + p->ties;
          wins = (double)(i_is_a ? p->wins_a : p->wins_b) + 0.5 * (double)p->ties;
        }
      }
      json_array_append_new(rb, json_integer(games));
      json_array_append_new(rf, games ? json_real(wins / (double)games)
                                      : json_null());
      int comparable = i != j && si >= 0 && sj >= 0 &&
                       snap->s[si].component >= 0 &&
                       snap->s[si].component == snap->s[sj].component;
      json_array_append_new(
          rp, comparable ? json_real(bt_win_probability(snap->s[si].bt,
                                                        snap->s[sj].bt))
                         : json_null());
    }
    json_array_append_new(battles, rb);
    json_array_append_new(fraction, rf);
    json_array_append_new(predicted, rp);
  }
  free(names);
  json_t *body = json_pack("{s:o, s:o, s:o, s:o, s:I}", "models", jnames,
                           "battles", battles, "win_fraction", fraction,
                           "predicted", predicted, "bt_fit",
                           (json_int_t)(snap ? snap->fit : 0));
  if (sq.key[0])
    json_object_set_new(
        body, "slice",
        json_pack("{s:s, s:o, s:o}", "key", sq.key, "language",
                  sq.language ? json_string(sq.language) : json_null(),
                  "category",
                  sq.category ? json_string(sq.category) : json_null()));
  if (sq.open_weights)
    json_object_set_new(body, "open_weights", json_true());
  bt_snapshot_unref(snap);
  return reply_json(rq, MHD_HTTP_OK, body);
}
