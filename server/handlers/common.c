#include "handlers/common.h"

#include <stdio.h>
#include <string.h>

#include "battle/arena.h"
#include "http/reply.h"
#include "util/util.h"

const char *body_prompt(struct request *rq, enum MHD_Result *res) {
  json_t *p = json_object_get(rq->json, "prompt");
  char msg[128];
  if (!json_is_string(p)) {
    *res = reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_prompt",
                       "\"prompt\" must be a string");
    return NULL;
  }
  const char *s = json_string_value(p);
  size_t len = json_string_length(p);
  size_t chars = utf8_length(s, len);
  long max = rq->arena->cfg.max_prompt_chars;
  if (strlen(s) != len) {
    *res = reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_prompt",
                       "\"prompt\" must not contain NUL characters");
    return NULL;
  }
  if (strspn(s, " \t\r\n") == len) {
    *res = reply_error(rq, MHD_HTTP_BAD_REQUEST, "invalid_prompt",
                       "\"prompt\" is empty");
    return NULL;
  }
  if (chars > (size_t)max) {
    snprintf(msg, sizeof msg, "\"prompt\" is longer than %ld characters", max);
    *res = reply_error(rq, MHD_HTTP_BAD_REQUEST, "prompt_too_long", msg);
    return NULL;
  }
  return s;
}
