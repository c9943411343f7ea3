/* GET /api/leaderboard?language=L&category=C: the board of one slice of
 * the battles (rating/slices.h), Bradley-Terry only as LMArena's are: its
 * 95% intervals and rank (UB) from the slice's own fit, each model's
 * battles in the slice, and its rank there against its rank on the whole
 * board (rank_change > 0: higher in the slice). The live Elo is the whole
 * board's and is not repeated here. Models with fewer than [ratings]
 * min_battles battles in the slice are listed apart, under "provisional";
 * a slice where none has that many says so ("ranked": false).
 *
 * GET /api/leaderboard?style=control[&language=L][&category=C]: the same
 * board fitted with style control (rating/style.h), from the background
 * fit of battle/style_boards.h; "style" holds the coefficients, or
 * {"pending": true} while the first fit of that board is under way.
 *
 * GET /api/leaderboard/slices: every slice that holds counted votes, with
 * its votes, and the languages and categories a board can be asked for. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "battle/arena.h"
#include "handlers/handlers.h"
#include "handlers/model_card.h"
#include "handlers/slice_query.h"
#include "http/reply.h"
#include "rating/dedup.h"
#include "tag/categories.h"
#include "tag/llm.h"
#include "util/clock.h"

struct slice_row {
  const char *model;
  const struct model_config *cfg; /* its card's */
  long battles, wins, losses, ties;
  struct model_summary s;
  int rated;
  int overall_rank;          /* 0: not ranked on the whole board */
};

static int cmp_bt(const void *p, const void *q) {
  const struct slice_row *a = p, *b = q;
  double ka = a->rated ? a->s.bt : -INFINITY;
  double kb = b->rated ? b->s.bt : -INFINITY;
  if (ka != kb)
    return ka < kb ? 1 : -1;
  return strcmp(a->model, b->model);
}

/* The counts of model in the pair counts of snap. */
static void model_counts(const struct bt_snapshot *snap, const char *model,
                         struct slice_row *r) {
  for (size_t i = 0; snap && i < snap->pairs.n; i++) {
    const struct pair_row *p = &snap->pairs.rows[i];
    int is_a = !strcmp(p->a, model);
    if (!is_a && strcmp(p->b, model))
      continue;
    r->wins += is_a ? p->wins_a : p->wins_b;
    r->losses += is_a ? p->wins_b : p->wins_a;
    r->ties += p->ties;
  }
  r->battles = r->wins + r->losses + r->ties;
}

/* Split rows[n] into the ranked, left in rows (*main_n of them), and
 * those below min_battles battles, into prov (*prov_n), each sorted. */
static void split_rows(struct slice_row *rows, size_t n,
                       struct slice_row *prov, long min_battles,
                       size_t *main_n, size_t *prov_n) {
  *main_n = *prov_n = 0;
  for (size_t i = 0; i < n; i++) {
    if (rows[i].battles < min_battles)
      prov[(*prov_n)++] = rows[i];
    else
      rows[(*main_n)++] = rows[i];
  }
  qsort(rows, *main_n, sizeof *rows, cmp_bt);
  qsort(prov, *prov_n, sizeof *prov, cmp_bt);
}

/* Whether one of rows[n] has a rating: a board with none ranks nothing
 * (with min_battles 0 every model is listed, battles or not). */
static int any_rated(const struct slice_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (rows[i].rated)
      return 1;
  return 0;
}

/* A board's bt_updated_at, bt_fit and bt_votes: of the fit it is built
 * on, made at computed_at (0: none yet, so null and 0). */
static void fit_fields(json_t *body, int64_t computed_at, long fit,
                       json_int_t votes) {
  if (computed_at) {
    char when[32];
    format_rfc3339_ms(computed_at, when);
    json_object_set_new(body, "bt_updated_at", json_string(when));
    json_object_set_new(body, "bt_fit", json_integer(fit));
  } else {
    json_object_set_new(body, "bt_updated_at", json_null());
  }
  json_object_set_new(body, "bt_votes", json_integer(votes));
}

static json_t *num(double x) { return isnan(x) ? json_null() : json_real(x); }

static json_t *rows_json(const struct slice_row *rows, size_t n,
                         int provisional) {
  json_t *arr = json_array();
  int rank = 1;
  for (size_t i = 0; i < n; i++) {
    const struct slice_row *x = &rows[i];
    if (i > 0 && x->rated &&
        (!rows[i - 1].rated || x->s.bt < rows[i - 1].s.bt))
      rank = (int)i + 1;
    int ranked = !provisional && x->rated;
    json_t *o = json_pack(
        "{s:o, s:s, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:b, s:o, s:o}",
        "rank", ranked ? json_integer(rank) : json_null(), "model", x->model,
        "bt", x->rated ? num(x->s.bt) : json_null(), "ci_low",
        x->rated ? num(x->s.ci_low) : json_null(), "ci_high",
        x->rated ? num(x->s.ci_high) : json_null(), "rank_ub",
        x->rated && x->s.rank_ub ? json_integer(x->s.rank_ub) : json_null(),
        "battles", (json_int_t)x->battles, "wins", (json_int_t)x->wins,
        "losses", (json_int_t)x->losses, "ties", (json_int_t)x->ties,
        "provisional", provisional, "overall_rank",
        x->overall_rank ? json_integer(x->overall_rank) : json_null(),
        "rank_change", ranked && x->overall_rank
                           ? json_integer(x->overall_rank - rank)
                           : json_null());
    model_card_set(o, x->cfg);
    json_array_append_new(arr, o);
  }
  return arr;
}

/* The rank of each enabled model on the whole board by BT (the order the
 * page shows with sort=bt), among those with min_battles battles or more;
 * 0 for the rest. */
static void overall_ranks(struct arena *a, const struct config *cfg,
                          struct slice_row *rows, size_t n) {
  struct bt_snapshot *snap = arena_bt_snapshot(a);
  struct rating_table elo = {0};
  struct slice_row *tmp = calloc(n + 1, sizeof *tmp);
  size_t m = 0;
  if (!snap || !tmp || arena_elo(a, &elo))
    goto out;
  for (size_t i = 0; i < n; i++) {
    const struct rating_row *r = rating_table_find(&elo, rows[i].model);
    int k = bt_snapshot_find(snap, rows[i].model);
    if (!r || r->battles < cfg->min_battles || k < 0 ||
        snap->s[k].component < 0)
      continue;
    tmp[m] = rows[i];
    tmp[m].s = snap->s[k];
    tmp[m++].rated = 1;
  }
  qsort(tmp, m, sizeof *tmp, cmp_bt);
  int rank = 1;
  for (size_t i = 0; i < m; i++) {
    if (i > 0 && tmp[i].s.bt < tmp[i - 1].s.bt)
      rank = (int)i + 1;
    for (size_t j = 0; j < n; j++)
      if (rows[j].model == tmp[i].model)
        rows[j].overall_rank = rank;
  }
out:
  rating_table_release(&elo);
  bt_snapshot_unref(snap);
  free(tmp);
}


static json_t *slice_json(const struct slice_query *q, long votes,
                          const struct config *cfg, int ranked) {
  json_t *slice = json_pack(
      "{s:s, s:o, s:o, s:I, s:I, s:b}", "key", q->key, "language",
      q->language ? json_string(q->language) : json_null(), "category",
      q->category ? json_string(q->category) : json_null(), "votes",
      (json_int_t)votes, "min_battles", (json_int_t)cfg->min_battles,
      "ranked", ranked);
  if (!ranked)
    json_object_set_new(
        slice, "message",
        json_string("too few battles in this slice to rank: no model has "
                    "min_battles of them yet"));
  return slice;
}

/* The board of the worker's fit of key (a slice's, or an open-weights
 * board's: then only open-weights models are listed, their votes those
 * of the fit). */
static enum MHD_Result fitted_board_reply(struct request *rq,
                                          const struct slice_query *q,
                                          const char *key, int open) {
  struct arena *a = rq->arena;
  const struct config *cfg = rq->cfg;
  enum MHD_Result res = MHD_NO;
  struct bt_snapshot *snap = arena_slice_snapshot(a, key);
  long votes = !open ? arena_slice_votes(a, q->key)
               : snap ? pair_table_total(&snap->pairs)
                      : 0;
  struct slice_row *rows = calloc(cfg->n_models + 1, sizeof *rows);
  struct slice_row *prov = calloc(cfg->n_models + 1, sizeof *prov);
  size_t n = 0, main_n = 0, prov_n = 0;
  if (!rows || !prov)
    goto out;
  for (size_t i = 0; i < cfg->n_models; i++) {
    const struct model_config *m = &cfg->models[i];
    if (!m->enabled || (open && !m->card.open_weights))
      continue;
    rows[n].model = m->name; /* the config outlives this request */
    rows[n].cfg = m;
    model_counts(snap, m->name, &rows[n]);
    int k = snap ? bt_snapshot_find(snap, m->name) : -1;
    if (k >= 0 && snap->s[k].component >= 0) {
      rows[n].s = snap->s[k];
      rows[n].rated = 1;
    }
    n++;
  }
  overall_ranks(a, cfg, rows, n);
  split_rows(rows, n, prov, cfg->min_battles, &main_n, &prov_n);
  json_t *slice = q->key[0] ? slice_json(q, votes, cfg, any_rated(rows, main_n))
                            : json_null();
  json_t *body = json_pack(
      "{s:s, s:o, s:I, s:s, s:I, s:I, s:o, s:o}", "source", "human",
      "slice", slice, "votes", (json_int_t)votes, "sort", "bt",
      "min_battles", (json_int_t)cfg->min_battles, "bootstrap_rounds",
      (json_int_t)cfg->bootstrap_rounds, "models",
      rows_json(rows, main_n, 0), "provisional", rows_json(prov, prov_n, 1));
  fit_fields(body, snap ? snap->computed_at : 0, snap ? snap->fit : 0,
             snap ? pair_table_total(&snap->pairs) : 0);
  json_object_set_new(body, "dedup", leaderboard_dedup_json(rq, 1));
  json_object_set_new(body, "open_weights", json_boolean(open));
  if (open)
    json_object_set_new(body, "pending", json_boolean(!snap));
  res = reply_json(rq, MHD_HTTP_OK, body);
out:
  free(rows);
  free(prov);
  bt_snapshot_unref(snap);
  return res;
}

enum MHD_Result leaderboard_slice_reply(struct request *rq,
                                        const struct slice_query *q) {
  return fitted_board_reply(rq, q, q->key, 0);
}

enum MHD_Result leaderboard_open_reply(struct request *rq,
                                       const struct slice_query *q) {
  char key[RATING_OPEN_KEY_MAX];
  rating_worker_open_key(key, q->key);
  return fitted_board_reply(rq, q, key, 1);
}

static json_t *style_json(const struct style_board *b) {
  if (!b)
    return json_pack("{s:b}", "pending", 1);
  json_t *coef = json_object();
  for (int f = 0; f < STYLE_FEATURES; f++)
    json_object_set_new(
        coef, style_feature_names[f],
        json_pack("{s:o, s:o, s:o}", "beta", num(b->res.beta[f]), "ci_low",
                  num(b->beta_low[f]), "ci_high", num(b->beta_high[f])));
  return json_pack("{s:b, s:I, s:I, s:I, s:o}", "pending", 0, "battles",
                   (json_int_t)b->count, "skipped", (json_int_t)b->skipped,
                   "iterations", (json_int_t)b->res.iterations,
                   "coefficients", coef);
}

enum MHD_Result leaderboard_style_reply(struct request *rq,
                                        const struct slice_query *q) {
  struct arena *a = rq->arena;
  const struct config *cfg = rq->cfg;
  enum MHD_Result res = MHD_NO;
  /* Only a board with votes is fitted in the background (and kept): a
   * slice without any is the empty fit, made here at no cost, so that
   * asking for slices that do not exist starts no work and evicts no
   * board. */
  struct style_board *b = NULL;
  if (!q->key[0] || arena_slice_votes(a, q->key) > 0) {
    b = arena_style_board(a, q->key);
  } else {
    struct style_input none;
    style_input_init(&none, 0);
    b = style_board_fit(&none, 0, 1);
  }
  struct slice_row *rows = calloc(cfg->n_models + 1, sizeof *rows);
  struct slice_row *prov = calloc(cfg->n_models + 1, sizeof *prov);
  size_t n = 0, main_n = 0, prov_n = 0;
  if (!rows || !prov)
    goto out;
  for (size_t i = 0; b && i < cfg->n_models; i++) {
    const struct model_config *m = &cfg->models[i];
    if (!m->enabled)
      continue;
    rows[n].model = m->name;
    rows[n].cfg = m;
    int k = style_board_find(b, m->name);
    if (k >= 0) {
      rows[n].battles = b->battles[k];
      rows[n].wins = b->wins[k];
      rows[n].losses = b->losses[k];
      rows[n].ties = b->ties[k];
      if (b->component[k] >= 0 && !isnan(b->rating[k])) {
        rows[n].rated = 1;
        rows[n].s.bt = b->rating[k];
        rows[n].s.ci_low = b->ci_low[k];
        rows[n].s.ci_high = b->ci_high[k];
        rows[n].s.rank_ub = b->rank_ub[k];
        rows[n].s.component = b->component[k];
      }
    }
    n++;
  }
  overall_ranks(a, cfg, rows, n);
  split_rows(rows, n, prov, cfg->min_battles, &main_n, &prov_n);
  json_t *body = json_pack(
      "{s:s, s:b, s:o, s:I, s:s, s:I, s:I, s:o, s:o, s:o}", "source",
      "human", "style_control", 1, "slice",
      q->key[0] ? slice_json(q, b ? b->covers : 0, cfg, any_rated(rows, main_n))
                : json_null(),
      "votes", (json_int_t)(b ? b->covers : 0), "sort", "bt", "min_battles",
      (json_int_t)cfg->min_battles, "bootstrap_rounds",
      (json_int_t)cfg->bootstrap_rounds, "models", rows_json(rows, main_n, 0),
      "provisional", rows_json(prov, prov_n, 1), "style", style_json(b));
  fit_fields(body, b ? b->computed_at : 0, b ? b->fit : 0,
             b ? (json_int_t)b->count + b->skipped : 0);
  json_object_set_new(body, "dedup", leaderboard_dedup_json(rq, 1));
  res = reply_json(rq, MHD_HTTP_OK, body);
out:
  free(rows);
  free(prov);
  style_board_unref(b);
  return res;
}

json_t *leaderboard_dedup_json(struct request *rq, int human) {
  return json_pack("{s:b, s:f, s:I, s:I}", "enabled",
                   human && rq->cfg->dedup_min_count > 0, "percentile",
                   DEDUP_PERCENTILE, "min_count",
                   (json_int_t)rq->cfg->dedup_min_count, "left_out",
                   (json_int_t)(human ? arena_dedup_left_out(rq->arena) : 0));
}

/* The category names a board can be asked for, in a stable order: the
 * heuristic ones, the LLM built-ins, then the [category] sections. */
static json_t *categories_json(const struct config *cfg) {
  json_t *arr = json_array();
  for (int i = 0; i < TAG_N_HEURISTIC; i++)
    json_array_append_new(
        arr, json_pack("{s:s, s:s}", "name", heuristic_tag_name(i), "kind",
                       "heuristic"));
  for (int i = 0; i < LLM_TAG_BUILTINS; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s}", "name",
                                         llm_tag_builtins[i].name, "kind",
                                         "llm"));
  for (size_t i = 0; i < cfg->n_categories; i++)
    json_array_append_new(arr, json_pack("{s:s, s:s}", "name",
                                         cfg->categories[i].name, "kind",
                                         "custom"));
  return arr;
}

enum MHD_Result handle_leaderboard_slices(struct request *rq) {
  struct slice_count *c = NULL;
  size_t n = 0;
  if (arena_slices(rq->arena, &c, &n))
    return MHD_NO;
  json_t *slices = json_array(), *languages = json_array();
  for (size_t i = 0; i < n; i++) {
    char lang[SLICE_LANG_MAX] = "", cat[SLICE_CAT_MAX] = "";
    slice_key_parts(c[i].key, lang, cat);
    json_array_append_new(
        slices, json_pack("{s:s, s:o, s:o, s:I}", "key", c[i].key,
                          "language", *lang ? json_string(lang) : json_null(),
                          "category", *cat ? json_string(cat) : json_null(),
                          "votes", (json_int_t)c[i].votes));
    if (*lang && !*cat)
      json_array_append_new(
          languages, json_pack("{s:s, s:I}", "code", lang, "votes",
                               (json_int_t)c[i].votes));
  }
  free(c);
  json_t *body = json_pack("{s:o, s:o, s:o, s:I}", "slices", slices,
                           "languages", languages, "categories",
                           categories_json(rq->cfg), "min_battles",
                           (json_int_t)rq->cfg->min_battles);
  return reply_json(rq, MHD_HTTP_OK, body);
}
