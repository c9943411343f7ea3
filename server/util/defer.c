#include "util/defer.h"

#include <stddef.h>

#define MAX_DEFERRED 8

struct deferred {
  void (*fn)(void *);
  void *arg;
};

static _Thread_local int deferring;
static _Thread_local struct deferred noted[MAX_DEFERRED];
static _Thread_local size_t n_noted;

void defer_begin(void) { deferring = 1; }

void defer_wake(void (*fn)(void *), void *arg) {
  if (!deferring) {
    fn(arg);
    return;
  }
  for (size_t i = 0; i < n_noted; i++)
    if (noted[i].fn == fn && noted[i].arg == arg)
      return;
  if (n_noted == MAX_DEFERRED) {
    fn(arg);  /* no room: wake now rather than never */
    return;
  }
  noted[n_noted].fn = fn;
  noted[n_noted++].arg = arg;
}

void defer_end(int keep) {
  if (keep)
    deferring = 0;
  else
    defer_flush();
}

void defer_flush(void) {
  deferring = 0;
  size_t n = n_noted;
  n_noted = 0;
  for (size_t i = 0; i < n; i++)
    noted[i].fn(noted[i].arg);
}
