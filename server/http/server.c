#include "http/server.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "config/config.h"
#include "util/defer.h"
#include "util/listen.h"
#include "http/body.h"
#include "http/connections.h"
#include "http/forward.h"
#include "http/reply.h"
#include "http/request.h"
#include "http/router.h"
#include "metrics/metrics.h"
#include "upstream/relay.h"
#include "util/fdbudget.h"
#include "util/log.h"
#include "util/nowait.h"
#include "util/clock.h"
#include "util/random.h"

/* Connections kept for essential routes above max_connections. */
#define ESSENTIAL_CONNECTIONS 16

struct http_server {
  struct MHD_Daemon *daemon;
  struct relay_loop *relays;  /* requests forwarded to other nodes */
  struct http_app app;
  struct deadline *deadline;  /* every connection: see http/connections.h */
  long soft_limit;            /* past this many connections, shed */
};

/* The largest request we read: a longer URI or more query arguments get
 * 414, more bytes of header fields 431 (as JSON, from answer_early).
 * libmicrohttpd keeps a request's line, header fields and arguments in a
 * pool of CONNECTION_MEMORY bytes per connection, which must hold a request
 * at these limits with room to spare; a request far past them exhausts the
 * pool and libmicrohttpd answers it itself (414 or 431, an HTML body). */
#define MAX_URI_BYTES 8192
#define MAX_QUERY_ARGS 64
#define MAX_HEADER_BYTES 16384
#define CONNECTION_MEMORY (64 * 1024)

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

const char *request_query(struct request *rq, const char *name) {
  return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

static void request_free(struct request *rq) {
  if (!rq)
    return;
  if (rq->pending_free)
    rq->pending_free(rq->pending);
  buf_release(&rq->body);
  json_decref(rq->json);
  config_unref(rq->cfg);
  free(rq);
}

/* libmicrohttpd calls this with the URI of every request, before it
 * parses the query: the request's context is made here (NULL when out of
 * memory). A URI over MAX_URI_BYTES or with more than MAX_QUERY_ARGS
 * arguments is marked for a 414, and its query is cut off in
 * libmicrohttpd's buffer so that it is never parsed: 0.9.75 stores each
 * argument in the connection's pool, and when the pool runs out it queues
 * a 431 that its own state machine then drops, leaving the connection
 * silent until the idle timeout. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn) {
  struct request *rq = calloc(1, sizeof *rq);
  if (!rq || !uri)
    return rq;
  const char *query = NULL;
  size_t args = 0, len = 0;
  for (; uri[len]; len++) {
    if (uri[len] == '?' && !query)
      query = uri + len;
    else if (uri[len] == '&' && query)
      args++;
  }
  if (query && query[1])
    args++;
  if (len > MAX_URI_BYTES || args > MAX_QUERY_ARGS) {
    rq->uri_too_long = 1;
    if (query)
      ((char *)query)[1] = '\0'; /* the buffer is libmicrohttpd's, writable */
  }
  return rq;
}

/* One log line and the metrics for every request, when it is over. Requests
 * that libmicrohttpd refused itself never reached the access handler (no
 * method): it logs those. */
static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **req_cls, enum MHD_RequestTerminationCode toe) {
  struct request *rq = *req_cls;
  defer_flush();  /* the reply is out: wake whom the handler woke */
  deadline_request_done(conn);
  if (rq && rq->method) {
    int route = rq->route ? (int)(rq->route - rq->routes) : -1;
    metrics_request(route, rq->status);
    log_info("msg=\"request\" method=%s path=\"%s\" status=%u ms=%lld%s",
             log_q(rq->method), log_q(rq->url), rq->status,
             mono_ms() - rq->started,
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

/* What the request's header fields say about how its body is framed, and
 * their size. */
struct header_scan {
  unsigned content_lengths;    /* Content-Length fields */
  unsigned transfer_encodings; /* Transfer-Encoding fields */
  const char *te;              /* the last Transfer-Encoding value */
  size_t bytes;                /* of the field lines, as sent but for spaces */
};

static enum MHD_Result scan_header(void *cls, enum MHD_ValueKind kind,
                                   const char *key, size_t key_size,
                                   const char *value, size_t value_size) {
  struct header_scan *f = cls;
  f->bytes += key_size + value_size + 4; /* ": " and CRLF */
  if (!strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH)) {
    f->content_lengths++;
  } else if (!strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING)) {
    f->transfer_encodings++;
    f->te = value;
  }
  return MHD_YES;
}

/* A Transfer-Encoding value other than "chunked": 501 when chunked is the
 * last of several codings, once (framed, but we decode no other coding);
 * else 400, as the length of the body is unknown (RFC 9112, 6.1 and 6.3). */
static enum agon_ec te_error(const char *te) {
  unsigned tokens = 0, chunked = 0, last_chunked = 0;
  for (const char *p = te; *p;) {
    p += strspn(p, " \t,");
    size_t n = strcspn(p, ",");
    size_t len = n;
    while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
      len--;
    if (len) {
      tokens++;
      last_chunked = len == 7 && !strncasecmp(p, "chunked", 7);
      chunked += last_chunked;
    }
    p += n;
  }
  return tokens > 1 && chunked == 1 && last_chunked
             ? EC_UNSUPPORTED_TRANSFER_ENCODING
             : EC_BAD_FRAMING;
}

/* Refuse a body whose framing a proxy in front of us could read another
 * way (request smuggling): several Content-Length fields, Content-Length
 * with Transfer-Encoding, any transfer coding but a single chunked, or
 * Transfer-Encoding in HTTP/1.0. libmicrohttpd 0.9.75 accepts all of these
 * (it frames by the first field it finds); it refuses a malformed
 * Content-Length value itself, before the access handler runs. Non-zero
 * when answered; the connection is closed after the reply. */
static int answer_bad_framing(struct request *rq, const struct header_scan *h,
                              const char *version, enum MHD_Result *res) {
  enum agon_ec ec = EC_OK;
  if (h->content_lengths > 1)
    ec = EC_FRAMING_CONTENT_LENGTHS;
  else if (h->content_lengths && h->transfer_encodings)
    ec = EC_FRAMING_LENGTH_AND_CODING;
  else if (h->transfer_encodings > 1)
    ec = EC_FRAMING_CODINGS;
  else if (h->transfer_encodings && !strcmp(version, MHD_HTTP_VERSION_1_0))
    ec = EC_FRAMING_HTTP_1_0;
  else if (h->te && strcasecmp(h->te, "chunked"))
    ec = te_error(h->te);
  if (!ec)
    return 0;
  *res = reply_ec(rq, ec);
  return 1;
}

/* Checks made before any body is read; non-zero when answered. */
static int answer_early(struct request *rq, const char *version,
                        enum MHD_Result *res) {
  char msg[160];
  if (rq->uri_too_long) {
    snprintf(msg, sizeof msg,
             "the URI is longer than %d bytes or has more than %d query "
             "arguments", MAX_URI_BYTES, MAX_QUERY_ARGS);
    *res = reply_ec_msg(rq, EC_URI_TOO_LONG, msg);
    return 1;
  }
  struct header_scan h = {0};
  MHD_get_connection_values_n(rq->conn, MHD_HEADER_KIND, &scan_header, &h);
  if (h.bytes > MAX_HEADER_BYTES) {
    snprintf(msg, sizeof msg, "the header fields are larger than %d bytes",
             MAX_HEADER_BYTES);
    *res = reply_ec_msg(rq, EC_HEADERS_TOO_LARGE, msg);
    return 1;
  }
  if (answer_bad_framing(rq, &h, version, res))
    return 1;
  const struct route *r = NULL;
  enum route_match m =
      router_find(rq->routes, rq->method, rq->url, &r, rq->param,
                  sizeof rq->param);
  if (m == ROUTE_NO_PATH) {
    *res = reply_ec(rq, EC_NOT_FOUND);
    return 1;
  }
  if (m == ROUTE_BAD_METHOD) {
    char allow[64];
    router_allowed(rq->routes, rq->url, allow, sizeof allow);
    snprintf(msg, sizeof msg, "method %s is not allowed here (allowed: %s)",
             rq->method, allow);
    *res = reply_ec_allow(rq, msg, allow);
    return 1;
  }
  rq->route = r;
  if (!r->json_body)
    return 0;
  if (!request_origin_ok(rq, rq->cfg)) {
    *res = reply_ec(rq, EC_CROSS_ORIGIN);
    return 1;
  }
  const char *ct = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_TYPE);
  if (!is_json_type(ct)) {
    *res = reply_ec(rq, EC_UNSUPPORTED_MEDIA_TYPE);
    return 1;
  }
  const char *cl = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl && strtoull(cl, NULL, 10) > rq->body.max) {
    snprintf(msg, sizeof msg, "the body is larger than %zu bytes", rq->body.max);
    *res = reply_ec_msg(rq, EC_BODY_TOO_LARGE, msg);
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
  /* libmicrohttpd's threads serve every connection: none may wait */
  nowait_mark();
  if (!rq)
    return MHD_NO; /* on_uri ran out of memory */
  if (!rq->method) {
    rq->conn = conn;
    rq->arena = s->app.arena;
    rq->routes = s->app.routes;
    rq->cfg = s->app.config(s->app.arena);
    rq->started = mono_ms();
    rq->method = method;
    rq->url = url;
    buf_init(&rq->body, (size_t)rq->cfg->max_body_bytes);
    rq->relays = s->relays;
    request_identify(rq, rq->cfg);
    if (forward_accept(rq) < 0) {
      deadline_request_in(conn);
      return reply_ec(rq, EC_FORWARD_REFUSED);
    }
    if (answer_early(rq, version, &res)) {
      deadline_request_in(conn);
      return res;
    }
    if (!rq->route->essential &&
        deadline_open_count(s->deadline) > s->soft_limit) {
      /* Overloaded: answer at once and free the connection, keeping the
       * last descriptors for /healthz, /metrics and the admin. */
      deadline_request_in(conn);
      return reply_ec(rq, EC_OVERLOADED);
    }
    return MHD_YES;
  }
  if (rq->on_resume) {
    /* resumed: the handler's answer is ready */
    enum MHD_Result (*fn)(struct request *) = rq->on_resume;
    rq->on_resume = NULL;
    defer_begin();
    enum MHD_Result r = fn(rq);
    defer_end(rq->replied);
    return r;
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
  deadline_request_in(conn);  /* it is all in */
  if (rq->body_too_large) {
    char msg[96];
    snprintf(msg, sizeof msg, "the body is larger than %zu bytes", rq->body.max);
    return reply_ec_msg(rq, EC_BODY_TOO_LARGE, msg);
  }
  if (rq->route->json_body) {
    char msg[256];
    enum agon_ec ec =
        body_parse(rq->body.data, rq->body.len, &rq->json, msg, sizeof msg);
    if (ec)
      return reply_ec_msg(rq, ec, msg);
  }
  defer_begin();
  enum MHD_Result r = rq->route->handler(rq);
  /* a reply queued: libmicrohttpd sends it next, and its completion (a
   * stream's: its first read) does the wakeups; else (suspended) now */
  defer_end(rq->replied);
  return r;
}

static void log_mhd(void *cls, const char *fmt, va_list ap) {
  char msg[512];
  vsnprintf(msg, sizeof msg, fmt, ap);
  size_t n = strlen(msg);
  while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
    msg[--n] = '\0';
  /* limited by libmicrohttpd's own format: a flood of one failure (out of
   * file descriptors, a stream of malformed requests) is counted, not
   * copied line by line */
  log_msg_keyed((uintptr_t)fmt, "warn", "msg=\"libmicrohttpd: %s\"",
                log_q(msg));
}

struct http_server *http_server_start(const struct http_app *app,
                                      const struct config *cfg,
                                      const char *listen, unsigned threads,
                                      uint16_t *port, char *err,
                                      size_t errlen) {
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
  s->app = *app;
  long max_conn = cfg->max_connections < 0 ? fdbudget_connections()
                                           : cfg->max_connections;
  if (max_conn == 0)
    max_conn = 1000000;  /* the admin's "no limit" */
  /* libmicrohttpd's own limit leaves room above ours: connections past
   * ours are answered 503 and closed, and /healthz, /metrics and the
   * admin still get in */
  s->soft_limit = max_conn;
  max_conn += ESSENTIAL_CONNECTIONS;
  s->deadline = deadline_new(cfg->request_timeout);
  s->relays = s->deadline ? relay_loop_new() : NULL;
  if (!s->relays) {
    snprintf(err, errlen, "cannot start the %s",
             s->deadline ? "forwarding loop" : "connection tracker");
    deadline_free(s->deadline);
    freeaddrinfo(ai);
    free(s);
    return NULL;
  }
  unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
                   MHD_USE_ERROR_LOG;
  if (ai->ai_family == AF_INET6)
    flags |= MHD_USE_IPv6;
  s->daemon = MHD_start_daemon(
      flags, want, NULL, NULL, &access_handler, s,
      MHD_OPTION_EXTERNAL_LOGGER, &log_mhd, NULL,
      MHD_OPTION_SOCK_ADDR, ai->ai_addr,
      MHD_OPTION_URI_LOG_CALLBACK, &on_uri, s,
      MHD_OPTION_NOTIFY_COMPLETED, &on_completed, s,
      MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(threads ? threads : 1),
      MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)cfg->idle_timeout,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned int)max_conn,
      MHD_OPTION_PER_IP_CONNECTION_LIMIT,
      (unsigned int)cfg->max_connections_per_client,
      MHD_OPTION_NOTIFY_CONNECTION, &deadline_notify, s->deadline,
      MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)1024,
      MHD_OPTION_END);
  freeaddrinfo(ai);
  if (!s->daemon) {
    snprintf(err, errlen, "cannot listen on '%s': %s", listen,
             errno ? strerror(errno) : "libmicrohttpd failed to start");
    relay_loop_free(s->relays);
    deadline_free(s->deadline);
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
  /* every forwarded request ends first (its connection resumed) */
  relay_loop_stop(s->relays);
  MHD_stop_daemon(s->daemon);
  relay_loop_free(s->relays);
  deadline_free(s->deadline);
  free(s);
}
