/* A Server-Sent Events response whose events a producer (a battle's feed)
 * builds under its own lock, written straight to the client's socket while the
 * connection is suspended.
 *
 * The fast path. libmicrohttpd sends the headers and what the producer
 * already holds. Once a stream has nothing more to send, its connection is
 * suspended (no thread, no polling) and the stream waits on the producer:
 * whichever thread changes the producer (the upstream loop, for every
 * delta) calls sse_stream_wake, which builds the new events and writes
 * them to the socket itself. That is one send() per change, instead of
 * resuming the connection and waking a libmicrohttpd worker to call us
 * back. The connection is resumed, and libmicrohttpd writes again, only
 * when the socket is full (a slow reader), when the stream has ended, or
 * when the client has gone.
 *
 * Why this is sound:
 *  - libmicrohttpd leaves a suspended connection's socket alone (it is out
 *    of its epoll set), and calls our reader only when everything it took
 *    from us before has been sent: so the bytes on the wire stay in order.
 *  - The stream and its socket are only written under the producer's lock,
 *    and `direct` (also under it) says who writes: us while suspended,
 *    else libmicrohttpd. Once libmicrohttpd calls the reader it owns the
 *    socket, also when it resumed the connection itself (at shutdown).
 *  - libmicrohttpd frees the stream (which takes the producer's lock and
 *    unwatches) before it closes the socket, so no write can reach a closed
 *    or reused descriptor.
 *  - The body is sent without chunked encoding (MHD_RF_HTTP_1_0_COMPATIBLE_
 *    STRICT: HTTP/1.1, Connection: close), so our bytes need no framing.
 *    Plain sockets only: behind TLS in libmicrohttpd this would not hold
 *    (Agon leaves TLS to a reverse proxy).
 *
 * Bounded: the events a stream holds count in metrics_events_buffered; a
 * reader that is behind while the whole server holds more than
 * max_buffered is cut. */
#ifndef AGON_HTTP_SSE_STREAM_H
#define AGON_HTTP_SSE_STREAM_H

#include <microhttpd.h>
#include <stddef.h>

#include "util/buf.h"

struct sse_stream;

/* What the producer does for a stream; every call but lock, unlock and
 * release is made with the producer's lock held. */
struct sse_producer {
  /* Take and give back the producer's lock (a mutex, not recursive). */
  void (*lock)(void *cls);
  void (*unlock)(void *cls);
  /* Append the events now due to out (a slice at a time is fine: build is
   * called again once they are out). Returns 1 when the stream is over:
   * nothing will ever follow what was appended. */
  int (*build)(void *cls, struct buf *out);
  /* Call sse_stream_wake(s) once, at the next change. */
  void (*watch)(void *cls, struct sse_stream *s);
  /* Forget a watch asked for, if it has not fired. */
  void (*unwatch)(void *cls);
  /* The stream is gone (lock not held): drop what cls holds. */
  void (*release)(void *cls);
};

/* A response streaming the producer's events on conn. max_out bounds one
 * build; max_buffered is the server's bound on held event bytes (0: none).
 * NULL when out of memory (release is not called then). */
struct MHD_Response *sse_stream_response(struct MHD_Connection *conn,
                                         const struct sse_producer *p,
                                         void *cls, size_t max_out,
                                         long max_buffered);

/* The producer changed: write what is due. Producer's lock held; called
 * at most once per watch. */
void sse_stream_wake(struct sse_stream *s);

#endif
