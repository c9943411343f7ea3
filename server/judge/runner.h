/* Judging battles with LLM judges, in the background: a queue of (judge,
 * battle) jobs, at most `concurrency` requests in flight per judge, the
 * requests on the shared upstream loops, and one thread of its own that
 * loads battles, builds prompts and stores verdicts, so that neither the
 * arena's threads nor the upstream loops ever wait for a judge. */
#ifndef AGON_JUDGE_RUNNER_H
#define AGON_JUDGE_RUNNER_H

#include <stddef.h>

#include "upstream/upstream.h"
#include "config/config.h"
#include "storage/store.h"

struct judge_runner;

struct judge_progress {
  size_t queued, running, done, errors;
};

/* A runner over st and up (both must outlive it). NULL on failure. */
struct judge_runner *judge_runner_new(struct store *st, struct upstream *up);

/* Queue battle id for judge j (its settings are copied). Cheap; callable
 * from any thread. At most max_queue jobs wait; past that the job is
 * dropped (and judged later by `agon judge`). Returns 0 or -1. */
int judge_runner_enqueue(struct judge_runner *r, const struct judge_config *j,
                         const char *battle_id);

/* Current counts. */
void judge_runner_progress(struct judge_runner *r, struct judge_progress *p);

/* Block until nothing is queued or running, calling tick (may be NULL)
 * about every 200 ms. */
void judge_runner_drain(struct judge_runner *r,
                        void (*tick)(const struct judge_progress *p, void *cls),
                        void *cls);

/* Stop: waiting jobs are dropped, running ones abandoned. Accepts NULL. */
void judge_runner_free(struct judge_runner *r);

#endif
