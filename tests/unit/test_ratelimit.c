/* The rate limiter: a burst of per_minute, refilled evenly over a minute,
 * refunds up to the burst, kinds and clients apart, and a bounded table
 * that forgets the bucket idle longest. Driven by a clock of our own. */
#include <stdlib.h>

#include "check.h"
#include "util/hash.h"
#include "util/ratelimit.h"

static struct ratelimit rl;

static int take(const char *kind, const char *client, long per_minute,
                int64_t now) {
  return ratelimit_take_at(&rl, kind, client, per_minute, now);
}

/* How many takes pass at once, at now (stops at 1000). */
static int burst(const char *kind, const char *client, long per_minute,
                 int64_t now) {
  int n = 0;
  while (n < 1000 && !take(kind, client, per_minute, now))
    n++;
  return n;
}

/* Clients whose bucket key ("kind|client") starts its probe window at the
 * same slot, n of them into names (each 16 bytes). */
static void colliding(const char *kind, char (*names)[16], int n) {
  size_t target = (size_t)-1;
  int found = 0;
  for (unsigned i = 0; found < n; i++) {
    char key[40];
    snprintf(names[found], sizeof names[found], "c%u", i);
    snprintf(key, sizeof key, "%s|%s", kind, names[found]);
    size_t slot = (size_t)(hash_fnv1a_str(key) % RATELIMIT_SLOTS);
    if (target == (size_t)-1)
      target = slot;
    if (slot == target)
      found++;
  }
}

int main(void) {
  ratelimit_init(&rl);

  /* 0 (or less) is no limit */
  CHECK(burst("battle", "a", 0, 0) == 1000);
  CHECK(burst("battle", "a", -1, 0) == 1000);

  /* a burst of per_minute, then the wait for the next token */
  CHECK(burst("battle", "b", 3, 1000) == 3);
  CHECK(take("battle", "b", 3, 1000) == 20);        /* 60 s / 3 */
  CHECK(take("battle", "b", 3, 11000) == 10);
  CHECK(take("battle", "b", 3, 20999) == 1);        /* never 0 */
  CHECK(take("battle", "b", 3, 21000) == 0);        /* one token refilled */
  CHECK(take("battle", "b", 3, 21000) == 20);
  /* a long rest fills the bucket to the burst, no more */
  CHECK(burst("battle", "b", 3, 10 * 60000) == 3);
  /* tokens come evenly: one every 500 ms at 120 a minute */
  CHECK(burst("vote", "b", 120, 0) == 120);
  CHECK(take("vote", "b", 120, 0) == 1);
  CHECK(take("vote", "b", 120, 499) == 1);
  CHECK(take("vote", "b", 120, 500) == 0);
  CHECK(take("vote", "b", 120, 999) == 1);
  CHECK(burst("vote", "b", 120, 1500) == 2);
  /* a clock that reads earlier than the last take (read before another
   * thread's take) neither refills nor takes back */
  CHECK(burst("vote", "g", 1, 60000) == 1);
  CHECK(take("vote", "g", 1, 0) == 60);
  CHECK(take("vote", "g", 1, 119999) == 1);
  CHECK(take("vote", "g", 1, 120000) == 0);

  /* the wait is what it says: after it, the next take passes */
  for (long pm = 1; pm <= 600; pm = pm * 3 + 1) {
    char client[16];
    snprintf(client, sizeof client, "w%ld", pm);
    CHECK(burst("battle", client, pm, 0) == pm);
    int wait = take("battle", client, pm, 0);
    CHECK(wait >= 1 && wait <= 60);
    CHECK(take("battle", client, pm, (int64_t)wait * 1000) == 0);
  }

  /* a refund gives one back, up to the burst */
  CHECK(burst("admin", "c", 2, 0) == 2);
  ratelimit_refund_at(&rl, "admin", "c", 2, 0);
  CHECK(take("admin", "c", 2, 0) == 0);
  CHECK(take("admin", "c", 2, 0) != 0);
  ratelimit_refund_at(&rl, "admin", "d", 2, 0);     /* a full bucket */
  ratelimit_refund_at(&rl, "admin", "d", 2, 0);
  CHECK(burst("admin", "d", 2, 0) == 2);
  ratelimit_refund_at(&rl, "admin", "d", 0, 0);     /* no limit: nothing */
  CHECK(take("admin", "d", 2, 0) != 0);

  /* kinds and clients are apart */
  CHECK(burst("battle", "e", 2, 0) == 2);
  CHECK(burst("vote", "e", 2, 0) == 2);
  CHECK(burst("admin", "e", 2, 0) == 2);
  CHECK(burst("battle", "f", 2, 0) == 2);
  CHECK(burst("battle", "e2", 2, 0) == 2);
  CHECK(burst("battle", "E", 2, 0) == 2);
  CHECK(take("battle", "e", 2, 0) != 0);
  ratelimit_refund_at(&rl, "vote", "e", 2, 0);
  CHECK(take("battle", "e", 2, 0) != 0);
  CHECK(take("vote", "e", 2, 0) == 0);
  ratelimit_release(&rl);

  /* the table is bounded: when a key's probe window is full, the bucket
   * idle longest is forgotten (its client starts afresh) and the others
   * are kept */
  ratelimit_init(&rl);
  {
    enum { WINDOW = 16 };
    char names[WINDOW + 1][16];
    colliding("battle", names, WINDOW + 1);
    for (int i = 0; i < WINDOW; i++)
      CHECK(burst("battle", names[i], 1, i) == 1);
    CHECK(take("battle", names[0], 1, WINDOW) != 0);  /* names[0] is used */
    CHECK(burst("battle", names[WINDOW], 1, WINDOW + 1) == 1);
    /* names[1] was idle longest: forgotten; the rest remembered */
    CHECK(take("battle", names[0], 1, WINDOW + 2) != 0);
    for (int i = 2; i <= WINDOW; i++)
      CHECK(take("battle", names[i], 1, WINDOW + 2) != 0);
    CHECK(take("battle", names[1], 1, WINDOW + 3) == 0);
  }
  /* and it holds any number of clients: each gets its burst */
  {
    int all = 1;
    for (int i = 0; i < 3 * RATELIMIT_SLOTS; i++) {
      char client[16];
      snprintf(client, sizeof client, "flood%d", i);
      if (take("vote", client, 1, 100) != 0)
        all = 0;
    }
    CHECK(all);
  }
  ratelimit_release(&rl);
  return check_done("test_ratelimit");
}
