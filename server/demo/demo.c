#include "demo/demo.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/hash.h"
#include "util/clock.h"

/* The demo models, best first: quality falls, so votes move the board. */
static const struct demo_model {
  const char *name;
  int tokens_per_second;
} demo_models[] = {
    {"demo-sage", 32},
    {"demo-scholar", 45},
    {"demo-rambler", 50},
    {"demo-parrot", 22},
};
#define N_DEMO (sizeof demo_models / sizeof demo_models[0])

struct demo_server {
  struct MHD_Daemon *daemon;
};

/* ---- deterministic text ---- */

struct rng {
  uint64_t s;
};

static uint64_t rng_next(struct rng *r) {
  r->s ^= r->s << 13;
  r->s ^= r->s >> 7;
  r->s ^= r->s << 17;
  return r->s;
}

static const char *pick(struct rng *r, const char *const *list, size_t n) {
  return list[rng_next(r) % n];
}

#define PICK(r, list) pick(r, list, sizeof list / sizeof list[0])

/* Up to max distinct words of 4+ letters from the prompt, lowercased. */
static size_t keywords(const char *prompt, char words[][24], size_t max) {
  size_t n = 0;
  const char *p = prompt;
  while (*p && n < max) {
    while (*p && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
      p++;
    char w[24];
    size_t len = 0;
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) {
      if (len < sizeof w - 1)
        w[len++] = (char)(*p | 0x20);
      p++;
    }
    w[len] = '\0';
    static const char *const stop[] = {"what", "that", "this", "with", "about",
                                       "there", "their", "would", "could",
                                       "should", "have", "your", "from",
                                       "does", "explain", "tell", "please",
                                       "which", "when", "where", "into"};
    int skip = len < 4;
    for (size_t i = 0; !skip && i < sizeof stop / sizeof stop[0]; i++)
      skip = !strcmp(w, stop[i]);
    for (size_t i = 0; !skip && i < n; i++)
      skip = !strcmp(w, words[i]);
    if (!skip)
      memcpy(words[n++], w, len + 1);
  }
  return n;
}

static void appendf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void appendf(struct buf *b, const char *fmt, ...) {
  char tmp[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tmp, sizeof tmp, fmt, ap);
  va_end(ap);
  buf_append_str(b, tmp);
}

char *demo_answer(const char *model, const char *prompt, size_t turn) {
  /* FNV-1a of model and prompt from a seed of our own (not the offset
   * basis: it has one digit less); kept, since it picks every answer */
  struct rng r = {hash_fnv1a_add_str(
      hash_fnv1a_add_str(1469598103934665603ull, model), prompt)};
  r.s ^= turn;
  if (!r.s)
    r.s = 88172645463325252ull;

  char kw[6][24];
  size_t nk = keywords(prompt, kw, 6);
  const char *topic = nk ? kw[0] : "this";
  const char *second = nk > 1 ? kw[1] : "context";
  const char *third = nk > 2 ? kw[2] : "practice";
  struct buf b;
  buf_init(&b, 64 * 1024);

  static const char *const openers[] = {
      "Good question.", "Let me break this down.", "Here is a clear way to think about it.",
      "Short answer first, then the details."};
  static const char *const verbs[] = {"shapes", "depends on", "interacts with",
                                      "is usually limited by", "builds on"};
  static const char *const adv[] = {"In practice,", "Most of the time,",
                                    "As a rule of thumb,", "Concretely,"};
  static const char *const filler[] = {
      "it is worth noting that many things are connected",
      "people have different opinions on this",
      "there are several factors and some of them matter",
      "this is a broad topic with a long history",
      "one could say a lot about it in general terms",
      "the details can vary from case to case"};

  if (!strcmp(model, "demo-sage")) {
    appendf(&b, "%s The key idea behind **%s** is how it %s %s.\n\n",
            PICK(&r, openers), topic, PICK(&r, verbs), second);
    appendf(&b, "1. **Start with %s.** Define what you need from it and measure it before changing anything.\n",
            topic);
    appendf(&b, "2. **Look at %s.** %s it explains most of the differences you will see.\n",
            second, PICK(&r, adv));
    appendf(&b, "3. **Check %s.** Small, concrete experiments beat long debates.\n\n", third);
    appendf(&b, "In short: understand %s, then %s, then %s, and verify each step.",
            topic, second, third);
  } else if (!strcmp(model, "demo-scholar")) {
    appendf(&b, "%s %s is a topic where %s plays a central role. %s the relationship "
                "between %s and %s is what most explanations focus on. ",
            PICK(&r, openers), topic, second, PICK(&r, adv), topic, third);
    appendf(&b, "A useful approach is to compare a few examples and notice what changes. "
                "That usually gives a good intuition for %s.", topic);
  } else if (!strcmp(model, "demo-rambler")) {
    appendf(&b, "Well, %s. When it comes to %s, %s. Also %s, and %s. ", PICK(&r, filler),
            topic, PICK(&r, filler), PICK(&r, filler), PICK(&r, filler));
    appendf(&b, "Some would mention %s here, although %s. Anyway, %s.", second,
            PICK(&r, filler), PICK(&r, filler));
  } else {
    appendf(&b, "You asked about %s. %s is %s. I think %s is about %s.", topic, topic,
            topic, topic, topic);
  }
  /* never the model's name: that would unmask it before the vote */
  appendf(&b, "\n\n_(demo answer to turn %zu: canned text, not a real model)_", turn);
  return buf_steal(&b);
}

/* ---- the OpenAI-compatible endpoint ---- */

struct demo_request {
  struct buf body;
};

struct demo_stream {
  char *text;
  size_t pos;          /* next byte of text to send */
  int stage;           /* 0 role chunk, 1 content, 2 finish, 3 [DONE], 4 end */
  long delay_us;
  struct buf out;
  size_t out_pos;
  char model[64];
};

static void chunk(struct demo_stream *s, json_t *delta, const char *finish) {
  json_t *c = json_pack("{s:s, s:s, s:I, s:s, s:[{s:i, s:o, s:s?}]}", "id",
                        "chatcmpl-demo", "object", "chat.completion.chunk",
                        "created", (json_int_t)(now_ms() / 1000), "model",
                        s->model, "choices", "index", 0, "delta", delta,
                        "finish_reason", finish);
  char *t = json_dumps(c, JSON_COMPACT);
  json_decref(c);
  buf_append_str(&s->out, "data: ");
  buf_append_str(&s->out, t ? t : "{}");
  buf_append_str(&s->out, "\n\n");
  free(t);
}

static ssize_t demo_read(void *cls, uint64_t pos, char *out, size_t max) {
  struct demo_stream *s = cls;
  if (s->out_pos >= s->out.len) {
    buf_reset(&s->out);
    s->out_pos = 0;
    switch (s->stage) {
    case 0:
      chunk(s, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL);
      s->stage = 1;
      break;
    case 1: {
      /* one token: up to and including the next space */
      size_t end = s->pos;
      while (s->text[end] && s->text[end] != ' ' && s->text[end] != '\n')
        end++;
      while (s->text[end] == ' ' || s->text[end] == '\n')
        end++;
      struct timespec ts = {0, s->delay_us * 1000};
      nanosleep(&ts, NULL);
      chunk(s, json_pack("{s:s%}", "content", s->text + s->pos, end - s->pos),
            NULL);
      s->pos = end;
      if (!s->text[s->pos])
        s->stage = 2;
      break;
    }
    case 2:
      chunk(s, json_object(), "stop");
      s->stage = 3;
      break;
    case 3:
      buf_append_str(&s->out, "data: [DONE]\n\n");
      s->stage = 4;
      break;
    default:
      return MHD_CONTENT_READER_END_OF_STREAM;
    }
  }
  return (ssize_t)buf_read(&s->out, &s->out_pos, out, max);
}

static void demo_stream_free(void *cls) {
  struct demo_stream *s = cls;
  free(s->text);
  buf_release(&s->out);
  free(s);
}

static enum MHD_Result demo_error(struct MHD_Connection *c, unsigned status,
                                  const char *msg) {
  char body[256];
  snprintf(body, sizeof body, "{\"error\":{\"message\":\"%s\",\"type\":\"invalid_request_error\"}}", msg);
  struct MHD_Response *r = MHD_create_response_from_buffer(
      strlen(body), body, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result res = MHD_queue_response(c, status, r);
  MHD_destroy_response(r);
  return res;
}

static enum MHD_Result demo_handler(void *cls, struct MHD_Connection *c,
                                    const char *url, const char *method,
                                    const char *version, const char *upload,
                                    size_t *upload_size, void **req_cls) {
  struct demo_request *rq = *req_cls;
  if (!rq) {
    rq = calloc(1, sizeof *rq);
    if (!rq)
      return MHD_NO;
    buf_init(&rq->body, 4u << 20);
    *req_cls = rq;
    return MHD_YES;
  }
  if (*upload_size) {
    if (buf_append(&rq->body, upload, *upload_size))
      return MHD_NO;
    *upload_size = 0;
    return MHD_YES;
  }
  if (strcmp(method, "POST") || strcmp(url, "/v1/chat/completions"))
    return demo_error(c, MHD_HTTP_NOT_FOUND, "not found");
  json_t *root = json_loadb(rq->body.data ? rq->body.data : "", rq->body.len, 0, NULL);
  const char *model = json_string_value(json_object_get(root, "model"));
  json_t *msgs = json_object_get(root, "messages");
  const struct demo_model *dm = NULL;
  for (size_t i = 0; model && i < N_DEMO; i++)
    if (!strcmp(model, demo_models[i].name))
      dm = &demo_models[i];
  size_t n = json_array_size(msgs);
  const char *prompt = json_string_value(
      json_object_get(json_array_get(msgs, n ? n - 1 : 0), "content"));
  if (!dm || !prompt) {
    json_decref(root);
    return demo_error(c, MHD_HTTP_BAD_REQUEST, "unknown model or no messages");
  }
  struct demo_stream *s = calloc(1, sizeof *s);
  if (!s) {
    json_decref(root);
    return MHD_NO;
  }
  s->text = demo_answer(dm->name, prompt, (n + 1) / 2);
  s->delay_us = 1000000L / dm->tokens_per_second;
  snprintf(s->model, sizeof s->model, "%s", dm->name);
  buf_init(&s->out, 1u << 20);
  json_decref(root);
  struct MHD_Response *r = MHD_create_response_from_callback(
      MHD_SIZE_UNKNOWN, 4096, demo_read, s, demo_stream_free);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
  enum MHD_Result res = MHD_queue_response(c, MHD_HTTP_OK, r);
  MHD_destroy_response(r);
  return res;
}

static void demo_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                           enum MHD_RequestTerminationCode toe) {
  struct demo_request *rq = *req_cls;
  if (rq) {
    buf_release(&rq->body);
    free(rq);
  }
  *req_cls = NULL;
}

struct demo_server *demo_start(struct config *cfg, char *err, size_t errlen) {
  struct demo_server *d = calloc(1, sizeof *d);
  if (!d)
    return NULL;
  struct sockaddr_in sin = {.sin_family = AF_INET,
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  /* Demo answers are paced by sleeping, so each demo connection has its
   * own thread: demo traffic only, never the arena's own streams. */
  d->daemon = MHD_start_daemon(
      MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL,
      NULL, demo_handler, d, MHD_OPTION_SOCK_ADDR, &sin,
      MHD_OPTION_NOTIFY_COMPLETED, demo_completed, d,
      MHD_OPTION_CONNECTION_LIMIT, (unsigned)512, MHD_OPTION_END);
  if (!d->daemon) {
    snprintf(err, errlen, "cannot start the demo models' server");
    free(d);
    return NULL;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d->daemon, MHD_DAEMON_INFO_BIND_PORT);
  char url[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/v1", info ? info->port : 0);
  for (size_t i = 0; i < N_DEMO; i++) {
    struct model_config m = {0};
    m.name = (char *)demo_models[i].name;
    m.base_url = url;
    m.upstream = (char *)demo_models[i].name;
    m.temperature = -1;
    m.timeout_s = 120;
    m.enabled = 1;
    m.weight = 1;
    m.boost = 1;
    m.boost_until = 1000;
    if (config_add_model(cfg, &m)) {
      snprintf(err, errlen, "model name '%s' is taken by the config",
               demo_models[i].name);
      demo_stop(d);
      return NULL;
    }
  }
  return d;
}

void demo_stop(struct demo_server *d) {
  if (!d)
    return;
  MHD_stop_daemon(d->daemon);
  free(d);
}
