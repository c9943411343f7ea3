/* Relays to other nodes on one libcurl multi handle (relay.h).
 *
 * The loop's thread owns the multi handle and every easy handle in it.
 * Other threads hand it work on three lists under the loop's lock (relays
 * to start, paused ones to go on, released ones to abort) and wake it
 * with curl_multi_wakeup. A relay has two references while it runs: its
 * caller's (relay_release) and the loop's (dropped once on_end is
 * called); each list entry holds one more. Lock order: a relay's lock,
 * then the loop's. */
#include "upstream/relay.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"
#include "agon_version.h"

/* The loop wakes at least this often (curl_multi_poll's timeout). */
#define POLL_MS 1000

struct relay {
  struct relay_loop *loop;
  pthread_mutex_t lock;       /* held around every callback */
  atomic_int refs;
  const struct relay_ops *ops;
  void *cls;
  int released;               /* relay_release ran: no more callbacks */
  int ended;                  /* the transfer is over */
  int headed;                 /* on_head was called */
  struct buf held;            /* the response; held.data[taken..] not
                                 taken yet */
  size_t taken;
  size_t max_held;
  int paused;                 /* the write callback paused the transfer */
  int resume_queued;          /* on the loop's resume list */
  /* the loop thread's alone once started */
  CURL *easy;
  struct curl_slist *headers;
  struct relay *fresh_next;   /* the loop's lists: a relay may be on */
  struct relay *resume_next;  /* several at once */
  struct relay *cancel_next;
  struct relay *run_prev, *run_next; /* the running list */
  int added;                  /* in the multi handle */
  char errbuf[CURL_ERROR_SIZE];
};

struct relay_loop {
  CURLM *multi;
  pthread_t thread;
  pthread_mutex_t lock;       /* the three lists and stop */
  struct relay *fresh, *resume, *cancel;
  int stop;
  struct relay *running;      /* in the multi handle (loop thread) */
};

static void relay_unref(struct relay *r) {
  if (!r || atomic_fetch_sub(&r->refs, 1) != 1)
    return;
  if (r->easy)
    curl_easy_cleanup(r->easy);
  curl_slist_free_all(r->headers);
  buf_release(&r->held);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

/* The first value of header field name in the response, or NULL. */
static const char *header_value(CURL *e, const char *name) {
  struct curl_header *h = NULL;
  if (curl_easy_header(e, name, 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h)
    return NULL;
  return h->value;
}

/* Tell the owner the head, once. Lock held. */
static void head_locked(struct relay *r) {
  if (r->headed)
    return;
  r->headed = 1;
  long status = 0;
  const char *ct = NULL;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct);
  if (!r->released)
    r->ops->on_head(r->cls, status, ct, header_value(r->easy, "Retry-After"));
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *cls) {
  struct relay *r = cls;
  size_t n = size * nmemb, rc = n;
  pthread_mutex_lock(&r->lock);
  if (r->released) {
    rc = 0;  /* nobody reads any more: abort */
    goto out;
  }
  head_locked(r);
  size_t now = r->held.len - r->taken;
  if (now && now + n > r->max_held) {
    /* full: libcurl keeps these bytes and hands them again on resume */
    r->paused = 1;
    rc = CURL_WRITEFUNC_PAUSE;
    goto out;
  }
  /* what was taken makes room: at most max_held, or one chunk of
   * libcurl's into an empty buffer, is held */
  buf_drop_front(&r->held, r->taken);
  r->taken = 0;
  if (buf_append(&r->held, ptr, n)) {
    rc = 0;  /* out of memory: abort */
    goto out;
  }
  r->ops->on_data(r->cls);
out:
  pthread_mutex_unlock(&r->lock);
  return rc;
}

/* libcurl's header callback: at the blank line that ends a final (not
 * 1xx) response's header fields, the head is told, before any byte of
 * the body (an event stream may send none for a while). */
static size_t on_header(char *line, size_t size, size_t nmemb, void *cls) {
  struct relay *r = cls;
  size_t n = size * nmemb;
  if (n > 2 || (n == 2 && memcmp(line, "\r\n", 2)) ||
      (n == 1 && line[0] != '\n'))
    return n;
  long status = 0;
  curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 200) {
    pthread_mutex_lock(&r->lock);
    head_locked(r);
    pthread_mutex_unlock(&r->lock);
  }
  return n;
}

/* The transfer of r is over, r out of the multi handle (loop thread):
 * on_end, and the loop's reference goes. */
static void finish(struct relay *r, int ok, const char *detail) {
  pthread_mutex_lock(&r->lock);
  r->ended = 1;
  if (!r->released) {
    if (ok)
      head_locked(r);
    r->ops->on_end(r->cls, ok, detail);
  }
  pthread_mutex_unlock(&r->lock);
  relay_unref(r);
}

static void run_add(struct relay_loop *l, struct relay *r) {
  r->run_prev = NULL;
  r->run_next = l->running;
  if (l->running)
    l->running->run_prev = r;
  l->running = r;
  r->added = 1;
}

static void run_remove(struct relay_loop *l, struct relay *r) {
  curl_multi_remove_handle(l->multi, r->easy);
  if (r->run_prev)
    r->run_prev->run_next = r->run_next;
  else
    l->running = r->run_next;
  if (r->run_next)
    r->run_next->run_prev = r->run_prev;
  r->run_prev = r->run_next = NULL;
  r->added = 0;
}

/* Work handed over by other threads; returns the stop flag seen. */
static int take_work(struct relay_loop *l) {
  pthread_mutex_lock(&l->lock);
  struct relay *fresh = l->fresh, *resume = l->resume, *cancel = l->cancel;
  l->fresh = l->resume = l->cancel = NULL;
  int stop = l->stop;
  pthread_mutex_unlock(&l->lock);
  while (fresh) {
    struct relay *r = fresh;
    fresh = r->fresh_next;
    if (!stop && curl_multi_add_handle(l->multi, r->easy) == CURLM_OK)
      run_add(l, r);
    else
      finish(r, 0, stop ? "shutdown" : "curl_multi_add_handle");
  }
  while (resume) {
    struct relay *r = resume;
    resume = r->resume_next;
    pthread_mutex_lock(&r->lock);
    r->resume_queued = 0;
    int go = r->paused && r->added;
    r->paused = 0;
    pthread_mutex_unlock(&r->lock);
    if (go)
      curl_easy_pause(r->easy, CURLPAUSE_CONT);  /* may write at once */
    relay_unref(r);
  }
  while (cancel) {
    struct relay *r = cancel;
    cancel = r->cancel_next;
    if (r->added) {
      run_remove(l, r);
      finish(r, 0, "cancelled");
    }
    relay_unref(r);
  }
  return stop;
}

static void reap_done(struct relay_loop *l) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(l->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct relay *r = NULL;
    CURLcode res = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r);
    run_remove(l, r);
    char detail[CURL_ERROR_SIZE + 64];
    snprintf(detail, sizeof detail, "%s: %s", curl_easy_strerror(res),
             r->errbuf);
    finish(r, res == CURLE_OK, res == CURLE_OK ? "" : detail);
  }
}

static void *loop_main(void *cls) {
  struct relay_loop *l = cls;
  while (!take_work(l)) {
    int still = 0;
    curl_multi_perform(l->multi, &still);
    reap_done(l);
    curl_multi_poll(l->multi, NULL, 0, POLL_MS, NULL);
  }
  while (l->running) {
    struct relay *r = l->running;
    run_remove(l, r);
    finish(r, 0, "shutdown");
  }
  return NULL;
}

struct relay_loop *relay_loop_new(void) {
  struct relay_loop *l = calloc(1, sizeof *l);
  if (!l)
    return NULL;
  pthread_mutex_init(&l->lock, NULL);
  l->multi = curl_multi_init();
  if (!l->multi || pthread_create(&l->thread, NULL, loop_main, l)) {
    if (l->multi)
      curl_multi_cleanup(l->multi);
    pthread_mutex_destroy(&l->lock);
    free(l);
    return NULL;
  }
  return l;
}

void relay_loop_stop(struct relay_loop *l) {
  if (!l)
    return;
  pthread_mutex_lock(&l->lock);
  int was = l->stop;
  l->stop = 1;
  pthread_mutex_unlock(&l->lock);
  if (was)
    return;
  curl_multi_wakeup(l->multi);
  pthread_join(l->thread, NULL);
}

void relay_loop_free(struct relay_loop *l) {
  if (!l)
    return;
  relay_loop_stop(l);
  curl_multi_cleanup(l->multi);
  pthread_mutex_destroy(&l->lock);
  free(l);
}

/* r's easy handle for req. 0 or -1. */
static int easy_setup(struct relay *r, const struct relay_request *req) {
  CURL *e = r->easy = curl_easy_init();
  if (!e)
    return -1;
  for (const char *const *h = req->headers; h && *h; h++) {
    struct curl_slist *s = curl_slist_append(r->headers, *h);
    if (!s)
      return -1;
    r->headers = s;
  }
  /* no "Expect: 100-continue" round trip for a POST body */
  struct curl_slist *s = curl_slist_append(r->headers, "Expect:");
  if (!s)
    return -1;
  r->headers = s;
  int post = !strcmp(req->method, "POST");
  if (curl_easy_setopt(e, CURLOPT_URL, req->url) != CURLE_OK)
    return -1;
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, r->headers);
  if (post) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                     (curl_off_t)req->body_len);
    if (curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS,
                         req->body ? req->body : "") != CURLE_OK)
      return -1;
  }
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
  curl_easy_setopt(e, CURLOPT_PRIVATE, r);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, req->connect_ms);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "agon/" AGON_VERSION " (node)");
  /* a node that vanished with its machine is noticed on an idle stream */
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPIDLE, 10L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPINTVL, 5L);
  curl_easy_setopt(e, CURLOPT_TCP_NODELAY, 1L);
  return 0;
}

int relay_start(struct relay_loop *l, const struct relay_request *req,
                const struct relay_ops *ops, void *cls, struct relay **out) {
  *out = NULL;
  struct relay *r = calloc(1, sizeof *r);
  if (!r)
    return -1;
  pthread_mutex_init(&r->lock, NULL);
  atomic_init(&r->refs, 1);
  r->loop = l;
  r->ops = ops;
  r->cls = cls;
  r->max_held = req->max_held ? req->max_held : 64 * 1024;
  /* a chunk of libcurl's may come while the buffer is not empty: room for
   * one more than max_held */
  buf_init(&r->held, r->max_held + CURL_MAX_WRITE_SIZE);
  if (easy_setup(r, req)) {
    relay_unref(r);
    return -1;
  }
  pthread_mutex_lock(&l->lock);
  if (l->stop) {
    pthread_mutex_unlock(&l->lock);
    relay_unref(r);
    return -1;
  }
  *out = r;  /* before the loop can see it */
  atomic_fetch_add(&r->refs, 1);  /* the loop's */
  r->fresh_next = l->fresh;
  l->fresh = r;
  pthread_mutex_unlock(&l->lock);
  curl_multi_wakeup(l->multi);
  return 0;
}

void relay_lock(struct relay *r) { pthread_mutex_lock(&r->lock); }

void relay_unlock(struct relay *r) { pthread_mutex_unlock(&r->lock); }

size_t relay_take_locked(struct relay *r, char *out, size_t max) {
  size_t n = buf_read(&r->held, &r->taken, out, max);
  size_t now = r->held.len - r->taken;
  if (r->paused && !r->resume_queued && now <= r->max_held / 2) {
    struct relay_loop *l = r->loop;
    pthread_mutex_lock(&l->lock);
    if (!l->stop) {
      r->resume_queued = 1;
      atomic_fetch_add(&r->refs, 1);  /* the list's */
      r->resume_next = l->resume;
      l->resume = r;
    }
    pthread_mutex_unlock(&l->lock);
    curl_multi_wakeup(l->multi);
  }
  return n;
}

int relay_ended_locked(struct relay *r) {
  return r->ended && r->taken == r->held.len;
}

void relay_release(struct relay *r) {
  if (!r)
    return;
  struct relay_loop *l = r->loop;
  pthread_mutex_lock(&r->lock);
  r->released = 1;
  int running = !r->ended;
  pthread_mutex_unlock(&r->lock);
  if (running) {
    pthread_mutex_lock(&l->lock);
    int queued = !l->stop;
    if (queued) {
      atomic_fetch_add(&r->refs, 1);  /* the list's */
      r->cancel_next = l->cancel;
      l->cancel = r;
    }
    pthread_mutex_unlock(&l->lock);
    if (queued)
      curl_multi_wakeup(l->multi);
  }
  relay_unref(r);
}
