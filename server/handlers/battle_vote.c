/* POST /api/battles/ID/vote {"winner", "reasons"?, "comment"?}: the
 * visitor's verdict; reveals the names and moves the live Elo. The
 * reasons (of [arena] vote_reasons) and the comment are stored with the
 * vote, in its transaction, and change no rating. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/model_card.h"
#include "http/body.h"
#include "http/reply.h"

#include <stdlib.h>

static void vote_free(void *pending) { arena_vote_free(pending); }

/* The answer, once the writer has decided the vote. */
static enum MHD_Result vote_reply(struct request *rq) {
  struct arena_vote_outcome o;
  enum agon_ec rc = arena_vote_result(rq->pending, &o);
  if (rc)
    return reply_ec(rq, rc);
  enum winner w;
  char msg[160];
  body_check_winner(rq->json, &w, msg, sizeof msg);
  json_t *elo = json_object(), *before = json_object();
  json_object_set_new(elo, o.model[0], json_real(o.elo[0]));
  json_object_set_new(elo, o.model[1], json_real(o.elo[1]));
  json_object_set_new(before, o.model[0], json_real(o.elo_before[0]));
  json_object_set_new(before, o.model[1], json_real(o.elo_before[1]));
  json_t *body = json_pack("{s:s, s:{s:s, s:s}, s:o, s:b}", "winner",
                           winner_name(w), "models", "a", o.model[0], "b",
                           o.model[1], "elo", elo, "counted", o.counted);
  json_object_set_new(body, "elo_before", before);
  /* as checked when the vote came */
  json_t *reasons = json_object_get(rq->json, "reasons");
  json_t *comment = json_object_get(rq->json, "comment");
  json_object_set_new(body, "reasons", json_is_array(reasons)
                                           ? json_incref(reasons)
                                           : json_array());
  json_object_set_new(body, "comment",
                      json_is_string(comment) && json_string_length(comment)
                          ? json_incref(comment)
                          : json_null());
  json_object_set_new(body, "cards",
                      model_cards_json(rq->cfg, o.model[0], o.model[1]));
  return reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result handle_battle_vote(struct request *rq) {
  enum winner w;
  char msg[160];
  enum agon_ec ec = body_check_winner(rq->json, &w, msg, sizeof msg);
  if (ec)
    return reply_ec_msg(rq, ec, msg);
  char *reasons = NULL;
  const char *comment = NULL;
  ec = body_check_vote_extras(rq->json,
                              (const char *const *)rq->cfg->vote_reasons,
                              rq->cfg->n_vote_reasons,
                              rq->cfg->max_vote_comment_chars, &reasons,
                              &comment, msg, sizeof msg);
  if (ec)
    return reply_ec_msg(rq, ec, msg);
  int wait = arena_rate_limit(rq->arena, ARENA_LIMIT_VOTES, rq->client);
  if (wait) {
    free(reasons);
    return reply_ec_retry(rq, EC_TOO_MANY_VOTES, wait);
  }
  const char *session = request_session(rq, 0);
  /* The vote waits for its group commit with the connection suspended: no
   * worker waits on the disk. Suspend first, so that the resume (from the
   * writer, maybe at once) always finds it suspended. */
  rq->on_resume = vote_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_vote *v = arena_vote_start(rq->arena, rq->param,
                                          session ? session : "", rq->client,
                                          w, reasons, comment, reply_resume,
                                          rq->conn);
  free(reasons);  /* copied */
  if (!v)
    return reply_ec_resumed(rq, EC_VOTE_NOT_QUEUED);
  rq->pending = v;
  rq->pending_free = vote_free;
  return MHD_YES;
}
