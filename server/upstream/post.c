/* One POST with a JSON body and its whole answer (upstream.h,
 * upstream_post_json): agon bench's /completions and unstreamed
 * /chat/completions requests, over the loops of loop.h. The answer is
 * kept whole, up to its bound, and handed on once at the end; reading it
 * is the caller's. */
#include "upstream/upstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "upstream/loop.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/redact.h"

#define MAX_ERROR_BODY 4096
#define MAX_DETAIL 300

/* One POST, from upstream_post_json to its callback. */
struct post {
  char *body;              /* the request's JSON */
  char *api_key;           /* the model's, only to take it out of the
                              upstream's words; NULL when none */
  struct buf raw;          /* the response body */
  long status;
  int too_large;
  int64_t started;         /* monotonic ms */
  upstream_post_fn fn;
  void *cls;
  size_t max_bytes;
};

/* Accepts NULL. */
static void post_free(struct post *p) {
  if (!p)
    return;
  free(p->body);
  if (p->api_key) {
    explicit_bzero(p->api_key, strlen(p->api_key));
    free(p->api_key);
  }
  buf_release(&p->raw);
  free(p);
}

static void post_on_response(void *cls, long status, const char *ct) {
  struct post *p = cls;
  (void)ct;
  p->status = status;
  buf_init(&p->raw, status >= 400 ? MAX_ERROR_BODY : p->max_bytes);
}

static int post_on_body(void *cls, const char *bytes, size_t n) {
  struct post *p = cls;
  size_t room = p->raw.max - p->raw.len;
  if (n <= room)
    return buf_append(&p->raw, bytes, n) ? -1 : 0;
  if (p->status >= 400) /* an error body is only for messages: keep its head */
    return buf_append(&p->raw, bytes, room) ? -1 : 0;
  p->too_large = 1;
  return -1;
}

static void post_on_end(void *cls, enum transfer_end how,
                        const char *detail) {
  struct post *p = cls;
  char excerpt[MAX_DETAIL + 1];
  struct upstream_post_reply r = {.status = p->status};
  const char *words = detail ? detail : "";
  switch (how) {
  case TRANSFER_DONE: r.how = UPSTREAM_POST_DONE; break;
  case TRANSFER_TIMEOUT: r.how = UPSTREAM_POST_TIMEOUT; break;
  case TRANSFER_UNREACHABLE: r.how = UPSTREAM_POST_UNREACHABLE; break;
  case TRANSFER_CANCELLED: r.how = UPSTREAM_POST_CANCELLED; break;
  case TRANSFER_SHUTDOWN: r.how = UPSTREAM_POST_SHUTDOWN; break;
  case TRANSFER_BROKEN:
  default:
    r.how = p->too_large ? UPSTREAM_POST_TOO_LARGE : UPSTREAM_POST_BROKEN;
    if (p->too_large)
      words = "the answer passed its size limit";
    break;
  }
  if (r.how == UPSTREAM_POST_DONE && p->status >= 300)
    redact_excerpt(p->raw.data ? p->raw.data : "", p->raw.len, p->api_key,
                   excerpt, sizeof excerpt);
  else if (r.how == UPSTREAM_POST_DONE)
    excerpt[0] = '\0';
  else
    redact_excerpt(words, strlen(words), p->api_key, excerpt, sizeof excerpt);
  r.body = p->raw.data ? p->raw.data : "";
  r.len = p->raw.len;
  r.detail = excerpt;
  r.duration = (double)(mono_ms() - p->started) / 1000.0;
  p->fn(p->cls, &r);
  post_free(p);
}

static const struct transfer_ops post_ops = {
    .on_response = post_on_response,
    .on_body = post_on_body,
    .on_end = post_on_end,
};

int upstream_post_json(struct upstream *up, const struct model_config *m,
                       const char *path, char *body_steal, size_t max_bytes,
                       atomic_int *cancel, upstream_post_fn fn, void *cls) {
  char url[AGON_MAX_BASE_URL + 64];
  const char *headers[] = {"Content-Type: application/json",
                           "Accept: application/json", NULL};
  int rc = -1;
  struct post *p = calloc(1, sizeof *p);
  if (!p) {
    free(body_steal);
    goto out;
  }
  p->body = body_steal;
  p->fn = fn;
  p->cls = cls;
  p->max_bytes = max_bytes;
  p->started = mono_ms();
  buf_init(&p->raw, 0);
  if (!p->body ||
      (size_t)snprintf(url, sizeof url, "%s%s", m->base_url, path) >=
          sizeof url)
    goto out;
  if (m->api_key && m->api_key[0] && !(p->api_key = strdup(m->api_key)))
    goto out;
  struct transfer_request req = {
      .url = url,
      .headers = headers,
      .bearer = m->api_key,
      .body = p->body,
      .timeout_ms = m->timeout_s * 1000L,
      .cancel = cancel,
  };
  if (upstream_submit(up, &req, &post_ops, p))
    goto out;
  p = NULL; /* the loop's now: its on_end frees it */
  rc = 0;
out:
  post_free(p);
  return rc;
}
