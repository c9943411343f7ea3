/* An incremental parser for Server-Sent Events (the WHATWG event-stream
 * format), as spoken by OpenAI-compatible streaming APIs. Pure: no I/O.
 *
 * Bytes may be fed split at any point. Lines end in LF, CRLF or CR. Lines
 * starting with ':' are comments. "data:" lines accumulate (joined with
 * LF) and an empty line dispatches the event. Only the "event" and "data"
 * fields are kept; "id" and "retry" are ignored. */
#ifndef AGON_UPSTREAM_SSE_H
#define AGON_UPSTREAM_SSE_H

#include <stddef.h>

#include "util/buf.h"

/* Called once per dispatched event. event is "message" unless the stream
 * named it; data is NUL-terminated (len bytes). Return 0 to go on, non-zero
 * to stop: sse_parser_feed then returns that value. */
typedef int (*sse_event_cb)(void *cls, const char *event, const char *data,
                            size_t len);

struct sse_parser {
  struct buf line;     /* current incomplete line */
  struct buf data;     /* data of the event being built */
  char event[64];      /* event name of the event being built */
  int has_data;        /* at least one data field seen */
  int after_cr;        /* last byte was CR: skip one LF */
  sse_event_cb cb;
  void *cls;
};

#define SSE_ERR_LINE_TOO_LONG (-2)

/* Prepare a parser; no line may exceed max_line bytes and no event's data
 * max_data bytes. */
void sse_parser_init(struct sse_parser *p, size_t max_line, size_t max_data,
                     sse_event_cb cb, void *cls);

/* Feed n bytes. Returns 0, the callback's non-zero value, or
 * SSE_ERR_LINE_TOO_LONG when a line or an event is over its limit. */
int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n);

/* At end of stream: an event without its terminating blank line is NOT
 * dispatched (per the specification). Returns 1 if unparsed bytes remain. */
int sse_parser_pending(const struct sse_parser *p);

void sse_parser_release(struct sse_parser *p);

#endif
