/* Per-client rate limits: a token bucket per (client, kind), allowing
 * `per_minute` events a minute with bursts of the same size. Thread-safe;
 * memory is bounded (idle buckets are forgotten first). */
#ifndef AGON_UTIL_RATELIMIT_H
#define AGON_UTIL_RATELIMIT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_SLOTS 8192

struct bucket {
  char key[80];       /* kind + client; "" when free */
  double tokens;
  int64_t updated;    /* monotonic ms */
};

struct ratelimit {
  pthread_mutex_t lock;
  struct bucket slots[RATELIMIT_SLOTS];
};

void ratelimit_init(struct ratelimit *r);
void ratelimit_release(struct ratelimit *r);

/* Take one token for client in kind ("battle", "vote", "admin") at per_minute
 * (0: unlimited). Returns 0 when allowed, else the seconds to wait
 * before the next event would be allowed (>= 1). */
int ratelimit_take(struct ratelimit *r, const char *kind, const char *client,
                   long per_minute);

/* Give back a token ratelimit_take took (the event did not count after
 * all), up to the bucket's size. */
void ratelimit_refund(struct ratelimit *r, const char *kind,
                      const char *client, long per_minute);

/* The same at a time of the caller's, now in ms of a monotonic clock
 * (the two above pass mono_ms()), so tests need not wait. */
int ratelimit_take_at(struct ratelimit *r, const char *kind,
                      const char *client, long per_minute, int64_t now);
void ratelimit_refund_at(struct ratelimit *r, const char *kind,
                         const char *client, long per_minute, int64_t now);

#endif
