#include "battle/wait.h"

#include <stdlib.h>

static void wait_release(struct waiter *w) {
  struct arena_wait *aw = (struct arena_wait *)w;
  json_decref(aw->body);
  free(aw);
}

struct arena_wait *arena_wait_new(struct arena *a, arena_vote_fn done,
                                  void *cls) {
  struct arena_wait *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  waiter_init(&w->waiter, done, cls, wait_release);
  w->a = a;
  w->rc = EC_INTERNAL;
  return w;
}

void arena_wait_abandon(struct arena_wait *w) {
  waiter_unref(&w->waiter);  /* the writer's, never to tell */
  waiter_leave(&w->waiter);  /* the caller's: frees w */
}

enum agon_ec arena_wait_result(struct arena_wait *w, json_t **body) {
  *body = NULL;
  if (!waiter_told(&w->waiter))
    return EC_INTERNAL;
  if (w->rc == EC_OK) {
    *body = w->body;
    w->body = NULL;
    if (!*body)
      return EC_INTERNAL;
  }
  return w->rc;
}

void arena_wait_free(struct arena_wait *w) {
  if (w)
    waiter_leave(&w->waiter);
}
