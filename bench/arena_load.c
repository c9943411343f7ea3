/* Load driver for Agon's operations benchmarks: one thread, epoll, plain
 * non-blocking sockets and a small HTTP/1.1 client (Content-Length and
 * chunked bodies, keep-alive), so that the driver costs little next to
 * what it measures.
 *
 *   arena_load battles --port P [-n 1000] [-c 1000] [--out FILE] [--timeout 120]
 *       Starts n battles, c at a time (c = n: all at once), each on its own
 *       connection: POST /api/battles {"prompt": "... [bench:I] ..."}, then
 *       GET /api/battles/ID/events on the same connection, read to `end`.
 *       --rate R: start them R per second instead of all at once.
 *       A battle is an error unless it got 201, at least one delta per side,
 *       no error event and an end with status ready.
 *   arena_load direct --port P [-n 2000] [-c 2000] [--out FILE]
 *       The same client straight against the fake upstream: n streamed
 *       POST /v1/chat/completions, read to [DONE].
 *   arena_load get --port P [--path /healthz] [-n 1000] [-c 1000]
 *       n GET requests, each on a new connection (a baseline for bursts).
 *   arena_load votes --port P --battles FILE [-c 32] [-n N]
 *       POST /api/battles/ID/vote {"winner": "a"|"b"|"tie"} for the battles
 *       listed in FILE (the --out of `battles`), each with its own session
 *       cookie, over c keep-alive connections, each sending its next vote
 *       once the last one is answered. --duration S: start no vote after S
 *       seconds (those in flight are answered; n and votes/s count only the
 *       votes started), so that a vote run covers a fixed window.
 *
 * Times are CLOCK_MONOTONIC nanoseconds, comparable with fake_upstream's.
 * --out writes one line per battle or stream:
 *   battles: "tag ok id cookie t_post t_created t_first t_end"
 *   direct:  "tag ok - - t_post 0 t_first t_end"
 * Every mode ends with one summary line "arena_load MODE key=value ...". */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum mode { BATTLES, DIRECT, VOTES, GET };
enum phase { P_IDLE, P_CONNECTING, P_CREATE, P_EVENTS, P_STREAM, P_VOTE };
enum body_state { B_HEAD, B_CHUNK_SIZE, B_CHUNK_DATA, B_CHUNK_CRLF,
                  B_CHUNK_TRAILER, B_LENGTH, B_EOF, B_DONE };

struct item {            /* one battle or direct stream or vote */
  char id[72];
  char cookie[80];
  int ok;
  int got_delta[2];
  int bad;               /* error event, bad status... */
  int64_t t_post, t_created, t_first, t_end;
};

struct conn {
  int fd;
  enum phase phase;
  long item;             /* index into items, -1 when none */
  char out[2048];
  size_t out_len, out_pos;
  /* response */
  char *in;
  size_t in_len, in_cap;
  enum body_state bs;
  int status;
  int chunked;
  long long remaining;   /* content-length left, or chunk bytes left */
  int keep_alive;
  char cookie[80];
  /* body accumulated (small bodies), and the SSE line buffer */
  char body[4096];
  size_t body_len;
  char line[65536];
  size_t line_len;
  char event[32];
  int64_t t_sent;
};

static enum mode mode;
static const char *get_path = "/healthz";
static struct sockaddr_in addr;
static int ep;
static struct item *items;
static long n_items, next_item, done_items;
static long errors_connect;
static int64_t *vote_lat;
static long n_vote_lat;
static int64_t stop_at;  /* --duration: start nothing after this */

static void die(const char *m) {
  perror(m);
  exit(1);
}

static void conn_arm(struct conn *c, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e))
    die("epoll_ctl mod");
}

static void conn_open(struct conn *c) {
  c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->fd < 0)
    die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr) &&
      errno != EINPROGRESS)
    die("connect");
  c->phase = P_CONNECTING;
  c->in_len = 0;
  c->bs = B_HEAD;
  struct epoll_event e = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &e))
    die("epoll_ctl add");
}

static void conn_close(struct conn *c) {
  if (c->fd >= 0) {
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
  }
  c->fd = -1;
  c->phase = P_IDLE;
}

static void reset_response(struct conn *c) {
  c->bs = B_HEAD;
  c->status = 0;
  c->chunked = 0;
  c->remaining = -1;
  c->keep_alive = 1;
  c->body_len = 0;
  c->line_len = 0;
  c->event[0] = '\0';
  c->cookie[0] = '\0';
}

static int request(struct conn *c, const char *method, const char *path,
                   const char *cookie, const char *body) {
  size_t bl = body ? strlen(body) : 0;
  int n = snprintf(c->out, sizeof c->out,
                   "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "%s%s%s"
                   "%s"
                   "Content-Length: %zu\r\n\r\n%s",
                   method, path, cookie && *cookie ? "Cookie: agon_session=" : "",
                   cookie && *cookie ? cookie : "",
                   cookie && *cookie ? "\r\n" : "",
                   body ? "Content-Type: application/json\r\n" : "", bl,
                   body ? body : "");
  if (n < 0 || (size_t)n >= sizeof c->out)
    return -1;
  c->out_len = (size_t)n;
  c->out_pos = 0;
  reset_response(c);
  c->t_sent = mono_ns();
  ssize_t w = write(c->fd, c->out, c->out_len);
  if (w > 0)
    c->out_pos = (size_t)w;
  conn_arm(c, c->out_pos < c->out_len ? EPOLLOUT : EPOLLIN);
  return 0;
}

static void start_item(struct conn *c);

static void item_finished(struct conn *c, int ok) {
  struct item *it = &items[c->item];
  it->ok = ok && !it->bad;
  it->t_end = mono_ns();
  done_items++;
  c->item = -1;
}

/* ---- what each mode does with a response ---- */

static void sse_event(struct conn *c, const char *data) {
  struct item *it = &items[c->item];
  if (mode == DIRECT) {
    if (!strcmp(data, "[DONE]")) {
      it->got_delta[1] = 1;
      return;
    }
    if (strstr(data, "\"content\"") && !it->t_first)
      it->t_first = mono_ns();
    if (strstr(data, "\"content\""))
      it->got_delta[0] = 1;
    return;
  }
  if (!strcmp(c->event, "delta")) {
    if (!it->t_first)
      it->t_first = mono_ns();
    it->got_delta[strstr(data, "\"side\":\"b\"") ? 1 : 0] = 1;
  } else if (!strcmp(c->event, "error")) {
    it->bad = 1;
  } else if (!strcmp(c->event, "end")) {
    if (!strstr(data, "\"status\":\"ready\""))
      it->bad = 1;
  }
}

static void sse_feed(struct conn *c, const char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    char ch = p[i];
    if (ch == '\r')
      continue;
    if (ch != '\n') {
      if (c->line_len < sizeof c->line - 1)
        c->line[c->line_len++] = ch;
      continue;
    }
    c->line[c->line_len] = '\0';
    if (!strncmp(c->line, "event: ", 7))
      snprintf(c->event, sizeof c->event, "%s", c->line + 7);
    else if (!strncmp(c->line, "data: ", 6))
      sse_event(c, c->line + 6);
    else if (c->line_len == 0)
      c->event[0] = '\0';
    c->line_len = 0;
  }
}

static void on_body(struct conn *c, const char *p, size_t n) {
  if (c->phase == P_STREAM || c->phase == P_EVENTS) {
    if (c->status == 200)
      sse_feed(c, p, n);
    return;
  }
  size_t room = sizeof c->body - 1 - c->body_len;
  if (n > room)
    n = room;
  memcpy(c->body + c->body_len, p, n);
  c->body_len += n;
  c->body[c->body_len] = '\0';
}

/* The response is complete. */
static void on_response(struct conn *c) {
  struct item *it = &items[c->item];
  if (c->phase == P_CREATE) {
    it->t_created = mono_ns();
    const char *id = strstr(c->body, "\"id\":\"");
    if (c->status != 201 || !id || !c->cookie[0]) {
      fprintf(stderr, "arena_load: create: HTTP %d %.200s\n", c->status,
              c->body);
      item_finished(c, 0);
      conn_close(c);
      start_item(c);
      return;
    }
    id += 6;
    size_t l = strcspn(id, "\"");
    if (l >= sizeof it->id)
      l = sizeof it->id - 1;
    memcpy(it->id, id, l);
    it->id[l] = '\0';
    snprintf(it->cookie, sizeof it->cookie, "%s", c->cookie);
    char path[160];
    snprintf(path, sizeof path, "/api/battles/%s/events", it->id);
    c->phase = P_EVENTS;
    if (!c->keep_alive) {
      conn_close(c);
      conn_open(c);
      c->phase = P_CONNECTING;
      return; /* connected: sends the events request (see on_writable) */
    }
    request(c, "GET", path, it->cookie, NULL);
    return;
  }
  if (c->phase == P_EVENTS || c->phase == P_STREAM) {
    int ok = c->status == 200 && it->got_delta[0] && it->got_delta[1];
    if (!ok)
      fprintf(stderr, "arena_load: stream %ld: HTTP %d, delta a %d b %d, "
                      "bad %d\n",
              c->item, c->status, it->got_delta[0], it->got_delta[1], it->bad);
    item_finished(c, ok);
    conn_close(c);
    start_item(c);
    return;
  }
  if (c->phase == P_VOTE) {
    int64_t now = mono_ns();
    vote_lat[n_vote_lat++] = now - c->t_sent;
    if (c->status != 200)
      fprintf(stderr, "arena_load: vote: HTTP %d %.200s\n", c->status,
              c->body);
    if (mode == GET)
      items[c->item].t_first = now;
    item_finished(c, c->status == 200);
    if (mode == GET) {
      conn_close(c);
      start_item(c);
      return;
    }
    if (!c->keep_alive)
      conn_close(c);
    start_item(c);
  }
}

static void send_item(struct conn *c);

static int paced;        /* --rate: only the schedule starts items */
static int scheduling;

static void start_item(struct conn *c) {
  if (paced && !scheduling)
    return;
  if (stop_at && next_item < n_items && mono_ns() >= stop_at)
    n_items = next_item; /* the window is over: only those started count */
  if (next_item >= n_items) {
    if (c->fd >= 0 && mode == VOTES)
      conn_close(c);
    return;
  }
  c->item = next_item++;
  send_item(c);
}

/* --multilingual: a plain and a coding prompt in each of 8 languages. */
static int multilingual;
static const char *const ml_prompts[8][2] = {
    {"Tell me something interesting about foxes and where they live.",
     "Write a Python function that sorts a list of numbers."},
    {"오늘 저녁에 먹을 만한 간단한 한국 요리를 추천해 주세요.",
     "파이썬으로 리스트를 정렬하는 함수를 작성해 주세요. 코드와 함께 설명해 주세요."},
    {"週末に京都を観光するなら、どのお寺を訪れるのがおすすめですか？",
     "Pythonで辞書をキーの順に並べ替える関数を書いて、コードを説明してください。"},
    {"北京和上海的冬天气候有什么不同？去旅游应该带什么衣服？",
     "请用Python写一个函数，计算列表中所有偶数的和，并解释代码。"},
    {"¿Cuáles son los mejores lugares para visitar en Andalucía en primavera?",
     "Escribe una función en Python que cuente las palabras de un texto."},
    {"Kannst du mir erklären, wie eine Wärmepumpe im Winter das Haus heizt?",
     "Schreibe eine Funktion in Python, die prüft, ob eine Zahl eine Primzahl ist."},
    {"Quels sont les plats traditionnels qu'il faut goûter en Provence ?",
     "Écris une fonction en Python qui trie une liste de nombres et explique le code."},
    {"Какие достопримечательности стоит посетить в Санкт-Петербурге летом?",
     "Напиши, пожалуйста, функцию на языке Python, которая находит самый "
     "большой элемент в списке чисел, и объясни, как работает этот код."}};

/* Send the first request of c's item, connecting first when needed. */
static void send_item(struct conn *c) {
  struct item *it = &items[c->item];
  if (c->fd < 0) {
    conn_open(c);
    return; /* on_writable sends once connected */
  }
  char body[512];
  switch (mode) {
  case BATTLES:
    c->phase = P_CREATE;
    if (multilingual)
      /* prompts in 8 languages, every fourth about code: ~20 slices */
      snprintf(body, sizeof body, "{\"prompt\": \"%s [bench:%ld]\"}",
               ml_prompts[c->item % 8][(c->item / 8) % 4 == 0], c->item);
    else
      snprintf(body, sizeof body,
               "{\"prompt\": \"Benchmark prompt [bench:%ld]: say something "
               "about foxes.\"}",
               c->item);
    it->t_post = mono_ns();
    request(c, "POST", "/api/battles", NULL, body);
    break;
  case DIRECT:
    c->phase = P_STREAM;
    snprintf(body, sizeof body,
             "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\","
             "\"content\":\"Benchmark prompt [bench:%ld]: say something "
             "about foxes.\"}],\"stream\":true}",
             c->item);
    it->t_post = mono_ns();
    request(c, "POST", "/v1/chat/completions", NULL, body);
    break;
  case GET:
    c->phase = P_VOTE;
    it->t_post = mono_ns();
    request(c, "GET", get_path, NULL, NULL);
    break;
  case VOTES: {
    static const char *const w[] = {"a", "b", "tie"};
    c->phase = P_VOTE;
    char path[160];
    snprintf(path, sizeof path, "/api/battles/%s/vote", it->id);
    snprintf(body, sizeof body, "{\"winner\": \"%s\"}", w[c->item % 3]);
    it->t_post = mono_ns();
    request(c, "POST", path, it->cookie, body);
    break;
  }
  }
}

static void on_writable(struct conn *c) {
  if (c->phase == P_CONNECTING) {
    int err = 0;
    socklen_t l = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      fprintf(stderr, "arena_load: connect: %s\n", strerror(err));
      errors_connect++;
      if (c->item >= 0)
        item_finished(c, 0);
      conn_close(c);
      start_item(c);
      return;
    }
    if (c->item < 0)
      return;
    if (mode == BATTLES && items[c->item].id[0]) {
      /* reconnected for the events request */
      char path[160];
      snprintf(path, sizeof path, "/api/battles/%s/events", items[c->item].id);
      c->phase = P_EVENTS;
      request(c, "GET", path, items[c->item].cookie, NULL);
      return;
    }
    send_item(c);
    return;
  }
  ssize_t w = write(c->fd, c->out + c->out_pos, c->out_len - c->out_pos);
  if (w < 0) {
    if (errno == EAGAIN)
      return;
    fprintf(stderr, "arena_load: write: %s\n", strerror(errno));
    if (c->item >= 0)
      item_finished(c, 0);
    conn_close(c);
    start_item(c);
    return;
  }
  c->out_pos += (size_t)w;
  if (c->out_pos == c->out_len)
    conn_arm(c, EPOLLIN);
}

static void parse_head(struct conn *c, char *head) {
  c->status = atoi(head + 9);
  int http10 = !strncmp(head, "HTTP/1.0", 8);
  c->keep_alive = !http10;
  for (char *line = strstr(head, "\r\n"); line; line = strstr(line, "\r\n")) {
    line += 2;
    char *eol = strstr(line, "\r\n");
    char save = 0;
    if (eol) {
      save = *eol;
      *eol = '\0';
    }
    if (!strncasecmp(line, "Content-Length:", 15))
      c->remaining = atoll(line + 15);
    else if (!strncasecmp(line, "Transfer-Encoding:", 18) &&
             strstr(line, "chunked"))
      c->chunked = 1;
    else if (!strncasecmp(line, "Connection:", 11)) {
      char *v = line + 11;
      while (*v == ' ')
        v++;
      if (!strncasecmp(v, "close", 5))
        c->keep_alive = 0;
    } else if (!strncasecmp(line, "Set-Cookie:", 11)) {
      char *v = strstr(line, "agon_session=");
      if (v) {
        v += 13;
        size_t l = strcspn(v, ";\r");
        if (l >= sizeof c->cookie)
          l = sizeof c->cookie - 1;
        memcpy(c->cookie, v, l);
        c->cookie[l] = '\0';
      }
    }
    if (eol)
      *eol = save;
    else
      break;
  }
  if (c->chunked)
    c->bs = B_CHUNK_SIZE;
  else if (c->remaining >= 0)
    c->bs = c->remaining ? B_LENGTH : B_DONE;
  else
    c->bs = B_EOF;
}

/* Consume what is buffered; returns 1 when the response is complete. */
static int consume(struct conn *c) {
  size_t pos = 0;
  int complete = 0;
  while (pos < c->in_len && !complete) {
    char *p = c->in + pos;
    size_t avail = c->in_len - pos;
    switch (c->bs) {
    case B_HEAD: {
      char *end = memmem(p, avail, "\r\n\r\n", 4);
      if (!end)
        goto need_more;
      *end = '\0';
      parse_head(c, p);
      pos += (size_t)(end - p) + 4;
      if (c->bs == B_DONE)
        complete = 1;
      break;
    }
    case B_CHUNK_SIZE:
    case B_CHUNK_TRAILER:
    case B_CHUNK_CRLF: {
      char *nl = memmem(p, avail, "\r\n", 2);
      if (!nl)
        goto need_more;
      size_t l = (size_t)(nl - p);
      pos += l + 2;
      if (c->bs == B_CHUNK_CRLF) {
        c->bs = B_CHUNK_SIZE;
      } else if (c->bs == B_CHUNK_TRAILER) {
        if (l == 0)
          complete = 1;
      } else {
        c->remaining = strtoll(p, NULL, 16);
        c->bs = c->remaining ? B_CHUNK_DATA : B_CHUNK_TRAILER;
      }
      break;
    }
    case B_CHUNK_DATA:
    case B_LENGTH: {
      size_t n = avail < (size_t)c->remaining ? avail : (size_t)c->remaining;
      on_body(c, p, n);
      pos += n;
      c->remaining -= (long long)n;
      if (!c->remaining) {
        if (c->bs == B_LENGTH)
          complete = 1;
        else
          c->bs = B_CHUNK_CRLF;
      }
      break;
    }
    case B_EOF:
      on_body(c, p, avail);
      pos += avail;
      break;
    case B_DONE:
      complete = 1;
      break;
    }
  }
need_more:
  memmove(c->in, c->in + pos, c->in_len - pos);
  c->in_len -= pos;
  return complete;
}

static void on_readable(struct conn *c) {
  for (;;) {
    if (c->in_cap - c->in_len < 16384) {
      size_t cap = c->in_cap ? c->in_cap * 2 : 32768;
      c->in = realloc(c->in, cap);
      if (!c->in)
        die("realloc");
      c->in_cap = cap;
    }
    ssize_t r = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len);
    if (r < 0) {
      if (errno == EAGAIN)
        return;
      r = 0;
    }
    if (r == 0) {
      /* closed: the end of an until-EOF body, or an error */
      int complete = c->bs == B_EOF && c->item >= 0;
      if (c->item >= 0) {
        if (complete) {
          on_response(c);
        } else {
          fprintf(stderr, "arena_load: connection closed mid-response "
                          "(item %ld, phase %d)\n", c->item, c->phase);
          item_finished(c, 0);
          conn_close(c);
          start_item(c);
        }
      } else {
        conn_close(c);
      }
      return;
    }
    c->in_len += (size_t)r;
    while (c->item >= 0 && c->in_len && consume(c)) {
      on_response(c);
      if (c->fd < 0 || c->item < 0)
        return;
    }
  }
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return x < y ? -1 : x > y;
}

static double pct(int64_t *v, long n, double p) {
  if (n <= 0)
    return -1;
  long i = (long)(p * (double)n);
  if (i >= n)
    i = n - 1;
  return (double)v[i] / 1e6;
}

static long load_battles(const char *path, long max) {
  FILE *f = fopen(path, "r");
  if (!f)
    die(path);
  long cap = 1024, n = 0;
  items = calloc((size_t)cap, sizeof *items);
  char line[512];
  while (fgets(line, sizeof line, f) && (max <= 0 || n < max)) {
    long tag;
    int ok;
    char id[72], cookie[80];
    if (sscanf(line, "%ld %d %71s %79s", &tag, &ok, id, cookie) != 4 || !ok)
      continue;
    if (n == cap) {
      cap *= 2;
      items = realloc(items, (size_t)cap * sizeof *items);
    }
    memset(&items[n], 0, sizeof items[n]);
    snprintf(items[n].id, sizeof items[n].id, "%s", id);
    snprintf(items[n].cookie, sizeof items[n].cookie, "%s", cookie);
    n++;
  }
  fclose(f);
  return n;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: arena_load battles|direct|votes --port P ...\n");
    return 2;
  }
  if (!strcmp(argv[1], "battles"))
    mode = BATTLES;
  else if (!strcmp(argv[1], "direct"))
    mode = DIRECT;
  else if (!strcmp(argv[1], "votes"))
    mode = VOTES;
  else if (!strcmp(argv[1], "get"))
    mode = GET;
  else {
    fprintf(stderr, "arena_load: unknown mode %s\n", argv[1]);
    return 2;
  }
  static const struct option opts[] = {
      {"port", required_argument, NULL, 'p'},
      {"out", required_argument, NULL, 'o'},
      {"battles", required_argument, NULL, 'b'},
      {"timeout", required_argument, NULL, 't'},
      {"path", required_argument, NULL, 'P'},
      {"rate", required_argument, NULL, 'r'},
      {"duration", required_argument, NULL, 'D'},
      {"multilingual", no_argument, NULL, 'M'},
      {NULL, 0, NULL, 0}};
  int port = 0, c;
  long n = mode == DIRECT ? 2000 : mode == VOTES ? 0 : 1000, conc = -1;
  double timeout = 120, rate = 0, duration = 0;
  const char *out = NULL, *battles = NULL;
  optind = 2;
  while ((c = getopt_long(argc, argv, "p:n:c:o:b:t:P:r:D:M", opts, NULL)) !=
         -1) {
    switch (c) {
    case 'p': port = atoi(optarg); break;
    case 'n': n = atol(optarg); break;
    case 'c': conc = atol(optarg); break;
    case 'o': out = optarg; break;
    case 'b': battles = optarg; break;
    case 't': timeout = atof(optarg); break;
    case 'P': get_path = optarg; break;
    case 'r': rate = atof(optarg); break;
    case 'D': duration = atof(optarg); break;
    case 'M': multilingual = 1; break;
    default: return 2;
    }
  }
  if (!port || (mode == VOTES && !battles)) {
    fprintf(stderr, "arena_load: --port (and for votes --battles) needed\n");
    return 2;
  }
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (mode == VOTES) {
    n_items = load_battles(battles, n);
    if (conc < 0)
      conc = 32;
    vote_lat = calloc((size_t)n_items + 1, sizeof *vote_lat);
  } else {
    n_items = n;
    items = calloc((size_t)n, sizeof *items);
    vote_lat = calloc((size_t)n + 1, sizeof *vote_lat);
    if (conc < 0)
      conc = n;
  }
  if (conc > n_items)
    conc = n_items;
  if (rate > 0) {
    conc = n_items; /* one connection per item, started on schedule */
    paced = 1;
  }
  ep = epoll_create1(EPOLL_CLOEXEC);
  struct conn *conns = calloc((size_t)conc, sizeof *conns);
  int64_t t0 = mono_ns();
  if (duration > 0 && mode == VOTES)
    stop_at = t0 + (int64_t)(duration * 1e9);
  for (long i = 0; i < conc; i++) {
    conns[i].fd = -1;
    conns[i].item = -1;
    if (rate <= 0)
      start_item(&conns[i]);
  }
  struct epoll_event evs[256];
  int64_t deadline = t0 + (int64_t)(timeout * 1e9);
  long started = 0; /* with --rate: items started on schedule */
  while (done_items < n_items) {
    int wait_ms = 1000;
    if (rate > 0 && started < conc) {
      /* item i is due at t0 + i / rate, on connection i */
      int64_t now = mono_ns();
      while (started < conc &&
             now >= t0 + (int64_t)((double)started * 1e9 / rate))
      {
        scheduling = 1;
        start_item(&conns[started++]);
        scheduling = 0;
      }
      if (started < conc) {
        int64_t due = t0 + (int64_t)((double)started * 1e9 / rate);
        wait_ms = (int)((due - now) / 1000000);
      }
    }
    int k = epoll_wait(ep, evs, 256, wait_ms);
    if (k < 0 && errno != EINTR)
      die("epoll_wait");
    for (int i = 0; i < k; i++) {
      struct conn *cn = evs[i].data.ptr;
      if (cn->fd < 0)
        continue;
      if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        if (cn->phase == P_CONNECTING)
          on_writable(cn);
        else
          on_readable(cn);
      } else if (evs[i].events & EPOLLOUT) {
        on_writable(cn);
      }
    }
    if (mono_ns() > deadline) {
      fprintf(stderr, "arena_load: timeout after %.0f s: %ld of %ld done\n",
              timeout, done_items, n_items);
      break;
    }
  }
  int64_t t1 = mono_ns();
  double secs = (double)(t1 - t0) / 1e9;
  long ok = 0;
  for (long i = 0; i < n_items; i++)
    ok += items[i].ok;
  long errors = n_items - ok;

  if (out) {
    FILE *f = fopen(out, "w");
    if (!f)
      die(out);
    for (long i = 0; i < n_items; i++)
      fprintf(f, "%ld %d %s %s %lld %lld %lld %lld\n", i, items[i].ok,
              items[i].id[0] ? items[i].id : "-",
              items[i].cookie[0] ? items[i].cookie : "-",
              (long long)items[i].t_post, (long long)items[i].t_created,
              (long long)items[i].t_first, (long long)items[i].t_end);
    fclose(f);
  }
  if (mode == VOTES || mode == GET) {
    qsort(vote_lat, (size_t)n_vote_lat, sizeof *vote_lat, cmp_i64);
    printf("arena_load %s n=%ld ok=%ld errors=%ld seconds=%.3f "
           "%s=%.1f p50_ms=%.3f p99_ms=%.3f concurrency=%ld\n",
           mode == GET ? "get" : "votes", n_items, ok, errors, secs,
           mode == GET ? "requests_per_s" : "votes_per_s", (double)ok / secs,
           pct(vote_lat, n_vote_lat, 0.5), pct(vote_lat, n_vote_lat, 0.99),
           conc);
    return errors ? 1 : 0;
  }
  int64_t *ttft = calloc((size_t)n_items + 1, sizeof *ttft);
  long nt = 0;
  for (long i = 0; i < n_items; i++)
    if (items[i].ok && items[i].t_first)
      ttft[nt++] = items[i].t_first - items[i].t_post;
  qsort(ttft, (size_t)nt, sizeof *ttft, cmp_i64);
  printf("arena_load %s n=%ld ok=%ld errors=%ld seconds=%.3f "
         "ttft_p50_ms=%.3f ttft_p90_ms=%.3f ttft_p99_ms=%.3f ttft_max_ms=%.3f "
         "concurrency=%ld\n",
         mode == BATTLES ? "battles" : "direct", n_items, ok, errors, secs,
         pct(ttft, nt, 0.5), pct(ttft, nt, 0.9), pct(ttft, nt, 0.99),
         nt ? (double)ttft[nt - 1] / 1e6 : -1, conc);
  return errors ? 1 : 0;
}
