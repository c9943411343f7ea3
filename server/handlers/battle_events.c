/* GET /api/battles/ID/events: the latest turn as Server-Sent Events, then
 * the stream closes. The battle's feed (arena_feed_open, battle/feed.c)
 * builds the events, under the battle's lock, on whichever thread changed
 * the battle; here it is wired to an http/sse_stream.h stream, which
 * writes them to the client's socket. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "http/forward.h"
#include "http/reply.h"
#include "http/sse_stream.h"

/* ---- the feed as an sse_producer ---- */

static void producer_lock(void *cls) { arena_feed_lock(cls); }

static void producer_unlock(void *cls) { arena_feed_unlock(cls); }

static int producer_build(void *cls, struct buf *out) {
  return arena_feed_build(cls, out);
}

static void stream_wake(void *s) { sse_stream_wake(s); }

static void producer_watch(void *cls, struct sse_stream *s) {
  arena_feed_watch(cls, stream_wake, s);
}

static void producer_unwatch(void *cls) { arena_feed_unwatch(cls); }

/* The stream is gone: the feed gives back its slots. */
static void producer_release(void *cls) { arena_feed_close(cls); }

static const struct sse_producer battle_producer = {
    .lock = producer_lock,
    .unlock = producer_unlock,
    .build = producer_build,
    .watch = producer_watch,
    .unwatch = producer_unwatch,
    .release = producer_release,
};

static enum MHD_Result battle_events(struct request *rq,
                                     struct arena_held *h) {
  struct arena_feed *f = NULL;
  enum agon_ec rc = arena_feed_open(rq->arena, h, rq->client, &f);
  if (rc == EC_INTERNAL)
    return MHD_NO;  /* out of memory */
  if (rc)
    return reply_ec(rq, rc);
  struct MHD_Response *resp =
      sse_stream_response(rq->conn, &battle_producer, f,
                          arena_feed_max_build(f), rq->cfg->max_buffered_bytes);
  if (!resp) {
    arena_feed_close(f);
    return MHD_NO;
  }
  reply_add_common_headers(resp);
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}

/* A battle whose node is gone: served once the reaper failed it. */
static enum MHD_Result gone_battle_events(struct request *rq,
                                          struct arena_held *h) {
  if (arena_held_streaming(h))
    return reply_ec(rq, EC_NODE_GONE);
  return battle_events(rq, h);
}

enum MHD_Result handle_battle_events(struct request *rq) {
  enum MHD_Result res;
  int f = forward_battle(rq, 1, &res);
  if (f == 1)
    return res;  /* another node's battle */
  return with_held_battle(rq, rq->param,
                          f == 2 ? gone_battle_events : battle_events);
}
