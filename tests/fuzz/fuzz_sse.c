/* Fuzz the upstream stream path: the SSE parser fed in two pieces split
 * at a point the input chooses, each event interpreted as a chat chunk. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "upstream/openai_delta.h"
#include "upstream/sse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_event(void *cls, const char *event, const char *d, size_t len) {
  struct openai_delta c;
  openai_delta_parse(d, len, &c);
  if (c.kind == DELTA_DATA && c.text)
    *(size_t *)cls += c.text_len;
  openai_delta_release(&c);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  size_t split = size ? data[0] % (size + 1) : 0;
  size_t text = 0;
  struct sse_parser p;
  sse_parser_init(&p, 1 << 16, 1 << 16, on_event, &text);
  if (sse_parser_feed(&p, (const char *)data, split) == 0)
    sse_parser_feed(&p, (const char *)data + split, size - split);
  sse_parser_release(&p);
  return 0;
}
