/* POST /api/battles {"prompt"}: start a battle between two anonymous
 * models. */
#include <stdio.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/prompt_body.h"
#include "http/reply.h"

enum MHD_Result handle_battle_create(struct request *rq) {
  enum MHD_Result res;
  const char *prompt = prompt_from_body(rq, &res);
  if (!prompt)
    return res;
  const char *session = request_session(rq, 1);
  if (!session)
    return reply_ec(rq, EC_INTERNAL_SESSION);
  char id[ARENA_BATTLE_ID];
  enum agon_ec rc = arena_battle_start(rq->arena, session, prompt, id);
  if (rc)
    return reply_ec(rq, rc);
  char events[128];
  snprintf(events, sizeof events, "/api/battles/%s/events", id);
  json_t *body = json_pack("{s:s, s:s}", "id", id, "events", events);
  return reply_json(rq, MHD_HTTP_CREATED, body);
}
