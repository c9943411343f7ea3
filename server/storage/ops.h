/* What a storage engine implements: one table of operations and a closure
 * (after GNU Taler's TALER_EXCHANGEDB_Plugin). storage/store.c chooses the
 * engine from the `database` value and hands every store_* call to it;
 * nothing above storage/ sees this table, and nothing outside the
 * engine's folder sees its SQL or its library.
 *
 * Every op gets the engine's closure, cls (struct store's impl). Locking
 * is the caller's, as the store_* functions document it: the ops marked
 * "write connection" run with st->lock held (the dispatchers in
 * storage/store.c take it where the public function says so); the others
 * are the engine's to make safe from any thread (SQLite: a read
 * connection of its own and its own lock). Return values are those of the
 * store_* function of the same name unless said otherwise.
 *
 * A second engine (storage/postgres/) fills a table of its own and is
 * added to the engines in storage/store.c; nothing else changes. */
#ifndef AGON_STORAGE_OPS_H
#define AGON_STORAGE_OPS_H

#include <stdint.h>

#include "storage/interchange.h"
#include "storage/judgments.h"
#include "storage/rows.h"
#include "storage/nodes.h"
#include "storage/store.h"
#include "storage/tagging.h"
#include "util/nowait.h"

/* st's table for an op that goes to the database: every dispatcher in
 * storage/ takes it through here, so that one called on a thread that
 * must never wait (an HTTP worker, util/nowait.h) is logged as the bug it
 * is, with the store_* function's name. */
#define STORE_OPS(st) (nowait_check(__func__), (st)->ops)

/* One imported battle with its vote (store_import), strings borrowed. */
struct store_import_row {
  const char *id;
  int64_t created_at;     /* ms; the vote's too */
  const char *model_a, *model_b;
  const char *record;     /* the FastChat record, as JSON text */
  double tstamp;          /* its tstamp */
  int anony;
  enum winner w;
  int counted;
  const char *reason;     /* why not counted, or NULL */
  double k;
  /* its tags as the record says them (fastchat/fields.h), each NULL when
   * it says nothing: language, the heuristic categories (comma-separated,
   * tag/battle_tags.h) and the conv_metadata JSON; and the LLM-tagged
   * categories' verdicts, stored with the tagger "import" */
  const char *language, *tags, *conv_metadata;
  const struct category_verdict *categories;
  size_t n_categories;
  /* what the voter said (agon_vote_reasons_v0.1 as a JSON array,
   * agon_vote_comment_v0.1), each NULL when the record has none */
  const char *reasons, *comment;
};

/* One turn's texts for an export (borrowed; NULL is ""). */
struct store_turn_text {
  const char *prompt;
  const char *answer[2];
};

/* One vote for an export, in vote order (strings borrowed for the call). */
struct store_export_vote {
  const char *id, *model_a, *model_b;
  const char *winner;     /* as stored: "a", "b", "tie", "bothbad" */
  const char *session;
  int64_t voted_at;       /* ms */
  const char *record;     /* an imported battle's record, or NULL */
  int anony;              /* 0: the visitor chose the models (schema/0011) */
  int counted;
  const char *reason;     /* or NULL */
  long n_turns;
  /* when asked for (with_turns), the battle's stored turns in order
   * (none for an imported one); else NULL and 0 */
  const struct store_turn_text *turns;
  size_t n_texts;
  /* its tags as stored (each NULL when there are none): language,
   * heuristic categories (comma-separated), conv_metadata JSON; and its
   * LLM-tagged categories' verdicts, by name (for a battle without a
   * record only: an imported one is written as it came) */
  const char *language, *tags, *conv_metadata;
  const struct category_verdict *categories;
  size_t n_categories;
  /* the voter's reasons (a JSON array) and comment, each NULL when none */
  const char *reasons, *comment;
  /* what regenerates and retries replaced, as JSON array texts (see
   * struct battle_record), NULL when nothing was (a battle without a
   * record only) */
  const char *replaced, *replacements;
};

/* One LLM judge's verdict for an export, in judgment order. */
struct store_export_judgment {
  const char *id, *model_a, *model_b;
  const char *verdict;    /* "a", "b", "tie" */
  const char *judge;
  int64_t created_at;
  int inconsistent;
  long n_turns;
};

/* Called for each row; nonzero stops the walk (the op then returns -1). */
typedef int (*store_export_vote_fn)(void *ctx,
                                    const struct store_export_vote *v);
typedef int (*store_export_judgment_fn)(
    void *ctx, const struct store_export_judgment *j);

/* What every engine's vote decides first from the stored battle: its
 * owner's session, status and mode against the voter's session. VOTE_OK
 * when it can be voted; else the refusal (VOTE_FORBIDDEN, _ALREADY_VOTED,
 * _STREAMING, _FAILED_BATTLE, _DIRECT), in that order. (storage/store.c) */
enum agon_ec store_vote_gate(const char *owner, const char *session,
                             const char *status, const char *mode);

struct store_ops {
  const char *name;                 /* "sqlite" */

  /* ---- the database ---- */
  /* Close everything, stop the background check, free cls. */
  void (*close)(void *cls);
  /* The last error on the write connection; never NULL. */
  const char *(*error)(void *cls);
  int (*schema_version)(void *cls);
  /* The background integrity check; corrupt says what it found. */
  int (*check_start)(void *cls);
  int (*corrupt)(void *cls, char *why, size_t len);
  /* Changes whenever any process committed (store_data_version). */
  long (*version)(void *cls);

  /* ---- transactions (write connection) ---- */
  int (*begin)(void *cls);
  int (*commit)(void *cls);
  void (*rollback)(void *cls);
  int (*savepoint)(void *cls);
  int (*savepoint_release)(void *cls);
  int (*savepoint_rollback)(void *cls);
  /* 1 with the message when the last error is the storage's own. */
  int (*storage_error)(void *cls, char *why, size_t len);
  /* A small write in its own transaction: 0, or -1 with why. */
  int (*probe)(void *cls, char *why, size_t len);
  /* store_contended; NULL: an engine whose jobs never wait for another
   * process's locks (SQLite: one writer at a time). */
  int (*contended)(void *cls);

  /* ---- the writer's jobs, inside its transaction (write connection) ---- */
  int (*battle_create)(void *cls, const char *id, int64_t created_at,
                       const char *model_a, const char *model_b,
                       const char *mode, const char *session,
                       const char *prompt);
  int (*turn_add)(void *cls, const char *id, int turn, const char *prompt,
                  int64_t started_at);
  int (*turn_replace)(void *cls, const char *id,
                      const struct turn_replace *r);
  int (*turn_finish)(void *cls, const char *id, int turn,
                     const struct turn_answer ans[2], int64_t finished_at,
                     const char *status, const char *identity,
                     const struct battle_tags *tags);
  /* The whole vote, one op: store_vote_tx. */
  enum agon_ec (*vote)(void *cls, const struct vote_request *vr,
                       const struct live_ratings *live,
                       struct vote_batch *vb, struct vote_outcome *out);

  /* ---- ratings, meta, import, export (write connection) ---- */
  /* store_dedup_stats */
  int (*dedup_stats)(void *cls, long *prompts, long *left_out);
  /* The slices' pair counts as stored, and their replay from every
   * counted vote and its battle's stored tags (store_slices_*). */
  int (*slices_load)(void *cls, struct slice_table *t);
  int (*slices_replay)(void *cls, struct slice_table *t, long *n_votes);
  /* A tagger's categories (store_battle_categories_tx). */
  int (*battle_categories)(void *cls, const char *id,
                           const struct category_verdict *v, size_t n,
                           const char *tagger, int64_t at,
                           struct vote_batch *vb);
  /* What a battle lacks of its tags, filled in (store_battle_tags_tx). */
  int (*battle_tags)(void *cls, const char *id,
                     const struct battle_tags *tags, struct vote_batch *vb);
  int (*ratings_load)(void *cls, struct rating_table *t,
                      struct pair_table *pairs);
  int (*ratings_replay)(void *cls, double k, struct rating_table *t,
                        struct pair_table *pairs, long *n_votes);
  /* Replace every stored rating and pair count with t's and pairs'. */
  int (*ratings_replace)(void *cls, const struct rating_table *t,
                         const struct pair_table *pairs);
  /* A value of the meta table: 0 with it in out (len bytes), 1 when
   * there is none, -1 on error. */
  int (*meta_get)(void *cls, const char *key, char *out, size_t len);
  /* Add a value that is not there yet: 0 or -1. An engine shared by
   * several processes (PostgreSQL) keeps the first value stored and
   * answers 0 for a later one: meta_get reads the value that holds. */
  int (*meta_add)(void *cls, const char *key, const char *value);
  /* Whether a battle with this id is stored: 1, 0, or -1 on error. */
  int (*battle_exists)(void *cls, const char *id);
  /* Store an imported battle, its vote, its tags and categories, and,
   * when it counts, its outcome in the slices they put it in (in the
   * caller's transaction). */
  int (*import_battle)(void *cls, const struct store_import_row *r);
  /* Every vote, in vote order; with_turns: with its battle's turns.
   * 0 or -1. */
  int (*export_votes)(void *cls, int with_turns, store_export_vote_fn fn,
                      void *ctx);
  /* Every judgment with a verdict, in judgment order. 0 or -1. */
  int (*export_judgments)(void *cls, store_export_judgment_fn fn, void *ctx);
  /* A connection of its own for a long read (the admin's export): one
   * read-only snapshot of the database, taken now, that export_votes,
   * export_judgments and error accept as their cls, and that never holds
   * the store's lock, so that writes go on meanwhile. NULL when none can
   * be opened (the caller then reads under the lock). snapshot_close
   * accepts NULL. */
  void *(*snapshot_open)(void *cls);
  void (*snapshot_close)(void *snap);
  /* Store (or replace) a judgment. */
  int (*judgment_save)(void *cls, const struct judgment *j);

  /* ---- reads that HTTP workers and judges wait for (any thread) ---- */
  int (*battle_load)(void *cls, const char *id, struct battle_record *out);
  json_t *(*battles_list)(void *cls, const char *model, const char *status,
                          int64_t since, int64_t until, long limit,
                          long offset);
  int (*case_load)(void *cls, const char *id, struct case_data *out);
  int (*judge_pending)(void *cls, const char *judge, long limit,
                       char ***ids, size_t *n);
  /* What taggers read (storage/tagging.h): a battle's prompts and
   * verdicts, the battles a set of categories still lacks, the battles
   * stored without their tags. */
  int (*tag_case_load)(void *cls, const char *id, struct tag_case *out);
  int (*tag_pending)(void *cls, const char *const *categories, size_t n,
                     long limit, char ***ids, size_t *n_ids);
  int (*untagged)(void *cls, long limit, char ***ids, size_t *n_ids);
  /* The newest counted human votes, up to want: battle ids (ids[i], 40
   * bytes each) and their verdicts as 'A', 'B' or 'C' (winners[i]).
   * *found says how many. 0 or -1. */
  int (*recent_votes)(void *cls, size_t want, char (*ids)[40], char *winners,
                      size_t *found);
  json_t *(*judge_stats)(void *cls, const char *judge);
  /* store_style_votes (any thread; holds the read lock only a chunk of
   * votes at a time) */
  int (*style_votes)(void *cls, const char *language, const char *category,
                     store_style_fn fn, void *ctx, long *skipped);
  int (*judge_ratings)(void *cls, const char *judge, double k,
                       struct rating_table *elo, struct pair_table *pairs);

  /* ---- shares and a session's own votes (write connection) ---- */
  int (*shares_load)(void *cls, long max, store_share_fn fn, void *ctx);
  int (*share_put)(void *cls, const char *token, const char *battle_id,
                   int64_t at, char out[STORE_SHARE_TOKEN]);
  int (*share_delete)(void *cls, const char *battle_id);
  int (*session_votes)(void *cls, const char *session, long max,
                       store_session_vote_fn fn, void *ctx);
  /* store_timed_votes (any thread; the read lock a chunk at a time) */
  int (*timed_votes)(void *cls, store_timed_fn fn, void *ctx);

  /* ---- agon bench's runs (schema/0015) ---- */
  /* Write connection, st->lock held (store.c takes it): find or make a
   * run; read a run's items; store items and a run's scores inside the
   * transaction store.c opened around them. */
  int (*bench_run_open)(void *cls, const struct store_bench_key *k,
                        long items, int64_t at, int64_t *run_id);
  int (*bench_items)(void *cls, int64_t run_id, store_bench_item_fn fn,
                     void *ctx);
  int (*bench_items_put)(void *cls, int64_t run_id,
                         const struct store_bench_item *items, size_t n,
                         int64_t at);
  int (*bench_finish)(void *cls, int64_t run_id,
                      const struct store_bench_score *s, size_t n,
                      int64_t at);
  /* Any thread: the finished runs' scores (store_bench_results). */
  int (*bench_results)(void *cls, store_bench_result_fn fn, void *ctx);
  /* ---- every row, for agon migrate (storage/rows.h) ---- */
  /* store_rows_read over tables[n] (any thread, one read transaction);
   * a table of the database that tables does not name fails. */
  int (*rows_read)(void *cls, const struct store_table *tables, size_t n,
                   store_row_fn fn, void *ctx, char *err, size_t errlen);
  /* store_rows_write_tx (write connection, in the caller's transaction) */
  int (*rows_write)(void *cls, const struct store_table *t,
                    const struct store_row *rows, size_t n, char *err,
                    size_t errlen);
  /* ---- nodes (storage/nodes.h) ----
   * In the caller's transaction on the write connection (storage/nodes.c
   * opens one where the store function says so), but nodes_list (any
   * thread, the read connection). The engine reads the clock itself (see
   * nodes.h). A battle's id names node N when it is N "-" and 24 hex
   * digits (util/node_id.h): in SQL, length(id) = length(N) + 25 and
   * substr(id, 1, length(N) + 1) = N || '-'. */
  /* store_node_register: 0 taken, 1 held (*holder), -1 */
  int (*node_register)(void *cls, const struct store_node *me, long lease_ms,
                       int force, struct store_node *holder);
  int (*node_heartbeat)(void *cls, const char *name, const char *instance,
                        const char *url, long lease_ms, int64_t *lapsed_ms);
  /* the streaming battles whose id names no node holding a lease now,
   * failed: how many, or -1 */
  long (*nodes_reap)(void *cls);
  /* the streaming battles whose id names node name, failed: how many */
  long (*node_fail_battles)(void *cls, const char *name);
  int (*node_leave)(void *cls, const char *name, const char *instance);
  int (*nodes_list)(void *cls, struct store_node **out, size_t *n);
  /* store_share_find (any thread, the read connection) */
  int (*share_find)(void *cls, const char *token, char id[40]);
  /* store_changed_elsewhere_tx; NULL: never (0) */
  int (*changed_elsewhere)(void *cls, long live_battles);
};

#endif
