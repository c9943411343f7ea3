#include "metrics/metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define MAX_ROUTES 64
#define MAX_MODELS 256

static const double ttft_buckets[] = {0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30};
static const double tps_buckets[] = {1, 5, 10, 20, 30, 50, 75, 100, 200};
static const double db_buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                    0.025, 0.05, 0.1, 0.5};
#define NB 9

struct histogram {
  unsigned long counts[NB + 1]; /* the last: +Inf */
  double sum;
  unsigned long n;
};

/* The upstream's histograms, one of each per model. */
enum { UP_TTFT, UP_TPS, UP_HISTOGRAMS };
static const struct {
  const char *name, *help;
  const double *bounds;
} upstream_histograms[UP_HISTOGRAMS] = {
    [UP_TTFT] = {"agon_upstream_ttft_seconds",
                 "Upstream time to the first token.", ttft_buckets},
    [UP_TPS] = {"agon_upstream_tokens_per_second",
                "Upstream streaming speed (content chunks per second).",
                tps_buckets},
};

struct model_stats {
  char name[104];
  unsigned long started, finished, failed;
  struct histogram upstream[UP_HISTOGRAMS];
};

/* status codes 100..599 by route */
static atomic_ulong requests[MAX_ROUTES + 1][500];
static atomic_long streams_open;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct model_stats models[MAX_MODELS];
static size_t n_models;
static unsigned long votes_counted;
static struct {
  char reason[32];
  unsigned long n;
} excluded[16];
static size_t n_excluded;
static struct histogram db_write;
static unsigned long db_jobs;  /* writes carried by those transactions */

void metrics_request(int route, unsigned status) {
  if (route < 0 || route >= MAX_ROUTES)
    route = MAX_ROUTES;
  if (status < 100 || status > 599)
    return;
  atomic_fetch_add(&requests[route][status - 100], 1);
}

static struct model_stats *model_locked(const char *name) {
  for (size_t i = 0; i < n_models; i++)
    if (!strcmp(models[i].name, name))
      return &models[i];
  if (n_models == MAX_MODELS)
    return NULL;
  struct model_stats *m = &models[n_models++];
  snprintf(m->name, sizeof m->name, "%s", name);
  return m;
}

static void observe(struct histogram *h, const double *bounds, double v) {
  size_t i = 0;
  while (i < NB && v > bounds[i])
    i++;
  h->counts[i]++;
  h->sum += v;
  h->n++;
}

void metrics_battle(const char *model, enum side_event ev) {
  pthread_mutex_lock(&lock);
  struct model_stats *m = model_locked(model);
  if (m) {
    if (ev == SIDE_STARTED)
      m->started++;
    else if (ev == SIDE_FINISHED)
      m->finished++;
    else
      m->failed++;
  }
  pthread_mutex_unlock(&lock);
}

void metrics_vote(int counted, const char *reason) {
  pthread_mutex_lock(&lock);
  if (counted) {
    votes_counted++;
  } else {
    size_t i = 0;
    while (i < n_excluded && strcmp(excluded[i].reason, reason))
      i++;
    if (i == n_excluded && n_excluded < 16)
      snprintf(excluded[n_excluded++].reason, sizeof excluded[0].reason, "%s",
               reason);
    if (i < n_excluded)
      excluded[i].n++;
  }
  pthread_mutex_unlock(&lock);
}

void metrics_upstream(const char *model, double ttft, double tokens_per_s) {
  pthread_mutex_lock(&lock);
  struct model_stats *m = model_locked(model);
  double v[UP_HISTOGRAMS] = {[UP_TTFT] = ttft, [UP_TPS] = tokens_per_s};
  for (int k = 0; m && k < UP_HISTOGRAMS; k++)
    if (v[k] >= 0)
      observe(&m->upstream[k], upstream_histograms[k].bounds, v[k]);
  pthread_mutex_unlock(&lock);
}

void metrics_db_write(double seconds, long jobs) {
  pthread_mutex_lock(&lock);
  observe(&db_write, db_buckets, seconds);
  db_jobs += (unsigned long)jobs;
  pthread_mutex_unlock(&lock);
}

void metrics_streams(int delta) { atomic_fetch_add(&streams_open, delta); }

static atomic_long events_buffered;

static atomic_long tag_counts[TAG_METRIC_ERRORS + 1];

void metrics_tag(enum tag_metric m, long delta) {
  if ((unsigned)m <= TAG_METRIC_ERRORS)
    atomic_fetch_add(&tag_counts[m], delta);
}

long metrics_events_buffered(long delta) {
  return atomic_fetch_add(&events_buffered, delta) + delta;
}

/* Prometheus label values escape backslash, quote and newline. */
static void label(struct buf *out, const char *v) {
  for (; *v; v++) {
    if (*v == '\\' || *v == '"')
      buf_append(out, "\\", 1);
    if (*v == '\n')
      buf_append_str(out, "\\n");
    else
      buf_append(out, v, 1);
  }
}

static void appendf(struct buf *out, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#include <stdarg.h>
static void appendf(struct buf *out, const char *fmt, ...) {
  char tmp[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  buf_append_str(out, tmp);
}

static void histogram_lines(struct buf *out, const char *name,
                            const char *model, const struct histogram *h,
                            const double *bounds) {
  unsigned long cum = 0;
  for (size_t i = 0; i <= NB; i++) {
    cum += h->counts[i];
    appendf(out, "%s_bucket{", name);
    if (model) {
      buf_append_str(out, "model=\"");
      label(out, model);
      buf_append_str(out, "\",");
    }
    if (i < NB)
      appendf(out, "le=\"%g\"} %lu\n", bounds[i], cum);
    else
      appendf(out, "le=\"+Inf\"} %lu\n", cum);
  }
  const char *suffix[2] = {"_sum", "_count"};
  for (int k = 0; k < 2; k++) {
    appendf(out, "%s%s", name, suffix[k]);
    if (model) {
      buf_append_str(out, "{model=\"");
      label(out, model);
      buf_append_str(out, "\"}");
    }
    if (k == 0)
      appendf(out, " %.6f\n", h->sum);
    else
      appendf(out, " %lu\n", h->n);
  }
}

int metrics_render(struct buf *out, const char *const *route_names,
                   size_t n_routes, const struct metrics_sample *sample) {
  buf_append_str(out, "# HELP agon_http_requests_total HTTP requests by route "
                      "and status.\n# TYPE agon_http_requests_total counter\n");
  for (int r = 0; r <= MAX_ROUTES; r++) {
    const char *pattern = "unmatched";
    if (r < MAX_ROUTES) {
      if ((size_t)r >= n_routes)
        continue;
      pattern = route_names[r];
    }
    for (int s = 0; s < 500; s++) {
      unsigned long n = atomic_load(&requests[r][s]);
      if (!n)
        continue;
      buf_append_str(out, "agon_http_requests_total{route=\"");
      label(out, pattern);
      appendf(out, "\",status=\"%d\"} %lu\n", s + 100, n);
    }
  }
  appendf(out, "# HELP agon_streams_open Event streams open to browsers.\n"
               "# TYPE agon_streams_open gauge\nagon_streams_open %ld\n",
          atomic_load(&streams_open));
  appendf(out, "# HELP agon_events_buffered_bytes Event bytes held for "
               "readers that are behind (bounded by max_buffered_bytes).\n"
               "# TYPE agon_events_buffered_bytes gauge\n"
               "agon_events_buffered_bytes %ld\n",
          atomic_load(&events_buffered));
  appendf(out, "# HELP agon_upstream_active Upstream requests in flight.\n"
               "# TYPE agon_upstream_active gauge\nagon_upstream_active %zu\n",
          sample->upstream_active);
  appendf(out, "# HELP agon_battles_streaming Battle turns in flight.\n"
               "# TYPE agon_battles_streaming gauge\nagon_battles_streaming %ld\n",
          sample->battles_streaming);
  appendf(out, "# HELP agon_battles_cached_bytes Bytes held by battles in "
               "memory that are not streaming (bounded by "
               "max_cached_battle_bytes).\n"
               "# TYPE agon_battles_cached_bytes gauge\n"
               "agon_battles_cached_bytes %zu\n",
          sample->battles_cached_bytes);
  appendf(out, "# HELP agon_battles_evicted_total Battles dropped from "
               "memory to stay under max_cached_battle_bytes (read back "
               "from the database when asked for).\n"
               "# TYPE agon_battles_evicted_total counter\n"
               "agon_battles_evicted_total %lu\n",
          sample->battles_evicted);

  appendf(out, "# HELP agon_tag_queue Battles waiting for the LLM taggers "
               "or being tagged.\n# TYPE agon_tag_queue gauge\n"
               "agon_tag_queue %ld\n",
          atomic_load(&tag_counts[TAG_METRIC_QUEUED]));
  appendf(out, "# HELP agon_tag_requests_total Requests sent to the LLM "
               "taggers, retries included.\n"
               "# TYPE agon_tag_requests_total counter\n"
               "agon_tag_requests_total %ld\n",
          atomic_load(&tag_counts[TAG_METRIC_REQUESTS]));
  appendf(out, "# HELP agon_tag_verdicts_total Category verdicts of the LLM "
               "taggers stored.\n# TYPE agon_tag_verdicts_total counter\n"
               "agon_tag_verdicts_total %ld\n",
          atomic_load(&tag_counts[TAG_METRIC_VERDICTS]));
  appendf(out, "# HELP agon_tag_errors_total Categories left untagged after "
               "every try (failed or unreadable replies), or not stored.\n"
               "# TYPE agon_tag_errors_total counter\n"
               "agon_tag_errors_total %ld\n",
          atomic_load(&tag_counts[TAG_METRIC_ERRORS]));

  pthread_mutex_lock(&lock);
  static const char *const ev_names[3] = {"started", "finished", "failed"};
  for (int e = 0; e < 3; e++) {
    appendf(out, "# HELP agon_battles_%s_total Battle sides %s, by model "
                 "(counted once the battle is voted or has failed).\n"
                 "# TYPE agon_battles_%s_total counter\n",
            ev_names[e], ev_names[e], ev_names[e]);
    for (size_t i = 0; i < n_models; i++) {
      unsigned long v = e == 0   ? models[i].started
                        : e == 1 ? models[i].finished
                                 : models[i].failed;
      appendf(out, "agon_battles_%s_total{model=\"", ev_names[e]);
      label(out, models[i].name);
      appendf(out, "\"} %lu\n", v);
    }
  }
  appendf(out, "# HELP agon_votes_counted_total Votes counted in the ratings.\n"
               "# TYPE agon_votes_counted_total counter\n"
               "agon_votes_counted_total %lu\n",
          votes_counted);
  buf_append_str(out, "# HELP agon_votes_excluded_total Votes stored but not "
                      "counted, by reason.\n"
                      "# TYPE agon_votes_excluded_total counter\n");
  for (size_t i = 0; i < n_excluded; i++)
    appendf(out, "agon_votes_excluded_total{reason=\"%s\"} %lu\n",
            excluded[i].reason, excluded[i].n);
  for (int k = 0; k < UP_HISTOGRAMS; k++) {
    const char *name = upstream_histograms[k].name;
    appendf(out, "# HELP %s %s\n# TYPE %s histogram\n", name,
            upstream_histograms[k].help, name);
    for (size_t i = 0; i < n_models; i++)
      if (models[i].upstream[k].n)
        histogram_lines(out, name, models[i].name, &models[i].upstream[k],
                        upstream_histograms[k].bounds);
  }
  buf_append_str(out, "# HELP agon_db_write_seconds Database write "
                      "transactions.\n"
                      "# TYPE agon_db_write_seconds histogram\n");
  histogram_lines(out, "agon_db_write_seconds", NULL, &db_write, db_buckets);
  appendf(out, "# HELP agon_db_writes_total Battles, turns and votes written "
               "(group commits: see agon_db_write_seconds_count).\n"
               "# TYPE agon_db_writes_total counter\n"
               "agon_db_writes_total %lu\n", db_jobs);
  pthread_mutex_unlock(&lock);
  return 0;
}
