#include "util/fdbudget.h"

#include <stdatomic.h>
#include <sys/resource.h>

#define MAX_DERIVED_CONNECTIONS 20000
#define MAX_DERIVED_BATTLES 1024

static atomic_long soft_limit;

static long current(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl))
    return 1024;
  if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > (1UL << 30))
    return 1L << 30;
  return (long)rl.rlim_cur;
}

long fdbudget_raise(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  long n = current();
  atomic_store(&soft_limit, n);
  return n;
}

long fdbudget_limit(void) {
  long n = atomic_load(&soft_limit);
  return n > 0 ? n : current();
}

static long spare(void) {
  long n = fdbudget_limit() - FDBUDGET_RESERVE;
  return n < 8 ? 8 : n;
}

long fdbudget_connections(void) {
  long n = spare() / 2;
  return n > MAX_DERIVED_CONNECTIONS ? MAX_DERIVED_CONNECTIONS : n;
}

long fdbudget_battles(void) {
  long n = spare() / 4;
  if (n > MAX_DERIVED_BATTLES)
    n = MAX_DERIVED_BATTLES;
  return n < 1 ? 1 : n;
}
