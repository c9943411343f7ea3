/* Admin changes sent on to every other node (fanout.h). */
#include "http/fanout.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "http/forward.h"
#include "http/reply.h"
#include "upstream/relay.h"
#include "util/buf.h"
#include "util/log.h"

#define FANOUT_MAX_NODES 64       /* other nodes asked at most */
#define FANOUT_TIMEOUT_MS 10000L  /* each one's whole answer */
#define FANOUT_CONNECT_MS 3000L
#define FANOUT_MAX_ANSWER 4096    /* bytes of an answer kept (its error) */
#define FANOUT_MAX_AUTH 8300      /* "Authorization: Bearer " and a token */

struct fanout;

/* One other node's request. Its fields but `relay` are the relay's
 * (under its lock) until it has ended. */
struct fanout_one {
  struct fanout *fan;
  struct relay *relay;
  char name[ARENA_PEER_NAME];
  long status;
  int ended;
  struct buf answer;
};

struct fanout {
  pthread_mutex_t lock;           /* left, resumed */
  struct MHD_Connection *conn;
  size_t left;                    /* ends to come, +1 while starting */
  int resumed;
  json_t *body;                   /* this node's reply */
  size_t n;
  struct fanout_one one[];
};

static void fanout_free(void *pending) {
  struct fanout *f = pending;
  if (!f)
    return;
  for (size_t i = 0; i < f->n; i++) {
    relay_release(f->one[i].relay); /* no callback after it */
    buf_release(&f->one[i].answer);
  }
  json_decref(f->body);
  pthread_mutex_destroy(&f->lock);
  free(f);
}

/* One end less; the last one resumes the connection. */
static void one_done(struct fanout *f) {
  pthread_mutex_lock(&f->lock);
  int resume = --f->left == 0 && !f->resumed;
  if (resume)
    f->resumed = 1;
  pthread_mutex_unlock(&f->lock);
  if (resume)
    MHD_resume_connection(f->conn);
}

static void on_head(void *cls, long status, const char *type,
                    const char *retry_after) {
  struct fanout_one *o = cls;
  (void)type;
  (void)retry_after;
  o->status = status;
}

static void on_data(void *cls) {
  struct fanout_one *o = cls;
  char chunk[1024];
  size_t n;
  while ((n = relay_take_locked(o->relay, chunk, sizeof chunk)) > 0) {
    size_t room = o->answer.max - o->answer.len;
    buf_append(&o->answer, chunk, n < room ? n : room); /* the head only */
  }
}

static void on_end(void *cls, int ok, const char *detail) {
  struct fanout_one *o = cls;
  on_data(cls);
  if (!ok) {
    log_warn("msg=\"a node did not answer an admin change\" node=%s "
             "err=\"%s\"",
             o->name, log_q(detail));
    o->status = 0;
  }
  o->ended = 1;
  one_done(o->fan);
}

static const struct relay_ops fanout_ops = {
    .on_head = on_head, .on_data = on_data, .on_end = on_end};

/* What node o answered, for the reply. */
static json_t *one_json(struct fanout_one *o) {
  long status = 0;
  json_t *answer = NULL;
  if (o->relay) { /* else never sent */
    relay_lock(o->relay);
    status = o->ended ? o->status : 0;
    if (status && o->answer.len)
      answer = json_loadb(o->answer.data, o->answer.len, 0, NULL);
    relay_unlock(o->relay);
  }
  json_t *x = json_pack("{s:s, s:I}", "node", o->name, "status",
                        (json_int_t)status);
  if (x && status != 200) {
    const char *code = json_string_value(
        json_object_get(json_object_get(answer, "error"), "code"));
    json_object_set_new(x, "error",
                        json_string(code ? code : "node_unreachable"));
  }
  json_decref(answer);
  return x;
}

/* Every other node has answered (on_resume). */
static enum MHD_Result fanout_answer(struct request *rq) {
  struct fanout *f = rq->pending;
  json_t *nodes = json_array();
  for (size_t i = 0; nodes && i < f->n; i++)
    json_array_append_new(nodes, one_json(&f->one[i]));
  json_t *body = f->body;
  f->body = NULL;
  if (!nodes) {
    json_decref(body);
    return MHD_NO;
  }
  json_object_set_new(body, "nodes", nodes);
  return reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result fanout_reply(struct request *rq, json_t *body) {
  if (!body)
    return reply_ec(rq, EC_INTERNAL);
  if (rq->forwarded) /* one node sends it on, to the others */
    return reply_json(rq, MHD_HTTP_OK, body);
  struct arena_peer *peers = calloc(FANOUT_MAX_NODES, sizeof *peers);
  size_t n = peers ? arena_node_peers(rq->arena, peers, FANOUT_MAX_NODES) : 0;
  struct fanout *f = n ? calloc(1, sizeof *f + n * sizeof f->one[0]) : NULL;
  if (!f) {
    free(peers);
    json_object_set_new(body, "nodes", json_array());
    return reply_json(rq, MHD_HTTP_OK, body);
  }
  char header[FORWARD_HEADER_MAX], auth[FANOUT_MAX_AUTH];
  const char *bearer = MHD_lookup_connection_value(
      rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  pthread_mutex_init(&f->lock, NULL);
  f->conn = rq->conn;
  f->body = body;
  f->n = n;
  f->left = n + 1; /* the start's own, below */
  for (size_t i = 0; i < n; i++) {
    f->one[i].fan = f;
    snprintf(f->one[i].name, sizeof f->one[i].name, "%s", peers[i].name);
    buf_init(&f->one[i].answer, FANOUT_MAX_ANSWER);
  }
  rq->pending = f;
  rq->pending_free = fanout_free;
  rq->on_resume = fanout_answer;
  /* suspended first, so that the last answer finds it suspended */
  MHD_suspend_connection(rq->conn);
  int signed_ok = !forward_header(rq, "POST", header, sizeof header) &&
                  (size_t)snprintf(auth, sizeof auth, "Authorization: %s",
                                   bearer ? bearer : "") < sizeof auth;
  for (size_t i = 0; i < n; i++) {
    char url[ARENA_PEER_URL + 512];
    const char *headers[] = {header, auth, "Content-Type: application/json",
                             NULL};
    struct relay_request req = {
        .method = "POST",
        .url = url,
        .headers = headers,
        .body = rq->body.data ? rq->body.data : "",
        .body_len = rq->body.len,
        .timeout_ms = FANOUT_TIMEOUT_MS,
        .connect_ms = FANOUT_CONNECT_MS,
        .max_held = FANOUT_MAX_ANSWER,
    };
    if (!signed_ok ||
        (size_t)snprintf(url, sizeof url, "%s%s", peers[i].url, rq->url) >=
            sizeof url ||
        relay_start(rq->relays, &req, &fanout_ops, &f->one[i],
                    &f->one[i].relay)) {
      /* never sent: no callback comes for it */
      f->one[i].ended = 1;
      one_done(f);
    }
  }
  explicit_bzero(auth, sizeof auth);
  free(peers);
  one_done(f); /* the start's: every node may have answered already */
  return MHD_YES;
}
