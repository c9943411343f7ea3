/* The arena's own: what it holds, and what the .c files of battle/ share.
 * Nothing outside battle/ includes this header (tests/layers.py checks
 * it): the others go through battle/arena.h. */
#ifndef AGON_BATTLE_ARENA_IMPL_H
#define AGON_BATTLE_ARENA_IMPL_H

#include <pthread.h>
#include <stdatomic.h>

#include "battle/arena.h"
#include "battle/battle.h"
#include "battle/history.h"
#include "battle/node.h"
#include "battle/pairing.h"
#include "battle/registry.h"
#include "battle/share_map.h"
#include "battle/style_boards.h"
#include "battle/version_watch.h"
#include "battle/waiter.h"
#include "judge/runner.h"
#include "rating/live.h"
#include "rating/own_boards.h"
#include "rating/worker.h"
#include "storage/store.h"
#include "storage/writer.h"
#include "tagger/runner.h"
#include "upstream/upstream.h"
#include "util/keycount.h"
#include "util/ratelimit.h"
#include "util/relay.h"
#include "util/taskq.h"

/* Upstream event loops: as many as the HTTP worker threads (two), so that
 * relaying deltas (parse, then write to the client: see battle/feed.c)
 * can use both cores of a small machine. */
#define UPSTREAM_LOOPS 2

/* Exports at once, at most (export.c): each holds a thread, a relay of
 * its own and a temporary file. */
#define ARENA_EXPORTS 2

struct arena {
  struct config *cfg;             /* current; take it with arena_config */
  pthread_mutex_t cfg_lock;
  struct model_config *extra_models; /* added to every config (demo) */
  size_t n_extra_models;
  struct store store;
  struct store_writer *writer;    /* every battle, turn and vote write */
  struct upstream *up;
  struct registry battles;
  struct live_ratings live;       /* Elo and pair counts; see store_vote_tx */
  struct rating_worker bt;        /* Bradley-Terry in the background */
  struct pairing_cache pairing;   /* the last draw's table (battle/pairing.c) */
  struct style_boards style;      /* style control, in the background */
  struct history history;         /* the rating history, in the background */
  atomic_llong last_sweep;        /* monotonic ms */
  atomic_llong ratings_updated;   /* wall-clock ms of the last vote */
  atomic_long dedup_left_out;     /* counted votes de-duplication left out
                                     of the BT boards (as stored) */
  atomic_long streaming;          /* turns in flight, whole server */
  atomic_long version;            /* bumped by every vote (cache keys) */
  long generation;                /* of the configuration; under cfg_lock */
  struct ratelimit limits;        /* per-client battles and votes */
  struct keycount streams;        /* open event streams per client */
  char secret[65];                /* for keyed hashes of client addresses */
  struct judge_runner *judges;    /* auto judging of finished battles */
  struct tag_runner *taggers;     /* auto tagging of voted battles */
  struct share_map shares;        /* shared battles (battle/shares.c) */
  struct own_boards own;          /* sessions' own boards (own_board.c) */
  atomic_int own_reads;           /* own boards being read back */
  struct taskq *loader;           /* reads battles back from the database
                                     for requests (hold.c), and what
                                     else requests read (call.c) */
  struct arena_node node;         /* this node among others (node.h) */
  struct version_watch watch;     /* the store's data version, in memory */
  struct {
    pthread_mutex_t lock;
    int stopping;                 /* arena_exports_stop: no more */
    struct {
      pthread_t thread;
      int running;                /* started, not joined yet */
      int finished;               /* its thread is about to end */
    } slot[ARENA_EXPORTS];
  } exports;                      /* the admin's exports (export.c) */
};

/* This node's life (node.c): join registers it (its lease) and fails the
 * battles its last life left streaming, before the live ratings are
 * read; start runs the keeper once the writer runs; stop ends the keeper
 * (before the writer stops); release ends the lease (after the writer has
 * written everything). join: 0, or -1 with err set. */
int node_join(struct arena *a, const struct config *cfg, char *err,
              size_t errlen);
int node_start(struct arena *a);
void node_stop(struct arena *a);
void node_release(struct arena *a);

/* Whether the nodes table names other nodes than this one (alive or
 * not): then what they store is not all in this node's memory (node.c). */
int arena_node_has_peers(struct arena *a);

/* The writer read the live ratings again after other nodes' commits
 * (store_follow_fn; writer thread, the store's lock held): caches and
 * workers follow (node.c). */
void node_followed(void *cls, int votes);

/* A session's counted vote, for its own board (own_board.c); writer
 * thread. */
void own_board_vote(struct arena *a, const char *session, const char *model_a,
                    const char *model_b, enum winner w);

/* Load the stored shares into memory at start (shares.c). 0 or -1. */
int shares_load(struct arena *a);

/* The battle with this id (a new reference), from memory or else read
 * from the database, which it waits on: for the loader thread (hold.c)
 * only. NULL when unknown or on error (load.c). */
struct battle *arena_battle_read(struct arena *a, const char *id);

/* What h holds: a new reference to its battle, or NULL when there is no
 * such battle (hold.c). */
struct battle *arena_held_battle(struct arena_held *h);

/* Set up and stop the exports (export.c): stop refuses new ones and
 * joins those under way. */
void arena_exports_init(struct arena *a);
void arena_exports_stop(struct arena *a);

/* Start the loader thread (hold.c); taskq_free(a->loader) stops it, after
 * it has read what was asked. 0 or -1. */
int arena_loader_start(struct arena *a);

/* Reserve a slot for one more streaming turn; 0, or -1 when full
 * (arena.c). */
int reserve_stream(struct arena *a, const struct config *cfg);

/* Drop idle finished battles from memory, at most once a minute unless
 * too many are held (arena.c). */
void maybe_sweep(struct arena *a);

/* Send turn `turn` of b to both models. Caller holds the battle lock. On
 * failure to queue a side, that side is finished as failed (ask.c). */
void ask_both_locked(struct arena *a, struct battle *b, int turn);

/* Both sides of turn `turn` of b are final (done or failed): store the
 * turn's end, then make the battle ready, failed or retry (ask.c). Lock
 * not held; the side_on_finish of the last side calls it, and a retry
 * whose side could not even be asked. */
void turn_complete(struct arena *a, struct battle *b, int turn);

/* The same for one side (a regenerate asks both, a retry one); the side
 * must be empty (new, or battle_side_replace_locked) (ask.c). */
void ask_side_locked(struct arena *a, struct battle *b, int turn, int side);

/* How many of cfg's enabled models are not named in exclude[n_exclude]
 * (the battle's models, and those it held before): whether a failed side
 * can be replaced (pairing_replace.c; the draw is arena_pairing_draw_one). */
size_t pairing_replacements_left(const struct config *cfg,
                                 const char *const *exclude,
                                 size_t n_exclude);

/* Whether b may still replace a failed side: fewer retries than
 * [limits] max_side_retries, and an enabled model it has not held to take
 * over; caller holds the lock (replace.c). */
int battle_retry_left_locked(const struct battle *b, const struct config *cfg);

#endif
