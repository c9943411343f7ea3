#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "battle/arena.h"
#include "util/defer.h"
#include "util/listen.h"
#include "http/body.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "util/util.h"

struct http_server {
  struct MHD_Daemon *daemon;
  struct arena *arena;
};

const char *request_session(struct request *rq, int create) {
  if (rq->session[0])
    return rq->session;
  const char *c =
      MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, SESSION_COOKIE);
  if (c && strlen(c) == SESSION_HEX &&
      strspn(c, "0123456789abcdef") == SESSION_HEX) {
    memcpy(rq->session, c, SESSION_HEX + 1);
    return rq->session;
  }
  if (!create || random_hex(rq->session, SESSION_HEX / 2))
    return NULL;
  rq->new_session = 1;
  return rq->session;
}

static void request_free(struct request *rq) {
  if (!rq)
    return;
  buf_release(&rq->body);
  json_decref(rq->json);
  config_unref(rq->cfg);
  free(rq);
}

/* One log line and the metrics for every request, when it is over. */
static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **req_cls, enum MHD_RequestTerminationCode toe) {
  struct request *rq = *req_cls;
  defer_flush();  /* the reply is out: wake whom the handler woke */
  if (rq) {
    int route = rq->route ? (int)(rq->route - agon_routes) : -1;
    metrics_request(route, rq->status);
    log_info("msg=\"request\" method=%s path=\"%s\" status=%u ms=%lld%s",
             rq->method, rq->url, rq->status, mono_ms() - rq->started,
             toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " aborted=1");
  }
  request_free(rq);
  *req_cls = NULL;
}

static int is_json_type(const char *ct) {
  if (!ct)
    return 0;
  while (*ct == ' ')
    ct++;
  if (strncasecmp(ct, "application/json", 16))
    return 0;
  ct += 16;
  while (*ct == ' ')
    ct++;
  return *ct == '\0' || *ct == ';';
}

/* Checks made before any body is read; non-zero when answered. */
static int answer_early(struct request *rq, enum MHD_Result *res) {
  char msg[160];
  const struct route *r = NULL;
  enum route_match m =
      router_find(rq->method, rq->url, &r, rq->param, sizeof rq->param);
  if (m == ROUTE_NO_PATH) {
    *res = reply_error(rq, MHD_HTTP_NOT_FOUND, "not_found", "no such resource");
    return 1;
  }
  if (m == ROUTE_BAD_METHOD) {
    char allow[64];
    router_allowed(rq->url, allow, sizeof allow);
    snprintf(msg, sizeof msg, "method %s is not allowed here (allowed: %s)",
             rq->method, allow);
    json_t *body = json_pack("{s:{s:s, s:s}}", "error", "code",
                             "method_not_allowed", "message", msg);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    struct MHD_Response *resp = text ? MHD_create_response_from_buffer(
                                           strlen(text), text,
                                           MHD_RESPMEM_MUST_FREE)
                                     : NULL;
    if (!resp) {
      free(text);
      *res = MHD_NO;
      return 1;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
    reply_add_common_headers(resp);
    *res = reply_queue(rq, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
    MHD_destroy_response(resp);
    return 1;
  }
  rq->route = r;
  if (!r->json_body)
    return 0;
  if (!request_origin_ok(rq, rq->cfg)) {
    *res = reply_error(rq, MHD_HTTP_FORBIDDEN, "cross_origin",
                       "cross-site requests are not accepted");
    return 1;
  }
  const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!is_json_type(ct)) {
    *res = reply_error(rq, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
                       "unsupported_media_type",
                       "the body must be sent as Content-Type: application/json");
    return 1;
  }
  const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > rq->body.max) {
    snprintf(msg, sizeof msg, "the body is larger than %zu bytes", rq->body.max);
    *res = reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", msg);
    return 1;
  }
  return 0;
}

static enum MHD_Result access_handler(void *cls, struct MHD_Connection *conn,
                                      const char *url, const char *method,
                                      const char *version,
                                      const char *upload_data,
                                      size_t *upload_data_size,
                                      void **req_cls) {
  struct http_server *s = cls;
  struct request *rq = *req_cls;
  enum MHD_Result res;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    rq->conn = conn;
    rq->arena = s->arena;
    rq->cfg = arena_config(s->arena);
    rq->started = mono_ms();
    rq->method = method;
    rq->url = url;
    buf_init(&rq->body, (size_t)rq->cfg->max_body_bytes);
    request_identify(rq, rq->cfg);
    *req_cls = rq;
    if (answer_early(rq, &res))
      return res;
    return MHD_YES;
  }
  if (rq->replied)
    return MHD_YES;
  if (*upload_data_size) {
    if (!rq->body_too_large &&
        buf_append(&rq->body, upload_data, *upload_data_size))
      rq->body_too_large = 1;
    *upload_data_size = 0;
    return MHD_YES;
  }
  if (rq->body_too_large) {
    char msg[96];
    snprintf(msg, sizeof msg, "the body is larger than %zu bytes", rq->body.max);
    return reply_error(rq, MHD_HTTP_CONTENT_TOO_LARGE, "body_too_large", msg);
  }
  if (rq->route->json_body) {
    char msg[256];
    const char *code =
        body_parse(rq->body.data, rq->body.len, &rq->json, msg, sizeof msg);
    if (code)
      return reply_error(rq, MHD_HTTP_BAD_REQUEST, code, msg);
  }
  defer_begin();
  return rq->route->handler(rq);
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  log_warn("msg=\"libmicrohttpd: %s\"", msg);
}

struct http_server *http_server_start(struct arena *a, const char *listen,
                                      unsigned threads, uint16_t *port,
                                      char *err, size_t errlen) {
  char host[256];
  uint16_t want;
  struct addrinfo *ai = NULL;
  if (parse_listen(listen, host, sizeof host, &want)) {
    snprintf(err, errlen, "listen address '%s' is not HOST:PORT", listen);
    return NULL;
  }
  struct addrinfo hints = {.ai_family = AF_UNSPEC,
                           .ai_socktype = SOCK_STREAM,
                           .ai_flags = AI_PASSIVE};
  char portstr[8];
  snprintf(portstr, sizeof portstr, "%u", want);
  int gai = getaddrinfo(host[0] ? host : NULL, portstr, &hints, &ai);
  if (gai) {
    snprintf(err, errlen, "cannot resolve '%s': %s", host, gai_strerror(gai));
    return NULL;
  }
  struct http_server *s = calloc(1, sizeof *s);
  if (!s) {
    freeaddrinfo(ai);
    return NULL;
  }
  s->arena = a;
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon(
      flags, want, NULL, NULL, &access_handler, s,
      MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, NULL,
      MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads ? threads : 1),
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)a->cfg->idle_timeout,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)20000,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
      MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!s->daemon) {
    snprintf(err, errlen, "cannot listen on '%s': %s", listen,
             errno ? strerror(errno) : "libmicrohttpd failed to start");
    free(s);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
  *port = info ? info->port : want;
  return s;
}

void http_server_stop(struct http_server *s) {
  if (!s)
    return;
  MHD_stop_daemon(s->daemon);
  free(s);
}
