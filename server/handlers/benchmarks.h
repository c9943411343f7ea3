/* The scores agon bench measured (schema/0015), as GET /api/benchmarks
 * gives them and the leaderboard shows them beside the published ones. */
#ifndef AGON_HANDLERS_BENCHMARKS_H
#define AGON_HANDLERS_BENCHMARKS_H

#include <jansson.h>

#include "battle/arena.h"
#include "http/request.h"

/* Every finished run, of any model, oldest first: {model, task, mode,
 * shots, items, limit, seed, finished_at, metric (the task's primary one
 * in that mode), value, ci_low, ci_high, metrics: {name: {value, ci_low,
 * ci_high, n}}, subtasks: {group: {name: {...}}}}, as read at the store's
 * data version `version` (arena_versions' data), from memory: a new
 * reference, or NULL when what is held was read at another version (or
 * the version is unknown, < 0). Any thread. */
json_t *benchmarks_cached(long version);

/* The same, read from the store when not held (and then held for
 * version): for work on the loader thread (arena_call_start), never on
 * an HTTP worker. A new reference; NULL on error. */
json_t *benchmarks_read(struct arena *a, long version);

/* Of all (benchmarks_cached's), the runs of cfg's enabled models: a new
 * array. */
json_t *benchmarks_enabled(json_t *all, const struct config *cfg);

/* Of runs (benchmarks_enabled'), the one shown for each model, task and
 * mode: the one over the most items, the latest of those. A new array
 * (references to runs' objects). */
json_t *benchmarks_best(json_t *runs);

#endif
