/* One "data:" payload of an OpenAI-compatible chat completion stream,
 * interpreted. Pure: no I/O. */
#ifndef AGON_UPSTREAM_OPENAI_DELTA_H
#define AGON_UPSTREAM_OPENAI_DELTA_H

#include <jansson.h>
#include <stddef.h>

enum openai_delta_kind {
  DELTA_DONE,        /* "[DONE]" */
  DELTA_DATA,        /* a chunk: maybe text, maybe finish_reason, maybe
                        neither (role-only first chunk, usage-only last) */
  DELTA_ERROR,       /* {"error": ...}: the provider reports a failure */
  DELTA_MALFORMED,   /* not a JSON object (including invalid UTF-8) */
};

struct openai_delta {
  enum openai_delta_kind kind;
  const char *text;  /* choices[0].delta.content when a string, else NULL;
                        valid UTF-8, borrowed from root */
  size_t text_len;
  const char *reasoning; /* the model's thinking, never its answer:
                            delta.reasoning_content (DeepSeek, vLLM) or
                            else delta.reasoning (vLLM, OpenRouter) when a
                            string, else NULL; valid UTF-8, borrowed */
  size_t reasoning_len;
  int tool_calls;    /* delta.tool_calls is a non-empty array, or the older
                        delta.function_call an object: a call, not text */
  int finished;      /* choices[0].finish_reason is a string */
  char detail[320];  /* for DELTA_ERROR / DELTA_MALFORMED, server log only */
  const char *message; /* for DELTA_ERROR: the provider's message, whole
                          (detail cuts it), borrowed from root */
  size_t message_len;
  json_t *root;      /* owned: release with openai_delta_release */
};

/* Interpret len bytes of one event's data. Never fails otherwise. */
void openai_delta_parse(const char *data, size_t len, struct openai_delta *out);

/* Interpret a whole chat.completion object (from a server that ignored
 * "stream"): the same fields from choices[0].message, and finished set.
 * DELTA_MALFORMED when there is no choices[0].message object or its
 * content is neither a string nor null (nor absent). */
void openai_delta_parse_completion(const char *data, size_t len, struct openai_delta *out);

void openai_delta_release(struct openai_delta *c);

#endif
