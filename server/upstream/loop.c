/* The libcurl event loops (loop.h): threads, multi handles on epoll,
 * libcurl's timers, and the life of a transfer from upstream_submit to
 * on_end. Nothing here knows what the bytes mean. */
#include "upstream/loop.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "upstream/upstream.h"
#include "util/log.h"
#include "util/clock.h"
#include "agon_version.h"

#define MAX_CONNECT_MS 10000L     /* of a transfer's timeout_ms */
#define MAX_EVENTS 256
#define CANCEL_SCAN_MS 1000
#define MAX_API_KEY 8192          /* bytes of a model's key */
#define MAX_IDLE_CONNECTIONS 256  /* per loop, kept for reuse (libcurl
                                     closes those idle past its max age) */

/* One request, from upstream_submit to its on_end. */
struct transfer {
  struct transfer *next;         /* pending queue, or running list */
  struct transfer *prev;         /* running list */
  CURL *easy;
  struct curl_slist *headers;
  atomic_int *cancel;
  int cancelled;                 /* the progress callback saw *cancel */
  int responded;                 /* on_response was called */
  struct transfer_ops ops;
  void *cls;
  char errbuf[CURL_ERROR_SIZE];
};

/* One event loop: a thread, a libcurl multi handle and its epoll set. */
struct upstream_loop {
  CURLM *multi;
  pthread_t thread;
  pthread_mutex_t lock;
  struct transfer *pending;      /* submitted, not yet added */
  atomic_int has_pending;        /* pending != NULL, read without the lock */
  struct transfer *running;      /* added to the multi handle; only the
                                    loop's thread touches this list */
  int stop;
  atomic_size_t active;
  int epfd;                      /* the sockets libcurl asked us to watch */
  int wakefd;                    /* eventfd: new requests, or stop */
  int64_t timer_at;              /* monotonic ms libcurl wants a timeout
                                    call at, or -1 */
};

struct upstream {
  struct upstream_loop *loops;
  unsigned n_loops;
  atomic_uint next;              /* round robin, for requests without a
                                    cancel flag */
};

/* Accepts NULL. */
static void transfer_free(struct transfer *t) {
  if (!t)
    return;
  if (t->easy)
    curl_easy_cleanup(t->easy);
  for (struct curl_slist *l = t->headers; l; l = l->next)
    explicit_bzero(l->data, strlen(l->data)); /* an API key among them */
  curl_slist_free_all(t->headers);
  free(t);
}

/* Tell the protocol the status and type of the response, once. */
static void transfer_respond(struct transfer *t) {
  if (t->responded)
    return;
  t->responded = 1;
  long status = 0;
  const char *ct = NULL;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  t->ops.on_response(t->cls, status, ct);
}

/* The end of t, which the loop has let go of (it is in neither the multi
 * handle nor a list): the protocol's on_end, then t is freed. */
static void transfer_end(struct upstream_loop *lp, struct transfer *t,
                         enum transfer_end how, const char *detail) {
  t->ops.on_end(t->cls, how, detail);
  transfer_free(t);
  atomic_fetch_sub(&lp->active, 1);
}

/* The end of a transfer libcurl saw through, with its result. */
static void transfer_done(struct upstream_loop *lp, struct transfer *t,
                          CURLcode res) {
  char broken[512];
  transfer_respond(t);
  if (t->cancelled) {
    transfer_end(lp, t, TRANSFER_CANCELLED, "cancelled");
  } else if (res == CURLE_OK) {
    transfer_end(lp, t, TRANSFER_DONE, "");
  } else if (res == CURLE_OPERATION_TIMEDOUT) {
    transfer_end(lp, t, TRANSFER_TIMEOUT, t->errbuf);
  } else if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
             res == CURLE_SSL_CONNECT_ERROR || res == CURLE_COULDNT_RESOLVE_PROXY) {
    transfer_end(lp, t, TRANSFER_UNREACHABLE, t->errbuf);
  } else {
    snprintf(broken, sizeof broken, "%s: %s", curl_easy_strerror(res),
             t->errbuf);
    transfer_end(lp, t, TRANSFER_BROKEN, broken);
  }
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *cls) {
  struct transfer *t = cls;
  size_t n = size * nmemb;
  transfer_respond(t);
  return t->ops.on_body(t->cls, ptr, n) ? 0 : n;
}

static int on_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  struct transfer *t = cls;
  if (t->cancel && atomic_load(t->cancel)) {
    t->cancelled = 1;
    return 1;
  }
  return 0;
}

static void link_running(struct upstream_loop *lp, struct transfer *t) {
  t->prev = NULL;
  t->next = lp->running;
  if (lp->running)
    lp->running->prev = t;
  lp->running = t;
}

static void unlink_running(struct upstream_loop *lp, struct transfer *t) {
  if (t->prev)
    t->prev->next = t->next;
  else
    lp->running = t->next;
  if (t->next)
    t->next->prev = t->prev;
  t->next = t->prev = NULL;
}

/* Take a running transfer out of the multi handle and the running list. */
static void loop_let_go(struct upstream_loop *lp, struct transfer *t) {
  curl_multi_remove_handle(lp->multi, t->easy);
  unlink_running(lp, t);
}

/* libcurl's socket callback: watch sock for what it wants, in our epoll
 * set. The fd is the key; curl removes a socket before closing it. */
static int on_socket(CURL *easy, curl_socket_t sock, int what, void *cls,
                     void *socketp) {
  struct upstream_loop *lp = cls;
  (void)easy;
  (void)socketp;
  if (what == CURL_POLL_REMOVE) {
    epoll_ctl(lp->epfd, EPOLL_CTL_DEL, sock, NULL);
    return 0;
  }
  struct epoll_event ev = {0};
  ev.data.fd = sock;
  if (what & CURL_POLL_IN)
    ev.events |= EPOLLIN;
  if (what & CURL_POLL_OUT)
    ev.events |= EPOLLOUT;
  if (epoll_ctl(lp->epfd, EPOLL_CTL_MOD, sock, &ev) &&
      (errno != ENOENT || epoll_ctl(lp->epfd, EPOLL_CTL_ADD, sock, &ev))) {
    log_error("msg=\"cannot watch an upstream socket\" err=\"%s\"",
              strerror(errno));
    return -1;
  }
  return 0;
}

/* libcurl's timer callback: one timeout call wanted in timeout_ms (-1:
 * none). */
static int on_timer(CURLM *multi, long timeout_ms, void *cls) {
  struct upstream_loop *lp = cls;
  (void)multi;
  lp->timer_at = timeout_ms < 0 ? -1 : mono_ms() + timeout_ms;
  return 0;
}

/* Hand every finished transfer to its owner. */
static void reap_finished(struct upstream_loop *lp) {
  CURLMsg *msg;
  int left;
  while ((msg = curl_multi_info_read(lp->multi, &left))) {
    if (msg->msg != CURLMSG_DONE)
      continue;
    struct transfer *t = NULL;
    CURLcode res = msg->data.result;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&t);
    loop_let_go(lp, t);
    transfer_done(lp, t, res);
  }
}

/* Abort the transfers whose owner gave up on them. The progress callback
 * does this too, but libcurl only calls it for transfers it is working
 * on; a stalled stream is found here, once a second. */
static void reap_cancelled(struct upstream_loop *lp) {
  struct transfer *t = lp->running;
  while (t) {
    struct transfer *next = t->next;
    if (t->cancel && atomic_load(t->cancel)) {
      loop_let_go(lp, t);
      transfer_end(lp, t, TRANSFER_CANCELLED, "cancelled");
    }
    t = next;
  }
}

/* Take the submitted transfers into the multi handle. Returns the value
 * of lp->stop seen with them. */
static int take_pending(struct upstream_loop *lp) {
  pthread_mutex_lock(&lp->lock);
  int stop = lp->stop;
  struct transfer *q = lp->pending;
  lp->pending = NULL;
  atomic_store(&lp->has_pending, 0);
  pthread_mutex_unlock(&lp->lock);
  while (q) {
    struct transfer *next = q->next;
    q->next = NULL;
    if (curl_multi_add_handle(lp->multi, q->easy) == CURLM_OK)
      link_running(lp, q);
    else
      transfer_end(lp, q, TRANSFER_UNREACHABLE, "curl_multi_add_handle");
    q = next;
  }
  return stop;
}

/* The loop: epoll over libcurl's sockets and our wakeup fd, with libcurl's
 * timer; work per wakeup is proportional to the sockets that are ready,
 * not to the number of transfers. */
static void *loop_main(void *arg) {
  struct upstream_loop *lp = arg;
  struct epoll_event ev[MAX_EVENTS];
  int64_t next_scan = mono_ms() + CANCEL_SCAN_MS;
  int running = 0;
  for (;;) {
    int64_t now = mono_ms();
    int64_t until = next_scan;
    if (lp->timer_at >= 0 && lp->timer_at < until)
      until = lp->timer_at;
    int wait = until > now ? (int)(until - now) : 0;
    int n = epoll_wait(lp->epfd, ev, MAX_EVENTS, wait);
    if (n < 0 && errno != EINTR) {
      log_error("msg=\"upstream epoll_wait failed\" err=\"%s\"", strerror(errno));
      n = 0;
    }
    int stop = 0;
    for (int i = 0; i < n; i++) {
      /* New requests go first, between any two sockets: behind a full
       * round of ready streams, a battle's first token would wait for
       * all of them. Connecting is libcurl's timeout work. */
      if (atomic_load(&lp->has_pending)) {
        stop |= take_pending(lp);
        curl_multi_socket_action(lp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
      }
      if (ev[i].data.fd == lp->wakefd) {
        uint64_t woken;
        if (read(lp->wakefd, &woken, sizeof woken) < 0 && errno != EAGAIN)
          log_error("msg=\"upstream wakeup read failed\" err=\"%s\"",
                    strerror(errno));
        stop |= take_pending(lp);
        continue;
      }
      int flags = 0;
      if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLRDHUP))
        flags |= CURL_CSELECT_IN;
      if (ev[i].events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
      if (ev[i].events & EPOLLERR)
        flags |= CURL_CSELECT_ERR;
      curl_multi_socket_action(lp->multi, ev[i].data.fd, flags, &running);
    }
    if (stop)
      break;
    now = mono_ms();
    if (lp->timer_at >= 0 && lp->timer_at <= now) {
      lp->timer_at = -1;
      curl_multi_socket_action(lp->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    }
    reap_finished(lp);
    if (now >= next_scan) {
      next_scan = now + CANCEL_SCAN_MS;
      reap_cancelled(lp);
    }
  }
  /* abort what is left */
  while (lp->running) {
    struct transfer *t = lp->running;
    loop_let_go(lp, t);
    transfer_end(lp, t, TRANSFER_SHUTDOWN, "shutdown");
  }
  return NULL;
}

static void loop_release(struct upstream_loop *lp) {
  if (lp->multi)
    curl_multi_cleanup(lp->multi);
  if (lp->epfd >= 0)
    close(lp->epfd);
  if (lp->wakefd >= 0)
    close(lp->wakefd);
  pthread_mutex_destroy(&lp->lock);
}

/* Set up lp and start its thread. 0, or -1 with everything released. */
static int loop_init(struct upstream_loop *lp) {
  pthread_mutex_init(&lp->lock, NULL);
  atomic_init(&lp->active, 0);
  atomic_init(&lp->has_pending, 0);
  lp->timer_at = -1;
  lp->epfd = epoll_create1(EPOLL_CLOEXEC);
  lp->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  lp->multi = curl_multi_init();
  if (lp->epfd < 0 || lp->wakefd < 0 || !lp->multi)
    goto fail;
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = lp->wakefd};
  if (epoll_ctl(lp->epfd, EPOLL_CTL_ADD, lp->wakefd, &ev))
    goto fail;
  curl_multi_setopt(lp->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 0L);
  /* libcurl's default cache is 4 connections per easy handle added, and
   * a transfer's handle goes at its end: between two busy moments the
   * cache shrank and closed connections the next requests opened again
   * (848 connects for agon bench's 10,552 requests at 64 in flight,
   * against 64 for a client that keeps its handles) */
  curl_multi_setopt(lp->multi, CURLMOPT_MAXCONNECTS, (long)MAX_IDLE_CONNECTIONS);
  curl_multi_setopt(lp->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
  curl_multi_setopt(lp->multi, CURLMOPT_SOCKETDATA, lp);
  curl_multi_setopt(lp->multi, CURLMOPT_TIMERFUNCTION, on_timer);
  curl_multi_setopt(lp->multi, CURLMOPT_TIMERDATA, lp);
  if (pthread_create(&lp->thread, NULL, loop_main, lp))
    goto fail;
  return 0;
fail:
  loop_release(lp);
  return -1;
}

/* Wake the loop's thread (new requests, or stop). Never postponed
 * (util/defer.h): the upstream connection is best made while the HTTP
 * worker is still sending its reply. */
static void loop_wake(struct upstream_loop *lp) {
  uint64_t one = 1;
  if (write(lp->wakefd, &one, sizeof one) < 0 && errno != EAGAIN)
    log_error("msg=\"upstream wakeup failed\" err=\"%s\"", strerror(errno));
}

static void loop_stop(struct upstream_loop *lp) {
  pthread_mutex_lock(&lp->lock);
  int was = lp->stop;
  lp->stop = 1;
  pthread_mutex_unlock(&lp->lock);
  if (was)
    return;
  loop_wake(lp);
  pthread_join(lp->thread, NULL);
}

/* Queue t on lp. 0, or -1 when lp is stopping (t is not queued). */
static int loop_queue(struct upstream_loop *lp, struct transfer *t) {
  pthread_mutex_lock(&lp->lock);
  if (lp->stop) {
    pthread_mutex_unlock(&lp->lock);
    return -1;
  }
  atomic_fetch_add(&lp->active, 1);
  /* one wakeup per batch: whoever queued onto an empty list wakes the
   * loop (after unlocking), which then takes the whole list */
  int first = lp->pending == NULL;
  t->next = lp->pending;
  lp->pending = t;
  atomic_store(&lp->has_pending, 1);
  pthread_mutex_unlock(&lp->lock);
  if (first)
    loop_wake(lp);
  return 0;
}

struct upstream *upstream_new(unsigned loops) {
  struct upstream *up = calloc(1, sizeof *up);
  if (!up)
    return NULL;
  if (loops == 0)
    loops = 1;
  up->loops = calloc(loops, sizeof *up->loops);
  if (!up->loops)
    goto fail;
  atomic_init(&up->next, 0);
  for (; up->n_loops < loops; up->n_loops++) {
    if (loop_init(&up->loops[up->n_loops]))
      goto fail;
  }
  return up;
fail:
  upstream_free(up);
  return NULL;
}

void upstream_stop(struct upstream *up) {
  for (unsigned i = 0; i < up->n_loops; i++)
    loop_stop(&up->loops[i]);
}

void upstream_free(struct upstream *up) {
  if (!up)
    return;
  upstream_stop(up);
  for (unsigned i = 0; i < up->n_loops; i++)
    loop_release(&up->loops[i]);
  free(up->loops);
  free(up);
}

size_t upstream_active(struct upstream *up) {
  size_t n = 0;
  for (unsigned i = 0; i < up->n_loops; i++)
    n += atomic_load(&up->loops[i].active);
  return n;
}

/* The loop for requests that share `cancel`: the same one every time (the
 * two sides of a battle wake one thread, and their callbacks never run at
 * once), spread over the loops by a hash of the address. Requests without
 * one are handed out in turn. */
static struct upstream_loop *loop_for(struct upstream *up,
                                      const atomic_int *cancel) {
  if (!cancel)
    return &up->loops[atomic_fetch_add(&up->next, 1) % up->n_loops];
  /* splitmix64's finaliser: every bit of the address moves every bit of
   * h (a bare multiply sent flags a few bytes apart, as agon bench's
   * are, all to one loop) */
  uint64_t h = (uint64_t)(uintptr_t)cancel;
  h = (h ^ (h >> 30)) * 0xBF58476D1CE4E5B9ull;
  h = (h ^ (h >> 27)) * 0x94D049BB133111EBull;
  h ^= h >> 31;
  return &up->loops[h % up->n_loops];
}

/* Add "Authorization: Bearer KEY" to t's headers; the line built for it
 * is wiped (the list's copy is, in transfer_free). 0 or -1. */
static int append_bearer(struct transfer *t, const char *key) {
  static const char head[] = "Authorization: Bearer ";
  size_t n = strlen(key);
  if (n > MAX_API_KEY)
    return -1;
  char *line = malloc(sizeof head + n);
  if (!line)
    return -1;
  memcpy(line, head, sizeof head - 1);
  memcpy(line + sizeof head - 1, key, n + 1);
  struct curl_slist *l = curl_slist_append(t->headers, line);
  explicit_bzero(line, sizeof head + n);
  free(line);
  if (!l)
    return -1;
  t->headers = l;
  return 0;
}

int upstream_submit(struct upstream *up, const struct transfer_request *req,
                    const struct transfer_ops *ops, void *cls) {
  struct transfer *t = calloc(1, sizeof *t);
  if (!t)
    goto fail;
  t->ops = *ops;
  t->cls = cls;
  t->cancel = req->cancel;
  t->easy = curl_easy_init();
  if (!t->easy)
    goto fail;
  for (const char *const *h = req->headers; *h; h++) {
    struct curl_slist *l = curl_slist_append(t->headers, *h);
    if (!l)
      goto fail;
    t->headers = l;
  }
  if (req->bearer && req->bearer[0] && append_bearer(t, req->bearer))
    goto fail;
  long connect_ms = req->timeout_ms < MAX_CONNECT_MS ? req->timeout_ms
                                                     : MAX_CONNECT_MS;
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, req->url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, req->body);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "agon/" AGON_VERSION);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  if (loop_queue(loop_for(up, req->cancel), t))
    goto fail;
  return 0;
fail:
  transfer_free(t);
  return -1;
}
