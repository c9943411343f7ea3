/* GET /api/shared/TOKEN: a battle its owner shared, read-only, for anyone
 * with the link (see battle_share.c): the prompts, both answers (text and
 * safe HTML), the names, the verdict, the reasons and the comment; kept
 * out of search engines. An unknown token, or one taken back:
 * share_not_found. */
#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/held_battle.h"
#include "handlers/loaded.h"
#include "handlers/share_token.h"
#include "http/reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static enum MHD_Result shared_get(struct request *rq, struct arena_held *h) {
  json_t *body = NULL;
  enum agon_ec rc = arena_shared_json(rq->arena, rq->param, h, &body);
  if (rc)
    return reply_ec(rq, rc);
  char *text = json_dumps(body, JSON_COMPACT);
  json_decref(body);
  if (!text)
    return reply_ec(rq, EC_INTERNAL);
  struct MHD_Response *resp = reply_response_new(&(struct reply_body){
      .data = text,
      .len = strlen(text),
      .mem = MHD_RESPMEM_MUST_FREE,
      .type = "application/json",
      .cache = "no-store"});
  if (!resp)
    return reply_ec(rq, EC_INTERNAL);
  MHD_add_response_header(resp, "X-Robots-Tag", "noindex");
  enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
  MHD_destroy_response(resp);
  return r;
}

/* Where only the database knows the token (other nodes share too). */
struct shared_job {
  char token[ARENA_SHARE_TOKEN + 8];
  char id[ARENA_BATTLE_ID];
  int shared;
};

static void shared_read(struct arena *a, void *p) {
  struct shared_job *job = p;
  job->shared = arena_share_stored(a, job->token, job->id);
}

static enum MHD_Result hold_shared(struct request *rq, const char *id) {
  arena_share_refresh(rq->arena, id);
  return with_held_battle(rq, id, shared_get);
}

static enum MHD_Result shared_answer(struct request *rq, void *p) {
  struct shared_job *job = p;
  char id[ARENA_BATTLE_ID];
  int shared = job->shared;
  snprintf(id, sizeof id, "%s", job->id);
  loaded_done(rq); /* the hold waits on rq next */
  return shared ? hold_shared(rq, id) : reply_ec(rq, EC_SHARE_NOT_FOUND);
}

enum MHD_Result handle_shared_get(struct request *rq) {
  char id[ARENA_BATTLE_ID];
  if (!share_token_ok(rq->param))
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  int k = arena_share_lookup(rq->arena, rq->param, id);
  if (k == 0)
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  if (k > 0)
    return hold_shared(rq, id);
  struct shared_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_NOT_QUEUED);
  snprintf(job->token, sizeof job->token, "%s", rq->param);
  return with_loaded(rq, shared_read, shared_answer, job, free);
}
