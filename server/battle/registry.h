/* The battles held in memory, by id: every streaming battle, and recently
 * used ones at rest (loaded back from the database on demand).
 *
 * A battle at rest (not streaming: ready, failed or voted) is a cache of
 * the database. The registry counts the bytes each one holds
 * (battle_bytes_locked) and keeps their total at most max_bytes: past it,
 * the least recently used ones that nobody uses are evicted: at rest, no
 * follow-up turn being stored, no reference but the registry's (so no
 * request, event stream or upstream request holds them). A streaming battle counts nothing and is never
 * evicted.
 *
 * Lock order: the registry's lock, then a battle's. No function here may
 * be called with a battle's lock held. */
#ifndef AGON_BATTLE_REGISTRY_H
#define AGON_BATTLE_REGISTRY_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "battle/battle.h"

#define REGISTRY_BUCKETS 4096

struct registry {
  pthread_mutex_t lock;
  struct battle *buckets[REGISTRY_BUCKETS];
  /* per bucket, bumped by registry_get_changed: a load that began before
   * is not put (registry_put_loaded) */
  unsigned stamps[REGISTRY_BUCKETS];
  /* bumped by registry_drop_unsettled: a load that began before is put
   * marked unsettled (registry_put_loaded) */
  unsigned long era;
  struct battle *lru_head;    /* most recently used */
  struct battle *lru_tail;    /* least recently used */
  size_t count;
  size_t cached_bytes;        /* of the battles at rest */
  size_t max_bytes;           /* 0: no bound */
  unsigned long evicted;      /* battles evicted to keep under max_bytes */
};

/* An empty registry without a bound on its bytes. */
void registry_init(struct registry *r);

/* Drop every battle's registry reference. */
void registry_release(struct registry *r);

/* Bound the bytes of the battles at rest (0: no bound), evicting at once
 * what passes it. */
void registry_set_max_bytes(struct registry *r, size_t max);

/* The battle with this id, with a new reference for the caller, or NULL.
 * It becomes the most recently used; past the bound, others are evicted. */
struct battle *registry_get(struct registry *r, const char *id);

/* Add b (the registry takes its own reference) and count its bytes. If a
 * battle with the same id is already there, nothing is added and that one
 * is returned with a reference for the caller; else b is returned, with a
 * new reference. */
struct battle *registry_put(struct registry *r, struct battle *b);

/* What a load of battle id from the database takes before it reads:
 * give it to registry_put_loaded. */
struct registry_stamp {
  unsigned bucket;     /* its bucket's stamp */
  unsigned long era;   /* the registry's era */
};
struct registry_stamp registry_stamp(struct registry *r, const char *id);

/* registry_put for a battle read from the database after registry_stamp
 * gave stamp: NULL, and nothing added, when a change to its stored record
 * was announced since (registry_get_changed): what was read may be from
 * before it, so read it again. When another node's votes came since
 * (registry_drop_unsettled), a ready b is put marked as one in use was
 * then: it is read again once nobody uses it. */
struct battle *registry_put_loaded(struct registry *r, struct battle *b,
                                   struct registry_stamp stamp);

/* registry_get for a change to battle id's stored record made without
 * its battle (a vote): announces it to every load of it under way (see
 * registry_put_loaded), whether it is held here or not. */
struct battle *registry_get_changed(struct registry *r, const char *id);

/* Count b's bytes again, after a change to it (its turns, its texts, its
 * status). b becomes the most recently used; past the bound, others are
 * evicted. Nothing happens when b is not held here. */
void registry_account(struct registry *r, struct battle *b);

/* Let go of b if it is held here (the next registry_get of its id finds
 * nothing): when the battle in memory no longer matches the database. */
void registry_forget(struct registry *r, struct battle *b);

/* How many battles it holds now. */
size_t registry_count(struct registry *r);

/* Drop every unused ready battle: another node's vote may have voted it
 * in the database (a vote is the one change another node makes to a
 * battle this one streamed). They are read back when next asked for.
 * A ready battle in use now is marked, and dropped when it is next asked
 * for (registry_get, registry_put) with nobody using it, unless it is no
 * longer ready by then. How many were dropped now. */
size_t registry_drop_unsettled(struct registry *r);

/* The bytes of the battles at rest, and how many battles were evicted so
 * far. */
void registry_stats(struct registry *r, size_t *bytes, unsigned long *evicted);

/* Forget the battles at rest that nobody uses (as for an eviction) and
 * that have been idle for idle_ms. Returns how many were dropped. */
size_t registry_sweep(struct registry *r, int64_t idle_ms);

#endif
