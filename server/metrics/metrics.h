/* Counters and histograms for GET /metrics (Prometheus text format).
 * Process-wide; every function is thread-safe and cheap. */
#ifndef AGON_METRICS_METRICS_H
#define AGON_METRICS_METRICS_H

#include <stddef.h>

#include "util/buf.h"

/* One finished HTTP request: the index of its route in the route table
 * (-1: no route). */
void metrics_request(int route, unsigned status);

enum side_event { SIDE_STARTED, SIDE_FINISHED, SIDE_FAILED };

/* A side of a battle (one model's answer) started, finished or failed.
 * Per-model figures name the models of a battle: call these two only for
 * battles that are voted or can no longer be voted (battle/battle.c holds
 * them back until then), never while a battle is blind. */
void metrics_battle(const char *model, enum side_event ev);

/* A vote: counted, or excluded with a reason code ("identity",
 * "too_fast", ...). */
void metrics_vote(int counted, const char *reason);

/* One upstream answer: seconds to the first token (< 0: none) and
 * content chunks per second after it (< 0: unknown). */
void metrics_upstream(const char *model, double ttft, double tokens_per_s);

/* A database write transaction took this long; it carried `jobs` writes
 * (battles, turns, votes) in one commit. */
void metrics_db_write(double seconds, long jobs);

/* Event streams to browsers opened (+1) or closed (-1). */
void metrics_streams(int delta);

/* Event bytes built for streams and not yet taken by their sockets,
 * whole server: add delta (may be negative); returns the new total. */
long metrics_events_buffered(long delta);

/* Gauges and counters kept elsewhere, sampled by metrics_render's
 * caller. Whole-server figures only: none may name or tell apart the
 * models of a battle that is still blind. */
struct metrics_sample {
  size_t upstream_active;         /* upstream requests in flight */
  long battles_streaming;         /* battle turns in flight */
  size_t battles_cached_bytes;    /* held by battles in memory that are
                                     not streaming */
  unsigned long battles_evicted;  /* battles dropped from memory to stay
                                     under max_cached_battle_bytes */
};

/* The LLM taggers (tagger/runner.h), whole process, never per model or
 * battle: battles waiting or being tagged (a gauge, moved by delta),
 * requests sent (retries included), category verdicts stored, and
 * categories left untagged after every try (or whose verdicts could not
 * be stored). */
enum tag_metric {
  TAG_METRIC_QUEUED,
  TAG_METRIC_REQUESTS,
  TAG_METRIC_VERDICTS,
  TAG_METRIC_ERRORS,
};
void metrics_tag(enum tag_metric m, long delta);

/* Append the whole exposition to out. route_names[i] is the pattern of
 * route i (n_routes of them). Returns 0 or -1. */
int metrics_render(struct buf *out, const char *const *route_names,
                   size_t n_routes, const struct metrics_sample *sample);

#endif
