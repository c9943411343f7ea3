/* One thread that runs queued tasks in the order they came, with a bound
 * on how many may wait: for work that must not run on the thread that
 * asks for it (an HTTP worker must not wait on the disk). It knows nothing
 * of what the tasks do. */
#ifndef AGON_UTIL_TASKQ_H
#define AGON_UTIL_TASKQ_H

#include <stddef.h>

struct taskq;

typedef void (*taskq_fn)(void *cls);

/* A new queue and its thread; at most max_waiting tasks (>= 1) wait at
 * once. NULL on failure. */
struct taskq *taskq_new(size_t max_waiting);

/* Queue fn(cls), to run on the queue's thread. 0, or -1 when max_waiting
 * tasks wait already, out of memory, or the queue is stopping (fn is
 * never called then). Any thread but the queue's own. */
int taskq_push(struct taskq *q, taskq_fn fn, void *cls);

/* Run every task queued before it, stop the thread and free q. Accepts
 * NULL. */
void taskq_free(struct taskq *q);

#endif
