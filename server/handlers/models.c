/* GET /api/models: the enabled models' public names. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_models(struct request *rq) {
  json_t *models = json_array();
  const struct config *cfg = rq->cfg;
  for (size_t i = 0; i < cfg->n_models; i++)
    if (cfg->models[i].enabled)
      json_array_append_new(models,
                            json_pack("{s:s}", "name", cfg->models[i].name));
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "models", models));
}
