/* Handlers whose reply needs the database read (the judges' counts, the
 * admin's list of battles, the measured benchmarks, a leaderboard's
 * inputs, a reload's files) read it on the arena's loader thread
 * (arena_call_start) while the connection is suspended, and answer once
 * resumed: no HTTP worker waits on the disk. */
#ifndef AGON_HANDLERS_LOADED_H
#define AGON_HANDLERS_LOADED_H

#include <microhttpd.h>

#include "battle/arena.h"
#include "http/request.h"

/* What the handler reads on the loader thread, into job. It must not
 * touch the request: job carries what it needs (copies, references). */
typedef void (*loaded_read_fn)(struct arena *a, void *job);

/* What it answers once resumed, with job read (borrowed: freed with the
 * request). rq->pending is not its own. */
typedef enum MHD_Result (*loaded_answer_fn)(struct request *rq, void *job);

/* Suspend rq, run read(rq->arena, job) on the loader thread, then
 * answer(rq, job) once resumed. Takes job: job_free(job) frees it (NULL:
 * none), also when it cannot be queued; that is answered EC_NOT_QUEUED
 * (503 unavailable: the loader has as many reads waiting as it keeps). */
enum MHD_Result with_loaded(struct request *rq, loaded_read_fn read,
                            loaded_answer_fn answer, void *job,
                            void (*job_free)(void *job));

/* From an answer: let the wait and its job go now, so that what the
 * answer starts next (a battle's hold: with_held_battle) may wait on rq
 * in its turn. The job must not be used after. */
void loaded_done(struct request *rq);

#endif
