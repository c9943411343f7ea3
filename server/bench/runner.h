/* agon bench's runner: the items of one run of a task for one model,
 * asked through the model's own endpoint with at most `concurrency`
 * requests in flight (libcurl's non-blocking multi loops of upstream/),
 * each item's result stored as soon as it is scored (a writer thread of
 * its own commits them in groups, so a slow disk never holds the
 * requests back, and a run killed at any point keeps every item
 * committed), failed requests tried again with a growing wait.
 *
 * A request that fails in a way that can pass (no connection, a timeout,
 * a broken transfer, HTTP 429 or 5xx, an answer that is not JSON) is
 * tried again up to `retries` more times, after backoff_ms, then twice
 * that, ... (at most 30 s); its item fails when they are spent (it is
 * not stored, so the next run asks it again). Any other HTTP error (4xx),
 * and in likelihood mode an answer without prompt log-probabilities,
 * ends the run at once with the reason: every other request would fail
 * the same way. */
#ifndef AGON_BENCH_RUNNER_H
#define AGON_BENCH_RUNNER_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "bench/task.h"
#include "config/config.h"
#include "storage/store.h"
#include "upstream/upstream.h"

/* What a run asks, and how. */
struct bench_run_opts {
  const struct bench_task *task;
  const struct model_config *model;
  int generate;               /* 0: likelihood mode, 1: generate mode */
  unsigned shots;             /* the shots each item's prompt carries */
  unsigned concurrency;       /* requests in flight at most (>= 1) */
  unsigned retries;           /* more tries of a request that failed */
  long backoff_ms;            /* the first wait before one */
  int64_t run_id;             /* the store's run its items go to */
};

/* The items to ask: docs (n_docs, the data file's), the indices of those
 * to ask now (todo, n_todo, rising), and each doc's shots as indices into
 * pool (shots[i * opts.shots + k], for every doc). Borrowed. */
struct bench_run_items {
  const struct bench_doc *docs;
  size_t n_docs;
  const size_t *todo;
  size_t n_todo;
  const struct bench_doc *pool;
  size_t n_pool;
  const size_t *shots;
};

struct bench_progress {
  size_t todo;        /* items this run asks */
  size_t scored;      /* of them, scored */
  size_t stored;      /* of them, committed to the store */
  size_t failed;      /* of them, failed after their retries */
  size_t in_flight;   /* requests */
  size_t retried;     /* requests tried again so far */
  size_t requests;    /* requests answered so far */
  double seconds;     /* since the start */
};

typedef void (*bench_progress_fn)(void *cls, const struct bench_progress *p);

/* Ask every item of it for o, storing each result in st as it is scored;
 * fn (may be NULL) is called about ten times a second and once at the
 * end, on the caller's thread. When *stop becomes non-zero (a signal) the
 * requests in flight are cancelled and the run ends after what was
 * scored is stored. Returns 0 when every item was asked (some may have
 * failed: *p says), 1 when stopped, -1 on a fatal error with the reason
 * in err (errlen bytes): the endpoint refused the requests, the store
 * refused a write, out of memory. *p gets the last progress. */
int bench_run(struct store *st, struct upstream *up,
              const struct bench_run_opts *o,
              const struct bench_run_items *it, atomic_int *stop,
              bench_progress_fn fn, void *cls, struct bench_progress *p,
              char *err, size_t errlen);

/* The JSON of item d's scores and of what was read, from its answers
 * (for tests and the runner; pure). For likelihood mode ll and chars are
 * the choices' log-likelihoods and lengths in characters; for generate
 * mode (or GSM8K in either) text is the generated answer. *metrics and
 * *detail are new JSON texts. 0 or -1. */
int bench_score_item(const struct bench_task *t, int generate,
                     const struct bench_doc *d, const double *ll,
                     const char *text, char **metrics, char **detail);

#endif
