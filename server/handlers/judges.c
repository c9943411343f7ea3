/* GET /api/judges: each configured judge's counts and its agreement with
 * the humans, on battles that have both a counted human vote and the
 * judge's verdict (Zheng et al. 2023: with ties as a third class, and
 * without ties, over battles where neither chose a tie). Read on the
 * arena's loader thread (handlers/loaded.h). */
#include <stdlib.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/loaded.h"
#include "http/reply.h"

struct judges_job {
  struct config *cfg;  /* the request's (a reference) */
  json_t *list;        /* the answer, or NULL when a read failed */
};

static void job_free(void *p) {
  struct judges_job *j = p;
  config_unref(j->cfg);
  json_decref(j->list);
  free(j);
}

/* On the loader thread. */
static void judges_read(struct arena *a, void *p) {
  struct judges_job *job = p;
  json_t *list = json_array();
  for (size_t i = 0; list && i < job->cfg->n_judges; i++) {
    const struct judge_config *j = &job->cfg->judges[i];
    json_t *st = arena_judge_stats(a, j->conn.name);
    if (!st) {
      json_decref(list);
      list = NULL;
      break;
    }
    json_object_set_new(st, "mode", json_string(j->mode == JUDGE_SINGLE
                                                    ? "single"
                                                    : "pairwise"));
    json_object_set_new(st, "swap", json_boolean(j->swap));
    json_object_set_new(st, "auto", json_boolean(j->auto_judge));
    json_object_set_new(st, "few_shot", json_integer(j->few_shot));
    json_array_append_new(list, st);
  }
  job->list = list;
}

static enum MHD_Result judges_answer(struct request *rq, void *p) {
  struct judges_job *job = p;
  if (!job->list)
    return reply_ec(rq, EC_INTERNAL_JUDGES);
  json_t *list = job->list;
  job->list = NULL;
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "judges", list));
}

enum MHD_Result handle_judges(struct request *rq) {
  struct judges_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_INTERNAL_JUDGES);
  config_ref(rq->cfg);
  job->cfg = rq->cfg;
  if (rq->cfg->n_judges == 0) {
    /* nothing to read: no need to wait for the loader */
    judges_read(rq->arena, job);
    enum MHD_Result r = judges_answer(rq, job);
    job_free(job);
    return r;
  }
  return with_loaded(rq, judges_read, judges_answer, job, job_free);
}
