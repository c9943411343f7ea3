/* GET /api/leaderboard/mine: this session's own board (the session
 * cookie's): the Elo replayed from its own counted votes in order, with
 * the arena's K, and each model's wins, losses and ties among them;
 * another session sees its own, no session an empty one. From memory, or
 * read back on the writer thread while the request waits suspended
 * (battle/own_board.c). */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

static void mine_free(void *pending) { arena_wait_free(pending); }

static void body_free(void *pending) { json_decref(pending); }

/* Held in memory: answered at once. */
static enum MHD_Result mine_held(struct request *rq) {
  json_t *body = rq->pending;
  rq->pending = NULL;
  return reply_json(rq, MHD_HTTP_OK, body);
}

static enum MHD_Result mine_reply(struct request *rq) {
  json_t *body;
  enum agon_ec rc = arena_wait_result(rq->pending, &body);
  if (rc)
    return reply_ec(rq, rc);
  return reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result handle_leaderboard_mine(struct request *rq) {
  const char *session = request_session(rq, 0);
  json_t *body = NULL;
  rq->on_resume = mine_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_wait *w = NULL;
  enum agon_ec rc = arena_own_board(rq->arena, session, reply_resume, rq->conn,
                                    &body, &w);
  if (rc == EC_OK && w) {
    rq->pending = w;
    rq->pending_free = mine_free;
    return MHD_YES;
  }
  if (rc != EC_OK)
    return reply_ec_resumed(rq, rc);
  rq->pending = body;
  rq->pending_free = body_free;
  rq->on_resume = mine_held;
  MHD_resume_connection(rq->conn);
  return MHD_YES;
}
