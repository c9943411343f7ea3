/* Fuzz every endpoint's JSON body parsing and checks. */
#include <stddef.h>
#include <stdint.h>

#include "http/body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  json_t *body = NULL;
  char msg[256];
  if (body_parse((const char *)data, size, &body, msg, sizeof msg))
    return 0;
  const char *prompt;
  enum winner w;
  body_check_prompt(body, 30000, &prompt, msg, sizeof msg); /* battles, turns */
  body_check_winner(body, &w, msg, sizeof msg);             /* vote */
  json_decref(body);
  return 0;
}
