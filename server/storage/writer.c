/* The writer thread: one queue of jobs, written in groups (writer.h). */
#include "storage/writer.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"
#include "storage/nodes.h"
#include "storage/tagging.h"
#include "util/defer.h"
#include "util/log.h"
#include "util/nowait.h"
#include "util/clock.h"

/* At most this many jobs share one commit, so that a voter never waits
 * behind an unbounded group. */
#define MAX_GROUP 512

/* While writes fail, a probe write this often (seconds) while idle. */
#define PROBE_EVERY_S 1

enum job_kind {
  JOB_BATTLE_CREATE,
  JOB_TURN_FINISH,
  JOB_TURN_ADD,
  JOB_TURN_REPLACE,   /* a regenerate or a retry */
  JOB_VOTE,
  JOB_CATEGORIES,     /* a tagger's verdicts */
  JOB_BATTLE_TAGS,    /* the tags a battle lacks */
  JOB_RELOAD_SLICES,  /* no write: the live slices read again, alone
                         (async) */
  JOB_FLUSH,  /* writes nothing: done when everything before it is */
  JOB_CALL,   /* a caller's function (store_writer_call) */
};

struct job {
  struct job *next;
  enum job_kind kind;
  int sync;              /* a caller waits on its stack for `finished`;
                            else the writer owns and frees the job */
  int finished;          /* sync jobs: set, under w->lock, last of all */
  int rc;                /* what the job's write returned */
  int failed;            /* its writes were rolled back, or never ran */
  int deferred;          /* rolled back as contended (store_contended):
                            queued again, first, for the next group */
  store_done_fn done;    /* async jobs: told the outcome, may be NULL */
  void *cls;
  char *id, *model_a, *model_b, *session, *prompt;   /* owned (async) */
  char mode[8];          /* JOB_BATTLE_CREATE: one of BATTLE_MODE_* */
  char *error[2], *status, *identity;
  struct battle_tags tags;     /* JOB_TURN_FINISH, when has_tags, and
                                  JOB_BATTLE_TAGS */
  int has_tags;
  struct category_verdict *verdicts;  /* JOB_CATEGORIES: owned, with
                                         their names */
  size_t n_verdicts;
  char *tagger;
  struct turn_answer ans[2];                          /* texts borrowed
                                                         (see writer.h),
                                                         errors in error */
  const char *borrowed_id, *borrowed_prompt;          /* sync turn add */
  int turn;
  int64_t at;
  struct turn_replace rep;     /* JOB_TURN_REPLACE: new_model is model_a */
  const struct vote_request *vr;                      /* votes: borrowed */
  struct vote_outcome *out;
  store_vote_fn vote_done;                            /* async vote */
  store_rc_fn rc_done;                                /* async turn add */
  int urgent;            /* async, but someone waits: wake the writer now */
  store_job_fn call;     /* JOB_CALL */
  int alone;             /* JOB_CALL: in a group of its own, no transaction */
};

struct store_writer {
  struct store *st;
  struct live_ratings *live;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t more;       /* jobs queued, or stop */
  pthread_cond_t finished;   /* a sync job finished */
  struct job *head, *tail;
  int stop;
  atomic_long groups, jobs;
  store_follow_fn follow;    /* under lock: see store_writer_follow */
  void *follow_cls;
  /* Writes failing for a reason of the storage itself (disk full, I/O
   * error, a corrupt page): set by the writer, read by anyone. */
  atomic_int fault;
  pthread_mutex_t fault_lock;
  char fault_why[200];
};

static void fault_set(struct store_writer *w, const char *why) {
  pthread_mutex_lock(&w->fault_lock);
  snprintf(w->fault_why, sizeof w->fault_why, "%s", why);
  pthread_mutex_unlock(&w->fault_lock);
  if (!atomic_exchange(&w->fault, 1))
    log_error("msg=\"database writes are failing\" err=\"%s\"", log_q(why));
}

static void fault_clear(struct store_writer *w) {
  if (atomic_exchange(&w->fault, 0))
    log_info("msg=\"database writes work again\"");
}

int store_writer_fault(struct store_writer *w, char *why, size_t len) {
  if (store_corrupt(w->st, why, len))
    return 1;  /* for good: no probe clears it */
  if (!atomic_load(&w->fault))
    return 0;
  pthread_mutex_lock(&w->fault_lock);
  snprintf(why, len, "%s", w->fault_why);
  pthread_mutex_unlock(&w->fault_lock);
  return 1;
}

/* While writes fail and nothing is queued: try a small write, so that a
 * fault that has cleared (space freed) is noticed without a client having
 * to risk a write first. */
static void probe(struct store_writer *w) {
  char why[200];
  if (store_probe(w->st, why, sizeof why))
    fault_set(w, why);
  else
    fault_clear(w);
}

static void job_free(struct job *j) {
  if (!j || j->sync)
    return;
  free(j->id);
  free(j->model_a);
  free(j->model_b);
  free(j->session);
  free(j->prompt);
  free(j->error[0]);
  free(j->error[1]);
  free(j->status);
  free(j->identity);
  for (size_t i = 0; i < j->n_verdicts; i++)
    free((char *)j->verdicts[i].category);
  free(j->verdicts);
  free(j->tagger);
  free(j);
}

static void writer_wake(void *cls) {
  struct store_writer *w = cls;
  pthread_mutex_lock(&w->lock);
  pthread_cond_signal(&w->more);
  pthread_mutex_unlock(&w->lock);
}

/* Queue j; -1 (and j untouched) once the writer is stopping. A sync job
 * wakes the writer at once; an async one may wait for the caller's reply
 * to be sent (util/defer.h). */
static int enqueue(struct store_writer *w, struct job *j) {
  pthread_mutex_lock(&w->lock);
  if (w->stop) {
    pthread_mutex_unlock(&w->lock);
    return -1;
  }
  /* j may be written and freed as soon as the lock is released */
  int now = j->sync || j->urgent;
  j->next = NULL;
  if (w->tail)
    w->tail->next = j;
  else
    w->head = j;
  w->tail = j;
  if (now)
    pthread_cond_signal(&w->more);
  pthread_mutex_unlock(&w->lock);
  if (!now)
    defer_wake(writer_wake, w);
  return 0;
}

/* Queue the sync job j and wait until the writer has finished it. */
static int run_sync(struct store_writer *w, struct job *j) {
  nowait_check("a synchronous write (storage/writer.c)");
  j->sync = 1;
  if (enqueue(w, j))
    return -1;
  pthread_mutex_lock(&w->lock);
  while (!j->finished)
    pthread_cond_wait(&w->finished, &w->lock);
  pthread_mutex_unlock(&w->lock);
  return 0;
}

/* Run one job's writes; returns 0 when they stand, -1 when they must be
 * rolled back (j->rc says more). */
static int run_job(struct store_writer *w, struct job *j,
                   struct vote_batch *vb) {
  struct store *st = w->st;
  switch (j->kind) {
  case JOB_BATTLE_CREATE:
    j->rc = store_battle_create_tx(st, j->id, j->at, j->model_a, j->model_b,
                                   j->mode, j->session, j->prompt);
    return j->rc ? -1 : 0;
  case JOB_TURN_FINISH:
    j->rc = store_turn_finish_tx(st, j->id, j->turn, j->ans, j->at,
                                 j->status, j->identity,
                                 j->has_tags ? &j->tags : NULL);
    return j->rc ? -1 : 0;
  case JOB_TURN_ADD:
    j->rc = store_turn_add_tx(st, j->borrowed_id ? j->borrowed_id : j->id,
                              j->turn,
                              j->borrowed_prompt ? j->borrowed_prompt
                                                 : j->prompt,
                              j->at);
    return j->rc ? -1 : 0;
  case JOB_TURN_REPLACE:
    j->rc = store_turn_replace_tx(st, j->id, &j->rep);
    return j->rc ? -1 : 0;
  case JOB_VOTE:
    j->rc = (int)store_vote_tx(st, j->vr, w->live, vb, j->out);
    return j->rc == VOTE_OK ? 0 : -1;
  case JOB_CATEGORIES:
  case JOB_BATTLE_TAGS: {
    /* what they move is staged like votes (and made live only when there
     * are live ratings); the owner is told how many outcomes moved */
    size_t staged = vb->n_pairs;
    int rc = j->kind == JOB_CATEGORIES
                 ? store_battle_categories_tx(st, j->id, j->verdicts,
                                              j->n_verdicts, j->tagger,
                                              j->at, vb)
                 : store_battle_tags_tx(st, j->id, &j->tags, vb);
    j->rc = rc < 0 ? -1 : (int)(vb->n_pairs - staged);
    return rc < 0 ? -1 : 0;
  }
  case JOB_CALL:
    j->rc = j->call(j->cls, st);
    return j->rc ? -1 : 0;
  case JOB_FLUSH:
  case JOB_RELOAD_SLICES:
    return 0;
  }
  return -1;
}

/* The job j of JOB_RELOAD_SLICES, in a group of its own: every group
 * before it has been applied to the live ratings, none after it has
 * begun, so what is stored is what live lacks and nothing more. */
static void reload_slices(struct store_writer *w, struct job *j) {
  struct slice_table t;
  slice_table_init(&t);
  int rc = -1;
  if (w->live && store_slices_load(w->st, &t) == 0) {
    pthread_mutex_lock(&w->live->lock);
    struct slice_table old = w->live->slices;
    w->live->slices = t;
    pthread_mutex_unlock(&w->live->lock);
    t = old;
    rc = 0;
  }
  slice_table_release(&t);
  if (j->rc_done)
    j->rc_done(j->cls, rc);
  job_free(j);
}

/* A JOB_CALL that goes alone: every group before it has been reported,
 * none after it has begun; no transaction (its reads see what is
 * committed). */
static void call_alone(struct store_writer *w, struct job *j) {
  pthread_mutex_lock(&w->st->lock);
  int rc = j->call(j->cls, w->st);
  pthread_mutex_unlock(&w->st->lock);
  if (j->done)
    j->done(j->cls, rc == 0);
  job_free(j);
}

/* The sum of the battles of t's rows: twice the counted votes. */
static long battles_of(const struct rating_table *t) {
  long n = 0;
  for (size_t i = 0; i < t->n; i++)
    n += t->rows[i].battles;
  return n;
}

/* Another process committed since the last group (the caller holds
 * st->lock inside the group's transaction, which sees its commits and
 * keeps any more out until ours): read live again (store_writer_follow).
 * On a failure live stays as it is (logged). */
static void follow_elsewhere(struct store_writer *w, store_follow_fn moved,
                             void *cls) {
  if (!w->live)
    return;
  pthread_mutex_lock(&w->live->lock);
  long live_battles = battles_of(&w->live->elo);
  pthread_mutex_unlock(&w->live->lock);
  if (store_changed_elsewhere_tx(w->st, live_battles) != 1)
    return;
  struct rating_table elo = {0};
  struct pair_table pairs = {0};
  struct slice_table slices;
  slice_table_init(&slices);
  if (store_live_load_locked(w->st, &elo, &pairs, &slices)) {
    log_error("msg=\"cannot read the ratings another node moved\" "
              "err=\"%s\"",
              log_q(store_error(w->st)));
  } else {
    pthread_mutex_lock(&w->live->lock);
    int votes = battles_of(&elo) != battles_of(&w->live->elo);
    struct rating_table old_elo = w->live->elo;
    struct pair_table old_pairs = w->live->pairs;
    struct slice_table old_slices = w->live->slices;
    w->live->elo = elo;
    w->live->pairs = pairs;
    w->live->slices = slices;
    pthread_mutex_unlock(&w->live->lock);
    elo = old_elo;
    pairs = old_pairs;
    slices = old_slices;
    if (moved)
      moved(cls, votes);
  }
  rating_table_release(&elo);
  pair_table_release(&pairs);
  slice_table_release(&slices);
}

/* Write the jobs of list in one transaction and report to their owners. */
static void write_group(struct store_writer *w, struct job *list) {
  struct store *st = w->st;
  struct vote_batch vb;
  int committed = 0;
  long n = 0, written = 0;
  vote_batch_init(&vb);
  pthread_mutex_lock(&w->lock);
  store_follow_fn moved = w->follow;
  void *moved_cls = w->follow_cls;
  pthread_mutex_unlock(&w->lock);
  pthread_mutex_lock(&st->lock);
  double t0 = mono_s();
  char why[200] = "";
  int began = store_tx_begin(st) == 0;
  if (began)
    follow_elsewhere(w, moved, moved_cls);
  if (!began) {
    log_error("msg=\"cannot begin a write\" err=\"%s\"",
              log_q(store_error(st)));
    snprintf(why, sizeof why, "%s", store_error(st));
    for (struct job *j = list; j; j = j->next)
      j->rc = j->kind == JOB_VOTE ? (int)VOTE_ERROR : -1;
  } else {
    for (struct job *j = list; j; j = j->next, n++) {
      if (store_savepoint(st)) {
        j->rc = j->kind == JOB_VOTE ? (int)VOTE_ERROR : -1;
        j->failed = 1;
        continue;
      }
      if (run_job(w, j, &vb)) {
        j->failed = 1;
        /* a vote or a tagger's verdicts that met another node's locks
         * while this group held rows that node may wait for: not a
         * fault; it goes again, first in the next group */
        if ((j->kind == JOB_VOTE || j->kind == JOB_CATEGORIES) &&
            store_contended(st))
          j->deferred = 1;
        else
          store_storage_error(st, why, sizeof why);
        store_savepoint_rollback(st);
      } else if (j->kind != JOB_FLUSH) {
        written++;
      }
      store_savepoint_release(st);
    }
    if (!vb.broken && store_tx_commit(st) == 0) {
      committed = 1;
    } else {
      log_error("msg=\"cannot commit a write\" jobs=%ld err=\"%s\"", n,
                log_q(store_error(st)));
      snprintf(why, sizeof why, "%s",
               vb.broken ? "out of memory" : store_error(st));
      store_tx_rollback(st);
    }
  }
  pthread_mutex_unlock(&st->lock);
  if (why[0])
    fault_set(w, why);
  else if (committed && written)
    fault_clear(w);
  if (committed && w->live)
    vote_batch_apply(&vb, w->live);
  vote_batch_release(&vb);
  metrics_db_write(mono_s() - t0, committed ? written : 0);
  atomic_fetch_add(&w->groups, 1);
  atomic_fetch_add(&w->jobs, n);

  /* Report. A vote whose writes were lost with the group is an error. The
   * async jobs are told and freed; the sync ones are marked finished last,
   * under the lock, after which their owners may free them at any time. */
  struct job *waiting = NULL, *again = NULL, *again_last = NULL;
  for (struct job *j = list, *next; j; j = next) {
    next = j->next;
    if (j->deferred) {
      j->deferred = j->failed = 0;
      j->next = NULL;
      if (again_last)
        again_last->next = j;
      else
        again = j;
      again_last = j;
      continue;
    }
    int ok = committed && !j->failed;
    if (j->kind == JOB_VOTE && !committed && j->rc == VOTE_OK) {
      j->rc = VOTE_ERROR;
      vote_outcome_release(j->out);
    }
    if ((j->kind == JOB_TURN_ADD || j->kind == JOB_TURN_REPLACE) &&
        !committed && j->rc == 0)
      j->rc = -1;
    if ((j->kind == JOB_CATEGORIES || j->kind == JOB_BATTLE_TAGS) && !ok)
      j->rc = -1;
    if (j->sync) {
      j->next = waiting;
      waiting = j;
      continue;
    }
    if (j->vote_done)
      j->vote_done(j->cls, (enum agon_ec)j->rc);
    else if (j->rc_done)
      j->rc_done(j->cls, j->rc);
    else if (j->done)
      j->done(j->cls, ok);
    job_free(j);
  }
  if (again) {
    /* before everything queued since: it goes first, holding nothing */
    pthread_mutex_lock(&w->lock);
    again_last->next = w->head;
    if (!w->head)
      w->tail = again_last;
    w->head = again;
    pthread_mutex_unlock(&w->lock);
  }
  if (waiting) {
    pthread_mutex_lock(&w->lock);
    for (struct job *j = waiting, *next; j; j = next) {
      next = j->next;
      j->finished = 1;
    }
    pthread_cond_broadcast(&w->finished);
    pthread_mutex_unlock(&w->lock);
  }
}

static int job_alone(const struct job *j) {
  return j->kind == JOB_RELOAD_SLICES || (j->kind == JOB_CALL && j->alone);
}

static void *writer_main(void *arg) {
  struct store_writer *w = arg;
  for (;;) {
    pthread_mutex_lock(&w->lock);
    while (!w->head && !w->stop) {
      /* Every job is queued and every stop set under w->lock, and each
       * is signalled, at once or through defer_wake, which does every
       * wakeup it notes (util/defer.h): nothing to wait for but them.
       * Only while writes fail does the writer wake by itself, to probe
       * whether they work again. The fault is set and cleared on this
       * thread alone, so it cannot change while we wait. */
      if (!atomic_load(&w->fault)) {
        pthread_cond_wait(&w->more, &w->lock);
        continue;
      }
      struct timespec until;
      clock_gettime(CLOCK_MONOTONIC, &until);
      until.tv_sec += PROBE_EVERY_S;
      if (pthread_cond_timedwait(&w->more, &w->lock, &until) == ETIMEDOUT &&
          !w->head && !w->stop) {
        pthread_mutex_unlock(&w->lock);
        probe(w);
        pthread_mutex_lock(&w->lock);
      }
    }
    if (!w->head) {
      pthread_mutex_unlock(&w->lock);
      break;
    }
    /* a reload of the slices, and a call that asks for it, go alone */
    struct job *list = w->head, *last = w->head;
    for (size_t i = 1; !job_alone(list) && i < MAX_GROUP && last->next &&
                       !job_alone(last->next);
         i++)
      last = last->next;
    w->head = last->next;
    if (!w->head)
      w->tail = NULL;
    last->next = NULL;
    pthread_mutex_unlock(&w->lock);
    if (list->kind == JOB_RELOAD_SLICES)
      reload_slices(w, list);
    else if (job_alone(list))
      call_alone(w, list);
    else
      write_group(w, list);
  }
  return NULL;
}

void store_writer_follow(struct store_writer *w, store_follow_fn moved,
                         void *cls) {
  pthread_mutex_lock(&w->lock);
  w->follow = moved;
  w->follow_cls = cls;
  pthread_mutex_unlock(&w->lock);
}

int store_writer_look(struct store_writer *w) {
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return -1;
  j->kind = JOB_FLUSH;
  j->urgent = 1;
  if (enqueue(w, j)) {
    free(j);
    return -1;
  }
  return 0;
}

struct store_writer *store_writer_new(struct store *st,
                                      struct live_ratings *live) {
  struct store_writer *w = calloc(1, sizeof *w);
  if (!w)
    return NULL;
  w->st = st;
  w->live = live;
  pthread_mutex_init(&w->lock, NULL);
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&w->more, &monotonic);
  pthread_condattr_destroy(&monotonic);
  pthread_cond_init(&w->finished, NULL);
  pthread_mutex_init(&w->fault_lock, NULL);
  if (pthread_create(&w->thread, NULL, writer_main, w)) {
    pthread_cond_destroy(&w->finished);
    pthread_cond_destroy(&w->more);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return NULL;
  }
  return w;
}

void store_writer_free(struct store_writer *w) {
  if (!w)
    return;
  pthread_mutex_lock(&w->lock);
  w->stop = 1;
  pthread_cond_signal(&w->more);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->finished);
  pthread_cond_destroy(&w->more);
  pthread_mutex_destroy(&w->lock);
  pthread_mutex_destroy(&w->fault_lock);
  free(w);
}

static char *dup_or_null(const char *s, int *failed) {
  if (!s)
    return NULL;
  char *d = strdup(s);
  if (!d)
    *failed = 1;
  return d;
}

/* A new async job of this kind for battle id; NULL when out of memory.
 * *failed is set when a copy fails (see queue_async). */
static struct job *async_job_new(enum job_kind kind, const char *id,
                                 int64_t at, store_done_fn done, void *cls,
                                 int *failed) {
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return NULL;
  j->kind = kind;
  j->id = dup_or_null(id, failed);
  j->at = at;
  j->done = done;
  j->cls = cls;
  return j;
}

/* Queue j unless its copies failed; -1 (j freed) when it is not queued. */
static int queue_async(struct store_writer *w, struct job *j, int failed) {
  if (failed || enqueue(w, j)) {
    job_free(j);
    return -1;
  }
  return 0;
}

int store_writer_battle_create(struct store_writer *w, const char *id,
                               int64_t created_at, const char *model_a,
                               const char *model_b, const char *session,
                               const char *prompt, store_done_fn done,
                               void *cls) {
  return store_writer_battle_create_mode(w, id, created_at, model_a, model_b,
                                         BATTLE_MODE_ANONY, session, prompt,
                                         done, cls);
}

int store_writer_battle_create_mode(struct store_writer *w, const char *id,
                                    int64_t created_at, const char *model_a,
                                    const char *model_b, const char *mode,
                                    const char *session, const char *prompt,
                                    store_done_fn done, void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_BATTLE_CREATE, id, created_at, done, cls,
                                &failed);
  if (!j)
    return -1;
  j->model_a = dup_or_null(model_a, &failed);
  j->model_b = dup_or_null(model_b, &failed);
  snprintf(j->mode, sizeof j->mode, "%s", mode);
  j->session = dup_or_null(session, &failed);
  j->prompt = dup_or_null(prompt, &failed);
  return queue_async(w, j, failed);
}

int store_writer_turn_finish(struct store_writer *w, const char *id, int turn,
                             const struct turn_answer ans[2],
                             int64_t finished_at, const char *status,
                             const char *identity,
                             const struct battle_tags *tags,
                             store_done_fn done, void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_TURN_FINISH, id, finished_at, done, cls,
                                &failed);
  if (!j)
    return -1;
  j->turn = turn;
  for (int s = 0; s < 2; s++) {
    j->ans[s].text = ans[s].text ? ans[s].text : "";
    j->ans[s].reasoning = ans[s].reasoning;
    j->error[s] = dup_or_null(ans[s].error, &failed);
    j->ans[s].error = j->error[s];
  }
  j->status = dup_or_null(status, &failed);
  j->identity = dup_or_null(identity, &failed);
  if (tags) {
    j->tags = *tags;
    j->has_tags = 1;
  }
  return queue_async(w, j, failed);
}

int store_writer_turn_add(struct store_writer *w, const char *id, int turn,
                          const char *prompt, int64_t started_at) {
  struct job j = {.kind = JOB_TURN_ADD,
                  .borrowed_id = id,
                  .borrowed_prompt = prompt,
                  .turn = turn,
                  .at = started_at};
  if (run_sync(w, &j))
    return -1;
  return j.rc;
}

enum agon_ec store_writer_vote(struct store_writer *w,
                               const struct vote_request *vr,
                               struct vote_outcome *out) {
  memset(out, 0, sizeof *out);
  struct job j = {.kind = JOB_VOTE, .vr = vr, .out = out};
  if (run_sync(w, &j))
    return VOTE_ERROR;
  return (enum agon_ec)j.rc;
}

int store_writer_turn_add_async(struct store_writer *w, const char *id,
                                int turn, const char *prompt,
                                int64_t started_at, store_rc_fn done,
                                void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_TURN_ADD, id, started_at, NULL, NULL,
                                &failed);
  if (!j)
    return -1;
  j->turn = turn;
  j->prompt = dup_or_null(prompt, &failed);
  j->rc_done = done;
  j->cls = cls;
  j->urgent = 1;
  return queue_async(w, j, failed);
}

int store_writer_turn_replace_async(struct store_writer *w, const char *id,
                                    const struct turn_replace *r,
                                    store_rc_fn done, void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_TURN_REPLACE, id, r->at, NULL, NULL,
                                &failed);
  if (!j)
    return -1;
  j->rep = *r;
  j->model_a = dup_or_null(r->new_model, &failed);
  j->rep.new_model = j->model_a;
  j->rc_done = done;
  j->cls = cls;
  j->urgent = 1;
  return queue_async(w, j, failed);
}

int store_writer_vote_async(struct store_writer *w,
                            const struct vote_request *vr,
                            struct vote_outcome *out, store_vote_fn done,
                            void *cls) {
  struct job *j = calloc(1, sizeof *j);
  if (!j)
    return -1;
  memset(out, 0, sizeof *out);
  j->kind = JOB_VOTE;
  j->vr = vr;
  j->out = out;
  j->vote_done = done;
  j->cls = cls;
  j->urgent = 1;
  if (enqueue(w, j)) {
    free(j);
    return -1;
  }
  return 0;
}

int store_writer_categories(struct store_writer *w, const char *id,
                            const struct category_verdict *v, size_t n,
                            const char *tagger, int64_t at, store_rc_fn done,
                            void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_CATEGORIES, id, at, NULL, NULL, &failed);
  if (!j)
    return -1;
  j->rc_done = done;
  j->cls = cls;
  j->tagger = dup_or_null(tagger, &failed);
  j->verdicts = n ? calloc(n, sizeof *j->verdicts) : NULL;
  if (n && !j->verdicts)
    failed = 1;
  for (size_t i = 0; j->verdicts && i < n; i++) {
    j->verdicts[i].category = dup_or_null(v[i].category, &failed);
    j->verdicts[i].value = v[i].value;
    j->n_verdicts++;
  }
  return queue_async(w, j, failed);
}

int store_writer_battle_tags(struct store_writer *w, const char *id,
                             const struct battle_tags *tags,
                             store_rc_fn done, void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_BATTLE_TAGS, id, 0, NULL, NULL, &failed);
  if (!j)
    return -1;
  j->rc_done = done;
  j->cls = cls;
  j->tags = *tags;
  j->has_tags = 1;
  return queue_async(w, j, failed);
}

int store_writer_reload_slices(struct store_writer *w, store_rc_fn done,
                               void *cls) {
  int failed = 0;
  struct job *j = async_job_new(JOB_RELOAD_SLICES, NULL, 0, NULL, NULL,
                                &failed);
  if (!j)
    return -1;
  j->rc_done = done;
  j->cls = cls;
  return queue_async(w, j, failed);
}

int store_writer_call(struct store_writer *w, store_job_fn run,
                      store_done_fn done, void *cls, int alone) {
  int failed = 0;
  struct job *j = async_job_new(JOB_CALL, NULL, 0, done, cls, &failed);
  if (!j)
    return -1;
  j->call = run;
  j->alone = alone;
  j->urgent = 1;
  return queue_async(w, j, failed);
}

void store_writer_flush(struct store_writer *w) {
  struct job j = {.kind = JOB_FLUSH};
  run_sync(w, &j);
}

void store_writer_counts(struct store_writer *w, long *groups, long *jobs) {
  *groups = atomic_load(&w->groups);
  *jobs = atomic_load(&w->jobs);
}
