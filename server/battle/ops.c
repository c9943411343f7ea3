/* What the operators read: health, metrics, the judges' stats, and the
 * admin's list of stored battles (its export: export.c). */
#include "battle/arena_impl.h"

#include "metrics/metrics.h"
#include "storage/judgments.h"

int arena_storage_fault(struct arena *a, char *why, size_t len) {
  return store_writer_fault(a->writer, why, len);
}

int arena_metrics_render(struct arena *a, struct buf *out,
                         const char *const *route_names, size_t n_routes) {
  struct metrics_sample s = {.upstream_active = upstream_active(a->up),
                            .battles_streaming = atomic_load(&a->streaming)};
  registry_stats(&a->battles, &s.battles_cached_bytes, &s.battles_evicted);
  return metrics_render(out, route_names, n_routes, &s);
}

json_t *arena_judge_stats(struct arena *a, const char *judge) {
  return store_judge_stats(&a->store, judge);
}

int arena_bench_results(struct arena *a, store_bench_result_fn fn,
                        void *ctx) {
  return store_bench_results(&a->store, fn, ctx);
}

json_t *arena_battles_list(struct arena *a, const char *model,
                           const char *status, int64_t since, int64_t until,
                           long limit, long offset) {
  return store_battles_list(&a->store, model, status, since, until, limit,
                            offset);
}
