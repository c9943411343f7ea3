/* GET /api/battles/ID: the battle so far (arena_battle_json). Model names
 * and their cards ("cards": [a, b]) only once voted; a side's reasoning
 * (a_reasoning, b_reasoning) once it is done. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "handlers/model_card.h"
#include "http/reply.h"

static enum MHD_Result battle_get(struct request *rq, struct arena_held *h) {
  json_t *body;
  enum agon_ec rc = arena_battle_json(rq->arena, h, &body);
  if (rc)
    return reply_ec(rq, rc);
  /* "models" is an object only once the battle is voted */
  json_t *models = json_object_get(body, "models");
  const char *a = json_string_value(json_object_get(models, "a"));
  const char *b = json_string_value(json_object_get(models, "b"));
  json_object_set_new(body, "cards", a && b ? model_cards_json(rq->cfg, a, b)
                                            : json_null());
  return reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result handle_battle_get(struct request *rq) {
  return with_held_battle(rq, rq->param, battle_get);
}
