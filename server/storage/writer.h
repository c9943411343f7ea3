/* The one thread that writes battles, turns and votes: group commit.
 *
 * Every write of the arena's hot paths is a job on one queue. The writer
 * thread takes all queued jobs, runs them in one transaction, each inside
 * its own savepoint (a job that fails leaves the others alone), commits
 * once (one fsync for the whole group with synchronous=FULL), and then
 * reports to each job's owner. A burst of battles or votes thus costs a
 * few commits instead of one each, and no HTTP worker or upstream thread
 * ever waits for the disk except a voter, for its own vote's commit.
 *
 * Jobs run in the order they were queued, so a turn's end is stored after
 * its battle, and a vote after the turn it is on. */
#ifndef AGON_STORAGE_WRITER_H
#define AGON_STORAGE_WRITER_H

#include <stdint.h>

#include "storage/store.h"

struct store_writer;

/* Start the writer for st; committed votes change live (NULL: a process
 * without live ratings, such as `agon tag`, which queues no votes). NULL
 * on failure. */
struct store_writer *store_writer_new(struct store *st,
                                      struct live_ratings *live);

/* Several processes on one database (nodes, storage/nodes.h): at the
 * start of every group commit, inside its transaction, the writer asks
 * whether another process has committed since (store_changed_elsewhere_
 * tx); when one has, it reads the live ratings, pair counts and slices
 * again from the database before any vote of the group is counted, so
 * that a vote on this node starts from every vote of the others, then
 * calls moved(cls, votes) on the writer thread: votes is 1 when the
 * counted votes changed (the ratings' battles), 0 when only the slices
 * could have (a tagger's verdicts) or nothing they hold did (another
 * node's heartbeat). Set it once, before queuing jobs; a writer without
 * live ratings never reads them. */
typedef void (*store_follow_fn)(void *cls, int votes);
void store_writer_follow(struct store_writer *w, store_follow_fn moved,
                         void *cls);

/* Queue a group that writes nothing, so that the writer looks whether
 * another process has committed (see store_writer_follow) without
 * waiting for a write of this one. 0, or -1 when it could not be
 * queued. */
int store_writer_look(struct store_writer *w);

/* Write what is queued, stop the thread and free everything. Jobs queued
 * later fail. Accepts NULL. */
void store_writer_free(struct store_writer *w);

/* Called on the writer thread once a job's transaction has ended: ok is 1
 * when the job's writes were committed, 0 when they were not. */
typedef void (*store_done_fn)(void *cls, int ok);

/* Queue a new battle with its first turn (strings are copied). done may be
 * NULL. Returns 0, or -1 when it could not be queued (done is not called
 * then). */
int store_writer_battle_create(struct store_writer *w, const char *id,
                               int64_t created_at, const char *model_a,
                               const char *model_b, const char *session,
                               const char *prompt, store_done_fn done,
                               void *cls);

/* The same for a battle started in mode (one of BATTLE_MODE_*, see
 * store_battle_create_tx); store_writer_battle_create is mode
 * BATTLE_MODE_ANONY. */
int store_writer_battle_create_mode(struct store_writer *w, const char *id,
                                    int64_t created_at, const char *model_a,
                                    const char *model_b, const char *mode,
                                    const char *session, const char *prompt,
                                    store_done_fn done, void *cls);

/* Queue the end of a turn (see store_turn_finish_tx). The answers and
 * their reasoning are borrowed, not copied (each may be up to
 * max_answer_bytes): they must stay as they are until done has been
 * called, or, when done is NULL, until a later store_writer_flush returns.
 * The other strings and *tags (NULL: none computed) are copied. Same contract otherwise as
 * store_writer_battle_create. */
int store_writer_turn_finish(struct store_writer *w, const char *id, int turn,
                             const struct turn_answer ans[2],
                             int64_t finished_at, const char *status,
                             const char *identity,
                             const struct battle_tags *tags,
                             store_done_fn done, void *cls);

/* Add a turn and wait for its commit. Returns 0, 1 when the battle was no
 * longer ready, -1 on error. Must not be called on the writer thread. */
int store_writer_turn_add(struct store_writer *w, const char *id, int turn,
                          const char *prompt, int64_t started_at);

/* Record a vote (see store_vote_tx) and wait for its commit; the live
 * ratings have changed when it returns VOTE_OK. Must not be called on the
 * writer thread. */
enum agon_ec store_writer_vote(struct store_writer *w,
                               const struct vote_request *vr,
                               struct vote_outcome *out);

/* Called on the writer thread once a job's transaction has ended, with
 * what it returned (see each queueing function). */
typedef void (*store_rc_fn)(void *cls, int rc);

/* store_writer_turn_add without waiting: done gets 0 once the turn is
 * committed, 1 when the battle was no longer ready, -1 on error. The
 * strings are copied. Returns 0, or -1 when it could not be queued (done
 * is not called then). */
int store_writer_turn_add_async(struct store_writer *w, const char *id,
                                int turn, const char *prompt,
                                int64_t started_at, store_rc_fn done,
                                void *cls);

/* Queue a regenerate or a retry (see store_turn_replace_tx) without
 * waiting: done gets what it returned (0, 1, 2), or -1 on error or when
 * it was not committed. *r and its strings are copied. Returns 0, or -1
 * when it could not be queued (done is not called then). */
int store_writer_turn_replace_async(struct store_writer *w, const char *id,
                                    const struct turn_replace *r,
                                    store_rc_fn done, void *cls);

/* Called on the writer thread once a vote's transaction has ended, with
 * its status (VOTE_OK only when committed). */
typedef void (*store_vote_fn)(void *cls, enum agon_ec vs);

/* Queue a vote (see store_vote_tx) without waiting: the HTTP worker that
 * asks is free while the group commit fsyncs. vr (and what it points to)
 * and out are borrowed until done has been called; out is filled when the
 * status is VOTE_OK. Returns 0, or -1 when it could not be queued (done
 * is not called then). */
int store_writer_vote_async(struct store_writer *w,
                            const struct vote_request *vr,
                            struct vote_outcome *out, store_vote_fn done,
                            void *cls);

/* Queue a tagger's verdicts on battle id (see store_battle_categories_tx):
 * v[n] (category names), tagger and id are copied. done (may be NULL)
 * gets -1 when they were not stored, else how many slice outcomes they
 * moved (0: the battle has no counted vote, or every category was tagged
 * before or is not one it is in), which the live slices hold once done
 * is called. Returns 0, or -1 when it could not be queued (done is not
 * called then). */
int store_writer_categories(struct store_writer *w, const char *id,
                            const struct category_verdict *v, size_t n,
                            const char *tagger, int64_t at, store_rc_fn done,
                            void *cls);

/* Queue what battle id lacks of its tags (see store_battle_tags_tx; *tags
 * is copied). done as for store_writer_categories; 0 also when there was
 * nothing to fill in. */
int store_writer_battle_tags(struct store_writer *w, const char *id,
                             const struct battle_tags *tags,
                             store_rc_fn done, void *cls);

/* Read the slices' counts from the database again and make them the live
 * ones (for a process with live ratings), between two group commits, so
 * that counts another process moved (`agon tag` beside the server) show.
 * done (may be NULL) gets 0 once they are live, -1 when they could not be
 * read (the live ones then stay). Returns 0, or -1 when it could not be
 * queued (done is not called then). */
int store_writer_reload_slices(struct store_writer *w, store_rc_fn done,
                               void *cls);

/* A job of the caller's: run(cls, st) on the writer thread with st->lock
 * held. Unless alone, inside the group's transaction (in a savepoint of
 * its own: 0 keeps its writes, -1 rolls them back), and done(cls, ok)
 * once the group has committed (ok) or not. alone: in a group of its own
 * after every job queued before it has been written and its owner told,
 * without a transaction (for reads that must see those writes, and none
 * of later ones); done(cls, run returned 0). done may be NULL. Returns 0,
 * or -1 when it could not be queued (done is not called then). */
typedef int (*store_job_fn)(void *cls, struct store *st);
int store_writer_call(struct store_writer *w, store_job_fn run,
                      store_done_fn done, void *cls, int alone);

/* Wait until every job queued before this call has been written and its
 * owner told. Must not be called on the writer thread. */
void store_writer_flush(struct store_writer *w);

/* Whether writes are failing now for a reason of the storage (disk full,
 * I/O error, corruption): 1 with the reason copied into why (len bytes),
 * else 0. Set by a failed write; cleared by the next write that stands, or
 * by a small probe write the writer tries every second while failing. */
int store_writer_fault(struct store_writer *w, char *why, size_t len);

/* Groups committed and jobs written so far (for metrics and benchmarks). */
void store_writer_counts(struct store_writer *w, long *groups, long *jobs);

#endif
