/* The store's data version (store_data_version: it moves with every
 * commit, of this process or another one, such as `agon judge` or
 * `agon bench` beside the server), looked at every STORE_WATCH_MS on a
 * thread of its own, so that the caches keyed by it (the leaderboard's,
 * the benchmarks') read it from memory: a look starts a read
 * transaction, which may wait on the disk. */
#ifndef AGON_BATTLE_VERSION_WATCH_H
#define AGON_BATTLE_VERSION_WATCH_H

#include <pthread.h>
#include <stdatomic.h>

#include "storage/store.h"

struct version_watch {
  struct store *st;
  atomic_long value;    /* the last look's; < 0 when it failed */
  pthread_mutex_t lock;
  pthread_cond_t wake;  /* on CLOCK_MONOTONIC */
  pthread_t thread;
  int stop;             /* under lock */
  int started;
};

/* Look once now (on the caller's thread: at start), then start the
 * thread. 0, or -1 when it cannot start (w is then stopped). */
int version_watch_start(struct version_watch *w, struct store *st);

/* What the last look saw, from memory: < 0 when unknown. Any thread. */
long version_watch_value(struct version_watch *w);

/* Stop the thread, after its look under way. Accepts one never
 * started. */
void version_watch_stop(struct version_watch *w);

#endif
