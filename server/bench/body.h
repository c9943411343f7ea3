/* The JSON bodies of agon bench's /v1/completions requests, built from
 * escaped parts (bench/runner.c's hot path).
 *
 * Every likelihood request of an item repeats its prompt's prefix, and
 * the same shots come back item after item (GSM8K draws 5 of 7,473 per
 * item, MMLU takes its subject's first 5 for every item of it): escaping
 * the whole prompt into each body with json_pack/json_dumps was a fifth
 * of the runner's time. Here the head and tail around the prompt are
 * made once per run and each shot is escaped once, by jansson; JSON's
 * escaping is per character, so the escaped parts joined are the escaped
 * prompt. Not thread-safe: one owner (the runner's thread). */
#ifndef AGON_BENCH_BODY_H
#define AGON_BENCH_BODY_H

#include <stddef.h>

#include "bench/task.h"
#include "config/config.h"
#include "util/buf.h"

enum bench_body_kind {
  BENCH_BODY_LOGLIK, /* echo, logprobs, max_tokens 1: a log-likelihood */
  BENCH_BODY_UNTIL,  /* GSM8K's generate_until (max_gen_toks, its stops) */
};

struct bench_bodies {
  const struct bench_task *task;
  const struct bench_doc *pool; /* the shots' docs, n_pool of them */
  size_t n_pool;
  char *head;                   /* {"model":"…","prompt":"  */
  char *tail[2];                /* ","max_tokens":…}  by kind */
  char **shot;                  /* escaped shot texts, by pool index,
                                   NULL until first used */
};

/* Set b up for model m's requests with shots from pool. 0, or -1 when
 * out of memory (b is then released). */
int bench_bodies_init(struct bench_bodies *b, const struct bench_task *t,
                      const struct model_config *m,
                      const struct bench_doc *pool, size_t n_pool);
void bench_bodies_release(struct bench_bodies *b);

/* Append to out item d's prompt prefix, escaped for a JSON string (no
 * quotes): what bench_prefix(t, d, shots, n_shots) returns, escaped.
 * shots point into the pool. 0, or -1 (out of memory, or past out's
 * bound). */
int bench_bodies_prefix(struct bench_bodies *b, const struct bench_doc *d,
                        const struct bench_doc *const *shots, size_t n_shots,
                        struct buf *out);

/* A request body of the given kind whose prompt is the escaped text
 * esc_prefix (from bench_bodies_prefix) and then the plain texts more1
 * and more2 (either may be NULL). NULL when out of memory; the caller
 * frees it. */
char *bench_body_new(const struct bench_bodies *b, enum bench_body_kind kind,
                     const struct buf *esc_prefix, const char *more1,
                     const char *more2);

#endif
