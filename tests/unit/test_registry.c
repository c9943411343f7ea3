/* The registry of battles in memory: put and get by id with references
 * counted for the caller, the first of two battles with one id kept, and
 * a sweep that forgets only finished, unwatched, unused, idle battles. */
#include <stdio.h>

#include "battle/registry.h"
#include "check.h"
#include "util/clock.h"

static struct model_config ma = {.name = "model-a"};
static struct model_config mb = {.name = "model-b"};

static struct battle *made(const char *id) {
  return battle_new(id, "session", 0, &ma, &mb);
}

static int refs(struct battle *b) { return atomic_load(&b->refs); }

static void wake(struct battle_watcher *w) { (void)w; }

int main(void) {
  struct registry r;
  registry_init(&r);
  CHECK(!registry_get(&r, "none"));
  CHECK(!registry_get(&r, ""));

  /* put: the registry's reference and the caller's */
  struct battle *a = made("aaaa");
  CHECK(refs(a) == 1);
  CHECK(registry_put(&r, a) == a);
  CHECK(refs(a) == 3);
  battle_unref(a);   /* the one put gave */
  battle_unref(a);   /* battle_new's */
  CHECK(refs(a) == 1);
  CHECK(r.count == 1);

  /* get: a new reference each time, by the whole id */
  struct battle *g = registry_get(&r, "aaaa");
  CHECK(g == a);
  CHECK(refs(a) == 2);
  battle_unref(g);
  CHECK(refs(a) == 1);
  CHECK(!registry_get(&r, "aaa"));
  CHECK(!registry_get(&r, "aaaaa"));
  CHECK(!registry_get(&r, "AAAA"));

  /* the same id twice: the first stays, the second is not taken */
  struct battle *twin = made("aaaa");
  struct battle *have = registry_put(&r, twin);
  CHECK(have == a);
  CHECK(refs(a) == 2);
  CHECK(refs(twin) == 1);
  CHECK(r.count == 1);
  battle_unref(have);
  battle_unref(twin);
  CHECK(refs(a) == 1);

  /* many battles, more than buckets: every one found again */
  enum { MANY = 3 * REGISTRY_BUCKETS };
  static struct battle *many[MANY];   /* not to be read once swept */
  static char ids[MANY][40];
  {
    int put = 1, found = 1;
    for (int i = 0; i < MANY; i++) {
      snprintf(ids[i], sizeof ids[i], "%08x", (unsigned)i * 2654435761u);
      many[i] = made(ids[i]);
      put &= registry_put(&r, many[i]) == many[i];
      battle_unref(many[i]);
      battle_unref(many[i]);
    }
    CHECK(put);
    CHECK(r.count == MANY + 1);
    for (int i = 0; i < MANY; i++) {
      struct battle *b = registry_get(&r, ids[i]);
      found &= b == many[i] && refs(b) == 2;
      battle_unref(b);
    }
    CHECK(found);
  }

  /* the sweep: nothing is idle yet (every battle is streaming) */
  CHECK(registry_sweep(&r, 0) == 0);
  CHECK(r.count == MANY + 1);

  /* make a few finished and idle, and keep others from going */
  int64_t long_ago = mono_ms() - 3600 * 1000;
  for (int i = 0; i < MANY; i++) {
    many[i]->status = i % 2 ? BATTLE_VOTED : BATTLE_READY;
    many[i]->touched = long_ago;
  }
  a->status = BATTLE_FAILED;
  a->touched = long_ago;
  many[1]->status = BATTLE_STREAMING;       /* still answering */
  many[2]->touched = mono_ms();             /* recently used */
  struct battle *held = registry_get(&r, ids[3]);  /* someone holds it */
  struct battle_watcher w = {.wake = &wake};
  battle_watch_locked(many[4], &w);         /* an event stream on it */

  CHECK(registry_sweep(&r, 60 * 1000) == (size_t)MANY + 1 - 4);
  CHECK(r.count == 4);
  CHECK(!registry_get(&r, "aaaa"));
  {
    int gone = 1;
    for (int i = 5; i < MANY; i++)
      gone &= !registry_get(&r, ids[i]);
    CHECK(gone);
    CHECK(!registry_get(&r, ids[0]));
  }
  for (int i = 1; i <= 4; i++) {
    struct battle *b = registry_get(&r, ids[i]);
    CHECK(b == many[i]);
    battle_unref(b);
  }
  /* idle for less than asked: kept */
  CHECK(registry_sweep(&r, 2 * 3600 * 1000) == 0);

  /* let go: they go at the next sweep */
  battle_unwatch_locked(many[4], &w);
  battle_unref(held);
  CHECK(registry_sweep(&r, 60 * 1000) == 2);
  CHECK(r.count == 2);
  CHECK(!registry_get(&r, ids[3]));
  CHECK(!registry_get(&r, ids[4]));

  /* release drops the registry's references and nothing else */
  struct battle *mine = registry_get(&r, ids[1]);
  CHECK(refs(mine) == 2);
  registry_release(&r);
  CHECK(refs(mine) == 1);
  battle_unref(mine);
  return check_done("test_registry");
}
