#include "util/keycount.h"

#include <stdio.h>
#include <string.h>

void keycount_init(struct keycount *t) {
  memset(t->slots, 0, sizeof t->slots);
  pthread_mutex_init(&t->lock, NULL);
}

void keycount_release(struct keycount *t) { pthread_mutex_destroy(&t->lock); }

/* The slot of key, or a free one (NULL when neither). Lock held. */
static struct keycount_slot *slot_locked(struct keycount *t, const char *key,
                                         int create) {
  struct keycount_slot *free_slot = NULL;
  for (size_t i = 0; i < KEYCOUNT_SLOTS; i++) {
    struct keycount_slot *s = &t->slots[i];
    if (!s->key[0]) {
      if (!free_slot)
        free_slot = s;
    } else if (!strncmp(s->key, key, KEYCOUNT_KEY - 1)) {
      return s;
    }
  }
  if (!create || !free_slot)
    return NULL;
  snprintf(free_slot->key, sizeof free_slot->key, "%s", key);
  free_slot->n = 0;
  return free_slot;
}

int keycount_take(struct keycount *t, const char *key, long max) {
  int rc = -1;
  pthread_mutex_lock(&t->lock);
  struct keycount_slot *s = slot_locked(t, key, 1);
  if (s && (max <= 0 || s->n < max)) {
    s->n++;
    rc = 0;
  } else if (s && s->n == 0) {
    s->key[0] = '\0';
  }
  pthread_mutex_unlock(&t->lock);
  return rc;
}

void keycount_give(struct keycount *t, const char *key) {
  pthread_mutex_lock(&t->lock);
  struct keycount_slot *s = slot_locked(t, key, 0);
  if (s && --s->n <= 0)
    s->key[0] = '\0';
  pthread_mutex_unlock(&t->lock);
}
