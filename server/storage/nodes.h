/* The nodes on one database: every `agon serve` process holds a lease in
 * the nodes table (schema/0014_nodes.sql) that it renews; a node whose
 * lease has passed is dead, and every node fails the battles that a dead
 * node was streaming (store_nodes_reap_tx). A battle's id names its node
 * (util/node_id.h): the other nodes forward its event streams and
 * follow-ups to the address the table gives (docs/deploy.md).
 *
 * Times are ms since the epoch on the database's clock: the engine reads
 * and compares them itself (SQLite: the clock of the machine that holds
 * the file, which every process on it shares), so that nodes whose
 * clocks differ agree on whose lease has passed. */
#ifndef AGON_STORAGE_NODES_H
#define AGON_STORAGE_NODES_H

#include <stddef.h>
#include <stdint.h>

#include "storage/store.h"
#include "util/node_id.h"

#define STORE_NODE_URL 2048   /* bytes of a node's internal URL */
#define STORE_NODE_HOST 256   /* bytes of its host name */
#define STORE_NODE_INSTANCE 33 /* a process's random token, hex, with NUL */

/* One row of the nodes table. */
struct store_node {
  char name[NODE_NAME_MAX + 1];
  char url[STORE_NODE_URL];        /* where the other nodes reach it */
  char host[STORE_NODE_HOST];      /* the machine it runs on */
  long pid;                        /* its process id there */
  char instance[STORE_NODE_INSTANCE]; /* random per start */
  int64_t started_at, heartbeat_at, lease_until;
  int64_t lease_left;              /* ms of its lease left when read (the
                                      database's clock); <= 0: passed */
};

/* Take the row of me->name for the process me describes (its url, host,
 * pid, instance; the times are the engine's), with a lease of lease_ms,
 * in a transaction of its own (takes st->lock). A row held by another
 * instance whose lease has not passed is left alone unless force: 1, with
 * that row in *holder. 0 when taken, -1 on error. */
int store_node_register(struct store *st, const struct store_node *me,
                        long lease_ms, int force, struct store_node *holder);

/* Renew the lease of node name for instance by lease_ms, with url,
 * inside the caller's transaction (st->lock held; the writer's group
 * commit: store_writer_call). *lapsed_ms gets by how much the lease had
 * passed before (0: it had not). 0; 1 when the row is another instance's
 * now (it took the name over); -1 on error. */
int store_node_heartbeat_tx(struct store *st, const char *name,
                            const char *instance, const char *url,
                            long lease_ms, int64_t *lapsed_ms);

/* The battles that can never finish, failed inside the caller's
 * transaction (st->lock held): every battle streaming whose id names no
 * node holding a lease now (a dead node's, an unknown one's, one made
 * before nodes). How many, or -1 on error. */
long store_nodes_reap_tx(struct store *st);

/* A node starting: the battles its id names that are streaming were its
 * previous life's and can never finish: fail them, in a transaction of
 * its own (takes st->lock). How many, or -1 on error. */
long store_node_fail_battles(struct store *st, const char *name);

/* A node stopping: its lease ends now (if the row is still instance's),
 * in a transaction of its own (takes st->lock). 0 or -1. */
int store_node_leave(struct store *st, const char *name,
                     const char *instance);

/* Every node of the table, by name, into *out (the caller frees it) and
 * *n. Any thread; takes no lock of the writer's (the read connection).
 * 0 or -1. */
int store_nodes_list(struct store *st, struct store_node **out, size_t *n);

/* Whether another process (another node) has committed what the live
 * ratings lack, inside the caller's transaction (st->lock held), which
 * then sees what it committed: 1, 0, or -1 on error. live_battles is the
 * live ratings' sum of battles (twice their counted votes). SQLite: any
 * commit of another connection since this one last asked; PostgreSQL:
 * the stored ratings' battles differ from live_battles. The writer asks
 * it at the start of every group commit and reads the live ratings again
 * when it is 1. */
int store_changed_elsewhere_tx(struct store *st, long live_battles);

/* The battle that share token names as stored now (into id): 1, 0 when
 * no battle is shared with it (any more), -1 on error. Any thread; takes
 * no lock of the writer's (the read connection). For a node whose
 * database other nodes share: their shares, and their unshares, are not
 * in its memory (battle/shares.c). */
int store_share_find(struct store *st, const char *token, char id[40]);

#endif
