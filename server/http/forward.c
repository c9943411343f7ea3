/* Forwarding a battle's requests to the node that runs it (forward.h).
 *
 * The request's connection is suspended while the battle's node answers
 * (upstream/relay.h carries the request, on a thread of its own). The
 * relay's callbacks run on that thread with the relay's lock held, which
 * is also the lock of everything below marked "relay lock":
 *  - the head: a 200 event stream is passed on as it comes (the
 *    connection is resumed at once with a response whose reader takes the
 *    relay's bytes); anything else (a 202, an error) is read whole, at most
 *    FORWARD_MAX_BODY bytes, and answered once it is in;
 *  - a stream's reader that finds nothing suspends the connection again,
 *    and the next bytes (or the end) resume it; the relay pauses its
 *    transfer while the client is slow, so that at most
 *    FORWARD_MAX_HELD bytes wait in memory per stream. */
#include "http/forward.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "battle/arena.h"
#include "http/reply.h"
#include "http/router.h"
#include "upstream/relay.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/node_id.h"

/* Bytes of a forwarded answer that is not a stream (a 202, an error). */
#define FORWARD_MAX_BODY (64 * 1024)
/* Bytes of a forwarded stream held for a slow client. */
#define FORWARD_MAX_HELD (64 * 1024)
/* Connecting to a node; a forwarded POST's whole answer (its commit). */
#define FORWARD_CONNECT_MS 3000
#define FORWARD_POST_MS 30000
/* Bytes of the signed part of X-Agon-Forwarded's value. */
#define FORWARD_SIGNED_MAX 1200

struct forward {
  struct MHD_Connection *conn;
  struct relay *relay;
  char base[2048];          /* the node's address it went to */
  int again;                /* sent a second time (the node had moved) */
  /* relay lock */
  long status;
  char type[128];           /* Content-Type, "" when none */
  char retry_after[16];     /* Retry-After, "" when none */
  int stream;               /* a 200 event stream, passed on as it comes */
  int answered;             /* the connection was resumed for the answer */
  int waiting;              /* the stream's reader suspended it */
  int ended, ok;
  char detail[256];
  struct buf whole;         /* not a stream: the body */
  int too_big;
};

/* Resume the connection suspended for the answer, once. Relay lock. */
static void answer_now(struct forward *f) {
  if (f->answered)
    return;
  f->answered = 1;
  MHD_resume_connection(f->conn);
}

static void on_head(void *cls, long status, const char *content_type,
                    const char *retry_after) {
  struct forward *f = cls;
  f->status = status;
  snprintf(f->type, sizeof f->type, "%s", content_type ? content_type : "");
  snprintf(f->retry_after, sizeof f->retry_after, "%s",
           retry_after ? retry_after : "");
  f->stream = status == 200 && !strncasecmp(f->type, "text/event-stream", 17);
  if (f->stream)
    answer_now(f);
}

static void on_data(void *cls) {
  struct forward *f = cls;
  if (f->stream) {
    if (f->waiting) {
      f->waiting = 0;
      MHD_resume_connection(f->conn);
    }
    return;
  }
  char chunk[4096];
  size_t n;
  while ((n = relay_take_locked(f->relay, chunk, sizeof chunk)) > 0)
    if (buf_append(&f->whole, chunk, n))
      f->too_big = 1;
}

static void on_end(void *cls, int ok, const char *detail) {
  struct forward *f = cls;
  f->ended = 1;
  f->ok = ok;
  snprintf(f->detail, sizeof f->detail, "%s", detail);
  if (!f->stream) {
    on_data(cls);  /* what came last */
    answer_now(f);
  } else if (f->waiting) {
    f->waiting = 0;
    MHD_resume_connection(f->conn);
  }
}

static const struct relay_ops forward_ops = {
    .on_head = on_head, .on_data = on_data, .on_end = on_end};

static void forward_free(void *pending) {
  struct forward *f = pending;
  if (!f)
    return;
  relay_release(f->relay);  /* no callback after it */
  buf_release(&f->whole);
  free(f);
}

/* libmicrohttpd's reader of a forwarded stream. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct forward *f = cls;
  (void)pos;
  relay_lock(f->relay);
  ssize_t r = (ssize_t)relay_take_locked(f->relay, out, max);
  if (r == 0 && relay_ended_locked(f->relay)) {
    r = MHD_CONTENT_READER_END_OF_STREAM;
  } else if (r == 0) {
    /* nothing now: sleep until the relay has more (on_data) */
    f->waiting = 1;
    MHD_suspend_connection(f->conn);
  }
  relay_unlock(f->relay);
  return r;
}

static enum MHD_Result forward_again(struct request *rq, struct forward *f);

/* The answer, once the relay has it (on_resume). */
static enum MHD_Result forward_reply(struct request *rq) {
  struct forward *f = rq->pending;
  relay_lock(f->relay);
  int stream = f->stream, ok = f->ok && !f->too_big;
  long status = f->status;
  char type[sizeof f->type], retry[sizeof f->retry_after], detail[256];
  snprintf(type, sizeof type, "%s", f->type);
  snprintf(retry, sizeof retry, "%s", f->retry_after);
  snprintf(detail, sizeof detail, "%s", f->too_big ? "answer too large"
                                                   : f->detail);
  size_t len = f->whole.len;
  char *body = len ? buf_steal(&f->whole) : NULL;
  relay_unlock(f->relay);
  struct MHD_Response *resp = NULL;
  if (!stream && (!ok || status < 200 || status > 599)) {
    free(body);
    log_warn("msg=\"the battle's node did not answer a forwarded request\" "
             "path=\"%s\" status=%ld err=\"%s\"",
             log_q(rq->url), status, log_q(detail));
    arena_nodes_stale(rq->arena);
    if (status == 0)
      return forward_again(rq, f);  /* no answer at all */
    return reply_ec(rq, EC_NODE_UNREACHABLE);
  }
  if (stream) {
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
                                             &stream_read, f, NULL);
    if (resp) {
      /* as the node sends it: no chunks, the end with the connection */
      MHD_set_response_options(resp, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
                               MHD_RO_END);
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                              "no-store");
      MHD_add_response_header(resp, "X-Accel-Buffering", "no");
      reply_add_common_headers(resp);
    }
  } else {
    resp = reply_response_new(&(struct reply_body){
        .data = body,
        .len = len,
        .mem = MHD_RESPMEM_MUST_FREE,
        .type = type[0] ? type : NULL,
        .cache = "no-store",
    });
    if (resp && retry[0])
      MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, retry);
  }
  if (!resp)
    return MHD_NO;
  enum MHD_Result r = reply_queue(rq, (unsigned)status, resp);
  MHD_destroy_response(resp);
  return r;
}

/* The signed part of X-Agon-Forwarded for a request: "v1 NODE CLIENT
 * SECURE METHOD PATH". -1 when it does not fit. */
static int signed_text(char *out, size_t len, const char *node,
                       const char *client, int secure, const char *method,
                       const char *path) {
  int n = snprintf(out, len, "v1 %s %s %d %s %s", node, client, secure != 0,
                   method, path);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether s is one token of the header: printable, no space. */
static int token_ok(const char *s, size_t n) {
  if (!n)
    return 0;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
      return 0;
  return 1;
}

static int same_mac(const char *a, const char *b) {
  unsigned char diff = 0;
  for (size_t i = 0; i < 64; i++)
    diff |= (unsigned char)(a[i] ^ b[i]);
  return diff == 0;
}

int forward_accept(struct request *rq) {
  const char *v = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                              FORWARD_HEADER);
  if (!v)
    return 0;
  /* v1 NODE CLIENT SECURE MAC */
  const char *part[5];
  size_t plen[5], n = 0;
  for (const char *p = v; *p && n < 5;) {
    while (*p == ' ')
      p++;
    if (!*p)
      break;
    const char *end = strchr(p, ' ');
    size_t k = end ? (size_t)(end - p) : strlen(p);
    part[n] = p;
    plen[n++] = k;
    p += k;
  }
  char node[NODE_NAME_MAX + 1], client[sizeof rq->client];
  char text[FORWARD_SIGNED_MAX], mac[65];
  if (n != 5 || plen[0] != 2 || strncmp(part[0], "v1", 2) ||
      plen[1] >= sizeof node || plen[2] >= sizeof client || plen[3] != 1 ||
      (part[3][0] != '0' && part[3][0] != '1') || plen[4] != 64 ||
      !token_ok(part[1], plen[1]) || !token_ok(part[2], plen[2]))
    return -1;
  memcpy(node, part[1], plen[1]);
  node[plen[1]] = '\0';
  if (!node_name_valid(node))
    return -1;
  memcpy(client, part[2], plen[2]);
  client[plen[2]] = '\0';
  int secure = part[3][0] == '1';
  if (signed_text(text, sizeof text, node, client, secure, rq->method,
                  rq->url) ||
      arena_forward_mac(rq->arena, text, mac) || !same_mac(mac, part[4]))
    return -1;
  rq->forwarded = 1;
  snprintf(rq->client, sizeof rq->client, "%s", client);
  rq->secure = secure;
  return 1;
}

int forward_header(struct request *rq, const char *method, char *out,
                   size_t len) {
  char text[FORWARD_SIGNED_MAX], mac[65];
  const char *node = arena_node_name(rq->arena);
  if (signed_text(text, sizeof text, node, rq->client, rq->secure, method,
                  rq->url) ||
      arena_forward_mac(rq->arena, text, mac))
    return -1;
  int n = snprintf(out, len, FORWARD_HEADER ": v1 %s %s %d %s", node,
                   rq->client, rq->secure != 0, mac);
  return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Send rq to the node at base (its internal URL, without a path) on a
 * relay into f->relay, f's answer fields cleared. 0, or -1 when it could
 * not be sent (f->relay NULL). */
static int forward_send(struct request *rq, struct forward *f,
                        const char *base) {
  char url[4096], header[FORWARD_HEADER_MAX], cookie[96];
  snprintf(f->base, sizeof f->base, "%s", base);
  f->status = 0;
  f->type[0] = f->retry_after[0] = f->detail[0] = '\0';
  f->stream = f->answered = f->waiting = f->ended = f->ok = f->too_big = 0;
  buf_reset(&f->whole);
  /* what is sent, and signed: a POST as it came, anything else (a HEAD
   * too) as a GET */
  int post = !strcmp(rq->method, "POST");
  const char *method = post ? "POST" : "GET";
  if ((size_t)snprintf(url, sizeof url, "%s%s", base, rq->url) >= sizeof url ||
      forward_header(rq, method, header, sizeof header))
    return -1;
  const char *session = request_session(rq, 0);
  const char *headers[4];
  size_t nh = 0;
  headers[nh++] = header;
  if (session) {
    snprintf(cookie, sizeof cookie, "Cookie: " SESSION_COOKIE "=%s", session);
    headers[nh++] = cookie;
  }
  if (post)
    headers[nh++] = "Content-Type: application/json";
  headers[nh] = NULL;
  struct relay_request req = {
      .method = method,
      .url = url,
      .headers = headers,
      .body = post ? rq->body.data : NULL,
      .body_len = post ? rq->body.len : 0,
      .timeout_ms = post ? FORWARD_POST_MS : 0,
      .connect_ms = FORWARD_CONNECT_MS,
      .max_held = FORWARD_MAX_HELD,
  };
  return relay_start(rq->relays, &req, &forward_ops, f, &f->relay);
}

/* Forward rq to the node at base; answered once it answers. */
static enum MHD_Result forward_to(struct request *rq, const char *base) {
  struct forward *f = calloc(1, sizeof *f);
  if (!f)
    return MHD_NO;
  f->conn = rq->conn;
  buf_init(&f->whole, FORWARD_MAX_BODY);
  rq->pending = f;
  rq->pending_free = forward_free;
  rq->on_resume = forward_reply;
  /* suspended first, so that the relay's resume finds it suspended */
  MHD_suspend_connection(rq->conn);
  if (forward_send(rq, f, base))
    return reply_ec_resumed(rq, EC_NODE_UNREACHABLE);
  return MHD_YES;
}

/* ---- reading the nodes table again, off the worker ----
 *
 * The table in memory may not know a node that started a moment ago, or
 * where one went that a forward just failed to reach. It is read on the
 * loader thread (arena_call_start) while rq is suspended; then `then`
 * runs on the worker, rq->nodes_settled set, with rq's pending work as it
 * was. */

struct reread_wait {
  struct arena_call *call;
  void *pending;                       /* rq's, meanwhile */
  void (*pending_free)(void *pending);
  enum MHD_Result (*then)(struct request *rq);
  int fresh;                           /* then starts rq anew: its pending
                                          work is let go first */
};

struct reread_job {
  int unused; /* a job to tell "read" from "not yet" (arena_call_job) */
};

static void reread_fn(struct arena *a, void *job) {
  (void)job;
  arena_nodes_reread(a);
}

static void reread_wait_free(void *pending) {
  struct reread_wait *w = pending;
  arena_call_free(w->call);
  if (w->pending_free)
    w->pending_free(w->pending);
  free(w);
}

static enum MHD_Result reread_resumed(struct request *rq) {
  struct reread_wait *w = rq->pending;
  if (!arena_call_job(w->call))
    return MHD_NO; /* resumed by nobody we know of: close */
  enum MHD_Result (*then)(struct request *) = w->then;
  void *pending = w->pending;
  void (*pending_free)(void *) = w->pending_free;
  int fresh = w->fresh;
  arena_call_free(w->call);
  free(w);
  if (fresh && pending_free)
    pending_free(pending);
  rq->pending = fresh ? NULL : pending;
  rq->pending_free = fresh ? NULL : pending_free;
  rq->nodes_settled = 1;
  rq->on_resume = NULL;
  return then(rq);
}

static enum MHD_Result reread_then(struct request *rq,
                                   enum MHD_Result (*then)(struct request *),
                                   int fresh) {
  struct reread_wait *w = calloc(1, sizeof *w);
  struct reread_job *job = calloc(1, sizeof *job);
  if (!w || !job) {
    free(w);
    free(job);
    return reply_ec(rq, EC_NOT_QUEUED);
  }
  w->then = then;
  w->fresh = fresh;
  w->pending = rq->pending;
  w->pending_free = rq->pending_free;
  rq->pending = w;
  rq->pending_free = reread_wait_free;
  rq->on_resume = reread_resumed;
  /* suspended first, so that the resume always finds it suspended */
  MHD_suspend_connection(rq->conn);
  enum agon_ec rc = arena_call_start(rq->arena, reread_fn, job, free,
                                     reply_resume, rq->conn, &w->call);
  if (rc)
    return reply_ec_resumed(rq, rc);
  return MHD_YES;
}

/* The request's handler again, now that the table is read. */
static enum MHD_Result handler_again(struct request *rq) {
  return rq->route->handler(rq);
}

/* The node did not answer at all: the nodes table, read again, may say
 * that it is gone, or where it went (restarted elsewhere): there once
 * more. (reread_then) */
static enum MHD_Result forward_again_read(struct request *rq) {
  struct forward *f = rq->pending;
  char url[2048];
  enum arena_owner o =
      arena_battle_owner(rq->arena, rq->param, 1, url, sizeof url);
  if (o == ARENA_OWNER_GONE)
    return reply_ec(rq, EC_NODE_GONE);
  if (o != ARENA_OWNER_THERE || !strcmp(url, f->base))
    return reply_ec(rq, EC_NODE_UNREACHABLE);
  f->again = 1;
  rq->on_resume = forward_reply;
  MHD_suspend_connection(rq->conn);
  if (forward_send(rq, f, url))
    return reply_ec_resumed(rq, EC_NODE_UNREACHABLE);
  return MHD_YES;
}

/* (on_resume) */
static enum MHD_Result forward_again(struct request *rq, struct forward *f) {
  if (f->again)
    return reply_ec(rq, EC_NODE_UNREACHABLE);
  relay_release(f->relay);
  f->relay = NULL;
  return reread_then(rq, forward_again_read, 0);
}

int forward_battle(struct request *rq, int events, enum MHD_Result *res) {
  char url[2048];
  enum arena_owner o = arena_battle_owner(rq->arena, rq->param,
                                          rq->nodes_settled, url, sizeof url);
  if (o == ARENA_OWNER_HERE)
    return 0;
  if (o == ARENA_OWNER_REREAD) {
    *res = reread_then(rq, handler_again, 1);
    return 1;
  }
  if (rq->forwarded) {
    /* never twice: the address the table gives is another node's */
    *res = reply_ec(rq, EC_FORWARD_LOOP);
    return 1;
  }
  if (o == ARENA_OWNER_THERE) {
    *res = forward_to(rq, url);
    return 1;
  }
  if (o == ARENA_OWNER_UNKNOWN) {
    *res = reply_ec(rq, EC_BATTLE_NOT_FOUND);
    return 1;
  }
  /* its node is gone: a stream of what the database holds, once the
   * battle no longer streams there (the reaper failed it); nothing
   * else can be asked of it */
  if (events)
    return 2;  /* the caller reads it off the worker, then decides */
  *res = reply_ec(rq, EC_NODE_GONE);
  return 1;
}

int forward_unstored(struct request *rq, enum MHD_Result *res) {
  char url[2048];
  if (rq->forwarded)
    return 0;
  enum arena_owner o = arena_battle_owner(rq->arena, rq->param,
                                          rq->nodes_settled, url, sizeof url);
  if (o == ARENA_OWNER_REREAD) {
    *res = reread_then(rq, handler_again, 1);
    return 1;
  }
  if (o != ARENA_OWNER_THERE)
    return 0;
  *res = forward_to(rq, url);
  return 1;
}
