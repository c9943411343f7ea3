/* A vote: queued for the writer's group commit, decided there from the
 * battle as stored, then applied to the battle in memory. */
#include "battle/arena_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "rating/identity.h"
#include "util/digest.h"
#include "util/log.h"
#include "util/clock.h"

/* The vote's verdict, from the battle as stored (see vote_verdict_fn):
 * run by the writer inside the vote's transaction, so that a vote racing
 * the end of a stream is judged on the same facts as a calm one. */
struct verdict_ctx {
  const struct config *cfg;
  int64_t now;  /* wall ms the vote arrived */
};

static const char *vote_verdict(void *cls, const char *const *texts,
                                size_t n_texts, int64_t finished_at,
                                char *why, size_t whylen) {
  const struct verdict_ctx *vc = cls;
  /* the reasoning counts beside the answers (see turn_identity) */
  const char *word = identity_leak(vc->cfg, texts, n_texts);
  if (word) {
    snprintf(why, whylen, "identity: %s", word);
    return why;
  }
  if (finished_at &&
      (double)(vc->now - finished_at) / 1000.0 < vc->cfg->min_vote_seconds)
    return "too fast: voted before the answers could be read";
  return NULL;
}

/* One vote on its way through the writer. Two references: the writer's
 * (dropped once it has reported) and the caller's (arena_vote_free). */
struct arena_vote {
  struct waiter waiter;         /* first: see vote_release */
  struct arena *a;
  struct config *cfg;           /* a reference, for the verdict */
  struct verdict_ctx vc;
  char id[72];
  char session[40];
  char client_hash[65];
  enum winner w;
  char *reasons, *comment;      /* owned, or NULL */
  struct vote_request vr;
  struct vote_outcome out;
  enum agon_ec vs;
};

static void vote_release(struct waiter *w) {
  struct arena_vote *v = (struct arena_vote *)w;
  vote_outcome_release(&v->out);
  config_unref(v->cfg);
  free(v->reasons);
  free(v->comment);
  free(v);
}

/* What a stored vote changes beside the database: caches, the battle in
 * memory, metrics, the log. On the writer thread. */
static void vote_applied(struct arena *a, struct arena_vote *v) {
  struct vote_outcome *out = &v->out;
  atomic_fetch_add(&a->version, 1);
  if (out->dedup)
    atomic_fetch_add(&a->dedup_left_out, 1);
  if (out->counted) {
    rating_worker_poke(&a->bt);
    style_boards_poke(&a->style);
    history_poke(&a->history);
  }
  const char *reason = out->counted ? NULL : out->reason;
  metrics_vote(out->counted,
               !reason                              ? NULL
               : !strncmp(reason, "identity", 8)    ? "identity"
               : !strcmp(reason, "not anonymous")   ? "not_anonymous"
                                                    : "too_fast");
  atomic_store(&a->ratings_updated, now_ms());
  if (out->counted)
    own_board_vote(a, v->session, out->model[0], out->model[1], v->w);
  /* also when the battle is not in memory: a load of it under way may
   * have read it before the vote, and reads it again */
  struct battle *b = registry_get_changed(&a->battles, v->id);
  if (b) {
    pthread_mutex_lock(&b->lock);
    b->status = BATTLE_VOTED;
    b->winner = (int)v->w;
    if (!b->reasons && !b->comment) {
      /* moved: the vote keeps no use for them */
      b->reasons = v->reasons;
      b->comment = v->comment;
      v->reasons = v->comment = NULL;
    }
    battle_reveal_metrics_locked(b);
    b->touched = mono_ms();
    int reread = b->reasoning_dropped;
    pthread_mutex_unlock(&b->lock);
    /* the reasoning is shown now: read it back with the rest */
    if (reread)
      registry_forget(&a->battles, b);
    else
      registry_account(&a->battles, b);
    battle_unref(b);
  }
  log_info("msg=\"vote\" battle=%s winner=%s counted=%d%s%s%s", v->id,
           winner_name(v->w), out->counted, reason ? " reason=\"" : "",
           reason ? log_q(reason) : "", reason ? "\"" : "");
  /* Taggers with auto = true tag every voted battle, and only once it is
   * voted: its prompts are final then (a voted battle takes no more
   * turns), nothing about the battle is blind any more, and no request is
   * spent on battles nobody votes on. Their verdicts move the battle into
   * the category slices a little after its vote (see tags_moved). */
  for (size_t i = 0; i < v->cfg->n_taggers; i++)
    if (v->cfg->taggers[i].auto_tag &&
        tag_runner_enqueue(a->taggers, v->cfg, &v->cfg->taggers[i], v->id))
      log_warn("msg=\"not queued for tagging (queue full, or stopping): "
               "battle left for agon tag\" "
               "tagger=\"%s\" battle=%s",
               log_q(v->cfg->taggers[i].conn.name), v->id);
}

static void vote_decided(void *cls, enum agon_ec vs) {
  struct arena_vote *v = cls;
  if (vs == EC_OK)
    vote_applied(v->a, v);
  v->vs = vs;
  waiter_tell(&v->waiter);
}

struct arena_vote *arena_vote_start(struct arena *a, const char *id,
                                    const char *session, const char *client,
                                    enum winner w, const char *reasons,
                                    const char *comment, arena_vote_fn done,
                                    void *cls) {
  struct arena_vote *v = calloc(1, sizeof *v);
  if (!v)
    return NULL;
  v->reasons = reasons ? strdup(reasons) : NULL;
  v->comment = comment ? strdup(comment) : NULL;
  if ((reasons && !v->reasons) || (comment && !v->comment)) {
    free(v->reasons);
    free(v->comment);
    free(v);
    return NULL;
  }
  waiter_init(&v->waiter, done, cls, vote_release);
  v->a = a;
  v->cfg = arena_config(a);
  v->vc.cfg = v->cfg;
  v->vc.now = now_ms();
  snprintf(v->id, sizeof v->id, "%s", id);
  snprintf(v->session, sizeof v->session, "%s", session);
  if (hmac_sha256_hex(a->secret, strlen(a->secret), client, strlen(client),
                      v->client_hash))
    v->client_hash[0] = '\0';
  v->client_hash[32] = '\0';
  v->w = w;
  v->vr = (struct vote_request){.id = v->id,
                                .session = v->session,
                                .w = w,
                                .k = v->cfg->elo_k,
                                .counted = 1,
                                .client = v->client_hash[0] ? v->client_hash
                                                            : NULL,
                                .verdict = vote_verdict,
                                .verdict_cls = &v->vc,
                                .dedup_min = v->cfg->dedup_min_count,
                                .reasons = v->reasons,
                                .comment = v->comment};
  if (store_writer_vote_async(a->writer, &v->vr, &v->out, vote_decided, v)) {
    waiter_unref(&v->waiter);  /* the writer's, never to tell */
    waiter_leave(&v->waiter);  /* ours: frees v */
    return NULL;
  }
  return v;
}

enum agon_ec arena_vote_result(struct arena_vote *v,
                               struct arena_vote_outcome *out) {
  enum agon_ec vs = waiter_told(&v->waiter) ? v->vs : EC_INTERNAL_VOTE;
  if (vs == EC_OK)
    *out = (struct arena_vote_outcome){
        .model = {v->out.model[0], v->out.model[1]},
        .elo = {v->out.elo[0], v->out.elo[1]},
        .elo_before = {v->out.elo_before[0], v->out.elo_before[1]},
        .counted = v->out.counted,
        .reason = v->out.reason};
  char why[200];
  if (vs == EC_INTERNAL_VOTE &&
      store_writer_fault(v->a->writer, why, sizeof why))
    vs = EC_STORAGE_VOTE; /* not counted while the disk fails: try again */
  return vs;
}

void arena_vote_free(struct arena_vote *v) {
  if (v)
    waiter_leave(&v->waiter);
}
