/* GET /s/TOKEN: the page of a shared battle (web/share.html, which reads
 * GET /api/shared/TOKEN), kept out of search engines and sending no
 * referrer; an unknown token is share_not_found (from memory, or from the
 * database where other nodes may have shared it: battle/shares.c). */
#include "handlers/handlers.h"
#include "battle/arena.h"
#include "handlers/loaded.h"
#include "handlers/share_token.h"
#include "http/reply.h"
#include "util/embedded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Where only the database knows the token (other nodes share too). */
struct share_job {
  char token[ARENA_SHARE_TOKEN + 8];
  int shared;
};

static void share_read(struct arena *a, void *p) {
  struct share_job *job = p;
  char id[ARENA_BATTLE_ID];
  job->shared = arena_share_stored(a, job->token, id);
}

static enum MHD_Result share_page(struct request *rq);

static enum MHD_Result share_answer(struct request *rq, void *p) {
  struct share_job *job = p;
  return job->shared ? share_page(rq) : reply_ec(rq, EC_SHARE_NOT_FOUND);
}

enum MHD_Result handle_share_page(struct request *rq) {
  char id[ARENA_BATTLE_ID];
  if (!share_token_ok(rq->param))
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  int k = arena_share_lookup(rq->arena, rq->param, id);
  if (k == 0)
    return reply_ec(rq, EC_SHARE_NOT_FOUND);
  if (k > 0)
    return share_page(rq);
  struct share_job *job = calloc(1, sizeof *job);
  if (!job)
    return reply_ec(rq, EC_NOT_QUEUED);
  snprintf(job->token, sizeof job->token, "%s", rq->param);
  return with_loaded(rq, share_read, share_answer, job, free);
}

static enum MHD_Result share_page(struct request *rq) {
  for (size_t i = 0; agon_web_assets[i].name; i++) {
    const struct agon_embedded *e = &agon_web_assets[i];
    if (strcmp(e->name, "share.html"))
      continue;
    struct MHD_Response *resp = reply_response_new(&(struct reply_body){
        .data = (void *)e->data,
        .len = e->size,
        .mem = MHD_RESPMEM_PERSISTENT,
        .type = "text/html; charset=utf-8",
        .cache = "no-store"});
    if (!resp)
      return reply_ec(rq, EC_INTERNAL_ASSET);
    MHD_add_response_header(resp, "X-Robots-Tag", "noindex");
    enum MHD_Result r = reply_queue(rq, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return r;
  }
  return reply_ec(rq, EC_INTERNAL_ASSET);
}
