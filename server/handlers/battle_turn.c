/* POST /api/battles/ID/turns {"prompt"}: a follow-up question to both
 * sides, while the battle is ready and not voted. */
#include "battle/arena.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "http/reply.h"

static void turn_decided(void *cls) { MHD_resume_connection(cls); }

static void turn_free(void *pending) { arena_turn_free(pending); }

/* The answer to a follow-up: rc from arena_turn_start or, once stored,
 * from arena_turn_result (turn: its number). */
static enum MHD_Result turn_answer(struct request *rq, enum arena_rc rc,
                                   int turn) {
  char events[128];
  snprintf(events, sizeof events, "/api/battles/%s/events", rq->param);
  switch (rc) {
  case ARENA_OK:
    return reply_json(rq, MHD_HTTP_ACCEPTED,
                      json_pack("{s:i, s:s}", "turn", turn, "events", events));
  case ARENA_FORBIDDEN:
    return reply_ec(rq, EC_NOT_YOUR_BATTLE);
  case ARENA_CONFLICT:
    return reply_ec(rq, EC_BATTLE_NOT_READY);
  case ARENA_TOO_MANY_TURNS:
    return reply_ec(rq, EC_TOO_MANY_TURNS);
  case ARENA_BUSY:
    return reply_ec(rq, EC_BUSY);
  case ARENA_STORAGE:
    return reply_ec(rq, EC_STORAGE_TURN);
  case ARENA_UNAVAILABLE:
    return reply_ec(rq, EC_MODELS_UNAVAILABLE);
  default:
    return reply_ec(rq, EC_INTERNAL_TURN);
  }
}

static enum MHD_Result turn_refused(struct request *rq) {
  return turn_answer(rq, (enum arena_rc)rq->pending_rc, 0);
}

static enum MHD_Result turn_reply(struct request *rq) {
  int turn = 0;
  enum arena_rc rc = arena_turn_result(rq->pending, &turn);
  return turn_answer(rq, rc, turn);
}

enum MHD_Result handle_battle_turn(struct request *rq) {
  enum MHD_Result res;
  const char *prompt = body_prompt_allowed(rq, &res);
  if (!prompt)
    return res;
  const char *session = request_session(rq, 0);
  struct battle *b = arena_battle_find(rq->arena, rq->param);
  if (!b)
    return reply_ec(rq, EC_BATTLE_NOT_FOUND);
  /* Suspended while the writer stores the turn (no worker waits on the
   * disk); suspend first, so the resume always finds it suspended. */
  rq->on_resume = turn_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_turn *t = NULL;
  enum arena_rc rc = session ? arena_turn_start(rq->arena, b, session, prompt,
                                                turn_decided, rq->conn, &t)
                             : ARENA_FORBIDDEN;
  battle_unref(b);
  if (rc == ARENA_OK) {
    rq->pending = t;
    rq->pending_free = turn_free;
    return MHD_YES;
  }
  /* refused at once: answered when libmicrohttpd calls back */
  rq->pending_rc = (int)rc;
  rq->on_resume = turn_refused;
  MHD_resume_connection(rq->conn);
  return MHD_YES;
}
