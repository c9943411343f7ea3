/* The admin's export of every stored battle (struct arena_export of
 * battle/arena.h), off the HTTP workers: a thread of its own writes it
 * (store_export, which reads a snapshot on a connection of its own, so
 * that votes are stored meanwhile) into an unlinked temporary file at the
 * disk's speed, and only then reads the file into a bounded relay as the
 * client takes it, so that a slow client holds nothing of the database's
 * and what is in memory stays bounded, however large the arena. */
#include "battle/arena_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "storage/interchange.h"

/* The relay between the file and the client, per export. */
#define EXPORT_RELAY_BYTES (256 * 1024)
/* What one read of the file hands the relay. */
#define EXPORT_READ_BYTES (64 * 1024)

struct arena_export {
  struct waiter waiter;   /* first: see export_release */
  struct arena *a;
  enum export_format fmt;
  int slot;               /* in a->exports */
  enum agon_ec rc;        /* set by the export's thread, then told */
  char err[512];
  uint64_t size;
  struct relay *consumer; /* the relay's consumer end, until taken */
};

static void export_release(struct waiter *w) {
  struct arena_export *x = (struct arena_export *)w;
  relay_leave(x->consumer);
  free(x);
}

/* A new file nobody can open, in $TMPDIR or else /var/tmp (a disk's
 * place, where /tmp may be memory). The descriptor, or -1 with err set. */
static int temp_file(char *err, size_t len) {
  const char *dir = getenv("TMPDIR");
  if (!dir || !*dir)
    dir = "/var/tmp";
  int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0)
    return fd;
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/agon-export-XXXXXX", dir);
  fd = mkostemp(path, O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, len, "export failed: cannot make a temporary file in '%s': %s",
             dir, strerror(errno));
    return -1;
  }
  unlink(path);
  return fd;
}

/* Write x's export into a temporary file: the file (read from its
 * start) and *size, or NULL with x->err set. */
static FILE *export_write(struct arena_export *x, uint64_t *size) {
  int fd = temp_file(x->err, sizeof x->err);
  FILE *f = fd >= 0 ? fdopen(fd, "w+") : NULL;
  if (!f) {
    if (fd >= 0) {
      snprintf(x->err, sizeof x->err, "export failed: %s", strerror(errno));
      close(fd);
    }
    return NULL;
  }
  if (store_export(&x->a->store, x->fmt, f, x->err, sizeof x->err) < 0)
    goto fail;
  off_t end;
  if (fflush(f) || ferror(f) || (end = ftello(f)) < 0) {
    snprintf(x->err, sizeof x->err,
             "export failed: cannot write the temporary file: %s",
             strerror(errno));
    goto fail;
  }
  *size = (uint64_t)end;
  return f;
fail:
  fclose(f);
  return NULL;
}

/* Hand the file's size bytes to r as its consumer takes them; 0, or -1
 * when the file could not be read (the stream is cut). */
static int export_relay(FILE *f, uint64_t size, struct relay *r) {
  char *chunk = malloc(EXPORT_READ_BYTES);
  int rc = -1;
  uint64_t off = 0;
  if (!chunk)
    return -1;
  while (off < size) {
    size_t want = size - off < EXPORT_READ_BYTES ? (size_t)(size - off)
                                                 : EXPORT_READ_BYTES;
    ssize_t n = pread(fileno(f), chunk, want, (off_t)off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      goto out;
    if (relay_write(r, chunk, (size_t)n)) {
      rc = 0;  /* the client left: nothing more to do */
      goto out;
    }
    off += (uint64_t)n;
  }
  rc = 0;
out:
  free(chunk);
  return rc;
}

static void *export_main(void *arg) {
  struct arena_export *x = arg;
  struct arena *a = x->a;
  int slot = x->slot;
  uint64_t size = 0;
  struct relay *r = NULL;
  FILE *f = export_write(x, &size);
  if (f && !(r = relay_new(EXPORT_RELAY_BYTES)))
    snprintf(x->err, sizeof x->err, "export failed: out of memory");
  if (r) {
    x->rc = EC_OK;
    x->size = size;
    x->consumer = r;
  }
  waiter_tell(&x->waiter);  /* x is not ours from here on */
  if (r)
    relay_end(r, export_relay(f, size, r) != 0);
  if (f)
    fclose(f);
  pthread_mutex_lock(&a->exports.lock);
  a->exports.slot[slot].finished = 1;
  pthread_mutex_unlock(&a->exports.lock);
  return NULL;
}

/* Join the threads of finished exports. Lock held. */
static void exports_reap(struct arena *a) {
  for (int i = 0; i < ARENA_EXPORTS; i++) {
    if (a->exports.slot[i].running && a->exports.slot[i].finished) {
      pthread_join(a->exports.slot[i].thread, NULL);
      a->exports.slot[i].running = 0;
    }
  }
}

enum agon_ec arena_export_start(struct arena *a, enum export_format fmt,
                                arena_vote_fn done, void *cls,
                                struct arena_export **out) {
  *out = NULL;
  struct arena_export *x = calloc(1, sizeof *x);
  if (!x)
    return EC_NOT_QUEUED;
  waiter_init(&x->waiter, done, cls, export_release);
  x->a = a;
  x->fmt = fmt;
  x->rc = EC_INTERNAL;
  snprintf(x->err, sizeof x->err, "export failed");
  pthread_mutex_lock(&a->exports.lock);
  int slot = -1;
  if (!a->exports.stopping) {
    exports_reap(a);
    for (int i = 0; i < ARENA_EXPORTS && slot < 0; i++)
      if (!a->exports.slot[i].running)
        slot = i;
  }
  x->slot = slot;
  if (slot < 0 ||
      pthread_create(&a->exports.slot[slot].thread, NULL, export_main, x)) {
    pthread_mutex_unlock(&a->exports.lock);
    waiter_unref(&x->waiter);  /* the thread's, never to tell */
    waiter_leave(&x->waiter);  /* the caller's: frees x */
    return EC_NOT_QUEUED;
  }
  a->exports.slot[slot].running = 1;
  a->exports.slot[slot].finished = 0;
  pthread_mutex_unlock(&a->exports.lock);
  *out = x;
  return EC_OK;
}

enum agon_ec arena_export_result(struct arena_export *x, uint64_t *size,
                                 struct relay **r, char *err,
                                 size_t errlen) {
  *size = 0;
  *r = NULL;
  if (!waiter_told(&x->waiter)) {
    snprintf(err, errlen, "export failed");
    return EC_INTERNAL;
  }
  if (x->rc != EC_OK || !x->consumer) {
    snprintf(err, errlen, "%s", x->err);
    return EC_INTERNAL;
  }
  *size = x->size;
  *r = x->consumer;
  x->consumer = NULL;
  return EC_OK;
}

void arena_export_free(struct arena_export *x) {
  if (x)
    waiter_leave(&x->waiter);
}

void arena_exports_init(struct arena *a) {
  pthread_mutex_init(&a->exports.lock, NULL);
}

void arena_exports_stop(struct arena *a) {
  pthread_mutex_lock(&a->exports.lock);
  a->exports.stopping = 1;
  pthread_mutex_unlock(&a->exports.lock);
  /* no export starts now: join those under way (their clients are gone
   * with the HTTP server, so each ends once its file is written) */
  for (int i = 0; i < ARENA_EXPORTS; i++) {
    if (a->exports.slot[i].running) {
      pthread_join(a->exports.slot[i].thread, NULL);
      a->exports.slot[i].running = 0;
    }
  }
  pthread_mutex_destroy(&a->exports.lock);
}
