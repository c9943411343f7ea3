/* What the files of the PostgreSQL engine share; private to
 * storage/postgres/. */
#ifndef AGON_STORAGE_POSTGRES_INTERNAL_H
#define AGON_STORAGE_POSTGRES_INTERNAL_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

#include "storage/ops.h"

/* The statements of the hot paths, prepared once per write connection
 * (pg_prepared) under the names "agon_<number>". Files of the engine add
 * theirs here; the numbers are private to the engine. */
enum pg_stmt_id {
  PG_VOTE_BATTLE,
  PG_VOTE_LOCK_RATINGS,
  PG_VOTE_LOCK_RATING,
  PG_VOTE_READ_RATINGS,
  PG_VOTE_WRITE,
  PG_BATTLE_INSERT,
  PG_TURN_INSERT,
  PG_BATTLE_RESUME,
  PG_TURN_FINISH,
  PG_BATTLE_FINISH,
  PG_BATTLE_TAGS,
  PG_SAVEPOINT,
  PG_RELEASE,
  PG_ROLLBACK_TO,
  PG_BATTLE_EXISTS,
  PG_DEDUP_PROMPTS,
  PG_DEDUP_COUNT,
  PG_DEDUP_PROMPTS_N,
  PG_DEDUP_TOP,
  PG_DEDUP_LEFT_OUT,
  PG_SLICE_PAIRS_ADD,
  PG_RATING_INSERT,
  PG_PAIR_INSERT,
  PG_STMT_CORE_END, /* pgrest's statements follow */
  PG_IMPORT_BATTLE = PG_STMT_CORE_END,
  PG_IMPORT_VOTE,
  PG_IMPORT_CATEGORY,
  PG_IMPORT_REPLACED,
  PG_IMPORT_REPLACEMENTS,
  PG_TAGS_SLICES,
  PG_TAGS_FILL,
  PG_TAGS_VOTE,
  PG_IMPORT_SLICES,
  PG_IMPORT_SLICES_ADD,
  PG_BENCH_ITEM_INSERT, /* bench.c */
  PG_STMT_COUNT = 96
};

/* The error message kept for a connection: PostgreSQL's primary message
 * (and its SQLSTATE), or libpq's. */
#define PG_ERROR_MAX 512

/* The engine's closure (struct store's impl). */
struct pg_store {
  struct slice_table *import_slices; /* an import's slice outcomes, added
                                        at its commit (interchange.c) */
  char *conninfo;          /* as given; never logged (it may hold a
                              password) */
  int schema;              /* the schema version, as migrated at open */
  int lock_wait;           /* pg_lock_wait's: -1 unknown, 0, 1 brief */
  PGconn *db;              /* writes, and reads on the write connection:
                              used under struct store's lock */
  char err[PG_ERROR_MAX];  /* the last error on db, "" after a success */
  char sqlstate[6];        /* its SQLSTATE, "" when libpq's own */
  unsigned char prepared[PG_STMT_COUNT]; /* on db, since its last (re)connect */
  PGconn *rdb;             /* reads that HTTP workers and judges wait for:
                              a connection of their own, never waiting for
                              a write's commit under the write lock */
  pthread_mutex_t read_lock;
  char rerr[PG_ERROR_MAX]; /* the last error on rdb (under read_lock) */
  PGconn *watch;           /* a third connection, for version only */
  pthread_mutex_t watch_lock;
  atomic_llong watch_at;   /* monotonic ms of the last look */
  atomic_long watch_value; /* what it saw */
};

/* ---- statements (stmt.c) ----
 *
 * A parameter format names the parameters $1, $2, ... of a statement, one
 * letter each, and the argument that follows for it: 't' const char *
 * (NULL is SQL NULL; borrowed for the call), 'i' int, 'l' long, 'I'
 * int64_t, 'd' double (sent with 17 significant digits: the same double
 * arrives), 'b' int as a boolean (0: false), 'n' no argument: NULL. Every
 * parameter is sent as text, typed by the statement (a cast where the SQL
 * cannot infer it). At most PG_MAX_PARAMS. Results come back as text. */
#define PG_MAX_PARAMS 32

/* Run sql with its parameters on the write connection (caller holds the
 * write lock). Returns the result (the caller PQclear()s it) when the
 * command succeeded (rows or none), else NULL with the error kept for the
 * `error` op and pg_storage_error (and logged when op is not NULL, naming
 * it). A connection found broken is re-established first, outside a
 * transaction. */
PGresult *pg_exec(struct pg_store *ps, const char *op, const char *sql,
                  const char *fmt, ...);

/* Re-establish the write connection when libpq found it broken (a
 * restarted server, a failover to another host of a multi-host
 * conninfo), between transactions only; pg_exec and pg_prepared do it
 * themselves. */
void pg_write_conn_check(struct pg_store *ps);

/* pg_exec for the hot paths: statement idx, prepared on the write
 * connection on first use (and after a reconnect). */
PGresult *pg_prepared(struct pg_store *ps, int idx, const char *op,
                      const char *sql, const char *fmt, ...);

/* pg_exec or pg_prepared, then PQclear: the rows the command changed
 * (PQcmdTuples), or -1 on error. */
long pg_run(struct pg_store *ps, const char *op, const char *sql,
            const char *fmt, ...);
long pg_run_prepared(struct pg_store *ps, int idx, const char *op,
                     const char *sql, const char *fmt, ...);

/* Run sql on the read connection under ps->read_lock, which is given back
 * before it returns: the rows are the caller's (PQclear). NULL on error
 * (logged, naming op). Any thread. */
PGresult *pg_read(struct pg_store *ps, const char *op, const char *sql,
                  const char *fmt, ...);

/* The rows a chunked read fetches at a time. */
#define PG_READ_CHUNK 4096

/* One row of a chunked read: 0 to go on, else the read stops (fails). */
typedef int (*pg_chunk_row_fn)(void *ctx, const PGresult *r, int row);

/* Read every row of sql on the read connection in chunks of PG_READ_CHUNK
 * rows, each chunk under read_lock alone, so that the lock is never held
 * for long while a whole history is read. sql's first column is an
 * increasing BIGINT key (a vote's seq); $1 is the key a chunk starts
 * after, $2 the chunk's size (its LIMIT), and $3, $4, ... come from fmt
 * for every chunk. row is called for each row, in key order. 0 once every
 * row was read, -1 on a database error (logged) or when row stopped it. */
int pg_read_chunks(struct pg_store *ps, const char *op, const char *sql,
                   pg_chunk_row_fn row, void *ctx, const char *fmt, ...);

/* Row readers of a result (row, col as libpq's). pg_col_text: the text,
 * borrowed from r, NULL for NULL; pg_col_dup: a copy the caller frees
 * (NULL for NULL or out of memory); pg_col_int, pg_col_long,
 * pg_col_int64, pg_col_double: the number (0 for NULL; a boolean is 1 or
 * 0); pg_col_null: whether it is NULL. */
const char *pg_col_text(const PGresult *r, int row, int col);
char *pg_col_dup(const PGresult *r, int row, int col);
int pg_col_int(const PGresult *r, int row, int col);
long pg_col_long(const PGresult *r, int row, int col);
int64_t pg_col_int64(const PGresult *r, int row, int col);
double pg_col_double(const PGresult *r, int row, int col);
int pg_col_null(const PGresult *r, int row, int col);

/* Read columns 0, 1, ... of row into the pointers that follow fmt, one
 * letter a column ('t' into a const char *, borrowed as pg_col_text's; 'i'
 * int, 'l' long, 'I' int64_t, 'd' double), '-' for a column not read (no
 * pointer). Cannot fail. */
void pg_row(const PGresult *r, int row, const char *fmt, ...);

/* Keep the error of res (or, NULL, of the write connection) for the
 * `error` op: PostgreSQL's message and SQLSTATE. */
void pg_keep_error(struct pg_store *ps, const PGresult *res);

/* The last error on the write connection ("" when the last command
 * succeeded). */
const char *pg_error(struct pg_store *ps);

/* How long a lock may be waited for in the jobs that follow on the write
 * connection: brief (PG_LOCK_WAIT_BRIEF) when the transaction holds rows
 * other transactions wait for (rating rows of an earlier vote of the
 * writer's group), else as long as it takes. A group commit takes the
 * rows of many votes, each vote's in a fixed order but not the whole
 * group's: two nodes' groups could wait for each other; the brief wait
 * ends that, the job fails as contended (pg_contended) and the writer
 * runs it again first in its next group, holding nothing. Set only when
 * it changes. 0 or -1. */
#define PG_LOCK_WAIT_BRIEF "50ms"
int pg_lock_wait(struct pg_store *ps, int brief);
/* The lock_timeout the session has: -1 unknown (after a rollback, which
 * undoes a SET), 0 forever, 1 brief; in struct pg_store's lock_wait. */

/* Quote a text array literal for a text[] parameter ('{"a","b"}') from
 * n strings into out (len bytes): 0, or -1 when it does not fit. */
int pg_text_array(const char *const *v, size_t n, char *out, size_t len);

/* ---- the ops of each file, gathered into one table in db.c ---- */

/* battles.c */
int pg_battle_create(void *cls, const char *id, int64_t created_at,
                     const char *model_a, const char *model_b,
                     const char *mode, const char *session,
                     const char *prompt);
int pg_turn_add(void *cls, const char *id, int turn, const char *prompt,
                int64_t started_at);
int pg_turn_finish(void *cls, const char *id, int turn,
                   const struct turn_answer ans[2], int64_t finished_at,
                   const char *status, const char *identity,
                   const struct battle_tags *tags);
int pg_battle_load(void *cls, const char *id, struct battle_record *out);
json_t *pg_battles_list(void *cls, const char *model, const char *status,
                        int64_t since, int64_t until, long limit,
                        long offset);

/* replaced.c */
int pg_turn_replace(void *cls, const char *id, const struct turn_replace *r);
/* The SQL of two columns for the battle whose id is the expression BID:
 * what regenerates and retries replaced, as the JSON array texts of
 * struct battle_record (the same keys and order as SQLite's), NULL when
 * nothing was. */
#define PG_REPLACED_COLUMNS(BID)                                              \
  "(SELECT json_agg(json_build_object('turn', turn, 'side', side, "          \
  "'attempt', attempt, 'kind', kind, 'model', model, 'answer', answer, "     \
  "'failed', error IS NOT NULL, 'reasoning', reasoning, 'at', replaced_at) " \
  "ORDER BY turn, replaced_at, side)::text FROM replaced_answers r WHERE "   \
  "r.battle_id = " BID "), (SELECT json_agg(json_build_object('side', "      \
  "side, 'turn', turn, 'old_model', old_model, 'new_model', new_model, "     \
  "'at', at) ORDER BY seq)::text FROM side_replacements p WHERE "            \
  "p.battle_id = " BID ")"

/* votes.c */
enum agon_ec pg_vote(void *cls, const struct vote_request *vr,
                     const struct live_ratings *live, struct vote_batch *vb,
                     struct vote_outcome *out);
int pg_ratings_load(void *cls, struct rating_table *t,
                    struct pair_table *pairs);
int pg_ratings_replay(void *cls, double k, struct rating_table *t,
                      struct pair_table *pairs, long *n_votes);

/* slices.c */
#define PG_MAX_BATTLE_CATEGORIES 64
#define PG_MAX_BATTLE_SLICES (2 * PG_MAX_BATTLE_CATEGORIES + 1)
/* The keys of the slices a battle's tags put it in, from its stored
 * language, heuristic tags (comma-separated) and the taggers' categories
 * (comma-separated, value 1): how many, at most max, into keys. */
int pg_slice_keys_of(const char *language, const char *tags,
                     const char *categories, char (*keys)[SLICE_KEY_MAX],
                     size_t max);
/* The SQL of one column for the battle whose id is the expression BID:
 * its taggers' categories with value 1, comma-separated (or NULL). */
#define PG_CATEGORIES_COLUMN(BID)                                             \
  "(SELECT string_agg(category, ',' ORDER BY category) FROM "               \
  "battle_categories c WHERE c.battle_id = " BID " AND c.value = 1)"
/* The text[] literal of keys[n] (for a $n::text[] parameter) as a new
 * string the caller frees; NULL when out of memory. */
char *pg_slice_keys_array(const char (*keys)[SLICE_KEY_MAX], size_t n);
/* Count one outcome of model_a against model_b in each slice of keys[n]:
 * 0 or -1. */
int pg_slice_pairs_add(struct pg_store *ps, const char (*keys)[SLICE_KEY_MAX],
                       size_t n, const char *model_a, const char *model_b,
                       enum winner w);
/* A counted vote's outcome into every slice of battle id's stored tags,
 * stored and staged in vb (NULL: stored only, as an import does): 0 or
 * -1. */
int pg_vote_slices(struct pg_store *ps, const char *id, const char *model_a,
                   const char *model_b, enum winner w, struct vote_batch *vb);
int pg_slices_load(void *cls, struct slice_table *t);
int pg_slices_replay(void *cls, struct slice_table *t, long *n_votes);
int pg_battle_categories(void *cls, const char *id,
                         const struct category_verdict *v, size_t n,
                         const char *tagger, int64_t at,
                         struct vote_batch *vb);

/* dedup.c */
/* Count battle id's prompt for a counted vote and decide, in the vote's
 * transaction: 1 when the vote is left out of the BT boards, 0 when kept,
 * -1 on error; *cutoff gets the cutoff (storage/sqlite/dedup.c's rule).
 * hash: the battle's stored prompt_hash, or NULL to compute it from its
 * turns. */
int pg_dedup_vote(struct pg_store *ps, const char *id, const char *hash,
                  long floor_n, double *cutoff);
int pg_dedup_stats(void *cls, long *prompts, long *left_out);

/* migrate.c */
int pg_rows_read(void *cls, const struct store_table *tables, size_t n,
                 store_row_fn fn, void *ctx, char *err, size_t errlen);
int pg_rows_write(void *cls, const struct store_table *t,
                  const struct store_row *rows, size_t n, char *err,
                  size_t errlen);

/* meta.c */
int pg_meta_get(void *cls, const char *key, char *out, size_t len);
int pg_meta_add(void *cls, const char *key, const char *value);
int pg_battle_exists(void *cls, const char *id);
int pg_ratings_replace(void *cls, const struct rating_table *t,
                       const struct pair_table *pairs);

/* judgments.c */
int pg_case_load(void *cls, const char *id, struct case_data *out);
int pg_judge_pending(void *cls, const char *judge, long limit, char ***ids,
                     size_t *n);
int pg_recent_votes(void *cls, size_t want, char (*ids)[40], char *winners,
                    size_t *found);
int pg_judgment_save(void *cls, const struct judgment *j);
json_t *pg_judge_stats(void *cls, const char *judge);
int pg_judge_ratings(void *cls, const char *judge, double k,
                     struct rating_table *elo, struct pair_table *pairs);

/* tagging.c */
/* The first column of every row of r into a new array *ids of *n
 * strings (free each and the array). 0 or -1 (nothing allocated then). */
int pg_collect_ids(const PGresult *r, char ***ids, size_t *n);
int pg_tag_case_load(void *cls, const char *id, struct tag_case *out);
int pg_tag_pending(void *cls, const char *const *categories, size_t n,
                   long limit, char ***ids, size_t *n_ids);
int pg_untagged(void *cls, long limit, char ***ids, size_t *n_ids);
int pg_battle_tags(void *cls, const char *id, const struct battle_tags *tags,
                   struct vote_batch *vb);

/* style.c, history.c */
int pg_style_votes(void *cls, const char *language, const char *category,
                   store_style_fn fn, void *ctx, long *skipped);
int pg_timed_votes(void *cls, store_timed_fn fn, void *ctx);

/* shares.c */
int pg_shares_load(void *cls, long max, store_share_fn fn, void *ctx);
int pg_share_put(void *cls, const char *token, const char *battle_id,
                 int64_t at, char out[STORE_SHARE_TOKEN]);
int pg_share_delete(void *cls, const char *battle_id);
int pg_session_votes(void *cls, const char *session, long max,
                     store_session_vote_fn fn, void *ctx);

/* bench.c */
int pg_bench_run_open(void *cls, const struct store_bench_key *k, long items,
                      int64_t at, int64_t *run_id);
int pg_bench_items(void *cls, int64_t run_id, store_bench_item_fn fn,
                   void *ctx);
int pg_bench_items_put(void *cls, int64_t run_id,
                       const struct store_bench_item *items, size_t n,
                       int64_t at);
int pg_bench_finish(void *cls, int64_t run_id,
                    const struct store_bench_score *sc, size_t n,
                    int64_t at);
int pg_bench_results(void *cls, store_bench_result_fn fn, void *ctx);

/* interchange.c */
/* An imported vote's outcome waits in ps->import_slices (see
 * interchange.c) for its transaction's end: pg_import_flush adds what
 * waits to slice_pairs, in the transaction, before it commits (0 or -1:
 * the commit must not happen then); pg_import_discard forgets it, with a
 * rollback. */
int pg_import_flush(struct pg_store *ps);
void pg_import_discard(struct pg_store *ps);
int pg_import_battle(void *cls, const struct store_import_row *r);
int pg_export_votes(void *cls, int with_turns, store_export_vote_fn fn,
                    void *ctx);
int pg_export_judgments(void *cls, store_export_judgment_fn fn, void *ctx);
/* nodes.c */
int pg_node_register(void *cls, const struct store_node *me, long lease_ms,
                     int force, struct store_node *holder);
int pg_node_heartbeat(void *cls, const char *name, const char *instance,
                      const char *url, long lease_ms, int64_t *lapsed_ms);
long pg_nodes_reap(void *cls);
long pg_node_fail_battles(void *cls, const char *name);
int pg_node_leave(void *cls, const char *name, const char *instance);
int pg_nodes_list(void *cls, struct store_node **out, size_t *n);
int pg_changed_elsewhere(void *cls, long live_battles);
int pg_share_find(void *cls, const char *token, char id[40]);

#endif
