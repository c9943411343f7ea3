#include "tagger/backfill.h"

#include <pthread.h>
#include <stdlib.h>

#include "storage/judgments.h"
#include "storage/tagging.h"
#include "tag/battle_tags.h"
#include "util/log.h"

/* Jobs handed to the writer between two flushes: bounds what waits in its
 * queue (a battle's tags each) while this thread computes ahead. */
#define FLUSH_EVERY 256

struct backfill_ctx {
  pthread_mutex_t lock;      /* the counts the writer's reports move */
  struct tag_backfill b;
};

/* The writer's report on one battle's tags (writer thread). */
static void tags_stored(void *cls, int rc) {
  struct backfill_ctx *ctx = cls;
  pthread_mutex_lock(&ctx->lock);
  if (rc < 0) {
    ctx->b.errors++;
  } else {
    ctx->b.tagged++;
    ctx->b.moved += (size_t)rc;
  }
  pthread_mutex_unlock(&ctx->lock);
}

/* Compute battle id's tags and queue them; 0, 1 when it has no
 * conversation, -1 on error. */
static int backfill_one(struct store *st, struct store_writer *w,
                        const char *id, struct backfill_ctx *ctx) {
  struct case_data cd;
  int rc = store_case_load(st, id, &cd);
  if (rc)
    return rc;
  struct battle_tags_turn *turns = calloc(cd.c.n_turns, sizeof *turns);
  struct battle_tags tags;
  rc = -1;
  for (size_t i = 0; turns && i < cd.c.n_turns; i++) {
    turns[i].prompt = cd.c.prompts[i];
    turns[i].answer[0] = cd.c.answers[0][i];
    turns[i].answer[1] = cd.c.answers[1][i];
  }
  if (turns && battle_tags_compute(turns, cd.c.n_turns, &tags) == 0 &&
      store_writer_battle_tags(w, id, &tags, tags_stored, ctx) == 0)
    rc = 0;
  free(turns);
  case_data_release(&cd);
  return rc;
}

int tag_backfill_run(struct store *st, struct store_writer *w, long limit,
                     void (*tick)(const struct tag_backfill *b, void *cls),
                     void *cls, struct tag_backfill *out) {
  struct backfill_ctx ctx = {.b = {0}};
  char **ids = NULL;
  size_t n = 0;
  *out = ctx.b;
  if (store_untagged(st, limit, &ids, &n))
    return -1;
  pthread_mutex_init(&ctx.lock, NULL);
  ctx.b.total = n;
  for (size_t i = 0; i < n; i++) {
    int rc = backfill_one(st, w, ids[i], &ctx);
    if (rc < 0)
      log_error("msg=\"cannot tag a battle\" battle=%s", log_q(ids[i]));
    free(ids[i]);
    if ((i + 1) % FLUSH_EVERY == 0 || i + 1 == n)
      store_writer_flush(w);
    pthread_mutex_lock(&ctx.lock);
    ctx.b.done++;
    if (rc > 0)
      ctx.b.no_text++;
    else if (rc < 0)
      ctx.b.errors++;
    struct tag_backfill now = ctx.b;
    pthread_mutex_unlock(&ctx.lock);
    if (tick)
      tick(&now, cls);
  }
  free(ids);
  store_writer_flush(w);
  pthread_mutex_lock(&ctx.lock);
  *out = ctx.b;
  pthread_mutex_unlock(&ctx.lock);
  pthread_mutex_destroy(&ctx.lock);
  return 0;
}
