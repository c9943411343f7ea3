/* GET /api/battles/ID/events: the latest turn as Server-Sent Events.
 *
 * First the text so far, then live deltas, each side's done (with its
 * HTML) or error, and `end`; then the stream closes. The battle is the
 * producer of an http/sse_stream.h stream: the events are built here,
 * under the battle lock, by whichever thread changed the battle, and
 * written to the client's socket there. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"
#include "http/sse_stream.h"
#include "metrics/metrics.h"

struct event_stream {
  struct battle_watcher watcher;   /* first: see stream_of */
  struct sse_stream *stream;       /* whom the watcher wakes */
  struct battle *b;                /* a reference */
  int turn;                        /* 0-based */
  size_t sent[2];                  /* bytes of each answer sent */
  int side_closed[2];              /* done or error sent */
  int ended;                       /* end sent */
  struct arena *arena;
  char client[64];                 /* its slot in arena->streams */
};

/* At most this much of one answer goes into one delta event: a stream
 * that falls behind holds a slice, not the whole backlog. */
#define DELTA_SLICE 16384

static struct event_stream *stream_of(struct battle_watcher *w) {
  return (struct event_stream *)((char *)w -
                                 offsetof(struct event_stream, watcher));
}

/* ---- the battle as an sse_producer: every call with the battle lock ---- */

static void stream_wake(struct battle_watcher *w) {
  sse_stream_wake(stream_of(w)->stream);
}

static void producer_watch(void *cls, struct sse_stream *s) {
  struct event_stream *es = cls;
  es->stream = s;
  battle_watch_locked(es->b, &es->watcher);
}

static void producer_unwatch(void *cls) {
  struct event_stream *es = cls;
  battle_unwatch_locked(es->b, &es->watcher);
}

/* The stream is gone (no lock held): give back its slots. */
static void producer_release(void *cls) {
  struct event_stream *es = cls;
  metrics_streams(-1);
  pthread_mutex_lock(&es->b->lock);
  es->b->n_streams--;
  pthread_mutex_unlock(&es->b->lock);
  keycount_give(&es->arena->streams, es->client);
  battle_unref(es->b);
  free(es);
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

/* Build every event that is due into out; 1 once `end` is in. */
static int producer_build(void *cls, struct buf *out) {
  struct event_stream *es = cls;
  struct battle *b = es->b;
  struct battle_turn *t = &b->turns[es->turn];
  static const char *const names[2] = {"a", "b"};
  int turn = es->turn + 1;
  for (int s = 0; s < 2; s++) {
    struct battle_side *side = &t->side[s];
    if (side->text.len > es->sent[s]) {
      /* a slice, cut at a character boundary (the text is valid UTF-8) */
      size_t n = side->text.len - es->sent[s];
      if (n > DELTA_SLICE) {
        n = DELTA_SLICE;
        while (n > 0 &&
               ((unsigned char)side->text.data[es->sent[s] + n] & 0xC0) == 0x80)
          n--;
      }
      json_t *d = json_pack("{s:s, s:i, s:s%}", "side", names[s], "turn", turn,
                            "text", side->text.data + es->sent[s], n);
      if (add_event(out, "delta", d))
        return 0;
      es->sent[s] += n;
    }
    if (side->finished && !es->side_closed[s] &&
        es->sent[s] == side->text.len) {
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
      es->side_closed[s] = 1;
    }
  }
  int turn_over = b->status != BATTLE_STREAMING || (size_t)turn < b->n_turns;
  if (es->side_closed[0] && es->side_closed[1] && turn_over && !es->ended) {
    int failed = t->side[0].failed || t->side[1].failed;
    add_event(out, "end",
              json_pack("{s:i, s:s}", "turn", turn, "status",
                        failed ? "failed" : "ready"));
    es->ended = 1;
  }
  return es->ended;
}

static const struct sse_producer battle_producer = {
    .build = producer_build,
    .watch = producer_watch,
    .unwatch = producer_unwatch,
    .release = producer_release,
};


enum MHD_Result handle_battle_events(struct request *rq) {
  struct battle *b = arena_battle_find(rq->arena, rq->param);
  if (!b)
    return reply_ec(rq, EC_BATTLE_NOT_FOUND);
  if (keycount_take(&rq->arena->streams, rq->client,
                    rq->cfg->max_streams_per_client)) {
    battle_unref(b);
    return reply_ec(rq, EC_TOO_MANY_STREAMS);
  }
  pthread_mutex_lock(&b->lock);
  int full = rq->cfg->max_streams_per_battle > 0 &&
             b->n_streams >= rq->cfg->max_streams_per_battle;
  int empty = b->n_turns == 0;
  if (!full && !empty)
    b->n_streams++;
  int turn = b->n_turns ? (int)b->n_turns - 1 : 0;
  pthread_mutex_unlock(&b->lock);
  if (full || empty) {
    keycount_give(&rq->arena->streams, rq->client);
    battle_unref(b);
    if (empty)
      return reply_ec(rq, EC_BATTLE_NOT_FOUND);
    return reply_ec(rq, EC_TOO_MANY_BATTLE_STREAMS);
  }
  struct event_stream *es = calloc(1, sizeof *es);
  struct MHD_Response *resp = NULL;
  if (es) {
    es->watcher.wake = stream_wake;
    es->b = b;
    es->turn = turn;
    es->arena = rq->arena;
    snprintf(es->client, sizeof es->client, "%s", rq->client);
    /* an answer of max bytes may be escaped up to 6x in one delta, and its
     * HTML (larger still) in one done event, for each side */
    resp = sse_stream_response(rq->conn, &b->lock, &battle_producer, es,
                               (size_t)rq->cfg->max_answer_bytes * 80 + 65536,
                               rq->cfg->max_buffered_bytes);
  }
  if (!resp) {
    free(es);
    pthread_mutex_lock(&b->lock);
    b->n_streams--;
    pthread_mutex_unlock(&b->lock);
    keycount_give(&rq->arena->streams, rq->client);
    battle_unref(b);
    return MHD_NO;
  }
  metrics_streams(1);  /* given back in producer_release */
  reply_add_common_headers(resp);
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}
