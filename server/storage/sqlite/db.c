/* The SQLite engine's database: opening it and applying the schema, its
 * connections, transactions, version and background check, and its table
 * of operations. */
#include "storage/sqlite/sqlite.h"
#include "storage/sqlite/internal.h"

#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/embedded.h"
#include "util/log.h"
#include "util/clock.h"

#define BUSY_MS 5000 /* how long a connection waits for another's lock */

static int exec_on(sqlite3 *db, const char *sql, char *err, size_t errlen) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    snprintf(err, errlen, "%s", msg ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

static int exec(struct sqlite_store *st, const char *sql, char *err,
                size_t errlen) {
  return exec_on(st->db, sql, err, errlen);
}

/* PRAGMA journal_mode = WAL on st->db. While other processes set up the
 * same new file, the switch can fail at once with "database is locked"
 * (SQLITE_BUSY without the busy handler's wait: 2-4 rounds in 100 of four
 * processes started together), so it is tried again for as long as the
 * busy timeout (at start, on no HTTP worker). 0 or -1 with err set. */
static int wal_on(struct sqlite_store *st, char *err, size_t errlen) {
  int64_t until = mono_ms() + BUSY_MS;
  for (;;) {
    int rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL,
                          NULL);
    if (rc == SQLITE_OK)
      return 0;
    if ((rc & 0xff) != SQLITE_BUSY || mono_ms() >= until) {
      snprintf(err, errlen, "%s", sqlite3_errmsg(st->db));
      return -1;
    }
    struct timespec pause = {0, 10 * 1000 * 1000};
    nanosleep(&pause, NULL);
  }
}

static int schema_version(void *cls) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int v = -1;
  if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) ==
          SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  return v;
}

/* Apply every embedded schema file whose number is above user_version,
 * each in its own transaction together with the version bump. */
static int migrate(struct sqlite_store *st, char *err, size_t errlen) {
  int current = schema_version(st);
  if (current < 0) {
    snprintf(err, errlen, "cannot read schema version: %s",
             sqlite3_errmsg(st->db));
    return -1;
  }
  int latest = 0;
  for (const struct agon_embedded *f = agon_schema_files; f->name; f++) {
    int n = atoi(f->name);
    if (n > latest)
      latest = n;
    if (n <= current)
      continue;
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d;", n);
    if (exec(st, "BEGIN IMMEDIATE", err, errlen))
      return -1;
    /* another process (a node starting beside this one) may have applied
     * it since we looked: the write lock is ours now, so look again */
    if (schema_version(st) >= n) {
      if (exec(st, "COMMIT", err, errlen))
        return -1;
      continue;
    }
    if (exec(st, (const char *)f->data, err, errlen) ||
        exec(st, bump, err, errlen) || exec(st, "COMMIT", err, errlen)) {
      char tmp[512];
      snprintf(tmp, sizeof tmp, "schema %s: ", f->name);
      size_t used = strlen(tmp);
      snprintf(tmp + used, sizeof tmp - used, "%.400s", err);
      snprintf(err, errlen, "%s", tmp);
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      return -1;
    }
  }
  if (current > latest) {
    snprintf(err, errlen,
             "database schema version %d is newer than this agon (%d)",
             current, latest);
    return -1;
  }
  return 0;
}

/* A PRAGMA quick_check (every page and index entry, without the slower
 * cross-checks of integrity_check) on db, sql naming what to check: 0 when
 * it says ok, else -1 with its first complaint in err. */
static int integrity(sqlite3 *db, const char *sql, char *err, size_t errlen) {
  sqlite3_stmt *s = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    goto out;
  }
  int r = sqlite3_step(s);
  if (r != SQLITE_ROW) {
    snprintf(err, errlen, "%s", sqlite3_errmsg(db));
    goto out;
  }
  const char *v = sqlite_text(s, 0);
  if (v && !strcmp(v, "ok"))
    rc = 0;
  else
    snprintf(err, errlen, "quick_check: %.200s", v ? v : "no answer");
out:
  sqlite3_finalize(s);
  return rc;
}

static void close_impl(void *cls);
static const struct store_ops sqlite_ops;

int sqlite_store_open(struct store *store, const char *path, int must_exist,
                      char *err, size_t errlen) {
  struct stat sb;
  if (must_exist && stat(path, &sb)) {
    snprintf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
    return -1;
  }
  struct sqlite_store *st = calloc(1, sizeof *st);
  if (!st || !(st->path = strdup(path))) {
    free(st);
    snprintf(err, errlen, "cannot open '%s': out of memory", path);
    return -1;
  }
  pthread_mutex_init(&st->read_lock, NULL);
  pthread_mutex_init(&st->watch_lock, NULL);
  atomic_init(&st->watch_at, 0);
  atomic_init(&st->watch_value, -1);
  st->write_version = -1;
  int rc = sqlite3_open_v2(path, &st->db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                               SQLITE_OPEN_FULLMUTEX,
                           NULL);
  if (rc != SQLITE_OK) {
    snprintf(err, errlen, "cannot open '%s': %s", path,
             st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(rc));
    goto fail;
  }
  sqlite3_busy_timeout(st->db, BUSY_MS);
  char msg[512];
  if (wal_on(st, msg, sizeof msg) ||
      exec(st,
           "PRAGMA synchronous = FULL;"
           "PRAGMA foreign_keys = ON;",
           msg, sizeof msg)) {
    snprintf(err, errlen, "cannot set up '%s': %s", path, msg);
    goto fail;
  }
  /* What start reads is checked now (the schema, then the ratings, pair
   * counts and meta after any migration): cheap, whatever the number of
   * battles. The big tables are checked in the background by the server
   * (store_check_start), so that start stays fast with millions of votes. */
  if (integrity(st->db, "PRAGMA quick_check(sqlite_schema)", msg,
                sizeof msg) ||
      migrate(st, msg, sizeof msg) ||
      integrity(st->db, "PRAGMA quick_check(ratings)", msg, sizeof msg) ||
      integrity(st->db, "PRAGMA quick_check(pair_counts)", msg, sizeof msg) ||
      integrity(st->db, "PRAGMA quick_check(meta)", msg, sizeof msg)) {
    if ((sqlite3_errcode(st->db) & 0xff) == SQLITE_CORRUPT ||
        (sqlite3_errcode(st->db) & 0xff) == SQLITE_NOTADB ||
        !strncmp(msg, "quick_check", 11))
      snprintf(err, errlen,
               "'%s' is corrupt (%s): restore it from a backup, or try "
               "sqlite3's .recover",
               path, msg);
    else
      snprintf(err, errlen, "'%s': %s", path, msg);
    goto fail;
  }
  if (sqlite3_open_v2(path, &st->rdb, SQLITE_OPEN_READONLY, NULL) !=
          SQLITE_OK ||
      exec_on(st->rdb, "PRAGMA foreign_keys = ON", msg, sizeof msg)) {
    snprintf(err, errlen, "cannot open '%s' for reading: %s", path,
             st->rdb ? sqlite3_errmsg(st->rdb) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(st->rdb, BUSY_MS);
  if (sqlite3_open_v2(path, &st->watch, SQLITE_OPEN_READONLY, NULL) !=
          SQLITE_OK ||
      sqlite3_prepare_v3(st->watch, "PRAGMA data_version", -1,
                         SQLITE_PREPARE_PERSISTENT, &st->watch_stmt,
                         NULL) != SQLITE_OK) {
    snprintf(err, errlen, "cannot open '%s' a second time: %s", path,
             st->watch ? sqlite3_errmsg(st->watch) : "out of memory");
    goto fail;
  }
  sqlite3_busy_timeout(st->watch, BUSY_MS);
  /* from here on, another process's commit is seen (changed_elsewhere):
   * before anything is read from the file for the live ratings */
  sqlite_changed_elsewhere(st, 0);
  store->ops = &sqlite_ops;
  store->impl = st;
  return 0;
fail:
  close_impl(st);
  return -1;
}

static long version(void *cls) {
  struct sqlite_store *st = cls;
  int64_t now = mono_ms();
  if (now - atomic_load(&st->watch_at) < STORE_WATCH_MS)
    return atomic_load(&st->watch_value);
  long v = -1;
  pthread_mutex_lock(&st->watch_lock);
  if (st->watch_stmt && sqlite3_step(st->watch_stmt) == SQLITE_ROW)
    v = (long)sqlite3_column_int64(st->watch_stmt, 0);
  if (st->watch_stmt)
    sqlite3_reset(st->watch_stmt);
  atomic_store(&st->watch_value, v);
  atomic_store(&st->watch_at, v < 0 ? 0 : now);
  pthread_mutex_unlock(&st->watch_lock);
  return v;
}

/* The background check: the whole file, on a connection of its own. */
static void *check_main(void *arg) {
  struct sqlite_store *st = arg;
  char msg[256];
  if (integrity(st->check_db, "PRAGMA quick_check(1)", msg, sizeof msg) &&
      !atomic_load(&st->check_stop)) {
    pthread_mutex_lock(&st->watch_lock);
    snprintf(st->corrupt_why, sizeof st->corrupt_why,
             "the database is corrupt (%s)", msg);
    pthread_mutex_unlock(&st->watch_lock);
    atomic_store(&st->corrupt, 1);
    log_error("msg=\"the database is corrupt; writes are refused: restore it "
              "from a backup\" err=\"%s\"", log_q(msg));
  }
  return NULL;
}

static int check_start(void *cls) {
  struct sqlite_store *st = cls;
  if (sqlite3_open_v2(st->path, &st->check_db, SQLITE_OPEN_READONLY, NULL) !=
      SQLITE_OK) {
    sqlite3_close(st->check_db);
    st->check_db = NULL;
    return -1;
  }
  sqlite3_busy_timeout(st->check_db, BUSY_MS);
  if (pthread_create(&st->check_thread, NULL, check_main, st)) {
    sqlite3_close(st->check_db);
    st->check_db = NULL;
    return -1;
  }
  st->check_started = 1;
  return 0;
}

static int corrupt(void *cls, char *why, size_t len) {
  struct sqlite_store *st = cls;
  if (!atomic_load(&st->corrupt))
    return 0;
  pthread_mutex_lock(&st->watch_lock);
  snprintf(why, len, "%s", st->corrupt_why);
  pthread_mutex_unlock(&st->watch_lock);
  return 1;
}

static void close_impl(void *cls) {
  struct sqlite_store *st = cls;
  if (!st)
    return;
  if (st->check_started) {
    atomic_store(&st->check_stop, 1);
    sqlite3_interrupt(st->check_db);
    pthread_join(st->check_thread, NULL);
    st->check_started = 0;
  }
  if (st->check_db)
    sqlite3_close(st->check_db);
  st->check_db = NULL;
  for (size_t i = 0; i < sizeof st->stmts / sizeof st->stmts[0]; i++) {
    sqlite3_finalize(st->stmts[i]);
    st->stmts[i] = NULL;
  }
  sqlite3_finalize(st->rows_stmt);
  st->rows_stmt = NULL;
  free(st->rows_sql);
  st->rows_sql = NULL;
  sqlite3_finalize(st->watch_stmt);
  st->watch_stmt = NULL;
  if (st->watch)
    sqlite3_close(st->watch);
  st->watch = NULL;
  if (st->rdb)
    sqlite3_close(st->rdb);
  st->rdb = NULL;
  if (st->db)
    sqlite3_close(st->db);
  st->db = NULL;
  pthread_mutex_destroy(&st->watch_lock);
  pthread_mutex_destroy(&st->read_lock);
  free(st->path);
  free(st);
}

static const char *error(void *cls) {
  struct sqlite_store *st = cls;
  return sqlite3_errmsg(st->db);
}

/* ---- transactions ---- */

static int exec_plain(struct sqlite_store *st, const char *sql) {
  return sqlite3_exec(st->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static int begin(void *cls) { return exec_plain(cls, "BEGIN IMMEDIATE"); }
static int commit(void *cls) { return exec_plain(cls, "COMMIT"); }
static void rollback(void *cls) { exec_plain(cls, "ROLLBACK"); }

/* Run a cached statement that returns no rows. */
static int exec_stmt(struct sqlite_store *st, int idx, const char *sql) {
  sqlite3_stmt *s = sqlite_stmt(st, idx, sql, "");
  return s ? sqlite_step_done(s, NULL) : -1;
}

static int savepoint(void *cls) {
  return exec_stmt(cls, STMT_SAVEPOINT, "SAVEPOINT job");
}

static int savepoint_release(void *cls) {
  return exec_stmt(cls, STMT_RELEASE, "RELEASE job");
}

static int savepoint_rollback(void *cls) {
  return exec_stmt(cls, STMT_ROLLBACK_TO, "ROLLBACK TO job");
}

static int storage_error(void *cls, char *why, size_t len) {
  struct sqlite_store *st = cls;
  switch (sqlite3_errcode(st->db) & 0xff) {
  case SQLITE_FULL:
  case SQLITE_IOERR:
  case SQLITE_CORRUPT:
  case SQLITE_NOTADB:
  case SQLITE_READONLY:
  case SQLITE_CANTOPEN:
  case SQLITE_PROTOCOL:
    snprintf(why, len, "%s", sqlite3_errmsg(st->db));
    return 1;
  default:
    return 0;
  }
}

static int probe(void *cls, char *why, size_t len) {
  struct sqlite_store *st = cls;
  if (sqlite3_exec(st->db,
                   "BEGIN IMMEDIATE; INSERT OR REPLACE INTO meta (key, "
                   "value) VALUES ('write_probe', "
                   "CAST(unixepoch() AS TEXT) || hex(randomblob(512))); "
                   "COMMIT",
                   NULL, NULL, NULL) == SQLITE_OK)
    return 0;
  snprintf(why, len, "%s", sqlite3_errmsg(st->db));
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

static const struct store_ops sqlite_ops = {
    .name = "sqlite",
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
    .battle_create = sqlite_battle_create,
    .turn_add = sqlite_turn_add,
    .turn_replace = sqlite_turn_replace,
    .turn_finish = sqlite_turn_finish,
    .vote = sqlite_vote,
    .ratings_load = sqlite_ratings_load,
    .slices_load = sqlite_slices_load,
    .dedup_stats = sqlite_dedup_stats,
    .style_votes = sqlite_style_votes,
    .timed_votes = sqlite_timed_votes,
    .slices_replay = sqlite_slices_replay,
    .battle_categories = sqlite_battle_categories,
    .battle_tags = sqlite_battle_tags,
    .ratings_replay = sqlite_ratings_replay,
    .ratings_replace = sqlite_ratings_replace,
    .meta_get = sqlite_meta_get,
    .meta_add = sqlite_meta_add,
    .battle_exists = sqlite_battle_exists,
    .import_battle = sqlite_import_battle,
    .export_votes = sqlite_export_votes,
    .export_judgments = sqlite_export_judgments,
    .snapshot_open = sqlite_snapshot_open,
    .snapshot_close = sqlite_snapshot_close,
    .judgment_save = sqlite_judgment_save,
    .battle_load = sqlite_battle_load,
    .battles_list = sqlite_battles_list,
    .case_load = sqlite_case_load,
    .judge_pending = sqlite_judge_pending,
    .tag_case_load = sqlite_tag_case_load,
    .tag_pending = sqlite_tag_pending,
    .untagged = sqlite_untagged,
    .recent_votes = sqlite_recent_votes,
    .judge_stats = sqlite_judge_stats,
    .judge_ratings = sqlite_judge_ratings,
    .shares_load = sqlite_shares_load,
    .share_put = sqlite_share_put,
    .share_delete = sqlite_share_delete,
    .session_votes = sqlite_session_votes,
    .bench_run_open = sqlite_bench_run_open,
    .bench_items = sqlite_bench_items,
    .bench_items_put = sqlite_bench_items_put,
    .bench_finish = sqlite_bench_finish,
    .bench_results = sqlite_bench_results,
    .rows_read = sqlite_rows_read,
    .rows_write = sqlite_rows_write,
    .node_register = sqlite_node_register,
    .node_heartbeat = sqlite_node_heartbeat,
    .nodes_reap = sqlite_nodes_reap,
    .node_fail_battles = sqlite_node_fail_battles,
    .node_leave = sqlite_node_leave,
    .nodes_list = sqlite_nodes_list,
    .changed_elsewhere = sqlite_changed_elsewhere,
    .share_find = sqlite_share_find,
};
