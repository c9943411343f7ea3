/* Model cards (config: struct model_card) in the API: on /api/models, on
 * the leaderboard rows, and beside a voted battle's names. */
#include "handlers/model_card.h"

static json_t *str_or_null(const char *s) {
  return s ? json_string(s) : json_null();
}

void model_card_set(json_t *o, const struct model_config *m) {
  const struct model_card *c = m ? &m->card : NULL;
  json_object_set_new(o, "organization", str_or_null(c ? c->organization : NULL));
  json_object_set_new(o, "license", str_or_null(c ? c->license : NULL));
  json_object_set_new(o, "url", str_or_null(c ? c->url : NULL));
  json_object_set_new(o, "open_weights", json_boolean(c && c->open_weights));
  json_object_set_new(o, "context", c && c->context > 0
                                        ? json_integer(c->context)
                                        : json_null());
  json_object_set_new(o, "price", str_or_null(c ? c->price : NULL));
}

json_t *model_card_json(const char *name, const struct model_config *m) {
  json_t *o = json_pack("{s:s}", "name", name);
  model_card_set(o, m);
  return o;
}

json_t *model_cards_json(const struct config *cfg, const char *model_a,
                         const char *model_b) {
  return json_pack("[o, o]",
                   model_card_json(model_a, config_find_model(cfg, model_a)),
                   model_card_json(model_b, config_find_model(cfg, model_b)));
}
