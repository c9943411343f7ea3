/* The baseline for the votes benchmark: a raw SQLite loop doing a vote's
 * transaction, one after the other, on Agon's own schema with Agon's
 * durability settings (WAL, synchronous = FULL, foreign keys on).
 *
 *   sqlite_votes --db FILE --schema DIR [-n 2000] [--models 20]
 *                [--mode minimal|full] [--sync full|normal] [--group G]
 *
 * FILE is created afresh (with its -wal and -shm); DIR holds schema/NNNN_*.sql,
 * applied in order. N ready battles are inserted first (not timed). Then,
 * timed, N transactions, each on its own battle:
 *
 *   minimal: BEGIN IMMEDIATE; INSERT INTO votes; UPDATE ratings (model a);
 *            UPDATE ratings (model b); COMMIT
 *   full:    what storage/sqlite/votes.c does: BEGIN IMMEDIATE; SELECT the battle;
 *            INSERT INTO votes; UPDATE battles SET status; upsert both
 *            ratings rows; upsert pair_counts; COMMIT
 *
 * --sync full (the default, Agon's setting): every COMMIT waits for the WAL's
 * fsync. --sync normal (PRAGMA synchronous = NORMAL): a COMMIT returns
 * without it (WAL syncs only at checkpoints), so a power loss may take the
 * last votes back: the loop that acknowledges before the disk has them.
 *
 * --group G (default 1): G votes per transaction, each in its own
 * SAVEPOINT, as a writer that group-commits them does (Agon's writer
 * thread): the ceiling of the database work alone. The latency of a vote is
 * then from its start to its group's COMMIT.
 *
 * Statements are prepared once. Prints one line:
 *   "sqlite_votes mode=M sync=Y group=G n=N seconds=S votes_per_s=R p50_ms=X
 *    p99_ms=Y" */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(sqlite3 *db, const char *what) {
  fprintf(stderr, "sqlite_votes: %s: %s\n", what, db ? sqlite3_errmsg(db) : "");
  exit(1);
}

static void exec(sqlite3 *db, const char *sql) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    fprintf(stderr, "sqlite_votes: %s\n  in: %.200s\n", msg, sql);
    exit(1);
  }
}

static sqlite3_stmt *prep(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    die(db, sql);
  return s;
}

static void step_done(sqlite3 *db, sqlite3_stmt *s) {
  if (sqlite3_step(s) != SQLITE_DONE)
    die(db, "step");
  sqlite3_reset(s);
}

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void apply_schema(sqlite3 *db, const char *dir) {
  DIR *d = opendir(dir);
  if (!d) {
    perror(dir);
    exit(1);
  }
  char *names[256];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < 256) {
    size_t l = strlen(e->d_name);
    if (l > 4 && !strcmp(e->d_name + l - 4, ".sql") && e->d_name[0] >= '0' &&
        e->d_name[0] <= '9')
      names[n++] = strdup(e->d_name);
  }
  closedir(d);
  qsort(names, (size_t)n, sizeof *names, cmp_name);
  for (int i = 0; i < n; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    FILE *f = fopen(path, "rb");
    if (!f) {
      perror(path);
      exit(1);
    }
    static char sql[1 << 20];
    size_t len = fread(sql, 1, sizeof sql - 1, f);
    fclose(f);
    sql[len] = '\0';
    exec(db, "BEGIN");
    exec(db, sql);
    char bump[64];
    snprintf(bump, sizeof bump, "PRAGMA user_version = %d", atoi(names[i]));
    exec(db, bump);
    exec(db, "COMMIT");
    free(names[i]);
  }
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static uint64_t rng = 88172645463325252ull;
static uint64_t next_rand(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, NULL, 'd'},
      {"schema", required_argument, NULL, 's'},
      {"models", required_argument, NULL, 'm'},
      {"mode", required_argument, NULL, 'M'},
      {"sync", required_argument, NULL, 'S'},
      {"group", required_argument, NULL, 'g'},
      {NULL, 0, NULL, 0}};
  const char *path = NULL, *schema = NULL, *mode = "minimal", *sync = "full";
  long n = 2000;
  int models = 20, c;
  long group = 1;
  while ((c = getopt_long(argc, argv, "d:s:n:m:M:S:g:", opts, NULL)) != -1) {
    switch (c) {
    case 'd': path = optarg; break;
    case 's': schema = optarg; break;
    case 'n': n = atol(optarg); break;
    case 'm': models = atoi(optarg); break;
    case 'M': mode = optarg; break;
    case 'S': sync = optarg; break;
    case 'g': group = atol(optarg); break;
    default: path = NULL; optind = argc; break;
    }
  }
  int full = !strcmp(mode, "full");
  int sync_full = !strcmp(sync, "full");
  if (!path || !schema || n < 1 || models < 2 || group < 1 ||
      (!full && strcmp(mode, "minimal")) ||
      (!sync_full && strcmp(sync, "normal"))) {
    fprintf(stderr, "usage: sqlite_votes --db FILE --schema DIR [-n N] "
                    "[--models M] [--mode minimal|full] "
                    "[--sync full|normal] [--group G]\n");
    return 2;
  }
  char side[4200];
  unlink(path);
  snprintf(side, sizeof side, "%s-wal", path);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", path);
  unlink(side);

  sqlite3 *db;
  /* the same open flags and settings as storage/sqlite/db.c */
  if (sqlite3_open_v2(path, &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                          SQLITE_OPEN_FULLMUTEX,
                      NULL) != SQLITE_OK)
    die(db, "open");
  sqlite3_busy_timeout(db, 5000);
  exec(db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; "
           "PRAGMA foreign_keys = ON;");
  apply_schema(db, schema);
  /* only the timed loop runs with the chosen setting */
  if (!sync_full)
    exec(db, "PRAGMA synchronous = NORMAL");

  /* setup: models, their ratings rows, n ready battles */
  char (*name)[32] = calloc((size_t)models, sizeof *name);
  for (int i = 0; i < models; i++)
    snprintf(name[i], sizeof name[i], "model-%02d", i);
  char (*id)[33] = calloc((size_t)n, sizeof *id);
  int (*pair)[2] = calloc((size_t)n, sizeof *pair);
  exec(db, "BEGIN");
  sqlite3_stmt *ir = prep(db, "INSERT INTO ratings (model, elo) VALUES (?, 1000)");
  for (int i = 0; i < models; i++) {
    sqlite3_bind_text(ir, 1, name[i], -1, SQLITE_STATIC);
    step_done(db, ir);
  }
  sqlite3_finalize(ir);
  sqlite3_stmt *ib = prep(
      db, "INSERT INTO battles (id, created_at, model_a, model_b, session, "
          "status) VALUES (?, ?, ?, ?, ?, 'ready')");
  for (long i = 0; i < n; i++) {
    snprintf(id[i], sizeof id[i], "%016llx%016llx",
             (unsigned long long)next_rand(), (unsigned long long)next_rand());
    int a = (int)(next_rand() % (uint64_t)models);
    int b = (int)((uint64_t)a + 1 + next_rand() % (uint64_t)(models - 1)) % models;
    pair[i][0] = a;
    pair[i][1] = b;
    sqlite3_bind_text(ib, 1, id[i], -1, SQLITE_STATIC);
    sqlite3_bind_int64(ib, 2, 1700000000000 + i);
    sqlite3_bind_text(ib, 3, name[a], -1, SQLITE_STATIC);
    sqlite3_bind_text(ib, 4, name[b], -1, SQLITE_STATIC);
    sqlite3_bind_text(ib, 5, "0123456789abcdef0123456789abcdef", -1,
                      SQLITE_STATIC);
    step_done(db, ib);
  }
  sqlite3_finalize(ib);
  exec(db, "COMMIT");
  exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");

  sqlite3_stmt *sel = prep(db, "SELECT model_a, model_b, session, status FROM "
                               "battles WHERE id = ?");
  sqlite3_stmt *ins = prep(db, "INSERT INTO votes (battle_id, winner, "
                               "created_at, counted, reason, k, client) "
                               "VALUES (?, ?, ?, 1, NULL, 4, ?)");
  sqlite3_stmt *upd_b =
      prep(db, "UPDATE battles SET status = 'voted' WHERE id = ?");
  sqlite3_stmt *upd_r = prep(
      db, full ? "INSERT INTO ratings (model, elo, battles, wins, losses, ties) "
                 "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (model) DO UPDATE SET "
                 "elo = excluded.elo, battles = excluded.battles, wins = "
                 "excluded.wins, losses = excluded.losses, ties = excluded.ties"
               : "UPDATE ratings SET elo = ?2, battles = ?3, wins = ?4, "
                 "losses = ?5, ties = ?6 WHERE model = ?1");
  sqlite3_stmt *upd_p =
      prep(db, "INSERT INTO pair_counts (model_a, model_b, wins_a) VALUES (?, "
               "?, 1) ON CONFLICT (model_a, model_b) DO UPDATE SET wins_a = "
               "wins_a + 1");
  double *elo = calloc((size_t)models, sizeof *elo);
  long *games = calloc((size_t)models, sizeof *games);
  for (int i = 0; i < models; i++)
    elo[i] = 1000;
  double *lat = calloc((size_t)n, sizeof *lat);
  sqlite3_stmt *sp = prep(db, "SAVEPOINT vote");
  sqlite3_stmt *rel = prep(db, "RELEASE vote");

  double t0 = now_s();
  for (long i = 0; i < n; i++) {
    lat[i] = now_s(); /* its start, until its group commits */
    int a = pair[i][0], b = pair[i][1];
    if (i % group == 0)
      exec(db, "BEGIN IMMEDIATE");
    if (group > 1)
      sqlite3_step(sp), sqlite3_reset(sp);
    if (full) {
      sqlite3_bind_text(sel, 1, id[i], -1, SQLITE_STATIC);
      if (sqlite3_step(sel) != SQLITE_ROW)
        die(db, "select battle");
      sqlite3_reset(sel);
    }
    sqlite3_bind_text(ins, 1, id[i], -1, SQLITE_STATIC);
    sqlite3_bind_text(ins, 2, "a", -1, SQLITE_STATIC);
    sqlite3_bind_int64(ins, 3, 1700000000000 + i);
    sqlite3_bind_text(ins, 4, "0123456789abcdef0123456789abcdef", -1,
                      SQLITE_STATIC);
    step_done(db, ins);
    if (full) {
      sqlite3_bind_text(upd_b, 1, id[i], -1, SQLITE_STATIC);
      step_done(db, upd_b);
    }
    /* the Elo update itself, K = 4 */
    double ea = 1.0 / (1.0 + pow(10.0, (elo[b] - elo[a]) / 400.0));
    elo[a] += 4 * (1 - ea);
    elo[b] -= 4 * (1 - ea);
    games[a]++;
    games[b]++;
    int who[2] = {a, b};
    for (int k = 0; k < 2; k++) {
      int m = who[k];
      sqlite3_bind_text(upd_r, 1, name[m], -1, SQLITE_STATIC);
      sqlite3_bind_double(upd_r, 2, elo[m]);
      sqlite3_bind_int64(upd_r, 3, games[m]);
      sqlite3_bind_int64(upd_r, 4, 0);
      sqlite3_bind_int64(upd_r, 5, 0);
      sqlite3_bind_int64(upd_r, 6, 0);
      step_done(db, upd_r);
    }
    if (full) {
      int lo = strcmp(name[a], name[b]) < 0 ? a : b;
      sqlite3_bind_text(upd_p, 1, name[lo], -1, SQLITE_STATIC);
      sqlite3_bind_text(upd_p, 2, name[lo == a ? b : a], -1, SQLITE_STATIC);
      step_done(db, upd_p);
    }
    if (group > 1)
      sqlite3_step(rel), sqlite3_reset(rel);
    if ((i + 1) % group == 0 || i + 1 == n) {
      exec(db, "COMMIT");
      double tc = now_s();
      for (long k = i - i % group; k <= i; k++)
        lat[k] = tc - lat[k];
    }
  }
  double secs = now_s() - t0;
  qsort(lat, (size_t)n, sizeof *lat, cmp_double);
  printf("sqlite_votes mode=%s sync=%s group=%ld n=%ld seconds=%.3f "
         "votes_per_s=%.1f p50_ms=%.3f p99_ms=%.3f\n",
         mode, sync, group, n, secs, (double)n / secs, lat[n / 2] * 1e3,
         lat[(size_t)((double)n * 0.99)] * 1e3);
  sqlite3_finalize(sel);
  sqlite3_finalize(ins);
  sqlite3_finalize(upd_b);
  sqlite3_finalize(upd_r);
  sqlite3_finalize(upd_p);
  sqlite3_finalize(sp);
  sqlite3_finalize(rel);
  sqlite3_close(db);
  return 0;
}
