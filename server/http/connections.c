#include "http/connections.h"

#include <stdatomic.h>

#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "util/log.h"
#include "util/clock.h"

#define SWEEP_MS 250

struct watch {
  struct deadline *d;
  int fd;
  int waiting;           /* a request is due */
  int64_t since;         /* monotonic ms the wait began */
  struct watch *prev, *next;
};

struct deadline {
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct watch head;     /* circular list of live connections */
  int64_t timeout_ms;     /* 0: no deadline */
  atomic_long open;
  int stop;
  long cut;
  pthread_t thread;
};

static void *sweeper(void *cls) {
  struct deadline *d = cls;
  pthread_mutex_lock(&d->lock);
  while (!d->stop) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += SWEEP_MS * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
      ts.tv_sec++;
      ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&d->cond, &d->lock, &ts);
    int64_t now = mono_ms();
    long n = 0;
    for (struct watch *w = d->head.next; w != &d->head; w = w->next) {
      if (d->timeout_ms && w->waiting && w->fd >= 0 &&
          now - w->since > d->timeout_ms) {
        shutdown(w->fd, SHUT_RDWR);
        w->waiting = 0;
        n++;
      }
    }
    d->cut += n;
    if (n)
      log_warn("msg=\"requests too slow to arrive; connections closed\" "
               "count=%ld timeout_s=%lld",
               n, (long long)(d->timeout_ms / 1000));
  }
  pthread_mutex_unlock(&d->lock);
  return NULL;
}

struct deadline *deadline_new(long timeout_s) {
  struct deadline *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  pthread_mutex_init(&d->lock, NULL);
  pthread_cond_init(&d->cond, NULL);
  d->head.next = d->head.prev = &d->head;
  d->timeout_ms = (int64_t)timeout_s * 1000;
  if (pthread_create(&d->thread, NULL, sweeper, d)) {
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->lock);
    free(d);
    return NULL;
  }
  return d;
}

void deadline_free(struct deadline *d) {
  if (!d)
    return;
  pthread_mutex_lock(&d->lock);
  d->stop = 1;
  pthread_cond_signal(&d->cond);
  pthread_mutex_unlock(&d->lock);
  pthread_join(d->thread, NULL);
  while (d->head.next != &d->head) {
    struct watch *w = d->head.next;
    w->prev->next = w->next;
    w->next->prev = w->prev;
    free(w);
  }
  pthread_cond_destroy(&d->cond);
  pthread_mutex_destroy(&d->lock);
  free(d);
}

void deadline_notify(void *cls, struct MHD_Connection *conn,
                     void **socket_context,
                     enum MHD_ConnectionNotificationCode toe) {
  struct deadline *d = cls;
  if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
    atomic_fetch_add(&d->open, 1);
    struct watch *w = calloc(1, sizeof *w);
    if (!w)
      return;  /* this connection goes without a deadline */
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    w->d = d;
    w->fd = ci ? ci->connect_fd : -1;
    w->waiting = 1;
    w->since = mono_ms();
    pthread_mutex_lock(&d->lock);
    w->next = d->head.next;
    w->prev = &d->head;
    d->head.next->prev = w;
    d->head.next = w;
    pthread_mutex_unlock(&d->lock);
    *socket_context = w;
    return;
  }
  atomic_fetch_sub(&d->open, 1);
  struct watch *w = *socket_context;
  if (!w)
    return;
  pthread_mutex_lock(&d->lock);
  w->prev->next = w->next;
  w->next->prev = w->prev;
  pthread_mutex_unlock(&d->lock);
  free(w);
  *socket_context = NULL;
}

static struct watch *watch_of(struct MHD_Connection *conn) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
  return ci ? ci->socket_context : NULL;
}

void deadline_request_in(struct MHD_Connection *conn) {
  struct watch *w = watch_of(conn);
  if (!w)
    return;
  pthread_mutex_lock(&w->d->lock);
  w->waiting = 0;
  pthread_mutex_unlock(&w->d->lock);
}

void deadline_request_done(struct MHD_Connection *conn) {
  struct watch *w = watch_of(conn);
  if (!w)
    return;
  pthread_mutex_lock(&w->d->lock);
  w->waiting = 1;
  w->since = mono_ms();
  pthread_mutex_unlock(&w->d->lock);
}

long deadline_cut_count(struct deadline *d) {
  pthread_mutex_lock(&d->lock);
  long n = d->cut;
  pthread_mutex_unlock(&d->lock);
  return n;
}

long deadline_open_count(struct deadline *d) { return atomic_load(&d->open); }
