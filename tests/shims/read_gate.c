/* LD_PRELOAD shim for the tests: a disk that stops answering reads. While
 * the file named by AGON_TEST_READ_GATE exists, every pread(2) of a
 * SQLite database file (a name ending in ".db" or ".db-wal") waits until
 * the file is gone; reads of anything else, and every read while the gate
 * is absent, go through unchanged. A test opens the gate by creating the
 * file and closes it by removing it, so that "a request that reads the
 * database is still waiting" is a fact, not a timing.
 *
 *   AGON_TEST_READ_GATE=/tmp/x/gate LD_PRELOAD=build/tests/libread_gate.so agon ... */
/* both names, pread and pread64, are defined here: no redirection */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static int ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), m = strlen(tail);
  return n >= m && !strcmp(s + n - m, tail);
}

/* Whether fd is a database file (not cached: descriptors are reused). */
static int is_database(int fd) {
  char link[64], path[PATH_MAX];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0)
    return 0;
  path[n] = '\0';
  return ends_with(path, ".db") || ends_with(path, ".db-wal");
}

static void wait_gate(int fd) {
  const char *gate = getenv("AGON_TEST_READ_GATE");
  if (!gate || access(gate, F_OK) || !is_database(fd))
    return;
  struct timespec tick = {0, 5 * 1000 * 1000};
  while (access(gate, F_OK) == 0)
    nanosleep(&tick, NULL);
}

ssize_t pread(int fd, void *buf, size_t count, off_t offset) {
  static ssize_t (*real)(int, void *, size_t, off_t);
  if (!real)
    real = (ssize_t(*)(int, void *, size_t, off_t))dlsym(RTLD_NEXT, "pread");
  wait_gate(fd);
  return real(fd, buf, count, offset);
}

ssize_t pread64(int fd, void *buf, size_t count, off64_t offset) {
  static ssize_t (*real)(int, void *, size_t, off64_t);
  if (!real)
    real = (ssize_t(*)(int, void *, size_t, off64_t))dlsym(RTLD_NEXT,
                                                            "pread64");
  wait_gate(fd);
  return real(fd, buf, count, offset);
}
