/* Bradley-Terry in the background: after votes (debounced), the pair
 * counts are copied and refitted with bootstrap intervals on a thread of
 * its own, so that the vote path never waits for a fit. Readers take the
 * latest snapshot. */
#ifndef AGON_RATING_WORKER_H
#define AGON_RATING_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "rating/pairs.h"
#include "rating/slices.h"
#include "rating/summary.h"

struct live_ratings;

/* One fit: immutable once published; shared by reference. */
struct bt_snapshot {
  atomic_int refs;
  int n;
  char **names;                /* sorted */
  struct model_summary *s;     /* bt, ci_low, ci_high, rank_ub, component */
  struct pair_table pairs;     /* the counts it was fitted from */
  int64_t computed_at;         /* ms since the epoch */
  long fit;                    /* which fit this is (1, 2, ...) */
  double *active;              /* n * n: each pair's active pairing score
                                  (rating/pairing.h), for the overall fit
                                  only; NULL for a slice's, or when it
                                  could not be computed */
};

/* The latest fit of one leaderboard slice (rating/slices.h). */
struct slice_fit {
  char *key;                   /* owned */
  long votes;                  /* the slice's votes the fit covers */
  struct bt_snapshot *snap;    /* a reference, or NULL when it failed */
};

struct rating_worker {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int dirty, stop, started;
  struct live_ratings *live;
  int rounds;
  int debounce_ms;
  struct bt_snapshot *snap;    /* latest, or NULL before the first fit */
  long fits;                   /* completed fits, for tests and metrics */
  /* the slices' fits, refitted after the overall one in the same round
   * when their votes moved; at most one per slice of live->slices */
  struct slice_fit *slices;
  size_t n_slices;
  long slice_fits;             /* completed slice fits */
  atomic_int active_scores;    /* whether overall fits compute the active
                                  pairing scores (bt_snapshot.active) */
  /* the open-weights boards: the models rating_worker_set_open named
   * (sorted, owned); with any, the whole board and each slice are also
   * fitted over the votes between two of them only, as the slices of key
   * RATING_OPEN_PREFIX + the slice's key (rating_worker_open_key) */
  char **open;
  size_t n_open;
  long open_gen;               /* bumped when they change */
};

/* The key prefix of an open-weights board in the worker's slices. */
#define RATING_OPEN_PREFIX "open:"
#define RATING_OPEN_KEY_MAX (SLICE_KEY_MAX + 8)

/* Start the worker; it fits once at start (with the active pairing
 * scores when active_scores). 0 or -1. */
int rating_worker_start(struct rating_worker *w, struct live_ratings *live,
                        int rounds, int debounce_ms, int active_scores);

/* Whether overall fits compute the active pairing scores from now on
 * (they cost O(n^3) a fit, so only when [arena] pairing = active): turned
 * on while the latest fit has none, a refit is asked for at once. */
void rating_worker_set_active(struct rating_worker *w, int on);

/* Ask for a refit (cheap; call after each counted vote). */
void rating_worker_poke(struct rating_worker *w);

/* The latest snapshot with a reference (release with
 * bt_snapshot_unref), or NULL before the first fit. */
struct bt_snapshot *rating_worker_snapshot(struct rating_worker *w);

void bt_snapshot_unref(struct bt_snapshot *s);

/* The latest fit of the slice of key, with a reference (release with
 * bt_snapshot_unref), or NULL when the slice was never fitted (it has no
 * counted vote yet, or its first fit is under way). */
struct bt_snapshot *rating_worker_slice_snapshot(struct rating_worker *w,
                                                 const char *key);

/* Fit a snapshot from pairs (taken over: *pairs is left empty) with
 * `rounds` bootstrap rounds (seed 0). NULL when out of memory. */
struct bt_snapshot *bt_snapshot_fit_steal(struct pair_table *pairs,
                                          int rounds);

/* Index of name in the snapshot, or -1. */
int bt_snapshot_find(const struct bt_snapshot *s, const char *name);

/* The key of slice key's ("" the whole board's) open-weights board into
 * out. */
void rating_worker_open_key(char out[RATING_OPEN_KEY_MAX], const char *key);

/* The models of the open-weights boards (copied; NULL and 0: none, so no
 * such board is fitted). When they changed, every open-weights board is
 * refitted in the background. 0, or -1 when out of memory (the set is
 * then as it was). */
int rating_worker_set_open(struct rating_worker *w, const char *const *names,
                           size_t n);

void rating_worker_stop(struct rating_worker *w);

#endif
