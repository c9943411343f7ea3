/* POST /api/battles {"prompt"}: start a battle between two anonymous
 * models. */
#include <stdio.h>

#include "battle/arena.h"
#include "handlers/common.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_battle_create(struct request *rq) {
  enum MHD_Result res;
  const char *prompt = body_prompt_allowed(rq, &res);
  if (!prompt)
    return res;
  const char *session = request_session(rq, 1);
  if (!session)
    return reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                       "cannot create a session");
  struct battle *b = NULL;
  switch (arena_battle_start(rq->arena, session, prompt, &b)) {
  case ARENA_OK:
    break;
  case ARENA_UNAVAILABLE:
    return reply_error(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "not_enough_models",
                       "fewer than two models are enabled");
  case ARENA_BUSY:
    return reply_error_retry(rq, MHD_HTTP_SERVICE_UNAVAILABLE, "busy",
                             "the arena is at its limit of concurrent "
                             "battles; try again shortly",
                             5);
  case ARENA_STORAGE:
    return reply_error_retry(rq, MHD_HTTP_SERVICE_UNAVAILABLE,
                             "storage_unavailable",
                             "the arena cannot store new battles right now; "
                             "try again shortly",
                             5);
  default:
    return reply_error(rq, MHD_HTTP_INTERNAL_SERVER_ERROR, "internal",
                       "cannot start a battle");
  }
  char events[128];
  snprintf(events, sizeof events, "/api/battles/%s/events", b->id);
  json_t *body = json_pack("{s:s, s:s}", "id", b->id, "events", events);
  battle_unref(b);
  return reply_json(rq, MHD_HTTP_CREATED, body);
}
