/* Battles held in memory for a request (struct arena_held of
 * battle/arena.h): from the registry at once, or read back from the
 * database on the arena's loader thread (a->loader, one thread with a
 * bounded queue) while the request waits suspended, so that no HTTP
 * worker waits on the disk. Not the writer thread: a read there would
 * wait behind every group commit's fsync, and behind another process
 * that holds the database's write lock, which the read connection does
 * not (storage/store.h). */
#include "battle/arena_impl.h"

#include <stdlib.h>
#include <string.h>

/* Reads waiting for the loader at once, at most: each may bring a
 * battle's answers (up to max_answer_bytes a side) into memory. */
#define LOADS_WAITING 64

struct arena_held {
  struct waiter waiter;    /* first: see held_release */
  struct arena *a;
  char id[ARENA_BATTLE_ID];
  struct battle *b;        /* a reference, or NULL: no such battle; set
                              before it is told (waiter_told) */
};

static void held_release(struct waiter *w) {
  struct arena_held *h = (struct arena_held *)w;
  if (h->b)
    battle_unref(h->b);
  free(h);
}

/* A new hold of id with both references (the teller's, the caller's);
 * id too long to name a battle holds none. NULL when out of memory. */
static struct arena_held *held_new(struct arena *a, const char *id,
                                   arena_vote_fn done, void *cls) {
  struct arena_held *h = calloc(1, sizeof *h);
  if (!h)
    return NULL;
  waiter_init(&h->waiter, done, cls, held_release);
  h->a = a;
  if (strlen(id) < sizeof h->id)
    memcpy(h->id, id, strlen(id) + 1);
  return h;
}

struct arena_held *arena_hold(struct arena *a, const char *id) {
  struct arena_held *h = held_new(a, id, NULL, NULL);
  if (!h)
    return NULL;
  if (h->id[0]) {
    h->b = registry_get(&a->battles, h->id);
    if (!h->b) {
      waiter_unref(&h->waiter);
      waiter_leave(&h->waiter);
      return NULL;
    }
  }
  waiter_tell(&h->waiter);  /* known now; wakes nobody */
  return h;
}

/* On the loader thread. */
static void held_read(void *cls) {
  struct arena_held *h = cls;
  h->b = arena_battle_read(h->a, h->id);
  waiter_tell(&h->waiter);
}

enum agon_ec arena_hold_load(struct arena *a, const char *id,
                             arena_vote_fn done, void *cls,
                             struct arena_held **out) {
  *out = NULL;
  struct arena_held *h = held_new(a, id, done, cls);
  if (!h)
    return EC_NOT_QUEUED;
  if (!h->id[0]) {
    waiter_tell(&h->waiter);  /* nothing to read: told at once */
  } else if (taskq_push(a->loader, held_read, h)) {
    waiter_unref(&h->waiter);  /* the loader's, never to tell */
    waiter_leave(&h->waiter);  /* the caller's: frees h */
    return EC_NOT_QUEUED;
  }
  *out = h;
  return EC_OK;
}

enum agon_ec arena_held_result(struct arena_held *h) {
  return waiter_told(&h->waiter) && h->b ? EC_OK : EC_BATTLE_NOT_FOUND;
}

int arena_held_streaming(struct arena_held *h) {
  struct battle *b = arena_held_battle(h);
  if (!b)
    return 0;
  pthread_mutex_lock(&b->lock);
  int streaming = b->status == BATTLE_STREAMING;
  pthread_mutex_unlock(&b->lock);
  battle_unref(b);
  return streaming;
}

struct battle *arena_held_battle(struct arena_held *h) {
  if (!waiter_told(&h->waiter) || !h->b)
    return NULL;
  battle_ref(h->b);
  return h->b;
}

void arena_held_free(struct arena_held *h) {
  if (h)
    waiter_leave(&h->waiter);
}

int arena_loader_start(struct arena *a) {
  a->loader = taskq_new(LOADS_WAITING);
  return a->loader ? 0 : -1;
}
