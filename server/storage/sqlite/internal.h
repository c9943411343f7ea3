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
  STMT_SLICE_TAGS,
  STMT_SLICE_CATEGORIES,
  STMT_SLICE_WINS_A,
  STMT_SLICE_WINS_B,
  STMT_SLICE_TIES,
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
  sqlite3_stmt *stmts[STMT_COUNT]; /* statements of the hot paths, prepared
                                      once (on db); see sqlite_stmt */
};

/* The cached statement number idx for sql on the write connection, reset
 * and with its bindings cleared, prepared on first use; NULL on error.
 * Caller holds the write lock and must not finalize it. */
sqlite3_stmt *sqlite_stmt(struct sqlite_store *ss, int idx, const char *sql);

/* The ops of each file of the engine, gathered into one table in db.c. */

/* battles.c */
int sqlite_battle_create(void *cls, const char *id, int64_t created_at,
                         const char *model_a, const char *model_b,
                         const char *session, const char *prompt);
int sqlite_turn_add(void *cls, const char *id, int turn, const char *prompt,
                    int64_t started_at);
int sqlite_turn_finish(void *cls, const char *id, int turn,
                       const struct turn_answer ans[2], int64_t finished_at,
                       const char *status, const char *identity,
                       const struct battle_tags *tags);
int sqlite_fail_streaming(void *cls);
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

/* interchange.c */
int sqlite_ratings_replace(void *cls, const struct rating_table *t,
                           const struct pair_table *pairs);
int sqlite_meta_get(void *cls, const char *key, char *out, size_t len);
int sqlite_meta_add(void *cls, const char *key, const char *value);
int sqlite_battle_exists(void *cls, const char *id);
int sqlite_import_battle(void *cls, const struct store_import_row *r);
int sqlite_export_votes(void *cls, int with_turns, store_export_vote_fn fn,
                        void *ctx);
int sqlite_export_judgments(void *cls, store_export_judgment_fn fn,
                            void *ctx);

/* slices.c */
/* The keys of the slices battle id's stored tags put it in, at most max
 * into keys: how many, or -1 on a database error. */
int sqlite_battle_slice_keys(struct sqlite_store *st, const char *id,
                             char (*keys)[SLICE_KEY_MAX], size_t max);
/* Count one outcome in the slice_pairs of key: 0 or -1. */
int sqlite_slice_pair_add(struct sqlite_store *st, const char *key,
                          const char *x, const char *y, enum winner w);
/* A counted vote's outcome into every slice of battle id, stored and
 * staged in vb: 0 or -1. */
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
int sqlite_style_votes(void *cls, const char *language, const char *category,
                       store_style_fn fn, void *ctx, long *skipped);

#endif
