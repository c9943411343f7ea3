/* LD_PRELOAD shim for the votes benchmarks: makes fsync(2) and fdatasync(2)
 * take at least SLOW_FSYNC_US microseconds (default 0: unchanged), as a
 * disk whose cache flush is slower than this VM's virtio disk would. The
 * real call is made first, then the thread sleeps for what is left.
 *
 *   SLOW_FSYNC_US=2000 LD_PRELOAD=build-bench/bench/libslow_fsync.so CMD...
 *
 * It only stretches the flush: whatever the caller does around it (locks
 * held, other threads running) is the caller's own. */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long delay_us = -1;

static void stretch(const struct timespec *t0) {
  if (delay_us < 0) {
    const char *e = getenv("SLOW_FSYNC_US");
    delay_us = e ? atol(e) : 0;
  }
  if (delay_us <= 0)
    return;
  struct timespec until = *t0;
  until.tv_sec += delay_us / 1000000;
  until.tv_nsec += (delay_us % 1000000) * 1000;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL))
    ;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = real(fd);
  stretch(&t0);
  return rc;
}

int fsync(int fd) {
  static int (*real)(int);
  if (!real)
    real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  struct timespec t0;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  int rc = real(fd);
  stretch(&t0);
  return rc;
}
