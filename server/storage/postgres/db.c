/* The PostgreSQL engine's database: connecting and applying the schema,
 * its connections, transactions and version, and its table of
 * operations. */
#include "storage/postgres/postgres.h"
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/embedded.h"
#include "util/log.h"

/* The advisory lock every node takes around a migration only (never on
 * the vote path): "agon" in ASCII. */
#define PG_SCHEMA_LOCK "1634168686"

/* ---- messages that never show a password ---- */

/* Overwrite every occurrence of secret (when at least 1 byte) in msg with
 * asterisks. */
static void blank_out(char *msg, const char *secret, size_t n) {
  if (!n)
    return;
  for (char *p = msg; (p = strstr(p, secret));) {
    /* compare with the bytes given, not the NUL: secret may be a slice */
    memset(p, '*', n);
    p += n;
  }
}

/* The same for a secret that is a slice [s, s + n) of a longer string. */
static void blank_slice(char *msg, const char *s, size_t n) {
  char tmp[256];
  if (!n || n >= sizeof tmp)
    return;
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  blank_out(msg, tmp, n);
}

/* Take out of msg the password conninfo holds, however it is written: as
 * libpq parses it, and as it stands in the text (a URL's user:password@,
 * a keyword string's password=...), so that even a message about a
 * malformed string cannot show it. */
static void redact(char *msg, const char *conninfo) {
  PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
  for (PQconninfoOption *o = opts; o && o->keyword; o++)
    if (!strcmp(o->keyword, "password") && o->val)
      blank_out(msg, o->val, strlen(o->val));
  PQconninfoFree(opts);
  const char *u = strstr(conninfo, "://");
  if (u) {
    u += 3;
    size_t span = strcspn(u, "@/?");
    const char *colon = memchr(u, ':', span);
    if (u[span] == '@' && colon)
      blank_slice(msg, colon + 1, (size_t)(u + span - colon - 1));
    const char *q = strstr(u, "password=");
    if (q)
      blank_slice(msg, q + 9, strcspn(q + 9, "&"));
  } else {
    for (const char *q = conninfo; (q = strstr(q, "password"));) {
      q += 8;
      const char *v = q + strspn(q, " \t");
      if (*v != '=')
        continue;
      v++;
      v += strspn(v, " \t'");
      blank_slice(msg, v, strcspn(v, " \t'"));
    }
  }
}

/* libpq's message about conn (never its conninfo), one line, into err. */
static void conn_message(PGconn *conn, const char *conninfo, char *err,
                         size_t errlen, const char *what) {
  char msg[PG_ERROR_MAX];
  snprintf(msg, sizeof msg, "%s",
           conn ? PQerrorMessage(conn) : "out of memory");
  for (char *c = msg; *c; c++)
    if (*c == '\n' || *c == '\r' || *c == '\t')
      *c = ' ';
  size_t n = strlen(msg);
  while (n && msg[n - 1] == ' ')
    msg[--n] = '\0';
  redact(msg, conninfo);
  snprintf(err, errlen, "%s: %s", what, msg);
}

/* ---- connections ---- */

/* The server's notices (NOTICE, WARNING: "relation ... already exists,
 * skipping" of a migration's CREATE ... IF NOT EXISTS), which libpq would
 * print on stderr as they come: into the log instead, escaped, one line
 * each. */
static void notice_to_log(void *cls, const char *message) {
  (void)cls;
  char line[512];
  snprintf(line, sizeof line, "%s", message ? message : "");
  size_t n = strlen(line);
  while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
    line[--n] = '\0';
  log_info("msg=\"postgresql notice\" notice=\"%s\"", log_q(line));
}

/* A new connection to conninfo, in UTF-8, votes committed durably
 * (synchronous_commit on, whatever the server's default) at READ
 * COMMITTED: NULL with the reason in err. */
static PGconn *connect_to(const char *conninfo, char *err, size_t errlen) {
  PGconn *c = PQconnectdb(conninfo);
  if (!c || PQstatus(c) != CONNECTION_OK) {
    conn_message(c, conninfo, err, errlen,
                 "cannot connect to the PostgreSQL database");
    PQfinish(c);
    return NULL;
  }
  PQsetNoticeProcessor(c, notice_to_log, NULL);
  PGresult *r = NULL;
  if (PQsetClientEncoding(c, "UTF8") ||
      PQresultStatus(r = PQexec(c, "SET synchronous_commit = on; SET "
                                   "default_transaction_isolation = 'read "
                                   "committed'")) != PGRES_COMMAND_OK) {
    conn_message(c, conninfo, err, errlen,
                 "cannot set up the PostgreSQL connection");
    PQclear(r);
    PQfinish(c);
    return NULL;
  }
  PQclear(r);
  return c;
}

/* ---- a snapshot for long reads (ops.h, snapshot_open) ----
 *
 * A store of its own holding one new connection in a REPEATABLE READ,
 * READ ONLY transaction: the export's walks (interchange.c) use ps->db
 * and its error fields alone, and see the database as of the
 * transaction's first statement, with no lock a writer waits on. */

static void *snapshot_open(void *cls) {
  struct pg_store *ps = cls;
  char err[PG_ERROR_MAX];
  struct pg_store *snap = calloc(1, sizeof *snap);
  if (!snap)
    return NULL;
  PGresult *r = NULL;
  if (!(snap->db = connect_to(ps->conninfo, err, sizeof err)) ||
      PQresultStatus(r = PQexec(snap->db,
                                "BEGIN ISOLATION LEVEL REPEATABLE READ, READ "
                                "ONLY; SELECT count(*) FROM votes")) !=
          PGRES_TUPLES_OK) {
    if (snap->db)
      snprintf(err, sizeof err, "%s", PQerrorMessage(snap->db));
    log_warn("msg=\"cannot open a snapshot of the database\" err=\"%s\"",
             log_q(err));
    PQclear(r);
    PQfinish(snap->db);
    free(snap);
    return NULL;
  }
  PQclear(r);
  return snap;
}

static void snapshot_close(void *p) {
  struct pg_store *snap = p;
  if (!snap)
    return;
  PQclear(PQexec(snap->db, "COMMIT"));
  PQfinish(snap->db);
  free(snap);
}

/* ---- the schema ---- */

/* Run sql (statements without parameters) on ps->db: 0, or -1 with the
 * message in err. */
static int exec_plain(struct pg_store *ps, const char *sql, char *err,
                      size_t errlen) {
  PGresult *r = PQexec(ps->db, sql);
  ExecStatusType s = PQresultStatus(r);
  int rc = 0;
  if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
    pg_keep_error(ps, r);
    snprintf(err, errlen, "%s", ps->err);
    rc = -1;
  }
  PQclear(r);
  return rc;
}

/* The schema version stored (0: no Agon tables yet), or -1 with err. */
static int stored_version(struct pg_store *ps, char *err, size_t errlen) {
  /* the table is looked for first: a statement naming a table that is
   * not there fails as it is planned, whatever its CASE says */
  PGresult *r =
      PQexec(ps->db, "SELECT to_regclass('schema_version') IS NOT NULL");
  int v = -1;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1 &&
      !pg_col_int(r, 0, 0)) {
    v = 0;
  } else if (PQresultStatus(r) == PGRES_TUPLES_OK) {
    PQclear(r);
    r = PQexec(ps->db,
               "SELECT coalesce(max(version), 0) FROM schema_version");
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
      v = pg_col_int(r, 0, 0);
  }
  if (v < 0) {
    pg_keep_error(ps, r);
    snprintf(err, errlen, "cannot read the schema version: %s", ps->err);
  }
  PQclear(r);
  return v;
}

/* Apply every embedded schema/postgres file whose number is above the
 * stored version (in order: tools/embed.py sorts them by name; numbers
 * may leave gaps), each in a transaction of its own with the version's
 * bump, all under the schema's advisory lock: several nodes starting at
 * once migrate once, the others wait and find it done. */
static int migrate(struct pg_store *ps, int must_exist, char *err,
                   size_t errlen) {
  char msg[PG_ERROR_MAX];
  if (exec_plain(ps, "SELECT pg_advisory_lock(" PG_SCHEMA_LOCK ")", msg,
                 sizeof msg)) {
    snprintf(err, errlen, "cannot lock the schema: %s", msg);
    return -1;
  }
  int rc = -1;
  int current = stored_version(ps, err, errlen);
  if (current < 0)
    goto out;
  if (current == 0 && must_exist) {
    snprintf(err, errlen,
             "it holds no Agon arena yet (start `agon serve` on it, or "
             "import into it)");
    goto out;
  }
  int latest = 0;
  for (const struct agon_embedded *f = agon_pg_schema_files; f->name; f++) {
    int n = atoi(f->name);
    if (n > latest)
      latest = n;
    if (n <= current)
      continue;
    char bump[160];
    snprintf(bump, sizeof bump,
             "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT "
             "NULL); DELETE FROM schema_version; INSERT INTO schema_version "
             "(version) VALUES (%d)",
             n);
    if (exec_plain(ps, "BEGIN", msg, sizeof msg) ||
        exec_plain(ps, (const char *)f->data, msg, sizeof msg) ||
        exec_plain(ps, bump, msg, sizeof msg) ||
        exec_plain(ps, "COMMIT", msg, sizeof msg)) {
      snprintf(err, errlen, "schema %s: %.400s", f->name, msg);
      PQclear(PQexec(ps->db, "ROLLBACK"));
      goto out;
    }
    log_info("msg=\"schema applied\" engine=postgresql file=%s", f->name);
  }
  if (current > latest) {
    snprintf(err, errlen,
             "database schema version %d is newer than this agon (%d)",
             current, latest);
    goto out;
  }
  ps->schema = current > latest ? current : latest;
  rc = 0;
out:
  PQclear(PQexec(ps->db, "SELECT pg_advisory_unlock(" PG_SCHEMA_LOCK ")"));
  return rc;
}

static void close_impl(void *cls);
static const struct store_ops pg_ops;

int pg_store_open(struct store *store, const char *conninfo, int must_exist,
                  char *err, size_t errlen) {
  struct pg_store *ps = calloc(1, sizeof *ps);
  if (!ps || !(ps->conninfo = strdup(conninfo))) {
    free(ps);
    snprintf(err, errlen, "cannot open the database: out of memory");
    return -1;
  }
  pthread_mutex_init(&ps->read_lock, NULL);
  pthread_mutex_init(&ps->watch_lock, NULL);
  atomic_init(&ps->watch_at, 0);
  atomic_init(&ps->watch_value, -1);
  ps->lock_wait = -1;
  char msg[PG_ERROR_MAX + 100];
  if (!(ps->db = connect_to(conninfo, err, errlen)))
    goto fail;
  if (migrate(ps, must_exist, msg, sizeof msg)) {
    snprintf(err, errlen, "PostgreSQL database '%s': %s", PQdb(ps->db), msg);
    goto fail;
  }
  if (!(ps->rdb = connect_to(conninfo, err, errlen)) ||
      !(ps->watch = connect_to(conninfo, err, errlen)))
    goto fail;
  log_info("msg=\"database open\" engine=postgresql db=\"%s\" server=%d",
           log_q(PQdb(ps->db)), PQserverVersion(ps->db));
  store->ops = &pg_ops;
  store->impl = ps;
  return 0;
fail:
  close_impl(ps);
  return -1;
}

static void close_impl(void *cls) {
  struct pg_store *ps = cls;
  if (!ps)
    return;
  pg_import_discard(ps);
  PQfinish(ps->watch);
  PQfinish(ps->rdb);
  PQfinish(ps->db);
  pthread_mutex_destroy(&ps->watch_lock);
  pthread_mutex_destroy(&ps->read_lock);
  free(ps->conninfo);
  free(ps);
}

static int schema_version(void *cls) {
  struct pg_store *ps = cls;
  return ps->schema;
}

static const char *error(void *cls) {
  struct pg_store *ps = cls;
  return ps->err[0] ? ps->err : "no error";
}

/* PostgreSQL checks its own pages (data checksums, when the cluster has
 * them, on every read; amcheck for indexes): the engine runs no check of
 * its own, and never reports the database corrupt by itself. */
static int check_start(void *cls) {
  (void)cls;
  return 0;
}

static int corrupt(void *cls, char *why, size_t len) {
  (void)cls;
  (void)why;
  (void)len;
  return 0;
}

/* The version: a hash of the cluster's current snapshot
 * (pg_current_snapshot(): xmin, xmax and the transactions in progress).
 * A commit of any writing transaction, on any node, takes its xid out of
 * the in-progress set (or moves xmin), and new xids move xmax, which only
 * grows: so the snapshot changes at every commit and never comes back to
 * an earlier value. It costs no table read, and the vote's transaction
 * does nothing for it (no NOTIFY, no counter row every vote would
 * serialise on). Like SQLite's data_version it also moves for commits
 * that change nothing Agon caches; caches then rebuild, at most every
 * STORE_WATCH_MS. */
static long version(void *cls) {
  struct pg_store *ps = cls;
  int64_t now = mono_ms();
  if (now - atomic_load(&ps->watch_at) < STORE_WATCH_MS)
    return atomic_load(&ps->watch_value);
  long v = -1;
  pthread_mutex_lock(&ps->watch_lock);
  if (PQstatus(ps->watch) != CONNECTION_OK)
    PQreset(ps->watch);
  PGresult *r = PQexec(ps->watch, "SELECT pg_current_snapshot()::text");
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
    /* FNV-1a, 63 bits: never negative */
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *c =
             (const unsigned char *)PQgetvalue(r, 0, 0);
         *c; c++)
      h = (h ^ *c) * 1099511628211ull;
    v = (long)(h >> 1);
  }
  PQclear(r);
  atomic_store(&ps->watch_value, v);
  atomic_store(&ps->watch_at, v < 0 ? 0 : now);
  pthread_mutex_unlock(&ps->watch_lock);
  return v;
}

/* ---- transactions ---- */

/* Every transaction starts waiting for locks as long as it takes (a brief
 * wait is for the jobs of a group that holds rows, pg_lock_wait): the
 * setting goes with the BEGIN, in its round trip. */
static int begin(void *cls) {
  struct pg_store *ps = cls;
  if (ps->lock_wait == 0)
    return pg_run(ps, NULL, "BEGIN ISOLATION LEVEL READ COMMITTED", "") < 0
               ? -1
               : 0;
  /* two statements: the simple protocol's PQexec (pg_exec's extended
   * one takes one); its result is the last one's */
  pg_write_conn_check(ps);
  PGresult *r = PQexec(ps->db, "SET lock_timeout = 0; BEGIN ISOLATION LEVEL "
                               "READ COMMITTED");
  int ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  if (!ok)
    pg_keep_error(ps, r);
  PQclear(r);
  if (!ok)
    return -1;
  ps->lock_wait = 0;
  return 0;
}

/* COMMIT of a transaction that failed half-way answers ROLLBACK, and
 * that is no commit. */
static int commit(void *cls) {
  struct pg_store *ps = cls;
  if (pg_import_flush(ps))
    return -1;
  PGresult *r = pg_exec(ps, NULL, "COMMIT", "");
  if (!r)
    return -1;
  int ok = !strcmp(PQcmdStatus(r), "COMMIT");
  PQclear(r);
  if (!ok) {
    snprintf(ps->err, sizeof ps->err,
             "the transaction failed and was rolled back");
    ps->lock_wait = -1; /* a SET in it is undone */
  }
  return ok ? 0 : -1;
}

static void rollback(void *cls) {
  struct pg_store *ps = cls;
  pg_import_discard(ps);
  PQclear(PQexec(ps->db, "ROLLBACK"));
  ps->lock_wait = -1;
}

static int savepoint(void *cls) {
  return pg_run_prepared(cls, PG_SAVEPOINT, NULL, "SAVEPOINT job", "") < 0
             ? -1
             : 0;
}

static int savepoint_release(void *cls) {
  return pg_run_prepared(cls, PG_RELEASE, NULL, "RELEASE SAVEPOINT job",
                         "") < 0
             ? -1
             : 0;
}

static int savepoint_rollback(void *cls) {
  struct pg_store *ps = cls;
  ps->lock_wait = -1;
  return pg_run_prepared(ps, PG_ROLLBACK_TO, NULL,
                         "ROLLBACK TO SAVEPOINT job", "") < 0
             ? -1
             : 0;
}

/* A lock not had within the brief wait (lock_not_available), or a
 * deadlock PostgreSQL broke (deadlock_detected): see pg_lock_wait. */
static int contended(void *cls) {
  struct pg_store *ps = cls;
  return !strcmp(ps->sqlstate, "55P03") || !strcmp(ps->sqlstate, "40P01");
}

/* The storage's own errors, by SQLSTATE: out of disk or memory (53), the
 * system's I/O (58), corruption and internal errors (XX), a connection
 * lost or refused (08, and libpq's own with a broken connection), the
 * server shutting down or starting (57P), and a read-only server (25006:
 * a standby after a failover). A refused write (a constraint, a bad
 * value) is not one. */
static int storage_error(void *cls, char *why, size_t len) {
  struct pg_store *ps = cls;
  const char *s = ps->sqlstate;
  int own = 0;
  if (!ps->err[0])
    own = 0;
  else if (!s[0])
    own = PQstatus(ps->db) != CONNECTION_OK;
  else
    own = !strncmp(s, "53", 2) || !strncmp(s, "58", 2) ||
          !strncmp(s, "XX", 2) || !strncmp(s, "08", 2) ||
          !strncmp(s, "57P", 3) || !strcmp(s, "25006");
  if (own)
    snprintf(why, len, "%s", ps->err);
  return own;
}

static int probe(void *cls, char *why, size_t len) {
  struct pg_store *ps = cls;
  if (PQtransactionStatus(ps->db) == PQTRANS_INERROR ||
      PQtransactionStatus(ps->db) == PQTRANS_INTRANS)
    rollback(ps);
  /* one statement: a transaction of its own */
  if (pg_run(ps, NULL,
             "INSERT INTO meta (key, value) VALUES ('write_probe', "
             "floor(extract(epoch FROM now()))::bigint::text || "
             "md5(random()::text)) ON CONFLICT (key) DO UPDATE SET value = "
             "excluded.value",
             "") >= 0)
    return 0;
  snprintf(why, len, "%s", ps->err);
  return -1;
}

static const struct store_ops pg_ops = {
    .name = "postgresql",
    .close = close_impl,
    .error = error,
    .schema_version = schema_version,
    .check_start = check_start,
    .corrupt = corrupt,
    .version = version,
    .begin = begin,
    .commit = commit,
    .rollback = rollback,
    .savepoint = savepoint,
    .savepoint_release = savepoint_release,
    .savepoint_rollback = savepoint_rollback,
    .storage_error = storage_error,
    .probe = probe,
    .contended = contended,
    .rows_read = pg_rows_read,
    .rows_write = pg_rows_write,
    /* the core operations (storage/postgres/battles.c, replaced.c,
     * votes.c, slices.c, dedup.c, meta.c) */
    .battle_create = pg_battle_create,
    .turn_add = pg_turn_add,
    .turn_replace = pg_turn_replace,
    .turn_finish = pg_turn_finish,
    .vote = pg_vote,
    .dedup_stats = pg_dedup_stats,
    .slices_load = pg_slices_load,
    .slices_replay = pg_slices_replay,
    .battle_categories = pg_battle_categories,
    .ratings_load = pg_ratings_load,
    .ratings_replay = pg_ratings_replay,
    .ratings_replace = pg_ratings_replace,
    .meta_get = pg_meta_get,
    .meta_add = pg_meta_add,
    .battle_exists = pg_battle_exists,
    .battle_load = pg_battle_load,
    .battles_list = pg_battles_list,
    /* the rest: import and export, judgments, tagging, style, history,
     * shares and a session's votes */
    .import_battle = pg_import_battle,
    .export_votes = pg_export_votes,
    .export_judgments = pg_export_judgments,
    .snapshot_open = snapshot_open,
    .snapshot_close = snapshot_close,
    .judgment_save = pg_judgment_save,
    .case_load = pg_case_load,
    .judge_pending = pg_judge_pending,
    .recent_votes = pg_recent_votes,
    .judge_stats = pg_judge_stats,
    .judge_ratings = pg_judge_ratings,
    .tag_case_load = pg_tag_case_load,
    .tag_pending = pg_tag_pending,
    .untagged = pg_untagged,
    .battle_tags = pg_battle_tags,
    .style_votes = pg_style_votes,
    .timed_votes = pg_timed_votes,
    .shares_load = pg_shares_load,
    .share_put = pg_share_put,
    .share_delete = pg_share_delete,
    .session_votes = pg_session_votes,
    /* agon bench's runs (storage/postgres/bench.c) */
    .bench_run_open = pg_bench_run_open,
    .bench_items = pg_bench_items,
    .bench_items_put = pg_bench_items_put,
    .bench_finish = pg_bench_finish,
    .bench_results = pg_bench_results,
    .node_register = pg_node_register,
    .node_heartbeat = pg_node_heartbeat,
    .nodes_reap = pg_nodes_reap,
    .node_fail_battles = pg_node_fail_battles,
    .node_leave = pg_node_leave,
    .nodes_list = pg_nodes_list,
    .changed_elsewhere = pg_changed_elsewhere,
    .share_find = pg_share_find,
};
