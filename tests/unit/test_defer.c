/* Postponed wakeups: done at once unless the thread defers; while it
 * does, noted once per (fn, arg) and done at its flush, or when the
 * handler ends without a reply to wait for; never lost. */
#include <pthread.h>

#include "check.h"
#include "util/defer.h"

static int calls[4][32];   /* [fn][arg] */
static char args[32];      /* arguments: &args[i] */

static void *arg(int i) { return &args[i]; }
static int index_of(void *a) { return (int)((char *)a - args); }

static void f0(void *a) { calls[0][index_of(a)]++; }
static void f1(void *a) { calls[1][index_of(a)]++; }

static void clear(void) { memset(calls, 0, sizeof calls); }

static int total(void) {
  int n = 0;
  for (int f = 0; f < 4; f++)
    for (int a = 0; a < 32; a++)
      n += calls[f][a];
  return n;
}

/* woken during a flush: wakes another at once (not deferring any more) */
static void chain(void *a) {
  calls[2][index_of(a)]++;
  defer_wake(f1, arg(9));
}

static void *other_thread(void *unused) {
  (void)unused;
  defer_wake(f0, arg(7));   /* this thread never deferred: at once */
  return NULL;
}

int main(void) {
  /* not deferring: at once, every time */
  clear();
  defer_wake(f0, arg(1));
  CHECK(calls[0][1] == 1);
  defer_wake(f0, arg(1));
  CHECK(calls[0][1] == 2);

  /* deferring: nothing until the flush, then each (fn, arg) once */
  clear();
  defer_begin();
  defer_wake(f0, arg(1));
  defer_wake(f0, arg(1));
  defer_wake(f0, arg(2));
  defer_wake(f1, arg(1));
  defer_wake(f0, arg(1));
  CHECK(total() == 0);
  defer_flush();
  CHECK(calls[0][1] == 1 && calls[0][2] == 1 && calls[1][1] == 1);
  CHECK(total() == 3);
  /* a second flush has nothing left */
  defer_flush();
  CHECK(total() == 3);
  /* and after it, at once again */
  defer_wake(f0, arg(3));
  CHECK(calls[0][3] == 1);

  /* a flush with no begin does nothing */
  clear();
  defer_flush();
  CHECK(total() == 0);

  /* per thread: another thread is not held by this one's deferring, and
   * this one's flush does not wake the other's */
  clear();
  defer_begin();
  defer_wake(f0, arg(5));
  {
    pthread_t t;
    pthread_create(&t, NULL, other_thread, NULL);
    pthread_join(t, NULL);
  }
  CHECK(calls[0][7] == 1);
  CHECK(calls[0][5] == 0);
  defer_flush();
  CHECK(calls[0][5] == 1 && calls[0][7] == 1);

  /* a wakeup asked for while flushing is done, not lost */
  clear();
  defer_begin();
  defer_wake(chain, arg(4));
  defer_flush();
  CHECK(calls[2][4] == 1 && calls[1][9] == 1);

  /* more than can be noted: the rest are done at once rather than
   * never; by the end of the flush each was done exactly once */
  clear();
  defer_begin();
  for (int i = 0; i < 32; i++)
    defer_wake(f0, arg(i));
  CHECK(calls[0][0] == 0);   /* the first ones were postponed */
  CHECK(total() < 32);
  defer_flush();
  {
    int once = 1;
    for (int i = 0; i < 32; i++)
      once &= calls[0][i] == 1;
    CHECK(once);
  }
  /* a handler that did not reply (it suspended): its wakeups are done
   * when it returns, and what follows on the thread is not deferred */
  clear();
  defer_begin();
  defer_wake(f0, arg(10));
  CHECK(total() == 0);
  defer_end(0);
  CHECK(calls[0][10] == 1);
  defer_wake(f0, arg(11));
  CHECK(calls[0][11] == 1);
  defer_flush();
  CHECK(total() == 2);

  /* a handler that queued its reply: kept for the completion's flush;
   * meanwhile (a resumed request, a stream's reader) nothing is deferred */
  clear();
  defer_begin();
  defer_wake(f0, arg(12));
  defer_end(1);
  CHECK(total() == 0);
  defer_wake(f1, arg(13));
  CHECK(calls[1][13] == 1);
  defer_flush();
  CHECK(calls[0][12] == 1 && total() == 2);
  defer_flush();
  CHECK(total() == 2);

  /* two handlers kept on one thread: the first completion does both */
  clear();
  defer_begin();
  defer_wake(f0, arg(14));
  defer_end(1);
  defer_begin();
  defer_wake(f0, arg(15));
  defer_wake(f0, arg(14));
  defer_end(1);
  CHECK(total() == 0);
  defer_flush();
  CHECK(calls[0][14] == 1 && calls[0][15] == 1 && total() == 2);
  return check_done("test_defer");
}
