/* A leaderboard as of an instant, made by the rating history in the
 * background (battle/history.c) from the stored votes. */
#ifndef AGON_RATING_HISTORY_BOARD_H
#define AGON_RATING_HISTORY_BOARD_H

#include <stdatomic.h>
#include <stdint.h>

#include "rating/elo.h"
#include "rating/worker.h"

/* Immutable once published, shared by reference. */
/* A board as of an instant: immutable once published, shared by
 * reference. */
struct history_board {
  atomic_int refs;
  int64_t as_of;               /* ms since the epoch */
  struct rating_table elo;     /* replayed up to as_of */
  struct bt_snapshot *snap;    /* its fit, with intervals; NULL: none */
  long votes;                  /* counted votes replayed */
  int64_t computed_at;         /* ms since the epoch */
};

void history_board_unref(struct history_board *b);

#endif
