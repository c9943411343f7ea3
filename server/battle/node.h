/* This process as one node among others on one database (storage/nodes.h,
 * docs/deploy.md): its name and lease, the other nodes it forwards to,
 * and the thread that keeps them (node.c). Private to battle/: the
 * others go through battle/arena.h (arena_node_name, arena_battle_owner).
 *
 * The keeper thread, every [cluster] heartbeat_seconds: renews the lease
 * and fails the battles whose node's lease has passed (the reaper), in
 * one of the writer's group commits; then reads the nodes table into
 * memory. Every STORE_WATCH_MS it looks at the store's version: when
 * another process has committed, it has the writer look
 * (store_writer_look), which reads the live ratings again from what the
 * other nodes stored (store_writer_follow). */
#ifndef AGON_BATTLE_NODE_H
#define AGON_BATTLE_NODE_H

#include <pthread.h>
#include <stdatomic.h>

#include "storage/nodes.h"
#include "storage/writer.h"

/* Another node as last read from the table. */
struct node_peer {
  char name[NODE_NAME_MAX + 1];
  char url[STORE_NODE_URL];
  long long alive_until; /* monotonic ms its lease lasts to, as read */
};

struct arena_node {
  char name[NODE_NAME_MAX + 1];
  char instance[STORE_NODE_INSTANCE];
  char host[STORE_NODE_HOST];
  long lease_ms, heartbeat_ms;
  pthread_mutex_t lock;         /* url, peers, stop */
  pthread_cond_t wake;
  char url[STORE_NODE_URL];     /* where the others reach this one */
  struct node_peer *peers;
  size_t n_peers;
  long long peers_at;           /* monotonic ms of their last read */
  int peers_stale;              /* a forward failed: read them again */
  long long joined_at;          /* monotonic ms it registered */
  int registered;               /* the row is ours: leave it at the end */
  int started, stop;
  pthread_t thread;
  atomic_int beating;           /* a heartbeat job is queued */
  atomic_int dedup_stale;       /* another node's votes moved the counts */
};

#endif
