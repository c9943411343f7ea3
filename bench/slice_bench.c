/* The slices' refits (rating/slices.h, rating/worker.h): 1M battles among
 * 50 models spread over 28 slices (8 languages, 4 categories, and the
 * language-and-category slices of two of them), counted as the vote's
 * transaction counts them, then every slice refitted as the background
 * worker does after votes (bt_snapshot_fit_steal with bootstrap rounds).
 * A slice's fit costs what its pair counts cost, never its battles.
 *
 *   slice_bench [BATTLES] [MODELS] [ROUNDS]   (1000000 50 100) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rating/slices.h"
#include "rating/worker.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  long battles = argc > 1 ? atol(argv[1]) : 1000000;
  int models = argc > 2 ? atoi(argv[2]) : 50;
  int rounds = argc > 3 ? atoi(argv[3]) : 100;
  static const char *langs[] = {"en", "zh", "ko", "ja", "es", "de", "fr", "ru"};
  static const char *cats[] = {"coding", "no_short", "hard_prompt", "math"};
  char names[256][16];
  for (int i = 0; i < models && i < 256; i++)
    snprintf(names[i], sizeof names[i], "model-%03d", i);
  struct slice_table t;
  slice_table_init(&t);
  uint64_t x = 88172645463325252ull;
  double t0 = now();
  for (long k = 0; k < battles; k++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int a = (int)(x % (uint64_t)models);
    int b = (int)((x >> 20) % (uint64_t)(models - 1));
    if (b >= a)
      b++;
    /* model i is stronger than model j when i < j, with noise */
    enum winner w = ((x >> 40) % 100) < (uint64_t)(a < b ? 60 : 40)
                        ? WINNER_A
                        : ((x >> 48) % 10 == 0 ? WINNER_TIE : WINNER_B);
    const char *lang = langs[(x >> 8) % 8];
    const char *c[2];
    size_t nc = 0;
    if ((x >> 12) % 4 == 0)
      c[nc++] = cats[0];
    if ((x >> 14) % 5 != 0)
      c[nc++] = cats[1];
    /* hard_prompt and math in their own slices only: 28 slices in all */
    char keys[8][SLICE_KEY_MAX];
    size_t nk = slice_keys((x >> 16) % 2 ? lang : "und", c, nc, keys, 8);
    if ((x >> 18) % 6 == 0)
      slice_key(keys[nk++], NULL, cats[2]);
    if ((x >> 22) % 7 == 0)
      slice_key(keys[nk++], NULL, cats[3]);
    for (size_t i = 0; i < nk; i++)
      if (slice_table_add(&t, keys[i], names[a], names[b], w))
        return 1;
  }
  double t1 = now();
  printf("%ld battles, %d models: counted into %zu slices in %.2f s "
         "(%.2f us a battle)\n",
         battles, models, t.n, t1 - t0, (t1 - t0) * 1e6 / (double)battles);
  double total = 0, worst = 0;
  for (size_t i = 0; i < t.n; i++) {
    struct pair_table copy = {0};
    double s0 = now();
    if (pair_table_copy(&copy, &t.s[i].pairs))
      return 1;
    struct bt_snapshot *snap = bt_snapshot_fit_steal(&copy, rounds);
    double s1 = now();
    if (!snap)
      return 1;
    total += s1 - s0;
    if (s1 - s0 > worst)
      worst = s1 - s0;
    printf("  %-28s %8ld votes %5zu pairs  %.3f s\n", t.s[i].key,
           t.s[i].votes, t.s[i].pairs.n, s1 - s0);
    bt_snapshot_unref(snap);
  }
  printf("refit of all %zu slices with %d bootstrap rounds: %.2f s "
         "(worst slice %.3f s)\n",
         t.n, rounds, total, worst);
  slice_table_release(&t);
  return 0;
}
