/* What the files of the SQLite engine share; private to storage/sqlite/. */
#ifndef AGON_STORAGE_SQLITE_INTERNAL_H
#define AGON_STORAGE_SQLITE_INTERNAL_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "storage/ops.h"

/* The numbers of the statements in sqlite_store.stmts. */
enum sqlite_stmt_id {
  STMT_VOTE_BATTLE,
  STMT_VOTE_TURNS,
  STMT_VOTE_LAST_TURN,
  STMT_VOTE_INSERT,
  STMT_VOTE_MARK,
  STMT_RATING_UPSERT,
  STMT_PAIR_WINS_A,
  STMT_PAIR_WINS_B,
  STMT_PAIR_TIES,
  STMT_BATTLE_INSERT,
  STMT_TURN_INSERT,
  STMT_BATTLE_RESUME,
  STMT_TURN_FINISH,
  STMT_BATTLE_FINISH,
  STMT_BATTLE_TAGS,
  STMT_SAVEPOINT,
  STMT_RELEASE,
  STMT_ROLLBACK_TO,
  STMT_IMPORT_EXISTS,
  STMT_IMPORT_BATTLE,
  STMT_IMPORT_VOTE,
  STMT_IMPORT_CATEGORY,
  STMT_DEDUP_HASH,
  STMT_DEDUP_PROMPTS,
  STMT_DEDUP_STATS,
  STMT_DEDUP_TOP,
  STMT_DEDUP_COUNT,
  STMT_DEDUP_PROMPT_NEW,
  STMT_DEDUP_LEFT_OUT,
  STMT_SLICE_TAGS,
  STMT_SLICE_WINS_A,
  STMT_SLICE_WINS_B,
  STMT_SLICE_TIES,
  STMT_TAGS_FILL,
  STMT_TAGS_VOTE,
  STMT_COUNT
};

/* The engine's closure (struct store's impl). */
struct sqlite_store {
  char *path;
  sqlite3 *db;             /* writes, and reads on the write connection:
                              used under struct store's lock */
  sqlite3 *rdb;            /* reads that HTTP workers wait for (battles,
                              judges): a connection of its own, so that in
                              WAL mode they never wait for a write's fsync
                              under the write lock */
  pthread_mutex_t read_lock;
  sqlite3 *watch;          /* a third connection, only to see commits of
                              other processes (version) */
  sqlite3_stmt *watch_stmt;
  pthread_mutex_t watch_lock;
  atomic_llong watch_at;   /* monotonic ms of the last look */
  atomic_long watch_value; /* what it saw */
  sqlite3 *check_db;       /* the background integrity check's */
  pthread_t check_thread;
  int check_started;
  atomic_int check_stop;
  atomic_int corrupt;      /* it found the file corrupt */
  char corrupt_why[300];   /* under watch_lock */
  long write_version;      /* PRAGMA data_version on db when last asked
                              (changed_elsewhere), -1 before */
  sqlite3_stmt *stmts[STMT_COUNT]; /* statements of the hot paths, prepared
                                      once (on db); see sqlite_stmt */
  sqlite3_stmt *rows_stmt; /* the last insert of sqlite_rows_write (on db) */
  char *rows_sql;          /* and its SQL */
};

/* ---- statements (stmt.c) ----
 *
 * A bind format names the parameters 1, 2, ... of a statement, one letter
 * each, and the argument that follows for it: 't' const char * (NULL binds
 * NULL; borrowed, SQLITE_STATIC: it must stay valid until the statement
 * is stepped for the last time with it), 'i' int, 'l' long, 'I' int64_t,
 * 'd' double. "" binds nothing; parameters it leaves out are NULL. */

/* Bind parameters 1, 2, ... of s from fmt and what follows it (earlier
 * bindings of the others stay). 0, or -1 when a bind failed. */
int sqlite_bind(sqlite3_stmt *s, const char *fmt, ...);

/* A new statement for sql on db, bound from fmt; the caller finalizes
 * it. NULL on error (the message on db). */
sqlite3_stmt *sqlite_stmt_new(sqlite3 *db, const char *sql, const char *fmt,
                              ...);

/* Finalize done (not NULL) and return a new statement for sql on done's
 * connection, bound from fmt, as sqlite_stmt_new: the next statement of a
 * function that runs several in turn. */
sqlite3_stmt *sqlite_stmt_next(sqlite3_stmt *done, const char *sql,
                               const char *fmt, ...);

/* The cached statement number idx for sql on the write connection,
 * prepared on first use, else reset with its bindings cleared, then bound
 * from fmt; NULL on error. Caller holds the write lock and must not
 * finalize it. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *ss, int idx, const char *sql,
                          const char *fmt, ...);

/* Take ss->read_lock and return a new statement for sql on the read
 * connection, bound from fmt; NULL on error, the lock taken all the same.
 * Each call is paired with one sqlite_read_end, which gives back the
 * lock; further statements on the connection before it are the
 * caller's (sqlite_stmt_next). */
sqlite3_stmt *sqlite_read_begin(struct sqlite_store *ss, const char *sql,
                                const char *fmt, ...);
/* Finalize s (NULL is fine) and release ss->read_lock. */
void sqlite_read_end(struct sqlite_store *ss, sqlite3_stmt *s);

/* The rows a chunked read hands on, SQLITE_READ_CHUNK at a time. */
#define SQLITE_READ_CHUNK 4096

/* One row of a chunked read: 0 to go on, else the read stops (fails). */
typedef int (*sqlite_chunk_row_fn)(void *ctx, sqlite3_stmt *s);

/* Read every row of sql on the read connection in chunks of
 * SQLITE_READ_CHUNK rows, each chunk under ss->read_lock alone, so that
 * the lock is never held for long while a whole history is read. sql's
 * first column is an increasing key (a vote's seq); ?1 is the key a chunk
 * starts after, ?2 the chunk's size (its LIMIT), and ?3, ?4, ... are
 * bound from fmt (as sqlite_stmt_new's) for every chunk. row is called
 * for each row, in key order. Returns 0 once every row was read, -1 on a
 * database error or when row stopped it (the error, if any, on
 * ss->rdb). */
int sqlite_read_chunks(struct sqlite_store *ss, const char *sql,
                       sqlite_chunk_row_fn row, void *ctx, const char *fmt,
                       ...);

/* Step s, a statement that returns no rows, then reset it (its bindings
 * stay): 0 when it ran to completion, else -1 with the error left on its
 * connection (sqlite3_errmsg, sqlite3_errcode). When op is not NULL, a
 * failure is logged as the failed write op. */
int sqlite_step_done(sqlite3_stmt *s, const char *op);

/* Read columns 0, 1, ... of s's current row into the pointers that follow
 * fmt, one letter a column as in a bind format ('t' into a const char *,
 * borrowed as sqlite_text's; 'i' int, 'l' long, 'I' int64_t, 'd'
 * double), '-' for a column not read (no pointer). Cannot fail: a value
 * that cannot be had reads as SQLite's column functions give it. */
void sqlite_row(sqlite3_stmt *s, const char *fmt, ...);

/* Column col of s's current row as text, borrowed until s is stepped,
 * reset or finalized; NULL for NULL. */
const char *sqlite_text(sqlite3_stmt *s, int col);
/* The same as a new string the caller frees; NULL for NULL or when out of
 * memory. */
char *sqlite_text_dup(sqlite3_stmt *s, int col);

/* The ops of each file of the engine, gathered into one table in db.c. */

/* battles.c */
int sqlite_battle_create(void *cls, const char *id, int64_t created_at,
                         const char *model_a, const char *model_b,
                         const char *mode, const char *session,
                         const char *prompt);
int sqlite_turn_add(void *cls, const char *id, int turn, const char *prompt,
                    int64_t started_at);
int sqlite_turn_replace(void *cls, const char *id,
                        const struct turn_replace *r);

/* The SQL of two columns for the battle whose id is the expression BID:
 * what regenerates and retries replaced, as the JSON array texts of
 * struct battle_record, NULL when nothing was (replaced.c, schema/0012). */
#define SQLITE_REPLACED_COLUMNS(BID)                                          \
  "(SELECT json_group_array(json_object('turn', turn, 'side', side, "        \
  "'attempt', attempt, 'kind', kind, 'model', model, 'answer', answer, "     \
  "'failed', json(iif(error IS NULL, 'false', 'true')), 'reasoning', "       \
  "reasoning, 'at', replaced_at)) FROM (SELECT * FROM replaced_answers r "   \
  "WHERE r.battle_id = " BID " ORDER BY turn, replaced_at, side) HAVING "    \
  "count(*) > 0), (SELECT json_group_array(json_object('side', side, "       \
  "'turn', turn, 'old_model', old_model, 'new_model', new_model, 'at', at)) " \
  "FROM (SELECT * FROM side_replacements p WHERE p.battle_id = " BID        \
  " ORDER BY seq) HAVING count(*) > 0)"

/* The replaced answers and replacements an imported battle's record
 * carries (fastchat/fields.h), stored for battle id: 0 or -1. */
int sqlite_import_replaced(struct sqlite_store *st, const char *id,
                           const char *record);

int sqlite_turn_finish(void *cls, const char *id, int turn,
                       const struct turn_answer ans[2], int64_t finished_at,
                       const char *status, const char *identity,
                       const struct battle_tags *tags);
int sqlite_battle_load(void *cls, const char *id, struct battle_record *out);
json_t *sqlite_battles_list(void *cls, const char *model, const char *status,
                            int64_t since, int64_t until, long limit,
                            long offset);

/* votes.c */
enum agon_ec sqlite_vote(void *cls, const struct vote_request *vr,
                         const struct live_ratings *live,
                         struct vote_batch *vb, struct vote_outcome *out);
int sqlite_ratings_load(void *cls, struct rating_table *t,
                        struct pair_table *pairs);
int sqlite_ratings_replay(void *cls, double k, struct rating_table *t,
                          struct pair_table *pairs, long *n_votes);
/* Replay the battle of s's current row (model_a, model_b and the winner's
 * name in columns 0 to 2) into elo with K k and into pairs: 0; 1 when
 * column 2 names no winner (nothing applied); -1 when out of memory. */
int sqlite_replay_row(sqlite3_stmt *s, double k, struct rating_table *elo,
                      struct pair_table *pairs);

/* judgments.c */
int sqlite_case_load(void *cls, const char *id, struct case_data *out);
int sqlite_judge_pending(void *cls, const char *judge, long limit,
                         char ***ids, size_t *n);
int sqlite_recent_votes(void *cls, size_t want, char (*ids)[40],
                        char *winners, size_t *found);
int sqlite_judgment_save(void *cls, const struct judgment *j);
json_t *sqlite_judge_stats(void *cls, const char *judge);
int sqlite_judge_ratings(void *cls, const char *judge, double k,
                         struct rating_table *elo, struct pair_table *pairs);

/* shares.c */
int sqlite_shares_load(void *cls, long max, store_share_fn fn, void *ctx);
int sqlite_share_put(void *cls, const char *token, const char *battle_id,
                     int64_t at, char out[STORE_SHARE_TOKEN]);
int sqlite_share_delete(void *cls, const char *battle_id);
int sqlite_session_votes(void *cls, const char *session, long max,
                         store_session_vote_fn fn, void *ctx);
/* bench.c */
int sqlite_bench_run_open(void *cls, const struct store_bench_key *k,
                          long items, int64_t at, int64_t *run_id);
int sqlite_bench_items(void *cls, int64_t run_id, store_bench_item_fn fn,
                       void *ctx);
int sqlite_bench_items_put(void *cls, int64_t run_id,
                           const struct store_bench_item *items, size_t n,
                           int64_t at);
int sqlite_bench_finish(void *cls, int64_t run_id,
                        const struct store_bench_score *s, size_t n,
                        int64_t at);
int sqlite_bench_results(void *cls, store_bench_result_fn fn, void *ctx);
/* interchange.c */
int sqlite_ratings_replace(void *cls, const struct rating_table *t,
                           const struct pair_table *pairs);
int sqlite_meta_get(void *cls, const char *key, char *out, size_t len);
int sqlite_meta_add(void *cls, const char *key, const char *value);
int sqlite_battle_exists(void *cls, const char *id);
int sqlite_import_battle(void *cls, const struct store_import_row *r);
int sqlite_export_votes(void *cls, int with_turns, store_export_vote_fn fn,
                        void *ctx);
void *sqlite_snapshot_open(void *cls);
void sqlite_snapshot_close(void *snap);
int sqlite_export_judgments(void *cls, store_export_judgment_fn fn,
                            void *ctx);

/* slices.c */
/* Categories of one battle (its heuristic ones and the taggers'), and the
 * slices it can be in: its language, each category, each category within
 * its language. */
#define MAX_BATTLE_CATEGORIES 64
#define MAX_BATTLE_SLICES (2 * MAX_BATTLE_CATEGORIES + 1)
/* The keys of the slices battle id's stored tags put it in, at most max
 * into keys: how many, or -1 on a database error. */
int sqlite_battle_slice_keys(struct sqlite_store *st, const char *id,
                             char (*keys)[SLICE_KEY_MAX], size_t max);
/* Count one outcome in the slice_pairs of key: 0 or -1. */
int sqlite_slice_pair_add(struct sqlite_store *st, const char *key,
                          const char *x, const char *y, enum winner w);
/* A counted vote's outcome into every slice of battle id, stored and
 * staged in vb (NULL: stored only, as an import does): 0 or -1. */
int sqlite_vote_slices(struct sqlite_store *st, const char *id,
                       const char *model_a, const char *model_b,
                       enum winner w, struct vote_batch *vb);
int sqlite_slices_load(void *cls, struct slice_table *t);
int sqlite_slices_replay(void *cls, struct slice_table *t, long *n_votes);
int sqlite_battle_categories(void *cls, const char *id,
                             const struct category_verdict *v, size_t n,
                             const char *tagger, int64_t at,
                             struct vote_batch *vb);

/* style.c */
int sqlite_timed_votes(void *cls, store_timed_fn fn, void *ctx);
int sqlite_style_votes(void *cls, const char *language, const char *category,
                       store_style_fn fn, void *ctx, long *skipped);

/* dedup.c */
/* Count battle id's prompt for a counted vote and decide: 1 when the
 * vote is left out of the BT boards (more than floor(cutoff) and more than
 * floor_n votes on its prompt), 0 when it is kept, -1 on error; *cutoff
 * gets the cutoff. Inside the vote's transaction. */
int sqlite_dedup_vote(struct sqlite_store *st, const char *id, long floor_n,
                      double *cutoff);
int sqlite_dedup_stats(void *cls, long *prompts, long *left_out);

/* migrate.c */
int sqlite_rows_read(void *cls, const struct store_table *tables, size_t n,
                     store_row_fn fn, void *ctx, char *err, size_t errlen);
int sqlite_rows_write(void *cls, const struct store_table *t,
                      const struct store_row *rows, size_t n, char *err,
                      size_t errlen);

/* tagging.c */
int sqlite_tag_case_load(void *cls, const char *id, struct tag_case *out);
int sqlite_tag_pending(void *cls, const char *const *categories, size_t n,
                       long limit, char ***ids, size_t *n_ids);
int sqlite_untagged(void *cls, long limit, char ***ids, size_t *n_ids);
int sqlite_battle_tags(void *cls, const char *id,
                       const struct battle_tags *tags, struct vote_batch *vb);

/* nodes.c */
int sqlite_node_register(void *cls, const struct store_node *me,
                         long lease_ms, int force, struct store_node *holder);
int sqlite_node_heartbeat(void *cls, const char *name, const char *instance,
                          const char *url, long lease_ms, int64_t *lapsed_ms);
long sqlite_nodes_reap(void *cls);
long sqlite_node_fail_battles(void *cls, const char *name);
int sqlite_node_leave(void *cls, const char *name, const char *instance);
int sqlite_nodes_list(void *cls, struct store_node **out, size_t *n);
int sqlite_changed_elsewhere(void *cls, long live_battles);
int sqlite_share_find(void *cls, const char *token, char id[40]);

#endif
