/* Work of a request's that reads the database, on the arena's loader
 * thread (struct arena_call of battle/arena.h): the thread that reads
 * battles back (hold.c), one queue for both, so that at most
 * LOADS_WAITING reads of any kind wait for the disk at once. */
#include "battle/arena_impl.h"

#include <stdlib.h>

struct arena_call {
  struct waiter waiter;  /* first: see call_release */
  struct arena *a;
  arena_call_fn fn;
  void *job;
  void (*job_free)(void *job);
};

static void call_release(struct waiter *w) {
  struct arena_call *c = (struct arena_call *)w;
  if (c->job_free)
    c->job_free(c->job);
  free(c);
}

/* On the loader thread. */
static void call_run(void *cls) {
  struct arena_call *c = cls;
  c->fn(c->a, c->job);
  waiter_tell(&c->waiter);
}

enum agon_ec arena_call_start(struct arena *a, arena_call_fn fn, void *job,
                              void (*job_free)(void *job), arena_vote_fn done,
                              void *cls, struct arena_call **out) {
  *out = NULL;
  struct arena_call *c = calloc(1, sizeof *c);
  if (!c) {
    if (job_free)
      job_free(job);
    return EC_NOT_QUEUED;
  }
  waiter_init(&c->waiter, done, cls, call_release);
  c->a = a;
  c->fn = fn;
  c->job = job;
  c->job_free = job_free;
  if (taskq_push(a->loader, call_run, c)) {
    waiter_unref(&c->waiter);  /* the loader's, never to tell */
    waiter_leave(&c->waiter);  /* the caller's: frees c and the job */
    return EC_NOT_QUEUED;
  }
  *out = c;
  return EC_OK;
}

void *arena_call_job(struct arena_call *c) {
  return waiter_told(&c->waiter) ? c->job : NULL;
}

void arena_call_free(struct arena_call *c) {
  if (c)
    waiter_leave(&c->waiter);
}
