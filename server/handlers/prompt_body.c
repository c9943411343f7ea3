#include "handlers/prompt_body.h"

#include "battle/arena.h"
#include "http/body.h"
#include "http/reply.h"

/* The prompt, checked; NULL when it is not fine (the 400 queued). */
static const char *checked_prompt(struct request *rq, enum MHD_Result *res) {
  char msg[160];
  const char *prompt;
  enum agon_ec ec = body_check_prompt(rq->json, rq->cfg->max_prompt_chars,
                                      &prompt, msg, sizeof msg);
  if (ec) {
    *res = reply_ec_msg(rq, ec, msg);
    return NULL;
  }
  return prompt;
}

const char *prompt_from_body(struct request *rq, enum MHD_Result *res) {
  const char *prompt = checked_prompt(rq, res);
  if (!prompt)
    return NULL;
  int wait = arena_rate_limit(rq->arena, ARENA_LIMIT_PROMPTS, rq->client);
  if (wait) {
    *res = reply_ec_retry(rq, EC_TOO_MANY_PROMPTS, wait);
    return NULL;
  }
  return prompt;
}
