#include "battle/history.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"


/* The counted votes read for one job: models by index into names. */
struct vote_log {
  char **names;
  size_t n_names;
  struct logged_vote {
    int a, b;
    signed char w, dedup;
    double k;
    int64_t t;
  } *v;
  size_t n, cap;
  double k;            /* for votes without their own */
  int64_t first, last; /* the earliest and latest created_at */
  long dropped;        /* past HISTORY_VOTES_MAX */
};

static void vote_log_release(struct vote_log *l) {
  for (size_t i = 0; i < l->n_names; i++)
    free(l->names[i]);
  free(l->names);
  free(l->v);
  memset(l, 0, sizeof *l);
}

/* The index of name in l's names, added when new; -1 when out of memory.
 * Linear: the models of an arena are few. */
static int name_index(struct vote_log *l, const char *name) {
  for (size_t i = 0; i < l->n_names; i++)
    if (!strcmp(l->names[i], name))
      return (int)i;
  char **more = realloc(l->names, (l->n_names + 1) * sizeof *more);
  if (!more)
    return -1;
  l->names = more;
  if (!(more[l->n_names] = strdup(name)))
    return -1;
  return (int)l->n_names++;
}

static int gather(void *ctx, const struct store_timed_vote *sv) {
  struct vote_log *l = ctx;
  if (l->n == HISTORY_VOTES_MAX) {
    l->dropped++;
    return 0;
  }
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 1024;
    struct logged_vote *more = realloc(l->v, cap * sizeof *more);
    if (!more)
      return -1;
    l->v = more;
    l->cap = cap;
  }
  int a = name_index(l, sv->model_a), b = name_index(l, sv->model_b);
  if (a < 0 || b < 0)
    return -1;
  l->v[l->n++] = (struct logged_vote){.a = a, .b = b, .w = (signed char)sv->w,
                                      .dedup = (signed char)sv->dedup,
                                      .k = sv->k >= 0 ? sv->k : l->k,
                                      .t = sv->created_at};
  if (l->n == 1 || sv->created_at < l->first)
    l->first = sv->created_at;
  if (l->n == 1 || sv->created_at > l->last)
    l->last = sv->created_at;
  return 0;
}

/* Replay the votes created up to until (in commit order) into elo and
 * pairs (empty): the Elo of every one, the pair counts of those that
 * de-duplication kept. *n gets the votes replayed. 0 or -1. */
static int replay(const struct vote_log *l, int64_t until,
                  struct rating_table *elo, struct pair_table *pairs,
                  long *n) {
  *n = 0;
  for (size_t i = 0; i < l->n; i++) {
    const struct logged_vote *v = &l->v[i];
    if (v->t > until)
      continue;
    const char *a = l->names[v->a], *b = l->names[v->b];
    if (rating_table_apply(elo, a, b, (enum winner)v->w, v->k) ||
        (!v->dedup && pair_table_add(pairs, a, b, (enum winner)v->w)))
      return -1;
    (*n)++;
  }
  return 0;
}

/* The board as of as_of, or NULL when out of memory. */
static struct history_board *board_new(const struct vote_log *l,
                                       int64_t as_of, int rounds) {
  struct history_board *b = calloc(1, sizeof *b);
  struct pair_table pairs = {0};
  if (!b)
    return NULL;
  atomic_init(&b->refs, 1);
  b->as_of = as_of;
  if (replay(l, as_of, &b->elo, &pairs, &b->votes))
    goto fail;
  b->snap = bt_snapshot_fit_steal(&pairs, rounds);
  if (!b->snap)
    goto fail;
  b->computed_at = now_ms();
  return b;
fail:
  pair_table_release(&pairs);
  history_board_unref(b);
  return NULL;
}

static json_t *num(double x) { return isnan(x) ? json_null() : json_real(x); }

/* The series as JSON text (see history.h), or NULL when out of memory:
 * {"pending": false, "points": [T...], "models": [{"model", "elo": [..],
 * "bt": [..]}], "votes", "dropped"}; a model's values are null at the
 * instants before its first counted vote. */
static char *series_new(const struct vote_log *l) {
  size_t points = l->n == 0              ? 0
                  : l->first == l->last ? 1
                                        : HISTORY_POINTS;
  json_t *times = json_array(), *models = json_array();
  json_t **elo = calloc(l->n_names + 1, sizeof *elo);
  json_t **bt = calloc(l->n_names + 1, sizeof *bt);
  char *text = NULL;
  int failed = !elo || !bt;
  for (size_t m = 0; !failed && m < l->n_names; m++) {
    elo[m] = json_array();
    bt[m] = json_array();
  }
  for (size_t p = 0; !failed && p < points; p++) {
    /* the last instant is the last vote's: the series ends at the board
     * as it stands */
    int64_t t = points == 1 ? l->last
                            : l->first + (int64_t)((double)(l->last - l->first) *
                                                   (double)p /
                                                   (double)(points - 1));
    if (p + 1 == points)
      t = l->last;
    char when[32];
    format_rfc3339_ms(t, when);
    json_array_append_new(times, json_string(when));
    struct rating_table et = {0};
    struct pair_table pairs = {0};
    long n;
    struct bt_snapshot *s = NULL;
    if (replay(l, t, &et, &pairs, &n) ||
        !(s = bt_snapshot_fit_steal(&pairs, 0))) {
      failed = 1;
    } else {
      for (size_t m = 0; m < l->n_names; m++) {
        const struct rating_row *r = rating_table_find(&et, l->names[m]);
        int k = bt_snapshot_find(s, l->names[m]);
        json_array_append_new(elo[m], r && r->battles ? json_real(r->elo)
                                                       : json_null());
        json_array_append_new(bt[m], k >= 0 && s->s[k].component >= 0
                                         ? num(s->s[k].bt)
                                         : json_null());
      }
    }
    pair_table_release(&pairs);
    rating_table_release(&et);
    bt_snapshot_unref(s);
  }
  for (size_t m = 0; !failed && m < l->n_names; m++) {
    json_array_append_new(models, json_pack("{s:s, s:O, s:O}", "model",
                                            l->names[m], "elo", elo[m], "bt",
                                            bt[m]));
  }
  if (!failed) {
    json_t *body = json_pack("{s:b, s:O, s:O, s:I, s:I}", "pending", 0,
                             "points", times, "models", models, "votes",
                             (json_int_t)l->n, "dropped",
                             (json_int_t)l->dropped);
    text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
  }
  for (size_t m = 0; elo && bt && m < l->n_names; m++) {
    json_decref(elo[m]);
    json_decref(bt[m]);
  }
  free(elo);
  free(bt);
  json_decref(times);
  json_decref(models);
  return text;
}

/* What is stale, under h->lock: an entry never made, or made before the
 * latest votes unless it is settled. */
static int entry_stale(const struct history_entry *e, long version) {
  if (e->fitted < 0 || !e->board)
    return 1;
  if (e->fitted == version)
    return 0;
  return e->board->computed_at - e->as_of < HISTORY_SETTLED_MS;
}

/* One job: read the votes once, remake what is stale. */
static void run_job(struct history *h) {
  struct vote_log l = {.k = h->k};
  long version = atomic_load(h->version);
  if (store_timed_votes(h->st, gather, &l)) {
    log_error("msg=\"rating history: reading the votes failed\"");
    goto out;
  }
  pthread_mutex_lock(&h->lock);
  int64_t todo[HISTORY_AS_OF_MAX];
  size_t n_todo = 0;
  for (size_t i = 0; i < h->n; i++)
    if (entry_stale(&h->e[i], version))
      todo[n_todo++] = h->e[i].as_of;
  int series = h->series_asked && h->series_fitted != version;
  pthread_mutex_unlock(&h->lock);
  for (size_t i = 0; i < n_todo && !h->stop; i++) {
    struct history_board *b = board_new(&l, todo[i], h->rounds), *old = NULL;
    if (!b) {
      log_error("msg=\"rating history: out of memory\"");
      continue;
    }
    pthread_mutex_lock(&h->lock);
    for (size_t k = 0; k < h->n; k++) {
      if (h->e[k].as_of != todo[i])
        continue;
      old = h->e[k].board;
      h->e[k].board = b;
      h->e[k].fitted = version;
      b = NULL;
      break;
    }
    pthread_mutex_unlock(&h->lock);
    history_board_unref(old);
    history_board_unref(b); /* dropped while it was made */
  }
  if (series && !h->stop) {
    char *text = series_new(&l);
    if (text) {
      pthread_mutex_lock(&h->lock);
      char *old = h->series;
      h->series = text;
      h->series_fitted = version;
      pthread_mutex_unlock(&h->lock);
      free(old);
    } else {
      log_error("msg=\"rating history: out of memory\"");
    }
  }
  pthread_mutex_lock(&h->lock);
  h->jobs++;
  pthread_mutex_unlock(&h->lock);
out:
  vote_log_release(&l);
}

static void *history_main(void *arg) {
  struct history *h = arg;
  struct sched_param sp = {0};
  pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp);
  pthread_mutex_lock(&h->lock);
  for (;;) {
    while (!h->dirty && !h->stop)
      pthread_cond_wait(&h->cond, &h->lock);
    if (h->stop)
      break;
    /* debounce: let a burst of votes settle */
    struct timespec until = clock_in_ms(CLOCK_REALTIME, (long)h->debounce_ms);
    while (!h->stop &&
           pthread_cond_timedwait(&h->cond, &h->lock, &until) != ETIMEDOUT)
      ;
    if (h->stop)
      break;
    h->dirty = 0;
    pthread_mutex_unlock(&h->lock);
    run_job(h);
    pthread_mutex_lock(&h->lock);
  }
  pthread_mutex_unlock(&h->lock);
  return NULL;
}

int history_start(struct history *h, struct store *st, atomic_long *version,
                  double k, int rounds, int debounce_ms) {
  memset(h, 0, sizeof *h);
  h->st = st;
  h->version = version;
  h->k = k;
  h->rounds = rounds;
  h->debounce_ms = debounce_ms;
  h->series_fitted = -1;
  pthread_mutex_init(&h->lock, NULL);
  pthread_cond_init(&h->cond, NULL);
  if (pthread_create(&h->thread, NULL, history_main, h)) {
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->cond);
    return -1;
  }
  h->started = 1;
  return 0;
}

/* Ask for a job (h->lock held). */
static void want_job(struct history *h) {
  h->dirty = 1;
  pthread_cond_signal(&h->cond);
}

struct history_board *history_board_get(struct history *h, int64_t as_of) {
  struct history_board *b = NULL, *dropped = NULL;
  pthread_mutex_lock(&h->lock);
  size_t k = 0;
  while (k < h->n && h->e[k].as_of != as_of)
    k++;
  if (k == h->n) {
    if (h->n == HISTORY_AS_OF_MAX) {
      k = 0;
      for (size_t i = 1; i < h->n; i++)
        if (h->e[i].asked < h->e[k].asked)
          k = i;
      dropped = h->e[k].board;
    } else {
      k = h->n++;
    }
    h->e[k] = (struct history_entry){.as_of = as_of, .fitted = -1};
    want_job(h);
  } else if (entry_stale(&h->e[k], atomic_load(h->version))) {
    want_job(h); /* votes the last poke's job had not seen */
  }
  h->e[k].asked = mono_ms();
  if ((b = h->e[k].board))
    atomic_fetch_add(&b->refs, 1);
  pthread_mutex_unlock(&h->lock);
  history_board_unref(dropped);
  return b;
}

char *history_series_get(struct history *h, size_t *len) {
  char *text = NULL;
  pthread_mutex_lock(&h->lock);
  if (!h->series_asked || h->series_fitted != atomic_load(h->version))
    want_job(h);
  h->series_asked = 1;
  if (h->series && (text = strdup(h->series)))
    *len = strlen(text);
  pthread_mutex_unlock(&h->lock);
  return text;
}

void history_poke(struct history *h) {
  pthread_mutex_lock(&h->lock);
  if (h->n || h->series_asked)
    want_job(h);
  pthread_mutex_unlock(&h->lock);
}

void history_stop(struct history *h) {
  if (!h->started)
    return;
  pthread_mutex_lock(&h->lock);
  h->stop = 1;
  pthread_cond_signal(&h->cond);
  pthread_mutex_unlock(&h->lock);
  pthread_join(h->thread, NULL);
  for (size_t i = 0; i < h->n; i++)
    history_board_unref(h->e[i].board);
  h->n = 0;
  free(h->series);
  h->series = NULL;
  h->started = 0;
  pthread_mutex_destroy(&h->lock);
  pthread_cond_destroy(&h->cond);
}
