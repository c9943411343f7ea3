#include "battle/battle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/metrics.h"
#include "util/clock.h"
#include "util/loose_text.h"

static const char *const status_names[] = {"streaming", "ready", "failed",
                                           "voted", "retry"};

const char *battle_status_name(enum battle_status s) { return status_names[s]; }

static const char *const mode_names[] = {"anony", "named", "direct"};

const char *battle_mode_name(enum battle_mode m) { return mode_names[m]; }

int battle_sides(const struct battle *b) {
  return b->mode == BATTLE_DIRECT ? 1 : 2;
}

int battle_turn_identical_locked(const struct battle *b, size_t i) {
  if (battle_sides(b) < 2 || i >= b->n_turns ||
      (i + 1 == b->n_turns && b->status == BATTLE_STREAMING))
    return 0;
  const struct battle_side *x = &b->turns[i].side[0], *y = &b->turns[i].side[1];
  if (!x->finished || !y->finished || x->failed || y->failed)
    return 0;
  return text_same_loose(x->text.data ? x->text.data : "", x->text.len,
                         y->text.data ? y->text.data : "", y->text.len);
}

struct battle *battle_new(const char *id, const char *session,
                          int64_t created_at, const struct model_config *a,
                          const struct model_config *b) {
  struct battle *bt = calloc(1, sizeof *bt);
  if (!bt)
    return NULL;
  snprintf(bt->id, sizeof bt->id, "%s", id);
  snprintf(bt->session, sizeof bt->session, "%s", session);
  bt->created_at = created_at;
  atomic_init(&bt->refs, 1);
  atomic_init(&bt->cancel, 0);
  pthread_mutex_init(&bt->lock, NULL);
  model_config_copy(&bt->model[0], a);
  if (b)
    model_config_copy(&bt->model[1], b);
  bt->status = BATTLE_STREAMING;
  bt->mode = BATTLE_ANONY;
  bt->winner = -1;
  bt->touched = mono_ms();
  return bt;
}

void battle_ref(struct battle *b) { atomic_fetch_add(&b->refs, 1); }

void battle_unref(struct battle *b) {
  if (!b || atomic_fetch_sub(&b->refs, 1) != 1)
    return;
  for (size_t i = 0; i < b->n_turns; i++) {
    struct battle_turn *t = &b->turns[i];
    free(t->prompt);
    for (int s = 0; s < 2; s++) {
      buf_release(&t->side[s].text);
      buf_release(&t->side[s].reasoning);
      free(t->side[s].detail);
      free(t->side[s].html);
    }
  }
  free(b->turns);
  free(b->reasons);
  free(b->comment);
  json_decref(b->replaced);
  json_decref(b->replacements);
  for (size_t i = 0; i < b->n_held; i++)
    free(b->held[i].model);
  free(b->held);
  model_config_release(&b->model[0]);
  model_config_release(&b->model[1]);
  pthread_mutex_destroy(&b->lock);
  free(b);
}

int battle_add_turn_locked(struct battle *b, const char *prompt,
                           size_t max_answer) {
  struct battle_turn *turns =
      realloc(b->turns, (b->n_turns + 1) * sizeof *turns);
  if (!turns)
    return -1;
  b->turns = turns;
  struct battle_turn *t = &turns[b->n_turns];
  memset(t, 0, sizeof *t);
  t->prompt = strdup(prompt);
  if (!t->prompt)
    return -1;
  for (int s = 0; s < 2; s++) {
    buf_init(&t->side[s].text, max_answer);
    buf_init(&t->side[s].reasoning, max_answer);
  }
  return (int)b->n_turns++;
}

size_t battle_bytes_locked(const struct battle *b) {
  size_t n = sizeof *b + b->n_turns * sizeof *b->turns;
  for (size_t i = 0; i < b->n_turns; i++) {
    const struct battle_turn *t = &b->turns[i];
    n += strlen(t->prompt) + 1;
    for (int s = 0; s < 2; s++) {
      const struct battle_side *side = &t->side[s];
      n += side->text.cap + side->reasoning.cap;
      if (side->html)
        n += side->html_len + 1;
      if (side->detail)
        n += strlen(side->detail) + 1;
    }
  }
  /* the replaced answers' texts; not the held metrics' names (their
   * sizes would tell the models apart) */
  return n + b->replaced_bytes;
}

void battle_drop_reasoning_locked(struct battle *b) {
  for (size_t i = 0; i < b->n_turns; i++) {
    for (int s = 0; s < 2; s++) {
      struct buf *r = &b->turns[i].side[s].reasoning;
      if (r->data) {
        buf_release(r);
        b->reasoning_dropped = 1;
      }
    }
  }
}

void battle_wake_locked(struct battle *b) {
  struct battle_watcher *w = b->watchers;
  b->watchers = NULL;
  while (w) {
    struct battle_watcher *next = w->next;
    w->next = NULL;
    w->wake(w);
    w = next;
  }
}

void battle_watch_locked(struct battle *b, struct battle_watcher *w) {
  w->next = b->watchers;
  b->watchers = w;
}

void battle_unwatch_locked(struct battle *b, struct battle_watcher *w) {
  for (struct battle_watcher **p = &b->watchers; *p; p = &(*p)->next) {
    if (*p == w) {
      *p = w->next;
      w->next = NULL;
      return;
    }
  }
}

int battle_side_replace_locked(struct battle *b, int turn, int side,
                               const char *kind) {
  struct battle_turn *t = &b->turns[turn];
  struct battle_side *s = &t->side[side];
  if (!b->replaced && !(b->replaced = json_array()))
    return -1;
  struct held_metric *held = realloc(b->held, (b->n_held + 1) * sizeof *held);
  if (!held)
    return -1;
  b->held = held;
  char *model = strdup(b->model[side].name ? b->model[side].name : "");
  json_t *row = json_pack(
      "{s:i, s:s, s:i, s:s, s:s, s:s%, s:b}", "turn", turn + 1, "side",
      side ? "b" : "a", "attempt", t->attempt + 1, "kind", kind, "model",
      model ? model : "", "answer", s->text.data ? s->text.data : "",
      s->text.len, "failed", s->failed);
  if (!model || !row || json_array_append_new(b->replaced, row)) {
    free(model);
    return -1;
  }
  b->replaced_bytes += s->text.len;
  held[b->n_held++] = (struct held_metric){.model = model, .m = s->m};
  buf_release(&s->text);
  buf_release(&s->reasoning);
  buf_init(&s->text, b->max_answer);
  buf_init(&s->reasoning, b->max_answer);
  free(s->detail);
  free(s->html);
  s->detail = s->html = NULL;
  s->html_len = 0;
  s->finished = s->failed = 0;
  s->public_error[0] = '\0';
  memset(&s->m, 0, sizeof s->m);
  return 0;
}

/* Publish one side's held-back metrics under model (once). */
static void reveal_one(const char *model, struct side_metrics *m) {
  if (m->published || !m->started || !m->outcome)
    return;
  metrics_battle(model, SIDE_STARTED);
  metrics_battle(model, m->outcome == 1 ? SIDE_FINISHED : SIDE_FAILED);
  if (m->outcome == 1 && m->ttft >= 0)
    metrics_upstream(model, m->ttft, m->tokens_per_s);
  m->published = 1;
}

void battle_reveal_metrics_locked(struct battle *b) {
  for (size_t i = 0; i < b->n_held; i++)
    reveal_one(b->held[i].model, &b->held[i].m);
  for (size_t i = 0; i < b->n_turns; i++) {
    for (int s = 0; s < 2; s++)
      reveal_one(b->model[s].name, &b->turns[i].side[s].m);
  }
}
