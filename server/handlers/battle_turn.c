/* POST /api/battles/ID/turns {"prompt"}: a follow-up question to both
 * sides, while the battle is ready and not voted. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "handlers/prompt_body.h"
#include "http/reply.h"

static void turn_free(void *pending) { arena_turn_free(pending); }

enum MHD_Result reply_turn_accepted(struct request *rq, int turn) {
  char events[128];
  snprintf(events, sizeof events, "/api/battles/%s/events", rq->param);
  return reply_json(rq, MHD_HTTP_ACCEPTED,
                    json_pack("{s:i, s:s}", "turn", turn, "events", events));
}

/* The answer once the writer has stored the turn, or refused it. */
static enum MHD_Result turn_reply(struct request *rq) {
  int turn = 0;
  enum agon_ec rc = arena_turn_result(rq->pending, &turn);
  return rc ? reply_ec(rq, rc) : reply_turn_accepted(rq, turn);
}

/* With the battle held: the turn is stored while the request waits. */
static enum MHD_Result battle_turn(struct request *rq, struct arena_held *h) {
  /* checked by prompt_from_body */
  const char *prompt = json_string_value(json_object_get(rq->json, "prompt"));
  const char *session = request_session(rq, 0);
  /* Suspended while the writer stores the turn (no worker waits on the
   * disk); suspend first, so the resume always finds it suspended. */
  rq->on_resume = turn_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_turn *t = NULL;
  enum agon_ec rc = arena_turn_start(rq->arena, h, session, prompt,
                                     reply_resume, rq->conn, &t);
  if (rc == EC_OK) {
    rq->pending = t;
    rq->pending_free = turn_free;
    return MHD_YES;
  }
  /* refused at once (an unknown battle too) */
  return reply_ec_resumed(rq, rc);
}

enum MHD_Result handle_battle_turn(struct request *rq) {
  enum MHD_Result res;
  if (!prompt_from_body(rq, &res))
    return res;
  return with_held_battle(rq, rq->param, battle_turn);
}
