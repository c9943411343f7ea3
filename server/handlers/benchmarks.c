/* GET /api/benchmarks: the scores agon bench measured through each
 * model's own endpoint, with their 95% intervals (docs/benchmarks.md).
 * The runs are read from the store when its data version has moved
 * since the last read (agon bench writes from a process of its own), so
 * a busy leaderboard does not read them for every request; read on the
 * arena's loader thread while the request waits (handlers/loaded.h). */
#include "handlers/benchmarks.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "bench/task.h"
#include "handlers/handlers.h"
#include "handlers/loaded.h"
#include "http/reply.h"
#include "util/clock.h"

static struct {
  pthread_mutex_t lock;
  long version;   /* store data version the runs were read at */
  int have;
  json_t *runs;   /* every finished run, of any model */
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

struct collect {
  json_t *runs;
  json_t *cur;     /* the run being filled */
  int64_t cur_id;
};

static json_t *score_json(const struct store_bench_score *s) {
  return json_pack("{s:f, s:f, s:f, s:I}", "value", s->value, "ci_low",
                   s->ci_low, "ci_high", s->ci_high, "n", (json_int_t)s->n);
}

static int collect_row(void *ctx, const struct store_bench_result *r) {
  struct collect *c = ctx;
  if (!c->cur || c->cur_id != r->run_id) {
    char at[32];
    format_rfc3339_ms(r->finished_at, at);
    const struct bench_task *t = bench_task_find(r->task);
    const char *primary =
        t ? bench_primary_metric(t, !strcmp(r->mode, "generate")) : "acc";
    c->cur = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:s, s:s, s:o, s:o}", "model",
        r->model, "task", r->task, "mode", r->mode, "shots",
        (json_int_t)r->shots, "items", (json_int_t)r->items, "limit",
        (json_int_t)r->limit, "seed", (json_int_t)r->seed, "finished_at", at,
        "metric", primary, "metrics", json_object(), "subtasks",
        json_object());
    if (!c->cur)
      return -1;
    c->cur_id = r->run_id;
    json_array_append_new(c->runs, c->cur);
  }
  json_t *into = json_object_get(c->cur, "metrics");
  if (r->score.grp[0]) {
    json_t *subs = json_object_get(c->cur, "subtasks");
    into = json_object_get(subs, r->score.grp);
    if (!into) {
      into = json_object();
      json_object_set_new(subs, r->score.grp, into);
    }
  }
  json_object_set_new(into, r->score.metric, score_json(&r->score));
  if (!r->score.grp[0] &&
      !strcmp(r->score.metric,
              json_string_value(json_object_get(c->cur, "metric")))) {
    json_object_set_new(c->cur, "value", json_real(r->score.value));
    json_object_set_new(c->cur, "ci_low", json_real(r->score.ci_low));
    json_object_set_new(c->cur, "ci_high", json_real(r->score.ci_high));
  }
  return 0;
}

/* Every finished run, read now. NULL on error. */
static json_t *read_runs(struct arena *a) {
  struct collect c = {.runs = json_array()};
  if (!c.runs || arena_bench_results(a, collect_row, &c)) {
    json_decref(c.runs);
    return NULL;
  }
  return c.runs;
}

json_t *benchmarks_cached(long version) {
  json_t *all = NULL;
  pthread_mutex_lock(&cache.lock);
  if (cache.have && version >= 0 && cache.version == version)
    all = json_incref(cache.runs);
  pthread_mutex_unlock(&cache.lock);
  return all;
}

json_t *benchmarks_read(struct arena *a, long version) {
  json_t *all = benchmarks_cached(version);
  if (all)
    return all;  /* read by a request queued before this one */
  all = read_runs(a);
  if (!all)
    return NULL;
  pthread_mutex_lock(&cache.lock);
  json_decref(cache.runs);
  cache.runs = json_incref(all);
  cache.version = version;
  cache.have = version >= 0;
  pthread_mutex_unlock(&cache.lock);
  return all;
}

json_t *benchmarks_enabled(json_t *all, const struct config *cfg) {
  /* the configuration's enabled models only, as on the leaderboard */
  json_t *out = json_array();
  size_t i;
  json_t *run;
  json_array_foreach(all, i, run) {
    const struct model_config *m = config_find_model(
        cfg, json_string_value(json_object_get(run, "model")));
    if (m && m->enabled)
      json_array_append(out, run);
  }
  return out;
}

static int same_str(json_t *a, json_t *b, const char *key) {
  return !strcmp(json_string_value(json_object_get(a, key)),
                 json_string_value(json_object_get(b, key)));
}

json_t *benchmarks_best(json_t *runs) {
  json_t *best = json_array();
  size_t i;
  json_t *run;
  json_array_foreach(runs, i, run) {
    size_t j;
    json_t *b;
    int placed = 0;
    json_array_foreach(best, j, b) {
      if (!same_str(run, b, "model") || !same_str(run, b, "task") ||
          !same_str(run, b, "mode"))
        continue;
      placed = 1;
      /* runs come oldest first: a later one with as many items wins */
      if (json_integer_value(json_object_get(run, "items")) >=
          json_integer_value(json_object_get(b, "items")))
        json_array_set(best, j, run);
      break;
    }
    if (!placed)
      json_array_append(best, run);
  }
  return best;
}

/* A request whose data version is not cached waits for the loader. */
struct runs_job {
  long version;
  json_t *all;  /* every run, or NULL: the read failed */
};

static void runs_job_free(void *p) {
  struct runs_job *job = p;
  json_decref(job->all);
  free(job);
}

static void runs_read(struct arena *a, void *p) {
  struct runs_job *job = p;
  job->all = benchmarks_read(a, job->version);
}

static enum MHD_Result runs_reply(struct request *rq, json_t *all) {
  if (!all)
    return reply_ec(rq, EC_INTERNAL_BENCHMARKS);
  json_t *runs = benchmarks_enabled(all, rq->cfg);
  return reply_json(rq, MHD_HTTP_OK, json_pack("{s:o}", "runs", runs));
}

static enum MHD_Result runs_answer(struct request *rq, void *p) {
  struct runs_job *job = p;
  return runs_reply(rq, job->all);
}

enum MHD_Result handle_benchmarks(struct request *rq) {
  struct arena_versions v;
  arena_versions(rq->arena, &v);
  json_t *all = benchmarks_cached(v.data);
  if (all) {
    enum MHD_Result r = runs_reply(rq, all);
    json_decref(all);
    return r;
  }
  struct runs_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_INTERNAL_BENCHMARKS);
  job->version = v.data;
  return with_loaded(rq, runs_read, runs_answer, job, runs_job_free);
}
