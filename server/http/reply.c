#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Steals body. retry > 0 adds Retry-After; close adds Connection: close,
 * which makes libmicrohttpd close the connection after the reply. */
static enum MHD_Result reply_json_with(struct request *rq, unsigned status,
                                       json_t *body, int retry, int close) {
  char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
  json_decref(body);
  if (!text)
    return MHD_NO;
  size_t len = strlen(text);
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
  if (!resp) {
    free(text);
    return MHD_NO;
  }
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "application/json");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  reply_add_common_headers(resp);
  if (retry > 0) {
    char secs[24];
    snprintf(secs, sizeof secs, "%d", retry);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, secs);
  }
  if (close)
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
  enum MHD_Result r = reply_queue(rq, status, resp);
  MHD_destroy_response(resp);
  return r;
}

enum MHD_Result reply_json_text(struct request *rq, unsigned int status,
                                const char *text, size_t len) {
  struct MHD_Response *resp =
      MHD_create_response_from_buffer(len, (void *)text, MHD_RESPMEM_MUST_COPY);
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "application/json");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  reply_add_common_headers(resp);
  enum MHD_Result r = reply_queue(rq, status, resp);
  MHD_destroy_response(resp);
  return r;
}

enum MHD_Result reply_json(struct request *rq, unsigned int status,
                           json_t *body) {
  return reply_json_with(rq, status, body, 0, 0);
}

/* The error body {"error": {"code", "message"}}, sent as reply_json_with. */
static enum MHD_Result reply_error_with(struct request *rq, unsigned status,
                                        const char *code, const char *message,
                                        int retry, int close) {
  return reply_json_with(rq, status,
                         json_pack("{s:{s:s, s:s}}", "error", "code", code,
                                   "message", message),
                         retry, close);
}

enum MHD_Result reply_error_retry(struct request *rq, unsigned int status,
                                  const char *code, const char *message,
                                  int seconds) {
  return reply_error_with(rq, status, code, message, seconds, 0);
}

enum MHD_Result reply_error_close(struct request *rq, unsigned int status,
                                  const char *code, const char *message) {
  return reply_error_with(rq, status, code, message, 0, 1);
}

enum MHD_Result reply_error_close_retry(struct request *rq, unsigned int status,
                                        const char *code, const char *message,
                                        int seconds) {
  return reply_error_with(rq, status, code, message, seconds, 1);
}

enum MHD_Result reply_error(struct request *rq, unsigned int status,
                            const char *code, const char *message) {
  return reply_error_with(rq, status, code, message, 0, 0);
}
