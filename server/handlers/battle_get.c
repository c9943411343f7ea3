/* GET /api/battles/ID: the battle so far (arena_battle_json). Model names
 * only once voted; a side's reasoning (a_reasoning, b_reasoning) once it
 * is done. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_battle_get(struct request *rq) {
  json_t *body;
  enum agon_ec rc = arena_battle_json(rq->arena, rq->param, &body);
  if (rc)
    return reply_ec(rq, rc);
  return reply_json(rq, MHD_HTTP_OK, body);
}
