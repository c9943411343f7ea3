/* The nodes table (storage/nodes.h, schema/0014_nodes.sql) in SQLite.
 * The clock is this process's: every process on a SQLite file runs on the
 * machine that holds it. */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

#define NODE_COLUMNS                                                          \
  "name, url, host, pid, instance, started_at, heartbeat_at, lease_until"

/* The row of s (NODE_COLUMNS) into n, lease_left against now. */
static void node_row(sqlite3_stmt *s, int64_t now, struct store_node *n) {
  const char *name, *url, *host, *instance;
  memset(n, 0, sizeof *n);
  sqlite_row(s, "tttltIII", &name, &url, &host, &n->pid, &instance,
             &n->started_at, &n->heartbeat_at, &n->lease_until);
  snprintf(n->name, sizeof n->name, "%s", name ? name : "");
  snprintf(n->url, sizeof n->url, "%s", url ? url : "");
  snprintf(n->host, sizeof n->host, "%s", host ? host : "");
  snprintf(n->instance, sizeof n->instance, "%s", instance ? instance : "");
  n->lease_left = n->lease_until - now;
}

static void log_failed(struct sqlite_store *st, const char *op) {
  log_error("msg=\"node write failed\" op=%s err=\"%s\"", op,
            log_q(sqlite3_errmsg(st->db)));
}

int sqlite_node_register(void *cls, const struct store_node *me,
                         long lease_ms, int force, struct store_node *holder) {
  struct sqlite_store *st = cls;
  int64_t now = now_ms();
  int rc = -1;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "SELECT " NODE_COLUMNS " FROM nodes WHERE name = ?", "t",
      me->name);
  if (!s)
    goto out;
  int step = sqlite3_step(s);
  if (step == SQLITE_ROW) {
    node_row(s, now, holder);
    if (!force && strcmp(holder->instance, me->instance) &&
        holder->lease_left >= 0) {
      rc = 1;
      goto out;
    }
  } else if (step != SQLITE_DONE) {
    goto out;
  }
  s = sqlite_stmt_next(
      s,
      "INSERT INTO nodes (" NODE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
      "?6, ?7) ON CONFLICT (name) DO UPDATE SET url = ?2, host = ?3, "
      "pid = ?4, instance = ?5, started_at = ?6, heartbeat_at = ?6, "
      "lease_until = ?7",
      "tttltII", me->name, me->url, me->host, me->pid, me->instance, now,
      now + lease_ms);
  if (s && sqlite_step_done(s, NULL) == 0)
    rc = 0;
out:
  if (rc < 0)
    log_failed(st, "node_register");
  sqlite3_finalize(s);
  return rc;
}

int sqlite_node_heartbeat(void *cls, const char *name, const char *instance,
                          const char *url, long lease_ms,
                          int64_t *lapsed_ms) {
  struct sqlite_store *st = cls;
  int64_t now = now_ms();
  int rc = -1;
  *lapsed_ms = 0;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "SELECT lease_until FROM nodes WHERE name = ? AND instance = ?",
      "tt", name, instance);
  if (!s)
    goto out;
  int step = sqlite3_step(s);
  if (step == SQLITE_DONE) {
    rc = 1; /* another instance took the name over */
    goto out;
  }
  if (step != SQLITE_ROW)
    goto out;
  int64_t until = sqlite3_column_int64(s, 0);
  *lapsed_ms = now > until ? now - until : 0;
  s = sqlite_stmt_next(s,
                       "UPDATE nodes SET url = ?3, heartbeat_at = ?4, "
                       "lease_until = ?5 WHERE name = ?1 AND instance = ?2",
                       "tttII", name, instance, url, now, now + lease_ms);
  if (s && sqlite_step_done(s, NULL) == 0)
    rc = 0;
out:
  if (rc < 0)
    log_failed(st, "node_heartbeat");
  sqlite3_finalize(s);
  return rc;
}

long sqlite_nodes_reap(void *cls) {
  struct sqlite_store *st = cls;
  /* battles_streaming (schema/0006) holds the few streaming ones */
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "UPDATE battles SET status = 'failed' WHERE status = 'streaming' AND "
      "NOT EXISTS (SELECT 1 FROM nodes n WHERE n.lease_until >= ?1 AND "
      "length(battles.id) = length(n.name) + 25 AND substr(battles.id, 1, "
      "length(n.name) + 1) = n.name || '-')",
      "I", now_ms());
  long rc = s && sqlite_step_done(s, "nodes_reap") == 0
                ? (long)sqlite3_changes(st->db)
                : -1;
  sqlite3_finalize(s);
  return rc;
}

long sqlite_node_fail_battles(void *cls, const char *name) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "UPDATE battles SET status = 'failed' WHERE status = 'streaming' AND "
      "length(id) = length(?1) + 25 AND substr(id, 1, length(?1) + 1) = ?1 "
      "|| '-'",
      "t", name);
  long rc = s && sqlite_step_done(s, "node_fail_battles") == 0
                ? (long)sqlite3_changes(st->db)
                : -1;
  sqlite3_finalize(s);
  return rc;
}

int sqlite_node_leave(void *cls, const char *name, const char *instance) {
  struct sqlite_store *st = cls;
  int64_t now = now_ms();
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "UPDATE nodes SET heartbeat_at = ?3, lease_until = ?3 - 1 WHERE name "
      "= ?1 AND instance = ?2",
      "ttI", name, instance, now);
  int rc = s ? sqlite_step_done(s, "node_leave") : -1;
  sqlite3_finalize(s);
  return rc;
}

int sqlite_nodes_list(void *cls, struct store_node **out, size_t *n) {
  struct sqlite_store *st = cls;
  int64_t now = now_ms();
  int rc = -1;
  sqlite3_stmt *s = sqlite_read_begin(
      st, "SELECT " NODE_COLUMNS " FROM nodes ORDER BY name", "");
  if (!s)
    goto out;
  int step;
  while ((step = sqlite3_step(s)) == SQLITE_ROW) {
    struct store_node *grown = realloc(*out, (*n + 1) * sizeof *grown);
    if (!grown)
      goto out;
    *out = grown;
    node_row(s, now, &grown[(*n)++]);
  }
  rc = step == SQLITE_DONE ? 0 : -1;
out:
  if (rc)
    log_error("msg=\"cannot read the nodes\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  sqlite_read_end(st, s);
  if (rc) {
    free(*out);
    *out = NULL;
    *n = 0;
  }
  return rc;
}

int sqlite_changed_elsewhere(void *cls, long live_battles) {
  struct sqlite_store *st = cls;
  (void)live_battles;
  /* data_version on a connection moves with the commits of every other
   * connection, and only theirs (SQLite's PRAGMA data_version) */
  sqlite3_stmt *s = sqlite_stmt_new(st->db, "PRAGMA data_version", "");
  int rc = -1;
  if (s && sqlite3_step(s) == SQLITE_ROW) {
    long v = (long)sqlite3_column_int64(s, 0);
    rc = st->write_version >= 0 && v != st->write_version;
    st->write_version = v;
  }
  sqlite3_finalize(s);
  return rc;
}

/* Here rather than in shares.c: what a node sharing the database with
 * others reads (storage/nodes.h). */
int sqlite_share_find(void *cls, const char *token, char id[40]) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_read_begin(
      st, "SELECT battle_id FROM shares WHERE token = ?", "t", token);
  int rc = -1;
  if (s) {
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW) {
      snprintf(id, 40, "%s", sqlite_text(s, 0));
      rc = 1;
    } else if (step == SQLITE_DONE) {
      rc = 0;
    }
  }
  sqlite_read_end(st, s);
  return rc;
}
