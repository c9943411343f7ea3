#include "rating/own_boards.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"

struct own_session {
  char key[OWN_BOARD_SESSION];
  struct own_vote *votes;        /* a ring of cap, oldest at start */
  size_t n, cap, start;
  struct own_session *hash_next;
  struct own_session *lru_prev, *lru_next;
};

void own_boards_init(struct own_boards *ob) {
  memset(ob, 0, sizeof *ob);
  pthread_mutex_init(&ob->lock, NULL);
}

static void session_free(struct own_session *s) {
  if (s) {
    free(s->votes);
    free(s);
  }
}

void own_boards_release(struct own_boards *ob) {
  for (struct own_session *s = ob->lru_head, *next; s; s = next) {
    next = s->lru_next;
    session_free(s);
  }
  for (size_t i = 0; i < ob->n_names; i++)
    free(ob->names[i]);
  free(ob->names);
  pthread_mutex_destroy(&ob->lock);
  memset(ob, 0, sizeof *ob);
}

void own_boards_clear(struct own_boards *ob) {
  pthread_mutex_lock(&ob->lock);
  for (struct own_session *s = ob->lru_head, *next; s; s = next) {
    next = s->lru_next;
    session_free(s);
  }
  memset(ob->buckets, 0, sizeof ob->buckets);
  ob->lru_head = ob->lru_tail = NULL;
  ob->n_sessions = 0;
  pthread_mutex_unlock(&ob->lock);
}

static size_t bucket_of(const char *session) {
  return (size_t)(hash_fnv1a_str(session) % OWN_BOARD_BUCKETS);
}

static struct own_session **find_slot(struct own_boards *ob,
                                      const char *session) {
  struct own_session **p = &ob->buckets[bucket_of(session)];
  while (*p && strcmp((*p)->key, session))
    p = &(*p)->hash_next;
  return p;
}

static void lru_unlink(struct own_boards *ob, struct own_session *s) {
  if (s->lru_prev)
    s->lru_prev->lru_next = s->lru_next;
  else
    ob->lru_head = s->lru_next;
  if (s->lru_next)
    s->lru_next->lru_prev = s->lru_prev;
  else
    ob->lru_tail = s->lru_prev;
  s->lru_prev = s->lru_next = NULL;
}

static void lru_front(struct own_boards *ob, struct own_session *s) {
  s->lru_next = ob->lru_head;
  s->lru_prev = NULL;
  if (ob->lru_head)
    ob->lru_head->lru_prev = s;
  ob->lru_head = s;
  if (!ob->lru_tail)
    ob->lru_tail = s;
}

static void session_drop(struct own_boards *ob, struct own_session *s) {
  struct own_session **p = find_slot(ob, s->key);
  if (*p == s)
    *p = s->hash_next;
  lru_unlink(ob, s);
  ob->n_sessions--;
  session_free(s);
}

/* The index of model's name, added when new; -1 when out of memory or
 * past OWN_BOARD_MAX_NAMES. Lock held. */
static long name_index(struct own_boards *ob, const char *model) {
  for (size_t i = 0; i < ob->n_names; i++)
    if (!strcmp(ob->names[i], model))
      return (long)i;
  if (ob->n_names >= OWN_BOARD_MAX_NAMES)
    return -1;
  if (ob->n_names == ob->cap_names) {
    size_t cap = ob->cap_names ? ob->cap_names * 2 : 16;
    char **p = realloc(ob->names, cap * sizeof *p);
    if (!p)
      return -1;
    ob->names = p;
    ob->cap_names = cap;
  }
  char *d = strdup(model);
  if (!d)
    return -1;
  ob->names[ob->n_names] = d;
  return (long)ob->n_names++;
}

/* Append v to s's ring, dropping the oldest past max. 0 or -1. */
static int ring_push(struct own_session *s, struct own_vote v, size_t max) {
  if (s->n < max && s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 8;
    if (cap > max)
      cap = max;
    struct own_vote *p = malloc(cap * sizeof *p);
    if (!p)
      return -1;
    for (size_t i = 0; i < s->n; i++)
      p[i] = s->votes[(s->start + i) % s->cap];
    free(s->votes);
    s->votes = p;
    s->cap = cap;
    s->start = 0;
  }
  if (s->n < s->cap) {
    s->votes[(s->start + s->n++) % s->cap] = v;
  } else {
    s->votes[s->start] = v;   /* the oldest goes */
    s->start = (s->start + 1) % s->cap;
  }
  return 0;
}

static int vote_of(struct own_boards *ob, const char *a, const char *b,
                   enum winner w, struct own_vote *out) {
  long ia = name_index(ob, a), ib = name_index(ob, b);
  if (ia < 0 || ib < 0)
    return -1;
  *out = (struct own_vote){(uint16_t)ia, (uint16_t)ib, (unsigned char)w};
  return 0;
}

int own_boards_put(struct own_boards *ob, const char *session,
                   const struct own_vote_in *votes, size_t n,
                   long max_sessions, long max_votes) {
  if (strlen(session) >= OWN_BOARD_SESSION || max_votes < 1)
    return -1;
  struct own_session *s = calloc(1, sizeof *s);
  if (!s)
    return -1;
  snprintf(s->key, sizeof s->key, "%s", session);
  int rc = -1;
  pthread_mutex_lock(&ob->lock);
  for (size_t i = 0; i < n; i++) {
    struct own_vote v;
    if (vote_of(ob, votes[i].model_a, votes[i].model_b, votes[i].w, &v) ||
        ring_push(s, v, (size_t)max_votes))
      goto out;
  }
  struct own_session **p = find_slot(ob, session);
  if (*p)
    session_drop(ob, *p);
  p = find_slot(ob, session);
  *p = s;
  lru_front(ob, s);
  ob->n_sessions++;
  s = NULL;
  while (ob->lru_tail && ob->n_sessions > (size_t)(max_sessions < 0 ? 0 : max_sessions))
    session_drop(ob, ob->lru_tail);
  rc = 0;
out:
  pthread_mutex_unlock(&ob->lock);
  session_free(s);
  return rc;
}

void own_boards_add(struct own_boards *ob, const char *session,
                    const char *model_a, const char *model_b, enum winner w,
                    long max_votes) {
  pthread_mutex_lock(&ob->lock);
  struct own_session *s = *find_slot(ob, session);
  struct own_vote v;
  /* a vote that cannot be held drops the session: it is read again whole
   * when next asked for, never shown with a vote missing */
  if (s && (vote_of(ob, model_a, model_b, w, &v) ||
            ring_push(s, v, (size_t)(max_votes < 1 ? 1 : max_votes))))
    session_drop(ob, s);
  pthread_mutex_unlock(&ob->lock);
}

int own_boards_replay(struct own_boards *ob, const char *session, double k,
                      struct rating_table *t, long *n_votes) {
  *n_votes = 0;
  int rc = 0;
  pthread_mutex_lock(&ob->lock);
  struct own_session *s = *find_slot(ob, session);
  if (s) {
    lru_unlink(ob, s);
    lru_front(ob, s);
    rc = 1;
    for (size_t i = 0; i < s->n; i++) {
      const struct own_vote *v = &s->votes[(s->start + i) % s->cap];
      if (rating_table_apply(t, ob->names[v->a], ob->names[v->b],
                             (enum winner)v->w, k)) {
        rc = -1;
        break;
      }
    }
    *n_votes = (long)s->n;
  }
  pthread_mutex_unlock(&ob->lock);
  return rc;
}

size_t own_boards_sessions(struct own_boards *ob) {
  pthread_mutex_lock(&ob->lock);
  size_t n = ob->n_sessions;
  pthread_mutex_unlock(&ob->lock);
  return n;
}
