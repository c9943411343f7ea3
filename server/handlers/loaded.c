#include "handlers/loaded.h"

#include <stdlib.h>

#include "http/reply.h"

/* A request waiting for the loader. */
struct loaded_wait {
  struct arena_call *call;
  loaded_answer_fn answer;
};

static void wait_free(void *pending) {
  struct loaded_wait *w = pending;
  arena_call_free(w->call);
  free(w);
}

/* Resumed by the loader: the job is read. */
static enum MHD_Result loaded_resumed(struct request *rq) {
  struct loaded_wait *w = rq->pending;
  void *job = arena_call_job(w->call);
  if (!job)
    return MHD_NO;  /* resumed by nobody we know of: close */
  return w->answer(rq, job);
}

enum MHD_Result with_loaded(struct request *rq, loaded_read_fn read,
                            loaded_answer_fn answer, void *job,
                            void (*job_free)(void *job)) {
  struct loaded_wait *w = malloc(sizeof *w);
  if (!w) {
    if (job_free)
      job_free(job);
    return reply_ec(rq, EC_NOT_QUEUED);
  }
  w->answer = answer;
  /* suspend first, so that the resume always finds it suspended */
  rq->on_resume = loaded_resumed;
  MHD_suspend_connection(rq->conn);
  enum agon_ec rc = arena_call_start(rq->arena, read, job, job_free,
                                     reply_resume, rq->conn, &w->call);
  if (rc) {
    free(w);
    return reply_ec_resumed(rq, rc);
  }
  rq->pending = w;
  rq->pending_free = wait_free;
  return MHD_YES;
}

void loaded_done(struct request *rq) {
  if (rq->pending_free)
    rq->pending_free(rq->pending);
  rq->pending = NULL;
  rq->pending_free = NULL;
}
