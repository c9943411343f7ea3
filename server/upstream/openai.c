/* The OpenAI-compatible protocol over the loops of loop.h: upstream_chat
 * builds a POST to <base_url>/chat/completions, and the response is read
 * as a stream of SSE events (upstream/sse.c) whose data are deltas
 * (upstream/openai_delta.c), or as one chat.completion object from a
 * server that ignored "stream". How a transfer ended, the HTTP status and
 * the provider's error objects become the public message and the detail
 * of on_finish here; libcurl is never seen.
 *
 * A server that answers a streamed request with one whole object is read
 * too (completion_finish_whole), with the same limits and messages. The
 * request's body is upstream_chat_body's, which agon bench also sends,
 * unstreamed, through upstream_post_json (upstream/post.c). */
#include "upstream/upstream.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "upstream/loop.h"
#include "upstream/openai_delta.h"
#include "upstream/sse.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/clock.h"

#define MAX_SSE_LINE (4u << 20)
#define MAX_ERROR_BODY 4096
#define MAX_JSON_BODY (8u << 20)
#define MAX_DETAIL 300            /* bytes of a failure's detail */

/* One chat completion, from upstream_chat to its on_finish. */
struct completion {
  char *body;                    /* the request's JSON */
  char *model_name;              /* for the server log only */
  char *api_key;                 /* the model's, only to take it out of
                                    the upstream's words; NULL when none */
  struct sse_parser sse;
  struct buf raw;                /* error body, or a non-streamed answer */
  size_t answer_bytes;
  size_t max_bytes;
  size_t reasoning_bytes;        /* passed on to on_reasoning */
  size_t reasoning_dropped;      /* over max_bytes, or nobody wanted it */
  size_t tool_calls;             /* chunks with tool calls */
  int has_text;                  /* the answer has a non-blank byte */
  int reasoning_full;            /* a piece did not fit: drop the rest */
  size_t chunks;
  int64_t started;               /* monotonic ms */
  int64_t first_text;            /* monotonic ms, 0 before any content */
  long status;
  int streaming;                 /* content type is text/event-stream */
  int saw_done;
  int saw_finish;
  int failed;
  char public_msg[128];
  char detail[MAX_DETAIL + 1];   /* sanitized, redacted */
  struct upstream_callbacks cb;
};

/* Accepts NULL. */
static void completion_free(struct completion *c) {
  if (!c)
    return;
  free(c->body);
  free(c->model_name);
  if (c->api_key) {
    explicit_bzero(c->api_key, strlen(c->api_key));
    free(c->api_key);
  }
  sse_parser_release(&c->sse);
  buf_release(&c->raw);
  free(c);
}

/* Record the first failure of a completion. Its detail is prefix (ours)
 * and the len bytes of text, which may be the upstream's own words: they
 * are kept as a short excerpt, without control characters and without
 * anything that looks like a key (the model's own above all, which an
 * upstream that echoes the request sends back), as they go to the log
 * and the database. */
static void completion_fail_text(struct completion *c, const char *public_msg,
                                 const char *prefix, const char *text,
                                 size_t len) {
  if (c->failed)
    return;
  c->failed = 1;
  snprintf(c->public_msg, sizeof c->public_msg, "%s", public_msg);
  int n = snprintf(c->detail, sizeof c->detail, "%s", prefix);
  if (n < 0 || (size_t)n > sizeof c->detail - 4)
    n = 0;
  redact_excerpt(text ? text : "", text ? len : 0, c->api_key, c->detail + n,
                 sizeof c->detail - (size_t)n);
}

static void completion_fail(struct completion *c, const char *public_msg,
                            const char *detail) {
  completion_fail_text(c, public_msg, "", detail, strlen(detail));
}

static int completion_deliver_text(struct completion *c, const char *text,
                                   size_t len) {
  if (len > c->max_bytes - c->answer_bytes) {
    completion_fail(c, "the answer was longer than this arena allows",
                    "answer over max_answer_bytes");
    return -1;
  }
  c->answer_bytes += len;
  if (len) {
    if (!c->first_text)
      c->first_text = mono_ms();
    c->chunks++;
    for (size_t i = 0; !c->has_text && i < len; i++)
      c->has_text = text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
                    text[i] != '\n';
    c->cb.on_text(c->cb.cls, text, len);
  }
  return 0;
}

/* Reasoning is kept apart from the answer, and never fails a completion:
 * past max_bytes it is dropped, whole pieces only (so what was passed on
 * stays valid UTF-8). */
static void completion_deliver_reasoning(struct completion *c,
                                         const char *text, size_t len) {
  if (!len)
    return;
  if (!c->cb.on_reasoning || c->reasoning_full ||
      len > c->max_bytes - c->reasoning_bytes) {
    c->reasoning_full = c->cb.on_reasoning != NULL;
    c->reasoning_dropped += len;
    return;
  }
  c->reasoning_bytes += len;
  c->cb.on_reasoning(c->cb.cls, text, len);
}

/* The text, reasoning and tool calls of a chunk (streamed or not). */
static int completion_deliver(struct completion *c,
                              const struct openai_delta *d) {
  if (d->reasoning)
    completion_deliver_reasoning(c, d->reasoning, d->reasoning_len);
  if (d->tool_calls)
    c->tool_calls++;
  return d->text ? completion_deliver_text(c, d->text, d->text_len) : 0;
}

/* One "data:" payload of the stream (sse_event_cb). */
static int completion_on_event(void *cls, const char *event, const char *data,
                               size_t len) {
  struct completion *c = cls;
  (void)event;
  if (c->saw_done)
    return 0;
  struct openai_delta d;
  int rc = 0;
  openai_delta_parse(data, len, &d);
  switch (d.kind) {
  case DELTA_DONE:
    c->saw_done = 1;
    break;
  case DELTA_MALFORMED:
    completion_fail(c, "the model sent a malformed answer stream", d.detail);
    rc = -1;
    break;
  case DELTA_ERROR:
    completion_fail_text(c, "the model's service reported an error",
                         "error object in stream: ", d.message, d.message_len);
    rc = -1;
    break;
  case DELTA_DATA:
    rc = completion_deliver(c, &d);
    if (d.finished)
      c->saw_finish = 1;
    break;
  }
  openai_delta_release(&d);
  return rc;
}

/* transfer_ops.on_response: an error body is kept for the log, a stream is
 * parsed as it comes, anything else is kept whole for the end. */
static void completion_on_response(void *cls, long status,
                                   const char *content_type) {
  struct completion *c = cls;
  c->status = status;
  c->streaming =
      content_type && !strncasecmp(content_type, "text/event-stream", 17);
  buf_init(&c->raw, c->status >= 400 ? MAX_ERROR_BODY
                    : c->streaming   ? 0
                                     : MAX_JSON_BODY);
}

/* transfer_ops.on_body */
static int completion_on_body(void *cls, const char *bytes, size_t n) {
  struct completion *c = cls;
  if (c->status >= 400 || !c->streaming) {
    /* keep what fits: an error body is only for the log */
    size_t room = c->raw.max - c->raw.len;
    if (buf_append(&c->raw, bytes, n < room ? n : room))
      return -1;
    if (c->status < 400 && n > room) {
      completion_fail(c, "the answer was longer than this arena allows",
                      "non-streamed answer too large");
      return -1;
    }
    return 0;
  }
  int rc = sse_parser_feed(&c->sse, bytes, n);
  if (rc == SSE_ERR_LINE_TOO_LONG)
    completion_fail(c, "the answer was longer than this arena allows",
                    "stream line over limit");
  return rc ? -1 : 0;
}

/* A server that ignored "stream": a whole chat.completion object. */
static void completion_finish_whole(struct completion *c) {
  struct openai_delta d;
  openai_delta_parse_completion(c->raw.data ? c->raw.data : "", c->raw.len,
                                &d);
  if (d.kind == DELTA_ERROR)
    completion_fail(c, "the model's service reported an error", d.detail);
  else if (d.kind != DELTA_DATA)
    completion_fail(c, "the model sent a malformed answer", d.detail);
  else
    completion_deliver(c, &d);
  openai_delta_release(&d);
}

/* Say why the completion failed, if it did and has not said so yet: the
 * transfer's end (how, with the loop's detail), the HTTP status, the end
 * of the stream, an answer with no text in it. The first reason found is
 * the one kept, in this order. */
static void completion_conclude(struct completion *c, enum transfer_end how,
                                const char *detail) {
  char pub[128], prefix[32], d[160];
  if (c->failed) {
    /* already explained */
  } else if (how == TRANSFER_CANCELLED) {
    completion_fail(c, "the battle was abandoned", detail);
  } else if (how == TRANSFER_SHUTDOWN) {
    completion_fail(c, "the server is shutting down", detail);
  } else if (how == TRANSFER_TIMEOUT) {
    completion_fail(c, "the model did not finish its answer in time", detail);
  } else if (how == TRANSFER_UNREACHABLE) {
    completion_fail(c, "the model could not be reached", detail);
  } else if (c->status >= 400) {
    snprintf(pub, sizeof pub, "the model's service answered with HTTP %ld",
             c->status);
    snprintf(prefix, sizeof prefix, "HTTP %ld: ", c->status);
    completion_fail_text(c, pub, prefix, c->raw.data, c->raw.len);
  } else if (how == TRANSFER_BROKEN) {
    completion_fail(c, "the answer stream broke off", detail);
  } else if (!c->streaming) {
    completion_finish_whole(c);
  } else if (!c->saw_done && !c->saw_finish) {
    completion_fail(c, "the answer stream broke off",
                    "stream ended without [DONE] or finish_reason");
  }
  if (!c->failed && !c->has_text) {
    /* Nothing to read or vote on: say what came instead (reasoning
     * models that spent max_tokens thinking, tool calls). */
    snprintf(d, sizeof d,
             "no text in the answer: %zu answer bytes, %zu reasoning bytes, "
             "%zu chunks with tool calls",
             c->answer_bytes, c->reasoning_bytes + c->reasoning_dropped,
             c->tool_calls);
    completion_fail(c, "the model returned no text", d);
  }
}

/* Report the completion's end to its owner and the log. */
static void completion_report(struct completion *c) {
  struct upstream_stats st;
  int64_t now = mono_ms();
  st.duration = (double)(now - c->started) / 1000.0;
  st.ttft = c->first_text ? (double)(c->first_text - c->started) / 1000.0 : -1;
  st.chunks = c->chunks;
  st.bytes = c->answer_bytes;
  st.reasoning_bytes = c->reasoning_bytes;
  if (c->failed)
    log_warn("msg=\"upstream failed\" model=\"%s\" status=%ld ms=%.0f "
             "detail=\"%s\"",
             log_q(c->model_name), c->status, st.duration * 1000,
             log_q(c->detail));
  else
    log_info("msg=\"upstream\" model=\"%s\" status=%ld ttft_ms=%.0f ms=%.0f "
             "chunks=%zu bytes=%zu reasoning_bytes=%zu",
             log_q(c->model_name), c->status, st.ttft * 1000,
             st.duration * 1000, st.chunks, st.bytes,
             c->reasoning_bytes + c->reasoning_dropped);
  c->cb.on_finish(c->cb.cls, !c->failed, c->failed ? c->public_msg : NULL,
                  c->failed ? c->detail : NULL, &st);
}

/* transfer_ops.on_end: the last of the completion. */
static void completion_on_end(void *cls, enum transfer_end how,
                              const char *detail) {
  struct completion *c = cls;
  completion_conclude(c, how, detail);
  completion_report(c);
  completion_free(c);
}

static const struct transfer_ops completion_ops = {
    .on_response = completion_on_response,
    .on_body = completion_on_body,
    .on_end = completion_on_end,
};

/* A completion for model m, before its request is built. NULL when out of
 * memory. */
static struct completion *completion_new(const struct model_config *m,
                                         size_t max_bytes,
                                         const struct upstream_callbacks *cb) {
  struct completion *c = calloc(1, sizeof *c);
  if (!c)
    return NULL;
  c->cb = *cb;
  c->started = mono_ms();
  c->max_bytes = max_bytes;
  buf_init(&c->raw, 0);
  sse_parser_init(&c->sse, MAX_SSE_LINE, MAX_SSE_LINE, completion_on_event, c);
  c->model_name = strdup(m->name);
  c->api_key = m->api_key && m->api_key[0] ? strdup(m->api_key) : NULL;
  if (!c->model_name || (m->api_key && m->api_key[0] && !c->api_key)) {
    completion_free(c);
    return NULL;
  }
  return c;
}

char *upstream_chat_body(const struct model_config *m,
                         const struct chat_message *msgs, size_t n,
                         int stream) {
  json_t *root = json_object();
  json_t *arr = json_array();
  /* the model's own system message goes first, unless the caller's
   * messages bring one */
  if (m->system_prompt && !(n > 0 && !strcmp(msgs[0].role, "system")))
    json_array_append_new(arr, json_pack("{s:s, s:s}", "role", "system",
                                         "content", m->system_prompt));
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s}", "role", msgs[i].role,
                                         "content", msgs[i].content));
  json_object_set_new(root, "model", json_string(m->upstream));
  json_object_set_new(root, "messages", arr);
  json_object_set_new(root, "stream", json_boolean(stream));
  if (m->temperature >= 0)
    json_object_set_new(root, "temperature", json_real(m->temperature));
  if (m->max_tokens > 0)
    json_object_set_new(root, "max_tokens", json_integer(m->max_tokens));
  if (m->top_p > 0)
    json_object_set_new(root, "top_p", json_real(m->top_p));
  if (m->n_stop) {
    json_t *stop = json_array();
    for (size_t i = 0; i < m->n_stop; i++)
      json_array_append_new(stop, json_string(m->stop[i]));
    json_object_set_new(root, "stop", stop);
  }
  char *body = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  return body;
}

int upstream_chat(struct upstream *up, const struct model_config *m,
                  const struct chat_message *msgs, size_t n, size_t max_bytes,
                  atomic_int *cancel, const struct upstream_callbacks *cb) {
  char url[AGON_MAX_BASE_URL + sizeof "/chat/completions"];
  const char *headers[] = {"Content-Type: application/json",
                           "Accept: text/event-stream", NULL};
  int rc = -1;
  struct completion *c = completion_new(m, max_bytes, cb);
  if (!c)
    goto out;
  c->body = upstream_chat_body(m, msgs, n, 1);
  if (!c->body ||
      (size_t)snprintf(url, sizeof url, "%s/chat/completions", m->base_url) >=
          sizeof url)
    goto out;
  struct transfer_request req = {
      .url = url,
      .headers = headers,
      .bearer = m->api_key,
      .body = c->body,
      .timeout_ms = m->timeout_s * 1000L,
      .cancel = cancel,
  };
  if (upstream_submit(up, &req, &completion_ops, c))
    goto out;
  c = NULL;  /* the loop's now: its on_end frees it */
  rc = 0;
out:
  completion_free(c);
  return rc;
}
