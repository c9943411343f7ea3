/* The runner of agon bench (runner.h): items become requests, answers
 * become scores, scores go to the writer thread. The caller's thread
 * owns the queues; upstream's loop threads only read an answer and hand
 * the call back. */
#include "bench/runner.h"

#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/body.h"
#include "bench/extract.h"
#include "bench/logprobs.h"
#include "bench/metrics.h"
#include "bench/prompt.h"
#include "bench/text.h"
#include "util/clock.h"
#include "util/utf8.h"

#define MAX_ANSWER_BYTES (64u << 20)  /* an echoed prompt's tokens */
#define MAX_BACKOFF_MS 30000L
#define MAX_DETAIL_TEXT 8192          /* bytes of an answer kept in detail */
#define PROGRESS_MS 100
#define CANCEL_FLAGS 32

enum call_outcome {
  CALL_OK,
  CALL_RETRY,    /* may pass: try again */
  CALL_FAIL,     /* this item cannot be had */
  CALL_FATAL,    /* no request of this run can succeed */
  CALL_STOPPED,  /* cancelled or shut down */
};

struct job;

/* One request of an item. */
struct call {
  struct call *next;          /* in one of the runner's queues */
  struct job *job;
  size_t k;                   /* its pair (likelihood), else 0 */
  char *body;                 /* the request, kept for retries */
  size_t cont_from, prompt_chars; /* likelihood: where the continuation is */
  int loglik;                 /* a likelihood request (else text) */
  int chat;                   /* a chat completion */
  unsigned tries;             /* sent so far */
  int64_t due;                /* a retry's time (monotonic ms) */
  struct runner *r;
  /* the answer, set on a loop thread before the call is handed back */
  enum call_outcome outcome;
  long status;                /* the answer's HTTP status, 0 when none */
  double ll;
  char *text;
  char why[400];
};

/* One item being asked. */
struct job {
  struct job *next, *prev;    /* the runner's open jobs */
  size_t doc;                 /* its index in docs */
  size_t n_calls, left;       /* calls, and those not back yet */
  struct call *calls;
  int failed;
  int abandoned;              /* a call was cancelled: neither scored nor
                                 counted as failed */
  char why[400];
};

/* One scored item waiting for the writer. */
struct witem {
  struct witem *next;
  long line;
  char *grp, *metrics, *detail;
};

/* The writer thread: scored items into the store, in groups. */
struct writer {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct witem *head, *tail;
  int stop;
  int failed;
  size_t stored;
  struct store *st;
  int64_t run_id;
  char err[300];
};

struct runner {
  const struct bench_run_opts *o;
  const struct bench_run_items *it;
  struct store *st;
  struct upstream *up;
  pthread_mutex_t lock;
  pthread_cond_t cond;        /* a call came back */
  struct call *done_head, *done_tail; /* under lock */
  atomic_int cancel[CANCEL_FLAGS]; /* the same value in each: calls take
                                      them in turn, so that they spread over
                                      upstream's loops (which keep the calls
                                      of one flag on one loop) */
  size_t sent_count;
  /* the caller's thread only */
  struct call *ready_head, *ready_tail;
  struct call *waiting;       /* retries, by no order */
  struct job *jobs;           /* open */
  size_t in_flight, next_todo;
  int64_t started;
  struct bench_progress prog;
  int fatal;
  char why[600];
  struct writer w;
  struct bench_bodies bodies; /* the caller's thread only */
};

/* ---- the writer ---- */

static void witem_free(struct witem *w) {
  free(w->grp);
  free(w->metrics);
  free(w->detail);
  free(w);
}

static void *writer_main(void *arg) {
  struct writer *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    while (!w->head && !w->stop)
      pthread_cond_wait(&w->cond, &w->lock);
    struct witem *list = w->head;
    w->head = w->tail = NULL;
    if (!list && w->stop)
      break;
    pthread_mutex_unlock(&w->lock);
    size_t n = 0;
    for (struct witem *x = list; x; x = x->next)
      n++;
    struct store_bench_item *items = calloc(n, sizeof *items);
    int rc = -1;
    if (items) {
      size_t i = 0;
      for (struct witem *x = list; x; x = x->next, i++)
        items[i] = (struct store_bench_item){.line = x->line,
                                             .grp = x->grp,
                                             .metrics = x->metrics,
                                             .detail = x->detail};
      rc = store_bench_items_put(w->st, w->run_id, items, n, now_ms());
    }
    char why[256];
    if (rc)
      snprintf(why, sizeof why, "cannot store the results: %s",
               store_error(w->st));
    free(items);
    while (list) {
      struct witem *next = list->next;
      witem_free(list);
      list = next;
    }
    pthread_mutex_lock(&w->lock);
    if (rc && !w->failed) {
      w->failed = 1;
      snprintf(w->err, sizeof w->err, "%s", why);
    }
    if (!rc)
      w->stored += n;
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

static int writer_start(struct writer *w, struct store *st, int64_t run_id) {
  memset(w, 0, sizeof *w);
  w->st = st;
  w->run_id = run_id;
  pthread_mutex_init(&w->lock, NULL);
  pthread_cond_init(&w->cond, NULL);
  if (pthread_create(&w->thread, NULL, writer_main, w)) {
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->lock);
    return -1;
  }
  return 0;
}

/* Hand x to the writer (taken). */
static void writer_push(struct writer *w, struct witem *x) {
  pthread_mutex_lock(&w->lock);
  if (w->tail)
    w->tail->next = x;
  else
    w->head = x;
  w->tail = x;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
}

/* Store what is queued, then end the thread. */
static void writer_finish(struct writer *w) {
  pthread_mutex_lock(&w->lock);
  w->stop = 1;
  pthread_cond_signal(&w->cond);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->cond);
  pthread_mutex_destroy(&w->lock);
}

/* ---- scoring (pure) ---- */

/* A JSON string of at most MAX_DETAIL_TEXT bytes of valid UTF-8 text. */
static json_t *detail_text(const char *s) {
  size_t len = strlen(s), cut = 0;
  while (cut < len && cut < MAX_DETAIL_TEXT) {
    size_t c = utf8_char_len(s + cut, len - cut);
    if (!c || cut + c > MAX_DETAIL_TEXT)
      break;
    cut += c;
  }
  return json_stringn(s, cut);
}

int bench_score_item(const struct bench_task *t, int generate,
                     const struct bench_doc *d, const double *ll,
                     const char *text, char **metrics, char **detail) {
  json_t *m = json_object(), *x = json_object();
  int rc = -1;
  char *cut = NULL, *strict = NULL, *flex = NULL;
  size_t *chars = NULL;
  if (!m || !x)
    goto out;
  if (t->kind == BENCH_GENERATE) {
    cut = gsm8k_until(text ? text : "");
    strict = cut ? gsm8k_strict(cut) : NULL;
    flex = cut ? gsm8k_flexible(cut) : NULL;
    if (!strict || !flex)
      goto out;
    int a = gsm8k_match(strict, d->target), b = gsm8k_match(flex, d->target);
    if (a < 0 || b < 0)
      goto out;
    json_object_set_new(m, "strict_match", json_integer(a));
    json_object_set_new(m, "flexible_extract", json_integer(b));
    json_object_set_new(x, "answer", detail_text(cut));
    json_object_set_new(x, "strict", json_string(strict));
    json_object_set_new(x, "flexible", json_string(flex));
  } else if (generate) {
    char letter;
    int pick = mc_letter(text ? text : "", d->n_choices, &letter);
    json_object_set_new(m, "acc", json_integer(pick == d->gold));
    json_object_set_new(x, "answer", detail_text(text ? text : ""));
    json_object_set_new(x, "letter",
                        letter ? json_stringn(&letter, 1) : json_null());
  } else {
    json_t *lls = json_array();
    for (size_t i = 0; i < d->n_choices; i++)
      json_array_append_new(lls, json_real(ll[i]));
    json_object_set_new(x, "ll", lls);
    if (t->mc2) {
      json_object_set_new(m, "mc2",
                          json_real(bench_mc2(ll, d->labels, d->n_choices)));
    } else {
      json_object_set_new(m, "acc",
                          json_integer(bench_acc(ll, d->n_choices, d->gold)));
      if (t->acc_norm) {
        chars = calloc(d->n_choices, sizeof *chars);
        if (!chars)
          goto out;
        for (size_t i = 0; i < d->n_choices; i++)
          chars[i] = py_len(d->choices[i]);
        json_object_set_new(m, "acc_norm",
                            json_integer(bench_acc_norm(
                                ll, chars, d->n_choices, d->gold)));
      }
    }
  }
  *metrics = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
  *detail = json_dumps(x, JSON_COMPACT);
  if (!*metrics || !*detail) {
    free(*metrics);
    free(*detail);
    goto out;
  }
  rc = 0;
out:
  json_decref(m);
  json_decref(x);
  free(cut);
  free(strict);
  free(flex);
  free(chars);
  return rc;
}

/* ---- requests ---- */

static void call_release(struct call *c) {
  free(c->body);
  free(c->text);
  c->body = c->text = NULL;
}

static void job_free(struct job *j) {
  if (!j)
    return;
  for (size_t i = 0; i < j->n_calls; i++)
    call_release(&j->calls[i]);
  free(j->calls);
  free(j);
}

/* Build item doc's job and its calls. NULL when out of memory. */
static struct job *job_new(struct runner *r, size_t doc) {
  const struct bench_run_opts *o = r->o;
  const struct bench_task *t = o->task;
  const struct bench_doc *d = &r->it->docs[doc];
  const struct bench_doc *shots[64];
  size_t n_shots = o->shots < 64 ? o->shots : 64;
  struct job *j = calloc(1, sizeof *j);
  char *prefix = NULL, *prompt = NULL;
  struct bench_pair *pairs = NULL;
  struct chat_message *msgs = NULL;
  size_t n_msgs = 0;
  struct buf esc;
  buf_init(&esc, (size_t)-1);
  if (!j)
    return NULL;
  j->doc = doc;
  for (size_t k = 0; k < n_shots; k++)
    shots[k] = &r->it->pool[r->it->shots[doc * o->shots + k]];
  int many = !o->generate && t->kind != BENCH_GENERATE;
  j->n_calls = many ? d->n_choices : 1;
  j->calls = calloc(j->n_calls, sizeof *j->calls);
  if (!j->calls)
    goto fail;
  for (size_t i = 0; i < j->n_calls; i++) {
    j->calls[i].job = j;
    j->calls[i].k = i;
    j->calls[i].r = r;
  }
  if (many) {
    /* the prefix once, plain (for where each continuation starts) and
     * escaped (for each choice's body) */
    prefix = bench_prefix(t, d, shots, n_shots);
    if (!prefix || bench_pairs(t, d, prefix, &pairs) ||
        bench_bodies_prefix(&r->bodies, d, shots, n_shots, &esc))
      goto fail;
    size_t lp = strlen(prefix);
    for (size_t i = 0; i < d->n_choices; i++) {
      struct call *c = &j->calls[i];
      c->loglik = 1;
      c->cont_from = py_len(pairs[i].context);
      c->prompt_chars = c->cont_from + py_len(pairs[i].continuation);
      /* each context starts with the prefix (bench_pairs) */
      c->body = bench_body_new(&r->bodies, BENCH_BODY_LOGLIK, &esc,
                               pairs[i].context + lp, pairs[i].continuation);
      if (!c->body)
        goto fail;
    }
  } else if (!o->generate) { /* GSM8K through /v1/completions */
    if (bench_bodies_prefix(&r->bodies, d, shots, n_shots, &esc) ||
        !(j->calls[0].body = bench_body_new(&r->bodies, BENCH_BODY_UNTIL,
                                            &esc, NULL, NULL)))
      goto fail;
  } else if (t->kind == BENCH_GENERATE) {
    if (bench_gsm8k_messages(d, shots, n_shots, &msgs, &n_msgs))
      goto fail;
    j->calls[0].chat = 1;
    if (!(j->calls[0].body = upstream_chat_body(o->model, msgs, n_msgs, 0)))
      goto fail;
  } else {
    prompt = bench_mc_prompt(d);
    if (!prompt)
      goto fail;
    struct chat_message one = {.role = "user", .content = prompt};
    j->calls[0].chat = 1;
    if (!(j->calls[0].body = upstream_chat_body(o->model, &one, 1, 0)))
      goto fail;
  }
  j->left = j->n_calls;
  buf_release(&esc);
  free(prefix);
  free(prompt);
  bench_pairs_free(pairs, d->n_choices);
  bench_messages_free(msgs, n_msgs);
  return j;
fail:
  buf_release(&esc);
  free(prefix);
  free(prompt);
  bench_pairs_free(pairs, d->n_choices);
  bench_messages_free(msgs, n_msgs);
  job_free(j);
  return NULL;
}

/* upstream_post_fn, on a loop thread: read the answer, hand the call
 * back. */
static void call_answered(void *cls, const struct upstream_post_reply *rep) {
  struct call *c = cls;
  struct runner *r = c->r;
  c->outcome = CALL_RETRY;
  c->why[0] = '\0';
  c->status = rep->status;
  switch (rep->how) {
  case UPSTREAM_POST_CANCELLED:
  case UPSTREAM_POST_SHUTDOWN:
    c->outcome = CALL_STOPPED;
    break;
  case UPSTREAM_POST_TOO_LARGE:
    c->outcome = CALL_FAIL;
    snprintf(c->why, sizeof c->why, "the answer is larger than %u bytes",
             MAX_ANSWER_BYTES);
    break;
  case UPSTREAM_POST_TIMEOUT:
  case UPSTREAM_POST_UNREACHABLE:
  case UPSTREAM_POST_BROKEN:
    snprintf(c->why, sizeof c->why, "%s", rep->detail);
    break;
  case UPSTREAM_POST_DONE:
    if (rep->status == 429 || rep->status >= 500 || rep->status < 200 ||
        (rep->status >= 300 && rep->status < 400)) {
      snprintf(c->why, sizeof c->why, "HTTP %ld: %s", rep->status,
               rep->detail);
    } else if (rep->status >= 400) {
      c->outcome = CALL_FATAL;
      snprintf(c->why, sizeof c->why, "HTTP %ld: %s", rep->status,
               rep->detail);
    } else {
      int straddles;
      size_t n_tokens;
      enum bench_read rd =
          c->loglik ? bench_read_loglikelihood(
                          rep->body, rep->len, c->cont_from, c->prompt_chars,
                          &c->ll, &n_tokens, &straddles, c->why,
                          sizeof c->why)
                    : bench_read_text(rep->body, rep->len, c->chat, &c->text,
                                      c->why, sizeof c->why);
      c->outcome = rd == BENCH_READ_OK            ? CALL_OK
                   : rd == BENCH_READ_NO_LOGPROBS ? CALL_FATAL
                                                  : CALL_RETRY;
    }
    break;
  }
  pthread_mutex_lock(&r->lock);
  c->next = NULL;
  if (r->done_tail)
    r->done_tail->next = c;
  else
    r->done_head = c;
  r->done_tail = c;
  pthread_cond_signal(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

static void ready_push(struct runner *r, struct call *c) {
  c->next = NULL;
  if (r->ready_tail)
    r->ready_tail->next = c;
  else
    r->ready_head = c;
  r->ready_tail = c;
}

static struct call *ready_pop(struct runner *r) {
  struct call *c = r->ready_head;
  if (c) {
    r->ready_head = c->next;
    if (!r->ready_head)
      r->ready_tail = NULL;
    c->next = NULL;
  }
  return c;
}

static void jobs_link(struct runner *r, struct job *j) {
  j->prev = NULL;
  j->next = r->jobs;
  if (r->jobs)
    r->jobs->prev = j;
  r->jobs = j;
}

static void jobs_unlink(struct runner *r, struct job *j) {
  if (j->prev)
    j->prev->next = j->next;
  else
    r->jobs = j->next;
  if (j->next)
    j->next->prev = j->prev;
}

static void cancel_all(struct runner *r) {
  for (int i = 0; i < CANCEL_FLAGS; i++)
    atomic_store(&r->cancel[i], 1);
}

static int cancelled(struct runner *r) { return atomic_load(&r->cancel[0]); }

static void set_fatal(struct runner *r, const char *why) {
  if (r->fatal)
    return;
  r->fatal = 1;
  snprintf(r->why, sizeof r->why, "%s", why);
  cancel_all(r);
}

/* Every call of j is back: score it (or count its failure) and let it
 * go. */
static void job_complete(struct runner *r, struct job *j) {
  jobs_unlink(r, j);
  if (j->abandoned) {
    job_free(j);
    return;
  }
  if (j->failed) {
    r->prog.failed++;
    if (!r->why[0])
      snprintf(r->why, sizeof r->why, "line %zu: %s",
               r->it->docs[j->doc].line, j->why);
    job_free(j);
    return;
  }
  const struct bench_doc *d = &r->it->docs[j->doc];
  double *ll = calloc(j->n_calls, sizeof *ll);
  struct witem *x = calloc(1, sizeof *x);
  if (!ll || !x)
    goto oom;
  for (size_t i = 0; i < j->n_calls; i++)
    ll[i] = j->calls[i].ll;
  x->line = (long)d->line;
  x->grp = strdup(d->group ? d->group : "");
  if (!x->grp || bench_score_item(r->o->task, r->o->generate, d, ll,
                                  j->calls[0].text, &x->metrics, &x->detail))
    goto oom;
  writer_push(&r->w, x);
  r->prog.scored++;
  free(ll);
  job_free(j);
  return;
oom:
  free(ll);
  if (x)
    witem_free(x);
  job_free(j);
  set_fatal(r, "out of memory");
}

/* A call is back, or will never be sent (its job failed or the run is
 * stopping). */
static void call_settled(struct runner *r, struct call *c) {
  struct job *j = c->job;
  if (--j->left == 0)
    job_complete(r, j);
}

/* A call that will not be answered (the run stops): its item is left for
 * the next run. */
static void call_abandon(struct runner *r, struct call *c) {
  c->job->abandoned = 1;
  call_settled(r, c);
}

static void call_fail(struct runner *r, struct call *c, const char *why) {
  if (!c->job->failed) {
    c->job->failed = 1;
    snprintf(c->job->why, sizeof c->job->why, "%s", why);
  }
  call_settled(r, c);
}

/* Send c (a copy of its body goes). */
static void call_send(struct runner *r, struct call *c) {
  char *body = strdup(c->body);
  c->tries++;
  if (body && !upstream_post_json(r->up, r->o->model,
                                  c->chat ? "/chat/completions"
                                          : "/completions",
                                  body, MAX_ANSWER_BYTES,
                                  &r->cancel[r->sent_count++ % CANCEL_FLAGS],
                                  call_answered, c)) {
    r->in_flight++;
    return;
  }
  if (!body)
    set_fatal(r, "out of memory");
  else
    set_fatal(r, "cannot queue a request");
  call_abandon(r, c);
}

/* What to do with a call that came back. */
static void call_back(struct runner *r, struct call *c) {
  r->in_flight--;
  r->prog.requests++;
  switch (c->outcome) {
  case CALL_OK:
    call_settled(r, c);
    break;
  case CALL_STOPPED:
    call_abandon(r, c);
    break;
  case CALL_FATAL: {
    char why[600];
    /* a refused key is not a missing feature */
    int auth = c->status == 401 || c->status == 403;
    if (!auth && (c->loglik || strstr(c->why, "log-probabilities")))
      snprintf(why, sizeof why,
               "model '%s': likelihood mode needs the prompt's "
               "log-probabilities (/v1/completions with echo and logprobs, "
               "as vLLM and SGLang give them), and its server gave none: "
               "%s. Use --mode generate for this model",
               r->o->model->name, c->why);
    else
      snprintf(why, sizeof why, "model '%s': its server refused the "
               "request: %s", r->o->model->name, c->why);
    set_fatal(r, why);
    call_abandon(r, c);
    break;
  }
  case CALL_FAIL:
    call_fail(r, c, c->why);
    break;
  case CALL_RETRY:
  default:
    if (cancelled(r)) {
      call_abandon(r, c);
      break;
    }
    if (c->tries > r->o->retries) {
      call_fail(r, c, c->why);
      break;
    }
    long wait = r->o->backoff_ms;
    for (unsigned i = 1; i < c->tries && wait < MAX_BACKOFF_MS; i++)
      wait *= 2;
    if (wait > MAX_BACKOFF_MS)
      wait = MAX_BACKOFF_MS;
    c->due = mono_ms() + wait;
    c->next = r->waiting;
    r->waiting = c;
    r->prog.retried++;
    break;
  }
}

/* Retries whose time has come go to the ready queue; the earliest time
 * of those left, or -1. */
static int64_t waiting_due(struct runner *r, int64_t now) {
  struct call **pp = &r->waiting;
  int64_t next = -1;
  while (*pp) {
    struct call *c = *pp;
    if (c->due <= now || cancelled(r)) {
      *pp = c->next;
      if (cancelled(r))
        call_abandon(r, c);
      else
        ready_push(r, c);
      continue;
    }
    if (next < 0 || c->due < next)
      next = c->due;
    pp = &c->next;
  }
  return next;
}

static void progress(struct runner *r, bench_progress_fn fn, void *cls) {
  pthread_mutex_lock(&r->w.lock);
  r->prog.stored = r->w.stored;
  pthread_mutex_unlock(&r->w.lock);
  r->prog.in_flight = r->in_flight;
  r->prog.seconds = (double)(mono_ms() - r->started) / 1000.0;
  if (fn)
    fn(cls, &r->prog);
}

static void wait_until(struct runner *r, int64_t until_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
  int64_t ms = until_ms - now;
  if (ms <= 0)
    return;
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (ms % 1000) * 1000000;
  if (ts.tv_nsec >= 1000000000) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000;
  }
  pthread_cond_timedwait(&r->cond, &r->lock, &ts);
}

int bench_run(struct store *st, struct upstream *up,
              const struct bench_run_opts *o,
              const struct bench_run_items *it, atomic_int *stop,
              bench_progress_fn fn, void *cls, struct bench_progress *p,
              char *err, size_t errlen) {
  struct runner r;
  memset(&r, 0, sizeof r);
  r.o = o;
  r.it = it;
  r.st = st;
  r.up = up;
  r.started = mono_ms();
  r.prog.todo = it->n_todo;
  for (int i = 0; i < CANCEL_FLAGS; i++)
    atomic_init(&r.cancel[i], 0);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&r.cond, &ca);
  pthread_condattr_destroy(&ca);
  pthread_mutex_init(&r.lock, NULL);
  int stopped = 0;
  if (bench_bodies_init(&r.bodies, o->task, o->model, it->pool, it->n_pool)) {
    snprintf(err, errlen, "out of memory");
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    return -1;
  }
  if (writer_start(&r.w, st, o->run_id)) {
    snprintf(err, errlen, "cannot start the writer thread");
    bench_bodies_release(&r.bodies);
    pthread_cond_destroy(&r.cond);
    pthread_mutex_destroy(&r.lock);
    return -1;
  }
  unsigned conc = o->concurrency ? o->concurrency : 1;
  int64_t next_progress = 0;
  for (;;) {
    int64_t now = mono_ms();
    if (!stopped && atomic_load(stop)) {
      stopped = 1;
      cancel_all(&r);
    }
    int w_failed;
    pthread_mutex_lock(&r.w.lock);
    w_failed = r.w.failed;
    pthread_mutex_unlock(&r.w.lock);
    if (w_failed)
      set_fatal(&r, r.w.err);
    int stopping = cancelled(&r);
    int64_t next_due = waiting_due(&r, now);
    /* new items while there is room for their calls */
    while (!stopping && r.next_todo < it->n_todo &&
           r.in_flight + (r.ready_head ? 1 : 0) < conc) {
      struct job *j = job_new(&r, it->todo[r.next_todo]);
      if (!j) {
        set_fatal(&r, "out of memory");
        break;
      }
      r.next_todo++;
      jobs_link(&r, j);
      for (size_t i = 0; i < j->n_calls; i++)
        ready_push(&r, &j->calls[i]);
      while (r.in_flight < conc && r.ready_head)
        call_send(&r, ready_pop(&r));
      stopping = cancelled(&r);
    }
    while (r.ready_head && (r.in_flight < conc || stopping)) {
      struct call *c = ready_pop(&r);
      if (stopping)
        call_abandon(&r, c);
      else if (c->job->failed)
        call_settled(&r, c);
      else
        call_send(&r, c);
    }
    if (now >= next_progress) {
      progress(&r, fn, cls);
      next_progress = now + PROGRESS_MS;
    }
    int more = r.in_flight || r.ready_head || r.waiting ||
               (!stopping && r.next_todo < it->n_todo);
    if (!more)
      break;
    pthread_mutex_lock(&r.lock);
    if (!r.done_head) {
      int64_t until = next_progress;
      if (next_due >= 0 && next_due < until)
        until = next_due;
      wait_until(&r, until);
    }
    struct call *done = r.done_head;
    r.done_head = r.done_tail = NULL;
    pthread_mutex_unlock(&r.lock);
    while (done) {
      struct call *next = done->next;
      call_back(&r, done);
      done = next;
    }
  }
  /* calls of jobs never finished (a stop) go with their jobs */
  while (r.jobs) {
    struct job *j = r.jobs;
    jobs_unlink(&r, j);
    job_free(j);
  }
  writer_finish(&r.w);
  if (r.w.failed)
    set_fatal(&r, r.w.err);
  progress(&r, fn, cls);
  *p = r.prog;
  bench_bodies_release(&r.bodies);
  pthread_cond_destroy(&r.cond);
  pthread_mutex_destroy(&r.lock);
  if (r.fatal) {
    snprintf(err, errlen, "%s", r.why);
    return -1;
  }
  if (r.why[0] && r.prog.failed)
    snprintf(err, errlen, "%s", r.why); /* the first failed item's cause */
  else if (errlen)
    err[0] = '\0';
  return stopped ? 1 : 0;
}
