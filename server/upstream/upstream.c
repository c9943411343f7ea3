#include "upstream/upstream.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "upstream/openai_delta.h"
#include "upstream/sse.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/redact.h"
#include "util/util.h"
#include "agon_version.h"

#define MAX_SSE_LINE (4u << 20)
#define MAX_ERROR_BODY 4096
#define MAX_JSON_BODY (8u << 20)
#define MAX_DETAIL 300            /* bytes of a failure's detail */

struct transfer {
  struct transfer *next;         /* pending queue, or running list */
  struct transfer *prev;         /* running list */
  CURL *easy;
  struct curl_slist *headers;
  char *body;
  char *model_name;              /* for the server log only */
  char *api_key;                 /* the model's, only to take it out of
                                    the upstream's words; NULL when none */
  struct sse_parser sse;
  struct buf raw;                /* error body, or a non-streamed answer */
  size_t answer_bytes;
  size_t max_bytes;
  size_t reasoning_bytes;        /* passed on to on_reasoning */
  size_t reasoning_dropped;      /* over max_bytes, or nobody wanted it */
  size_t tool_calls;             /* chunks with tool calls */
  int has_text;                  /* the answer has a non-blank byte */
  int reasoning_full;            /* a piece did not fit: drop the rest */
  size_t chunks;
  int64_t started;               /* monotonic ms */
  int64_t first_text;            /* monotonic ms, 0 before any content */
  long status;
  int checked_status;
  int streaming;                 /* content type is text/event-stream */
  int saw_done;
  int saw_finish;
  int failed;
  char public_msg[128];
  char detail[MAX_DETAIL + 1];   /* sanitized, redacted */
  char errbuf[CURL_ERROR_SIZE];
  atomic_int *cancel;
  struct upstream_callbacks cb;
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

static void transfer_free(struct transfer *t) {
  if (!t)
    return;
  if (t->easy)
    curl_easy_cleanup(t->easy);
  curl_slist_free_all(t->headers);
  free(t->body);
  free(t->model_name);
  if (t->api_key) {
    explicit_bzero(t->api_key, strlen(t->api_key));
    free(t->api_key);
  }
  sse_parser_release(&t->sse);
  buf_release(&t->raw);
  free(t);
}

/* Record the first failure of a transfer. Its detail is prefix (ours)
 * and the len bytes of text, which may be the upstream's own words: they
 * are kept as a short excerpt, without control characters and without
 * anything that looks like a key (the model's own above all, which an
 * upstream that echoes the request sends back), as they go to the log
 * and the database. */
static void transfer_fail_text(struct transfer *t, const char *public_msg,
                               const char *prefix, const char *text,
                               size_t len) {
  if (t->failed)
    return;
  t->failed = 1;
  snprintf(t->public_msg, sizeof t->public_msg, "%s", public_msg);
  int n = snprintf(t->detail, sizeof t->detail, "%s", prefix);
  if (n < 0 || (size_t)n > sizeof t->detail - 4)
    n = 0;
  redact_excerpt(text ? text : "", text ? len : 0, t->api_key, t->detail + n,
                 sizeof t->detail - (size_t)n);
}

static void transfer_fail(struct transfer *t, const char *public_msg,
                          const char *detail) {
  transfer_fail_text(t, public_msg, "", detail, strlen(detail));
}

static int deliver_text(struct transfer *t, const char *text, size_t len) {
  if (len > t->max_bytes - t->answer_bytes) {
    transfer_fail(t, "the answer was longer than this arena allows",
                  "answer over max_answer_bytes");
    return -1;
  }
  t->answer_bytes += len;
  if (len) {
    if (!t->first_text)
      t->first_text = mono_ms();
    t->chunks++;
    for (size_t i = 0; !t->has_text && i < len; i++)
      t->has_text = text[i] != ' ' && text[i] != '\t' && text[i] != '\r' &&
                    text[i] != '\n';
    t->cb.on_text(t->cb.cls, text, len);
  }
  return 0;
}

/* Reasoning is kept apart from the answer, and never fails a transfer:
 * past max_bytes it is dropped, whole pieces only (so what was passed on
 * stays valid UTF-8). */
static void deliver_reasoning(struct transfer *t, const char *text,
                              size_t len) {
  if (!len)
    return;
  if (!t->cb.on_reasoning || t->reasoning_full ||
      len > t->max_bytes - t->reasoning_bytes) {
    t->reasoning_full = t->cb.on_reasoning != NULL;
    t->reasoning_dropped += len;
    return;
  }
  t->reasoning_bytes += len;
  t->cb.on_reasoning(t->cb.cls, text, len);
}

/* The text, reasoning and tool calls of a chunk (streamed or not). */
static int deliver_chunk(struct transfer *t, const struct openai_delta *c) {
  if (c->reasoning)
    deliver_reasoning(t, c->reasoning, c->reasoning_len);
  if (c->tool_calls)
    t->tool_calls++;
  return c->text ? deliver_text(t, c->text, c->text_len) : 0;
}

/* One "data:" payload of the stream. */
static int on_sse_event(void *cls, const char *event, const char *data,
                        size_t len) {
  struct transfer *t = cls;
  (void)event;
  if (t->saw_done)
    return 0;
  struct openai_delta c;
  int rc = 0;
  openai_delta_parse(data, len, &c);
  switch (c.kind) {
  case DELTA_DONE:
    t->saw_done = 1;
    break;
  case DELTA_MALFORMED:
    transfer_fail(t, "the model sent a malformed answer stream", c.detail);
    rc = -1;
    break;
  case DELTA_ERROR:
    transfer_fail_text(t, "the model's service reported an error",
                       "error object in stream: ", c.message, c.message_len);
    rc = -1;
    break;
  case DELTA_DATA:
    rc = deliver_chunk(t, &c);
    if (c.finished)
      t->saw_finish = 1;
    break;
  }
  openai_delta_release(&c);
  return rc;
}

static void check_status(struct transfer *t) {
  if (t->checked_status)
    return;
  t->checked_status = 1;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->status);
  const char *ct = NULL;
  curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
  t->streaming = ct && !strncasecmp(ct, "text/event-stream", 17);
  buf_init(&t->raw, t->status >= 400 ? MAX_ERROR_BODY
                    : t->streaming   ? 0
                                     : MAX_JSON_BODY);
}

static size_t on_write(char *ptr, size_t size, size_t nmemb, void *cls) {
  struct transfer *t = cls;
  size_t n = size * nmemb;
  check_status(t);
  if (t->status >= 400 || !t->streaming) {
    /* keep what fits: an error body is only for the log */
    size_t room = t->raw.max - t->raw.len;
    if (buf_append(&t->raw, ptr, n < room ? n : room))
      return 0;
    if (t->status < 400 && n > room) {
      transfer_fail(t, "the answer was longer than this arena allows",
                    "non-streamed answer too large");
      return 0;
    }
    return n;
  }
  int rc = sse_parser_feed(&t->sse, ptr, n);
  if (rc == SSE_ERR_LINE_TOO_LONG)
    transfer_fail(t, "the answer was longer than this arena allows",
                  "stream line over limit");
  return rc ? 0 : n;
}

static int on_progress(void *cls, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow) {
  struct transfer *t = cls;
  if (t->cancel && atomic_load(t->cancel)) {
    transfer_fail(t, "the battle was abandoned", "cancelled");
    return 1;
  }
  return 0;
}

/* A server that ignored "stream": a whole chat.completion object. */
static void finish_non_streamed(struct transfer *t) {
  struct openai_delta c;
  openai_delta_parse_completion(t->raw.data ? t->raw.data : "", t->raw.len, &c);
  if (c.kind == DELTA_ERROR)
    transfer_fail(t, "the model's service reported an error", c.detail);
  else if (c.kind != DELTA_DATA)
    transfer_fail(t, "the model sent a malformed answer", c.detail);
  else
    deliver_chunk(t, &c);
  openai_delta_release(&c);
}

static void finish(struct transfer *t);

static void transfer_done(struct transfer *t, CURLcode res) {
  check_status(t);
  if (t->failed) {
    /* already explained */
  } else if (res == CURLE_OPERATION_TIMEDOUT) {
    transfer_fail(t, "the model did not finish its answer in time", t->errbuf);
  } else if (res == CURLE_COULDNT_CONNECT || res == CURLE_COULDNT_RESOLVE_HOST ||
             res == CURLE_SSL_CONNECT_ERROR || res == CURLE_COULDNT_RESOLVE_PROXY) {
    transfer_fail(t, "the model could not be reached", t->errbuf);
  } else if (t->status >= 400) {
    char pub[128], prefix[32];
    snprintf(pub, sizeof pub, "the model's service answered with HTTP %ld",
             t->status);
    snprintf(prefix, sizeof prefix, "HTTP %ld: ", t->status);
    transfer_fail_text(t, pub, prefix, t->raw.data, t->raw.len);
  } else if (res != CURLE_OK) {
    char d[512];
    snprintf(d, sizeof d, "%s: %s", curl_easy_strerror(res), t->errbuf);
    transfer_fail(t, "the answer stream broke off", d);
  } else if (!t->streaming) {
    finish_non_streamed(t);
  } else if (!t->saw_done && !t->saw_finish) {
    transfer_fail(t, "the answer stream broke off",
                  "stream ended without [DONE] or finish_reason");
  }
  if (!t->failed && !t->has_text) {
    /* Nothing to read or vote on: say what came instead (reasoning
     * models that spent max_tokens thinking, tool calls). */
    char d[160];
    snprintf(d, sizeof d,
             "no text in the answer: %zu answer bytes, %zu reasoning bytes, "
             "%zu chunks with tool calls",
             t->answer_bytes, t->reasoning_bytes + t->reasoning_dropped,
             t->tool_calls);
    transfer_fail(t, "the model returned no text", d);
  }
  finish(t);
}

/* Report a transfer's end to its owner and the log. */
static void finish(struct transfer *t) {
  struct upstream_stats st;
  int64_t now = mono_ms();
  st.duration = (double)(now - t->started) / 1000.0;
  st.ttft = t->first_text ? (double)(t->first_text - t->started) / 1000.0 : -1;
  st.chunks = t->chunks;
  st.bytes = t->answer_bytes;
  st.reasoning_bytes = t->reasoning_bytes;
  if (t->failed)
    log_warn("msg=\"upstream failed\" model=\"%s\" status=%ld ms=%.0f "
             "detail=\"%s\"",
             log_q(t->model_name), t->status, st.duration * 1000,
             log_q(t->detail));
  else
    log_info("msg=\"upstream\" model=\"%s\" status=%ld ttft_ms=%.0f ms=%.0f "
             "chunks=%zu bytes=%zu reasoning_bytes=%zu",
             log_q(t->model_name), t->status, st.ttft * 1000,
             st.duration * 1000, st.chunks, st.bytes,
             t->reasoning_bytes + t->reasoning_dropped);
  t->cb.on_finish(t->cb.cls, !t->failed, t->failed ? t->public_msg : NULL,
                  t->failed ? t->detail : NULL, &st);
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
    CURL *easy = msg->easy_handle;
    CURLcode res = msg->data.result;
    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    curl_multi_remove_handle(lp->multi, easy);
    unlink_running(lp, t);
    transfer_done(t, res);
    transfer_free(t);
    atomic_fetch_sub(&lp->active, 1);
  }
}

/* Abort the transfers whose battle gave up on them. The progress callback
 * does this too, but libcurl only calls it for transfers it is working
 * on; a stalled stream is found here, once a second. */
static void reap_cancelled(struct upstream_loop *lp) {
  struct transfer *t = lp->running;
  while (t) {
    struct transfer *next = t->next;
    if (t->cancel && atomic_load(t->cancel)) {
      curl_multi_remove_handle(lp->multi, t->easy);
      unlink_running(lp, t);
      transfer_fail(t, "the battle was abandoned", "cancelled");
      finish(t);
      transfer_free(t);
      atomic_fetch_sub(&lp->active, 1);
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
    if (curl_multi_add_handle(lp->multi, q->easy) == CURLM_OK) {
      link_running(lp, q);
    } else {
      transfer_fail(q, "the model could not be reached", "curl_multi_add_handle");
      finish(q);
      transfer_free(q);
      atomic_fetch_sub(&lp->active, 1);
    }
    q = next;
  }
  return stop;
}

#define MAX_EVENTS 256
#define CANCEL_SCAN_MS 1000

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
    unlink_running(lp, t);
    curl_multi_remove_handle(lp->multi, t->easy);
    transfer_fail(t, "the server is shutting down", "shutdown");
    finish(t);
    transfer_free(t);
    atomic_fetch_sub(&lp->active, 1);
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

struct upstream *upstream_new(unsigned loops) {
  struct upstream *up = calloc(1, sizeof *up);
  if (!up)
    return NULL;
  if (loops == 0)
    loops = 1;
  up->loops = calloc(loops, sizeof *up->loops);
  if (!up->loops) {
    free(up);
    return NULL;
  }
  atomic_init(&up->next, 0);
  for (; up->n_loops < loops; up->n_loops++) {
    if (loop_init(&up->loops[up->n_loops])) {
      upstream_free(up);
      return NULL;
    }
  }
  return up;
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

/* The JSON body of a streamed chat completion request. */
static char *request_body(const struct model_config *m,
                          const struct chat_message *msgs, size_t n) {
  json_t *root = json_object();
  json_t *arr = json_array();
  for (size_t i = 0; i < n; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s}", "role", msgs[i].role,
                                         "content", msgs[i].content));
  json_object_set_new(root, "model", json_string(m->upstream));
  json_object_set_new(root, "messages", arr);
  json_object_set_new(root, "stream", json_true());
  if (m->temperature >= 0)
    json_object_set_new(root, "temperature", json_real(m->temperature));
  if (m->max_tokens > 0)
    json_object_set_new(root, "max_tokens", json_integer(m->max_tokens));
  char *body = json_dumps(root, JSON_COMPACT);
  json_decref(root);
  return body;
}

/* The loop for requests that share `cancel`: the same one every time (the
 * two sides of a battle wake one thread, and their callbacks never run at
 * once), spread over the loops by a hash of the address. Requests without
 * one are handed out in turn. */
static struct upstream_loop *loop_for(struct upstream *up,
                                      const atomic_int *cancel) {
  if (!cancel)
    return &up->loops[atomic_fetch_add(&up->next, 1) % up->n_loops];
  uint64_t h = (uint64_t)(uintptr_t)cancel * 0x9E3779B97F4A7C15ull;
  return &up->loops[(h >> 32) % up->n_loops];
}

int upstream_chat(struct upstream *up, const struct model_config *m,
                  const struct chat_message *msgs, size_t n, size_t max_bytes,
                  atomic_int *cancel, const struct upstream_callbacks *cb) {
  struct transfer *t = calloc(1, sizeof *t);
  if (!t)
    return -1;
  t->cb = *cb;
  t->cancel = cancel;
  t->started = mono_ms();
  t->max_bytes = max_bytes;
  buf_init(&t->raw, 0);
  sse_parser_init(&t->sse, MAX_SSE_LINE, MAX_SSE_LINE, on_sse_event, t);
  t->model_name = strdup(m->name);
  t->api_key = m->api_key && m->api_key[0] ? strdup(m->api_key) : NULL;
  t->body = request_body(m, msgs, n);
  t->easy = curl_easy_init();
  if (!t->model_name || !t->body || !t->easy ||
      (m->api_key && m->api_key[0] && !t->api_key))
    goto fail;

  char url[AGON_MAX_BASE_URL + sizeof "/chat/completions"];
  if ((size_t)snprintf(url, sizeof url, "%s/chat/completions", m->base_url) >=
      sizeof url)
    goto fail;
  t->headers = curl_slist_append(NULL, "Content-Type: application/json");
  t->headers = curl_slist_append(t->headers, "Accept: text/event-stream");
  if (m->api_key) {
    struct buf auth;
    buf_init(&auth, 8192);
    if (buf_append_str(&auth, "Authorization: Bearer ") ||
        buf_append_str(&auth, m->api_key)) {
      buf_release(&auth);
      goto fail;
    }
    t->headers = curl_slist_append(t->headers, auth.data);
    memset(auth.data, 0, auth.len);
    buf_release(&auth);
  }
  if (!t->headers)
    goto fail;
  CURL *e = t->easy;
  curl_easy_setopt(e, CURLOPT_URL, url);
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(e, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, m->timeout_s * 1000L);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                   m->timeout_s * 1000L < 10000L ? m->timeout_s * 1000L : 10000L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_USERAGENT, "agon/" AGON_VERSION);
  curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);

  struct upstream_loop *lp = loop_for(up, cancel);
  pthread_mutex_lock(&lp->lock);
  if (lp->stop) {
    pthread_mutex_unlock(&lp->lock);
    goto fail;
  }
  atomic_fetch_add(&lp->active, 1);
  t->next = lp->pending;
  lp->pending = t;
  atomic_store(&lp->has_pending, 1);
  pthread_mutex_unlock(&lp->lock);
  loop_wake(lp);
  return 0;
fail:
  transfer_free(t);
  return -1;
}
