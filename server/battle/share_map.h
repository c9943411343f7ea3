/* The shared battles in memory: token -> battle id and back, loaded from
 * the database at start and kept in step by the writer thread
 * (battle/shares.c), so that no request waits on the disk to find a
 * share. Bounded by its owner ([limits] max_shares). Thread-safe. */
#ifndef AGON_BATTLE_SHARE_MAP_H
#define AGON_BATTLE_SHARE_MAP_H

#include <pthread.h>
#include <stddef.h>

#include "storage/store.h"

#define SHARE_MAP_BUCKETS 4096

struct share_entry;

struct share_map {
  pthread_mutex_t lock;
  struct share_entry *by_token[SHARE_MAP_BUCKETS];
  struct share_entry *by_battle[SHARE_MAP_BUCKETS];
  size_t n;
};

void share_map_init(struct share_map *m);
void share_map_release(struct share_map *m);

/* Battle id is shared with token from now on (replacing its earlier token,
 * if any). 0, or -1 when out of memory. */
int share_map_set(struct share_map *m, const char *token, const char *id);

/* Forget battle id's share. */
void share_map_drop(struct share_map *m, const char *id);

/* The battle of token into id (1), or 0 when it names none. */
int share_map_battle(struct share_map *m, const char *token, char id[40]);

/* The token of battle id into token (1), or 0 when it is not shared. */
int share_map_token(struct share_map *m, const char *id,
                    char token[STORE_SHARE_TOKEN]);

size_t share_map_count(struct share_map *m);

#endif
