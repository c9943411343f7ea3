/* Each session's own board (issue 14, "your own leaderboard"): the
 * counted votes of the battles of one session, kept in memory, from which
 * its Elo and its models' wins, losses and ties are replayed on demand.
 *
 * Bounded: at most max_sessions sessions (the least recently used one
 * goes), each with its newest max_votes votes (older ones go). A session
 * is either held, with every one of its counted votes up to that bound,
 * or not held at all: whoever holds the votes (battle/own_board.c) adds a
 * session only with its votes read from the database, and feeds it each
 * new vote. Thread-safe (one lock). */
#ifndef AGON_RATING_OWN_BOARDS_H
#define AGON_RATING_OWN_BOARDS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "rating/elo.h"

#define OWN_BOARD_BUCKETS 4096
#define OWN_BOARD_SESSION 48     /* bytes of a session key, with its NUL */
#define OWN_BOARD_MAX_NAMES 65535 /* distinct model names held */

struct own_vote {
  uint16_t a, b;                 /* indices into own_boards.names */
  unsigned char w;               /* enum winner */
};

struct own_session;

struct own_boards {
  pthread_mutex_t lock;
  struct own_session *buckets[OWN_BOARD_BUCKETS];
  struct own_session *lru_head, *lru_tail; /* most recent first */
  size_t n_sessions;
  char **names;                  /* the models named by votes held */
  size_t n_names, cap_names;
};

void own_boards_init(struct own_boards *ob);
/* Free every session. Accepts a zeroed struct. */
void own_boards_release(struct own_boards *ob);

/* Drop every session held (their votes are read back when next asked
 * for): another node's votes may be missing from them. */
void own_boards_clear(struct own_boards *ob);

/* One vote of a session, as own_boards_put takes them (borrowed). */
struct own_vote_in {
  const char *model_a, *model_b;
  enum winner w;
};

/* Hold session with exactly these votes (oldest first; the newest
 * max_votes kept), replacing what it held, as most recently used; then
 * drop the least recently used sessions beyond max_sessions (0: hold
 * none). 0, or -1 when out of memory (the session is then not held). */
int own_boards_put(struct own_boards *ob, const char *session,
                   const struct own_vote_in *votes, size_t n,
                   long max_sessions, long max_votes);

/* Add one vote to session if it is held (the oldest goes past
 * max_votes); nothing otherwise. */
void own_boards_add(struct own_boards *ob, const char *session,
                    const char *model_a, const char *model_b, enum winner w,
                    long max_votes);

/* Replay session's votes in order with factor k into *t (empty: the
 * caller releases it): Elo from ELO_INITIAL and the counts, as the live
 * board's. 1 when the session is held (made most recently used), 0 when
 * it is not (t untouched), -1 when out of memory. *n_votes gets how
 * many. */
int own_boards_replay(struct own_boards *ob, const char *session, double k,
                      struct rating_table *t, long *n_votes);

/* Sessions held now. */
size_t own_boards_sessions(struct own_boards *ob);

#endif
