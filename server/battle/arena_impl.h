/* The arena's own: what the .c files of battle/ share, and nothing
 * outside battle/ may include (tests/layers.py checks it). */
#ifndef AGON_BATTLE_ARENA_IMPL_H
#define AGON_BATTLE_ARENA_IMPL_H

#include "battle/arena.h"

/* Reserve a slot for one more streaming turn; 0, or -1 when full
 * (arena.c). */
int reserve_stream(struct arena *a, const struct config *cfg);

/* Drop idle finished battles from memory, at most once a minute unless
 * too many are held (arena.c). */
void maybe_sweep(struct arena *a);

/* Send turn `turn` of b to both models. Caller holds the battle lock. On
 * failure to queue a side, that side is finished as failed (ask.c). */
void ask_both_locked(struct arena *a, struct battle *b, int turn);

#endif
