/* A battle's event feed (arena_feed_open): its latest turn as Server-Sent
 * Events for one client. First the text so far, then live deltas, each
 * side's done (with its HTML) or error, and `end`. The events are built
 * under the battle lock by whichever thread changed the battle (the
 * upstream loop, for every delta); an http/sse_stream.h stream, wired by
 * handlers/battle_events.c, writes them to the client. */
#include "battle/arena_impl.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics/metrics.h"

struct arena_feed {
  struct battle_watcher watcher;   /* first: see feed_of */
  void (*wake)(void *cls);         /* whom the watcher wakes */
  void *wake_cls;
  struct battle *b;                /* a reference */
  int turn;                        /* 0-based */
  int attempt;                     /* the turn's attempt it follows */
  size_t sent[2];                  /* bytes of each answer sent */
  int side_closed[2];              /* done or error sent */
  int ended;                       /* end sent */
  size_t max_build;
  struct arena *arena;
  char client[64];                 /* its slot in arena->streams */
};

/* At most this much of one answer goes into one delta event: a stream
 * that falls behind holds a slice, not the whole backlog. */
#define DELTA_SLICE 16384

static struct arena_feed *feed_of(struct battle_watcher *w) {
  return (struct arena_feed *)((char *)w -
                               offsetof(struct arena_feed, watcher));
}

static void feed_wake(struct battle_watcher *w) {
  struct arena_feed *f = feed_of(w);
  f->wake(f->wake_cls);
}

enum agon_ec arena_feed_open(struct arena *a, struct arena_held *h,
                             const char *client, struct arena_feed **out) {
  *out = NULL;
  struct battle *b = arena_held_battle(h);
  if (!b)
    return EC_BATTLE_NOT_FOUND;
  struct config *cfg = arena_config(a);
  long per_battle = cfg->max_streams_per_battle;
  /* an answer of max bytes may be escaped up to 6x in one delta, and its
   * HTML (larger still) in one done event, for each side */
  size_t max_build = (size_t)cfg->max_answer_bytes * 80 + 65536;
  int taken = keycount_take(&a->streams, client, cfg->max_streams_per_client);
  config_unref(cfg);
  if (taken) {
    battle_unref(b);
    return EC_TOO_MANY_STREAMS;
  }
  pthread_mutex_lock(&b->lock);
  int full = per_battle > 0 && b->n_streams >= per_battle;
  int empty = b->n_turns == 0;
  if (!full && !empty)
    b->n_streams++;
  int turn = b->n_turns ? (int)b->n_turns - 1 : 0;
  int attempt = b->n_turns ? b->turns[turn].attempt : 0;
  pthread_mutex_unlock(&b->lock);
  if (full || empty) {
    keycount_give(&a->streams, client);
    battle_unref(b);
    return empty ? EC_BATTLE_NOT_FOUND : EC_TOO_MANY_BATTLE_STREAMS;
  }
  struct arena_feed *f = calloc(1, sizeof *f);
  if (!f) {
    pthread_mutex_lock(&b->lock);
    b->n_streams--;
    pthread_mutex_unlock(&b->lock);
    keycount_give(&a->streams, client);
    battle_unref(b);
    return EC_INTERNAL;
  }
  f->watcher.wake = feed_wake;
  f->b = b;
  f->turn = turn;
  f->side_closed[1] = battle_sides(b) < 2;  /* a direct chat has no b */
  f->attempt = attempt;
  f->max_build = max_build;
  f->arena = a;
  snprintf(f->client, sizeof f->client, "%s", client);
  metrics_streams(1);  /* given back in arena_feed_close */
  *out = f;
  return EC_OK;
}

size_t arena_feed_max_build(const struct arena_feed *f) {
  return f->max_build;
}

void arena_feed_lock(struct arena_feed *f) { pthread_mutex_lock(&f->b->lock); }

void arena_feed_unlock(struct arena_feed *f) {
  pthread_mutex_unlock(&f->b->lock);
}

void arena_feed_watch(struct arena_feed *f, void (*wake)(void *cls),
                      void *cls) {
  f->wake = wake;
  f->wake_cls = cls;
  battle_watch_locked(f->b, &f->watcher);
}

void arena_feed_unwatch(struct arena_feed *f) {
  battle_unwatch_locked(f->b, &f->watcher);
}

void arena_feed_close(struct arena_feed *f) {
  if (!f)
    return;
  metrics_streams(-1);
  pthread_mutex_lock(&f->b->lock);
  f->b->n_streams--;
  pthread_mutex_unlock(&f->b->lock);
  keycount_give(&f->arena->streams, f->client);
  battle_unref(f->b);
  free(f);
}

static int add_event(struct buf *out, const char *name, json_t *data) {
  char *text = json_dumps(data, JSON_COMPACT);
  json_decref(data);
  if (!text)
    return -1;
  int rc = buf_append_str(out, "event: ") ||
           buf_append_str(out, name) ||
           buf_append_str(out, "\ndata: ") ||
           buf_append_str(out, text) ||
           buf_append_str(out, "\n\n");
  free(text);
  return rc ? -1 : 0;
}

int arena_feed_build(struct arena_feed *f, struct buf *out) {
  struct battle *b = f->b;
  struct battle_turn *t = &b->turns[f->turn];
  static const char *const names[2] = {"a", "b"};
  int turn = f->turn + 1;
  if (t->attempt != f->attempt) {
    /* a regenerate or a retry emptied the turn since the feed opened: one
     * that has sent nothing follows the new attempt from its start; one
     * that has ends (the page opens a new feed for the new attempt) */
    if (f->sent[0] || f->sent[1] || f->side_closed[0] ||
        (battle_sides(b) == 2 && f->side_closed[1]))
      return 1;
    f->attempt = t->attempt;
  }
  for (int s = 0; s < battle_sides(b); s++) {
    struct battle_side *side = &t->side[s];
    if (side->text.len > f->sent[s]) {
      /* a slice, cut at a character boundary (the text is valid UTF-8) */
      size_t n = side->text.len - f->sent[s];
      if (n > DELTA_SLICE) {
        n = DELTA_SLICE;
        while (n > 0 &&
               ((unsigned char)side->text.data[f->sent[s] + n] & 0xC0) == 0x80)
          n--;
      }
      json_t *d = json_pack("{s:s, s:i, s:s%}", "side", names[s], "turn", turn,
                            "text", side->text.data + f->sent[s], n);
      if (add_event(out, "delta", d))
        return 0;
      f->sent[s] += n;
    }
    if (side->finished && !f->side_closed[s] &&
        f->sent[s] == side->text.len) {
      if (side->failed)
        add_event(out, "error",
                  json_pack("{s:s, s:i, s:s}", "side", names[s], "turn", turn,
                            "message", side->public_error));
      else
        /* no reasoning here: whether a side reasons at all would tell
         * a reasoning model apart before the vote (GET /api/battles/ID
         * gives it once voted) */
        add_event(out, "done",
                  json_pack("{s:s, s:i, s:s?}", "side", names[s], "turn",
                            turn, "html", side->html));
      f->side_closed[s] = 1;
    }
  }
  int turn_over = b->status != BATTLE_STREAMING || (size_t)turn < b->n_turns;
  if (f->side_closed[0] && f->side_closed[1] && turn_over && !f->ended) {
    int failed = t->side[0].failed || t->side[1].failed;
    /* identical (only when true): from the public answers alone (see
     * battle_turn_identical_locked); the names of a battle the visitor
     * chose, never of an anonymous one */
    /* "retry": one side failed and may be retried (battle.h) */
    const char *status = !failed ? "ready"
                         : b->status == BATTLE_RETRY &&
                                 (size_t)turn == b->n_turns
                             ? "retry"
                             : "failed";
    json_t *end = json_pack("{s:i, s:s}", "turn", turn, "status", status);
    if (battle_turn_identical_locked(b, (size_t)f->turn))
      json_object_set_new(end, "identical", json_true()); /* else absent */
    if (b->mode != BATTLE_ANONY)
      json_object_set_new(
          end, "models",
          json_pack("{s:s, s:s?}", "a", b->model[0].name, "b",
                    battle_sides(b) == 2 ? b->model[1].name : NULL));
    add_event(out, "end", end);
    f->ended = 1;
  }
  return f->ended;
}
