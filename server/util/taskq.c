#include "util/taskq.h"

#include <pthread.h>
#include <stdlib.h>

struct task {
  struct task *next;
  taskq_fn fn;
  void *cls;
};

struct taskq {
  pthread_mutex_t lock;
  pthread_cond_t more;
  pthread_t thread;
  struct task *head, *tail;
  size_t waiting, max_waiting;
  int stop;
};

static void *taskq_main(void *arg) {
  struct taskq *q = arg;
  pthread_mutex_lock(&q->lock);
  for (;;) {
    while (!q->head && !q->stop)
      pthread_cond_wait(&q->more, &q->lock);
    struct task *t = q->head;
    if (!t)
      break; /* stopping, and nothing left */
    q->head = t->next;
    if (!q->head)
      q->tail = NULL;
    q->waiting--;
    pthread_mutex_unlock(&q->lock);
    t->fn(t->cls);
    free(t);
    pthread_mutex_lock(&q->lock);
  }
  pthread_mutex_unlock(&q->lock);
  return NULL;
}

struct taskq *taskq_new(size_t max_waiting) {
  struct taskq *q = calloc(1, sizeof *q);
  if (!q)
    return NULL;
  q->max_waiting = max_waiting ? max_waiting : 1;
  pthread_mutex_init(&q->lock, NULL);
  pthread_cond_init(&q->more, NULL);
  if (pthread_create(&q->thread, NULL, taskq_main, q)) {
    pthread_cond_destroy(&q->more);
    pthread_mutex_destroy(&q->lock);
    free(q);
    return NULL;
  }
  return q;
}

int taskq_push(struct taskq *q, taskq_fn fn, void *cls) {
  struct task *t = malloc(sizeof *t);
  if (!t)
    return -1;
  *t = (struct task){.fn = fn, .cls = cls};
  pthread_mutex_lock(&q->lock);
  if (q->stop || q->waiting >= q->max_waiting) {
    pthread_mutex_unlock(&q->lock);
    free(t);
    return -1;
  }
  if (q->tail)
    q->tail->next = t;
  else
    q->head = t;
  q->tail = t;
  q->waiting++;
  pthread_cond_signal(&q->more);
  pthread_mutex_unlock(&q->lock);
  return 0;
}

void taskq_free(struct taskq *q) {
  if (!q)
    return;
  pthread_mutex_lock(&q->lock);
  q->stop = 1;
  pthread_cond_signal(&q->more);
  pthread_mutex_unlock(&q->lock);
  pthread_join(q->thread, NULL);
  pthread_cond_destroy(&q->more);
  pthread_mutex_destroy(&q->lock);
  free(q);
}
