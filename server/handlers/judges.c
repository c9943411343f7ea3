/* GET /api/judges: each configured judge's counts and its agreement with
 * the humans, on battles that have both a counted human vote and the
 * judge's verdict (Zheng et al. 2023: with ties as a third class, and
 * without ties, over battles where neither chose a tie). */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_judges(struct request *rq) {
  json_t *list = json_array();
  for (size_t i = 0; i < rq->cfg->n_judges; i++) {
    const struct judge_config *j = &rq->cfg->judges[i];
    json_t *st = arena_judge_stats(rq->arena, j->conn.name);
    if (!st) {
      json_decref(list);
      return reply_ec(rq, EC_INTERNAL_JUDGES);
    }
    json_object_set_new(st, "mode", json_string(j->mode == JUDGE_SINGLE
                                                    ? "single"
                                                    : "pairwise"));
    json_object_set_new(st, "swap", json_boolean(j->swap));
    json_object_set_new(st, "auto", json_boolean(j->auto_judge));
    json_object_set_new(st, "few_shot", json_integer(j->few_shot));
    json_array_append_new(list, st);
  }
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "judges", list));
}
