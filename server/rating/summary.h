/* Everything a leaderboard shows, computed from a sequence of battle
 * outcomes: online Elo (in the given order), counts, Bradley-Terry with
 * bootstrap intervals and rank (UB), and the pairwise matrices. Pure. */
#ifndef AGON_RATING_SUMMARY_H
#define AGON_RATING_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "rating/bt.h"
#include "rating/elo.h"

struct outcome {
  int a, b;          /* model indices */
  enum winner w;
};

struct model_summary {
  double elo;
  double bt, ci_low, ci_high;  /* NaN without battles */
  int rank_ub;                 /* 0 without battles */
  int component;
  long battles, wins, losses, ties;
};

struct summary_params {
  double k;            /* Elo K */
  int rounds;          /* bootstrap rounds; 0: no intervals */
  uint64_t seed;
  int threads;
};

/* Aggregate outcomes into BT pairs (i < j). *pairs is allocated. */
int summary_pairs(int n, const struct outcome *o, size_t count,
                  struct bt_pair **pairs, size_t *n_pairs);

/* Fill out[n] from count outcomes among n models. Returns 0 or -1. */
int summary_compute(int n, const struct outcome *o, size_t count,
                    const char *const *names, const struct summary_params *p,
                    struct model_summary *out);

/* BT, intervals and rank (UB) from aggregated pairs into out[n] (Elo and
 * counts untouched). Returns 0 or -1. */
int summary_bt(int n, const struct bt_pair *pairs, size_t n_pairs,
               const char *const *names, const struct summary_params *p,
               struct model_summary *out);

#endif
