#include "handlers/common.h"

#include "battle/arena.h"
#include "http/body.h"
#include "http/reply.h"

const char *body_prompt(struct request *rq, enum MHD_Result *res) {
  char msg[160];
  const char *prompt;
  const char *code = body_check_prompt(
      rq->json, rq->cfg->max_prompt_chars, &prompt, msg, sizeof msg);
  if (code) {
    *res = reply_error(rq, MHD_HTTP_BAD_REQUEST, code, msg);
    return NULL;
  }
  return prompt;
}
