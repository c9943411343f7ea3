/* Someone waiting for an answer that another thread gives (a request
 * whose vote or turn the writer thread is storing): told at most once, and
 * never after it has left. Two references, the teller's and the
 * waiter's; the last one dropped calls release, which frees the object the
 * waiter is embedded in. */
#ifndef AGON_BATTLE_WAITER_H
#define AGON_BATTLE_WAITER_H

#include <pthread.h>
#include <stdatomic.h>

struct waiter {
  atomic_int refs;
  pthread_mutex_t lock;
  int gone;                      /* the waiter left: wake no more */
  int told;
  void (*wake)(void *cls);       /* on the teller's thread, lock held */
  void *cls;
  void (*release)(struct waiter *w);
};

void waiter_init(struct waiter *w, void (*wake)(void *cls), void *cls,
                 void (*release)(struct waiter *w));

/* The teller: the answer is ready (written before this call); wake the
 * waiter unless it left, and drop the teller's reference. */
void waiter_tell(struct waiter *w);

/* The waiter: whether it has been told (the answer may then be read). */
int waiter_told(struct waiter *w);

/* The waiter: leave, and drop its reference. Accepts NULL. */
void waiter_leave(struct waiter *w);

/* Drop one reference without telling or leaving (a teller that never
 * started). */
void waiter_unref(struct waiter *w);

#endif
