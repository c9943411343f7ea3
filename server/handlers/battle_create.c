/* POST /api/battles {"prompt"}: start a battle between two anonymous
 * models; with "models": [x, y] between the two chosen models (names
 * public, not counted), with "models": [x] a direct chat with one. */
#include <stdio.h>
#include <string.h>

#include "battle/arena.h"
#include "config/config.h"
#include "handlers/handlers.h"
#include "handlers/prompt_body.h"
#include "http/reply.h"

/* Longer than any model name the config accepts (a [model NAME] header
 * is one config line): a name past it is not one, and is refused without
 * being looked up or echoed. */
#define MODEL_NAME_MAX AGON_CONFIG_MAX_LINE

/* "models" of the body when present, checked for shape only: an array of
 * one or two strings of at most MODEL_NAME_MAX bytes, into names (*n of
 * them; 0 when absent). -1 with msg when it is not so. */
static int models_from_body(json_t *body, const char *names[2], size_t *n,
                            char *msg, size_t msglen) {
  *n = 0;
  json_t *models = json_object_get(body, "models");
  if (!models)
    return 0;
  if (!json_is_array(models) || json_array_size(models) < 1 ||
      json_array_size(models) > 2) {
    snprintf(msg, msglen, "\"models\" must be an array of one model name "
                          "(a direct chat) or two (side by side)");
    return -1;
  }
  for (size_t i = 0; i < json_array_size(models); i++) {
    json_t *m = json_array_get(models, i);
    if (!json_is_string(m) || json_string_length(m) == 0 ||
        json_string_length(m) > MODEL_NAME_MAX ||
        strlen(json_string_value(m)) != json_string_length(m)) {
      snprintf(msg, msglen, "\"models\"[%zu] must be a model name", i);
      return -1;
    }
    names[i] = json_string_value(m);
  }
  *n = json_array_size(models);
  return 0;
}

enum MHD_Result handle_battle_create(struct request *rq) {
  enum MHD_Result res;
  const char *names[2] = {NULL, NULL};
  size_t n_names = 0;
  char msg[160];
  /* "prompt" is checked first, as in every battle, then "models": a
   * refused one gives its prompt token back */
  const char *prompt = prompt_from_body(rq, &res);
  if (!prompt)
    return res;
  if (models_from_body(rq->json, names, &n_names, msg, sizeof msg)) {
    arena_rate_refund(rq->arena, ARENA_LIMIT_PROMPTS, rq->client);
    return reply_ec_msg(rq, EC_INVALID_MODELS, msg);
  }
  const char *session = request_session(rq, 1);
  if (!session)
    return reply_ec(rq, EC_INTERNAL_SESSION);
  char id[ARENA_BATTLE_ID];
  enum agon_ec rc =
      n_names ? arena_battle_start_chosen(rq->arena, session, prompt, names,
                                          n_names, id, msg, sizeof msg)
              : arena_battle_start(rq->arena, session, prompt, id);
  if (rc == EC_INVALID_MODELS) {
    arena_rate_refund(rq->arena, ARENA_LIMIT_PROMPTS, rq->client);
    return reply_ec_msg(rq, rc, msg);
  }
  if (rc)
    return reply_ec(rq, rc);
  char events[128];
  snprintf(events, sizeof events, "/api/battles/%s/events", id);
  json_t *body = json_pack("{s:s, s:s}", "id", id, "events", events);
  if (n_names) {
    json_object_set_new(body, "mode",
                        json_string(n_names == 2 ? "named" : "direct"));
    json_object_set_new(body, "models",
                        json_pack("{s:s, s:s?}", "a", names[0], "b",
                                  n_names == 2 ? names[1] : NULL));
  }
  return reply_json(rq, MHD_HTTP_CREATED, body);
}
