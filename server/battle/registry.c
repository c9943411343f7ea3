#include "battle/registry.h"

#include <string.h>

#include "util/hash.h"
#include "util/clock.h"

static size_t bucket_of(const char *id) {
  return (size_t)(hash_fnv1a_str(id) % REGISTRY_BUCKETS);
}

void registry_init(struct registry *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
}

void registry_release(struct registry *r) {
  for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
    struct battle *b = r->buckets[i];
    while (b) {
      struct battle *next = b->hash_next;
      b->hash_next = b->lru_prev = b->lru_next = NULL;
      b->registered = 0;
      b->cached = 0;
      battle_unref(b);
      b = next;
    }
    r->buckets[i] = NULL;
  }
  r->lru_head = r->lru_tail = NULL;
  r->count = 0;
  r->cached_bytes = 0;
  pthread_mutex_destroy(&r->lock);
}

/* ---- the use order; caller holds r->lock ---- */

static void lru_unlink(struct registry *r, struct battle *b) {
  if (b->lru_prev)
    b->lru_prev->lru_next = b->lru_next;
  else
    r->lru_head = b->lru_next;
  if (b->lru_next)
    b->lru_next->lru_prev = b->lru_prev;
  else
    r->lru_tail = b->lru_prev;
  b->lru_prev = b->lru_next = NULL;
}

static void lru_push(struct registry *r, struct battle *b) {
  b->lru_prev = NULL;
  b->lru_next = r->lru_head;
  if (r->lru_head)
    r->lru_head->lru_prev = b;
  else
    r->lru_tail = b;
  r->lru_head = b;
}

static void lru_use(struct registry *r, struct battle *b) {
  if (r->lru_head == b)
    return;
  lru_unlink(r, b);
  lru_push(r, b);
}

/* ---- membership; caller holds r->lock ---- */

static struct battle *find_locked(struct registry *r, const char *id) {
  struct battle *b = r->buckets[bucket_of(id)];
  while (b && strcmp(b->id, id))
    b = b->hash_next;
  return b;
}

/* Take b (held here) out of the registry: its registry reference becomes
 * the caller's, to drop once the lock is released. */
static void unlink_locked(struct registry *r, struct battle *b) {
  struct battle **p = &r->buckets[bucket_of(b->id)];
  while (*p != b)
    p = &(*p)->hash_next;
  *p = b->hash_next;
  b->hash_next = NULL;
  lru_unlink(r, b);
  r->cached_bytes -= b->cached;
  b->cached = 0;
  b->registered = 0;
  r->count--;
}

/* Whether b is at rest (counted, and evictable once unused). Caller holds
 * b's lock. */
static int at_rest_locked(const struct battle *b) {
  return b->status != BATTLE_STREAMING;
}

/* Whether nobody but the registry uses b, at rest: no follow-up turn on
 * its way to the database, and no reference but the registry's. Every
 * other reference is taken from one already held or from the registry
 * under r->lock, so this stays true while the caller holds r->lock.
 * Caller holds both locks. */
static int unused_locked(struct battle *b) {
  return at_rest_locked(b) && !b->turn_pending && !b->watchers &&
         !b->n_streams && atomic_load(&b->refs) == 1;
}

/* Count b's bytes anew. */
static void recount_locked(struct registry *r, struct battle *b) {
  pthread_mutex_lock(&b->lock);
  size_t n = at_rest_locked(b) ? battle_bytes_locked(b) : 0;
  pthread_mutex_unlock(&b->lock);
  r->cached_bytes = r->cached_bytes - b->cached + n;
  b->cached = n;
}

/* While the bytes are past the bound, evict the least recently used
 * unused battles, chained on *dead (by hash_next) for the caller to
 * battle_unref once the lock is released (see let_go). */
static void evict_locked(struct registry *r, struct battle **dead) {
  struct battle *b = r->lru_tail;
  while (b && r->max_bytes && r->cached_bytes > r->max_bytes) {
    struct battle *prev = b->lru_prev;
    if (b->cached) {  /* 0: streaming (counted again when it ends) */
      pthread_mutex_lock(&b->lock);
      int go = unused_locked(b);
      pthread_mutex_unlock(&b->lock);
      if (go) {
        unlink_locked(r, b);
        b->hash_next = *dead;
        *dead = b;
        r->evicted++;
      }
    }
    b = prev;
  }
}

/* Drop the registry references of the battles chained on dead. */
static void let_go(struct battle *dead) {
  while (dead) {
    struct battle *next = dead->hash_next;
    dead->hash_next = NULL;
    battle_unref(dead);
    dead = next;
  }
}

void registry_set_max_bytes(struct registry *r, size_t max) {
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  r->max_bytes = max;
  evict_locked(r, &dead);
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
}

/* Whether b, found here, may be given out: not when another node's vote
 * may have voted it (registry_drop_unsettled) and nobody uses it any
 * more, when it is taken out onto *dead and the caller reads it again. A
 * battle no longer ready is settled (a vote here, or a turn's failure,
 * changed it under its own lock). */
static int settled_locked(struct registry *r, struct battle *b,
                          struct battle **dead) {
  if (!b->unsettled)
    return 1;
  pthread_mutex_lock(&b->lock);
  enum battle_status status = b->status;
  int go = status == BATTLE_READY && unused_locked(b);
  pthread_mutex_unlock(&b->lock);
  if (status != BATTLE_READY && status != BATTLE_STREAMING)
    b->unsettled = 0;
  if (!go)
    return 1;
  unlink_locked(r, b);
  b->hash_next = *dead;
  *dead = b;
  return 0;
}

struct battle *registry_get(struct registry *r, const char *id) {
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  struct battle *b = find_locked(r, id);
  if (b && !settled_locked(r, b, &dead))
    b = NULL;
  if (b) {
    battle_ref(b);
    lru_use(r, b);
  }
  evict_locked(r, &dead);
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
  return b;
}

/* registry_put, and with check, registry_put_loaded. */
static struct battle *put(struct registry *r, struct battle *b, int check,
                          struct registry_stamp stamp) {
  size_t i = bucket_of(b->id);
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  struct battle *have = find_locked(r, b->id);
  if (have && !settled_locked(r, have, &dead))
    have = NULL;
  if (have) {
    battle_ref(have);
    lru_use(r, have);
    pthread_mutex_unlock(&r->lock);
    return have;
  }
  if (check && r->stamps[i] != stamp.bucket) {
    pthread_mutex_unlock(&r->lock);
    let_go(dead);
    return NULL;
  }
  if (check && r->era != stamp.era) {
    pthread_mutex_lock(&b->lock);
    if (b->status == BATTLE_READY)
      b->unsettled = 1;
    pthread_mutex_unlock(&b->lock);
  }
  battle_ref(b);  /* the registry's */
  battle_ref(b);  /* the caller's */
  b->hash_next = r->buckets[i];
  r->buckets[i] = b;
  b->registered = 1;
  b->cached = 0;
  lru_push(r, b);
  r->count++;
  recount_locked(r, b);
  evict_locked(r, &dead);
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
  return b;
}

struct battle *registry_put(struct registry *r, struct battle *b) {
  return put(r, b, 0, (struct registry_stamp){0, 0});
}

struct registry_stamp registry_stamp(struct registry *r, const char *id) {
  pthread_mutex_lock(&r->lock);
  struct registry_stamp s = {r->stamps[bucket_of(id)], r->era};
  pthread_mutex_unlock(&r->lock);
  return s;
}

struct battle *registry_put_loaded(struct registry *r, struct battle *b,
                                   struct registry_stamp stamp) {
  return put(r, b, 1, stamp);
}

struct battle *registry_get_changed(struct registry *r, const char *id) {
  pthread_mutex_lock(&r->lock);
  r->stamps[bucket_of(id)]++;
  struct battle *b = find_locked(r, id);
  if (b) {
    battle_ref(b);
    lru_use(r, b);
  }
  pthread_mutex_unlock(&r->lock);
  return b;
}

void registry_account(struct registry *r, struct battle *b) {
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  if (b->registered) {
    recount_locked(r, b);
    lru_use(r, b);
    evict_locked(r, &dead);
  }
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
}

void registry_forget(struct registry *r, struct battle *b) {
  int had = 0;
  pthread_mutex_lock(&r->lock);
  if (b->registered) {
    unlink_locked(r, b);
    had = 1;
  }
  pthread_mutex_unlock(&r->lock);
  if (had)
    battle_unref(b);  /* the registry's; the caller still holds one */
}

size_t registry_sweep(struct registry *r, int64_t idle_ms) {
  size_t dropped = 0;
  int64_t now = mono_ms();
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  for (struct battle *b = r->lru_tail; b;) {
    struct battle *prev = b->lru_prev;
    pthread_mutex_lock(&b->lock);
    int idle = unused_locked(b) && now - b->touched > idle_ms;
    pthread_mutex_unlock(&b->lock);
    if (idle) {
      unlink_locked(r, b);
      b->hash_next = dead;
      dead = b;
      dropped++;
    }
    b = prev;
  }
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
  return dropped;
}

size_t registry_drop_unsettled(struct registry *r) {
  size_t dropped = 0;
  struct battle *dead = NULL;
  pthread_mutex_lock(&r->lock);
  r->era++;
  for (struct battle *b = r->lru_tail; b;) {
    struct battle *prev = b->lru_prev;
    pthread_mutex_lock(&b->lock);
    int ready = b->status == BATTLE_READY, go = ready && unused_locked(b);
    pthread_mutex_unlock(&b->lock);
    /* ready but in use: looked at again when next asked for (a battle
     * streaming here is streaming in the database, where no vote finds
     * it ready) */
    if (ready && !go)
      b->unsettled = 1;
    if (go) {
      unlink_locked(r, b);
      b->hash_next = dead;
      dead = b;
      dropped++;
    }
    b = prev;
  }
  pthread_mutex_unlock(&r->lock);
  let_go(dead);
  return dropped;
}

size_t registry_count(struct registry *r) {
  pthread_mutex_lock(&r->lock);
  size_t n = r->count;
  pthread_mutex_unlock(&r->lock);
  return n;
}

void registry_stats(struct registry *r, size_t *bytes,
                    unsigned long *evicted) {
  pthread_mutex_lock(&r->lock);
  *bytes = r->cached_bytes;
  *evicted = r->evicted;
  pthread_mutex_unlock(&r->lock);
}
