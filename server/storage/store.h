/* Everything Agon keeps, behind one table of operations.
 *
 * A struct store is an engine's operations (struct store_ops,
 * storage/ops.h) and its closure: the store_* functions below hand each
 * call to the engine the `database` value named (store_open). Callers
 * never see the engine: the SQLite one is in storage/sqlite/, the only
 * folder that includes <sqlite3.h>; a second one (PostgreSQL) goes beside
 * it. */
#ifndef AGON_STORAGE_STORE_H
#define AGON_STORAGE_STORE_H

#include <pthread.h>
#include <stdatomic.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "errors/errors.h"
#include "rating/elo.h"
#include "rating/live.h"
#include "rating/pairs.h"
#include "tag/battle_tags.h"

struct store_ops;

struct store {
  const struct store_ops *ops; /* the engine's (storage/ops.h) */
  void *impl;                  /* its closure, handed to every op */
  pthread_mutex_t lock;        /* the write connection's: held by whoever
                                  uses it, from store_tx_begin to the
                                  commit or rollback (the writer's group
                                  commit, an import), and by the store_*
                                  functions that say so */
  atomic_long judgments;       /* bumped by every stored judgment */
};

/* Open (creating if needed) the database that `database` names and bring
 * its schema up to date: a SQLite file's path (or "sqlite:PATH"); a
 * PostgreSQL URL or keyword string (storage/postgres/), refused in a
 * build without that engine (config_db_engine_built). Durability: a
 * committed transaction survives a crash of the process and of the
 * machine (SQLite: WAL with synchronous=FULL; PostgreSQL:
 * synchronous_commit on). On error returns -1 with a message in err
 * (never a URL's password). */
int store_open(struct store *st, const char *database, char *err,
               size_t errlen);
void store_close(struct store *st);

/* Check the whole database (SQLite: PRAGMA quick_check) in a thread of its
 * own, on a connection of its own; when it finds corruption, store_corrupt
 * says so from then on. store_open checks at once only what start reads,
 * so that a large arena starts fast. path: what store_open was given (the
 * engine checks the database it opened). 0, or -1 when it cannot start. */
int store_check_start(struct store *st, const char *path);

/* 1 with the reason (len bytes into why) once the background check found
 * the file corrupt, else 0. */
int store_corrupt(struct store *st, char *why, size_t len);

/* store_open for a database that must already exist (the offline
 * commands): a missing file is an error, never a new empty database. */
int store_open_existing(struct store *st, const char *path, char *err,
                        size_t errlen);

/* The store's version: a number that changes whenever any process (say
 * `agon judge` or `agon import` beside the server, or this one) has
 * committed a transaction, for caches built from what is stored. It never
 * waits for st->lock. The engine may look at most every STORE_WATCH_MS
 * (SQLite: a look starts a read transaction, too dear for every request
 * of a busy leaderboard), so a commit shows within that time. -1 on
 * error. */
#define STORE_WATCH_MS 100
long store_data_version(struct store *st);

/* Current schema version (SQLite: PRAGMA user_version). */
int store_schema_version(struct store *st);

/* The message of the last error on the write connection (for logs and
 * messages; valid until its next use). Never NULL. */
const char *store_error(struct store *st);

/* Battles that were streaming when a node ended can never finish: a node
 * fails its own at start, and every node those of dead nodes
 * (storage/nodes.h). */

/* ---- transactions on the write connection (caller holds st->lock) ---- */

/* Begin a transaction that writes (SQLite: BEGIN IMMEDIATE), commit it,
 * roll it back. 0 or -1 (store_error says why); a rollback cannot fail. */
int store_tx_begin(struct store *st);
int store_tx_commit(struct store *st);
void store_tx_rollback(struct store *st);

/* Inside a transaction: mark a savepoint, forget it (its writes stay in
 * the transaction), or undo every write since it (it stays marked:
 * release it after). One level: the writer's one job. 0 or -1. */
int store_savepoint(struct store *st);
int store_savepoint_release(struct store *st);
int store_savepoint_rollback(struct store *st);

/* Whether the last error on the write connection is the storage's own
 * (disk full, I/O error, a corrupt or read-only file), not a refused
 * write: 1 with its message in why (len bytes), else 0. */
int store_storage_error(struct store *st, char *why, size_t len);

/* Whether the last write failed only because another process (a node on
 * the same PostgreSQL database) held a row it needed while this
 * transaction held rows that process may wait for: 1 when the job should
 * run again, first in a group of its own, where it waits as long as it
 * takes; else 0. Caller holds st->lock. */
int store_contended(struct store *st);

/* A small write in a transaction of its own, to see whether writes work
 * again after a storage fault. Takes st->lock. 0, or -1 with why. */
int store_probe(struct store *st, char *why, size_t len);

/* ---- battles ---- */

/* A battle as stored. Strings are owned by the record. */
struct turn_record {
  char *prompt;
  char *answer[2];   /* NULL while streaming */
  char *reasoning[2]; /* the model's reasoning, NULL when none */
  char *error[2];    /* server-side detail, NULL when fine */
};

/* One side's end of a turn, as stored (strings borrowed). */
struct turn_answer {
  const char *text;      /* the answer; NULL is stored as "" */
  const char *reasoning; /* NULL when there was none */
  const char *error;     /* server-side detail, NULL when fine */
};

/* How a battle was started (schema/0011): the text stored in
 * battles.mode. */
#define BATTLE_MODE_ANONY "anony"   /* drawn at random, names hidden */
#define BATTLE_MODE_NAMED "named"   /* chosen by the visitor: anony = 0 */
#define BATTLE_MODE_DIRECT "direct" /* one chosen model, no side b, no vote */

struct battle_record {
  char id[40];
  int64_t created_at;
  char *model[2];    /* model[1] is "" in a direct chat */
  char session[40];
  char status[16];
  char mode[8];      /* one of BATTLE_MODE_* */
  int winner;        /* enum winner, or -1 when not voted */
  char *reasons;     /* the vote's reasons (a JSON array), or NULL */
  char *comment;     /* the vote's comment, or NULL */
  struct turn_record *turns;
  size_t n_turns;
  /* what regenerates and retries replaced (schema/0012), as JSON arrays
   * (text, owned), NULL when nothing was: replaced, objects {turn, side,
   * attempt, kind, model, answer, failed, at}; replacements, objects
   * {side, turn, old_model, new_model, at} */
  char *replaced;
  char *replacements;
};

/* The writes below run inside a transaction the caller opened, with
 * st->lock held: in the server that is the writer thread's group commit
 * (storage/writer.h). They return 0, or -1 on a database error (logged),
 * and leave the transaction for the caller to commit or roll back. */

/* Insert a new battle in status 'streaming' with its first turn; mode is
 * one of BATTLE_MODE_* (anony = 0 unless BATTLE_MODE_ANONY), model_b ""
 * for BATTLE_MODE_DIRECT. */
int store_battle_create_tx(struct store *st, const char *id,
                           int64_t created_at, const char *model_a,
                           const char *model_b, const char *mode,
                           const char *session, const char *prompt);

/* Add turn number `turn` (1-based) and set the battle from 'ready' back to
 * 'streaming'. Returns 1 when the battle is no longer 'ready'. */
int store_turn_add_tx(struct store *st, const char *id, int turn,
                      const char *prompt, int64_t started_at);

/* What a regenerate or a retry replaces in turn `turn` (1-based), the
 * battle's latest (store_turn_replace_tx). */
struct turn_replace {
  int turn;
  int sides;              /* bit 0: side a, bit 1: side b */
  int retry;              /* 0: regenerate (battle 'ready'), 1: retry of the
                             one side in sides (battle 'failed') */
  const char *new_model;  /* retry: the model that takes the side over */
  long max;               /* regenerate: replaced attempts of the turn
                             allowed before; retry: replacements of the
                             battle allowed before */
  int64_t at;
};

/* Keep the answers of r->sides of the turn (replaced_answers), clear them
 * from the turn, and set the battle back to 'streaming'; for a retry also
 * put r->new_model on the side (battles.model_a or model_b) and record the
 * replacement (side_replacements). Returns 0, 1 when the battle is no
 * longer in the status the kind needs (voted, or retried, meanwhile), 2
 * when r->max is reached, -1 on error; the caller rolls back on nonzero. */
int store_turn_replace_tx(struct store *st, const char *id,
                          const struct turn_replace *r);

/* Store a finished turn's answers (side a, then b: reasoning and errors
 * too) and set the battle status ("ready" or "failed"). -1 also when
 * there is no such turn. */
/* identity: the word that names a model in the turn's texts (checked when
 * it ended), or NULL when none does; stored for the vote's verdict. tags
 * (NULL: not computed): the battle's tags as they stand after this turn
 * (tag/battle_tags.h), stored with the battle for the slices its vote
 * will count in; never public before the vote. */
int store_turn_finish_tx(struct store *st, const char *id, int turn,
                         const struct turn_answer ans[2],
                         int64_t finished_at, const char *status,
                         const char *identity,
                         const struct battle_tags *tags);

/* Load a battle. Returns 0, 1 when there is no such battle, -1 on error. */
int store_battle_load(struct store *st, const char *id,
                      struct battle_record *out);
void battle_record_release(struct battle_record *r);

/* Battles for the admin API, newest first: filtered by model (either
 * side; NULL: any), status (NULL: any) and creation time in
 * [since, until) ms (0: open). Returns a JSON array (owned), or NULL. */
json_t *store_battles_list(struct store *st, const char *model,
                           const char *status, int64_t since, int64_t until,
                           long limit, long offset);

/* ---- votes and ratings ---- */

/* What a vote comes to: errors of the table (errors/errors.h), which
 * reach the voter as they are; these are their names here. */
#define VOTE_OK EC_OK
#define VOTE_NOT_FOUND EC_BATTLE_NOT_FOUND
#define VOTE_FORBIDDEN EC_NOT_YOUR_BATTLE /* another session's battle */
#define VOTE_ALREADY_VOTED EC_ALREADY_VOTED
#define VOTE_STREAMING EC_STILL_STREAMING
#define VOTE_FAILED_BATTLE EC_BATTLE_FAILED
#define VOTE_ERROR EC_INTERNAL_VOTE       /* database failure */
#define VOTE_DIRECT EC_DIRECT_CHAT_VOTE   /* a direct chat: nothing to vote on */
#define VOTE_IDENTICAL EC_IDENTICAL_ANSWERS /* the last turn's two answers
                                               are the same (text_same_loose) */

struct vote_outcome {
  char *model[2];      /* owned; set when VOTE_OK */
  double elo[2];       /* new ratings */
  double elo_before[2];
  int counted;
  char reason[160];    /* why not counted, or "" */
  int dedup;           /* counted, but left out of the BT boards: its
                          prompt was asked too often (schema/0010) */
};

/* Decides from the battle as stored, inside the vote's transaction, why
 * a vote must not count: texts (n_texts, any may be NULL) are what the
 * stored turns say about identity: for a turn whose identity was checked
 * when it ended, the word found then (or nothing); for a turn stored
 * before that check existed, its VOTE_TEXTS_PER_TURN texts (the prompt,
 * answer a, answer b, reasoning a, reasoning b). finished_at is the
 * wall-clock ms at which the last turn was stored as finished (0:
 * unknown). Returns NULL when the vote counts, else a reason written into
 * why (whylen bytes) or a static string. */
#define VOTE_TEXTS_PER_TURN 5
typedef const char *(*vote_verdict_fn)(void *cls, const char *const *texts,
                                       size_t n_texts, int64_t finished_at,
                                       char *why, size_t whylen);

struct vote_request {
  const char *id;
  const char *session;
  enum winner w;
  double k;              /* Elo K */
  int counted;           /* 0: stored, but not counted in any rating */
  const char *reason;    /* why not counted, or NULL */
  const char *client;    /* keyed hash of the client address, or NULL */
  vote_verdict_fn verdict; /* NULL: counted/reason as given; else it can
                              still make a counted vote not count */
  long dedup_min;        /* de-duplication's floor ([ratings]
                            dedup_min_count); 0: off */
  void *verdict_cls;
  const char *reasons;   /* the voter's reasons as a JSON array, or NULL */
  const char *comment;   /* the voter's comment (UTF-8), or NULL */
};

/* Record a vote inside the caller's transaction (st->lock held, see the
 * writes above): check the battle, insert the vote, mark the battle voted
 * and, when counted, update the stored ratings and pair counts from live
 * plus what vb already stages, and stage the new rows in vb. Statuses
 * other than VOTE_OK and VOTE_ERROR write nothing. */
enum agon_ec store_vote_tx(struct store *st, const struct vote_request *vr,
                           const struct live_ratings *live,
                           struct vote_batch *vb, struct vote_outcome *out);
void vote_outcome_release(struct vote_outcome *o);

/* Load the ratings and pair counts as stored (no replay). */
int store_ratings_load(struct store *st, struct rating_table *t,
                       struct pair_table *pairs);

/* Replay every counted vote in commit order into t and pairs (which
 * start empty), each with the K it was counted with (k for votes stored
 * without one). *n_votes gets the number replayed. */
int store_ratings_replay(struct store *st, double k, struct rating_table *t,
                         struct pair_table *pairs, long *n_votes);

/* The slices' pair counts as stored (no replay), into t (empty). */
int store_slices_load(struct store *st, struct slice_table *t);

/* Replay every counted vote into the slices its battle's stored tags put
 * it in, into t (empty); *n_votes gets the votes replayed. */
int store_slices_replay(struct store *st, struct slice_table *t,
                        long *n_votes);

/* One category verdict of a tagger (borrowed). */
struct category_verdict {
  const char *category;   /* a built-in or [category] name */
  int value;              /* 1: in it, 0: not */
};

/* Store a tagger's verdicts on battle id's prompts; a category already
 * tagged keeps its first verdict. When the battle has a counted vote
 * that de-duplication kept (one it left out is in no slice), its outcome
 * is added to the slices of each category it is newly put in (and staged
 * in vb, NULL: not staged, for a process without live ratings). Caller holds st->lock inside a transaction. 0, 1 when there
 * is no such battle, -1 on error. */
int store_battle_categories_tx(struct store *st, const char *id,
                               const struct category_verdict *v, size_t n,
                               const char *tagger, int64_t at,
                               struct vote_batch *vb);

/* De-duplication's figures as stored: the distinct prompts voted on and
 * the counted votes left out of the BT boards. 0 or -1. */
int store_dedup_stats(struct store *st, long *prompts, long *left_out);

/* One counted vote for style control (strings valid during the call): its
 * models and outcome, and each side's four style counts (rating/style.h's
 * features: tokens, headers, list items, bold spans). */
struct store_style_vote {
  const char *model_a, *model_b;
  enum winner w;
  double a[4], b[4];
};
/* Nonzero stops the walk (store_style_votes then returns -1). */
typedef int (*store_style_fn)(void *ctx, const struct store_style_vote *v);

/* Every counted vote in vote order whose battle is in the slice of
 * language (NULL: any) and category (NULL: any; a heuristic or tagged
 * one), with its style counts, to fn. Votes whose battle has no style
 * counts (stored before they were kept, and imported without
 * conv_metadata) are skipped and counted in *skipped. Any thread; takes
 * no lock of the writer's. 0 or -1. */
int store_style_votes(struct store *st, const char *language,
                      const char *category, store_style_fn fn, void *ctx,
                      long *skipped);

/* ---- shared battles and a session's own votes (schema/0013) ---- */

/* Bytes of a share's token with its NUL: 32 hex digits, 128 random
 * bits. */
#define STORE_SHARE_TOKEN 33

/* Each stored share (token, battle id), oldest first; nonzero stops. */
typedef int (*store_share_fn)(void *ctx, const char *token,
                              const char *battle_id);

/* The first max shares, oldest first, to fn. Takes st->lock. 0 or -1. */
int store_shares_load(struct store *st, long max, store_share_fn fn,
                      void *ctx);

/* Share battle id with token unless it is shared already; out gets the
 * battle's token as stored (token, or the earlier one). In the caller's
 * transaction (st->lock held). 0 or -1. */
int store_share_put_tx(struct store *st, const char *token, const char *id,
                       int64_t at, char out[STORE_SHARE_TOKEN]);

/* Forget battle id's share, if any. In the caller's transaction. 0 or
 * -1. */
int store_share_delete_tx(struct store *st, const char *id);

/* One counted vote of a session: its battle's models and the verdict
 * (strings valid during the call); nonzero stops the walk (-1). */
typedef int (*store_session_vote_fn)(void *ctx, const char *model_a,
                                     const char *model_b, enum winner w);

/* The newest max counted votes of battles of session, oldest first, to
 * fn. Caller holds st->lock (the writer's alone call). 0 or -1. */
int store_session_votes_locked(struct store *st, const char *session,
                               long max, store_session_vote_fn fn,
                               void *ctx);

/* One counted vote as the rating history replays it (strings valid
 * during the call). */
struct store_timed_vote {
  const char *model_a, *model_b;
  enum winner w;
  double k;                 /* the K it was counted with; < 0: not stored */
  int dedup;                /* left out of the BT boards (Elo only) */
  int64_t created_at;       /* ms since the epoch */
};
/* Nonzero stops the walk (store_timed_votes then returns -1). */
typedef int (*store_timed_fn)(void *ctx, const struct store_timed_vote *v);

/* Every counted vote in commit order, to fn. Any thread; takes no lock of
 * the writer's (the read connection, a chunk of votes at a time). 0 or
 * -1. */
int store_timed_votes(struct store *st, store_timed_fn fn, void *ctx);

/* The ratings, pair counts and slices as stored (store_ratings_load and
 * store_slices_load at once) into t, pairs and slices (empty), for a
 * caller that holds st->lock: the writer, inside a group's transaction,
 * when another node has committed (storage/nodes.h). 0 or -1. */
int store_live_load_locked(struct store *st, struct rating_table *t,
                           struct pair_table *pairs,
                           struct slice_table *slices);

/* store_ratings_replay for a caller that holds st->lock. */
int store_replay_locked(struct store *st, double k, struct rating_table *t,
                        struct pair_table *pairs, long *n_votes);



/* ---- benchmarks measured by agon bench (schema/0015) ---- */

/* What names a run of agon bench: its items and prompts follow from
 * these (strings borrowed). */
struct store_bench_key {
  const char *model, *task, *mode;  /* mode: "likelihood" or "generate" */
  long shots;
  const char *data_sha256;          /* the data file's hex SHA-256 */
  const char *shots_sha256;         /* the shots file's, "" when none */
  long seed;                        /* the subset's seed */
  long limit;                       /* the subset's size, 0: every item */
};

/* The run of key, found or made with `items` items at time `at` (ms):
 * *run_id. Takes st->lock. 0 or -1. */
int store_bench_run_open(struct store *st, const struct store_bench_key *k,
                         long items, int64_t at, int64_t *run_id);

/* One stored item of a run (strings valid during the call); nonzero
 * stops the walk (-1). */
typedef int (*store_bench_item_fn)(void *ctx, long line, const char *grp,
                                   const char *metrics);

/* Every stored item of run_id, by line, to fn. Takes st->lock. 0 or
 * -1. */
int store_bench_items(struct store *st, int64_t run_id,
                      store_bench_item_fn fn, void *ctx);

/* One item's result (strings borrowed): its line in the data file, its
 * group (MMLU's subject, else ""), its scores as a JSON object and what
 * was read (JSON, or NULL). */
struct store_bench_item {
  long line;
  const char *grp, *metrics, *detail;
};

/* Store n item results of run_id in one transaction of their own (an
 * item already stored keeps its first result). Takes st->lock. 0, or -1
 * with none stored. */
int store_bench_items_put(struct store *st, int64_t run_id,
                          const struct store_bench_item *items, size_t n,
                          int64_t at);

/* One score of a run: over its items of group grp ("" for all of them),
 * metric's mean with its 95% interval, over n items (strings
 * borrowed). */
struct store_bench_score {
  const char *grp, *metric;
  double value, ci_low, ci_high;
  long n;
};

/* Replace run_id's scores with these n and mark it finished at `at`, in
 * one transaction. Takes st->lock. 0 or -1. */
int store_bench_finish(struct store *st, int64_t run_id,
                       const struct store_bench_score *s, size_t n,
                       int64_t at);

/* One score of a finished run with what names the run (strings valid
 * during the call). */
struct store_bench_result {
  int64_t run_id;
  const char *model, *task, *mode;
  long shots, seed, limit, items;
  int64_t finished_at;
  struct store_bench_score score;
};
/* Nonzero stops the walk (store_bench_results then returns -1). */
typedef int (*store_bench_result_fn)(void *ctx,
                                     const struct store_bench_result *r);

/* Every score of every finished run, by run (oldest first), group and
 * metric. Any thread: the read connection, no lock of the writer's. 0 or
 * -1. */
int store_bench_results(struct store *st, store_bench_result_fn fn,
                        void *ctx);

#endif
