#include "util/relay.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct relay {
  pthread_mutex_t lock;
  pthread_cond_t room;     /* the consumer read, or left */
  int ends;                /* ends not dropped yet (2, 1, 0) */
  int ended, failed;       /* the producer's end, and how */
  int left;                /* the consumer's */
  void (*wake)(void *cls); /* noted by a read that found nothing */
  void *cls;
  size_t cap, head, len;   /* a ring: len bytes from head */
  unsigned char data[];
};

struct relay *relay_new(size_t cap) {
  if (!cap)
    cap = 1;
  struct relay *r = calloc(1, sizeof *r + cap);
  if (!r)
    return NULL;
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->room, NULL);
  r->ends = 2;
  r->cap = cap;
  return r;
}

/* Drop one end; lock held, and released here. */
static void drop_end(struct relay *r) {
  int last = --r->ends == 0;
  pthread_mutex_unlock(&r->lock);
  if (!last)
    return;
  pthread_cond_destroy(&r->room);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

/* Call the wake noted, if any, once. Lock held. */
static void wake_consumer(struct relay *r) {
  void (*wake)(void *) = r->wake;
  r->wake = NULL;
  if (wake)
    wake(r->cls);
}

int relay_write(struct relay *r, const void *data, size_t len) {
  const unsigned char *p = data;
  pthread_mutex_lock(&r->lock);
  while (len && !r->left) {
    if (r->len == r->cap) {
      pthread_cond_wait(&r->room, &r->lock);
      continue;
    }
    size_t tail = (r->head + r->len) % r->cap;
    size_t n = r->cap - r->len;          /* room */
    if (n > r->cap - tail)
      n = r->cap - tail;                 /* up to the ring's end */
    if (n > len)
      n = len;
    memcpy(r->data + tail, p, n);
    r->len += n;
    p += n;
    len -= n;
    wake_consumer(r);
  }
  int rc = r->left ? -1 : 0;
  pthread_mutex_unlock(&r->lock);
  return rc;
}

void relay_end(struct relay *r, int failed) {
  pthread_mutex_lock(&r->lock);
  r->ended = 1;
  r->failed = failed != 0;
  wake_consumer(r);
  drop_end(r);
}

ssize_t relay_read(struct relay *r, void *out, size_t max,
                   void (*sleep)(void *cls), void (*wake)(void *cls),
                   void *cls) {
  ssize_t got;
  pthread_mutex_lock(&r->lock);
  if (r->len) {
    size_t n = r->len < max ? r->len : max;
    if (n > r->cap - r->head)
      n = r->cap - r->head;              /* the rest comes next call */
    memcpy(out, r->data + r->head, n);
    r->head = (r->head + n) % r->cap;
    r->len -= n;
    if (!r->len)
      r->head = 0;
    pthread_cond_signal(&r->room);
    got = (ssize_t)n;
  } else if (r->ended) {
    got = r->failed ? RELAY_FAILED : RELAY_END;
  } else {
    r->wake = wake;
    r->cls = cls;
    sleep(cls);
    got = RELAY_EMPTY;
  }
  pthread_mutex_unlock(&r->lock);
  return got;
}

void relay_leave(struct relay *r) {
  if (!r)
    return;
  pthread_mutex_lock(&r->lock);
  r->left = 1;
  r->wake = NULL;
  pthread_cond_signal(&r->room);
  drop_end(r);
}
