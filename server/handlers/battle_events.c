/* GET /api/battles/ID/events: the latest turn as Server-Sent Events.
 *
 * First the text so far, then live deltas, each side's done (with its HTML
 * and its reasoning, null when none) or error, and `end`; then the stream
 * closes (the body ends with the connection: no chunked encoding, see
 * below).
 *
 * The fast path. libmicrohttpd sends the headers and what the battle
 * already holds. Once a stream has nothing more to send, its connection is
 * suspended (no thread, no polling) and the stream is handed to the
 * battle: whichever thread changes the battle (the upstream loop, for every
 * delta) builds the new events and writes them straight to the client's
 * socket, under the battle lock. That is one send() per change, instead of
 * resuming the connection and waking a libmicrohttpd worker to call us
 * back. The connection is resumed, and libmicrohttpd writes again, only
 * when the socket is full (a slow reader), when the stream has ended, or
 * when the client has gone.
 *
 * Why this is sound:
 *  - libmicrohttpd leaves a suspended connection's socket alone (it is out
 *    of its epoll set), and calls our reader only when everything it took
 *    from us before has been sent: so the bytes on the wire stay in order.
 *  - The stream and its socket are only written under the battle lock, and
 *    `direct` (also under it) says who writes: us while suspended, else
 *    libmicrohttpd.
 *  - libmicrohttpd frees the stream (stream_free, which takes the battle
 *    lock) before it closes the socket, so no write can reach a closed or
 *    reused descriptor.
 *  - The body is sent without chunked encoding (MHD_RF_HTTP_1_0_COMPATIBLE_
 *    STRICT: HTTP/1.1, Connection: close), so our bytes need no framing.
 *    Plain sockets only: behind TLS in libmicrohttpd this would not hold
 *    (Agon leaves TLS to a reverse proxy). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"
#include "metrics/metrics.h"
#include "util/util.h"

struct event_stream {
  struct battle_watcher watcher;   /* first: see stream_of */
  struct MHD_Connection *conn;
  struct battle *b;                /* a reference */
  int turn;                        /* 0-based */
  size_t sent[2];                  /* bytes of each answer sent */
  int side_closed[2];              /* done or error sent */
  int ended;                       /* end sent */
  int counted;                     /* in the open-streams gauge */
  int fd;                          /* the client's socket */
  int direct;                      /* suspended: the battle writes to fd */
  int gone;                        /* a write to fd failed: client gone */
  struct buf out;                  /* bytes built, not yet handed over */
  size_t out_pos;
  size_t out_max;                  /* out's maximum (to make it anew) */
  long held;                       /* bytes of out counted in `buffered` */
  long max_buffered;               /* the server's bound (0: none) */
  struct arena *arena;
  char client[64];                 /* its slot in arena->streams, or "" */
};

/* Event bytes built and not yet taken by the socket or libmicrohttpd, for
 * every stream of the server (metrics_events_buffered): a reader too slow
 * to keep up is cut when this passes max_buffered_bytes, so that many slow
 * readers cannot make the server hold every battle's backlog for each of
 * them. */

/* At most this much of one answer goes into one delta event: a stream
 * that falls behind holds a slice, not the whole backlog. */
#define DELTA_SLICE 16384

/* Count what es holds now in `buffered`; give back a large buffer once
 * all of it is out. Battle lock held. */
static void account(struct event_stream *es) {
  long now = (long)(es->out.len - es->out_pos);
  if (now == 0 && es->out.cap > 4 * DELTA_SLICE) {
    buf_release(&es->out);
    buf_init(&es->out, es->out_max);
    es->out_pos = 0;
  }
  if (now != es->held)
    metrics_events_buffered(now - es->held);
  es->held = now;
}

/* Whether the server holds more for slow readers than it may. */
static int over_budget(const struct event_stream *es) {
  return es->max_buffered > 0 &&
         metrics_events_buffered(0) > es->max_buffered;
}

static struct event_stream *stream_of(struct battle_watcher *w) {
  return (struct event_stream *)((char *)w -
                                 offsetof(struct event_stream, watcher));
}

static void build_events_locked(struct event_stream *es);

/* Write out[out_pos..] to the socket without blocking; stops when the
 * socket is full. Sets gone when the client cannot be written to. */
static void send_direct(struct event_stream *es) {
  while (es->out_pos < es->out.len) {
    ssize_t n = send(es->fd, es->out.data + es->out_pos,
                     es->out.len - es->out_pos, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      es->out_pos += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        es->gone = 1;
      return;
    }
  }
}

/* Called by the battle (lock held) when something changed: write the new
 * events to the client. The stream stays with the battle while every byte
 * could be written; otherwise libmicrohttpd takes over (see the top). */
static void stream_wake(struct battle_watcher *w) {
  struct event_stream *es = stream_of(w);
  if (!es->direct) {
    MHD_resume_connection(es->conn);
    return;
  }
  for (;;) {
    buf_reset(&es->out);
    es->out_pos = 0;
    build_events_locked(es);
    send_direct(es);
    account(es);
    if (es->out_pos < es->out.len && over_budget(es))
      es->gone = 1;  /* a slow reader, while the server is full: cut */
    if (es->gone || es->ended || es->out_pos < es->out.len) {
      es->direct = 0;
      MHD_resume_connection(es->conn);
      return;
    }
    if (es->out.len == 0)
      break;  /* all sent; more may come with the next change */
  }
  battle_watch_locked(es->b, &es->watcher);
}

static int add_event(struct event_stream *es, const char *name, json_t *data) {
  char *text = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (!text)
    return -1;
  int rc = buf_append_str(&es->out, "event: ") ||
           buf_append_str(&es->out, name) ||
           buf_append_str(&es->out, "\ndata: ") ||
           buf_append_str(&es->out, text) ||
           buf_append_str(&es->out, "\n\n");
  free(text);
  return rc ? -1 : 0;
}

/* Build every event that is due; battle lock held. */
static void build_events_locked(struct event_stream *es) {
  struct battle *b = es->b;
  struct battle_turn *t = &b->turns[es->turn];
  static const char *const names[2] = {"a", "b"};
  int turn = es->turn + 1;
  for (int s = 0; s < 2; s++) {
    struct battle_side *side = &t->side[s];
    if (side->text.len > es->sent[s]) {
      /* a slice, cut at a character boundary (the text is valid UTF-8) */
      size_t n = side->text.len - es->sent[s];
      if (n > DELTA_SLICE) {
        n = DELTA_SLICE;
        while (n > 0 &&
               ((unsigned char)side->text.data[es->sent[s] + n] & 0xC0) == 0x80)
          n--;
      }
      json_t *d = json_pack("{s:s, s:i, s:s%}", "side", names[s], "turn", turn,
                            "text", side->text.data + es->sent[s], n);
      if (add_event(es, "delta", d))
        return;
      es->sent[s] += n;
    }
    if (side->finished && !es->side_closed[s] &&
        es->sent[s] == side->text.len) {
      if (side->failed)
        add_event(es, "error",
                  json_pack("{s:s, s:i, s:s}", "side", names[s], "turn", turn,
                            "message", side->public_error));
      else
        /* no reasoning here: whether a side reasons at all would tell
         * a reasoning model apart before the vote (GET /api/battles/ID
         * gives it once voted) */
        add_event(es, "done",
                  json_pack("{s:s, s:i, s:s?}", "side", names[s], "turn",
                            turn, "html", side->html));
      es->side_closed[s] = 1;
    }
  }
  int turn_over = b->status != BATTLE_STREAMING || (size_t)turn < b->n_turns;
  if (es->side_closed[0] && es->side_closed[1] && turn_over && !es->ended) {
    int failed = t->side[0].failed || t->side[1].failed;
    add_event(es, "end",
              json_pack("{s:i, s:s}", "turn", turn, "status",
                        failed ? "failed" : "ready"));
    es->ended = 1;
  }
}

/* libmicrohttpd's content reader: called only when all it took before has
 * been sent. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct event_stream *es = cls;
  struct battle *b = es->b;
  ssize_t r;
  (void)pos;
  pthread_mutex_lock(&b->lock);
  /* libmicrohttpd calls us: it has the socket (it may also have resumed
   * the connection on its own, to close it at shutdown) */
  es->direct = 0;
  if (es->gone) {
    r = MHD_CONTENT_READER_END_OF_STREAM;
    goto out;
  }
  if (es->out_pos >= es->out.len) {
    buf_reset(&es->out);
    es->out_pos = 0;
    build_events_locked(es);
    account(es);
    if (es->out.len == 0) {
      if (es->ended) {
        r = MHD_CONTENT_READER_END_OF_STREAM;
        goto out;
      }
      /* all sent, nothing new: sleep, and let the battle write the next
       * events itself */
      es->direct = es->fd >= 0;
      battle_watch_locked(b, &es->watcher);
      MHD_suspend_connection(es->conn);
      r = 0;
      goto out;
    }
  }
  size_t n = es->out.len - es->out_pos;
  if (n > max)
    n = max;
  memcpy(out, es->out.data + es->out_pos, n);
  es->out_pos += n;
  account(es);
  r = (ssize_t)n;
out:
  pthread_mutex_unlock(&b->lock);
  return r;
}

static void stream_free(void *cls) {
  struct event_stream *es = cls;
  if (es->counted)
    metrics_streams(-1);
  pthread_mutex_lock(&es->b->lock);
  battle_unwatch_locked(es->b, &es->watcher);
  es->b->n_streams--;
  metrics_events_buffered(-es->held);
  pthread_mutex_unlock(&es->b->lock);
  if (es->client[0])
    keycount_give(&es->arena->streams, es->client);
  battle_unref(es->b);
  buf_release(&es->out);
  free(es);
}

enum MHD_Result handle_battle_events(struct request *rq) {
  struct battle *b = arena_battle_find(rq->arena, rq->param);
  if (!b)
    return reply_ec(rq, EC_BATTLE_NOT_FOUND);
  if (keycount_take(&rq->arena->streams, rq->client,
                    rq->cfg->max_streams_per_client)) {
    battle_unref(b);
    return reply_ec(rq, EC_TOO_MANY_STREAMS);
  }
  pthread_mutex_lock(&b->lock);
  int full = rq->cfg->max_streams_per_battle > 0 &&
             b->n_streams >= rq->cfg->max_streams_per_battle;
  if (!full)
    b->n_streams++;
  pthread_mutex_unlock(&b->lock);
  if (full) {
    keycount_give(&rq->arena->streams, rq->client);
    battle_unref(b);
    return reply_ec(rq, EC_TOO_MANY_BATTLE_STREAMS);
  }
  struct event_stream *es = calloc(1, sizeof *es);
  if (!es) {
    pthread_mutex_lock(&b->lock);
    b->n_streams--;
    pthread_mutex_unlock(&b->lock);
    keycount_give(&rq->arena->streams, rq->client);
    battle_unref(b);
    return MHD_NO;
  }
  es->arena = rq->arena;
  snprintf(es->client, sizeof es->client, "%s", rq->client);
  es->max_buffered = rq->cfg->max_buffered_bytes;
  es->watcher.wake = stream_wake;
  es->conn = rq->conn;
  es->b = b;
  es->fd = -1;
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) {
    /* small events must leave at once, whatever libmicrohttpd last set */
    int one = 1;
    es->fd = ci->connect_fd;
    setsockopt(es->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  /* an answer of max bytes may be escaped up to 6x in one delta, and its
   * HTML (larger still) and its reasoning (6x again) in one done event,
   * for each side */
  es->out_max = (size_t)rq->cfg->max_answer_bytes * 80 + 65536;
  buf_init(&es->out, es->out_max);
  pthread_mutex_lock(&b->lock);
  es->turn = b->n_turns ? (int)b->n_turns - 1 : 0;
  int empty = b->n_turns == 0;
  pthread_mutex_unlock(&b->lock);
  if (empty) {
    stream_free(es);
    return reply_ec(rq, EC_BATTLE_NOT_FOUND);
  }
  struct MHD_Response *resp = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 16 * 1024, &stream_read, es, &stream_free);
  if (!resp) {
    stream_free(es);
    return MHD_NO;
  }
  /* no chunked encoding: the direct writes need no framing (see the top) */
  if (MHD_set_response_options(resp, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
                               MHD_RO_END) != MHD_YES)
    es->fd = -1;
  es->counted = 1;
  metrics_streams(1);
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/event-stream; charset=utf-8");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(resp, "X-Accel-Buffering", "no");
  reply_add_common_headers(resp);
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}
