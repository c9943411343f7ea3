/* The battles held in memory, by id: every streaming battle, and recently
 * used finished ones (loaded back from the database on demand). */
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
  size_t count;
};

void registry_init(struct registry *r);

/* Drop every battle's registry reference. */
void registry_release(struct registry *r);

/* The battle with this id, with a new reference for the caller, or NULL. */
struct battle *registry_get(struct registry *r, const char *id);

/* Add b (the registry takes its own reference). If a battle with the same
 * id is already there, nothing is added and that one is returned with a
 * reference for the caller; else b is returned, with a new reference. */
struct battle *registry_put(struct registry *r, struct battle *b);

/* How many battles it holds now. */
size_t registry_count(struct registry *r);

/* Forget finished battles nobody watches that have been idle for
 * idle_ms. Returns how many were dropped. */
size_t registry_sweep(struct registry *r, int64_t idle_ms);

#endif
