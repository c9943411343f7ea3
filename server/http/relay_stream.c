#include "http/relay_stream.h"

#include <stdlib.h>

#include "util/defer.h"

/* A relay's bytes come in blocks of at most this much. */
#define BLOCK_BYTES (64 * 1024)

struct relay_stream {
  struct MHD_Connection *conn;
  struct relay *r;
};

/* Called by relay_read under the relay's lock. */
static void stream_sleep(void *cls) {
  MHD_suspend_connection(((struct relay_stream *)cls)->conn);
}

static void stream_wake(void *cls) {
  MHD_resume_connection(((struct relay_stream *)cls)->conn);
}

/* libmicrohttpd's content reader, on its worker. */
static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct relay_stream *s = cls;
  (void)pos;
  /* the headers are out: wake whom the handler woke (util/defer.h) */
  defer_flush();
  ssize_t n = relay_read(s->r, out, max, stream_sleep, stream_wake, s);
  if (n == RELAY_END)
    return MHD_CONTENT_READER_END_OF_STREAM;
  if (n == RELAY_FAILED)
    return MHD_CONTENT_READER_END_WITH_ERROR;
  return n; /* > 0, or 0: suspended until the producer writes */
}

static void stream_free(void *cls) {
  struct relay_stream *s = cls;
  relay_leave(s->r);
  free(s);
}

struct MHD_Response *relay_stream_response(struct MHD_Connection *conn,
                                           struct relay *r, uint64_t size) {
  struct relay_stream *s = malloc(sizeof *s);
  if (!s) {
    relay_leave(r);
    return NULL;
  }
  s->conn = conn;
  s->r = r;
  struct MHD_Response *resp = MHD_create_response_from_callback(
      size, BLOCK_BYTES, &stream_read, s, &stream_free);
  if (!resp)
    stream_free(s);
  return resp;
}
