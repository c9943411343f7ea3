#include "handlers/held_battle.h"

#include <stdlib.h>

#include "http/reply.h"

/* A request waiting for the loader: what to call once it has read. */
struct held_call {
  struct arena_held *h;
  held_battle_fn fn;
};

static void call_free(void *pending) {
  struct held_call *c = pending;
  arena_held_free(c->h);
  free(c);
}

static enum MHD_Result call_now(struct request *rq, struct arena_held *h,
                                held_battle_fn fn) {
  enum MHD_Result r = fn(rq, h);
  arena_held_free(h);
  return r;
}

/* Resumed by the loader: the battle is read (or known not to exist). */
static enum MHD_Result held_resumed(struct request *rq) {
  struct held_call *c = rq->pending;
  struct arena_held *h = c->h;
  held_battle_fn fn = c->fn;
  /* rq->pending is fn's from now on */
  rq->pending = NULL;
  rq->pending_free = NULL;
  free(c);
  return call_now(rq, h, fn);
}

enum MHD_Result with_held_battle(struct request *rq, const char *id,
                                 held_battle_fn fn) {
  struct arena_held *h = arena_hold(rq->arena, id);
  if (h)
    return call_now(rq, h, fn);
  struct held_call *c = malloc(sizeof *c);
  if (!c)
    return reply_ec(rq, EC_NOT_QUEUED);
  c->fn = fn;
  /* suspend first, so that the resume always finds it suspended */
  rq->on_resume = held_resumed;
  MHD_suspend_connection(rq->conn);
  enum agon_ec rc =
      arena_hold_load(rq->arena, id, reply_resume, rq->conn, &c->h);
  if (rc) {
    free(c);
    return reply_ec_resumed(rq, rc);
  }
  rq->pending = c;
  rq->pending_free = call_free;
  return MHD_YES;
}
