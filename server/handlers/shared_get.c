/* GET /api/shared/TOKEN: a battle its owner shared, read-only, for anyone
 * with the link (see battle_share.c): the prompts, both answers (text and
 * safe HTML), the names, the verdict, the reasons and the comment; kept
 * out of search engines. An unknown token, or one taken back:
 * share_not_found. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "handlers/share_token.h"
#include "http/reply.h"

#include <string.h>

static enum MHD_Result shared_get(struct request *rq, struct arena_held *h) {
  json_t *body = NULL;
  enum agon_ec rc = arena_shared_json(rq->arena, rq->param, h, &body);
  if (rc)
    return reply_ec(rq, rc);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!text)
    return reply_ec(rq, EC_INTERNAL);
  struct MHD_Response *resp = reply_response_new(&(struct reply_body){
      .data = text,
      .len = strlen(text),
      .mem = MHD_RESPMEM_MUST_FREE,
      .type = "application/json",
      .cache = "no-store"});
  if (!resp)
    return reply_ec(rq, EC_INTERNAL);
  MHD_add_response_header(resp, "X-Robots-Tag", "noindex");
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}

static enum MHD_Result hold_shared(struct request *rq, const char *id) {
  arena_share_refresh(rq->arena, id);
  return with_held_battle(rq, id, shared_get);
}

enum MHD_Result handle_shared_get(struct request *rq) {
  return with_shared_battle(rq, hold_shared);
}
