#include "upstream/openai_delta.h"

#include <stdio.h>
#include <string.h>

/* Load data as a JSON object into out->root; DELTA_DATA, or
 * DELTA_MALFORMED / DELTA_ERROR with the detail. */
static void load(const char *data, size_t len, struct openai_delta *out) {
  memset(out, 0, sizeof *out);
  json_error_t jerr;
  out->root = json_loadb(data, len, 0, &jerr);
  if (!out->root || !json_is_object(out->root)) {
    out->kind = DELTA_MALFORMED;
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
    out->kind = DELTA_ERROR;
    out->message = m;
    out->message_len = msg ? json_string_length(msg) : 1;
    snprintf(out->detail, sizeof out->detail, "error object in stream: %.280s",
             m);
    return;
  }
  out->kind = DELTA_DATA;
}

/* The text, reasoning and tool calls of a delta (or a whole message). */
static void read_message(json_t *m, struct openai_delta *out) {
  json_t *content = json_object_get(m, "content");
  if (json_is_string(content)) {
    out->text = json_string_value(content);
    out->text_len = json_string_length(content);
  }
  json_t *r = json_object_get(m, "reasoning_content");
  if (!json_is_string(r))
    r = json_object_get(m, "reasoning");
  if (json_is_string(r)) {
    out->reasoning = json_string_value(r);
    out->reasoning_len = json_string_length(r);
  }
  json_t *calls = json_object_get(m, "tool_calls");
  out->tool_calls = (json_is_array(calls) && json_array_size(calls) > 0) ||
                    json_is_object(json_object_get(m, "function_call"));
}

void openai_delta_parse(const char *data, size_t len, struct openai_delta *out) {
  if (len == 6 && !memcmp(data, "[DONE]", 6)) {
    memset(out, 0, sizeof *out);
    out->kind = DELTA_DONE;
    return;
  }
  load(data, len, out);
  if (out->kind != DELTA_DATA)
    return;
  json_t *c0 = json_array_get(json_object_get(out->root, "choices"), 0);
  if (!c0)
    return; /* usage-only chunks have no choices */
  read_message(json_object_get(c0, "delta"), out);
  out->finished = json_is_string(json_object_get(c0, "finish_reason"));
}

void openai_delta_parse_completion(const char *data, size_t len, struct openai_delta *out) {
  load(data, len, out);
  if (out->kind != DELTA_DATA)
    return;
  json_t *msg = json_object_get(
      json_array_get(json_object_get(out->root, "choices"), 0), "message");
  json_t *content = json_object_get(msg, "content");
  if (!json_is_object(msg) ||
      (content && !json_is_string(content) && !json_is_null(content))) {
    out->kind = DELTA_MALFORMED;
    snprintf(out->detail, sizeof out->detail, "%s",
             "non-streamed answer without choices[0].message.content");
    return;
  }
  read_message(msg, out);
  out->finished = 1;
}

void openai_delta_release(struct openai_delta *c) {
  json_decref(c->root);
  c->root = NULL;
}
