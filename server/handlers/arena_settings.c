/* GET /api/arena: what the arena page needs to know of the arena's
 * settings: the reasons a vote may give ([arena] vote_reasons), how many
 * it may give at most, and the longest comment ([limits]
 * max_vote_comment_chars). The same for everyone. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/body.h"
#include "http/reply.h"

enum MHD_Result handle_arena_settings(struct request *rq) {
  const struct config *cfg = rq->cfg;
  json_t *reasons = json_array();
  for (size_t i = 0; i < cfg->n_vote_reasons; i++)
    json_array_append_new(reasons, json_string(cfg->vote_reasons[i]));
  size_t max = cfg->n_vote_reasons < BODY_MAX_REASONS ? cfg->n_vote_reasons
                                                      : BODY_MAX_REASONS;
  return reply_json(rq, MHD_HTTP_OK,
                    json_pack("{s:o, s:I, s:I}", "vote_reasons", reasons,
                              "max_vote_reasons", (json_int_t)max,
                              "max_vote_comment_chars",
                              (json_int_t)cfg->max_vote_comment_chars));
}
