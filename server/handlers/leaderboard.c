/* GET /api/leaderboard: every enabled model by live Elo. */
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "http/reply.h"
#include "util/util.h"

static int by_elo_desc(const void *x, const void *y) {
  const struct rating_row *a = x, *b = y;
  if (a->elo != b->elo)
    return a->elo < b->elo ? 1 : -1;
  return strcmp(a->model, b->model);
}

enum MHD_Result handle_leaderboard(struct request *rq) {
  struct arena *a = rq->arena;
  size_t n = 0;
  struct rating_row *rows = calloc(a->cfg.n_models + 1, sizeof *rows);
  if (!rows)
    return MHD_NO;
  long votes2 = 0;
  pthread_mutex_lock(&a->ratings_lock);
  for (size_t i = 0; i < a->ratings.n; i++)
    votes2 += a->ratings.rows[i].battles;
  for (size_t i = 0; i < a->cfg.n_models; i++) {
    const struct model_config *m = &a->cfg.models[i];
    if (!m->enabled)
      continue;
    const struct rating_row *r = rating_table_find(&a->ratings, m->name);
    if (r)
      rows[n] = *r;
    else
      rows[n].elo = ELO_INITIAL;
    rows[n++].model = m->name;  /* config outlives this request */
  }
  pthread_mutex_unlock(&a->ratings_lock);
  qsort(rows, n, sizeof *rows, by_elo_desc);

  json_t *models = json_array();
  size_t rank = 1;
  for (size_t i = 0; i < n; i++) {
    if (i > 0 && rows[i].elo < rows[i - 1].elo)
      rank = i + 1;
    json_array_append_new(
        models, json_pack("{s:I, s:s, s:f, s:I, s:I, s:I, s:I}", "rank",
                          (json_int_t)rank, "model", rows[i].model, "elo",
                          rows[i].elo, "battles", (json_int_t)rows[i].battles,
                          "wins", (json_int_t)rows[i].wins, "losses",
                          (json_int_t)rows[i].losses, "ties",
                          (json_int_t)rows[i].ties));
  }
  free(rows);
  char updated[32];
  format_rfc3339(atomic_load(&a->ratings_updated), updated);
  return reply_json(rq, MHD_HTTP_OK,
                    json_pack("{s:I, s:s, s:o}", "votes",
                              (json_int_t)(votes2 / 2), "updated_at", updated,
                              "models", models));
}
