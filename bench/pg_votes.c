/* The baseline for the PostgreSQL votes benchmark: a raw libpq loop doing
 * the vote transaction of storage/postgres/votes.c, from C connections at
 * once, on Agon's own PostgreSQL schema, with synchronous_commit on.
 *
 *   pg_votes --db CONNINFO [--schema DIR] [-n 4000] [-c 32] [--models 20]
 *
 * When the database has no `battles` table, every DIR/NNNN_*.sql file is
 * applied first, in order. N ready battles between random pairs of the
 * models are inserted (not timed). Then, timed, the C connections share
 * the N votes, each vote one transaction, one round trip per statement
 * (prepared once per connection):
 *
 *   BEGIN (READ COMMITTED)
 *   SELECT the battle (models, status)
 *   INSERT the two rating rows ... ON CONFLICT DO NOTHING
 *   SELECT both rating rows ORDER BY model FOR UPDATE   (the fixed order)
 *   UPDATE each rating row with the Elo computed from the locked values
 *   INSERT ... ON CONFLICT DO UPDATE the pair's counts
 *   INSERT the vote (its seq is taken now, after the locks) RETURNING seq
 *   UPDATE battles SET status = 'voted' WHERE id = $1 AND status = 'ready'
 *   COMMIT
 *
 * Afterwards the Elo of every model replayed from the votes in seq order
 * (in C, the same formula) is compared with the stored ratings: the line
 * says the largest difference (0 when seq order is the order in which
 * each model's rating moved).
 *
 * Prints one line:
 *   "pg_votes n=N conns=C seconds=S votes_per_s=R p50_ms=X p99_ms=Y
 *    replay_max_diff=D" */
#include <dirent.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libpq-fe.h>

#define K_FACTOR 4.0
#define MAX_MODELS 256

static const char *conninfo;
static long n_votes = 4000;
static int n_conns = 32;
static int n_models = 20;
static long next_vote; /* under vote_lock */
static pthread_mutex_t vote_lock = PTHREAD_MUTEX_INITIALIZER;
static double *latency_ms;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(PGconn *c, const char *what) {
  fprintf(stderr, "pg_votes: %s: %s\n", what, c ? PQerrorMessage(c) : "");
  exit(1);
}

/* Run sql; exit on anything but the status wanted. Returns the result. */
static PGresult *run(PGconn *c, const char *sql, ExecStatusType want) {
  PGresult *r = PQexec(c, sql);
  if (PQresultStatus(r) != want)
    die(c, sql);
  return r;
}

static int by_name(const struct dirent **a, const struct dirent **b) {
  return strcmp((*a)->d_name, (*b)->d_name);
}

static void apply_schema(PGconn *c, const char *dir) {
  PGresult *r = run(c, "SELECT to_regclass('battles') IS NOT NULL",
                    PGRES_TUPLES_OK);
  int have = !strcmp(PQgetvalue(r, 0, 0), "t");
  PQclear(r);
  if (have)
    return;
  if (!dir) {
    fprintf(stderr, "pg_votes: the database has no schema: give --schema\n");
    exit(1);
  }
  struct dirent **names;
  int n = scandir(dir, &names, NULL, by_name);
  if (n < 0) {
    perror(dir);
    exit(1);
  }
  for (int i = 0; i < n; i++) {
    size_t len = strlen(names[i]->d_name);
    if (len > 4 && !strcmp(names[i]->d_name + len - 4, ".sql")) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
      FILE *f = fopen(path, "r");
      if (!f) {
        perror(path);
        exit(1);
      }
      fseek(f, 0, SEEK_END);
      long size = ftell(f);
      rewind(f);
      char *sql = malloc((size_t)size + 1);
      if (!sql || fread(sql, 1, (size_t)size, f) != (size_t)size)
        exit(1);
      sql[size] = 0;
      fclose(f);
      PQclear(run(c, sql, PGRES_COMMAND_OK));
      free(sql);
    }
    free(names[i]);
  }
  free(names);
}

static void insert_battles(PGconn *c) {
  char sql[1024];
  /* ids b<seq>; pairs drawn from a fixed generator so runs compare */
  snprintf(sql, sizeof sql,
           "INSERT INTO battles (id, created_at, model_a, model_b, session, "
           "status) SELECT 'b' || g, 0, 'model-' || lpad(a::text, 3, '0'), "
           "'model-' || lpad(((a + 1 + (g * 7919) %% (%d - 1)) %% %d)::text, "
           "3, '0'), 's' || g, 'ready' FROM generate_series(1, %ld) g, "
           "LATERAL (SELECT (g * 104729) %% %d AS a) x",
           n_models, n_models, n_votes, n_models);
  PQclear(run(c, "SET client_min_messages = warning", PGRES_COMMAND_OK));
  PQclear(run(c, "TRUNCATE votes, ratings, pair_counts, battles CASCADE",
              PGRES_COMMAND_OK));
  PQclear(run(c, sql, PGRES_COMMAND_OK));
}

static void prepare(PGconn *c, const char *name, const char *sql, int n) {
  PGresult *r = PQprepare(c, name, sql, n, NULL);
  if (PQresultStatus(r) != PGRES_COMMAND_OK)
    die(c, name);
  PQclear(r);
}

static void prepare_all(PGconn *c) {
  prepare(c, "battle",
          "SELECT model_a, model_b, status FROM battles WHERE id = $1", 1);
  prepare(c, "rows",
          "INSERT INTO ratings (model, elo) VALUES ($1, 1000), ($2, 1000) "
          "ON CONFLICT DO NOTHING",
          2);
  prepare(c, "lock",
          "SELECT model, elo FROM ratings WHERE model IN ($1, $2) "
          "ORDER BY model FOR UPDATE",
          2);
  prepare(c, "rate",
          "UPDATE ratings SET elo = $2, battles = battles + 1, "
          "wins = wins + $3, losses = losses + $4, ties = ties + $5 "
          "WHERE model = $1",
          5);
  prepare(c, "pair",
          "INSERT INTO pair_counts (model_a, model_b, wins_a, wins_b, ties) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (model_a, model_b) DO "
          "UPDATE SET wins_a = pair_counts.wins_a + $3, "
          "wins_b = pair_counts.wins_b + $4, ties = pair_counts.ties + $5",
          5);
  prepare(c, "vote",
          "INSERT INTO votes (battle_id, winner, created_at, counted, k) "
          "VALUES ($1, $2, 0, 1, 4) RETURNING seq",
          2);
  prepare(c, "mark",
          "UPDATE battles SET status = 'voted' WHERE id = $1 AND "
          "status = 'ready'",
          1);
}

static PGresult *exec_p(PGconn *c, const char *name, int n,
                        const char *const *v, ExecStatusType want) {
  PGresult *r = PQexecPrepared(c, name, n, v, NULL, NULL, 0);
  if (PQresultStatus(r) != want)
    die(c, name);
  return r;
}

/* FastChat's online Elo for a (1, 0 or 0.5 for side a) */
static void elo(double *ra, double *rb, double sa) {
  double ea = 1.0 / (1.0 + pow(10.0, (*rb - *ra) / 400.0));
  *ra += K_FACTOR * (sa - ea);
  *rb += K_FACTOR * ((1.0 - sa) - (1.0 - ea));
}

static const char *winner_of(long i) {
  static const char *w[] = {"a", "b", "tie"};
  return w[i % 3];
}

static void one_vote(PGconn *c, long i) {
  char id[32], num[4][32];
  snprintf(id, sizeof id, "b%ld", i + 1);
  const char *w = winner_of(i);
  PQclear(run(c, "BEGIN", PGRES_COMMAND_OK));
  const char *v1[] = {id};
  PGresult *b = exec_p(c, "battle", 1, v1, PGRES_TUPLES_OK);
  if (PQntuples(b) != 1 || strcmp(PQgetvalue(b, 0, 2), "ready"))
    die(c, "battle not ready");
  char ma[64], mb[64];
  snprintf(ma, sizeof ma, "%s", PQgetvalue(b, 0, 0));
  snprintf(mb, sizeof mb, "%s", PQgetvalue(b, 0, 1));
  PQclear(b);
  const char *v2[] = {ma, mb};
  PQclear(exec_p(c, "rows", 2, v2, PGRES_COMMAND_OK));
  PGresult *l = exec_p(c, "lock", 2, v2, PGRES_TUPLES_OK);
  double ra = 0, rb = 0;
  for (int r = 0; r < PQntuples(l); r++) {
    double e = strtod(PQgetvalue(l, r, 1), NULL);
    if (!strcmp(PQgetvalue(l, r, 0), ma))
      ra = e;
    else
      rb = e;
  }
  PQclear(l);
  double sa = w[0] == 'a' ? 1.0 : w[0] == 'b' ? 0.0 : 0.5;
  elo(&ra, &rb, sa);
  for (int side = 0; side < 2; side++) {
    int win = side == 0 ? w[0] == 'a' : w[0] == 'b';
    int loss = side == 0 ? w[0] == 'b' : w[0] == 'a';
    int tie = w[0] == 't';
    snprintf(num[0], sizeof num[0], "%.17g", side == 0 ? ra : rb);
    snprintf(num[1], sizeof num[1], "%d", win);
    snprintf(num[2], sizeof num[2], "%d", loss);
    snprintf(num[3], sizeof num[3], "%d", tie);
    const char *v[] = {side == 0 ? ma : mb, num[0], num[1], num[2], num[3]};
    PQclear(exec_p(c, "rate", 5, v, PGRES_COMMAND_OK));
  }
  int a_first = strcmp(ma, mb) < 0;
  int wa = w[0] == 'a', wb = w[0] == 'b';
  snprintf(num[0], sizeof num[0], "%d", a_first ? wa : wb);
  snprintf(num[1], sizeof num[1], "%d", a_first ? wb : wa);
  snprintf(num[2], sizeof num[2], "%d", w[0] == 't');
  const char *vp[] = {a_first ? ma : mb, a_first ? mb : ma, num[0], num[1],
                      num[2]};
  PQclear(exec_p(c, "pair", 5, vp, PGRES_COMMAND_OK));
  const char *vv[] = {id, w};
  PQclear(exec_p(c, "vote", 2, vv, PGRES_TUPLES_OK));
  PGresult *m = exec_p(c, "mark", 1, v1, PGRES_COMMAND_OK);
  if (strcmp(PQcmdTuples(m), "1"))
    die(c, "battle voted twice");
  PQclear(m);
  PQclear(run(c, "COMMIT", PGRES_COMMAND_OK));
}

static void *voter(void *arg) {
  (void)arg;
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK)
    die(c, "connect");
  prepare_all(c);
  for (;;) {
    pthread_mutex_lock(&vote_lock);
    long i = next_vote < n_votes ? next_vote++ : -1;
    pthread_mutex_unlock(&vote_lock);
    if (i < 0)
      break;
    double t0 = now_s();
    one_vote(c, i);
    latency_ms[i] = (now_s() - t0) * 1000.0;
  }
  PQfinish(c);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* The stored ratings against a replay of the votes in seq order. */
static double replay_diff(PGconn *c) {
  double elo_of[MAX_MODELS];
  for (int i = 0; i < MAX_MODELS; i++)
    elo_of[i] = 1000.0;
  PGresult *r = run(c,
                    "SELECT substr(b.model_a, 7)::int, substr(b.model_b, 7)"
                    "::int, v.winner FROM votes v JOIN battles b ON b.id = "
                    "v.battle_id ORDER BY v.seq",
                    PGRES_TUPLES_OK);
  for (int i = 0; i < PQntuples(r); i++) {
    int a = atoi(PQgetvalue(r, i, 0)), b = atoi(PQgetvalue(r, i, 1));
    const char *w = PQgetvalue(r, i, 2);
    elo(&elo_of[a], &elo_of[b], w[0] == 'a' ? 1.0 : w[0] == 'b' ? 0.0 : 0.5);
  }
  PQclear(r);
  r = run(c, "SELECT substr(model, 7)::int, elo FROM ratings",
          PGRES_TUPLES_OK);
  double worst = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    double d = fabs(elo_of[atoi(PQgetvalue(r, i, 0))] -
                    strtod(PQgetvalue(r, i, 1), NULL));
    if (d > worst)
      worst = d;
  }
  PQclear(r);
  return worst;
}

int main(int argc, char **argv) {
  const char *schema = NULL;
  static const struct option opts[] = {{"db", 1, NULL, 'd'},
                                       {"schema", 1, NULL, 's'},
                                       {"models", 1, NULL, 'm'},
                                       {NULL, 0, NULL, 0}};
  int o;
  while ((o = getopt_long(argc, argv, "n:c:", opts, NULL)) != -1) {
    switch (o) {
    case 'd': conninfo = optarg; break;
    case 's': schema = optarg; break;
    case 'm': n_models = atoi(optarg); break;
    case 'n': n_votes = atol(optarg); break;
    case 'c': n_conns = atoi(optarg); break;
    default:
      fprintf(stderr, "usage: pg_votes --db CONNINFO [--schema DIR] [-n N] "
                      "[-c C] [--models M]\n");
      return 2;
    }
  }
  if (!conninfo || n_votes < 1 || n_conns < 1 || n_conns > 1024 ||
      n_models < 2 || n_models > MAX_MODELS) {
    fprintf(stderr, "pg_votes: --db is required; 1 <= -c <= 1024; "
                    "2 <= --models <= %d\n", MAX_MODELS);
    return 2;
  }
  PGconn *c = PQconnectdb(conninfo);
  if (PQstatus(c) != CONNECTION_OK)
    die(c, "connect");
  apply_schema(c, schema);
  insert_battles(c);
  latency_ms = calloc((size_t)n_votes, sizeof *latency_ms);
  pthread_t *t = calloc((size_t)n_conns, sizeof *t);
  if (!latency_ms || !t)
    return 1;
  double t0 = now_s();
  for (int i = 0; i < n_conns; i++)
    pthread_create(&t[i], NULL, voter, NULL);
  for (int i = 0; i < n_conns; i++)
    pthread_join(t[i], NULL);
  double secs = now_s() - t0;
  qsort(latency_ms, (size_t)n_votes, sizeof *latency_ms, cmp_double);
  printf("pg_votes n=%ld conns=%d seconds=%.3f votes_per_s=%.0f p50_ms=%.2f "
         "p99_ms=%.2f replay_max_diff=%.3g\n",
         n_votes, n_conns, secs, (double)n_votes / secs,
         latency_ms[n_votes / 2], latency_ms[n_votes * 99 / 100],
         replay_diff(c));
  PQfinish(c);
  free(latency_ms);
  free(t);
  return 0;
}
