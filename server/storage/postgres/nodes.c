/* The nodes table (storage/nodes.h, schema/postgres/0002_nodes.sql) in
 * PostgreSQL. The clock is the database server's (PG_NOW_MS), one for
 * every node whatever their own clocks say. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"

/* The database's wall clock now, in ms since the epoch. */
#define PG_NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

#define NODE_COLUMNS                                                          \
  "name, url, host, pid, instance, started_at, heartbeat_at, lease_until, "  \
  "lease_until - " PG_NOW_MS

/* Row i of r (NODE_COLUMNS) into n. */
static void node_row(const PGresult *r, int i, struct store_node *n) {
  const char *name, *url, *host, *instance;
  memset(n, 0, sizeof *n);
  pg_row(r, i, "tttltIIII", &name, &url, &host, &n->pid, &instance,
         &n->started_at, &n->heartbeat_at, &n->lease_until, &n->lease_left);
  snprintf(n->name, sizeof n->name, "%s", name ? name : "");
  snprintf(n->url, sizeof n->url, "%s", url ? url : "");
  snprintf(n->host, sizeof n->host, "%s", host ? host : "");
  snprintf(n->instance, sizeof n->instance, "%s", instance ? instance : "");
}

int pg_node_register(void *cls, const struct store_node *me, long lease_ms,
                     int force, struct store_node *holder) {
  struct pg_store *ps = cls;
  PGresult *r = pg_exec(ps, "node_register",
                        "SELECT " NODE_COLUMNS " FROM nodes WHERE name = $1 "
                        "FOR UPDATE",
                        "t", me->name);
  if (!r)
    return -1;
  int held = 0;
  if (PQntuples(r) == 1) {
    node_row(r, 0, holder);
    held = !force && strcmp(holder->instance, me->instance) &&
           holder->lease_left >= 0;
  }
  PQclear(r);
  if (held)
    return 1;
  return pg_run(ps, "node_register",
                "INSERT INTO nodes (name, url, host, pid, instance, "
                "started_at, heartbeat_at, lease_until) VALUES ($1, $2, $3, "
                "$4, $5, " PG_NOW_MS ", " PG_NOW_MS ", " PG_NOW_MS
                " + $6) ON CONFLICT (name) DO UPDATE SET url = excluded.url, "
                "host = excluded.host, pid = excluded.pid, instance = "
                "excluded.instance, started_at = excluded.started_at, "
                "heartbeat_at = excluded.heartbeat_at, lease_until = "
                "excluded.lease_until",
                "tttltl", me->name, me->url, me->host, me->pid, me->instance,
                lease_ms) == 1
             ? 0
             : -1;
}

int pg_node_heartbeat(void *cls, const char *name, const char *instance,
                      const char *url, long lease_ms, int64_t *lapsed_ms) {
  struct pg_store *ps = cls;
  *lapsed_ms = 0;
  PGresult *r = pg_exec(
      ps, "node_heartbeat",
      "WITH old AS (SELECT lease_until FROM nodes WHERE name = $1 AND "
      "instance = $2 FOR UPDATE) UPDATE nodes n SET url = $3, heartbeat_at "
      "= " PG_NOW_MS ", lease_until = " PG_NOW_MS " + $4 FROM old WHERE "
      "n.name = $1 AND n.instance = $2 RETURNING greatest(0, " PG_NOW_MS
      " - old.lease_until)",
      "tttl", name, instance, url, lease_ms);
  if (!r)
    return -1;
  int rc = 1; /* another instance took the name over */
  if (PQntuples(r) == 1) {
    *lapsed_ms = pg_col_int64(r, 0, 0);
    rc = 0;
  }
  PQclear(r);
  return rc;
}

long pg_nodes_reap(void *cls) {
  struct pg_store *ps = cls;
  /* battles_streaming holds the few streaming ones; a battle another
   * node fails at the same time is skipped (no longer streaming once its
   * row lock is ours) */
  return pg_run(ps, "nodes_reap",
                "UPDATE battles b SET status = 'failed' WHERE b.status = "
                "'streaming' AND NOT EXISTS (SELECT 1 FROM nodes n WHERE "
                "n.lease_until >= " PG_NOW_MS " AND length(b.id) = "
                "length(n.name) + 25 AND left(b.id, length(n.name) + 1) = "
                "n.name || '-')",
                "");
}

long pg_node_fail_battles(void *cls, const char *name) {
  struct pg_store *ps = cls;
  return pg_run(ps, "node_fail_battles",
                "UPDATE battles SET status = 'failed' WHERE status = "
                "'streaming' AND length(id) = length($1::text) + 25 AND "
                "left(id, length($1::text) + 1) = $1::text || '-'",
                "t", name);
}

int pg_node_leave(void *cls, const char *name, const char *instance) {
  struct pg_store *ps = cls;
  return pg_run(ps, "node_leave",
                "UPDATE nodes SET heartbeat_at = " PG_NOW_MS ", lease_until "
                "= " PG_NOW_MS " - 1 WHERE name = $1 AND instance = $2",
                "tt", name, instance) < 0
             ? -1
             : 0;
}

int pg_nodes_list(void *cls, struct store_node **out, size_t *n) {
  struct pg_store *ps = cls;
  PGresult *r = pg_read(ps, "nodes_list",
                        "SELECT " NODE_COLUMNS " FROM nodes ORDER BY name",
                        "");
  if (!r)
    return -1;
  int rows = PQntuples(r);
  *out = calloc((size_t)rows + 1, sizeof **out);
  if (!*out) {
    PQclear(r);
    return -1;
  }
  for (int i = 0; i < rows; i++)
    node_row(r, i, &(*out)[i]);
  *n = (size_t)rows;
  PQclear(r);
  return 0;
}

int pg_changed_elsewhere(void *cls, long live_battles) {
  struct pg_store *ps = cls;
  /* every counted vote adds two battles to the stored ratings: a sum
   * other than the live one is another node's votes (a small table, read
   * inside the group's transaction) */
  PGresult *r = pg_exec(ps, "changed_elsewhere",
                        "SELECT coalesce(sum(battles), 0) FROM ratings", "");
  if (!r)
    return -1;
  int rc = PQntuples(r) == 1 && pg_col_long(r, 0, 0) != live_battles;
  PQclear(r);
  return rc;
}

/* Here rather than in shares.c: what a node sharing the database with
 * others reads (storage/nodes.h). */
int pg_share_find(void *cls, const char *token, char id[40]) {
  struct pg_store *ps = cls;
  PGresult *r = pg_read(ps, "share_find",
                        "SELECT battle_id FROM shares WHERE token = $1", "t",
                        token);
  if (!r)
    return -1;
  int rc = PQntuples(r) == 1;
  if (rc)
    snprintf(id, 40, "%s", pg_col_text(r, 0, 0));
  PQclear(r);
  return rc;
}
