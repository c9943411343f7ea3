#include "battle/version_watch.h"

#include <time.h>

#include "util/clock.h"

static void *watch_main(void *arg) {
  struct version_watch *w = arg;
  pthread_mutex_lock(&w->lock);
  while (!w->stop) {
    struct timespec until = clock_in_ms(CLOCK_MONOTONIC, STORE_WATCH_MS);
    while (!w->stop &&
           pthread_cond_timedwait(&w->wake, &w->lock, &until) == 0)
      ;
    if (w->stop)
      break;
    pthread_mutex_unlock(&w->lock);
    atomic_store(&w->value, store_data_version(w->st));
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

int version_watch_start(struct version_watch *w, struct store *st) {
  w->st = st;
  w->stop = 0;
  w->started = 0;
  atomic_init(&w->value, store_data_version(st));
  pthread_mutex_init(&w->lock, NULL);
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&w->wake, &monotonic);
  pthread_condattr_destroy(&monotonic);
  if (pthread_create(&w->thread, NULL, watch_main, w))
    return -1;
  w->started = 1;
  return 0;
}

long version_watch_value(struct version_watch *w) {
  return atomic_load(&w->value);
}

void version_watch_stop(struct version_watch *w) {
  if (!w->st)
    return;
  if (w->started) {
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
  }
  pthread_cond_destroy(&w->wake);
  pthread_mutex_destroy(&w->lock);
  w->st = NULL;
  w->started = 0;
}
