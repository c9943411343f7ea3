/* The SSE parser: every split point of a recorded stream, CRLF, CR,
 * comments, multi-line data, named events, limits. */
#include <stdlib.h>

#include "upstream/sse.h"
#include "check.h"

struct collected {
  char events[32][512];
  char names[32][64];
  int n;
};

static int collect(void *cls, const char *event, const char *data,
                   size_t len) {
  struct collected *c = cls;
  if (c->n < 32) {
    snprintf(c->events[c->n], sizeof c->events[0], "%.*s", (int)len, data);
    snprintf(c->names[c->n], sizeof c->names[0], "%s", event);
  }
  c->n++;
  return 0;
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  static char data[65536];
  *len = fread(data, 1, sizeof data, f);
  fclose(f);
  return data;
}

static void parse_split(const char *data, size_t len, size_t split,
                        struct collected *out) {
  struct sse_parser p;
  memset(out, 0, sizeof *out);
  sse_parser_init(&p, 1 << 16, 1 << 16, collect, out);
  CHECK(sse_parser_feed(&p, data, split) == 0);
  CHECK(sse_parser_feed(&p, data + split, len - split) == 0);
  CHECK(!sse_parser_pending(&p));
  sse_parser_release(&p);
}

static void test_recorded_every_split(const char *dir) {
  char path[1024];
  snprintf(path, sizeof path, "%s/openai_stream.txt", dir);
  size_t len = 0;
  const char *data = read_file(path, &len);
  CHECK(data != NULL);
  if (!data)
    return;
  struct collected whole;
  parse_split(data, len, len, &whole);
  CHECK(whole.n == 6);
  CHECK(strstr(whole.events[0], "\"role\":\"assistant\"") != NULL);
  CHECK(strstr(whole.events[1], "\"content\":\"Hello\"") != NULL);
  CHECK(strstr(whole.events[4], "\"choices\":[]") != NULL);
  CHECK_STR(whole.events[5], "[DONE]");
  CHECK_STR(whole.names[0], "message");
  int same = 1;
  for (size_t split = 0; split <= len; split++) {
    struct collected c;
    parse_split(data, len, split, &c);
    if (c.n != whole.n)
      same = 0;
    for (int i = 0; same && i < c.n; i++)
      same = !strcmp(c.events[i], whole.events[i]);
  }
  CHECK(same);
  /* byte by byte */
  struct sse_parser p;
  struct collected c = {0};
  sse_parser_init(&p, 1 << 16, 1 << 16, collect, &c);
  for (size_t i = 0; i < len; i++)
    sse_parser_feed(&p, data + i, 1);
  CHECK(c.n == whole.n);
  CHECK_STR(c.events[2], whole.events[2]);
  sse_parser_release(&p);
}

static void test_line_endings_and_fields(void) {
  const char *s = "event: delta\rdata: one\rdata: two\r\r"
                  ":comment\r\n"
                  "data:no-space\r\n\r\n"
                  "id: 7\nretry: 100\ndata\n\n"
                  "data: tail-without-blank-line\n";
  struct collected c = {0};
  struct sse_parser p;
  sse_parser_init(&p, 1024, 1024, collect, &c);
  CHECK(sse_parser_feed(&p, s, strlen(s)) == 0);
  CHECK(c.n == 3);
  CHECK_STR(c.names[0], "delta");
  CHECK_STR(c.events[0], "one\ntwo");
  CHECK_STR(c.names[1], "message");
  CHECK_STR(c.events[1], "no-space");
  CHECK_STR(c.events[2], "");
  CHECK(sse_parser_pending(&p)); /* the unterminated event is not dispatched */
  sse_parser_release(&p);
}

static void test_limits(void) {
  struct collected c = {0};
  struct sse_parser p;
  sse_parser_init(&p, 16, 16, collect, &c);
  const char *s = "data: 0123456789abcdefghij\n\n";
  CHECK(sse_parser_feed(&p, s, strlen(s)) == SSE_ERR_LINE_TOO_LONG);
  CHECK(c.n == 0);
  sse_parser_release(&p);
  /* data over its limit across lines */
  memset(&c, 0, sizeof c);
  sse_parser_init(&p, 64, 8, collect, &c);
  const char *t = "data: 12345\ndata: 67890\n\n";
  CHECK(sse_parser_feed(&p, t, strlen(t)) == SSE_ERR_LINE_TOO_LONG);
  sse_parser_release(&p);
}

static int stop_at_first(void *cls, const char *event, const char *data,
                         size_t len) {
  (*(int *)cls)++;
  return 42;
}

static void test_callback_stops(void) {
  int n = 0;
  struct sse_parser p;
  sse_parser_init(&p, 64, 64, stop_at_first, &n);
  const char *s = "data: a\n\ndata: b\n\n";
  CHECK(sse_parser_feed(&p, s, strlen(s)) == 42);
  CHECK(n == 1);
  sse_parser_release(&p);
}

int main(int argc, char **argv) {
  test_recorded_every_split(argc > 1 ? argv[1] : "tests/data");
  test_line_endings_and_fields();
  test_limits();
  test_callback_stops();
  return check_done("test_sse");
}
