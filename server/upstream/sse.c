#include "upstream/sse.h"

#include <string.h>

void sse_parser_init(struct sse_parser *p, size_t max_line, size_t max_data,
                     sse_event_cb cb, void *cls) {
  memset(p, 0, sizeof *p);
  buf_init(&p->line, max_line);
  buf_init(&p->data, max_data);
  p->cb = cb;
  p->cls = cls;
}

static int dispatch(struct sse_parser *p) {
  int rc = 0;
  if (p->has_data) {
    const char *name = p->event[0] ? p->event : "message";
    rc = p->cb(p->cls, name, p->data.data ? p->data.data : "", p->data.len);
  }
  buf_reset(&p->data);
  p->has_data = 0;
  p->event[0] = '\0';
  return rc;
}

/* Handle one complete line (without its terminator). */
static int process_line(struct sse_parser *p, const char *line, size_t len) {
  if (len == 0)
    return dispatch(p);
  if (line[0] == ':')
    return 0;
  const char *colon = memchr(line, ':', len);
  size_t flen = colon ? (size_t)(colon - line) : len;
  const char *value = "";
  size_t vlen = 0;
  if (colon) {
    value = colon + 1;
    vlen = len - flen - 1;
    if (vlen && value[0] == ' ') {
      value++;
      vlen--;
    }
  }
  if (flen == 4 && memcmp(line, "data", 4) == 0) {
    if (p->has_data && buf_append(&p->data, "\n", 1))
      return SSE_ERR_LINE_TOO_LONG;
    if (buf_append(&p->data, value, vlen))
      return SSE_ERR_LINE_TOO_LONG;
    p->has_data = 1;
  } else if (flen == 5 && memcmp(line, "event", 5) == 0) {
    if (vlen >= sizeof p->event)
      vlen = sizeof p->event - 1;
    memcpy(p->event, value, vlen);
    p->event[vlen] = '\0';
  }
  return 0;
}

int sse_parser_feed(struct sse_parser *p, const char *bytes, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (p->after_cr) {
      p->after_cr = 0;
      if (bytes[i] == '\n') {
        i++;
        continue;
      }
    }
    /* find the next line terminator */
    size_t j = i;
    while (j < n && bytes[j] != '\n' && bytes[j] != '\r')
      j++;
    if (buf_append(&p->line, bytes + i, j - i))
      return SSE_ERR_LINE_TOO_LONG;
    if (j == n)
      break;
    p->after_cr = bytes[j] == '\r';
    int rc = process_line(p, p->line.data ? p->line.data : "", p->line.len);
    buf_reset(&p->line);
    if (rc)
      return rc;
    i = j + 1;
  }
  return 0;
}

int sse_parser_pending(const struct sse_parser *p) {
  return p->line.len > 0 || p->has_data;
}

void sse_parser_release(struct sse_parser *p) {
  buf_release(&p->line);
  buf_release(&p->data);
}
