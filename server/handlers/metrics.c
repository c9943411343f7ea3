/* GET /metrics: Prometheus text exposition. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"

enum MHD_Result handle_metrics(struct request *rq) {
  struct buf out;
  buf_init(&out, 16u << 20);
  const char *names[64];
  size_t n = 0;
  for (const struct route *r = agon_routes; r->method && n < 64; r++)
    names[n++] = r->pattern;
  arena_metrics_render(rq->arena, &out, names, n);
  size_t len = out.len;
  return reply_body(
      rq, MHD_HTTP_OK,
      &(struct reply_body){.data = buf_steal(&out),
                           .len = len,
                           .mem = MHD_RESPMEM_MUST_FREE,
                           .type = "text/plain; version=0.0.4; charset=utf-8",
                           .cache = "no-store",
                           .bare = 1});
}
