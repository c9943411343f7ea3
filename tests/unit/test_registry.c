/* The registry of battles in memory: put and get by id with references
 * counted for the caller, the first of two battles with one id kept, a
 * sweep that forgets only finished, unwatched, unused, idle battles; the
 * bytes of the battles at rest, bounded by evicting the least recently
 * used unused ones; and loads that a change to the record overtook. */
#include <stdio.h>
#include <string.h>

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

/* A battle at rest (ready) with one turn whose answers are n bytes each,
 * and HTML for them. */
static struct battle *sized(const char *id, size_t n) {
  struct battle *b = made(id);
  pthread_mutex_lock(&b->lock);
  int t = battle_add_turn_locked(b, "a prompt", 1 << 20);
  static char text[1 << 16];
  memset(text, 'x', sizeof text);
  for (int s = 0; t >= 0 && s < 2; s++) {
    buf_append(&b->turns[t].side[s].text, text, n);
    b->turns[t].side[s].finished = 1;
    b->turns[t].side[s].html = strdup("<p>x</p>");
    b->turns[t].side[s].html_len = 8;
  }
  b->status = BATTLE_READY;
  pthread_mutex_unlock(&b->lock);
  return b;
}

static size_t bytes_of(struct battle *b) {
  pthread_mutex_lock(&b->lock);
  size_t n = battle_bytes_locked(b);
  pthread_mutex_unlock(&b->lock);
  return n;
}

/* Put b and drop the caller's references: the registry's alone remain. */
static void put_only(struct registry *r, struct battle *b) {
  battle_unref(registry_put(r, b));
  battle_unref(b);
}

static int held(struct registry *r, const char *id) {
  struct battle *b = registry_get(r, id);
  battle_unref(b);
  return b != NULL;
}

static void bounded(void) {
  struct registry r;
  registry_init(&r);
  size_t bytes;
  unsigned long evicted;

  /* what a battle holds: its answers' buffers, prompts and HTML */
  struct battle *probe = sized("probe", 10000);
  size_t one = bytes_of(probe);
  CHECK(one >= 2 * 10000 + 2 * 9 + 9 && one < 2 * 16384 + 4096);
  pthread_mutex_lock(&probe->lock);
  probe->turns[0].side[1].reasoning.max = 1 << 20;
  buf_append(&probe->turns[0].side[1].reasoning, "thinking", 8);
  size_t with_reasoning = battle_bytes_locked(probe);
  battle_drop_reasoning_locked(probe);
  CHECK(with_reasoning > one && battle_bytes_locked(probe) == one);
  CHECK(probe->reasoning_dropped && !probe->turns[0].side[1].reasoning.data);
  pthread_mutex_unlock(&probe->lock);
  battle_unref(probe);

  /* no bound: counted, never evicted */
  put_only(&r, sized("a", 10000));
  put_only(&r, sized("b", 10000));
  struct battle *s = sized("streaming", 10000);  /* counts nothing */
  s->status = BATTLE_STREAMING;
  put_only(&r, s);
  registry_stats(&r, &bytes, &evicted);
  CHECK(bytes == 2 * one && evicted == 0 && r.count == 3);

  /* a bound of two and a half: the least recently used unused go */
  registry_set_max_bytes(&r, 2 * one + one / 2);
  put_only(&r, sized("c", 10000));
  registry_stats(&r, &bytes, &evicted);
  CHECK(bytes == 2 * one && evicted == 1);
  CHECK(!held(&r, "a") && held(&r, "b") && held(&r, "c"));
  CHECK(held(&r, "streaming"));
  /* b used after c: c goes first now */
  CHECK(held(&r, "b"));
  put_only(&r, sized("d", 10000));
  CHECK(!held(&r, "c") && held(&r, "b") && held(&r, "d"));

  /* never what someone holds, nor a turn on its way to the database */
  struct battle *keep = registry_get(&r, "b");
  put_only(&r, sized("e", 10000));
  CHECK(held(&r, "b") && !held(&r, "d") && held(&r, "e"));
  pthread_mutex_lock(&keep->lock);
  keep->turn_pending = 1;
  pthread_mutex_unlock(&keep->lock);
  battle_unref(keep);
  put_only(&r, sized("f", 10000));
  CHECK(held(&r, "b") && !held(&r, "e") && held(&r, "f"));
  registry_stats(&r, &bytes, &evicted);
  CHECK(bytes == 2 * one && evicted == 4);

  /* the streaming one never went, and counts once at rest (its turn
   * over); then the oldest unused one goes, not the pending one */
  s = registry_get(&r, "streaming");
  CHECK(s != NULL);
  if (s) {
    pthread_mutex_lock(&s->lock);
    s->status = BATTLE_READY;
    size_t s_bytes = battle_bytes_locked(s);
    pthread_mutex_unlock(&s->lock);
    registry_account(&r, s);
    registry_stats(&r, &bytes, &evicted);
    CHECK(bytes == one + s_bytes && evicted == 5);
    CHECK(held(&r, "b") && !held(&r, "f"));
    /* streaming again (a follow-up turn): no longer counted */
    pthread_mutex_lock(&s->lock);
    s->status = BATTLE_STREAMING;
    pthread_mutex_unlock(&s->lock);
    registry_account(&r, s);
    registry_stats(&r, &bytes, &evicted);
    CHECK(bytes == one);
    /* forgotten: out of the count, the caller's reference kept */
    registry_forget(&r, s);
    CHECK(!held(&r, "streaming") && refs(s) == 1);
    registry_account(&r, s);  /* not held here: nothing */
    registry_stats(&r, &bytes, &evicted);
    CHECK(bytes == one && r.count == 1);
    battle_unref(s);
  }

  /* a lower bound evicts at once; 0 is none */
  keep = registry_get(&r, "b");
  pthread_mutex_lock(&keep->lock);
  keep->turn_pending = 0;
  pthread_mutex_unlock(&keep->lock);
  battle_unref(keep);
  registry_set_max_bytes(&r, 0);
  registry_stats(&r, &bytes, &evicted);
  CHECK(bytes == one && evicted == 5);
  registry_set_max_bytes(&r, one - 1);
  registry_stats(&r, &bytes, &evicted);
  CHECK(bytes == 0 && evicted == 6 && r.count == 0);
  registry_release(&r);
}

/* A load that began before a change to the record (a vote) is not put:
 * it reads again. */
static void stamps(void) {
  struct registry r;
  registry_init(&r);
  struct registry_stamp stamp = registry_stamp(&r, "x1");
  CHECK(!registry_get_changed(&r, "x1"));  /* voted, not in memory */
  struct battle *old = made("x1");
  CHECK(!registry_put_loaded(&r, old, stamp));
  CHECK(refs(old) == 1 && r.count == 0);
  stamp = registry_stamp(&r, "x1");
  struct battle *b = registry_put_loaded(&r, old, stamp);
  CHECK(b == old && refs(old) == 3);
  battle_unref(b);
  battle_unref(old);
  /* in memory: the change finds it, with a reference */
  struct battle *again = made("x1");
  stamp = registry_stamp(&r, "x1");
  b = registry_get_changed(&r, "x1");
  CHECK(b == old && refs(old) == 2);
  battle_unref(b);
  /* a battle already there is given whatever the stamp */
  b = registry_put_loaded(&r, again, stamp);
  CHECK(b == old && refs(again) == 1);
  battle_unref(b);
  battle_unref(again);
  registry_release(&r);
}

/* Another node's votes: unused ready battles are dropped at once, one in
 * use then is dropped once nobody uses it, one no longer ready (voted
 * here meanwhile) and one streaming are kept. */
static void unsettled(void) {
  struct registry r;
  registry_init(&r);
  put_only(&r, sized("u1", 10));
  put_only(&r, sized("u2", 10));
  put_only(&r, sized("u3", 10));
  struct battle *s = made("u4");  /* streaming */
  put_only(&r, s);
  struct battle *used = registry_get(&r, "u2");
  struct battle *voted = registry_get(&r, "u3");
  CHECK(registry_drop_unsettled(&r) == 1);  /* u1 */
  CHECK(r.count == 3 && !held(&r, "u1"));
  /* still in use: given out, and so on while it is */
  struct battle *again = registry_get(&r, "u2");
  CHECK(again == used && refs(used) == 3);
  battle_unref(again);
  pthread_mutex_lock(&voted->lock);
  voted->status = BATTLE_VOTED;
  pthread_mutex_unlock(&voted->lock);
  battle_unref(voted);
  battle_unref(used);
  /* nobody uses it: read again */
  CHECK(!registry_get(&r, "u2"));
  CHECK(r.count == 2);
  /* a load put in its place is kept */
  struct battle *fresh = sized("u2", 10);
  put_only(&r, fresh);
  CHECK(held(&r, "u2") && held(&r, "u3") && held(&r, "u4"));
  /* an unsettled battle found by a load is replaced by it */
  used = registry_get(&r, "u2");
  CHECK(registry_drop_unsettled(&r) == 0);
  battle_unref(used);
  struct battle *load = sized("u2", 10);
  struct battle *b = registry_put(&r, load);
  CHECK(b == load && refs(load) == 3);
  battle_unref(b);
  battle_unref(load);
  CHECK(r.count == 3);
  /* a load that began before another node's votes came is put, and read
   * again once nobody uses it */
  struct registry_stamp st = registry_stamp(&r, "u5");
  CHECK(registry_drop_unsettled(&r) == 1);  /* u2, the load */
  struct battle *late = sized("u5", 10);
  b = registry_put_loaded(&r, late, st);
  CHECK(b == late && refs(late) == 3);
  battle_unref(b);
  battle_unref(late);
  CHECK(!registry_get(&r, "u5"));
  st = registry_stamp(&r, "u5");
  late = sized("u5", 10);
  b = registry_put_loaded(&r, late, st);
  CHECK(b == late);
  battle_unref(b);
  battle_unref(late);
  CHECK(held(&r, "u5") && held(&r, "u5"));
  registry_release(&r);
}

int main(void) {
  bounded();
  stamps();
  unsettled();
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
