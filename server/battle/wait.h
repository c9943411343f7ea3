/* A request waiting on the writer thread for a share, an unshare or an
 * own board (struct arena_wait of battle/arena.h): what shares.c and
 * own_board.c have in common. */
#ifndef AGON_BATTLE_WAIT_H
#define AGON_BATTLE_WAIT_H

#include "battle/arena_impl.h"

struct arena_wait {
  struct waiter waiter;          /* first: see wait_release */
  struct arena *a;
  int share;                     /* a share (1) or an unshare (0) */
  char id[ARENA_BATTLE_ID];
  char session[48];
  char token[ARENA_SHARE_TOKEN]; /* the new token; then the stored one */
  long max_votes;                /* own boards: the bound, at the start */
  long max_sessions;
  double k;
  enum agon_ec rc;               /* set by the writer thread, then told */
  json_t *body;                  /* on EC_OK: the answer, taken by the
                                    waiter */
};

/* A new wait with two references (the writer's, the caller's), or NULL. */
struct arena_wait *arena_wait_new(struct arena *a, arena_vote_fn done,
                                  void *cls);

/* The writer gave up on w before running it (it could not be queued):
 * drop both references. */
void arena_wait_abandon(struct arena_wait *w);

#endif
