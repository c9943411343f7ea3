/* A bounded table of counts per key (say, open event streams per client):
 * thread-safe, at most KEYCOUNT_SLOTS keys at once. */
#ifndef AGON_UTIL_KEYCOUNT_H
#define AGON_UTIL_KEYCOUNT_H

#include <pthread.h>

#define KEYCOUNT_SLOTS 4096
#define KEYCOUNT_KEY 72

struct keycount {
  pthread_mutex_t lock;
  struct keycount_slot {
    char key[KEYCOUNT_KEY];   /* "" when free */
    long n;
  } slots[KEYCOUNT_SLOTS];
};

void keycount_init(struct keycount *t);
void keycount_release(struct keycount *t);

/* Count one more for key unless it already has max (0: no cap). Returns 0
 * when taken, -1 when key is at max or the table is full. key is not ""
 * (that marks a free slot), and keys are told apart by their first
 * KEYCOUNT_KEY - 1 bytes. */
int keycount_take(struct keycount *t, const char *key, long max);

/* Give back one taken by keycount_take. */
void keycount_give(struct keycount *t, const char *key);

#endif
