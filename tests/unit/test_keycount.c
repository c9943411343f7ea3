/* Counts per key up to a cap: taken up to max, given back, 0 for no cap,
 * a full table refusing new keys until a count falls to zero; exact under
 * threads. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#include "check.h"
#include "util/keycount.h"

static struct keycount kc;

static int take_n(const char *key, long max, int n) {
  int got = 0;
  for (int i = 0; i < n; i++)
    got += keycount_take(&kc, key, max) == 0;
  return got;
}

/* Whether every slot is free: KEYCOUNT_SLOTS new keys all fit (and are
 * given back). */
static int all_free(void) {
  int ok = 1;
  for (int i = 0; i < KEYCOUNT_SLOTS; i++) {
    char key[32];
    snprintf(key, sizeof key, "probe%d", i);
    ok &= keycount_take(&kc, key, 1) == 0;
  }
  for (int i = 0; i < KEYCOUNT_SLOTS; i++) {
    char key[32];
    snprintf(key, sizeof key, "probe%d", i);
    keycount_give(&kc, key);
  }
  return ok;
}

#define THREADS 4
#define ROUNDS 20000

static atomic_int held, most_held;

static void *churn(void *unused) {
  (void)unused;
  for (int i = 0; i < ROUNDS; i++) {
    if (keycount_take(&kc, "shared", 1))
      continue;
    int now = atomic_fetch_add(&held, 1) + 1;
    int most = atomic_load(&most_held);
    while (now > most && !atomic_compare_exchange_weak(&most_held, &most, now))
      ;
    atomic_fetch_sub(&held, 1);
    keycount_give(&kc, "shared");
  }
  return NULL;
}

int main(void) {
  keycount_init(&kc);
  CHECK(all_free());

  /* up to max, no more */
  CHECK(take_n("10.0.0.1", 3, 5) == 3);
  CHECK(keycount_take(&kc, "10.0.0.1", 3) == -1);
  /* a higher max (a reload) lets more in, a lower one none */
  CHECK(keycount_take(&kc, "10.0.0.1", 4) == 0);
  CHECK(keycount_take(&kc, "10.0.0.1", 2) == -1);
  /* given back: room again, one each */
  keycount_give(&kc, "10.0.0.1");
  keycount_give(&kc, "10.0.0.1");
  CHECK(take_n("10.0.0.1", 4, 5) == 2);

  /* keys are apart */
  CHECK(take_n("10.0.0.2", 1, 2) == 1);
  CHECK(take_n("10.0.0.10", 1, 2) == 1);
  CHECK(take_n("10.0.0.", 1, 2) == 1);

  /* 0 (or less) is no cap */
  CHECK(take_n("unlimited", 0, 10000) == 10000);
  CHECK(take_n("unlimited", -1, 100) == 100);
  CHECK(keycount_take(&kc, "unlimited", 10100) == -1);  /* but counted */

  /* giving back what was never taken changes nothing */
  keycount_give(&kc, "never");
  CHECK(take_n("never", 1, 2) == 1);
  /* nor does giving back more than was taken */
  keycount_give(&kc, "never");
  keycount_give(&kc, "never");
  CHECK(take_n("never", 1, 2) == 1);
  keycount_give(&kc, "never");

  /* back to zero everywhere: every slot is free again */
  for (int i = 0; i < 4; i++)
    keycount_give(&kc, "10.0.0.1");
  keycount_give(&kc, "10.0.0.2");
  keycount_give(&kc, "10.0.0.10");
  keycount_give(&kc, "10.0.0.");
  for (int i = 0; i < 10100; i++)
    keycount_give(&kc, "unlimited");
  CHECK(all_free());

  /* a full table refuses new keys, keeps counting the ones it has, and
   * takes new ones once a count falls to zero */
  {
    int filled = 1;
    for (int i = 0; i < KEYCOUNT_SLOTS; i++) {
      char key[32];
      snprintf(key, sizeof key, "k%d", i);
      filled &= keycount_take(&kc, key, 2) == 0;
    }
    CHECK(filled);
    CHECK(keycount_take(&kc, "newcomer", 0) == -1);
    CHECK(keycount_take(&kc, "newcomer", 2) == -1);
    CHECK(keycount_take(&kc, "k7", 2) == 0);
    CHECK(keycount_take(&kc, "k7", 2) == -1);
    keycount_give(&kc, "k7");
    CHECK(keycount_take(&kc, "newcomer", 2) == -1);  /* k7 still has one */
    keycount_give(&kc, "k7");
    CHECK(keycount_take(&kc, "newcomer", 2) == 0);
    CHECK(keycount_take(&kc, "k7", 2) == -1);          /* its slot is gone */
    keycount_give(&kc, "newcomer");
    for (int i = 0; i < KEYCOUNT_SLOTS; i++) {
      char key[32];
      snprintf(key, sizeof key, "k%d", i);
      keycount_give(&kc, key);
    }
    CHECK(all_free());
  }

  /* from several threads: never more than max (1) at once, and all given
   * back in the end */
  {
    pthread_t th[THREADS];
    for (int i = 0; i < THREADS; i++)
      pthread_create(&th[i], NULL, churn, NULL);
    for (int i = 0; i < THREADS; i++)
      pthread_join(th[i], NULL);
    CHECK(atomic_load(&most_held) == 1);
    CHECK(take_n("shared", 3, 5) == 3);
    for (int i = 0; i < 3; i++)
      keycount_give(&kc, "shared");
    CHECK(all_free());
  }
  keycount_release(&kc);
  return check_done("test_keycount");
}
