#include "util/lograte.h"

#include <string.h>

void lograte_init(struct lograte *lr, unsigned burst, int64_t window_ms) {
  memset(lr, 0, sizeof *lr);
  pthread_mutex_init(&lr->lock, NULL);
  atomic_init(&lr->pending, 0);
  lr->burst = burst;
  lr->window_ms = window_ms;
}

void lograte_release(struct lograte *lr) {
  pthread_mutex_destroy(&lr->lock);
}

static int window_over(const struct lograte *lr, const struct lograte_slot *s,
                       int64_t now) {
  return now - s->window >= lr->window_ms;
}

/* The slot of key: its own, a free one taken for it, or the overflow
 * slot. Caller holds the lock. */
static struct lograte_slot *slot_of(struct lograte *lr, uintptr_t key,
                                    int64_t now) {
  struct lograte_slot *spare = NULL;
  for (size_t i = 0; i < LOGRATE_SLOTS; i++) {
    struct lograte_slot *s = &lr->slot[i];
    if (s->key == key)
      return s;
    /* a key that was quiet for a whole window, with nothing left to
     * report, gives its slot up */
    if (!spare && (!s->key || (!s->suppressed && window_over(lr, s, now))))
      spare = s;
  }
  if (!spare)
    return &lr->slot[LOGRATE_SLOTS];
  spare->key = key;
  spare->window = now;
  spare->count = 0;
  spare->suppressed = 0;
  return spare;
}

int lograte_check(struct lograte *lr, uintptr_t key, const char *tag,
                  const char *label, int64_t now) {
  pthread_mutex_lock(&lr->lock);
  struct lograte_slot *s = slot_of(lr, key, now);
  if (window_over(lr, s, now) || now < s->window) {
    s->window = now;
    s->count = 0;
  }
  int ok = s->count < lr->burst;
  if (ok) {
    s->count++;
  } else {
    if (!s->suppressed) {
      atomic_fetch_add(&lr->pending, 1);
      s->tag = tag;
      size_t n = label ? strlen(label) : 0;
      if (n > LOGRATE_LABEL - 1) {
        n = LOGRATE_LABEL - 1;
        while (n && ((unsigned char)label[n] & 0xC0) == 0x80)
          n--;  /* not inside a UTF-8 sequence */
      }
      memcpy(s->label, label ? label : "", n);
      s->label[n] = '\0';
    }
    s->suppressed++;
  }
  pthread_mutex_unlock(&lr->lock);
  return ok;
}

int lograte_take(struct lograte *lr, int64_t now, int all,
                 struct lograte_report *out) {
  int found = 0;
  if (!atomic_load_explicit(&lr->pending, memory_order_relaxed))
    return 0;  /* one set just now is seen at the next call */
  pthread_mutex_lock(&lr->lock);
  for (size_t i = 0; atomic_load(&lr->pending) && i <= LOGRATE_SLOTS; i++) {
    struct lograte_slot *s = &lr->slot[i];
    if (!s->suppressed || (!all && !window_over(lr, s, now)))
      continue;
    out->suppressed = s->suppressed;
    out->tag = s->tag;
    memcpy(out->label, s->label, sizeof out->label);
    s->suppressed = 0;
    atomic_fetch_sub(&lr->pending, 1);
    found = 1;
    break;
  }
  pthread_mutex_unlock(&lr->lock);
  return found;
}
