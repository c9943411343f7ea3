/* A queue of tasks on one thread: tasks run in the order they came, on the
 * queue's thread; at most max_waiting wait (the one running does not
 * count), the rest are refused and never run; freeing runs what waits. */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

#include "check.h"
#include "util/taskq.h"

static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cond = PTHREAD_COND_INITIALIZER;
static int gate_open, started;

static int order[64];
static atomic_int n_run;
static pthread_t main_thread;
static atomic_int on_main;

/* The first task: waits until the test opens the gate. */
static void blocker(void *cls) {
  (void)cls;
  pthread_mutex_lock(&gate_lock);
  started = 1;
  pthread_cond_broadcast(&gate_cond);
  while (!gate_open)
    pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
}

static void record(void *cls) {
  if (pthread_equal(pthread_self(), main_thread))
    atomic_fetch_add(&on_main, 1);
  int i = atomic_fetch_add(&n_run, 1);
  if (i < 64)
    order[i] = (int)(long)cls;
}

int main(void) {
  main_thread = pthread_self();
  struct taskq *q = taskq_new(3);
  CHECK(q != NULL);
  CHECK(taskq_push(q, blocker, NULL) == 0);
  pthread_mutex_lock(&gate_lock);
  while (!started)
    pthread_cond_wait(&gate_cond, &gate_lock);
  pthread_mutex_unlock(&gate_lock);
  /* the blocker runs: three may wait behind it, a fourth is refused */
  CHECK(taskq_push(q, record, (void *)1L) == 0);
  CHECK(taskq_push(q, record, (void *)2L) == 0);
  CHECK(taskq_push(q, record, (void *)3L) == 0);
  CHECK(taskq_push(q, record, (void *)4L) == -1);
  CHECK(atomic_load(&n_run) == 0);
  pthread_mutex_lock(&gate_lock);
  gate_open = 1;
  pthread_cond_broadcast(&gate_cond);
  pthread_mutex_unlock(&gate_lock);
  /* freeing runs what waits, in order, on the queue's thread */
  taskq_free(q);
  CHECK(atomic_load(&n_run) == 3);
  CHECK(order[0] == 1 && order[1] == 2 && order[2] == 3);
  CHECK(atomic_load(&on_main) == 0);
  taskq_free(NULL);

  /* many tasks through a queue that keeps up */
  q = taskq_new(64);
  atomic_store(&n_run, 0);
  int pushed = 0;
  for (long i = 0; i < 1000; i++)
    while (taskq_push(q, record, (void *)i)) /* full for a moment */
      sched_yield();
  pushed = 1000;
  taskq_free(q);
  CHECK(atomic_load(&n_run) == pushed);
  return check_done("test_taskq");
}
