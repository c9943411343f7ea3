#include "http/body.h"

#include <stdio.h>
#include <stdlib.h>
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

enum agon_ec body_check_vote_extras(const json_t *body,
                                    const char *const *allowed,
                                    size_t n_allowed, long max_comment_chars,
                                    char **reasons, const char **comment,
                                    char *msg, size_t msglen) {
  *reasons = NULL;
  *comment = NULL;
  json_t *r = json_object_get(body, "reasons");
  if (r && !json_is_null(r)) {
    if (!json_is_array(r) || json_array_size(r) > BODY_MAX_REASONS ||
        json_array_size(r) > n_allowed) {
      snprintf(msg, msglen, "\"reasons\" must be an array of at most %zu "
                            "distinct reasons",
               n_allowed < BODY_MAX_REASONS ? n_allowed : BODY_MAX_REASONS);
      return EC_INVALID_REASON;
    }
    size_t i;
    json_t *v;
    json_array_foreach(r, i, v) {
      const char *s = json_string_value(v);
      size_t k = 0;
      while (s && k < n_allowed && strcmp(allowed[k], s))
        k++;
      int twice = 0;
      for (size_t j = 0; s && j < i; j++)
        twice |= !strcmp(s, json_string_value(json_array_get(r, j)));
      if (!s || k == n_allowed || twice) {
        /* the reason is one of ours or is not echoed: only its index */
        snprintf(msg, msglen, "\"reasons\"[%zu] is %s", i,
                 !s ? "not a string"
                 : twice ? "given twice"
                         : "not one of the arena's reasons (GET /api/arena)");
        return EC_INVALID_REASON;
      }
    }
    if (json_array_size(r)) {
      *reasons = json_dumps(r, JSON_COMPACT);
      if (!*reasons) {
        snprintf(msg, msglen, "out of memory");
        return EC_INTERNAL_VOTE;
      }
    }
  }
  json_t *c = json_object_get(body, "comment");
  if (c && !json_is_null(c)) {
    const char *s = json_string_value(c);
    size_t len = s ? json_string_length(c) : 0;
    if (!s || strlen(s) != len || !utf8_valid(s, len)) {
      free(*reasons);
      *reasons = NULL;
      snprintf(msg, msglen, "\"comment\" must be a string of UTF-8 text "
                            "without NUL characters");
      return EC_INVALID_COMMENT;
    }
    if (utf8_length(s, len) > (size_t)max_comment_chars) {
      free(*reasons);
      *reasons = NULL;
      snprintf(msg, msglen, "\"comment\" is longer than %ld characters",
               max_comment_chars);
      return EC_COMMENT_TOO_LONG;
    }
    if (len)
      *comment = s;
  }
  return EC_OK;
}
