/* The arena: the battles, their models and their votes, behind the
 * operations that handlers/ and cli/ call. What it holds (the
 * configuration, the database and its writer, the upstream loops, the
 * battles in memory and their locks, the live ratings) is its own, in
 * battle/arena_impl.h, which nothing outside battle/ includes.
 *
 * The operations on battles return EC_OK or the error of the table
 * (errors/errors.h) to answer with. */
#ifndef AGON_BATTLE_ARENA_H
#define AGON_BATTLE_ARENA_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "config/config.h"
#include "errors/errors.h"
#include "fastchat/battle_log.h"
#include "rating/elo.h"
#include "rating/history_board.h"
#include "rating/live.h"
#include "rating/pairs.h"
#include "rating/style_board.h"
#include "rating/worker.h"
#include "storage/store.h"
#include "util/buf.h"

struct arena;

/* ---- its life ---- */

/* A new arena that takes over cfg (its reference, also on failure): opens
 * the database, loads the live ratings and starts the writer, the ratings
 * worker, the upstream loops and the judge runner. NULL with err set on
 * failure. */
struct arena *arena_new(struct config *cfg, char *err, size_t errlen);

/* Before the HTTP server stops: end every upstream transfer (so every
 * stream comes to its end) and store what they queued, waking the streams'
 * watchers. */
void arena_shutdown(struct arena *a);

/* Stop everything arena_new started and free it (arena_shutdown first if
 * it was not called). Accepts NULL. */
void arena_free(struct arena *a);

/* Housekeeping that needs no request to come: call it about once a
 * second from a loop that wakes anyway (cli/serve.c's). It drops idle
 * finished battles from memory (at most once a minute) and is a few
 * atomic reads otherwise; it never touches the database. */
void arena_tick(struct arena *a);

/* ---- its configuration ---- */

/* The current configuration, with a reference for the caller. */
struct config *arena_config(struct arena *a);

/* Read the config file again and make it current: models added, removed,
 * disabled or changed; battles in flight keep the settings they started
 * with. [server] listen, database, node, internal_url and [cluster]
 * cannot change while running (a warning says so). On error the running configuration stays and err
 * names the file and line. Either way the slices' counts are read from
 * the database again (`agon tag` beside the server moves them there).
 * Reads files: never on an HTTP worker (the admin's reload is work on the
 * loader thread, arena_call_start). Returns 0 or -1. */
int arena_reload(struct arena *a, char *err, size_t errlen);

/* Enable or disable a model at run time (until the next reload). Returns
 * 0, or -1 when there is no such model. */
int arena_set_enabled(struct arena *a, const char *model, int enabled);

/* Keep these models (copied) in every configuration from now on, across
 * reloads (the built-in demo models). 0 or -1. */
int arena_keep_models(struct arena *a, const struct model_config *models,
                      size_t n);

/* ---- several nodes on one database (docs/deploy.md) ---- */

/* This node's name ([server] node, or its default: util/node_id.h), which
 * the ids of the battles it starts name. */
const char *arena_node_name(struct arena *a);

/* The HTTP server listens on host (as [server] listen has it) and port
 * (bound): unless [server] internal_url is set, the other nodes reach
 * this one at http://HOST:PORT from now on (a wildcard host: the
 * machine's host name). */
void arena_node_listening(struct arena *a, const char *host, unsigned port);

/* Which node streams battle id, from its id and the nodes table as read
 * into memory (every [cluster] heartbeat_seconds by the node's keeper):
 * never reads the database, so an HTTP worker may ask. When the table in
 * memory may be out of date for it (it names a node not known yet, or a
 * forward to its node failed since: arena_nodes_stale), the answer is
 * ARENA_OWNER_REREAD, unless settled: then it is decided from memory. */
enum arena_owner {
  ARENA_OWNER_HERE,    /* this node, or the id names none (made before
                          nodes, imported, or no battle at all) */
  ARENA_OWNER_THERE,   /* another node, holding its lease: url set */
  ARENA_OWNER_GONE,    /* another node, whose lease has passed: url set */
  ARENA_OWNER_UNKNOWN, /* a node the table does not know: no such battle */
  ARENA_OWNER_REREAD,  /* read the table again (arena_nodes_reread, off
                          the workers), then ask again, settled */
};
enum arena_owner arena_battle_owner(struct arena *a, const char *id,
                                    int settled, char *url, size_t len);

/* Read the nodes table into memory now. Reads the database: on the
 * loader thread (arena_call_start), never on an HTTP worker. */
void arena_nodes_reread(struct arena *a);

/* The nodes table for the admin: {"node": this node's name, "nodes":
 * [{name, url, host, pid, started_at, heartbeat_at, lease_until,
 * alive}]}, read now; the caller's, or NULL on error. */
json_t *arena_nodes_json(struct arena *a);

/* Another node whose lease holds, as the nodes table was last read. */
#define ARENA_PEER_NAME 16  /* NODE_NAME_MAX + 1 and more */
#define ARENA_PEER_URL 2048
struct arena_peer {
  char name[ARENA_PEER_NAME];
  char url[ARENA_PEER_URL];
};

/* The other nodes alive, from memory (never the database): up to max of
 * them into out, in the table's order; how many. */
size_t arena_node_peers(struct arena *a, struct arena_peer *out, size_t max);

/* A forward to another node's address failed: the nodes table is read
 * again before the next one (the node may have restarted elsewhere). */
void arena_nodes_stale(struct arena *a);

/* The MAC of text that a request forwarded from one node to another
 * carries, under a key every node on the database shares (from its
 * secret): 64 hex digits into out. 0 or -1. */
int arena_forward_mac(struct arena *a, const char *text, char out[65]);

/* ---- per-client limits ---- */

/* Per-client budgets, each of its [limits] key in the current
 * configuration: prompts (battles_per_minute: a new battle and a
 * follow-up alike), votes (votes_per_minute) and failed admin attempts
 * (admin_failures_per_minute). */
enum arena_limit { ARENA_LIMIT_PROMPTS, ARENA_LIMIT_VOTES, ARENA_LIMIT_ADMIN };

/* Take one of client's tokens of kind. Returns 0 when allowed, else the
 * seconds to wait before the next would be (>= 1). */
int arena_rate_limit(struct arena *a, enum arena_limit kind,
                     const char *client);

/* Give back a token arena_rate_limit took (the attempt did not count
 * after all). */
void arena_rate_refund(struct arena *a, enum arena_limit kind,
                       const char *client);

/* ---- battles ---- */

/* Bytes of a battle id, with its NUL. */
#define ARENA_BATTLE_ID 40

/* Start a battle for session between two random distinct enabled models.
 * On EC_OK, id is the new battle's; else EC_NOT_ENOUGH_MODELS,
 * EC_STORAGE_UNAVAILABLE (database writes are failing), EC_BUSY
 * (max_concurrent_battles) or EC_INTERNAL_BATTLE, and id is "". */
enum agon_ec arena_battle_start(struct arena *a, const char *session,
                                const char *prompt, char id[ARENA_BATTLE_ID]);

/* Start a battle for session between the models the visitor chose, by
 * name: two (side by side, FastChat's "named" mode: a as models[0], b as
 * models[1], names public from the start, its vote stored but counted on
 * no board) or one (a direct chat: side a only, no vote). On EC_OK, id is
 * the new battle's; EC_INVALID_MODELS with msg (msglen bytes) saying why
 * when n is not 1 or 2, a name is not an enabled model, or the two are
 * one; else as arena_battle_start. */
enum agon_ec arena_battle_start_chosen(struct arena *a, const char *session,
                                       const char *prompt,
                                       const char *const *models, size_t n,
                                       char id[ARENA_BATTLE_ID], char *msg,
                                       size_t msglen);

/* Told once a turn or a vote is decided (on the writer thread), or a
 * battle read back (on the loader thread); cls as given. It must not call
 * back into the arena. */
typedef void (*arena_vote_fn)(void *cls);

/* A battle held in memory while one request works on it (opaque): the
 * operations below on one battle take it. The battles at rest are a cache
 * of the database ([limits] max_cached_battle_bytes); one that is not in
 * it is read back on the arena's loader thread, never on the caller's, so
 * that no HTTP worker waits on the disk. While held, a battle stays in
 * memory. */
struct arena_held;

/* Battle id held from memory, at once: a new hold for the caller
 * (arena_held_free), also when id cannot name a battle (it then holds
 * none); NULL when the battle is not in memory: read it back with
 * arena_hold_load. */
struct arena_held *arena_hold(struct arena *a, const char *id);

/* Read battle id back from the database on the loader thread: EC_OK with
 * *out the caller's, and done(cls) called on that thread once
 * arena_held_result can tell; EC_NOT_QUEUED when too many reads wait
 * already or the arena is stopping (*out NULL, done never called). */
enum agon_ec arena_hold_load(struct arena *a, const char *id,
                             arena_vote_fn done, void *cls,
                             struct arena_held **out);

/* EC_OK when h holds its battle, else EC_BATTLE_NOT_FOUND (no such
 * battle, it could not be read, or not read yet). */
enum agon_ec arena_held_result(struct arena_held *h);

/* Whether the battle h holds is streaming (0 when none is held). */
int arena_held_streaming(struct arena_held *h);

/* The caller's reference; done is never called after it. Accepts NULL. */
void arena_held_free(struct arena_held *h);

/* ---- reads of the database for requests ---- */

/* A request's work that reads the database (opaque): run on the arena's
 * loader thread, the one that reads battles back, while the request
 * waits suspended, so that no HTTP worker waits on the disk. The arena's
 * functions that say they read the database (arena_judge_stats,
 * arena_judge_ratings, arena_bench_results, arena_battles_list;
 * arena_reload reads the configuration's files) are for such work, never
 * for an HTTP worker. */
struct arena_call;
typedef void (*arena_call_fn)(struct arena *a, void *job);

/* Run fn(a, job) on the loader thread, then done(cls) on that thread.
 * Takes job: job_free(job) (NULL: none) frees it once the loader and the
 * caller are both done with it, and at once when this fails. EC_OK with
 * *out the caller's (arena_call_job once done was called, then
 * arena_call_free); EC_NOT_QUEUED when too many reads wait already or
 * the arena is stopping (*out NULL, done never called). */
enum agon_ec arena_call_start(struct arena *a, arena_call_fn fn, void *job,
                              void (*job_free)(void *job), arena_vote_fn done,
                              void *cls, struct arena_call **out);

/* c's job once fn has run on it (done was called), else NULL; borrowed
 * until arena_call_free. */
void *arena_call_job(struct arena_call *c);

/* The caller's reference; done is never called after it. Accepts NULL. */
void arena_call_free(struct arena_call *c);

/* Battle h as the public sees it, for the caller to own: its status, its
 * turns with both answers so far (text and HTML) and their public
 * errors; once voted, the winner, the models and each finished side's
 * reasoning, else null for them. Its mode, and whether each turn and the
 * battle (its latest turn) has identical answers; a chosen battle's
 * models at once (b null in a direct chat, with no side b). EC_OK (*out NULL only when out of
 * memory) or EC_BATTLE_NOT_FOUND. */
enum agon_ec arena_battle_json(struct arena *a, struct arena_held *h,
                               json_t **out);

/* An event feed (opaque): the latest turn of one battle as Server-Sent
 * Events for one client, built under the battle's lock by whichever
 * thread changed the battle (see http/sse_stream.h for the stream that
 * writes them). Blind like arena_battle_json: no names, no reasoning. */
struct arena_feed;

/* A feed of battle h's latest turn for client, which holds one of the
 * client's max_streams_per_client and one of the battle's
 * max_streams_per_battle until arena_feed_close. EC_OK with *out, else
 * EC_BATTLE_NOT_FOUND (also a battle without a turn), EC_TOO_MANY_STREAMS,
 * EC_TOO_MANY_BATTLE_STREAMS, or EC_INTERNAL when out of memory. */
enum agon_ec arena_feed_open(struct arena *a, struct arena_held *h,
                             const char *client, struct arena_feed **out);

/* The most one arena_feed_build can append (both answers at their
 * maximum, escaped, and their HTML). */
size_t arena_feed_max_build(const struct arena_feed *f);

/* Take and give back the battle's lock, which the next three need. */
void arena_feed_lock(struct arena_feed *f);
void arena_feed_unlock(struct arena_feed *f);

/* Append the events now due to out (one slice of an answer at a time);
 * 1 once `end` is in: nothing follows. Lock held. */
int arena_feed_build(struct arena_feed *f, struct buf *out);

/* Call wake(cls) once, with the lock held, at the battle's next change.
 * Lock held. */
void arena_feed_watch(struct arena_feed *f, void (*wake)(void *cls),
                      void *cls);

/* Forget the watch if it has not fired. Lock held. */
void arena_feed_unwatch(struct arena_feed *f);

/* Give back the feed's slots and free it; lock not held. Accepts NULL. */
void arena_feed_close(struct arena_feed *f);

/* A follow-up turn on its way (opaque). */
struct arena_turn;

/* Ask both sides of battle h a follow-up prompt; only the owner (session,
 * NULL when the client has none), only while ready. Refusals that need no
 * write come back at once (and done is never called): EC_BATTLE_NOT_FOUND,
 * EC_NOT_YOUR_BATTLE, EC_BATTLE_NOT_READY, EC_TOO_MANY_TURNS,
 * EC_MODELS_UNAVAILABLE (no longer configured), EC_STORAGE_TURN, EC_BUSY,
 * EC_INTERNAL_TURN. On EC_OK the turn is being stored without waiting,
 * *out is the caller's (arena_turn_result once done was called, then
 * arena_turn_free), and done runs on the writer thread when the turn is
 * stored and asked, or refused (a vote came first). */
enum agon_ec arena_turn_start(struct arena *a, struct arena_held *h,
                              const char *session, const char *prompt,
                              arena_vote_fn done, void *cls,
                              struct arena_turn **out);

/* EC_OK (the turn streams), EC_BATTLE_NOT_READY (voted meanwhile) or
 * EC_INTERNAL_TURN; *turn gets its 1-based number. */
enum agon_ec arena_turn_result(struct arena_turn *t, int *turn);

/* The caller's reference; done is never called after it. Accepts NULL. */
void arena_turn_free(struct arena_turn *t);

/* A regenerate or a retry on its way (opaque; battle/replace.c). */
struct arena_replace;

/* Re-ask the latest turn of battle h before the vote, for its owner
 * (session; NULL when the client has none). retry 0, a regenerate: both
 * sides with the same models, while the battle is ready and the turn has
 * been regenerated fewer than [limits] max_regenerations times. retry 1:
 * the one failed side of a battle in status "retry", with a model drawn
 * by the pairing rules (arena_pairing_draw_one), the other side's answer kept, at most
 * [limits] max_side_retries times a battle. The answers replaced are kept
 * (shown once voted). Refusals that need no write come back at once:
 * EC_BATTLE_NOT_FOUND, EC_NOT_YOUR_BATTLE, EC_REGENERATE_NOT_READY,
 * EC_TOO_MANY_REGENERATIONS, EC_NOTHING_TO_RETRY, EC_TOO_MANY_RETRIES,
 * EC_NO_REPLACEMENT_MODEL, EC_MODELS_UNAVAILABLE, EC_STORAGE_TURN,
 * EC_BUSY, EC_INTERNAL_TURN. On EC_OK as arena_turn_start: done runs on
 * the writer thread once the turn streams again, or was refused. */
enum agon_ec arena_replace_start(struct arena *a,
                                 struct arena_held *h,
                                 const char *session, int retry,
                                 arena_vote_fn done, void *cls,
                                 struct arena_replace **out);

/* EC_OK (the turn streams again), or why not (a vote came first:
 * EC_REGENERATE_NOT_READY or EC_NOTHING_TO_RETRY; a bound the database
 * holds: EC_TOO_MANY_REGENERATIONS, EC_TOO_MANY_RETRIES; else
 * EC_INTERNAL_TURN); *turn gets the turn's 1-based number. */
enum agon_ec arena_replace_result(struct arena_replace *r, int *turn);

/* The caller's reference; done is never called after it. Accepts NULL. */
void arena_replace_free(struct arena_replace *r);

/* A vote on its way (opaque). */
struct arena_vote;

/* What a stored vote did, as arena_vote_result tells it: strings
 * borrowed from the vote until arena_vote_free. */
struct arena_vote_outcome {
  const char *model[2];    /* the battle's models, a and b */
  double elo[2];           /* their live Elo after the vote */
  double elo_before[2];    /* and before it */
  int counted;             /* 0: stored, but counted in no rating */
  const char *reason;      /* why not counted, or "" */
};

/* Vote on battle id (see store_vote_tx) without waiting: the verdict and
 * the new ratings come from the writer's group commit, after which done
 * is called, unless arena_vote_free ran first. On success the caller owns
 * the returned vote (arena_vote_result, then arena_vote_free); NULL when
 * it could not be queued (done is not called then). Also updates the
 * battle in memory, metrics and caches once stored. */
/* reasons (a JSON array of the voter's reasons) and comment are stored
 * with the vote (either NULL: none); they change no rating. */
struct arena_vote *arena_vote_start(struct arena *a, const char *id,
                                    const char *session, const char *client,
                                    enum winner w, const char *reasons,
                                    const char *comment, arena_vote_fn done,
                                    void *cls);

/* The vote's result once done was called (see store_vote_tx; before,
 * EC_INTERNAL_VOTE), and when EC_OK its outcome into *out. A vote that
 * could not be stored while database writes fail is EC_STORAGE_VOTE (try
 * again), else EC_INTERNAL_VOTE. */
enum agon_ec arena_vote_result(struct arena_vote *v,
                               struct arena_vote_outcome *out);

/* The caller's reference; after it done is never called. Accepts NULL. */
void arena_vote_free(struct arena_vote *v);

/* ---- around the vote: shares and a session's own board ---- */

/* A request that waits for the writer thread (opaque): a share, an
 * unshare, a session's own board read back from the database. */
struct arena_wait;

/* Bytes of a share's token with its NUL (32 hex digits). */
#define ARENA_SHARE_TOKEN 33

/* Share (share != 0) or unshare battle h, for its owner (session, NULL
 * when the client has none) once it is voted. Refusals come back at once:
 * EC_BATTLE_NOT_FOUND, EC_NOT_YOUR_BATTLE, EC_BATTLE_NOT_VOTED (the same
 * for every battle not voted yet, whatever it holds), EC_TOO_MANY_SHARES
 * ([limits] max_shares reached), EC_NOT_QUEUED. A battle shared already
 * is answered at once too: EC_OK with *out NULL and its token. Else EC_OK
 * with *out the caller's (arena_wait_result once done was called, then
 * arena_wait_free): the share is being stored, and done runs on the
 * writer thread once it is. */
enum agon_ec arena_share_start(struct arena *a, struct arena_held *h,
                               const char *session, int share,
                               arena_vote_fn done, void *cls,
                               struct arena_wait **out,
                               char token[ARENA_SHARE_TOKEN]);

/* What a wait came to once done was called: EC_OK with *body (the
 * caller's: {"url"} for a share, {"shared": false} for an unshare, the
 * own board), else the error (EC_INTERNAL when it could not be stored or
 * read). */
enum agon_ec arena_wait_result(struct arena_wait *w, json_t **body);

/* The caller's reference; done is never called after it. Accepts NULL. */
void arena_wait_free(struct arena_wait *w);

/* Which battle token shares, from memory, never the database: 1 (id set,
 * as arena_hold wants it) or 0 on a node alone on its database (its
 * memory has every share); -1 when other nodes share it, whose shares and
 * take-backs only the database knows: ask arena_share_stored, off the
 * workers. */
int arena_share_lookup(struct arena *a, const char *token,
                       char id[ARENA_BATTLE_ID]);

/* The same as stored now: 1 (id set) or 0. Reads the database: on the
 * loader thread (arena_call_start), never on an HTTP worker. */
int arena_share_stored(struct arena *a, const char *token,
                       char id[ARENA_BATTLE_ID]);

/* Before id's battle, shared (so voted), is held: a copy in memory that
 * is not voted may predate a vote made through another node, and is
 * dropped, so that the hold reads it back. Memory only. */
void arena_share_refresh(struct arena *a, const char *id);

/* The shared battle of token, h (held for the id it names), as
 * arena_battle_json gives a voted battle (the prompts, both answers, the
 * names, the verdict, the reasons and the comment; no id), for the
 * caller. EC_OK, or EC_SHARE_NOT_FOUND (also when token no longer names
 * h's battle). */
enum agon_ec arena_shared_json(struct arena *a, const char *token,
                               struct arena_held *h, json_t **out);

/* Session's own board (NULL or "": none; its battles' counted votes,
 * replayed with the arena's K): {"votes": n, "models": [{"model", "elo",
 * "battles", "wins", "losses", "ties"}, ...] by Elo, best first}. From
 * memory when the session is held: EC_OK with *body and *out NULL. Else
 * its votes are read from the database on the writer thread: EC_OK with
 * *out for the caller (arena_wait_result once done was called), or
 * EC_BUSY when too many such reads are under way, EC_NOT_QUEUED. */
enum agon_ec arena_own_board(struct arena *a, const char *session,
                             arena_vote_fn done, void *cls, json_t **body,
                             struct arena_wait **out);

/* ---- ratings ---- */

/* The latest Bradley-Terry fit of the humans' votes, with a reference
 * for the caller (bt_snapshot_unref), or NULL before the first fit. */
struct bt_snapshot *arena_bt_snapshot(struct arena *a);

/* The latest fit of the leaderboard slice of key (rating/slices.h), with
 * a reference for the caller (bt_snapshot_unref), or NULL when it has no
 * fit yet (no counted vote in it, or its first fit is under way). */
struct bt_snapshot *arena_slice_snapshot(struct arena *a, const char *key);

/* The latest style-controlled board of slice key ("" for the whole
 * board), with a reference for the caller (style_board_unref), or NULL
 * while its first fit is under way (asking starts it). */
struct style_board *arena_style_board(struct arena *a, const char *key);

/* The board as of as_of (ms since the epoch), from the rating history
 * (battle/history.h), with a reference for the caller
 * (history_board_unref), or NULL while it is being computed (asking
 * starts it). */
struct history_board *arena_history_board(struct arena *a, int64_t as_of);

/* A copy of the rating history's series as JSON text (free it), or NULL
 * while it is being computed (asking starts it). */
char *arena_history_series(struct arena *a, size_t *len);

/* The counted votes in the slice of key now (0 for a slice without). */
long arena_slice_votes(struct arena *a, const char *key);

/* The slices that hold counted votes, with their counts, in key order:
 * *out for the caller to free. 0, or -1 when out of memory. */
int arena_slices(struct arena *a, struct slice_count **out, size_t *n);

/* A copy of the humans' live Elo table, all of it at one instant, for the
 * caller to keep (rating_table_release). 0, or -1 when out of memory
 * (*out is then empty). */
int arena_elo(struct arena *a, struct rating_table *out);

/* A judge's ratings from its stored verdicts, computed now: Elo with
 * factor k, and the pair counts to fit (see store_judge_ratings). 0 or -1;
 * the caller releases both either way. Reads the database: for work on
 * the loader thread (arena_call_start). */
int arena_judge_ratings(struct arena *a, const char *judge, double k,
                        struct rating_table *elo, struct pair_table *pairs);

/* What a leaderboard is made of, beside the configuration and the fit:
 * a board built when these were read stays right while they stay. */
struct arena_versions {
  long votes;      /* bumped by every stored vote */
  long judgments;  /* by every judgment stored by this process */
  long data;       /* store_data_version: commits of other processes too
                      (`agon judge` beside the server); < 0 when unknown */
};
/* From memory, at once: the data version as the arena's watch thread
 * last saw it (battle/version_watch.h), at most STORE_WATCH_MS old. */
void arena_versions(struct arena *a, struct arena_versions *out);

/* The counted votes de-duplication has left out of the BT boards. */
long arena_dedup_left_out(struct arena *a);

/* Wall-clock ms of the last stored vote (or of the start). */
int64_t arena_ratings_updated(struct arena *a);

/* ---- operations ---- */

/* 1 with the reason in why while database writes are failing (disk
 * full, I/O error: nothing new could be kept), else 0. Never touches the
 * database connection, so it answers at once. */
int arena_storage_fault(struct arena *a, char *why, size_t len);

/* Append the Prometheus exposition to out: metrics/'s counters, with the
 * upstream transfers, the streaming turns and the battles held in memory
 * sampled now. route_names[i] is the pattern of route i. Returns 0 or
 * -1. */
int arena_metrics_render(struct arena *a, struct buf *out,
                         const char *const *route_names, size_t n_routes);

/* A judge's counts and its agreement with the humans (see
 * store_judge_stats), owned by the caller; NULL on error. Reads the
 * database: for work on the loader thread (arena_call_start). */
json_t *arena_judge_stats(struct arena *a, const char *judge);

/* Every score of every finished agon bench run (store_bench_results),
 * to fn. Reads the database's read connection: for work on the loader
 * thread (arena_call_start). 0 or -1. */
int arena_bench_results(struct arena *a, store_bench_result_fn fn,
                        void *ctx);

/* The stored battles, newest first, for the admin (see
 * store_battles_list): NULL on error. Reads the database: for work on the
 * loader thread (arena_call_start). */
json_t *arena_battles_list(struct arena *a, const char *model,
                           const char *status, int64_t since, int64_t until,
                           long limit, long offset);

/* An export of every stored battle on its way (opaque; battle/export.c).
 * The relay it hands over is util/relay.h's. */
struct arena_export;
struct relay;

/* Export every stored battle in fmt (see store_export) without waiting,
 * on a thread of its own: into a temporary file first (unlinked, in
 * $TMPDIR or else /var/tmp: on disk, not in memory), then, as a consumer
 * takes them, its bytes through a relay that holds at most 256 KiB.
 * done(cls) runs on that thread once the file is written or the export
 * failed. EC_OK with *out the caller's (arena_export_result once done was
 * called, then arena_export_free); EC_NOT_QUEUED when ARENA_EXPORTS (2)
 * exports are under way already, out of memory, or the arena is stopping
 * (done is never called then). */
enum agon_ec arena_export_start(struct arena *a, enum export_format fmt,
                                arena_vote_fn done, void *cls,
                                struct arena_export **out);

/* What the export came to once done was called: EC_OK with *size, its
 * bytes, and *r, the relay's consumer end for the caller (read the bytes
 * from it, then relay_leave), or EC_INTERNAL with why in err (errlen
 * bytes: "export failed: ..."). */
enum agon_ec arena_export_result(struct arena_export *x, uint64_t *size,
                                 struct relay **r, char *err, size_t errlen);

/* The caller's reference; done is never called after it, and a relay not
 * taken is left (the export stops). Accepts NULL. */
void arena_export_free(struct arena_export *x);

#endif
