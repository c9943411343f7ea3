/* Streaming chat completions from OpenAI-compatible endpoints.
 *
 * A few event loops (threads, fixed at start) share every transfer in the
 * process: no thread per request. Requests that share a cancel flag (the
 * two sides of a battle) go to the same loop. Each loop is
 * curl_multi_socket_action on its own epoll set, so a chunk costs the same
 * with 10 or 2,000 streams open. Requests are submitted from any thread; a
 * request's callbacks run on the thread of the loop that took it.
 *
 * Two files implement it: upstream/loop.c the loops, which carry any HTTP
 * request (upstream_new, upstream_stop, upstream_free, upstream_active),
 * upstream/openai.c the OpenAI-compatible protocol over them
 * (upstream_chat), and upstream/post.c a whole JSON answer to one POST
 * (upstream_post_json, for agon bench). */
#ifndef AGON_UPSTREAM_UPSTREAM_H
#define AGON_UPSTREAM_UPSTREAM_H

#include <stdatomic.h>
#include <stddef.h>

#include "config/config.h"

struct upstream;

/* One chat message of a conversation. */
struct chat_message {
  const char *role;     /* "user" or "assistant" */
  const char *content;
};

/* How an answer went, for metrics and logs. */
struct upstream_stats {
  double ttft;          /* seconds to the first content, < 0 when none */
  double duration;      /* seconds for the whole request */
  size_t chunks;        /* content chunks received */
  size_t bytes;         /* answer bytes */
  size_t reasoning_bytes; /* reasoning bytes passed on (see on_reasoning) */
};

struct upstream_callbacks {
  /* A piece of the answer (valid UTF-8, len bytes, not NUL-terminated). */
  void (*on_text)(void *cls, const char *text, size_t len);
  /* A piece of the model's reasoning (reasoning_content or reasoning), which
   * is never part of the answer; same form as on_text. At most max_bytes of
   * it are passed on, whole pieces, the rest is dropped. May be NULL. */
  void (*on_reasoning)(void *cls, const char *text, size_t len);
  /* Called exactly once at the end. ok != 0 for a complete answer with some
   * text in it (not only whitespace): an answer of only reasoning or tool
   * calls, or of nothing, fails with "the model returned no text". When
   * ok == 0, public_msg is safe to show anyone (it never names the model,
   * the endpoint or the provider's words) and detail is for the server
   * log. */
  void (*on_finish)(void *cls, int ok, const char *public_msg,
                    const char *detail, const struct upstream_stats *stats);
  void *cls;
};

/* Start `loops` event loops (at least one). NULL on failure. */
struct upstream *upstream_new(unsigned loops);

/* Stop the loops and abort every transfer (their on_finish runs with
 * ok == 0); later upstream_chat calls fail. Idempotent. */
void upstream_stop(struct upstream *up);

/* Stop if needed, and free everything. Accepts NULL. */
void upstream_free(struct upstream *up);

/* Ask model m for the answer to the conversation (msgs, n). The answer
 * may be at most max_bytes; when *cancel becomes non-zero the transfer is
 * aborted. cancel must outlive the request (until on_finish). Returns 0,
 * or -1 when the request could not be queued (no callback then). */
int upstream_chat(struct upstream *up, const struct model_config *m,
                  const struct chat_message *msgs, size_t n, size_t max_bytes,
                  atomic_int *cancel, const struct upstream_callbacks *cb);

/* Number of transfers in flight. */
size_t upstream_active(struct upstream *up);

/* The JSON text of a chat completion request for model m: its system
 * prompt first (unless msgs[0] is a system message), msgs, its upstream
 * id and parameters (temperature, max_tokens, top_p, stop, each only when
 * set), and "stream" as given. NULL when out of memory; the caller frees
 * it. */
char *upstream_chat_body(const struct model_config *m,
                         const struct chat_message *msgs, size_t n,
                         int stream);

/* ---- one POST, one whole JSON answer (agon bench) ---- */

/* How a POST of upstream_post_json ended. */
enum upstream_post_end {
  UPSTREAM_POST_DONE,        /* a response came, whatever its status */
  UPSTREAM_POST_TIMEOUT,     /* the model's timeout passed */
  UPSTREAM_POST_UNREACHABLE, /* no connection could be made */
  UPSTREAM_POST_BROKEN,      /* the transfer broke off */
  UPSTREAM_POST_TOO_LARGE,   /* the response passed max_bytes */
  UPSTREAM_POST_CANCELLED,   /* *cancel became non-zero */
  UPSTREAM_POST_SHUTDOWN,    /* upstream_stop ended it */
};

/* What came back; valid during the callback only. */
struct upstream_post_reply {
  enum upstream_post_end how;
  long status;          /* the HTTP status; 0 when none came */
  const char *body;     /* the response body, NUL-terminated (len bytes,
                           "" when none); of an HTTP error at most its
                           first 4 KiB */
  size_t len;
  const char *detail;   /* a failure's cause for messages: the transport's
                           words, or the error body's, as a short excerpt
                           with the model's key and anything key-shaped
                           taken out; "" when the status is 2xx */
  double duration;      /* seconds */
};

/* Called exactly once per POST, on the thread of the loop that took it. */
typedef void (*upstream_post_fn)(void *cls,
                                 const struct upstream_post_reply *r);

/* POST body_steal (JSON text, taken whatever happens) to m's base_url
 * followed by path (say "/completions"), with m's key, and hand the whole
 * answer (at most max_bytes) to fn with cls. The transfer may take m's
 * timeout; when *cancel (may be NULL; it must outlive the request)
 * becomes non-zero it is aborted. Returns 0, or -1 when it could not be
 * queued (fn is never called then). */
int upstream_post_json(struct upstream *up, const struct model_config *m,
                       const char *path, char *body_steal, size_t max_bytes,
                       atomic_int *cancel, upstream_post_fn fn, void *cls);

#endif
