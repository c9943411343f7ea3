/* A share token's battle, from memory or off the worker (share_token.h). */
#include "handlers/share_token.h"

#include <stdio.h>
#include <stdlib.h>

#include "handlers/loaded.h"
#include "http/reply.h"

/* Where only the database knows the token (other nodes share too). */
struct shared_job {
  char token[ARENA_SHARE_TOKEN + 8];
  char id[ARENA_BATTLE_ID];
  int shared;
  shared_battle_fn fn;
};

static void shared_read(struct arena *a, void *p) {
  struct shared_job *job = p;
  job->shared = arena_share_stored(a, job->token, job->id);
}

static enum MHD_Result shared_answer(struct request *rq, void *p) {
  struct shared_job *job = p;
  char id[ARENA_BATTLE_ID];
  int shared = job->shared;
  shared_battle_fn fn = job->fn;
  snprintf(id, sizeof id, "%s", job->id);
  loaded_done(rq); /* fn may wait on rq next */
  return shared ? fn(rq, id) : reply_ec(rq, EC_SHARE_NOT_FOUND);
}

enum MHD_Result with_shared_battle(struct request *rq, shared_battle_fn fn) {
  char id[ARENA_BATTLE_ID];
  if (!share_token_ok(rq->param))
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  int k = arena_share_lookup(rq->arena, rq->param, id);
  if (k == 0)
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  if (k > 0)
    return fn(rq, id);
  struct shared_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_NOT_QUEUED);
  snprintf(job->token, sizeof job->token, "%s", rq->param);
  job->fn = fn;
  return with_loaded(rq, shared_read, shared_answer, job, free);
}
