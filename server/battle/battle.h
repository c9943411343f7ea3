/* A battle in memory: two anonymous sides answering the same prompts.
 *
 * The upstream loops append text and finish sides; HTTP threads read
 * and watch. Every field below `lock` is protected by it. */
#ifndef AGON_BATTLE_BATTLE_H
#define AGON_BATTLE_BATTLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include <jansson.h>

#include "config/config.h"
#include "util/buf.h"

/* BATTLE_RETRY: one side of the latest turn failed, the other finished;
 * not votable until the owner retries the failed side with another model
 * (battle/replace.c). Stored as 'failed' (a battle read back from the
 * database is failed for good). BATTLE_FAILED: can no longer be voted. */
enum battle_status {
  BATTLE_STREAMING,
  BATTLE_READY,
  BATTLE_FAILED,
  BATTLE_VOTED,
  BATTLE_RETRY
};

const char *battle_status_name(enum battle_status s);

/* How a battle was started: two models drawn at random and hidden until
 * the vote (the only battles the boards count), two models the visitor
 * chose (names public, vote stored but not counted), or one chosen model
 * (a direct chat: side b does not exist, no vote). */
enum battle_mode { BATTLE_ANONY, BATTLE_NAMED, BATTLE_DIRECT };

/* "anony", "named", "direct": as stored (storage/store.h BATTLE_MODE_*)
 * and as the API says it. */
const char *battle_mode_name(enum battle_mode m);

struct battle_side {
  struct buf text;        /* the answer so far */
  struct buf reasoning;   /* the model's reasoning so far, kept apart: never
                             part of the answer or of the conversation;
                             shown once the side is done */
  int finished;           /* done or failed */
  int failed;
  char public_error[128]; /* safe to show before the vote */
  char *detail;           /* server-side error detail, owned */
  char *html;             /* the finished answer as safe HTML, or NULL */
  size_t html_len;        /* strlen(html) */
  /* Per-model metrics of this side, held back until the battle is
   * revealed (voted) or can no longer be voted (failed): published at
   * once, they would tell A from B on /metrics. See battle_reveal_metrics. */
  struct side_metrics {
    int started;          /* asked upstream */
    int outcome;          /* 0: pending, 1: finished, 2: failed */
    double ttft;          /* seconds, < 0: none */
    double tokens_per_s;  /* < 0: unknown */
    int published;        /* given to metrics/ already */
  } m;
};

struct battle_turn {
  char *prompt;
  struct battle_side side[2];
  int attempt;         /* bumped each time a side is re-asked (regenerate,
                          retry): a feed follows one attempt */
  int regenerations;   /* regenerates of this turn, in memory */
};

/* Per-model metrics of a side a regenerate or a retry replaced, held back
 * like the others (battle_reveal_metrics_locked) under the model that
 * answered. */
struct held_metric {
  char *model;           /* owned */
  struct side_metrics m;
};

/* Someone waiting for news of a battle (an event stream). wake is called
 * with the battle lock held, once, after which the watcher is unlinked. */
struct battle_watcher {
  void (*wake)(struct battle_watcher *w);
  struct battle_watcher *next;
};

struct battle {
  char id[40];
  char session[40];
  int64_t created_at;
  atomic_int refs;
  atomic_int cancel;           /* set to abandon the current turn */
  /* the registry's, under its lock (battle/registry.c) */
  struct battle *hash_next;    /* its bucket's chain */
  struct battle *lru_prev;     /* its use order: most recent first */
  struct battle *lru_next;
  size_t cached;               /* bytes it counts for this battle */
  int registered;              /* held by the registry */
  int unsettled;               /* may be older than another node's vote
                                  (in use, or loading, when its votes
                                  came): read again once unused */

  pthread_mutex_t lock;
  enum battle_mode mode;         /* fixed at the start */
  struct model_config model[2];  /* the settings it started with; model[1]
                                    all zero (no name) in a direct chat */
  struct battle_turn *turns;
  size_t n_turns;
  enum battle_status status;
  int winner;                    /* enum winner once voted, else -1 */
  char *reasons;                 /* the vote's reasons (JSON array), owned,
                                    or NULL */
  char *comment;                 /* the vote's comment, owned, or NULL */
  struct battle_watcher *watchers;
  int64_t touched;               /* monotonic ms of the last activity */
  int64_t finished_at;           /* wall ms the latest turn finished, or 0 */
  size_t max_answer;             /* bytes per answer, fixed at the start */
  int n_streams;                 /* event streams open on it */
  int turn_pending;              /* a follow-up turn is being stored */
  int reasoning_dropped;         /* some reasoning is in the database only
                                    (battle_drop_reasoning_locked) */
  int retries;                   /* failed sides replaced (in memory) */
  /* What regenerates and retries replaced, as the database keeps it
   * (struct battle_record's arrays), owned, NULL while nothing was; shown
   * once voted only: replaced, {turn, side, attempt, kind, model, answer,
   * failed}; replacements, {side, turn, old_model, new_model}. */
  json_t *replaced;
  json_t *replacements;
  size_t replaced_bytes;         /* of the replaced answers' texts */
  struct held_metric *held;
  size_t n_held;
};

/* A new battle with one reference, no turns, status STREAMING, mode
 * BATTLE_ANONY (the caller sets another before sharing it). The model
 * settings are copied; b may be NULL for a direct chat's absent side. NULL
 * when out of memory. */
struct battle *battle_new(const char *id, const char *session,
                          int64_t created_at, const struct model_config *a,
                          const struct model_config *b);

/* The sides that answer: 2, or 1 in a direct chat (side 0 only). */
int battle_sides(const struct battle *b);

/* Whether turn i (0-based) of b is over with two answers that are the
 * same but for white space and case (util/loose_text.h); caller holds the
 * lock. 0 while the turn streams, when a side failed, in a direct chat.
 * Decided from the answers alone, which are public: it tells nothing
 * about the models. */
int battle_turn_identical_locked(const struct battle *b, size_t i);

void battle_ref(struct battle *b);
/* Drop a reference; the last one frees the battle. Accepts NULL. */
void battle_unref(struct battle *b);

/* Append a turn with the prompt (copied); caller holds the lock. Each
 * side's answer, and its reasoning, may each grow up to max_answer bytes.
 * Returns the new turn's index, or -1 when out of memory. */
int battle_add_turn_locked(struct battle *b, const char *prompt,
                           size_t max_answer);

/* Keep side `side` of turn `turn` in b->replaced (kind "regenerate" or
 * "retry"), its metrics in b->held, and empty it for a new attempt
 * (nothing asked yet); caller holds the lock and bumps the turn's
 * attempt. 0, or -1 when out of memory (the side is then unchanged). */
int battle_side_replace_locked(struct battle *b, int turn, int side,
                               const char *kind);

/* Hand every held-back per-model metric of b to metrics/ (once each);
 * caller holds the lock. Call it only when the battle is voted or can no
 * longer be voted. */
void battle_reveal_metrics_locked(struct battle *b);

/* The memory b holds for its turns, in bytes: the struct and its turns,
 * the prompts, the answers' and reasoning's buffers, the HTML and the
 * error details; caller holds the lock. Not the model settings' strings
 * (a few hundred bytes): their sizes would tell the models apart where
 * the figure is public (/metrics). */
size_t battle_bytes_locked(const struct battle *b);

/* Free the reasoning of every turn (caller holds the lock; call it only
 * once no turn is streaming or on its way to the database). The reasoning
 * is shown only once the battle is voted; until then the database keeps
 * it, and memory held for it would tell on /metrics that a side reasons.
 * Sets reasoning_dropped when there was any: a battle voted since is read
 * back from the database to show it. */
void battle_drop_reasoning_locked(struct battle *b);

/* Wake and unlink every watcher; caller holds the lock. */
void battle_wake_locked(struct battle *b);

/* Add a watcher; caller holds the lock. */
void battle_watch_locked(struct battle *b, struct battle_watcher *w);

/* Remove a watcher if it is still linked; caller holds the lock. */
void battle_unwatch_locked(struct battle *b, struct battle_watcher *w);

#endif
