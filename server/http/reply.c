#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/relay_stream.h"

void reply_add_common_headers(struct MHD_Response *resp) {
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Content-Security-Policy",
                          "default-src 'self'; img-src 'self' data:; "
                          "frame-ancestors 'none'; base-uri 'none'; "
                          "form-action 'self'");
}

enum MHD_Result reply_queue(struct request *rq, unsigned int status,
                            struct MHD_Response *resp) {
  if (rq->new_session) {
    char cookie[128];
    snprintf(cookie, sizeof cookie,
             SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict; "
                            "Max-Age=31536000%s",
             rq->session, rq->secure ? "; Secure" : "");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_SET_COOKIE, cookie);
  }
  rq->replied = 1;
  rq->status = status;
  return MHD_queue_response(rq->conn, status, resp);
}

/* The headers that describe b, and the common ones unless b->bare. */
static void add_body_headers(struct MHD_Response *resp,
                             const struct reply_body *b) {
  if (b->type)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, b->type);
  if (b->cache)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, b->cache);
  if (b->etag)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, b->etag);
  if (!b->bare)
    reply_add_common_headers(resp);
}

struct MHD_Response *reply_response_new(const struct reply_body *b) {
  void *data = b->data;
  enum MHD_ResponseMemoryMode mem = b->mem;
  if (!b->len) {
    /* nothing to keep: no buffer of ours for libmicrohttpd to free */
    if (mem == MHD_RESPMEM_MUST_FREE)
      free(data);
    data = (void *)"";
    mem = MHD_RESPMEM_PERSISTENT;
  }
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(b->len, data, mem);
  if (!resp) {
    if (mem == MHD_RESPMEM_MUST_FREE)
      free(data);
    return NULL;
  }
  add_body_headers(resp, b);
  return resp;
}

/* Queue resp with status and drop our reference; NULL: out of memory. */
static enum MHD_Result reply_send(struct request *rq, unsigned status,
                                  struct MHD_Response *resp) {
  if (!resp)
    return MHD_NO;
  enum MHD_Result r = reply_queue(rq, status, resp);
  MHD_destroy_response(resp);
  return r;
}

enum MHD_Result reply_body(struct request *rq, unsigned int status,
                           const struct reply_body *b) {
  return reply_send(rq, status, reply_response_new(b));
}

enum MHD_Result reply_relay(struct request *rq, unsigned int status,
                            struct relay *r, uint64_t size,
                            const struct reply_body *b) {
  struct MHD_Response *resp = relay_stream_response(rq->conn, r, size);
  if (resp)
    add_body_headers(resp, b);
  return reply_send(rq, status, resp);
}

/* JSON text (malloc'd, or NULL when out of memory) as a response: the
 * response's from here on. */
static struct MHD_Response *json_response(char *text, const char *cache) {
  if (!text)
    return NULL;
  return reply_response_new(&(struct reply_body){
      .data = text,
      .len = strlen(text),
      .mem = MHD_RESPMEM_MUST_FREE,
      .type = "application/json",
      .cache = cache,
  });
}

enum MHD_Result reply_json(struct request *rq, unsigned int status,
                           json_t *body) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  return reply_send(rq, status, json_response(text, "no-store"));
}

enum MHD_Result reply_json_text(struct request *rq, unsigned int status,
                                const char *text, size_t len) {
  return reply_body(rq, status,
                    &(struct reply_body){
                        .data = (void *)text,
                        .len = len,
                        .mem = MHD_RESPMEM_MUST_COPY,
                        .type = "application/json",
                        .cache = "no-store",
                    });
}

/* What a caller adds to an error of the table. */
struct ec_extra {
  const char *msg;   /* instead of the entry's message; NULL: none */
  int retry;         /* Retry-After instead of the entry's; 0: none */
  const char *allow; /* Allow, for a 405 (then no Cache-Control) */
};

/* The one error reply: {"error": {"code", "message"}} with the entry's
 * status, Retry-After and Connection: close, which makes libmicrohttpd
 * close the connection after the reply. */
static enum MHD_Result ec_reply(struct request *rq, enum agon_ec ec,
                                const struct ec_extra *x) {
  struct ec_info e = ec_info(ec);
  json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code", e.code,
                           "message", x->msg ? x->msg : e.message);
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  struct MHD_Response *resp =
      json_response(text, x->allow ? NULL : "no-store");
  if (!resp)
    return MHD_NO;
  int retry = x->retry > 0 ? x->retry : e.retry;
  if (retry > 0) {
    char secs[24];
    snprintf(secs, sizeof secs, "%d", retry);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
  }
  if (x->allow)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, x->allow);
  if (e.close)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  return reply_send(rq, e.status, resp);
}

enum MHD_Result reply_ec(struct request *rq, enum agon_ec ec) {
  return ec_reply(rq, ec, &(struct ec_extra){0});
}

static enum MHD_Result pending_rc_reply(struct request *rq) {
  return reply_ec(rq, rq->pending_rc);
}

enum MHD_Result reply_ec_resumed(struct request *rq, enum agon_ec ec) {
  rq->pending_rc = ec;
  rq->on_resume = pending_rc_reply;
  MHD_resume_connection(rq->conn);
  return MHD_YES;
}

void reply_resume(void *cls) { MHD_resume_connection(cls); }

enum MHD_Result reply_ec_msg(struct request *rq, enum agon_ec ec,
                             const char *msg) {
  return ec_reply(rq, ec, &(struct ec_extra){.msg = msg});
}

enum MHD_Result reply_ec_retry(struct request *rq, enum agon_ec ec,
                               int seconds) {
  return ec_reply(rq, ec, &(struct ec_extra){.retry = seconds});
}

enum MHD_Result reply_ec_allow(struct request *rq, const char *msg,
                               const char *allow) {
  return ec_reply(rq, EC_METHOD_NOT_ALLOWED,
                  &(struct ec_extra){.msg = msg, .allow = allow});
}
