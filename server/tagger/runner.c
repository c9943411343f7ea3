#include "tagger/runner.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics/metrics.h"
#include "storage/tagging.h"
#include "tag/llm.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"

#define MAX_REPLY (64u * 1024)   /* bytes of a tagger's reply */
#define MAX_TAGGERS 64           /* slots counting each tagger's load */
#define RETRY_FIRST_S 0.5        /* the pause before the first retry */
#define RETRY_MAX_S 30.0
/* the instructions of an admin's category: its question (at most a
 * config line) in llm_tag_custom_system's words */
#define MAX_SYSTEM (AGON_CONFIG_MAX_LINE + 1024)

struct job;

/* One category of a job: its request, tried up to 1 + retries times. */
struct call {
  struct job *job;
  struct call *next;          /* on the runner's finished list */
  const char *category;       /* the job's copy */
  enum llm_tag_kind kind;
  const char *system;         /* a built-in's instructions, or NULL */
  char *question;             /* an admin category's question (owned) */
  enum { CALL_WAITING, CALL_SENT, CALL_DONE } state;
  int tries;                  /* requests sent so far */
  double not_before;          /* monotonic s: no retry before */
  struct buf reply;
  int ok;                     /* the last request came back whole */
  char error[160];            /* why it did not */
  int verdict;                /* CALL_DONE: 1, 0, or -1 left untagged */
};

struct job {
  struct job *next;           /* queued, or started */
  struct tag_runner *r;
  struct model_config conn;   /* the tagger's (a copy) */
  long concurrency, retries;
  char id[40];
  struct call *calls;
  size_t n_calls;
  size_t left;                /* calls not done */
  size_t in_flight;           /* calls sent and not back */
  size_t stored;              /* verdicts handed to the writer */
  long *busy;                 /* its tagger's requests in flight */
  long *loaded;               /* its tagger's jobs started */
  struct tag_case tc;         /* the battle's prompts, once started */
};

struct tag_runner {
  struct store *st;
  struct store_writer *w;
  struct upstream *up;
  tag_moved_fn moved;
  void *moved_cls;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;        /* monotonic clock */
  struct job *started;              /* the runner thread's own */
  struct call *finished;            /* back from the upstream */
  struct {
    char name[AGON_MAX_MODEL_NAME + 4];
    long busy, loaded;
    struct job *head, *tail;        /* its jobs waiting, in order */
  } slots[MAX_TAGGERS];             /* one per tagger */
  int next_slot;                    /* where take_startable looks first */
  struct tag_progress p;
  int stop;
  atomic_int cancel;
};

static void job_free(struct job *jb) {
  if (!jb)
    return;
  model_config_release(&jb->conn);
  for (size_t i = 0; i < jb->n_calls; i++) {
    free((char *)jb->calls[i].category);
    free(jb->calls[i].question);
    buf_release(&jb->calls[i].reply);
  }
  free(jb->calls);
  tag_case_release(&jb->tc);
  free(jb);
  metrics_tag(TAG_METRIC_QUEUED, -1);
}

/* The load slot of the tagger named name (the last one is shared past
 * MAX_TAGGERS taggers). Caller holds r->lock. */
static int slot_of(struct tag_runner *r, const char *name) {
  for (int i = 0; i < MAX_TAGGERS; i++)
    if (!strcmp(r->slots[i].name, name))
      return i;
  for (int i = 0; i < MAX_TAGGERS; i++)
    if (!r->slots[i].name[0]) {
      snprintf(r->slots[i].name, sizeof r->slots[i].name, "%s", name);
      return i;
    }
  return MAX_TAGGERS - 1;
}

/* A new job for tagger t of cfg on battle id, with one call per category
 * t tags; NULL when out of memory. */
static struct job *job_new(struct tag_runner *r, const struct config *cfg,
                           const struct tagger_config *t, const char *id) {
  struct job *jb = calloc(1, sizeof *jb);
  if (!jb)
    return NULL;
  metrics_tag(TAG_METRIC_QUEUED, 1); /* job_free takes it back */
  jb->r = r;
  model_config_copy(&jb->conn, &t->conn);
  jb->concurrency = t->concurrency > 0 ? t->concurrency : 1;
  jb->retries = t->retries > 0 ? t->retries : 0;
  snprintf(jb->id, sizeof jb->id, "%s", id);
  size_t most = LLM_TAG_BUILTINS + cfg->n_categories;
  jb->calls = calloc(most ? most : 1, sizeof *jb->calls);
  if (!jb->calls || !jb->conn.name)
    goto oom;
  for (size_t i = 0; i < most; i++) {
    const char *name = i < LLM_TAG_BUILTINS
                           ? llm_tag_builtins[i].name
                           : cfg->categories[i - LLM_TAG_BUILTINS].name;
    if (!tagger_tags(t, name))
      continue;
    struct call *c = &jb->calls[jb->n_calls++];
    c->job = jb;
    buf_init(&c->reply, MAX_REPLY);
    c->category = strdup(name);
    if (!c->category)
      goto oom;
    if (i < LLM_TAG_BUILTINS) {
      c->kind = llm_tag_builtins[i].kind;
      c->system = llm_tag_builtins[i].system;
    } else {
      c->kind = LLM_TAG_YESNO;
      c->question = strdup(cfg->categories[i - LLM_TAG_BUILTINS].question);
      if (!c->question)
        goto oom;
    }
  }
  return jb;
oom:
  job_free(jb);
  return NULL;
}

int tag_runner_enqueue(struct tag_runner *r, const struct config *cfg,
                       const struct tagger_config *t, const char *id) {
  struct job *jb = job_new(r, cfg, t, id);
  if (!jb)
    return -1;
  pthread_mutex_lock(&r->lock);
  if (r->stop || r->p.queued >= TAG_MAX_QUEUE) {
    pthread_mutex_unlock(&r->lock);
    job_free(jb);
    return -1;
  }
  int k = slot_of(r, jb->conn.name);
  if (r->slots[k].tail)
    r->slots[k].tail->next = jb;
  else
    r->slots[k].head = jb;
  r->slots[k].tail = jb;
  r->p.queued++;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

/* ---- upstream callbacks (upstream thread) ---- */

static void call_text(void *cls, const char *text, size_t len) {
  struct call *c = cls;
  buf_append(&c->reply, text, len); /* over the cap: the upstream fails it */
}

static void call_back(struct tag_runner *r, struct call *c) {
  pthread_mutex_lock(&r->lock);
  c->next = r->finished;
  r->finished = c;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static void call_finish(void *cls, int ok, const char *public_msg,
                        const char *detail,
                        const struct upstream_stats *stats) {
  (void)stats;
  struct call *c = cls;
  c->ok = ok;
  if (!ok)
    snprintf(c->error, sizeof c->error, "%s", detail ? detail : public_msg);
  call_back(c->job->r, c);
}

/* ---- the runner thread ---- */

/* Send call c: its instructions and the battle's prompts. A request that
 * cannot be queued comes back at once as failed. */
static void call_send(struct tag_runner *r, struct call *c) {
  struct job *jb = c->job;
  char custom[MAX_SYSTEM];
  const char *system = c->system;
  if (!system) {
    llm_tag_custom_system(c->question, custom, sizeof custom);
    system = custom;
  }
  json_t *msgs = llm_tag_messages(system, (const char *const *)jb->tc.prompts,
                                  jb->tc.n_prompts);
  struct chat_message m[2];
  for (size_t i = 0; msgs && i < 2; i++) {
    json_t *o = json_array_get(msgs, i);
    m[i].role = json_string_value(json_object_get(o, "role"));
    m[i].content = json_string_value(json_object_get(o, "content"));
  }
  buf_reset(&c->reply);
  c->ok = 0;
  c->error[0] = '\0';
  metrics_tag(TAG_METRIC_REQUESTS, 1);
  struct upstream_callbacks cb = {
      .on_text = call_text, .on_finish = call_finish, .cls = c};
  if (!msgs || upstream_chat(r->up, &jb->conn, m, 2, MAX_REPLY, &r->cancel,
                             &cb)) {
    snprintf(c->error, sizeof c->error, "cannot queue the request");
    call_back(r, c);
  }
  json_decref(msgs);
}

static void job_stored(void *cls, int rc);

/* Every call of jb is done: hand its verdicts to the writer (or finish
 * it when it has none). Runner thread, r->lock not held. */
static void job_complete(struct tag_runner *r, struct job *jb) {
  struct category_verdict v[LLM_TAG_BUILTINS + 64];
  struct category_verdict *vs = jb->n_calls <= sizeof v / sizeof v[0]
                                    ? v
                                    : calloc(jb->n_calls, sizeof *vs);
  size_t n = 0;
  for (size_t i = 0; vs && i < jb->n_calls; i++)
    if (jb->calls[i].state == CALL_DONE && jb->calls[i].verdict >= 0)
      vs[n++] = (struct category_verdict){jb->calls[i].category,
                                          jb->calls[i].verdict};
  pthread_mutex_lock(&r->lock);
  (*jb->loaded)--;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  jb->stored = n;
  int queued = n && store_writer_categories(r->w, jb->id, vs, n,
                                            jb->conn.name, now_ms(),
                                            job_stored, jb) == 0;
  if (vs != v)
    free(vs);
  if (!queued)
    job_stored(jb, n ? -1 : 0);
}

/* The writer's report on jb's verdicts (writer thread; or the runner's
 * when there was nothing to store): -1 not stored, else the slice
 * outcomes they moved. */
static void job_stored(void *cls, int rc) {
  struct job *jb = cls;
  struct tag_runner *r = jb->r;
  size_t yes = 0;
  for (size_t i = 0; i < jb->n_calls; i++)
    yes += jb->calls[i].state == CALL_DONE && jb->calls[i].verdict == 1;
  if (rc < 0 && jb->stored)
    log_error("msg=\"cannot store tags\" tagger=\"%s\" battle=%s",
              log_q(jb->conn.name), log_q(jb->id));
  metrics_tag(rc < 0 ? TAG_METRIC_ERRORS : TAG_METRIC_VERDICTS,
              (long)jb->stored);
  if (rc > 0 && r->moved)
    r->moved(r->moved_cls, rc);
  pthread_mutex_lock(&r->lock);
  if (rc < 0) {
    r->p.unknown += jb->stored;
  } else {
    r->p.verdicts += jb->stored;
    r->p.in_category += yes;
  }
  r->p.running--;
  r->p.done++;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  job_free(jb);
}

/* A call is back: read its reply, and try again, give up or finish. */
static void call_done(struct tag_runner *r, struct call *c) {
  struct job *jb = c->job;
  int v = c->ok ? llm_tag_parse(c->kind, c->reply.data ? c->reply.data : "",
                                NULL)
                : -1;
  pthread_mutex_lock(&r->lock);
  (*jb->busy)--;
  int stopping = r->stop;
  pthread_mutex_unlock(&r->lock);
  jb->in_flight--;
  if (v >= 0 || c->tries > jb->retries || stopping) {
    c->state = CALL_DONE;
    c->verdict = v;
    jb->left--;
  } else {
    double pause = RETRY_FIRST_S;
    for (int i = 1; i < c->tries && pause < RETRY_MAX_S; i++)
      pause *= 2;
    c->state = CALL_WAITING;
    c->not_before = mono_s() + (pause < RETRY_MAX_S ? pause : RETRY_MAX_S);
  }
  if (v < 0 && c->state == CALL_DONE) {
    log_warn("msg=\"tag left unknown\" tagger=\"%s\" battle=%s category=%s "
             "tries=%d error=\"%s\"",
             log_q(jb->conn.name), log_q(jb->id), c->category, c->tries,
             log_q(c->ok ? "no readable verdict in the reply" : c->error));
    metrics_tag(TAG_METRIC_ERRORS, 1);
    pthread_mutex_lock(&r->lock);
    r->p.unknown++;
    pthread_mutex_unlock(&r->lock);
  }
}

/* Load jb's battle and mark the categories it has a verdict on done.
 * Returns 1 when something is left to ask. */
static int job_start(struct tag_runner *r, struct job *jb) {
  int rc = store_tag_case_load(r->st, jb->id, &jb->tc);
  if (rc > 0) {
    pthread_mutex_lock(&r->lock);
    r->p.empty++;
    pthread_mutex_unlock(&r->lock);
  } else if (rc < 0) {
    log_error("msg=\"cannot load a battle to tag\" battle=%s", log_q(jb->id));
    metrics_tag(TAG_METRIC_ERRORS, (long)jb->n_calls);
    pthread_mutex_lock(&r->lock);
    r->p.unknown += jb->n_calls;
    pthread_mutex_unlock(&r->lock);
  }
  jb->left = 0;
  for (size_t i = 0; i < jb->n_calls; i++) {
    struct call *c = &jb->calls[i];
    c->verdict = -1;
    if (rc || tag_case_tagged(&jb->tc, c->category)) {
      c->state = CALL_DONE;
      continue;
    }
    c->state = CALL_WAITING;
    jb->left++;
  }
  return jb->left > 0;
}

/* Remove jb from the started list. */
static void unlink_started(struct tag_runner *r, struct job *jb) {
  for (struct job **pp = &r->started; *pp; pp = &(*pp)->next)
    if (*pp == jb) {
      *pp = jb->next;
      jb->next = NULL;
      return;
    }
}

/* Finish the started jobs that have nothing left to ask, and those that
 * have nothing in flight once stopping (their untried calls left
 * untagged). Runner thread, r->lock not held. */
static void finish_done_jobs(struct tag_runner *r, int stopping) {
  for (struct job *jb = r->started, *next; jb; jb = next) {
    next = jb->next;
    if (jb->left && !(stopping && !jb->in_flight))
      continue;
    for (size_t i = 0; i < jb->n_calls; i++)
      if (jb->calls[i].state != CALL_DONE) {
        jb->calls[i].state = CALL_DONE;
        jb->calls[i].verdict = -1;
      }
    jb->left = 0;
    unlink_started(r, jb);
    job_complete(r, jb);
  }
}

/* The first waiting job of a tagger that may start one more (a tagger
 * has at most `concurrency` jobs started, each with one request or more
 * to send), the taggers taken in turn; off its queue, or NULL when none.
 * Caller holds r->lock. */
static struct job *take_startable(struct tag_runner *r) {
  for (int i = 0; i < MAX_TAGGERS; i++) {
    int k = (r->next_slot + i) % MAX_TAGGERS;
    struct job *jb = r->slots[k].head;
    if (!jb || r->slots[k].loaded >= jb->concurrency)
      continue;
    r->slots[k].head = jb->next;
    if (!r->slots[k].head)
      r->slots[k].tail = NULL;
    jb->next = NULL;
    jb->busy = &r->slots[k].busy;
    jb->loaded = &r->slots[k].loaded;
    r->slots[k].loaded++;
    r->p.queued--;
    r->p.running++;
    r->next_slot = (k + 1) % MAX_TAGGERS;
    return jb;
  }
  return NULL;
}

/* A waiting call of a started job that may be sent now (its tagger below
 * its concurrency, its pause over), marked sent; NULL when none. *wake
 * gets the earliest time a paused call may go (unchanged when none).
 * Caller holds r->lock. */
static struct call *take_sendable(struct tag_runner *r, double now,
                                  double *wake) {
  for (struct job *jb = r->started; jb; jb = jb->next) {
    if (*jb->busy >= jb->concurrency)
      continue;
    for (size_t i = 0; i < jb->n_calls; i++) {
      struct call *c = &jb->calls[i];
      if (c->state != CALL_WAITING)
        continue;
      if (c->not_before > now) {
        if (*wake == 0 || c->not_before < *wake)
          *wake = c->not_before;
        continue;
      }
      c->state = CALL_SENT;
      c->tries++;
      jb->in_flight++;
      (*jb->busy)++;
      r->p.requests++;
      return c;
    }
  }
  return NULL;
}

static void *runner_main(void *arg) {
  struct tag_runner *r = arg;
  pthread_setname_np(pthread_self(), "agon-tagger"); /* for top, and the
                                                        cost measured in
                                                        docs/performance.md */
  pthread_mutex_lock(&r->lock);
  for (;;) {
    if (r->finished) {
      struct call *c = r->finished;
      r->finished = c->next;
      pthread_mutex_unlock(&r->lock);
      call_done(r, c);
      finish_done_jobs(r, 0);
      pthread_mutex_lock(&r->lock);
      continue;
    }
    if (r->stop) {
      pthread_mutex_unlock(&r->lock);
      finish_done_jobs(r, 1);
      pthread_mutex_lock(&r->lock);
      if (!r->started && !r->finished && !r->p.running)
        break;
      if (!r->finished)
        pthread_cond_wait(&r->cond, &r->lock);
      continue;
    }
    struct job *jb = take_startable(r);
    if (jb) {
      pthread_mutex_unlock(&r->lock);
      if (job_start(r, jb)) {
        jb->next = r->started;
        r->started = jb;
      } else {
        job_complete(r, jb);
      }
      pthread_mutex_lock(&r->lock);
      continue;
    }
    double wake = 0, now = mono_s();
    struct call *c = take_sendable(r, now, &wake);
    if (c) {
      pthread_mutex_unlock(&r->lock);
      call_send(r, c);
      pthread_mutex_lock(&r->lock);
      continue;
    }
    if (wake > 0) {
      /* a millisecond past the wake, so the retry is due when woken */
      struct timespec until =
          clock_in_ms(CLOCK_MONOTONIC, (long)((wake - now) * 1000.0) + 1);
      pthread_cond_timedwait(&r->cond, &r->lock, &until);
    } else {
      pthread_cond_wait(&r->cond, &r->lock);
    }
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

struct tag_runner *tag_runner_new(struct store *st, struct store_writer *w,
                                  struct upstream *up, tag_moved_fn moved,
                                  void *cls) {
  struct tag_runner *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->st = st;
  r->w = w;
  r->up = up;
  r->moved = moved;
  r->moved_cls = cls;
  atomic_init(&r->cancel, 0);
  pthread_mutex_init(&r->lock, NULL);
  pthread_condattr_t monotonic;
  pthread_condattr_init(&monotonic);
  pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
  pthread_cond_init(&r->cond, &monotonic);
  pthread_condattr_destroy(&monotonic);
  if (pthread_create(&r->thread, NULL, runner_main, r)) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
    return NULL;
  }
  return r;
}

void tag_runner_progress(struct tag_runner *r, struct tag_progress *p) {
  pthread_mutex_lock(&r->lock);
  *p = r->p;
  pthread_mutex_unlock(&r->lock);
}

void tag_runner_wait(struct tag_runner *r, size_t max,
                     void (*tick)(const struct tag_progress *p, void *cls),
                     void *cls) {
  for (;;) {
    struct tag_progress p;
    tag_runner_progress(r, &p);
    if (tick)
      tick(&p, cls);
    if (p.queued + p.running <= max)
      return;
    pthread_mutex_lock(&r->lock);
    struct timespec until = clock_in_ms(CLOCK_MONOTONIC, 200);
    pthread_cond_timedwait(&r->cond, &r->lock, &until);
    pthread_mutex_unlock(&r->lock);
  }
}

void tag_runner_stop(struct tag_runner *r) {
  if (!r)
    return;
  atomic_store(&r->cancel, 1); /* requests in flight end at their next check */
  pthread_mutex_lock(&r->lock);
  if (r->stop) {
    pthread_mutex_unlock(&r->lock);
    return;
  }
  r->stop = 1;
  /* the waiting jobs are dropped now; the started ones end in the thread */
  struct job *queued = NULL;
  for (int k = 0; k < MAX_TAGGERS; k++) {
    if (r->slots[k].tail) {
      r->slots[k].tail->next = queued;
      queued = r->slots[k].head;
    }
    r->slots[k].head = r->slots[k].tail = NULL;
  }
  r->p.queued = 0;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  while (queued) {
    struct job *jb = queued;
    queued = jb->next;
    job_free(jb);
  }
  pthread_join(r->thread, NULL);
}

void tag_runner_free(struct tag_runner *r) {
  if (!r)
    return;
  tag_runner_stop(r);
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->cond);
  free(r);
}
