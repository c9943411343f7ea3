/* Asking both models a turn, and taking their answers: the upstream
 * callbacks, and the end of a turn once it is stored. */
#include "battle/arena_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rating/dedup.h"
#include "rating/identity.h"
#include "render/markdown.h"
#include "util/log.h"
#include "util/clock.h"

/* What an upstream request reports back to: one side of one turn. */
struct side_ctx {
  struct arena *a;
  struct battle *b;   /* a reference */
  int turn;
  int side;
};

/* ---- upstream callbacks: run on the upstream thread ---- */

static void side_on_text(void *cls, const char *text, size_t len) {
  struct side_ctx *sc = cls;
  struct battle *b = sc->b;
  pthread_mutex_lock(&b->lock);
  struct battle_side *s = &b->turns[sc->turn].side[sc->side];
  if (buf_append(&s->text, text, len) == 0) {
    b->touched = mono_ms();
    battle_wake_locked(b);
  }
  pthread_mutex_unlock(&b->lock);
}

/* Reasoning is only stored: it is sent once the side is done (with its
 * HTML), so no watcher needs waking. */
static void side_on_reasoning(void *cls, const char *text, size_t len) {
  struct side_ctx *sc = cls;
  struct battle *b = sc->b;
  pthread_mutex_lock(&b->lock);
  struct battle_side *s = &b->turns[sc->turn].side[sc->side];
  if (buf_append(&s->reasoning, text, len) == 0)
    b->touched = mono_ms();
  pthread_mutex_unlock(&b->lock);
}

/* A finished turn on its way to the database. */
struct turn_ctx {
  struct arena *a;
  struct battle *b;   /* a reference */
  int turn;           /* 0-based */
  int failed;
};

/* Turn `turn` (0-based) of b is over, and stored as far as it will be:
 * only now may the battle be voted on or continued, so that every vote
 * finds its turn in the database, and only now is it at rest, counted
 * against max_cached_battle_bytes and evictable. */
/* stored: the turn's end was committed. A turn with exactly one failed
 * side, stored, leaves the battle for a retry while the battle has
 * retries left (battle_retry_left_locked); else a failed side fails it. */
static void turn_end(struct arena *a, struct battle *b, int turn, int failed,
                     int stored) {
  atomic_fetch_sub(&a->streaming, 1);
  struct config *cfg = arena_config(a);
  pthread_mutex_lock(&b->lock);
  struct battle_turn *t = &b->turns[turn];
  int retry = failed && stored && t->side[0].failed != t->side[1].failed &&
              battle_retry_left_locked(b, cfg);
  /* a vote may have come in between the turn's commit and now: it was
   * decided from the stored turn, and stays */
  if (b->status != BATTLE_VOTED)
    b->status = retry    ? BATTLE_RETRY
                : failed ? BATTLE_FAILED
                         : BATTLE_READY;
  if (failed && !retry)
    battle_reveal_metrics_locked(b);  /* it can no longer be voted */
  /* stored (or lost): a blind battle's reasoning is the database's now */
  if (b->status != BATTLE_VOTED)
    battle_drop_reasoning_locked(b);
  b->finished_at = now_ms();
  atomic_store(&b->cancel, 0);
  b->touched = mono_ms();
  pthread_mutex_unlock(&b->lock);
  /* counted before the streams hear of it (not under the battle's lock:
   * see battle/registry.h) */
  registry_account(&a->battles, b);
  pthread_mutex_lock(&b->lock);
  battle_wake_locked(b);
  pthread_mutex_unlock(&b->lock);
  log_info("msg=\"turn finished\" battle=%s turn=%d status=%s", b->id,
           turn + 1, retry ? "retry" : failed ? "failed" : "ready");
  if (!failed && battle_sides(b) == 2) {
    /* judges with auto = true get every finished battle with two sides (a
     * later turn replaces the verdict on the earlier ones) */
    for (size_t i = 0; i < cfg->n_judges; i++)
      if (cfg->judges[i].auto_judge)
        judge_runner_enqueue(a->judges, &cfg->judges[i], b->id);
  }
  config_unref(cfg);
}

/* The writer stored a finished turn (ok), or could not. Runs on the
 * writer thread (or wherever the turn could not be queued). */
static void turn_stored(void *cls, int ok) {
  struct turn_ctx *tc = cls;
  if (!ok)
    log_error("msg=\"cannot store finished turn\" battle=%s", tc->b->id);
  turn_end(tc->a, tc->b, tc->turn, tc->failed || !ok, ok);
  battle_unref(tc->b);
  free(tc);
}

/* Both sides of turn `turn` are final: store the turn's end (see
 * arena_impl.h). Lock not held. */
void turn_complete(struct arena *a, struct battle *b, int turn) {
  struct battle_turn *t = &b->turns[turn];
  /* Both sides are final: their texts no longer change, and no new turn
   * can start before the status leaves STREAMING, which happens once the
   * turn is stored (turn_stored). */
  struct turn_ctx *tc = calloc(1, sizeof *tc);
  int failed = t->side[0].failed || t->side[1].failed;
  if (!tc) {
    log_error("msg=\"cannot store finished turn\" battle=%s", b->id);
    turn_end(a, b, turn, 1, 0); /* left 'streaming' in the database:
                                       failed at the next start */
  } else {
    tc->a = a;
    tc->b = b;
    tc->turn = turn;
    tc->failed = failed;
    battle_ref(b);
    /* the answers are borrowed until turn_stored: no text is appended
     * after a side finished, and no turn is added (which could move
     * them) while the battle is STREAMING; tc's reference keeps b */
    struct turn_answer ans[2];
    for (int i = 0; i < 2; i++) {
      ans[i].text = t->side[i].text.data;
      ans[i].reasoning = t->side[i].reasoning.data; /* NULL when none */
      ans[i].error = t->side[i].failed ? t->side[i].detail : NULL;
    }
    /* The identity check for the vote's verdict, made once here rather
     * than in the vote's transaction on the writer thread (a scan of
     * every word over answers of up to max_answer_bytes): the prompt,
     * the answers and the reasoning the voter will read. */
    const char *texts[VOTE_TEXTS_PER_TURN] = {
        t->prompt, ans[0].text, ans[1].text, ans[0].reasoning,
        ans[1].reasoning};
    struct config *cfg = arena_config(a);
    const char *word = identity_leak(cfg, texts, VOTE_TEXTS_PER_TURN);
    char identity[512];
    if (word)
      snprintf(identity, sizeof identity, "%s", word);
    config_unref(cfg);
    /* The battle's tags for the slices, from the whole conversation
     * (earlier turns are final too): computed here for the same reason,
     * stored with the turn, public only through a counted vote. */
    struct battle_tags tags, *tp = NULL;
    struct battle_tags_turn *conv =
        failed || battle_sides(b) < 2
            ? NULL /* a direct chat is never voted: no slice */
            : calloc((size_t)turn + 1, sizeof *conv);
    for (int i = 0; conv && i <= turn; i++) {
      conv[i].prompt = b->turns[i].prompt;
      for (int s2 = 0; s2 < 2; s2++)
        conv[i].answer[s2] = b->turns[i].side[s2].text.data;
    }
    if (conv && !battle_tags_compute(conv, (size_t)turn + 1, &tags)) {
      struct dedup_prompt dp;
      dedup_prompt_init(&dp);
      for (int i = 0; i <= turn; i++)
        dedup_prompt_add_turn(&dp, conv[i].prompt ? conv[i].prompt : "",
                              conv[i].prompt ? strlen(conv[i].prompt) : 0);
      tags.prompt_hash = dp.hash;
      tp = &tags;
    }
    free(conv);
    if (store_writer_turn_finish(a->writer, b->id, turn + 1, ans,
                                 now_ms(), failed ? "failed" : "ready",
                                 word ? identity : NULL, tp, turn_stored,
                                 tc))
      turn_stored(tc, 0);
  }
}

static void side_on_finish(void *cls, int ok, const char *public_msg,
                           const char *detail,
                           const struct upstream_stats *stats) {
  struct side_ctx *sc = cls;
  struct arena *a = sc->a;
  struct battle *b = sc->b;
  int complete;
  char *html = NULL;
  size_t html_len = 0;

  /* a failed side that may be retried leaves the other side to finish */
  int retry = 0;
  if (!ok) {
    struct config *cfg = arena_config(a);
    pthread_mutex_lock(&b->lock);
    retry = battle_retry_left_locked(b, cfg);
    pthread_mutex_unlock(&b->lock);
    config_unref(cfg);
  }
  if (ok) {
    /* the text is final: render it outside the lock */
    pthread_mutex_lock(&b->lock);
    struct buf *tx = &b->turns[sc->turn].side[sc->side].text;
    char *copy = strndup(tx->data ? tx->data : "", tx->len);
    size_t len = tx->len;
    pthread_mutex_unlock(&b->lock);
    if (copy)
      html = markdown_to_html(copy, len);
    free(copy);
    html_len = html ? strlen(html) : 0;
  }
  pthread_mutex_lock(&b->lock);
  struct battle_turn *t = &b->turns[sc->turn];
  struct battle_side *s = &t->side[sc->side];
  /* held back until the battle is revealed: see battle_reveal_metrics */
  s->m.outcome = ok ? 1 : 2;
  s->m.ttft = ok && stats ? stats->ttft : -1;
  s->m.tokens_per_s = -1;
  if (ok && stats && stats->ttft >= 0) {
    double streaming = stats->duration - stats->ttft;
    if (streaming > 0)
      s->m.tokens_per_s = (double)stats->chunks / streaming;
  }
  s->finished = 1;
  s->html = html;
  s->html_len = html_len;
  if (!ok) {
    s->failed = 1;
    if (atomic_load(&b->cancel))
      public_msg = "stopped because the other answer failed";
    snprintf(s->public_error, sizeof s->public_error, "%s", public_msg);
    s->detail = strdup(detail ? detail : "");
    /* a failed battle needs no other side; one that may retry this side
     * keeps the other's answer */
    if (!retry)
      atomic_store(&b->cancel, 1);
  }
  complete = t->side[0].finished && t->side[1].finished;
  if (!complete)
    battle_wake_locked(b);
  pthread_mutex_unlock(&b->lock);

  if (complete)
    turn_complete(a, b, sc->turn);
  battle_unref(b);
  free(sc);
}

/* The conversation side `side` has seen up to turn `turn` (0-based),
 * ending with that turn's prompt. Caller holds the battle lock. */
static struct chat_message *conversation(struct battle *b, int turn, int side,
                                         size_t *n) {
  struct chat_message *m = calloc((size_t)turn * 2 + 1, sizeof *m);
  if (!m)
    return NULL;
  size_t k = 0;
  for (int i = 0; i < turn; i++) {
    m[k].role = "user";
    m[k++].content = b->turns[i].prompt;
    m[k].role = "assistant";
    m[k++].content = b->turns[i].side[side].text.data
                         ? b->turns[i].side[side].text.data
                         : "";
  }
  m[k].role = "user";
  m[k++].content = b->turns[turn].prompt;
  *n = k;
  return m;
}

void ask_side_locked(struct arena *a, struct battle *b, int turn, int side) {
  size_t n = 0;
  struct chat_message *msgs = conversation(b, turn, side, &n);
  struct side_ctx *sc = calloc(1, sizeof *sc);
  struct upstream_callbacks cb = {.on_text = side_on_text,
                                  .on_reasoning = side_on_reasoning,
                                  .on_finish = side_on_finish,
                                  .cls = sc};
  int rc = -1;
  if (msgs && sc) {
    sc->a = a;
    sc->b = b;
    sc->turn = turn;
    sc->side = side;
    battle_ref(b);
    rc = upstream_chat(a->up, &b->model[side], msgs, n, b->max_answer,
                       &b->cancel, &cb);
    if (!rc)
      b->turns[turn].side[side].m.started = 1;
    if (rc)
      battle_unref(b);
  }
  free(msgs);
  if (rc) {
    free(sc);
    struct battle_side *s = &b->turns[turn].side[side];
    s->finished = s->failed = 1;
    snprintf(s->public_error, sizeof s->public_error,
             "the model could not be asked");
    log_error("msg=\"cannot queue upstream request\" battle=%s", b->id);
    /* the other side will see this one finished and complete the turn;
     * if both failed to queue, complete it here */
    if (b->turns[turn].side[0].finished && b->turns[turn].side[1].finished)
      b->status = BATTLE_FAILED;
  }
}

void ask_both_locked(struct arena *a, struct battle *b, int turn) {
  if (battle_sides(b) < 2)
    b->turns[turn].side[1].finished = 1;  /* a direct chat has no side b */
  for (int side = 0; side < battle_sides(b); side++)
    ask_side_locked(a, b, turn, side);
}
