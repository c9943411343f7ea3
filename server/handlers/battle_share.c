/* POST /api/battles/ID/share {} and DELETE /api/battles/ID/share: the
 * owner of a voted battle shares it behind an unguessable link
 * ({"url": "/s/TOKEN"}, the same link every time), or takes the link back
 * ({"shared": false}; the link is gone). Nothing is shareable before its
 * vote: battle_not_voted, the same for every such battle. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>

static void share_free(void *pending) { arena_wait_free(pending); }

/* Shared already: the same link. */
static enum MHD_Result share_known(struct request *rq) {
  return reply_json(rq, MHD_HTTP_OK,
                    json_pack("{s:s}", "url", (const char *)rq->pending));
}

static enum MHD_Result share_reply(struct request *rq) {
  json_t *body;
  enum agon_ec rc = arena_wait_result(rq->pending, &body);
  if (rc)
    return reply_ec(rq, rc);
  return reply_json(rq, MHD_HTTP_OK, body);
}

static enum MHD_Result share(struct request *rq, struct arena_held *h,
                             int on) {
  const char *session = request_session(rq, 0);
  char token[ARENA_SHARE_TOKEN];
  /* suspended while the writer stores it; suspend first, so that the
   * resume always finds it suspended */
  rq->on_resume = share_reply;
  MHD_suspend_connection(rq->conn);
  struct arena_wait *w = NULL;
  enum agon_ec rc = arena_share_start(rq->arena, h, session, on,
                                      reply_resume, rq->conn, &w, token);
  if (rc == EC_OK && w) {
    rq->pending = w;
    rq->pending_free = share_free;
    return MHD_YES;
  }
  /* answered at once, when libmicrohttpd calls back */
  if (rc != EC_OK)
    return reply_ec_resumed(rq, rc);
  char *url = malloc(8 + ARENA_SHARE_TOKEN);
  if (!url)
    return reply_ec_resumed(rq, EC_INTERNAL);
  snprintf(url, 8 + ARENA_SHARE_TOKEN, "/s/%s", token);
  rq->pending = url;
  rq->pending_free = free;
  rq->on_resume = share_known;
  MHD_resume_connection(rq->conn);
  return MHD_YES;
}

static enum MHD_Result share_held(struct request *rq, struct arena_held *h) {
  return share(rq, h, 1);
}

static enum MHD_Result unshare_held(struct request *rq,
                                    struct arena_held *h) {
  return share(rq, h, 0);
}

enum MHD_Result handle_battle_share(struct request *rq) {
  return with_held_battle(rq, rq->param, share_held);
}

enum MHD_Result handle_battle_unshare(struct request *rq) {
  if (!request_origin_ok(rq, rq->cfg))
    return reply_ec(rq, EC_CROSS_ORIGIN);
  return with_held_battle(rq, rq->param, unshare_held);
}
