/* A leaderboard with style control (rating/style.h) from a list of
 * battles: the input is gathered one battle at a time (style_input_add),
 * then fitted with bootstrap intervals into an immutable, shared board
 * (style_board_fit). Pure: no I/O, no locks. */
#ifndef AGON_RATING_STYLE_BOARD_H
#define AGON_RATING_STYLE_BOARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "rating/elo.h"
#include "rating/style.h"

/* Battles being gathered: model names interned, at most max battles
 * (further ones are counted in dropped, never stored). */
struct style_input {
  char **names;
  int n;
  struct style_battle *battles;
  size_t count, cap, max;
  long dropped;
};

void style_input_init(struct style_input *in, size_t max);
void style_input_release(struct style_input *in);
/* Add one battle; 0, or -1 when out of memory. Counts must be finite and
 * >= 0; a battle of a model against itself is skipped. */
int style_input_add(struct style_input *in, const char *model_a,
                    const char *model_b, enum winner w, const double a[4],
                    const double b[4]);

/* One fit: immutable once made; shared by reference. */
struct style_board {
  atomic_int refs;
  int n;
  char **names;                  /* sorted */
  double *rating, *ci_low, *ci_high;  /* NaN without battles */
  int *rank_ub, *component;      /* 0 / -1 without battles */
  long *battles, *wins, *losses, *ties;
  struct style_result res;
  double beta_low[STYLE_FEATURES], beta_high[STYLE_FEATURES];
  size_t count;                  /* battles fitted */
  long skipped;                  /* the caller's: votes without counts */
  long covers;                   /* the caller's: the votes it was made
                                    for (a board's vote count) */
  int64_t computed_at;           /* ms since the epoch */
  long fit;                      /* which fit this is, the caller's */
};

/* Fit in (left as it is) with `rounds` bootstrap rounds (seed 0) on
 * `threads` threads. NULL when out of memory. */
struct style_board *style_board_fit(const struct style_input *in, int rounds,
                                    int threads);

/* Index of name in the board, or -1. */
int style_board_find(const struct style_board *b, const char *name);

void style_board_unref(struct style_board *b);
static inline void style_board_ref(struct style_board *b) {
  atomic_fetch_add(&b->refs, 1);
}

#endif
