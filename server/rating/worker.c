#include "rating/worker.h"

#include <errno.h>
#include <stdio.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rating/live.h"
#include "rating/pairing.h"
#include "util/log.h"
#include "util/array.h"
#include "util/clock.h"

void bt_snapshot_unref(struct bt_snapshot *s) {
  if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
    return;
  for (int i = 0; i < s->n; i++)
    free(s->names[i]);
  free(s->names);
  free(s->s);
  free(s->active);
  pair_table_release(&s->pairs);
  free(s);
}

int bt_snapshot_find(const struct bt_snapshot *s, const char *name) {
  return array_find_sorted_str(s->names, s->n, name);
}

static int cmp_str(const void *x, const void *y) {
  return strcmp(*(char *const *)x, *(char *const *)y);
}

static int add_name(struct bt_snapshot *s, const char *name) {
  for (int i = 0; i < s->n; i++)
    if (!strcmp(s->names[i], name))
      return 0;
  char **names = realloc(s->names, (size_t)(s->n + 1) * sizeof *names);
  if (!names)
    return -1;
  s->names = names;
  names[s->n] = strdup(name);
  if (!names[s->n])
    return -1;
  s->n++;
  return 0;
}

/* The active pairing rule's score of every pair of s (s->active), so
 * that a battle's draw reads them and never fits: NULL when they cannot
 * be had (then the active rule draws as the weighted one). O(n^3), on the
 * worker's thread. */
static void active_scores(struct bt_snapshot *s) {
  struct bt_pair *bp = NULL;
  size_t np = 0;
  size_t n = (size_t)s->n;
  double *rating = n ? malloc(n * sizeof *rating) : NULL;
  int *comp = n ? malloc(n * sizeof *comp) : NULL;
  double *score = n ? malloc(n * n * sizeof *score) : NULL;
  if (!n || !rating || !comp || !score ||
      pair_table_to_bt(&s->pairs, (const char *const *)s->names, s->n, &bp,
                       &np))
    goto out;
  for (size_t i = 0; i < n; i++) {
    rating[i] = s->s[i].bt;
    comp[i] = s->s[i].component;
  }
  if (pairing_active_scores(s->n, rating, comp, bp, np, score)) {
    log_error("msg=\"active pairing scores failed\" models=%d", s->n);
    goto out;
  }
  s->active = score;
  score = NULL;
out:
  free(bp);
  free(rating);
  free(comp);
  free(score);
}

/* Fit a snapshot from a private copy of the pair counts. */
static struct bt_snapshot *fit(struct rating_worker *w) {
  struct pair_table copy = {0};
  pthread_mutex_lock(&w->live->lock);
  int rc = pair_table_copy(&copy, &w->live->pairs);
  pthread_mutex_unlock(&w->live->lock);
  if (rc) {
    pair_table_release(&copy);
    return NULL;
  }
  struct bt_snapshot *s = bt_snapshot_fit_steal(&copy, w->rounds);
  if (s && atomic_load(&w->active_scores))
    active_scores(s);
  return s;
}

struct bt_snapshot *bt_snapshot_fit_steal(struct pair_table *pairs,
                                          int rounds) {
  struct bt_snapshot *s = calloc(1, sizeof *s);
  struct bt_pair *bp = NULL;
  size_t np = 0;
  if (!s) {
    pair_table_release(pairs);
    return NULL;
  }
  atomic_init(&s->refs, 1);
  s->pairs = *pairs;
  memset(pairs, 0, sizeof *pairs);
  for (size_t i = 0; i < s->pairs.n; i++)
    if (add_name(s, s->pairs.rows[i].a) || add_name(s, s->pairs.rows[i].b))
      goto fail;
  if (s->n)
    qsort(s->names, (size_t)s->n, sizeof *s->names, cmp_str);
  s->s = calloc((size_t)s->n + 1, sizeof *s->s);
  if (!s->s ||
      pair_table_to_bt(&s->pairs, (const char *const *)s->names, s->n, &bp,
                       &np))
    goto fail;
  struct summary_params p = {.rounds = rounds, .seed = 0, .threads = 1};
  if (summary_bt(s->n, bp, np, (const char *const *)s->names, &p, s->s))
    goto fail;
  free(bp);
  s->computed_at = now_ms();
  return s;
fail:
  free(bp);
  bt_snapshot_unref(s);
  return NULL;
}

void rating_worker_open_key(char out[RATING_OPEN_KEY_MAX], const char *key) {
  snprintf(out, RATING_OPEN_KEY_MAX, "%s%s", RATING_OPEN_PREFIX, key);
}

/* Whether the worker's fit of slice key covers votes (w->lock held). */
static int fitted_at(const struct rating_worker *w, const char *key,
                     long votes) {
  for (size_t k = 0; k < w->n_slices; k++)
    if (!strcmp(w->slices[k].key, key))
      return w->slices[k].votes == votes;
  return 0;
}

/* The rows of src between two models of names[n] (sorted) into dst
 * (empty). 0 or -1 (dst then holds part of them: release it). */
static int pairs_among(struct pair_table *dst, const struct pair_table *src,
                       char *const *names, size_t n) {
  for (size_t i = 0; i < src->n; i++) {
    const struct pair_row *r = &src->rows[i];
    if (array_find_sorted_str(names, (int)n, r->a) < 0 ||
        array_find_sorted_str(names, (int)n, r->b) < 0)
      continue;
    struct pair_row *d = pair_table_get(dst, r->a, r->b, 1);
    if (!d)
      return -1;
    d->wins_a = r->wins_a;
    d->wins_b = r->wins_b;
    d->ties = r->ties;
  }
  return 0;
}

/* Refit every slice whose votes moved since its last fit (lock order:
 * live->lock, then w->lock, never the other way): the keys and
 * pair counts copied under the live lock, each fitted outside it and
 * published under w->lock. A slice that cannot be fitted (out of memory)
 * keeps its last fit and is tried again next round. */
static void fit_slices(struct rating_worker *w) {
  struct todo {
    char *key;
    long votes;
    struct pair_table pairs;
    long open_gen;             /* an open-weights board: of that set; -1 */
  } *todo = NULL;
  size_t n = 0;
  pthread_mutex_lock(&w->live->lock);
  const struct slice_table *t = &w->live->slices;
  /* each slice, then (with open-weights models) each slice's open-weights
   * board and the whole board's */
  todo = calloc(2 * t->n + 1, sizeof *todo);
  pthread_mutex_lock(&w->lock);
  size_t n_open = w->n_open;
  long open_gen = w->open_gen;
  pthread_mutex_unlock(&w->lock);
  for (size_t i = 0; todo && n_open && i <= t->n; i++) {
    const char *key = i < t->n ? t->s[i].key : "";
    const struct pair_table *src = i < t->n ? &t->s[i].pairs : &w->live->pairs;
    long votes = i < t->n ? t->s[i].votes : pair_table_total(src);
    char open_key[RATING_OPEN_KEY_MAX];
    rating_worker_open_key(open_key, key);
    pthread_mutex_lock(&w->lock);
    int done = fitted_at(w, open_key, votes) || w->open_gen != open_gen;
    int rc = done ? 0 : pairs_among(&todo[n].pairs, src, w->open, w->n_open);
    pthread_mutex_unlock(&w->lock);
    if (done)
      continue;
    todo[n].key = strdup(open_key);
    todo[n].votes = votes;
    todo[n].open_gen = open_gen;
    if (rc || !todo[n].key) {
      free(todo[n].key);
      pair_table_release(&todo[n].pairs);
      continue;
    }
    n++;
  }
  for (size_t i = 0; todo && i < t->n; i++) {
    long fitted = -1;
    pthread_mutex_lock(&w->lock);
    for (size_t k = 0; k < w->n_slices; k++)
      if (!strcmp(w->slices[k].key, t->s[i].key))
        fitted = w->slices[k].votes;
    pthread_mutex_unlock(&w->lock);
    if (fitted == t->s[i].votes)
      continue;
    todo[n].key = strdup(t->s[i].key);
    todo[n].votes = t->s[i].votes;
    todo[n].open_gen = -1;
    if (!todo[n].key || pair_table_copy(&todo[n].pairs, &t->s[i].pairs)) {
      free(todo[n].key);
      pair_table_release(&todo[n].pairs);
      continue;
    }
    n++;
  }
  pthread_mutex_unlock(&w->live->lock);
  for (size_t i = 0; i < n; i++) {
    struct bt_snapshot *s = bt_snapshot_fit_steal(&todo[i].pairs, w->rounds);
    if (!s) {
      log_error("msg=\"Bradley-Terry fit failed\" slice=\"%s\"",
                log_q(todo[i].key));
      free(todo[i].key);
      continue;
    }
    struct bt_snapshot *old = NULL;
    pthread_mutex_lock(&w->lock);
    if (todo[i].open_gen >= 0 && todo[i].open_gen != w->open_gen) {
      /* the open-weights models changed while it was fitted: the next
       * round fits it over the new ones */
      pthread_mutex_unlock(&w->lock);
      bt_snapshot_unref(s);
      free(todo[i].key);
      continue;
    }
    s->fit = ++w->slice_fits;
    size_t k = 0;
    while (k < w->n_slices && strcmp(w->slices[k].key, todo[i].key))
      k++;
    if (k == w->n_slices) {
      struct slice_fit *more =
          realloc(w->slices, (w->n_slices + 1) * sizeof *more);
      if (!more) {
        pthread_mutex_unlock(&w->lock);
        bt_snapshot_unref(s);
        free(todo[i].key);
        continue;
      }
      w->slices = more;
      more[k] = (struct slice_fit){.key = todo[i].key};
      todo[i].key = NULL;
      w->n_slices++;
    }
    old = w->slices[k].snap;
    w->slices[k].snap = s;
    w->slices[k].votes = todo[i].votes;
    pthread_mutex_unlock(&w->lock);
    bt_snapshot_unref(old);
    free(todo[i].key);
  }
  free(todo);
}

struct bt_snapshot *rating_worker_slice_snapshot(struct rating_worker *w,
                                                 const char *key) {
  struct bt_snapshot *s = NULL;
  pthread_mutex_lock(&w->lock);
  for (size_t k = 0; k < w->n_slices && !s; k++)
    if (!strcmp(w->slices[k].key, key) && (s = w->slices[k].snap))
      atomic_fetch_add(&s->refs, 1);
  pthread_mutex_unlock(&w->lock);
  return s;
}

static void *worker_main(void *arg) {
  struct rating_worker *w = arg;
  /* refits are background work: they run when the CPU has nothing
   * better to do, never ahead of serving */
  struct sched_param sp = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->dirty && !w->stop)
      pthread_cond_wait(&w->cond, &w->lock);
    if (w->stop)
      break;
    /* debounce: let a burst of votes settle */
    struct timespec until = clock_in_ms(CLOCK_REALTIME, (long)w->debounce_ms);
    while (!w->stop &&
           pthread_cond_timedwait(&w->cond, &w->lock, &until) != ETIMEDOUT)
      ;
    if (w->stop)
      break;
    w->dirty = 0;
    pthread_mutex_unlock(&w->lock);
    struct bt_snapshot *s = fit(w);
    pthread_mutex_lock(&w->lock);
    if (s) {
      struct bt_snapshot *old = w->snap;
      w->snap = s;
      s->fit = ++w->fits;
      pthread_mutex_unlock(&w->lock);
      bt_snapshot_unref(old);
      pthread_mutex_lock(&w->lock);
    } else {
      log_error("msg=\"Bradley-Terry fit failed\"");
    }
    /* then the slices, in the same round: a slice's board is never
     * fitted from more votes than the overall one shown beside it */
    pthread_mutex_unlock(&w->lock);
    fit_slices(w);
    pthread_mutex_lock(&w->lock);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

int rating_worker_start(struct rating_worker *w, struct live_ratings *live,
                        int rounds, int debounce_ms, int active_scores) {
  memset(w, 0, sizeof *w);
  atomic_init(&w->active_scores, active_scores != 0);
  w->live = live;
  w->rounds = rounds;
  w->debounce_ms = debounce_ms;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  /* The first fit, before serving. With many pairs the intervals take a
   * while (a second for 100 models), so then the first fit has point
   * ratings only and the intervals follow from the background at once. */
  pthread_mutex_lock(&live->lock);
  size_t pairs = live->pairs.n;
  pthread_mutex_unlock(&live->lock);
  int quick = pairs > 500;
  if (quick)
    w->rounds = 0;
  w->snap = fit(w);
  w->rounds = rounds;
  if (w->snap)
    w->snap->fit = w->fits = 1;
  if (pthread_create(&w->thread, NULL, worker_main, w))
    return -1;
  w->started = 1;
  /* the slices are fitted in the background from the start */
  pthread_mutex_lock(&live->lock);
  size_t slices = live->slices.n;
  pthread_mutex_unlock(&live->lock);
  if (quick || slices)
    rating_worker_poke(w);
  return 0;
}

static void config_names_free(char **names, size_t n) {
  for (size_t i = 0; i < n; i++)
    free(names[i]);
  free(names);
}

int rating_worker_set_open(struct rating_worker *w, const char *const *names,
                           size_t n) {
  char **copy = n ? calloc(n, sizeof *copy) : NULL;
  if (n && !copy)
    return -1;
  for (size_t i = 0; i < n; i++)
    if (!(copy[i] = strdup(names[i]))) {
      config_names_free(copy, n);
      return -1;
    }
  if (n)
    qsort(copy, n, sizeof *copy, cmp_str);
  pthread_mutex_lock(&w->lock);
  int same = n == w->n_open;
  for (size_t i = 0; same && i < n; i++)
    same = !strcmp(copy[i], w->open[i]);
  if (same) {
    pthread_mutex_unlock(&w->lock);
    config_names_free(copy, n);
    return 0;
  }
  char **old = w->open;
  size_t n_old = w->n_open;
  w->open = copy;
  w->n_open = n;
  w->open_gen++;
  /* every open-weights board is stale: dropped, refitted next round (a
   * snapshot's release takes no lock) */
  size_t kept = 0;
  for (size_t k = 0; k < w->n_slices; k++) {
    if (!strncmp(w->slices[k].key, RATING_OPEN_PREFIX,
                 strlen(RATING_OPEN_PREFIX))) {
      bt_snapshot_unref(w->slices[k].snap);
      free(w->slices[k].key);
      continue;
    }
    w->slices[kept++] = w->slices[k];
  }
  w->n_slices = kept;
  w->dirty = 1;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  config_names_free(old, n_old);
  return 0;
}

void rating_worker_poke(struct rating_worker *w) {
  pthread_mutex_lock(&w->lock);
  w->dirty = 1;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

void rating_worker_set_active(struct rating_worker *w, int on) {
  atomic_store(&w->active_scores, on != 0);
  pthread_mutex_lock(&w->lock);
  int missing = on && w->snap && !w->snap->active && w->snap->n >= 2;
  pthread_mutex_unlock(&w->lock);
  if (missing)
    rating_worker_poke(w);
}

struct bt_snapshot *rating_worker_snapshot(struct rating_worker *w) {
  pthread_mutex_lock(&w->lock);
  struct bt_snapshot *s = w->snap;
  if (s)
    atomic_fetch_add(&s->refs, 1);
  pthread_mutex_unlock(&w->lock);
  return s;
}

void rating_worker_stop(struct rating_worker *w) {
  if (w->started) {
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->cond);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    w->started = 0;
  }
  bt_snapshot_unref(w->snap);
  w->snap = NULL;
  for (size_t k = 0; k < w->n_slices; k++) {
    free(w->slices[k].key);
    bt_snapshot_unref(w->slices[k].snap);
  }
  free(w->slices);
  w->slices = NULL;
  w->n_slices = 0;
  config_names_free(w->open, w->n_open);
  w->open = NULL;
  w->n_open = 0;
  pthread_mutex_destroy(&w->lock);
  pthread_cond_destroy(&w->cond);
}
