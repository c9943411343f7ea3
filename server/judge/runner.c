#include "judge/runner.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "judge/prompt.h"
#include "storage/judgments.h"
#include "util/clock.h"
#include "util/buf.h"
#include "util/log.h"

#define MAX_QUEUE 100000
#define MAX_REPLY (256u * 1024)

struct job;

/* One request of a job (an order, or a side). */
struct call {
  struct job *job;
  struct buf reply;
  int done, ok;
  char error[160];
};

struct job {
  struct job *next;
  struct judge_runner *r;
  struct judge_config j;     /* a copy */
  char battle_id[40];
  int n_calls;               /* 1 or 2 */
  int parallel;              /* calls in flight at once: n_calls, or 1 when
                                the judge's concurrency is below n_calls */
  int sent;                  /* calls handed to the upstream so far */
  struct chat_message held[2]; /* the messages of the call not yet sent */
  struct call calls[2];
  atomic_int left;           /* calls not finished */
};

struct judge_runner {
  struct store *st;
  struct upstream *up;
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  struct job *queue, *queue_tail;   /* waiting */
  struct job *finished;             /* calls all back, to store */
  struct {
    char name[104];
    long running;
  } busy[64];                       /* requests in flight per judge */
  size_t queued, running, done, errors;
  int stop;
  atomic_int cancel;
};

static void job_free(struct job *jb) {
  if (!jb)
    return;
  model_config_release(&jb->j.conn);
  free(jb->j.instructions);
  for (int i = 0; i < 2; i++)
    buf_release(&jb->calls[i].reply);
  judge_messages_free(jb->held);
  free(jb);
}

static void call_text(void *cls, const char *text, size_t len);
static void call_finish(void *cls, int ok, const char *public_msg,
                        const char *detail,
                        const struct upstream_stats *stats);

/* Hand call k of jb, with messages msgs, to the upstream; a call that
 * cannot be queued finishes at once as failed. */
static void send_call(struct judge_runner *r, struct job *jb, int k,
                      struct chat_message msgs[2]) {
  struct call *c = &jb->calls[k];
  c->job = jb;
  buf_init(&c->reply, MAX_REPLY);
  jb->sent++;
  struct upstream_callbacks cb = {
      .on_text = call_text, .on_finish = call_finish, .cls = c};
  if (upstream_chat(r->up, &jb->j.conn, msgs, 2, MAX_REPLY, &r->cancel,
                    &cb)) {
    char detail[] = "cannot queue the request";
    struct upstream_stats none = {.ttft = -1};
    call_finish(c, 0, detail, detail, &none);
  }
}

static long *busy_slot(struct judge_runner *r, const char *name) {
  for (size_t i = 0; i < 64; i++)
    if (!strcmp(r->busy[i].name, name))
      return &r->busy[i].running;
  for (size_t i = 0; i < 64; i++)
    if (!r->busy[i].name[0]) {
      snprintf(r->busy[i].name, sizeof r->busy[i].name, "%s", name);
      return &r->busy[i].running;
    }
  return &r->busy[63].running;
}

int judge_runner_enqueue(struct judge_runner *r, const struct judge_config *j,
                         const char *battle_id) {
  struct job *jb = calloc(1, sizeof *jb);
  if (!jb)
    return -1;
  jb->r = r;
  jb->j = *j;
  model_config_copy(&jb->j.conn, &j->conn);
  jb->j.instructions = j->instructions ? strdup(j->instructions) : NULL;
  snprintf(jb->battle_id, sizeof jb->battle_id, "%s", battle_id);
  pthread_mutex_lock(&r->lock);
  if (r->stop || r->queued >= MAX_QUEUE) {
    pthread_mutex_unlock(&r->lock);
    job_free(jb);
    return -1;
  }
  if (r->queue_tail)
    r->queue_tail->next = jb;
  else
    r->queue = jb;
  r->queue_tail = jb;
  r->queued++;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  return 0;
}

/* ---- upstream callbacks (upstream thread) ---- */

static void call_text(void *cls, const char *text, size_t len) {
  struct call *c = cls;
  buf_append(&c->reply, text, len); /* over the cap: the upstream fails it */
}

static void call_finish(void *cls, int ok, const char *public_msg,
                        const char *detail,
                        const struct upstream_stats *stats) {
  struct call *c = cls;
  c->done = 1;
  c->ok = ok;
  if (!ok)
    snprintf(c->error, sizeof c->error, "%s", detail ? detail : public_msg);
  struct job *jb = c->job;
  struct judge_runner *r = jb->r;
  if (jb->sent < jb->n_calls) {
    /* one call at a time: the next one goes out when this one is back */
    struct chat_message next[2] = {jb->held[0], jb->held[1]};
    memset(jb->held, 0, sizeof jb->held);
    atomic_fetch_sub(&jb->left, 1);
    send_call(r, jb, jb->sent, next);
    judge_messages_free(next);
    return;
  }
  if (atomic_fetch_sub(&jb->left, 1) != 1)
    return;
  pthread_mutex_lock(&r->lock);
  jb->next = r->finished;
  r->finished = jb;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
}

/* ---- the runner thread ---- */

static const char *verdict_name(char v, int swapped) {
  if (v == 'C')
    return "tie";
  if (v == 'A')
    return swapped ? "b" : "a";
  if (v == 'B')
    return swapped ? "a" : "b";
  return NULL;
}

/* Parse the replies of a finished job and store the judgment. */
static void finish_job(struct judge_runner *r, struct job *jb) {
  struct judgment out = {.battle_id = jb->battle_id,
                         .judge = jb->j.conn.name,
                         .mode = jb->j.mode == JUDGE_SINGLE ? "single"
                                                            : "pairwise"};
  json_t *raw = json_array();
  json_t *scores = NULL;
  char error[200] = "";
  for (int i = 0; i < jb->n_calls; i++) {
    struct call *c = &jb->calls[i];
    json_array_append_new(raw, json_string(c->reply.data ? c->reply.data : ""));
    if (!c->ok && !error[0])
      snprintf(error, sizeof error, "judge request failed: %s", c->error);
  }
  if (!error[0] && jb->j.mode == JUDGE_PAIRWISE) {
    char v0 = judge_parse_verdict(jb->calls[0].reply.data ? jb->calls[0].reply.data : "");
    char v1 = jb->n_calls > 1 ? judge_parse_verdict(jb->calls[1].reply.data
                                                        ? jb->calls[1].reply.data
                                                        : "")
                              : 0;
    if (!v0 || (jb->n_calls > 1 && !v1)) {
      snprintf(error, sizeof error, "no [[A]], [[B]] or [[C]] verdict in the "
                                    "judge's reply");
    } else {
      out.verdict_ab = verdict_name(v0, 0);
      out.verdict = out.verdict_ab;
      if (jb->n_calls > 1) {
        out.verdict_ba = verdict_name(v1, 1);
        if (strcmp(out.verdict_ab, out.verdict_ba)) {
          out.verdict = "tie"; /* position bias: the orders disagree */
          out.inconsistent = 1;
        }
      }
    }
  } else if (!error[0]) {
    int sc[2][4];
    for (int side = 0; side < 2 && !error[0]; side++)
      if (judge_parse_scores(jb->calls[side].reply.data ? jb->calls[side].reply.data : "",
                             sc[side]))
        snprintf(error, sizeof error,
                 "no four 1-20 scores in the judge's reply for side %c",
                 side ? 'b' : 'a');
    if (!error[0]) {
      scores = json_pack("{s:[i,i,i,i], s:[i,i,i,i]}", "a", sc[0][0], sc[0][1],
                         sc[0][2], sc[0][3], "b", sc[1][0], sc[1][1], sc[1][2],
                         sc[1][3]);
      int ta = sc[0][0] + sc[0][1] + sc[0][2] + sc[0][3];
      int tb = sc[1][0] + sc[1][1] + sc[1][2] + sc[1][3];
      out.verdict = ta > tb ? "a" : ta < tb ? "b" : "tie";
      out.scores = scores;
    }
  }
  out.raw = raw;
  if (error[0]) {
    out.error = error;
    out.verdict = out.verdict_ab = out.verdict_ba = NULL;
    out.inconsistent = 0;
    log_warn("msg=\"judge error\" judge=\"%s\" battle=%s error=\"%s\"",
             log_q(jb->j.conn.name), log_q(jb->battle_id), log_q(error));
  }
  store_judgment_save(r->st, &out);
  json_decref(raw);
  json_decref(scores);
  pthread_mutex_lock(&r->lock);
  *busy_slot(r, jb->j.conn.name) -= jb->parallel;
  r->running--;
  r->done++;
  if (error[0])
    r->errors++;
  pthread_mutex_unlock(&r->lock);
  job_free(jb);
}

/* Load the battle, build the prompts and send them; on any failure the
 * job is stored as an error (or dropped when there is nothing to judge). */
static void start_job(struct judge_runner *r, struct job *jb) {
  struct case_data cd;
  int loaded = store_case_load(r->st, jb->battle_id, &cd);
  struct case_data ex[51];
  size_t n_ex = 0;
  struct chat_message msgs[2][2];
  memset(msgs, 0, sizeof msgs);
  int ok = loaded == 0;
  if (ok && jb->j.mode == JUDGE_PAIRWISE) {
    /* one more than needed: an example must not be the battle judged */
    if (jb->j.few_shot > 0)
      store_few_shot(r->st, (size_t)jb->j.few_shot + 1, ex, &n_ex);
    for (size_t i = 0; i < n_ex; i++) {
      if (!strcmp(ex[i].id, jb->battle_id)) {
        case_data_release(&ex[i]);
        memmove(&ex[i], &ex[i + 1], (n_ex - i - 1) * sizeof ex[0]);
        n_ex--;
        break;
      }
    }
    while (n_ex > (size_t)jb->j.few_shot)
      case_data_release(&ex[--n_ex]);
    jb->n_calls = jb->j.swap ? 2 : 1;
    struct judge_case *exc = calloc(n_ex + 1, sizeof *exc);
    for (size_t i = 0; exc && i < n_ex; i++)
      exc[i] = ex[i].c;
    for (int k = 0; ok && k < jb->n_calls; k++)
      ok = exc && judge_pairwise_messages(&cd.c, k, exc, n_ex,
                                          jb->j.instructions, msgs[k]) == 0;
    free(exc);
  } else if (ok) {
    jb->n_calls = 2;
    for (int side = 0; ok && side < 2; side++)
      ok = judge_single_messages(&cd.c, side, jb->j.instructions,
                                 msgs[side]) == 0;
  }
  for (size_t i = 0; i < n_ex; i++)
    case_data_release(&ex[i]);
  if (loaded == 0)
    case_data_release(&cd);
  if (!ok) {
    for (int k = 0; k < 2; k++)
      judge_messages_free(msgs[k]);
    pthread_mutex_lock(&r->lock);
    r->running--;
    if (loaded != 1) {
      r->done++;
      r->errors++;
    }
    pthread_mutex_unlock(&r->lock);
    if (loaded != 1)
      log_error("msg=\"cannot prepare judge prompts\" battle=%s",
                log_q(jb->battle_id));
    job_free(jb);
    return;
  }
  atomic_init(&jb->left, jb->n_calls);
  jb->parallel = jb->n_calls > jb->j.concurrency ? 1 : jb->n_calls;
  pthread_mutex_lock(&r->lock);
  *busy_slot(r, jb->j.conn.name) += jb->parallel;
  pthread_mutex_unlock(&r->lock);
  if (jb->parallel < jb->n_calls) {
    jb->held[0] = msgs[1][0];
    jb->held[1] = msgs[1][1];
    memset(msgs[1], 0, sizeof msgs[1]);
  }
  for (int k = 0; k < jb->parallel; k++)
    send_call(r, jb, k, msgs[k]);
  for (int k = 0; k < 2; k++)
    judge_messages_free(msgs[k]);
}

/* Whether job jb may start: the requests it sends at once fit in its
 * judge's concurrency (a job with more requests than the concurrency sends
 * them one after another, see start_job). */
static int has_room(struct judge_runner *r, const struct job *jb) {
  long busy = *busy_slot(r, jb->j.conn.name);
  long calls = jb->j.mode == JUDGE_PAIRWISE && !jb->j.swap ? 1 : 2;
  if (calls > jb->j.concurrency)
    calls = 1;
  return busy + calls <= jb->j.concurrency;
}

static void *runner_main(void *arg) {
  struct judge_runner *r = arg;
  pthread_mutex_lock(&r->lock);
  for (;;) {
    if (r->finished) {
      struct job *jb = r->finished;
      r->finished = jb->next;
      pthread_mutex_unlock(&r->lock);
      finish_job(r, jb);
      pthread_mutex_lock(&r->lock);
      pthread_cond_broadcast(&r->cond);
      continue;
    }
    if (r->stop)
      break;
    /* the first waiting job whose judge has room */
    struct job **pp = &r->queue, *prev = NULL;
    while (*pp && !has_room(r, *pp)) {
      prev = *pp;
      pp = &(*pp)->next;
    }
    if (*pp) {
      struct job *jb = *pp;
      *pp = jb->next;
      if (r->queue_tail == jb)
        r->queue_tail = prev;
      jb->next = NULL;
      r->queued--;
      r->running++;
      pthread_mutex_unlock(&r->lock);
      start_job(r, jb);
      pthread_mutex_lock(&r->lock);
      pthread_cond_broadcast(&r->cond);
      continue;
    }
    pthread_cond_wait(&r->cond, &r->lock);
  }
  pthread_mutex_unlock(&r->lock);
  return NULL;
}

struct judge_runner *judge_runner_new(struct store *st, struct upstream *up) {
  struct judge_runner *r = calloc(1, sizeof *r);
  if (!r)
    return NULL;
  r->st = st;
  r->up = up;
  atomic_init(&r->cancel, 0);
  pthread_mutex_init(&r->lock, NULL);
  pthread_cond_init(&r->cond, NULL);
  if (pthread_create(&r->thread, NULL, runner_main, r)) {
    pthread_mutex_destroy(&r->lock);
    pthread_cond_destroy(&r->cond);
    free(r);
    return NULL;
  }
  return r;
}

void judge_runner_progress(struct judge_runner *r, struct judge_progress *p) {
  pthread_mutex_lock(&r->lock);
  p->queued = r->queued;
  p->running = r->running;
  p->done = r->done;
  p->errors = r->errors;
  pthread_mutex_unlock(&r->lock);
}

void judge_runner_drain(struct judge_runner *r,
                        void (*tick)(const struct judge_progress *p, void *cls),
                        void *cls) {
  for (;;) {
    struct judge_progress p;
    judge_runner_progress(r, &p);
    if (tick)
      tick(&p, cls);
    if (!p.queued && !p.running)
      return;
    pthread_mutex_lock(&r->lock);
    struct timespec until = clock_in_ms(CLOCK_REALTIME, 200);
    pthread_cond_timedwait(&r->cond, &r->lock, &until);
    pthread_mutex_unlock(&r->lock);
  }
}

void judge_runner_free(struct judge_runner *r) {
  if (!r)
    return;
  atomic_store(&r->cancel, 1); /* running calls end at their next check */
  pthread_mutex_lock(&r->lock);
  /* wait for the running jobs to come back and be stored (as errors) */
  while (r->running) {
    if (r->finished)
      pthread_cond_broadcast(&r->cond);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 1;
    pthread_cond_timedwait(&r->cond, &r->lock, &until);
  }
  r->stop = 1;
  pthread_cond_broadcast(&r->cond);
  pthread_mutex_unlock(&r->lock);
  pthread_join(r->thread, NULL);
  while (r->queue) {
    struct job *jb = r->queue;
    r->queue = jb->next;
    job_free(jb);
  }
  pthread_mutex_destroy(&r->lock);
  pthread_cond_destroy(&r->cond);
  free(r);
}
