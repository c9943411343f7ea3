/* Boards with style control, fitted in the background (battle/ only):
 * a board is fitted once it is first asked for, then again whenever its
 * votes moved, on a thread of its own at idle priority, from the votes
 * and style counts as stored (store_style_votes: the per-battle counts
 * are not kept in memory). At most STYLE_BOARDS_MAX boards (the whole
 * board and slices) are kept; past that the one asked for least recently
 * is dropped. */
#ifndef AGON_BATTLE_STYLE_BOARDS_H
#define AGON_BATTLE_STYLE_BOARDS_H

#include <pthread.h>

#include "rating/live.h"
#include "rating/style_board.h"
#include "storage/store.h"

#define STYLE_BOARDS_MAX 32
/* Battles one board is fitted from at most (the newest are left out past
 * it, and counted as dropped): ~100 bytes each. */
#define STYLE_BOARD_BATTLES_MAX 4000000

struct style_boards {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int stop, started, dirty;
  struct store *st;
  struct live_ratings *live;
  int rounds, debounce_ms;
  struct style_entry {
    char key[SLICE_KEY_MAX];
    long fitted;             /* votes of the board when last fitted; -1 */
    int64_t asked;           /* mono ms of the last request */
    struct style_board *board;
  } e[STYLE_BOARDS_MAX];
  size_t n;
  long fits;
};

/* Start the thread. 0 or -1. st and live must outlive it. */
int style_boards_start(struct style_boards *sb, struct store *st,
                       struct live_ratings *live, int rounds,
                       int debounce_ms);

/* The latest board of slice key ("" for the whole board) with a reference
 * (style_board_unref), or NULL while its first fit is under way; the
 * request is remembered, so the board is fitted (again) as needed. */
struct style_board *style_boards_get(struct style_boards *sb,
                                     const char *key);

/* After counted votes: refit the boards whose votes moved. Cheap. */
void style_boards_poke(struct style_boards *sb);

/* After what is stored changed under the boards (the style counts and
 * slices `agon tag` filled in, read again on SIGHUP): refit every board,
 * whether or not its votes moved. Cheap. */
void style_boards_refit(struct style_boards *sb);

void style_boards_stop(struct style_boards *sb);

#endif
