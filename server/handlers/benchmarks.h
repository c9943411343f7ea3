/* The scores agon bench measured (schema/0015), as GET /api/benchmarks
 * gives them and the leaderboard shows them beside the published ones. */
#ifndef AGON_HANDLERS_BENCHMARKS_H
#define AGON_HANDLERS_BENCHMARKS_H

#include <jansson.h>

#include "http/request.h"

/* Every finished run of the configuration's enabled models, oldest
 * first: {model, task, mode, shots, items, limit, seed, finished_at,
 * metric (the task's primary one in that mode), value, ci_low, ci_high,
 * metrics: {name: {value, ci_low, ci_high, n}}, subtasks: {group:
 * {name: {...}}}}. Read from the store when its data version moved,
 * else from memory. A new reference; NULL on error. */
json_t *benchmarks_runs(struct request *rq);

/* Of runs (benchmarks_runs'), the one shown for each model, task and
 * mode: the one over the most items, the latest of those. A new array
 * (references to runs' objects). */
json_t *benchmarks_best(json_t *runs);

#endif
