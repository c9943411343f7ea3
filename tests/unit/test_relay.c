/* A bounded relay between a producer that may wait and a consumer that
 * must not: every byte arrives, in order, through a relay far smaller
 * than what goes through it; the consumer is told to sleep when it is
 * empty and woken (once, after its sleep) by the next bytes or the end;
 * the producer waits while it is full and stops once the consumer left;
 * a producer that fails is seen as RELAY_FAILED. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/relay.h"

#define TOTAL (1000 * 1000 + 7)
#define CAP 4093

static unsigned char byte_at(size_t i) { return (unsigned char)(i * 131 + i / 977); }

/* The consumer's side of the sleep and the wake. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int asleep, woken, wakes_without_sleep;

static void on_sleep(void *cls) {
  (void)cls;
  pthread_mutex_lock(&lock);
  asleep = 1;
  pthread_mutex_unlock(&lock);
}

static void on_wake(void *cls) {
  (void)cls;
  pthread_mutex_lock(&lock);
  if (!asleep)
    wakes_without_sleep++;
  asleep = 0;
  woken = 1;
  pthread_cond_signal(&cond);
  pthread_mutex_unlock(&lock);
}

static void wait_woken(void) {
  pthread_mutex_lock(&lock);
  while (!woken)
    pthread_cond_wait(&cond, &lock);
  woken = 0;
  pthread_mutex_unlock(&lock);
}

struct producer {
  struct relay *r;
  size_t total;
  int fail;
  int rc;        /* the last relay_write's */
  size_t wrote;  /* bytes handed over before it stopped */
};

static void *produce(void *arg) {
  struct producer *p = arg;
  unsigned char chunk[1500];
  size_t i = 0;
  p->rc = 0;
  while (i < p->total) {
    size_t n = p->total - i < sizeof chunk ? p->total - i : sizeof chunk;
    for (size_t k = 0; k < n; k++)
      chunk[k] = byte_at(i + k);
    p->rc = relay_write(p->r, chunk, n);
    if (p->rc)
      break;
    i += n;
  }
  p->wrote = i;
  if (!p->rc)
    relay_end(p->r, p->fail);
  else
    relay_end(p->r, 1);
  return NULL;
}

/* Read everything as libmicrohttpd's worker would: never waiting in
 * relay_read, sleeping until woken when it says RELAY_EMPTY. */
static ssize_t consume(struct relay *r, size_t *got, int *bad, long *sleeps) {
  unsigned char buf[777];
  for (;;) {
    ssize_t n = relay_read(r, buf, sizeof buf, on_sleep, on_wake, NULL);
    if (n == RELAY_EMPTY) {
      (*sleeps)++;
      wait_woken();
      continue;
    }
    if (n < 0)
      return n;
    for (ssize_t k = 0; k < n; k++)
      if (buf[k] != byte_at(*got + (size_t)k))
        (*bad)++;
    *got += (size_t)n;
  }
}

int main(void) {
  /* everything through, in order */
  struct producer p = {.r = relay_new(CAP), .total = TOTAL};
  CHECK(p.r != NULL);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, produce, &p) == 0);
  size_t got = 0;
  int bad = 0;
  long sleeps = 0;
  CHECK(consume(p.r, &got, &bad, &sleeps) == RELAY_END);
  pthread_join(t, NULL);
  CHECK(got == TOTAL);
  CHECK(bad == 0);
  CHECK(p.rc == 0);
  CHECK(wakes_without_sleep == 0);
  relay_leave(p.r);

  /* a producer that fails: what it wrote, then RELAY_FAILED */
  struct producer f = {.r = relay_new(CAP), .total = 10000, .fail = 1};
  CHECK(pthread_create(&t, NULL, produce, &f) == 0);
  got = 0;
  CHECK(consume(f.r, &got, &bad, &sleeps) == RELAY_FAILED);
  pthread_join(t, NULL);
  CHECK(got == 10000 && bad == 0);
  relay_leave(f.r);

  /* the consumer leaves: the producer, waiting on a full relay, stops */
  struct producer l = {.r = relay_new(CAP), .total = TOTAL};
  CHECK(pthread_create(&t, NULL, produce, &l) == 0);
  unsigned char buf[100];
  ssize_t n;
  while ((n = relay_read(l.r, buf, sizeof buf, on_sleep, on_wake, NULL)) ==
         RELAY_EMPTY)
    wait_woken();
  CHECK(n == 100 && buf[0] == byte_at(0));
  relay_leave(l.r); /* no wake comes after this */
  pthread_join(t, NULL);
  CHECK(l.rc == -1);
  CHECK(l.wrote < TOTAL);

  /* an empty relay that ends: RELAY_END at once, a wake for the sleep */
  struct relay *e = relay_new(1);
  woken = 0;
  CHECK(relay_read(e, buf, sizeof buf, on_sleep, on_wake, NULL) == RELAY_EMPTY);
  relay_end(e, 0);
  wait_woken();
  CHECK(relay_read(e, buf, sizeof buf, on_sleep, on_wake, NULL) == RELAY_END);
  relay_leave(e);
  CHECK(wakes_without_sleep == 0);
  return check_done("test_relay");
}
