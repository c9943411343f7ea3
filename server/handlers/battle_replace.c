/* POST /api/battles/ID/regenerate and POST /api/battles/ID/retry {}: the
 * latest turn re-asked before the vote (battle/replace.c), the one
 * concept of both endpoints: a regenerate re-asks both sides with the
 * same models, a retry the one failed side with another model. Each
 * counts against battles_per_minute like a prompt. 202 with the turn and
 * the events to open again, as a follow-up. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "http/reply.h"

static void replace_free(void *pending) { arena_replace_free(pending); }

/* The answer once the writer has stored the replacement, or refused it. */
static enum MHD_Result replace_reply(struct request *rq) {
  int turn = 0;
  enum agon_ec rc = arena_replace_result(rq->pending, &turn);
  return rc ? reply_ec(rq, rc) : reply_turn_accepted(rq, turn);
}

/* With the battle held: the replacement is stored while the request
 * waits. */
static enum MHD_Result replace(struct request *rq, struct arena_held *h,
                               int retry) {
  const char *session = request_session(rq, 0);
  /* suspended while the writer stores it (no worker waits on the disk);
   * suspend first, so the resume always finds it suspended */
  rq->on_resume = replace_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_replace *r = NULL;
  enum agon_ec rc = arena_replace_start(rq->arena, h, session, retry,
                                        reply_resume, rq->conn, &r);
  if (rc == EC_OK) {
    rq->pending = r;
    rq->pending_free = replace_free;
    return MHD_YES;
  }
  /* refused at once (an unknown battle too) */
  return reply_ec_resumed(rq, rc);
}

static enum MHD_Result regenerate_held(struct request *rq,
                                       struct arena_held *h) {
  return replace(rq, h, 0);
}

static enum MHD_Result retry_held(struct request *rq, struct arena_held *h) {
  return replace(rq, h, 1);
}

static enum MHD_Result handle_replace(struct request *rq, int retry) {
  int wait = arena_rate_limit(rq->arena, ARENA_LIMIT_PROMPTS, rq->client);
  if (wait)
    return reply_ec_retry(rq, EC_TOO_MANY_PROMPTS, wait);
  return with_held_battle(rq, rq->param, retry ? retry_held : regenerate_held);
}

enum MHD_Result handle_battle_regenerate(struct request *rq) {
  return handle_replace(rq, 0);
}

enum MHD_Result handle_battle_retry(struct request *rq) {
  return handle_replace(rq, 1);
}
