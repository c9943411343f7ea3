/* GET /api/leaderboard/matrix: pairwise battle counts, observed win
 * fractions and Bradley-Terry predicted win probabilities among the
 * enabled models (row model against column model; null where undefined). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_leaderboard_matrix(struct request *rq) {
  struct bt_snapshot *snap = arena_bt_snapshot(rq->arena);
  size_t n = 0;
  const char **names = calloc(rq->cfg->n_models + 1, sizeof *names);
  if (!names) {
    bt_snapshot_unref(snap);
    return MHD_NO;
  }
  for (size_t i = 0; i < rq->cfg->n_models; i++)
    if (rq->cfg->models[i].enabled)
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
  bt_snapshot_unref(snap);
  return reply_json(rq, MHD_HTTP_OK, body);
}
