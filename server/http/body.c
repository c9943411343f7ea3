#include "http/body.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

enum agon_ec body_parse(const char *data, size_t len, json_t **out,
                        char *msg, size_t msglen) {
  json_error_t jerr;
  *out = json_loadb(data ? data : "", len, JSON_REJECT_DUPLICATES, &jerr);
  if (!*out) {
    snprintf(msg, msglen, "invalid JSON at line %d column %d: %s", jerr.line,
             jerr.column, jerr.text);
    return EC_INVALID_JSON;
  }
  if (!json_is_object(*out)) {
    json_decref(*out);
    *out = NULL;
    snprintf(msg, msglen, "the body must be a JSON object");
    return EC_INVALID_JSON;
  }
  return EC_OK;
}

enum agon_ec body_check_prompt(const json_t *body, long max_chars,
                               const char **prompt, char *msg, size_t msglen) {
  json_t *p = json_object_get(body, "prompt");
  *prompt = NULL;
  if (!json_is_string(p)) {
    snprintf(msg, msglen, "\"prompt\" must be a string");
    return EC_INVALID_PROMPT;
  }
  const char *s = json_string_value(p);
  size_t len = json_string_length(p);
  if (strlen(s) != len) {
    snprintf(msg, msglen, "\"prompt\" must not contain NUL characters");
    return EC_INVALID_PROMPT;
  }
  if (strspn(s, " \t\r\n") == len) {
    snprintf(msg, msglen, "\"prompt\" is empty");
    return EC_INVALID_PROMPT;
  }
  if (utf8_length(s, len) > (size_t)max_chars) {
    snprintf(msg, msglen, "\"prompt\" is longer than %ld characters",
             max_chars);
    return EC_PROMPT_TOO_LONG;
  }
  *prompt = s;
  return EC_OK;
}

enum agon_ec body_check_winner(const json_t *body, enum winner *w,
                               char *msg, size_t msglen) {
  const char *ws = json_string_value(json_object_get(body, "winner"));
  if (!ws || winner_parse(ws, w)) {
    snprintf(msg, msglen, "\"winner\" must be one of \"a\", \"b\", \"tie\", "
                          "\"bothbad\"");
    return EC_INVALID_WINNER;
  }
  return EC_OK;
}
