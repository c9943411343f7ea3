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
      battle_unref(b);
      b = next;
    }
    r->buckets[i] = NULL;
  }
  pthread_mutex_destroy(&r->lock);
}

struct battle *registry_get(struct registry *r, const char *id) {
  pthread_mutex_lock(&r->lock);
  struct battle *b = r->buckets[bucket_of(id)];
  while (b && strcmp(b->id, id))
    b = b->hash_next;
  if (b)
    battle_ref(b);
  pthread_mutex_unlock(&r->lock);
  return b;
}

struct battle *registry_put(struct registry *r, struct battle *b) {
  size_t i = bucket_of(b->id);
  pthread_mutex_lock(&r->lock);
  struct battle *have = r->buckets[i];
  while (have && strcmp(have->id, b->id))
    have = have->hash_next;
  if (have) {
    battle_ref(have);
    pthread_mutex_unlock(&r->lock);
    return have;
  }
  battle_ref(b);  /* the registry's */
  battle_ref(b);  /* the caller's */
  b->hash_next = r->buckets[i];
  r->buckets[i] = b;
  r->count++;
  pthread_mutex_unlock(&r->lock);
  return b;
}

size_t registry_sweep(struct registry *r, int64_t idle_ms) {
  size_t dropped = 0;
  int64_t now = mono_ms();
  pthread_mutex_lock(&r->lock);
  for (size_t i = 0; i < REGISTRY_BUCKETS; i++) {
    struct battle **p = &r->buckets[i];
    while (*p) {
      struct battle *b = *p;
      pthread_mutex_lock(&b->lock);
      int idle = atomic_load(&b->refs) == 1 &&
                 b->status != BATTLE_STREAMING && !b->watchers &&
                 now - b->touched > idle_ms;
      pthread_mutex_unlock(&b->lock);
      if (idle) {
        *p = b->hash_next;
        b->hash_next = NULL;
        r->count--;
        dropped++;
        battle_unref(b);
      } else {
        p = &b->hash_next;
      }
    }
  }
  pthread_mutex_unlock(&r->lock);
  return dropped;
}

size_t registry_count(struct registry *r) {
  pthread_mutex_lock(&r->lock);
  size_t n = r->count;
  pthread_mutex_unlock(&r->lock);
  return n;
}
