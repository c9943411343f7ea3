/* GET /api/leaderboard[?sort=elo|bt]: every enabled model with its live
 * Elo and counts, its card, and the latest Bradley-Terry fit (rating, 95%
 * interval, rank (UB)); models below [ratings] min_battles are listed
 * apart, under "provisional". The slices, style control and open_weights=
 * true are answered by leaderboard_slice.c, as_of= by
 * leaderboard_history.c. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "handlers/benchmarks.h"
#include "handlers/handlers.h"
#include "handlers/leaderboard_history.h"
#include "handlers/loaded.h"
#include "handlers/model_card.h"
#include "handlers/slice_query.h"
#include "http/reply.h"
#include "rating/spearman.h"
#include "util/clock.h"

struct lb_row {
  const char *model;
  const struct model_config *cfg;
  struct rating_row r;
  struct model_summary s;   /* bt fields; NaN when unrated */
  int rated;                /* at least one counted battle in the fit */
};

static double key(const struct lb_row *x, int by_bt) {
  if (by_bt)
    return x->rated ? x->s.bt : -INFINITY;
  return x->r.elo;
}

static int cmp_rows(const void *p, const void *q, void *ctx) {
  const struct lb_row *a = p, *b = q;
  int by_bt = *(const int *)ctx;
  double ka = key(a, by_bt), kb = key(b, by_bt);
  if (ka != kb)
    return ka < kb ? 1 : -1;
  return strcmp(a->model, b->model);
}

static json_t *num(double x) { return isnan(x) ? json_null() : json_real(x); }

/* The measured scores of model among best (benchmarks_best's runs):
 * [{task, mode, shots, items, metric, value, ci_low, ci_high}], apart
 * from the published "benchmarks". */
static json_t *measured_json(json_t *best, const char *model) {
  json_t *out = json_array();
  size_t i;
  json_t *run;
  json_array_foreach(best, i, run) {
    if (strcmp(json_string_value(json_object_get(run, "model")), model) ||
        !json_is_number(json_object_get(run, "value")))
      continue;
    json_array_append_new(
        out, json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "task",
                       json_object_get(run, "task"), "mode",
                       json_object_get(run, "mode"), "shots",
                       json_object_get(run, "shots"), "items",
                       json_object_get(run, "items"), "metric",
                       json_object_get(run, "metric"), "value",
                       json_object_get(run, "value"), "ci_low",
                       json_object_get(run, "ci_low"), "ci_high",
                       json_object_get(run, "ci_high")));
  }
  return out;
}

static json_t *rows_json(struct lb_row *rows, size_t n, int provisional,
                         int by_bt, json_t *best) {
  json_t *arr = json_array();
  size_t rank = 1;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && key(&rows[i], by_bt) < key(&rows[i - 1], by_bt))
      rank = i + 1;
    struct lb_row *x = &rows[i];
    json_t *o = json_pack(
        "{s:I, s:s, s:f, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b}", "rank",
        (json_int_t)rank, "model", x->model, "elo", x->r.elo, "bt",
        x->rated ? num(x->s.bt) : json_null(), "ci_low",
        x->rated ? num(x->s.ci_low) : json_null(), "ci_high",
        x->rated ? num(x->s.ci_high) : json_null(), "rank_ub",
        x->rated && x->s.rank_ub ? json_integer(x->s.rank_ub) : json_null(),
        "battles", (json_int_t)x->r.battles, "wins", (json_int_t)x->r.wins,
        "losses", (json_int_t)x->r.losses, "ties", (json_int_t)x->r.ties,
        "provisional", provisional);
    json_t *bench = json_object();
    for (size_t k = 0; x->cfg && k < x->cfg->n_benchmarks; k++)
      json_object_set_new(bench, x->cfg->benchmarks[k].name,
                          json_real(x->cfg->benchmarks[k].score));
    json_object_set_new(o, "benchmarks", bench);
    json_object_set_new(o, "measured", measured_json(best, x->model));
    model_card_set(o, x->cfg);
    json_array_append_new(arr, o);
  }
  return arr;
}

/* Spearman's rho between the human BT ratings and other signals over
 * the models that have both. */
static json_t *one_correlation(const char *signal, const char *name,
                               const double *x, const double *y, size_t n) {
  double rho = n >= 3 ? spearman(x, y, n) : NAN;
  return json_pack("{s:s, s:s, s:o, s:I}", "signal", signal, "name", name,
                   "spearman", isnan(rho) ? json_null() : json_real(rho),
                   "models", (json_int_t)n);
}

/* The measured score of model for task in mode among best, or NaN. */
static double measured_of(json_t *best, const char *model, const char *task,
                          const char *mode) {
  size_t i;
  json_t *run;
  json_array_foreach(best, i, run) {
    if (!strcmp(json_string_value(json_object_get(run, "model")), model) &&
        !strcmp(json_string_value(json_object_get(run, "task")), task) &&
        !strcmp(json_string_value(json_object_get(run, "mode")), mode) &&
        json_is_number(json_object_get(run, "value")))
      return json_number_value(json_object_get(run, "value"));
  }
  return NAN;
}

/* Whether best has a run of task (in any mode). */
static int measured_task(json_t *best, const char *task) {
  size_t i;
  json_t *run;
  json_array_foreach(best, i, run)
    if (!strcmp(json_string_value(json_object_get(run, "task")), task))
      return 1;
  return 0;
}

/* One correlation per measured task and mode: {signal "measured", name
 * (the task), mode, metric, spearman, models}. */
static void measured_correlations(json_t *out, json_t *best,
                                  const struct lb_row *rows, size_t n,
                                  double *x, double *y) {
  size_t i;
  json_t *run;
  json_array_foreach(best, i, run) {
    const char *task = json_string_value(json_object_get(run, "task"));
    const char *mode = json_string_value(json_object_get(run, "mode"));
    int seen = 0;
    for (size_t k = 0; k < i && !seen; k++) {
      json_t *r2 = json_array_get(best, k);
      seen = !strcmp(json_string_value(json_object_get(r2, "task")), task) &&
             !strcmp(json_string_value(json_object_get(r2, "mode")), mode);
    }
    if (seen)
      continue;
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
      double v = measured_of(best, rows[j].model, task, mode);
      if (!rows[j].rated || isnan(v))
        continue;
      x[m] = rows[j].s.bt;
      y[m++] = v;
    }
    json_t *c = one_correlation("measured", task, x, y, m);
    json_object_set(c, "mode", json_object_get(run, "mode"));
    json_object_set(c, "metric", json_object_get(run, "metric"));
    json_array_append_new(out, c);
  }
}

/* One judge's ratings as read on the loader thread (arena_judge_ratings):
 * ok 0 when the read failed. */
struct judge_read {
  int ok;
  struct rating_table elo;
  struct pair_table pairs;
};

static json_t *correlations_json(const struct config *cfg,
                                 struct judge_read *judges,
                                 const struct lb_row *rows, size_t n,
                                 json_t *best) {
  json_t *out = json_array();
  double *x = calloc(n + 1, sizeof *x), *y = calloc(n + 1, sizeof *y);
  if (!x || !y)
    goto done;
  measured_correlations(out, best, rows, n, x, y);
  /* every benchmark name any model carries */
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; rows[i].cfg && k < rows[i].cfg->n_benchmarks; k++) {
      const char *name = rows[i].cfg->benchmarks[k].name;
      int seen = 0;
      for (size_t i2 = 0; i2 < i && !seen; i2++)
        for (size_t k2 = 0; rows[i2].cfg && k2 < rows[i2].cfg->n_benchmarks; k2++)
          seen |= !strcmp(rows[i2].cfg->benchmarks[k2].name, name);
      for (size_t k2 = 0; k2 < k && !seen; k2++)
        seen |= !strcmp(rows[i].cfg->benchmarks[k2].name, name);
      /* a task agon bench measured is correlated by its measured scores
       * (above), never by published ones under the same name */
      if (seen || measured_task(best, name))
        continue;
      size_t m = 0;
      for (size_t j = 0; j < n; j++) {
        if (!rows[j].rated)
          continue;
        for (size_t k3 = 0; rows[j].cfg && k3 < rows[j].cfg->n_benchmarks; k3++) {
          if (!strcmp(rows[j].cfg->benchmarks[k3].name, name)) {
            x[m] = rows[j].s.bt;
            y[m++] = rows[j].cfg->benchmarks[k3].score;
            break;
          }
        }
      }
      json_array_append_new(out, one_correlation("benchmark", name, x, y, m));
    }
  }
  /* every judge: its own Bradley-Terry fit (no intervals needed) */
  for (size_t jdx = 0; jdx < cfg->n_judges; jdx++) {
    const char *judge = cfg->judges[jdx].conn.name;
    struct bt_snapshot *js = NULL;
    if (judges[jdx].ok)
      js = bt_snapshot_fit_steal(&judges[jdx].pairs, 0);
    size_t m = 0;
    for (size_t j = 0; js && j < n; j++) {
      int k = bt_snapshot_find(js, rows[j].model);
      if (!rows[j].rated || k < 0 || js->s[k].component < 0)
        continue;
      x[m] = rows[j].s.bt;
      y[m++] = js->s[k].bt;
    }
    bt_snapshot_unref(js);
    json_array_append_new(out, one_correlation("judge", judge, x, y, m));
  }
done:
  free(x);
  free(y);
  return out;
}

/* A leaderboard is the same bytes until a vote, a fit, a judgment or a
 * configuration change: keep the last one per sort order, for the humans
 * and for each of the first MAX_CACHED_JUDGES judges (whose fit, with its
 * bootstrap, is otherwise computed on every request). */
#define MAX_CACHED_JUDGES 16
#define CACHE_SLOTS (2 + 2 * MAX_CACHED_JUDGES)
struct cache_key {
  long generation, version, fit, judgments;
  long data;  /* store_data_version: judgments of `agon judge` run beside
                 the server change the judges' boards and correlations */
};

static struct {
  pthread_mutex_t lock;
  struct {
    struct cache_key key;
    char *text;
    size_t len;
  } slot[CACHE_SLOTS];
} cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* The cache slot for this source and order, or -1 when not cached. jdx is
 * the judge's index in the configuration (whose generation is part of the
 * key), or -1 for the humans. */
static int cache_slot(long jdx, int by_bt) {
  if (jdx < 0)
    return by_bt;
  if (jdx >= MAX_CACHED_JUDGES)
    return -1;
  return 2 + 2 * (int)jdx + by_bt;
}

static int cache_key_equal(const struct cache_key *a,
                           const struct cache_key *b) {
  return a->generation == b->generation && a->version == b->version &&
         a->fit == b->fit && a->judgments == b->judgments &&
         a->data == b->data;
}

static int cache_reply(struct request *rq, int slot,
                       const struct cache_key *k, enum MHD_Result *res) {
  int hit = 0;
  if (slot < 0 || k->data < 0)
    return 0;
  pthread_mutex_lock(&cache.lock);
  if (cache.slot[slot].text && cache_key_equal(&cache.slot[slot].key, k)) {
    *res = reply_json_text(rq, MHD_HTTP_OK, cache.slot[slot].text,
                           cache.slot[slot].len);
    hit = 1;
  }
  pthread_mutex_unlock(&cache.lock);
  return hit;
}

static void cache_store(int slot, const struct cache_key *k, json_t *body) {
  if (slot < 0)
    return;
  char *text = json_dumps(body, JSON_COMPACT);
  if (!text)
    return;
  pthread_mutex_lock(&cache.lock);
  free(cache.slot[slot].text);
  cache.slot[slot].text = text;
  cache.slot[slot].len = strlen(text);
  cache.slot[slot].key = *k;
  pthread_mutex_unlock(&cache.lock);
}

/* A board not cached: what it is built from, read on the loader thread
 * (handlers/loaded.h), then built on the worker. */
struct lb_job {
  struct config *cfg;             /* the request's (a reference) */
  struct cache_key key;           /* the versions read before the build */
  int by_bt;
  long jdx;                       /* the judge's board, or -1: the humans' */
  struct bt_snapshot *human_snap; /* the humans' fit, taken with the key */
  struct judge_read *judges;      /* by judge index of cfg: read when
                                     jdx is theirs or -1 */
  json_t *runs;                   /* every agon bench run, NULL: unread */
};

static void lb_job_free(void *p) {
  struct lb_job *job = p;
  for (size_t i = 0; job->judges && i < job->cfg->n_judges; i++) {
    rating_table_release(&job->judges[i].elo);
    pair_table_release(&job->judges[i].pairs);
  }
  free(job->judges);
  bt_snapshot_unref(job->human_snap);
  json_decref(job->runs);
  config_unref(job->cfg);
  free(job);
}

static void lb_read(struct arena *a, void *job);
static enum MHD_Result lb_answer(struct request *rq, void *job);

enum MHD_Result handle_leaderboard(struct request *rq) {
  struct arena *a = rq->arena;
  struct cache_key key = {0};
  struct bt_snapshot *human_snap = NULL; /* the fit this reply is built on */
  enum MHD_Result cached;
  const char *sort = request_query(rq, "sort");
  if (sort && strcmp(sort, "elo") && strcmp(sort, "bt"))
    return reply_ec(rq, EC_INVALID_SORT);
  int by_bt = sort && !strcmp(sort, "bt");
  const char *source = request_query(rq, "source");
  const char *judge = request_query(rq, "judge");
  struct slice_query sq;
  enum agon_ec ec = slice_query_read(rq, &sq);
  if (ec)
    return reply_ec(rq, ec);
  int from_judge = 0;
  long jdx = -1;
  if (source && !strcmp(source, "judge")) {
    const struct judge_config *jc = judge ? config_find_judge(rq->cfg, judge)
                                          : NULL;
    if (!jc)
      return reply_ec(rq, EC_INVALID_JUDGE);
    from_judge = 1;
    jdx = jc - rq->cfg->judges;
  } else if (source && strcmp(source, "human")) {
    return reply_ec(rq, EC_INVALID_SOURCE);
  }
  const char *as_of_s = request_query(rq, "as_of");
  if (as_of_s) {
    int64_t as_of;
    if (leaderboard_as_of_parse(as_of_s, &as_of))
      return reply_ec(rq, EC_INVALID_AS_OF);
    if (from_judge || sq.key[0] || sq.style || sq.open_weights)
      return reply_ec(rq, EC_AS_OF_COMBINATION);
    if (as_of <= now_ms()) /* else the board as it stands */
      return leaderboard_as_of_reply(rq, as_of, by_bt);
  }
  if (sq.open_weights && (from_judge || sq.style))
    return reply_ec(rq, EC_OPEN_WEIGHTS_COMBINATION);
  if (from_judge && (sq.key[0] || sq.style))
    return reply_ec(rq, EC_SLICE_WITH_JUDGE);
  if (sq.open_weights)
    return leaderboard_open_reply(rq, &sq);
  if (sq.style)
    return leaderboard_style_reply(rq, &sq);
  if (sq.key[0])
    return leaderboard_slice_reply(rq, &sq);
  /* read the versions before building, so a change during the build
   * only makes the next request rebuild */
  struct lb_job *job = calloc(1, sizeof *job);
  if (!job)
    return MHD_NO;
  struct arena_versions v;
  arena_versions(a, &v);
  key.generation = rq->cfg->generation;
  key.version = v.votes;
  key.judgments = v.judgments;
  key.data = v.data;
  if (!from_judge) {
    human_snap = arena_bt_snapshot(a);
    key.fit = human_snap ? human_snap->fit : 0;
  }
  job->human_snap = human_snap;
  if (cache_reply(rq, cache_slot(jdx, by_bt), &key, &cached)) {
    lb_job_free(job);
    return cached;
  }
  config_ref(rq->cfg);
  job->cfg = rq->cfg;
  job->key = key;
  job->by_bt = by_bt;
  job->jdx = jdx;
  job->judges = calloc(rq->cfg->n_judges + 1, sizeof *job->judges);
  if (!job->judges) {
    lb_job_free(job);
    return MHD_NO;
  }
  /* the judges' verdicts (from_judge: the board's; else every judge's,
   * for the correlations) and agon bench's runs are in the database */
  if (!from_judge && rq->cfg->n_judges == 0 &&
      (job->runs = benchmarks_cached(v.data))) {
    enum MHD_Result r = lb_answer(rq, job);
    lb_job_free(job);
    return r;
  }
  return with_loaded(rq, lb_read, lb_answer, job, lb_job_free);
}

/* On the loader thread: what the board needs from the database. */
static void lb_read(struct arena *a, void *p) {
  struct lb_job *job = p;
  const struct config *cfg = job->cfg;
  for (size_t i = 0; i < cfg->n_judges; i++) {
    if (job->jdx >= 0 && (long)i != job->jdx)
      continue;
    struct judge_read *jr = &job->judges[i];
    jr->ok = arena_judge_ratings(a, cfg->judges[i].conn.name, cfg->elo_k,
                                 &jr->elo, &jr->pairs) == 0;
  }
  if (job->jdx < 0 || job->judges[job->jdx].ok)
    job->runs = benchmarks_read(a, job->key.data);
}

/* Build the board from what job holds, reply, and keep the reply for the
 * requests that come with the same key. */
static enum MHD_Result lb_answer(struct request *rq, void *p) {
  struct lb_job *job = p;
  struct arena *a = rq->arena;
  int by_bt = job->by_bt;
  int from_judge = job->jdx >= 0;
  const char *judge = from_judge ? rq->cfg->judges[job->jdx].conn.name : NULL;
  int slot = cache_slot(job->jdx, by_bt);
  struct cache_key key = job->key;
  size_t n = 0;
  struct lb_row *rows = calloc(rq->cfg->n_models + 1, sizeof *rows);
  if (!rows)
    return MHD_NO;
  struct bt_snapshot *snap = NULL;
  struct rating_table elo = {0}; /* the judge's, or a copy of the live one */
  if (from_judge) {
    /* the same leaderboard, from the judge's verdicts (computed now) */
    struct judge_read *jr = &job->judges[job->jdx];
    if (!jr->ok) {
      free(rows);
      return reply_ec(rq, EC_INTERNAL_JUDGE);
    }
    elo = jr->elo;
    memset(&jr->elo, 0, sizeof jr->elo);
    snap = bt_snapshot_fit_steal(&jr->pairs, (int)rq->cfg->bootstrap_rounds);
  } else {
    snap = job->human_snap; /* taken with the cache key */
    job->human_snap = NULL;
    if (arena_elo(a, &elo)) {
      free(rows);
      bt_snapshot_unref(snap);
      return MHD_NO;
    }
  }
  long votes2 = 0;
  for (size_t i = 0; i < elo.n; i++)
    votes2 += elo.rows[i].battles;
  for (size_t i = 0; i < rq->cfg->n_models; i++) {
    const struct model_config *m = &rq->cfg->models[i];
    if (!m->enabled)
      continue;
    const struct rating_row *r = rating_table_find(&elo, m->name);
    if (r)
      rows[n].r = *r;
    else
      rows[n].r.elo = ELO_INITIAL;
    rows[n].r.model = NULL; /* not ours to keep */
    rows[n].model = m->name; /* the config outlives this request */
    rows[n].cfg = m;
    n++;
  }
  rating_table_release(&elo);
  for (size_t i = 0; i < n; i++) {
    int k = snap ? bt_snapshot_find(snap, rows[i].model) : -1;
    if (k >= 0 && snap->s[k].component >= 0) {
      rows[i].s = snap->s[k];
      rows[i].rated = 1;
    }
  }
  /* split off the provisional ones */
  size_t main_n = 0;
  struct lb_row *prov = calloc(n + 1, sizeof *prov);
  size_t prov_n = 0;
  if (!prov) {
    free(rows);
    bt_snapshot_unref(snap);
    return MHD_NO;
  }
  for (size_t i = 0; i < n; i++) {
    if (rows[i].r.battles < rq->cfg->min_battles)
      prov[prov_n++] = rows[i];
    else
      rows[main_n++] = rows[i];
  }
  qsort_r(rows, main_n, sizeof *rows, cmp_rows, &by_bt);
  qsort_r(prov, prov_n, sizeof *prov, cmp_rows, &by_bt);
  json_t *runs = job->runs ? benchmarks_enabled(job->runs, rq->cfg) : NULL;
  json_t *best = runs ? benchmarks_best(runs) : json_array();
  json_decref(runs);
  json_t *correlations =
      from_judge ? json_array()
                 : correlations_json(rq->cfg, job->judges, rows, main_n, best);
  json_t *models = rows_json(rows, main_n, 0, by_bt, best);
  json_t *provisional = rows_json(prov, prov_n, 1, by_bt, best);
  json_decref(best);
  free(rows);
  free(prov);
  char updated[32], bt_updated[32];
  format_rfc3339_ms(arena_ratings_updated(a), updated);
  json_t *body = json_pack(
      "{s:s, s:I, s:s, s:s, s:I, s:I, s:o, s:o}", "source",
      from_judge ? "judge" : "human", "votes", (json_int_t)(votes2 / 2),
      "updated_at", updated, "sort", by_bt ? "bt" : "elo", "min_battles",
      (json_int_t)rq->cfg->min_battles, "bootstrap_rounds",
      (json_int_t)rq->cfg->bootstrap_rounds, "models", models, "provisional",
      provisional);
  if (snap) {
    format_rfc3339_ms(snap->computed_at, bt_updated);
    json_object_set_new(body, "bt_updated_at", json_string(bt_updated));
    json_object_set_new(body, "bt_fit", json_integer(snap->fit));
    json_object_set_new(body, "bt_votes",
                        json_integer(pair_table_total(&snap->pairs)));
  } else {
    json_object_set_new(body, "bt_updated_at", json_null());
  }
  bt_snapshot_unref(snap);
  if (from_judge)
    json_object_set_new(body, "judge", json_string(judge));
  json_object_set_new(body, "correlations", correlations);
  json_object_set_new(body, "dedup", leaderboard_dedup_json(rq, !from_judge));
  cache_store(slot, &key, body);
  return reply_json(rq, MHD_HTTP_OK, body);
}
