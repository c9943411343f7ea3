#include "backend/chunk.h"

#include <stdio.h>
#include <string.h>

void chunk_parse(const char *data, size_t len, struct chunk *out) {
  memset(out, 0, sizeof *out);
  if (len == 6 && !memcmp(data, "[DONE]", 6)) {
    out->kind = CHUNK_DONE;
    return;
  }
  json_error_t jerr;
  out->root = json_loadb(data, len, 0, &jerr);
  if (!out->root || !json_is_object(out->root)) {
    out->kind = CHUNK_MALFORMED;
    snprintf(out->detail, sizeof out->detail, "malformed data line: %s",
             out->root ? "not an object" : jerr.text);
    return;
  }
  json_t *err = json_object_get(out->root, "error");
  if (err && !json_is_null(err)) {
    json_t *msg = json_object_get(err, "message");
    if (!json_is_string(msg))
      msg = json_is_string(err) ? err : NULL;
    const char *m = msg ? json_string_value(msg) : "?";
    out->kind = CHUNK_ERROR;
    out->message = m;
    out->message_len = msg ? json_string_length(msg) : 1;
    snprintf(out->detail, sizeof out->detail, "error object in stream: %.280s",
             m);
    return;
  }
  out->kind = CHUNK_DATA;
  json_t *c0 = json_array_get(json_object_get(out->root, "choices"), 0);
  if (!c0)
    return; /* usage-only chunks have no choices */
  json_t *content = json_object_get(json_object_get(c0, "delta"), "content");
  if (json_is_string(content)) {
    out->text = json_string_value(content);
    out->text_len = json_string_length(content);
  }
  out->finished = json_is_string(json_object_get(c0, "finish_reason"));
}

void chunk_release(struct chunk *c) {
  json_decref(c->root);
  c->root = NULL;
}
