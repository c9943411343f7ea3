#include "util/ratelimit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "util/hash.h"
#include "util/clock.h"

void ratelimit_init(struct ratelimit *r) {
  memset(r, 0, sizeof *r);
  pthread_mutex_init(&r->lock, NULL);
}

void ratelimit_release(struct ratelimit *r) { pthread_mutex_destroy(&r->lock); }

/* The bucket for key, refilled at rate (tokens per ms) up to cap until
 * now; a new one starts full. Call with the lock held. */
static struct bucket *bucket_locked(struct ratelimit *r, const char *key,
                                    double rate, double cap, int64_t now) {
  /* open addressing over a short probe window; when full, the stalest
   * bucket of the window is reused (its client starts afresh) */
  size_t h = (size_t)hash_fnv1a_str(key);
  struct bucket *b = NULL, *free_slot = NULL, *stalest = NULL;
  for (size_t probe = 0; probe < 16; probe++) {
    struct bucket *c = &r->slots[(h + probe) % RATELIMIT_SLOTS];
    if (!strcmp(c->key, key)) {
      b = c;
      break;
    }
    if (!c->key[0]) {
      free_slot = c; /* nothing is ever deleted: the key is not further */
      break;
    }
    if (!stalest || c->updated < stalest->updated)
      stalest = c;
  }
  if (!b) {
    b = free_slot ? free_slot : stalest;
    snprintf(b->key, sizeof b->key, "%s", key);
    b->tokens = cap;
    b->updated = now;
  }
  if (now > b->updated) {  /* a clock read before the lock may be older */
    b->tokens += (double)(now - b->updated) * rate;
    if (b->tokens > cap)
      b->tokens = cap;
    b->updated = now;
  }
  return b;
}

int ratelimit_take_at(struct ratelimit *r, const char *kind,
                      const char *client, long per_minute, int64_t now) {
  if (per_minute <= 0)
    return 0;
  char key[80];
  snprintf(key, sizeof key, "%s|%s", kind, client);
  double rate = (double)per_minute / 60000.0; /* tokens per ms */
  int wait = 0;
  pthread_mutex_lock(&r->lock);
  struct bucket *b = bucket_locked(r, key, rate, (double)per_minute, now);
  if (b->tokens >= 1.0) {
    b->tokens -= 1.0;
  } else {
    wait = (int)ceil((1.0 - b->tokens) / rate / 1000.0);
    if (wait < 1)
      wait = 1;
  }
  pthread_mutex_unlock(&r->lock);
  return wait;
}

void ratelimit_refund_at(struct ratelimit *r, const char *kind,
                         const char *client, long per_minute, int64_t now) {
  if (per_minute <= 0)
    return;
  char key[80];
  snprintf(key, sizeof key, "%s|%s", kind, client);
  double cap = (double)per_minute;
  pthread_mutex_lock(&r->lock);
  struct bucket *b = bucket_locked(r, key, cap / 60000.0, cap, now);
  b->tokens = b->tokens + 1.0 > cap ? cap : b->tokens + 1.0;
  pthread_mutex_unlock(&r->lock);
}

int ratelimit_take(struct ratelimit *r, const char *kind, const char *client,
                   long per_minute) {
  return ratelimit_take_at(r, kind, client, per_minute, mono_ms());
}

void ratelimit_refund(struct ratelimit *r, const char *kind,
                      const char *client, long per_minute) {
  ratelimit_refund_at(r, kind, client, per_minute, mono_ms());
}
