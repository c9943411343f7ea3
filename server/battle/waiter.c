#include "battle/waiter.h"

void waiter_init(struct waiter *w, void (*wake)(void *cls), void *cls,
                 void (*release)(struct waiter *w)) {
  atomic_init(&w->refs, 2);
  pthread_mutex_init(&w->lock, NULL);
  w->gone = w->told = 0;
  w->wake = wake;
  w->cls = cls;
  w->release = release;
}

void waiter_unref(struct waiter *w) {
  if (atomic_fetch_sub(&w->refs, 1) != 1)
    return;
  pthread_mutex_destroy(&w->lock);
  w->release(w);
}

void waiter_tell(struct waiter *w) {
  pthread_mutex_lock(&w->lock);
  w->told = 1;
  if (!w->gone && w->wake)
    w->wake(w->cls);
  pthread_mutex_unlock(&w->lock);
  waiter_unref(w);
}

int waiter_told(struct waiter *w) {
  pthread_mutex_lock(&w->lock);
  int told = w->told;
  pthread_mutex_unlock(&w->lock);
  return told;
}

void waiter_leave(struct waiter *w) {
  if (!w)
    return;
  pthread_mutex_lock(&w->lock);
  w->gone = 1;
  pthread_mutex_unlock(&w->lock);
  waiter_unref(w);
}
