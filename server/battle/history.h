/* The rating history, computed in the background (battle/ only) from the
 * counted votes as stored (store_timed_votes), on a thread of its own at
 * idle priority, never on an HTTP worker:
 * - a board as of an instant: the Elo replayed over the counted votes
 *   created up to it (in commit order, each with its own K, as every
 *   replay) and the Bradley-Terry fit of their pair counts with bootstrap
 *   intervals (bt_snapshot_fit_steal, as the live board); at most
 *   HISTORY_AS_OF_MAX are kept, the one asked for least recently dropped;
 * - the series: each model's Elo and BT at HISTORY_POINTS instants spread
 *   evenly from the first counted vote to the last, as JSON text.
 * Both are recomputed after votes (history_poke, debounced) once asked
 * for; one job runs at a time, over at most HISTORY_VOTES_MAX votes (the
 * newest are left out past it). Only counted votes are read: battles
 * still votable are in none of it. */
#ifndef AGON_BATTLE_HISTORY_H
#define AGON_BATTLE_HISTORY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rating/history_board.h"
#include "storage/store.h"

#define HISTORY_AS_OF_MAX 8
#define HISTORY_POINTS 50
#define HISTORY_VOTES_MAX 2000000
/* An as_of board made this long after its instant is final: the votes
 * committed later were created after the instant. */
#define HISTORY_SETTLED_MS 60000

struct history {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  atomic_int stop;             /* also read by a job, between its boards */
  int started, dirty;
  struct store *st;
  atomic_long *version;        /* the arena's vote counter */
  double k;                    /* for votes stored without their K */
  int rounds, debounce_ms;
  struct history_entry {
    int64_t as_of;
    long fitted;               /* *version when made; -1: never */
    int64_t asked;             /* mono ms of the last request */
    struct history_board *board;
  } e[HISTORY_AS_OF_MAX];
  size_t n;
  int series_asked;
  long series_fitted;          /* *version when made; -1: never */
  char *series;                /* JSON text, or NULL */
  long jobs;                   /* completed jobs */
};

/* Start the thread. 0 or -1. st and version must outlive it. */
int history_start(struct history *h, struct store *st, atomic_long *version,
                  double k, int rounds, int debounce_ms);

/* The board as of as_of (ms) with a reference (history_board_unref), or
 * NULL while it is being computed; the request is remembered. */
struct history_board *history_board_get(struct history *h, int64_t as_of);

/* A copy of the series' JSON text (free it) and its length, or NULL
 * while it is being computed (or out of memory). */
char *history_series_get(struct history *h, size_t *len);

/* After counted votes: recompute what was asked for. Cheap. */
void history_poke(struct history *h);

void history_stop(struct history *h);

#endif
