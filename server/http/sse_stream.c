/* Server-Sent Events written straight to the socket (sse_stream.h). */
#include "http/sse_stream.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "metrics/metrics.h"
#include "util/defer.h"

/* A built buffer larger than this is given back once it is all out. */
#define KEEP_BYTES (64 * 1024)

struct sse_stream {
  struct MHD_Connection *conn;
  const struct sse_producer *p;
  void *cls;
  int fd;                          /* the client's socket, -1: none */
  int direct;                      /* suspended: the producer writes to fd */
  int gone;                        /* a write to fd failed: client gone */
  int ended;                       /* build said nothing follows */
  struct buf out;                  /* bytes built, not yet handed over */
  size_t out_pos;
  size_t out_max;
  long held;                       /* bytes of out in metrics_events_buffered */
  long max_buffered;
};

/* Count what s holds now; give back a large buffer once all of it is out.
 * Lock held. */
static void account(struct sse_stream *s) {
  long now = (long)(s->out.len - s->out_pos);
  if (now == 0 && s->out.cap > KEEP_BYTES) {
    buf_release(&s->out);
    buf_init(&s->out, s->out_max);
    s->out_pos = 0;
  }
  if (now != s->held)
    metrics_events_buffered(now - s->held);
  s->held = now;
}

/* Whether the server holds more for slow readers than it may. */
static int over_budget(const struct sse_stream *s) {
  return s->max_buffered > 0 && metrics_events_buffered(0) > s->max_buffered;
}

/* Build what is due into out (emptied first). Lock held. */
static void build(struct sse_stream *s) {
  buf_reset(&s->out);
  s->out_pos = 0;
  if (!s->ended && s->p->build(s->cls, &s->out))
    s->ended = 1;
}

/* Write out[out_pos..] to the socket without blocking; stops when the
 * socket is full. Sets gone when the client cannot be written to. */
static void send_direct(struct sse_stream *s) {
  while (s->out_pos < s->out.len) {
    ssize_t n = send(s->fd, s->out.data + s->out_pos, s->out.len - s->out_pos,
                     MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      s->out_pos += (size_t)n;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        s->gone = 1;
      return;
    }
  }
}

void sse_stream_wake(struct sse_stream *s) {
  if (!s->direct) {
    MHD_resume_connection(s->conn);
    return;
  }
  for (;;) {
    build(s);
    send_direct(s);
    account(s);
    if (s->out_pos < s->out.len && over_budget(s))
      s->gone = 1;  /* a slow reader, while the server is full: cut */
    if (s->gone || s->ended || s->out_pos < s->out.len) {
      s->direct = 0;
      MHD_resume_connection(s->conn);
      return;
    }
    if (s->out.len == 0)
      break;  /* all sent; more may come with the next change */
  }
  s->p->watch(s->cls, s);
}

/* libmicrohttpd's content reader: called only when all it took before has
 * been sent. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct sse_stream *s = cls;
  ssize_t r;
  (void)pos;
  /* the headers are out: wake whom the handler woke (util/defer.h) */
  defer_flush();
  s->p->lock(s->cls);
  /* libmicrohttpd calls us: it has the socket (it may also have resumed
   * the connection on its own, to close it at shutdown) */
  s->direct = 0;
  if (s->gone) {
    r = MHD_CONTENT_READER_END_OF_STREAM;
    goto out;
  }
  if (s->out_pos >= s->out.len) {
    build(s);
    account(s);
    if (s->out.len == 0) {
      if (s->ended) {
        r = MHD_CONTENT_READER_END_OF_STREAM;
        goto out;
      }
      /* all sent, nothing new: sleep, and let the producer write the next
       * events itself */
      s->direct = s->fd >= 0;
      s->p->watch(s->cls, s);
      MHD_suspend_connection(s->conn);
      r = 0;
      goto out;
    }
  }
  r = (ssize_t)buf_read(&s->out, &s->out_pos, out, max);
  account(s);
out:
  s->p->unlock(s->cls);
  return r;
}

static void stream_free(void *cls) {
  struct sse_stream *s = cls;
  s->p->lock(s->cls);
  s->p->unwatch(s->cls);
  metrics_events_buffered(-s->held);
  s->p->unlock(s->cls);
  s->p->release(s->cls);
  buf_release(&s->out);
  free(s);
}

struct MHD_Response *sse_stream_response(struct MHD_Connection *conn,
                                         const struct sse_producer *p,
                                         void *cls, size_t max_out,
                                         long max_buffered) {
  struct sse_stream *s = calloc(1, sizeof *s);
  if (!s)
    return NULL;
  s->conn = conn;
  s->p = p;
  s->cls = cls;
  s->fd = -1;
  s->out_max = max_out;
  s->max_buffered = max_buffered;
  buf_init(&s->out, max_out);
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
  if (ci) {
    /* small events must leave at once, whatever libmicrohttpd last set */
    int one = 1;
    s->fd = ci->connect_fd;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  struct MHD_Response *resp = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 16 * 1024, &stream_read, s, &stream_free);
  if (!resp) {
    buf_release(&s->out);
    free(s);
    return NULL;
  }
  /* no chunked encoding: the direct writes need no framing (see the top) */
  if (MHD_set_response_options(resp, MHD_RF_HTTP_1_0_COMPATIBLE_STRICT,
                               MHD_RO_END) != MHD_YES)
    s->fd = -1;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/event-stream; charset=utf-8");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  MHD_add_response_header(resp, "X-Accel-Buffering", "no");
  return resp;
}
