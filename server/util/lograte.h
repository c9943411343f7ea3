/* A rate limit for log lines: at most `burst` lines of one key in each
 * window of `window_ms`; the rest are counted, and the count is handed
 * back once the window is over so that the log can say how many were
 * dropped. Pure (the time is an argument, no I/O), thread-safe, memory
 * fixed: LOGRATE_SLOTS keys are tracked at once, and keys beyond those
 * share one more slot (they are limited together, never let through). */
#ifndef AGON_UTIL_LOGRATE_H
#define AGON_UTIL_LOGRATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define LOGRATE_SLOTS 64
#define LOGRATE_LABEL 160

struct lograte_slot {
  uintptr_t key;            /* 0: free */
  int64_t window;           /* start of the current window */
  unsigned count;           /* lines seen in that window */
  uint64_t suppressed;      /* dropped since the last report */
  const char *tag;          /* of the first dropped line */
  char label[LOGRATE_LABEL]; /* its text, cut */
};

struct lograte {
  pthread_mutex_t lock;
  unsigned burst;
  int64_t window_ms;
  atomic_size_t pending;    /* slots with suppressed > 0; read without
                               the lock, so that a log line costs no lock
                               when nothing waits to be reported */
  struct lograte_slot slot[LOGRATE_SLOTS + 1]; /* the last: overflow */
};

/* A static initializer: struct lograte lr = LOGRATE_INITIALIZER(10, 1000); */
#define LOGRATE_INITIALIZER(burst_, window_ms_)                              \
  { .lock = PTHREAD_MUTEX_INITIALIZER, .burst = (burst_),                    \
    .window_ms = (window_ms_) }

/* A run of dropped lines whose window is over. */
struct lograte_report {
  uint64_t suppressed;      /* how many */
  const char *tag;          /* as given with the first of them */
  char label[LOGRATE_LABEL]; /* the first of them, cut to at most
                               LOGRATE_LABEL - 1 bytes before a UTF-8
                               character */
};

void lograte_init(struct lograte *lr, unsigned burst, int64_t window_ms);
void lograte_release(struct lograte *lr);

/* May a line of `key` (non-zero) be written at time `now` (any clock
 * that does not go back, in ms)? Returns 1 to write it, 0 when it is
 * dropped; `tag` (kept by pointer: it must outlive lr) and `label` (copied)
 * describe a dropped line in the report. This function can't fail. */
int lograte_check(struct lograte *lr, uintptr_t key, const char *tag,
                  const char *label, int64_t now);

/* Take the report of one run of dropped lines whose window ended by `now`
 * (all of them when `all` is non-zero, as at exit). Returns 1 with *out
 * filled, 0 when there is none; call until it returns 0. */
int lograte_take(struct lograte *lr, int64_t now, int all,
                 struct lograte_report *out);

#endif
