/* FastChat's de-duplication (rating/dedup.c), timed on synthetic
 * battles: hashing their prompts, then dedup_compute.
 *
 * usage: dedup_bench [BATTLES (1000000)] [PROMPT_BYTES (400)]
 *
 * The prompts (PROMPT_BYTES each: a number, then text cut from a pool
 * at an offset of its own): 5% of the battles ask one of 20 planted
 * prompts ("hi", "test"... as arenas see them), 20% one drawn from a
 * power law (P(k) ~ k^-2 over BATTLES/10), and the rest a prompt asked
 * once; from a fixed generator, so every run times the same data. Prints wall seconds of
 * each phase (best of 3) and what dedup found. Built with -Dbench=true. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rating/dedup.h"
#include "rating/rng.h"

#define POOL (1u << 20) /* text the prompts are cut from */

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv) {
  size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
  size_t bytes = argc > 2 ? strtoul(argv[2], NULL, 10) : 400;
  if (n < 1 || bytes < 16 || bytes > 100000) {
    fprintf(stderr, "usage: dedup_bench [BATTLES] [PROMPT_BYTES]\n");
    return 2;
  }
  uint64_t *number = malloc(n * sizeof *number);
  struct dedup_battle *b = malloc(n * sizeof *b);
  unsigned char *flags = malloc(n);
  char *text = malloc(bytes + 64), *pool = malloc(POOL), id[32];
  if (!number || !b || !flags || !text || !pool)
    return 1;
  struct rng r;
  rng_seed(&r, 42);
  for (size_t k = 0; k < POOL; k++)
    pool[k] = (char)('a' + rng_u64(&r) % 26);
  for (size_t i = 0; i < n; i++) {
    double u = rng_uniform(&r);
    if (u < 0.05) /* 20 planted prompts */
      number[i] = (uint64_t)(u * 400);
    else if (u < 0.25) /* repeated now and then: P(k) ~ k^-2 */
      number[i] = 20 + (uint64_t)(1 / (1 - rng_uniform(&r))) % (n / 10 + 1);
    else /* asked once */
      number[i] = n + i;
  }
  double best_hash = INFINITY, best_dedup = INFINITY;
  struct dedup_summary s = {0};
  for (int round = 0; round < 3; round++) {
    double t0 = now();
    for (size_t i = 0; i < n; i++) {
      int len = snprintf(text, 64, "prompt %llu: ",
                         (unsigned long long)number[i]);
      memcpy(text + len, pool + (number[i] * 7919) % (POOL - bytes),
             bytes - (size_t)len);
      struct dedup_prompt p;
      dedup_prompt_init(&p);
      dedup_prompt_add_turn(&p, text, bytes);
      snprintf(id, sizeof id, "battle-%zu", i);
      b[i] = (struct dedup_battle){p.hash, dedup_battle_id(id)};
    }
    double t1 = now();
    if (dedup_compute(b, n, DEDUP_PERCENTILE, DEDUP_SEED, flags, &s))
      return 1;
    double t2 = now();
    if (t1 - t0 < best_hash)
      best_hash = t1 - t0;
    if (t2 - t1 < best_dedup)
      best_dedup = t2 - t1;
  }
  printf("%zu battles, prompts of %zu bytes: hashing %.3f s, dedup_compute "
         "%.3f s (best of 3)\n",
         n, bytes, best_hash, best_dedup);
  printf("%zu distinct prompts, cutoff %.2f, %zu high-frequency prompts "
         "(%zu battles), %zu battles not sampled\n",
         s.prompts, s.cutoff, s.high_freq_prompts, s.high_freq_battles,
         s.dropped);
  free(number);
  free(b);
  free(flags);
  free(text);
  free(pool);
  return 0;
}
