/* A fast fake OpenAI-compatible upstream for Agon's benchmarks.
 *
 *   fake_upstream [--port 0] [--threads 2] [--chunks 20] [--interval-ms 0]
 *                 [--text TEXT]
 *
 * Answers every POST .../chat/completions with a 200 text/event-stream:
 * the first content chunk at once (so its own time to first token is the
 * time to read the request), then --chunks - 1 more content chunks, one
 * every --interval-ms (all at once with 0), a finish_reason chunk and
 * `data: [DONE]`. The content chunks are the words of a fixed sentence
 * (the first one after the request's model name and ": ", so that two
 * models never answer alike: a vote on identical answers is refused), or
 * with --text each one TEXT (no quotes or backslashes: it is put in the
 * JSON as it is; a tagger's verdict, say). No thread per stream: between
 * chunks the connection is suspended and one timer thread resumes it when
 * the next chunk is due.
 *
 * For each request it records, on CLOCK_MONOTONIC (ns), when the request
 * had been read and when its first chunk was handed to libmicrohttpd,
 * with the tag "[bench:N]" found in the request body (-1 without one).
 * GET /stats returns those records, one per line: "tag t_request t_first";
 * POST /reset forgets them.
 *
 * POST .../completions (not chat; agon bench's GSM8K in likelihood mode)
 * gets one small completion object at once, " #### 7"; with --dump FILE
 * each such request's body is appended to FILE, one a line (the requests
 * bench/min_client replays).
 *
 * Prints "fake_upstream: listening on PORT" once it accepts connections. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

static int n_chunks = 20;
static int interval_ms = 0;
static const char *chunk_text; /* --text, or NULL: the words below */
static FILE *dump;             /* --dump: the completions' bodies */
static pthread_mutex_t dump_lock = PTHREAD_MUTEX_INITIALIZER;

static const char completion_json[] =
    "{\"id\":\"cmpl-1\",\"object\":\"text_completion\",\"model\":\"fake\","
    "\"choices\":[{\"index\":0,\"text\":\" #### 7\",\"logprobs\":null,"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":900,"
    "\"completion_tokens\":3,\"total_tokens\":903}}";

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- records ---- */

struct record {
  long tag;
  int64_t t_request, t_first;
};

static pthread_mutex_t rec_lock = PTHREAD_MUTEX_INITIALIZER;
static struct record *recs;
static size_t n_recs, cap_recs;

static void record_add(long tag, int64_t t_request, int64_t t_first) {
  pthread_mutex_lock(&rec_lock);
  if (n_recs == cap_recs) {
    size_t cap = cap_recs ? cap_recs * 2 : 4096;
    struct record *p = realloc(recs, cap * sizeof *p);
    if (!p) {
      pthread_mutex_unlock(&rec_lock);
      return;
    }
    recs = p;
    cap_recs = cap;
  }
  recs[n_recs++] = (struct record){tag, t_request, t_first};
  pthread_mutex_unlock(&rec_lock);
}

/* ---- streams ---- */

struct stream {
  struct stream *next; /* timer queue */
  struct MHD_Connection *conn;
  long tag;
  int64_t t_request;
  char model[32];     /* the request's "model", to start the answer with:
                         models answer differently (no two sides alike) */
  int sent;           /* content chunks produced */
  int finished;       /* finish chunk and [DONE] produced */
  int64_t due;        /* next chunk due (ns) */
  char out[4096];
  size_t out_len, out_pos;
};

/* The timer queue: every stream waits the same interval, so a FIFO is
 * ordered by due time. */
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond; /* on CLOCK_MONOTONIC, see main */
static struct stream *q_head, *q_tail;
static int q_stop;

static void *timer_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&q_lock);
  while (!q_stop) {
    if (!q_head) {
      pthread_cond_wait(&q_cond, &q_lock);
      continue;
    }
    int64_t now = mono_ns();
    if (q_head->due > now) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      int64_t wait = q_head->due - now;
      ts.tv_sec += wait / 1000000000;
      ts.tv_nsec += wait % 1000000000;
      if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
      }
      pthread_cond_timedwait(&q_cond, &q_lock, &ts);
      continue;
    }
    while (q_head && q_head->due <= now) {
      struct stream *s = q_head;
      q_head = s->next;
      if (!q_head)
        q_tail = NULL;
      s->next = NULL;
      MHD_resume_connection(s->conn);
    }
  }
  pthread_mutex_unlock(&q_lock);
  return NULL;
}

static const char *const words[] = {"The ", "quick ", "brown ", "fox ",
                                    "jumps ", "over ", "the ", "lazy ",
                                    "dog, ", "again ", "and ", "again. "};

static void produce_chunk(struct stream *s) {
  int n;
  if (s->sent < n_chunks) {
    n = snprintf(s->out + s->out_len, sizeof s->out - s->out_len,
                 "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion."
                 "chunk\",\"created\":1700000000,\"model\":\"bench\",\"choices\":"
                 "[{\"index\":0,\"delta\":{\"content\":\"%s%s%s\"},"
                 "\"finish_reason\":null}]}\n\n",
                 s->sent == 0 && !chunk_text ? s->model : "",
                 s->sent == 0 && !chunk_text && s->model[0] ? ": " : "",
                 chunk_text ? chunk_text
                            : words[s->sent % (int)(sizeof words /
                                                    sizeof *words)]);
    s->sent++;
  } else {
    n = snprintf(s->out + s->out_len, sizeof s->out - s->out_len,
                 "data: {\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion."
                 "chunk\",\"created\":1700000000,\"model\":\"bench\",\"choices\":"
                 "[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
                 "data: [DONE]\n\n");
    s->finished = 1;
  }
  s->out_len += (size_t)n;
}

static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  struct stream *s = cls;
  (void)pos;
  if (s->out_pos >= s->out_len) {
    s->out_len = s->out_pos = 0;
    if (s->finished)
      return MHD_CONTENT_READER_END_OF_STREAM;
    int64_t now = mono_ns();
    if (s->sent == 0 || interval_ms == 0 || now >= s->due) {
      if (s->sent == 0)
        record_add(s->tag, s->t_request, now);
      produce_chunk(s);
      /* with no interval, everything at once */
      while (interval_ms == 0 && !s->finished &&
             s->out_len + 400 < sizeof s->out)
        produce_chunk(s);
      s->due = now + (int64_t)interval_ms * 1000000;
    } else {
      /* not yet: sleep until the timer thread resumes us */
      pthread_mutex_lock(&q_lock);
      MHD_suspend_connection(s->conn);
      if (q_tail)
        q_tail->next = s;
      else
        q_head = s;
      q_tail = s;
      pthread_cond_signal(&q_cond);
      pthread_mutex_unlock(&q_lock);
      return 0;
    }
  }
  size_t n = s->out_len - s->out_pos;
  if (n > max)
    n = max;
  memcpy(buf, s->out + s->out_pos, n);
  s->out_pos += n;
  return (ssize_t)n;
}

static void stream_free(void *cls) { free(cls); }

/* ---- requests ---- */

struct req {
  char *body;
  size_t len, cap;
};

/* The value of the request's "model" into out (letters, digits, '-',
 * '_' and '.' only; "" when there is none). */
static void find_model(const char *body, size_t len, char out[32]) {
  static const char key[] = "\"model\":\"";
  out[0] = '\0';
  for (size_t i = 0; i + sizeof key - 1 < len; i++)
    if (!memcmp(body + i, key, sizeof key - 1)) {
      size_t j = i + sizeof key - 1, k = 0;
      while (j < len && k < 31 &&
             (isalnum((unsigned char)body[j]) || strchr("-_.", body[j])))
        out[k++] = body[j++];
      out[k] = '\0';
      return;
    }
}

static long find_tag(const char *body, size_t len) {
  static const char key[] = "[bench:";
  for (size_t i = 0; i + sizeof key - 1 < len; i++)
    if (!memcmp(body + i, key, sizeof key - 1))
      return strtol(body + i + sizeof key - 1, NULL, 10);
  return -1;
}

static enum MHD_Result reply_text(struct MHD_Connection *conn,
                                  unsigned status, char *text, size_t len,
                                  enum MHD_ResponseMemoryMode mode) {
  struct MHD_Response *r = MHD_create_response_from_buffer(len, text, mode);
  if (!r)
    return MHD_NO;
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain");
  enum MHD_Result res = MHD_queue_response(conn, status, r);
  MHD_destroy_response(r);
  return res;
}

static enum MHD_Result stats(struct MHD_Connection *conn) {
  pthread_mutex_lock(&rec_lock);
  size_t cap = n_recs * 64 + 1;
  char *out = malloc(cap);
  size_t len = 0;
  if (out)
    for (size_t i = 0; i < n_recs; i++)
      len += (size_t)snprintf(out + len, cap - len, "%ld %lld %lld\n",
                              recs[i].tag, (long long)recs[i].t_request,
                              (long long)recs[i].t_first);
  pthread_mutex_unlock(&rec_lock);
  if (!out)
    return MHD_NO;
  return reply_text(conn, MHD_HTTP_OK, out, len, MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **req_cls) {
  (void)cls;
  (void)version;
  struct req *rq = *req_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    *req_cls = rq;
    return MHD_YES;
  }
  if (*upload_size) {
    if (rq->len + *upload_size + 1 > rq->cap) {
      size_t cap = (rq->len + *upload_size + 1) * 2;
      char *p = realloc(rq->body, cap);
      if (!p)
        return MHD_NO;
      rq->body = p;
      rq->cap = cap;
    }
    memcpy(rq->body + rq->len, upload, *upload_size);
    rq->len += *upload_size;
    *upload_size = 0;
    return MHD_YES;
  }
  if (!strcmp(method, "GET") && !strcmp(url, "/stats"))
    return stats(conn);
  if (!strcmp(method, "POST") && !strcmp(url, "/reset")) {
    pthread_mutex_lock(&rec_lock);
    n_recs = 0;
    pthread_mutex_unlock(&rec_lock);
    return reply_text(conn, MHD_HTTP_OK, "ok\n", 3, MHD_RESPMEM_PERSISTENT);
  }
  size_t ul = strlen(url);
  if (!strcmp(method, "POST") && ul >= 12 && !strcmp(url + ul - 12, "/completions") &&
      (ul < 17 || strcmp(url + ul - 17, "/chat/completions"))) {
    if (dump && rq->body) {
      pthread_mutex_lock(&dump_lock);
      fwrite(rq->body, 1, rq->len, dump);
      fputc('\n', dump);
      fflush(dump);
      pthread_mutex_unlock(&dump_lock);
    }
    struct MHD_Response *cr = MHD_create_response_from_buffer(
        sizeof completion_json - 1, (void *)completion_json,
        MHD_RESPMEM_PERSISTENT);
    if (!cr)
      return MHD_NO;
    MHD_add_response_header(cr, MHD_HTTP_HEADER_CONTENT_TYPE,
                            "application/json");
    enum MHD_Result cres = MHD_queue_response(conn, MHD_HTTP_OK, cr);
    MHD_destroy_response(cr);
    return cres;
  }
  if (strcmp(method, "POST") || ul < 17 ||
      strcmp(url + ul - 17, "/chat/completions"))
    return reply_text(conn, MHD_HTTP_NOT_FOUND, "not found\n", 10,
                      MHD_RESPMEM_PERSISTENT);
  struct stream *s = calloc(1, sizeof *s);
  if (!s)
    return MHD_NO;
  s->conn = conn;
  s->t_request = mono_ns();
  s->tag = find_tag(rq->body ? rq->body : "", rq->len);
  find_model(rq->body ? rq->body : "", rq->len, s->model);
  struct MHD_Response *r =
      MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, stream_read, s,
                                        stream_free);
  if (!r) {
    free(s);
    return MHD_NO;
  }
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                          "text/event-stream");
  MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
  enum MHD_Result res = MHD_queue_response(conn, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return res;
}

static void completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                      enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  struct req *rq = *req_cls;
  if (rq) {
    free(rq->body);
    free(rq);
  }
  *req_cls = NULL;
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"port", required_argument, NULL, 'p'},
      {"threads", required_argument, NULL, 't'},
      {"chunks", required_argument, NULL, 'n'},
      {"interval-ms", required_argument, NULL, 'i'},
      {"text", required_argument, NULL, 'x'},
      {"dump", required_argument, NULL, 'd'},
      {NULL, 0, NULL, 0}};
  unsigned port = 0, threads = 2;
  int c;
  while ((c = getopt_long(argc, argv, "p:t:n:i:x:d:", opts, NULL)) != -1) {
    switch (c) {
    case 'p': port = (unsigned)atoi(optarg); break;
    case 't': threads = (unsigned)atoi(optarg); break;
    case 'n': n_chunks = atoi(optarg); break;
    case 'i': interval_ms = atoi(optarg); break;
    case 'x':
      if (strlen(optarg) > 200 || strpbrk(optarg, "\"\\")) {
        fprintf(stderr, "fake_upstream: --text: at most 200 bytes, without "
                        "quotes or backslashes\n");
        return 2;
      }
      chunk_text = optarg;
      break;
    case 'd':
      dump = fopen(optarg, "a");
      if (!dump) {
        fprintf(stderr, "fake_upstream: cannot open '%s'\n", optarg);
        return 2;
      }
      break;
    default:
      fprintf(stderr, "usage: fake_upstream [--port P] [--threads T] "
                      "[--chunks N] [--interval-ms MS] [--text TEXT] "
                      "[--dump FILE]\n");
      return 2;
    }
  }
  if (n_chunks < 1)
    n_chunks = 1;
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);
  pthread_condattr_t ca;
  pthread_condattr_init(&ca);
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  pthread_cond_init(&q_cond, &ca);
  pthread_t timer;
  pthread_create(&timer, NULL, timer_main, NULL);
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME |
          MHD_USE_ERROR_LOG,
      (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_NOTIFY_COMPLETED,
      completed, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads,
      MHD_OPTION_CONNECTION_LIMIT, 30000u, MHD_OPTION_CONNECTION_TIMEOUT, 120u,
      MHD_OPTION_LISTEN_BACKLOG_SIZE, 4096u, MHD_OPTION_END);
  if (!d) {
    fprintf(stderr, "fake_upstream: cannot listen: %s\n", strerror(errno));
    return 1;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  printf("fake_upstream: listening on %u\n", info->port);
  fflush(stdout);
  int sig;
  sigwait(&sigs, &sig);
  /* a benchmark tool: no orderly shutdown of suspended streams */
  (void)d;
  (void)q_stop;
  fflush(stdout);
  _exit(0);
}
