/* GET /api/models: the enabled models' public names, each with its card
 * (handlers/model_card.h): configuration, the same for everyone, whatever
 * the battles hold. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/model_card.h"
#include "http/reply.h"

enum MHD_Result handle_models(struct request *rq) {
  json_t *models = json_array();
  const struct config *cfg = rq->cfg;
  for (size_t i = 0; i < cfg->n_models; i++)
    if (cfg->models[i].enabled)
      json_array_append_new(
          models, model_card_json(cfg->models[i].name, &cfg->models[i]));
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "models", models));
}
