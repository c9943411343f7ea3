/* GET /metrics: Prometheus text exposition. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"
#include "metrics/metrics.h"

enum MHD_Result handle_metrics(struct request *rq) {
  struct buf out;
  buf_init(&out, 16u << 20);
  const char *names[64];
  size_t n = 0;
  for (const struct route *r = agon_routes; r->method && n < 64; r++)
    names[n++] = r->pattern;
  metrics_render(&out, names, n, upstream_active(rq->arena->up),
                 atomic_load(&rq->arena->streaming));
  size_t len = out.len;
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      len, len ? buf_steal(&out) : (void *)"",
      len ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
  buf_release(&out);
  if (!resp)
    return MHD_NO;
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/plain; version=0.0.4; charset=utf-8");
  MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}
