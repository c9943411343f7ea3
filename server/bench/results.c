/* A run's scores and intervals (results.h). */
#include "bench/results.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/metrics.h"

void bench_results_init(struct bench_results *r) { memset(r, 0, sizeof *r); }

static void scores_free(struct bench_results *r) {
  for (size_t i = 0; i < r->n_scores; i++) {
    free((char *)r->scores[i].grp);
    free((char *)r->scores[i].metric);
  }
  free(r->scores);
  r->scores = NULL;
  r->n_scores = 0;
}

void bench_results_release(struct bench_results *r) {
  for (size_t i = 0; i < r->n_items; i++) {
    free(r->items[i].grp);
    free(r->items[i].metrics);
  }
  free(r->items);
  scores_free(r);
  memset(r, 0, sizeof *r);
}

int bench_results_add(struct bench_results *r, const char *grp,
                      const char *metrics) {
  if (r->n_items == r->cap) {
    size_t cap = r->cap ? r->cap * 2 : 256;
    struct bench_item_score *p = realloc(r->items, cap * sizeof *p);
    if (!p)
      return -1;
    r->items = p;
    r->cap = cap;
  }
  struct bench_item_score *it = &r->items[r->n_items];
  it->grp = strdup(grp ? grp : "");
  it->metrics = strdup(metrics);
  if (!it->grp || !it->metrics) {
    free(it->grp);
    free(it->metrics);
    return -1;
  }
  r->n_items++;
  return 0;
}

const struct store_bench_score *
bench_results_find(const struct bench_results *r, const char *grp,
                   const char *metric) {
  for (size_t i = 0; i < r->n_scores; i++)
    if (!strcmp(r->scores[i].grp, grp) && !strcmp(r->scores[i].metric, metric))
      return &r->scores[i];
  return NULL;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* One score: metric over the items of grp (NULL: all) in parsed. */
static int score_one(struct bench_results *r, json_t **parsed,
                     const char *grp, const char *metric) {
  double *x = malloc((r->n_items ? r->n_items : 1) * sizeof *x);
  if (!x)
    return -1;
  size_t n = 0;
  int binary = 1;
  double sum = 0;
  for (size_t i = 0; i < r->n_items; i++) {
    if (grp && strcmp(r->items[i].grp, grp))
      continue;
    json_t *v = json_object_get(parsed[i], metric);
    if (!json_is_number(v))
      continue;
    x[n] = json_number_value(v);
    binary &= x[n] == 0 || x[n] == 1;
    sum += x[n++];
  }
  struct store_bench_score s = {.n = (long)n};
  s.value = n ? sum / (double)n : 0;
  if (binary)
    bench_wilson(sum, n, &s.ci_low, &s.ci_high);
  else if (bench_bootstrap_mean(x, n, BENCH_BOOTSTRAP_ROUNDS,
                                BENCH_BOOTSTRAP_SEED, &s.ci_low, &s.ci_high)) {
    free(x);
    return -1;
  }
  free(x);
  struct store_bench_score *p =
      realloc(r->scores, (r->n_scores + 1) * sizeof *p);
  if (!p)
    return -1;
  r->scores = p;
  s.grp = strdup(grp ? grp : "");
  s.metric = strdup(metric);
  if (!s.grp || !s.metric) {
    free((char *)s.grp);
    free((char *)s.metric);
    return -1;
  }
  r->scores[r->n_scores++] = s;
  return 0;
}

int bench_results_compute(struct bench_results *r) {
  scores_free(r);
  json_t **parsed = calloc(r->n_items ? r->n_items : 1, sizeof *parsed);
  json_t *metrics = json_object(), *groups = json_object();
  int rc = -1;
  if (!parsed || !metrics || !groups)
    goto out;
  for (size_t i = 0; i < r->n_items; i++) {
    parsed[i] = json_loads(r->items[i].metrics, 0, NULL);
    if (!json_is_object(parsed[i]))
      goto out;
    const char *k;
    json_t *v;
    json_object_foreach(parsed[i], k, v) {
      if (!json_is_number(v))
        goto out;
      json_object_set_new(metrics, k, json_true());
    }
    if (r->items[i].grp[0])
      json_object_set_new(groups, r->items[i].grp, json_true());
  }
  /* names in sorted order, so the scores come out the same every time */
  const char *m;
  json_t *unused;
  size_t n_metrics = json_object_size(metrics), n_groups = json_object_size(groups);
  const char **mk = calloc(n_metrics + 1, sizeof *mk);
  const char **gk = calloc(n_groups + 1, sizeof *gk);
  if (!mk || !gk) {
    free(mk);
    free(gk);
    goto out;
  }
  size_t a = 0, b = 0;
  json_object_foreach(metrics, m, unused) mk[a++] = m;
  json_object_foreach(groups, m, unused) gk[b++] = m;
  qsort(mk, a, sizeof *mk, cmp_names);
  qsort(gk, b, sizeof *gk, cmp_names);
  rc = 0;
  for (size_t i = 0; i < a && !rc; i++) {
    rc = score_one(r, parsed, NULL, mk[i]);
    for (size_t j = 0; j < b && !rc; j++)
      rc = score_one(r, parsed, gk[j], mk[i]);
  }
  free(mk);
  free(gk);
out:
  for (size_t i = 0; parsed && i < r->n_items; i++)
    json_decref(parsed[i]);
  free(parsed);
  json_decref(metrics);
  json_decref(groups);
  return rc;
}
