/* The admin API: Authorization: Bearer TOKEN, where the token is read
 * from the variable named by [server] admin_token_env.
 *   POST /api/admin/reload               same as SIGHUP
 *   GET  /api/admin/battles              ?model= &status= &since= &until=
 *                                        &limit= (1-1000, 100) &offset=
 *   GET  /api/admin/export               ?format=fastchat|jsonl|csv
 *                                        (written by a thread of its own,
 *                                        then streamed: battle/export.c)
 *   POST /api/admin/models/NAME          {"enabled": true|false}
 *   GET  /api/admin/nodes                the nodes on the database
 * The reads answer from the database, every node's. The changes (reload,
 * a model's toggle) act on the node that answers them, which then sends
 * them on to every other node alive (http/fanout.h); their replies name
 * it ("node") and say what the others answered ("nodes"). */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/loaded.h"
#include "http/fanout.h"
#include "http/reply.h"
#include "util/digest.h"

/* Whether a equals the secret b, in a time that does not depend on how
 * much of a matches b, nor on whether their lengths match: their SHA-256
 * digests are compared, in constant time. */
static int same_secret(const char *a, const char *b) {
  char da[65], db[65];
  if (sha256_hex(a, strlen(a), da) || sha256_hex(b, strlen(b), db))
    return 0;
  return CRYPTO_memcmp(da, db, 64) == 0;
}

/* 1 when the request carries the admin token; else 0, reply queued.
 * Failures are limited per client ([limits] admin_failures_per_minute):
 * every attempt takes a token from the client's bucket and only a success
 * gives it back, so a client that used up its budget gets 429 even with
 * the right token until the bucket refills, and guessing stays bounded. */
static int authorized(struct request *rq, enum MHD_Result *res) {
  const char *token = rq->cfg->admin_token;
  if (!token) {
    *res = reply_ec(rq, EC_ADMIN_DISABLED);
    return 0;
  }
  int wait = arena_rate_limit(rq->arena, ARENA_LIMIT_ADMIN, rq->client);
  if (wait) {
    *res = reply_ec_retry(rq, EC_TOO_MANY_ADMIN_FAILURES, wait);
    return 0;
  }
  const char *auth = MHD_lookup_connection_value(
      rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
  if (auth && !strncmp(auth, "Bearer ", 7) && same_secret(auth + 7, token)) {
    arena_rate_refund(rq->arena, ARENA_LIMIT_ADMIN, rq->client);
    return 1;
  }
  *res = reply_ec(rq, EC_UNAUTHORIZED);
  return 0;
}

/* A reload reads the config file and the files it names: on the loader
 * thread (handlers/loaded.h). */
struct reload_job {
  int rc;
  char err[1024];
};

static void reload_read(struct arena *a, void *p) {
  struct reload_job *job = p;
  job->rc = arena_reload(a, job->err, sizeof job->err);
}

static enum MHD_Result reload_answer(struct request *rq, void *p) {
  struct reload_job *job = p;
  if (job->rc)
    return reply_ec_msg(rq, EC_RELOAD_FAILED, job->err);
  struct config *cfg = arena_config(rq->arena);
  json_t *body = json_pack("{s:b, s:I, s:I, s:s}", "reloaded", 1, "models",
                           (json_int_t)cfg->n_models, "enabled",
                           (json_int_t)config_enabled_models(cfg), "node",
                           arena_node_name(rq->arena));
  config_unref(cfg);
  loaded_done(rq); /* the other nodes' answers wait on rq next */
  return fanout_reply(rq, body);
}

enum MHD_Result handle_admin_reload(struct request *rq) {
  enum MHD_Result res;
  if (!authorized(rq, &res))
    return res;
  struct reload_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_NOT_QUEUED);
  return with_loaded(rq, reload_read, reload_answer, job, free);
}

/* ms since the epoch from digits, or from RFC 3339 "YYYY-MM-DDTHH:MM:SSZ".
 * -1 when neither. */
static int64_t parse_time(const char *s) {
  if (!s || !*s)
    return 0;
  char *end;
  long long ms = strtoll(s, &end, 10);
  if (!*end)
    return ms >= 0 ? ms : -1;
  struct tm tm = {0};
  end = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
  if (!end || (*end && strcmp(end, "Z") && strcmp(end, "+00:00")))
    return -1;
  return (int64_t)timegm(&tm) * 1000;
}

/* The list is read on the loader thread (handlers/loaded.h). */
struct list_job {
  char *model, *status;  /* owned; NULL: any */
  int64_t since, until;
  long limit, offset;
  json_t *list;          /* limit + 1 at most, or NULL: the read failed */
};

static void list_job_free(void *p) {
  struct list_job *job = p;
  if (!job)
    return;
  free(job->model);
  free(job->status);
  json_decref(job->list);
  free(job);
}

static void list_read(struct arena *a, void *p) {
  struct list_job *job = p;
  job->list = arena_battles_list(a, job->model, job->status, job->since,
                                 job->until, job->limit + 1, job->offset);
}

static enum MHD_Result list_answer(struct request *rq, void *p) {
  struct list_job *job = p;
  json_t *list = job->list;
  if (!list)
    return reply_ec(rq, EC_INTERNAL_LIST);
  job->list = NULL;
  long limit = job->limit, offset = job->offset;
  json_t *next = json_null();
  if ((long)json_array_size(list) > limit) {
    json_array_remove(list, (size_t)limit);
    next = json_integer(offset + limit);
  }
  return reply_json(rq, MHD_HTTP_OK,
                    json_pack("{s:o, s:o}", "battles", list, "next_offset",
                              next));
}

enum MHD_Result handle_admin_battles(struct request *rq) {
  enum MHD_Result res;
  if (!authorized(rq, &res))
    return res;
  const char *model = request_query(rq, "model");
  const char *status = request_query(rq, "status");
  const char *since_s = request_query(rq, "since");
  const char *until_s = request_query(rq, "until");
  const char *limit_s = request_query(rq, "limit");
  const char *offset_s = request_query(rq, "offset");
  if (status && strcmp(status, "streaming") && strcmp(status, "ready") &&
      strcmp(status, "failed") && strcmp(status, "voted"))
    return reply_ec(rq, EC_INVALID_STATUS);
  int64_t since = parse_time(since_s), until = parse_time(until_s);
  if (since < 0 || until < 0)
    return reply_ec(rq, EC_INVALID_TIME);
  char *end;
  long limit = limit_s ? strtol(limit_s, &end, 10) : 100;
  if (limit_s && (*end || limit < 1 || limit > 1000))
    return reply_ec(rq, EC_INVALID_LIMIT);
  long offset = offset_s ? strtol(offset_s, &end, 10) : 0;
  if (offset_s && (*end || offset < 0))
    return reply_ec(rq, EC_INVALID_OFFSET);
  struct list_job *job = calloc(1, sizeof *job);
  if (!job || (model && !(job->model = strdup(model))) ||
      (status && !(job->status = strdup(status)))) {
    list_job_free(job);
    return reply_ec(rq, EC_INTERNAL_LIST);
  }
  job->since = since;
  job->until = until;
  job->limit = limit;
  job->offset = offset;
  return with_loaded(rq, list_read, list_answer, job, list_job_free);
}

/* An export is written by a thread of its own (battle/export.c) while
 * the request waits suspended, then streamed from its file. */
struct export_wait {
  struct arena_export *x;
  const char *type;  /* Content-Type, static */
};

static void export_wait_free(void *pending) {
  struct export_wait *w = pending;
  arena_export_free(w->x);
  free(w);
}

static enum MHD_Result export_answer(struct request *rq) {
  struct export_wait *w = rq->pending;
  uint64_t size;
  struct relay *r;
  char err[512];
  if (arena_export_result(w->x, &size, &r, err, sizeof err))
    return reply_ec_msg(rq, EC_INTERNAL, err);
  return reply_relay(rq, MHD_HTTP_OK, r, size,
                     &(struct reply_body){.type = w->type,
                                          .cache = "no-store"});
}

enum MHD_Result handle_admin_export(struct request *rq) {
  enum MHD_Result res;
  if (!authorized(rq, &res))
    return res;
  const char *format = request_query(rq, "format");
  enum export_format fmt = EXPORT_FASTCHAT;
  const char *type = "application/json";
  if (!format || !strcmp(format, "fastchat")) {
    fmt = EXPORT_FASTCHAT;
  } else if (!strcmp(format, "jsonl")) {
    fmt = EXPORT_JSONL;
    type = "application/jsonl";
  } else if (!strcmp(format, "csv")) {
    fmt = EXPORT_CSV;
    type = "text/csv; charset=utf-8";
  } else {
    return reply_ec(rq, EC_INVALID_FORMAT);
  }
  struct export_wait *w = calloc(1, sizeof *w);
  if (!w)
    return reply_ec(rq, EC_NOT_QUEUED);
  w->type = type;
  /* suspend first, so that the resume always finds it suspended */
  rq->on_resume = export_answer;
  MHD_suspend_connection(rq->conn);
  enum agon_ec rc =
      arena_export_start(rq->arena, fmt, reply_resume, rq->conn, &w->x);
  if (rc) {
    free(w);
    return reply_ec_resumed(rq, rc);
  }
  rq->pending = w;
  rq->pending_free = export_wait_free;
  return MHD_YES;
}

enum MHD_Result handle_admin_model(struct request *rq) {
  enum MHD_Result res;
  if (!authorized(rq, &res))
    return res;
  json_t *en = json_object_get(rq->json, "enabled");
  if (!json_is_boolean(en))
    return reply_ec(rq, EC_INVALID_ENABLED);
  if (arena_set_enabled(rq->arena, rq->param, json_is_true(en)))
    return reply_ec(rq, EC_MODEL_NOT_FOUND);
  return fanout_reply(rq, json_pack("{s:s, s:s, s:b}", "node",
                                    arena_node_name(rq->arena), "model",
                                    rq->param, "enabled", json_is_true(en)));
}

/* The nodes table is read on the loader thread. */
struct nodes_job {
  json_t *body;
};

static void nodes_job_free(void *p) {
  struct nodes_job *job = p;
  json_decref(job->body);
  free(job);
}

static void nodes_read(struct arena *a, void *p) {
  struct nodes_job *job = p;
  job->body = arena_nodes_json(a);
}

static enum MHD_Result nodes_answer(struct request *rq, void *p) {
  struct nodes_job *job = p;
  if (!job->body)
    return reply_ec(rq, EC_INTERNAL_LIST);
  json_t *body = job->body;
  job->body = NULL;
  return reply_json(rq, MHD_HTTP_OK, body);
}

enum MHD_Result handle_admin_nodes(struct request *rq) {
  enum MHD_Result res;
  if (!authorized(rq, &res))
    return res;
  struct nodes_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_NOT_QUEUED);
  return with_loaded(rq, nodes_read, nodes_answer, job, nodes_job_free);
}
