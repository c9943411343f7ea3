#include "battle/share_map.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct share_entry {
  char token[STORE_SHARE_TOKEN];
  char id[40];
  struct share_entry *next_token, *next_battle;
};

void share_map_init(struct share_map *m) {
  memset(m, 0, sizeof *m);
  pthread_mutex_init(&m->lock, NULL);
}

void share_map_release(struct share_map *m) {
  for (size_t i = 0; i < SHARE_MAP_BUCKETS; i++)
    for (struct share_entry *e = m->by_token[i], *next; e; e = next) {
      next = e->next_token;
      free(e);
    }
  pthread_mutex_destroy(&m->lock);
  memset(m, 0, sizeof *m);
}

static size_t bucket(const char *s) {
  return (size_t)(hash_fnv1a_str(s) % SHARE_MAP_BUCKETS);
}

/* Unlink and free id's entry, if any; lock held. */
static void drop_locked(struct share_map *m, const char *id) {
  struct share_entry **p = &m->by_battle[bucket(id)];
  while (*p && strcmp((*p)->id, id))
    p = &(*p)->next_battle;
  struct share_entry *e = *p;
  if (!e)
    return;
  *p = e->next_battle;
  struct share_entry **q = &m->by_token[bucket(e->token)];
  while (*q && *q != e)
    q = &(*q)->next_token;
  if (*q)
    *q = e->next_token;
  m->n--;
  free(e);
}

int share_map_set(struct share_map *m, const char *token, const char *id) {
  struct share_entry *e = calloc(1, sizeof *e);
  if (!e)
    return -1;
  snprintf(e->token, sizeof e->token, "%s", token);
  snprintf(e->id, sizeof e->id, "%s", id);
  pthread_mutex_lock(&m->lock);
  drop_locked(m, id);
  size_t t = bucket(e->token), b = bucket(e->id);
  e->next_token = m->by_token[t];
  m->by_token[t] = e;
  e->next_battle = m->by_battle[b];
  m->by_battle[b] = e;
  m->n++;
  pthread_mutex_unlock(&m->lock);
  return 0;
}

void share_map_drop(struct share_map *m, const char *id) {
  pthread_mutex_lock(&m->lock);
  drop_locked(m, id);
  pthread_mutex_unlock(&m->lock);
}

int share_map_battle(struct share_map *m, const char *token, char id[40]) {
  int found = 0;
  pthread_mutex_lock(&m->lock);
  for (struct share_entry *e = m->by_token[bucket(token)]; e;
       e = e->next_token)
    if (!strcmp(e->token, token)) {
      snprintf(id, 40, "%s", e->id);
      found = 1;
      break;
    }
  pthread_mutex_unlock(&m->lock);
  return found;
}

int share_map_token(struct share_map *m, const char *id,
                    char token[STORE_SHARE_TOKEN]) {
  int found = 0;
  pthread_mutex_lock(&m->lock);
  for (struct share_entry *e = m->by_battle[bucket(id)]; e;
       e = e->next_battle)
    if (!strcmp(e->id, id)) {
      snprintf(token, STORE_SHARE_TOKEN, "%s", e->token);
      found = 1;
      break;
    }
  pthread_mutex_unlock(&m->lock);
  return found;
}

size_t share_map_count(struct share_map *m) {
  pthread_mutex_lock(&m->lock);
  size_t n = m->n;
  pthread_mutex_unlock(&m->lock);
  return n;
}
