/* The log's rate limit: a burst per key and window, the rest counted and
 * reported once the window is over; memory fixed; exact under threads. */
#include <pthread.h>

#include "check.h"
#include "util/lograte.h"

static int allow(struct lograte *lr, uintptr_t key, const char *label,
                 int64_t now) {
  return lograte_check(lr, key, "warn", label, now);
}

#define THREADS 4
#define PER_THREAD 20000

struct worker {
  struct lograte *lr;
  int allowed;
};

static void *hammer(void *arg) {
  struct worker *w = arg;
  for (int i = 0; i < PER_THREAD; i++)
    w->allowed += allow(w->lr, 7, "flood", 5000);
  return NULL;
}

int main(void) {
  struct lograte lr;
  struct lograte_report r;

  /* burst 3 a second: three pass, the rest are counted */
  lograte_init(&lr, 3, 1000);
  CHECK(allow(&lr, 1, "one", 0));
  CHECK(allow(&lr, 1, "one", 10));
  CHECK(allow(&lr, 1, "one", 20));
  CHECK(!lograte_take(&lr, 20, 0, &r));   /* nothing dropped yet */
  CHECK(!lograte_check(&lr, 1, "error", "first dropped", 30));
  for (int i = 0; i < 41229; i++)
    CHECK(!allow(&lr, 1, "later ones", 40 + i % 900));
  /* another key has its own budget */
  CHECK(allow(&lr, 2, "two", 50));
  /* the count is handed back once the window is over, not before */
  CHECK(!lograte_take(&lr, 999, 0, &r));
  CHECK(lograte_take(&lr, 1000, 0, &r));
  CHECK(r.suppressed == 41230);
  CHECK_STR(r.tag, "error");
  CHECK_STR(r.label, "first dropped");
  CHECK(!lograte_take(&lr, 1000, 0, &r));  /* once */
  /* a new window: a new burst */
  CHECK(allow(&lr, 1, "one", 1000));
  CHECK(allow(&lr, 1, "one", 1001));
  CHECK(allow(&lr, 1, "one", 1002));
  CHECK(!allow(&lr, 1, "again", 1003));
  /* at exit, everything pending, window over or not */
  CHECK(!lograte_take(&lr, 1004, 0, &r));
  CHECK(lograte_take(&lr, 1004, 1, &r));
  CHECK(r.suppressed == 1);
  CHECK_STR(r.label, "again");
  CHECK(!lograte_take(&lr, 1004, 1, &r));
  lograte_release(&lr);

  /* a long label is cut before a UTF-8 character, never inside one */
  lograte_init(&lr, 0, 1000);
  {
    char label[LOGRATE_LABEL + 8];
    memset(label, 'x', LOGRATE_LABEL - 2);
    memcpy(label + LOGRATE_LABEL - 2, "\xe2\x82\xac tail", 9);
    CHECK(!allow(&lr, 9, label, 0));
    CHECK(lograte_take(&lr, 1000, 0, &r));
    CHECK(strlen(r.label) == LOGRATE_LABEL - 2);
    CHECK(r.label[LOGRATE_LABEL - 3] == 'x');
  }
  lograte_release(&lr);

  /* memory is fixed: keys past LOGRATE_SLOTS share one more slot, and
   * are limited together, never let through unlimited */
  lograte_init(&lr, 2, 1000);
  for (uintptr_t k = 1; k <= LOGRATE_SLOTS; k++)
    CHECK(allow(&lr, k, "slot", 0));
  CHECK(allow(&lr, 1000, "overflow a", 0));
  CHECK(allow(&lr, 1001, "overflow b", 0));
  CHECK(!allow(&lr, 1002, "overflow c", 0));
  CHECK(!allow(&lr, 1003, "overflow d", 0));
  CHECK(allow(&lr, 1, "slot", 0));        /* own slots still have room */
  CHECK(lograte_take(&lr, 1000, 0, &r));
  CHECK(r.suppressed == 2);
  CHECK_STR(r.label, "overflow c");
  /* a key quiet for a window gives its slot up to a new one */
  CHECK(allow(&lr, 2000, "new", 1000));
  CHECK(allow(&lr, 2000, "new", 1000));
  CHECK(!allow(&lr, 2000, "new", 1000));
  CHECK(allow(&lr, 2001, "newer", 1000));
  CHECK(allow(&lr, 2001, "newer", 1000));
  CHECK(!allow(&lr, 2001, "newer", 1000));
  CHECK(lograte_take(&lr, 2000, 0, &r));
  CHECK(lograte_take(&lr, 2000, 0, &r));
  CHECK(!lograte_take(&lr, 2000, 0, &r));
  lograte_release(&lr);

  /* a key with a count not yet reported keeps its slot */
  lograte_init(&lr, 1, 1000);
  CHECK(allow(&lr, 5, "five", 0));
  CHECK(!allow(&lr, 5, "five dropped", 0));
  for (uintptr_t k = 100; k < 100 + LOGRATE_SLOTS; k++)
    allow(&lr, k, "others", 5000);
  CHECK(lograte_take(&lr, 5000, 1, &r));
  CHECK(r.suppressed == 1);
  CHECK_STR(r.label, "five dropped");
  lograte_release(&lr);

  /* from several threads at once: exactly the burst passes, and every
   * other line is counted */
  lograte_init(&lr, 10, 1000);
  {
    pthread_t th[THREADS];
    struct worker w[THREADS];
    for (int i = 0; i < THREADS; i++) {
      w[i].lr = &lr;
      w[i].allowed = 0;
      pthread_create(&th[i], NULL, hammer, &w[i]);
    }
    int allowed = 0;
    for (int i = 0; i < THREADS; i++) {
      pthread_join(th[i], NULL);
      allowed += w[i].allowed;
    }
    CHECK(allowed == 10);
    CHECK(lograte_take(&lr, 6000, 0, &r));
    CHECK(r.suppressed == THREADS * PER_THREAD - 10);
  }
  lograte_release(&lr);
  return check_done("test_lograte");
}
