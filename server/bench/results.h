/* A run's scores from its items' results: each metric's mean over all
 * the items and per group (MMLU's subjects), with its 95% interval: the
 * Wilson score interval for a metric that is 0 or 1 on each item (acc,
 * acc_norm, strict_match, flexible_extract), a percentile bootstrap of
 * the mean (1,000 resamples, seed 1234) for one that is not (mc2). Pure. */
#ifndef AGON_BENCH_RESULTS_H
#define AGON_BENCH_RESULTS_H

#include <stddef.h>

#include "storage/store.h"

#define BENCH_BOOTSTRAP_ROUNDS 1000
#define BENCH_BOOTSTRAP_SEED 1234

struct bench_results {
  struct bench_item_score {
    char *grp;                /* "" for none */
    char *metrics;            /* the item's JSON object of scores */
  } *items;
  size_t n_items, cap;
  struct store_bench_score *scores;  /* strings owned (grp, metric) */
  size_t n_scores;
};

void bench_results_init(struct bench_results *r);
void bench_results_release(struct bench_results *r);

/* Add one item's result (copied). 0 or -1. */
int bench_results_add(struct bench_results *r, const char *grp,
                      const char *metrics);

/* Compute r->scores from the items: every metric any item has, over all
 * items (grp "") and, when some item has a group, over each group's. 0,
 * or -1 when out of memory or an item's metrics are not a JSON object of
 * numbers. */
int bench_results_compute(struct bench_results *r);

/* The score of metric over grp ("" for all), or NULL. */
const struct store_bench_score *
bench_results_find(const struct bench_results *r, const char *grp,
                   const char *metric);

#endif
