/* Judge verdicts in the PostgreSQL database, and what judges read from it
 * (storage/sqlite/judgments.c's rules, the same answers for the same
 * data). The reads are on the read connection (pg_read), the verdicts
 * written on the write connection. */
#include "storage/postgres/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"

/* Verdicts are stored at once but published (stats, judge boards,
 * correlations) only for battles whose human vote is in, or that can no
 * longer be voted: before that, a verdict moving a model's score would
 * name the models of a blind battle. */
#define JUDGMENT_PUBLISHED "('voted', 'failed')"

int pg_case_load(void *cls, const char *id, struct case_data *out) {
  struct pg_store *ps = cls;
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", id);
  int rc = -1;
  PGresult *r = pg_read(ps, "case_load",
                        "SELECT prompt, answer_a, answer_b, error_a, error_b "
                        "FROM turns WHERE battle_id = $1 ORDER BY turn",
                        "t", id);
  if (!r)
    goto out;
  int n = PQntuples(r);
  for (int i = 0; i < n; i++) {
    if (pg_col_null(r, i, 1) || !pg_col_null(r, i, 3) || !pg_col_null(r, i, 4)) {
      rc = 1; /* unfinished or failed: nothing to judge */
      goto out;
    }
    if (case_data_add_turn(out, pg_col_text(r, i, 0), pg_col_text(r, i, 1),
                           pg_col_text(r, i, 2)))
      goto out;
  }
  if (n) {
    rc = 0;
    goto out;
  }
  PQclear(r);
  r = pg_read(ps, "case_load", "SELECT record FROM battles WHERE id = $1",
              "t", id);
  if (!r)
    goto out;
  if (PQntuples(r) == 1 && !pg_col_null(r, 0, 0))
    rc = case_data_from_record(out, pg_col_text(r, 0, 0));
  else
    rc = 1;
out:
  PQclear(r);
  if (rc)
    case_data_release(out);
  return rc;
}

int pg_judge_pending(void *cls, const char *judge, long limit, char ***ids,
                     size_t *n) {
  struct pg_store *ps = cls;
  *ids = NULL;
  *n = 0;
  /* LIMIT NULL: every battle */
  PGresult *r = pg_read(
      ps, "judge_pending",
      "SELECT b.id FROM battles b WHERE b.status IN ('ready', 'voted') AND "
      "b.mode <> 'direct' AND NOT EXISTS (SELECT 1 FROM judgments j WHERE "
      "j.battle_id = b.id AND j.judge = $1 AND j.verdict IS NOT NULL) ORDER "
      "BY b.created_at, b.id COLLATE \"C\" LIMIT $2",
      limit > 0 ? "tl" : "tn", judge, limit);
  int rc = r ? pg_collect_ids(r, ids, n) : -1;
  PQclear(r);
  return rc;
}

int pg_recent_votes(void *cls, size_t want, char (*ids)[40], char *winners,
                    size_t *found) {
  struct pg_store *ps = cls;
  *found = 0;
  PGresult *r = pg_read(
      ps, "recent_votes",
      "SELECT v.battle_id, v.winner FROM votes v JOIN battles b ON b.id = "
      "v.battle_id WHERE v.counted = 1 ORDER BY v.seq DESC LIMIT $1",
      "I", (int64_t)want);
  if (!r)
    return -1;
  for (int i = 0; i < PQntuples(r) && *found < want; i++) {
    const char *w = pg_col_text(r, i, 1);
    snprintf(ids[*found], sizeof ids[0], "%s", pg_col_text(r, i, 0));
    winners[*found] = !strcmp(w, "a") ? 'A' : !strcmp(w, "b") ? 'B' : 'C';
    (*found)++;
  }
  PQclear(r);
  return 0;
}

int pg_judgment_save(void *cls, const struct judgment *j) {
  struct pg_store *ps = cls;
  char *scores = j->scores ? json_dumps(j->scores, JSON_COMPACT) : NULL;
  char *raw = j->raw ? json_dumps(j->raw, JSON_COMPACT) : NULL;
  /* SQLite's INSERT OR REPLACE: a judgment replaced is a new row, with a
   * new id (judgment order: the exports and judge boards follow it) */
  long rc = pg_run(
      ps, NULL,
      "INSERT INTO judgments (battle_id, judge, mode, verdict, verdict_ab, "
      "verdict_ba, inconsistent, scores, raw, error, created_at) VALUES ($1, "
      "$2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (battle_id, "
      "judge) DO UPDATE SET id = DEFAULT, mode = EXCLUDED.mode, verdict = "
      "EXCLUDED.verdict, verdict_ab = EXCLUDED.verdict_ab, verdict_ba = "
      "EXCLUDED.verdict_ba, inconsistent = EXCLUDED.inconsistent, scores = "
      "EXCLUDED.scores, raw = EXCLUDED.raw, error = EXCLUDED.error, "
      "created_at = EXCLUDED.created_at",
      "ttttttitttI", j->battle_id, j->judge, j->mode, j->verdict,
      j->verdict_ab, j->verdict_ba, j->inconsistent, scores, raw, j->error,
      now_ms());
  if (rc < 0)
    log_error("msg=\"cannot store judgment\" err=\"%s\"",
              log_q(pg_error(ps)));
  free(scores);
  free(raw);
  return rc < 0 ? -1 : 0;
}

/* The single mode's mean score of each model over the four criteria, from
 * the rows of r (model_a, model_b, scores), as a new object. */
static json_t *mean_scores(const PGresult *r) {
  json_t *sums = json_object(); /* model -> [sum, n] */
  for (int i = 0; i < PQntuples(r); i++) {
    json_t *sc = json_loads(pg_col_text(r, i, 2), 0, NULL);
    for (int side = 0; side < 2; side++) {
      json_t *arr = json_object_get(sc, side ? "b" : "a");
      const char *model = pg_col_text(r, i, side);
      json_t *acc = json_object_get(sums, model);
      if (!acc) {
        acc = json_pack("[f, i]", 0.0, 0);
        json_object_set_new(sums, model, acc);
      }
      double total = 0;
      for (size_t k = 0; k < json_array_size(arr); k++)
        total += json_number_value(json_array_get(arr, k));
      if (json_array_size(arr) == 4) {
        json_array_set_new(acc, 0,
                           json_real(json_real_value(json_array_get(acc, 0)) +
                                     total / 4.0));
        json_array_set_new(
            acc, 1,
            json_integer(json_integer_value(json_array_get(acc, 1)) + 1));
      }
    }
    json_decref(sc);
  }
  json_t *scores = json_object();
  const char *model;
  json_t *acc;
  json_object_foreach(sums, model, acc) {
    json_int_t cnt = json_integer_value(json_array_get(acc, 1));
    if (cnt)
      json_object_set_new(scores, model,
                          json_real(json_real_value(json_array_get(acc, 0)) /
                                    (double)cnt));
  }
  json_decref(sums);
  return scores;
}

json_t *pg_judge_stats(void *cls, const char *judge) {
  struct pg_store *ps = cls;
  json_t *out = NULL;
  PGresult *r = pg_read(
      ps, "judge_stats",
      "SELECT count(j.verdict), count(*) FILTER (WHERE j.verdict IS NULL), "
      "sum(j.inconsistent), count(*) FILTER (WHERE v.winner IS NOT NULL AND "
      "j.verdict IS NOT NULL), count(*) FILTER (WHERE j.verdict = CASE "
      "v.winner WHEN 'bothbad' THEN 'tie' ELSE v.winner END), count(*) "
      "FILTER (WHERE v.winner IN ('a', 'b') AND j.verdict IN ('a', 'b')), "
      "count(*) FILTER (WHERE v.winner IN ('a', 'b') AND j.verdict = "
      "v.winner) FROM judgments j JOIN battles b ON b.id = j.battle_id AND "
      "b.status IN " JUDGMENT_PUBLISHED " LEFT JOIN votes v ON v.battle_id "
      "= j.battle_id AND v.counted = 1 WHERE j.judge = $1",
      "t", judge);
  if (!r || PQntuples(r) != 1)
    goto out;
  long judged = pg_col_long(r, 0, 0), errors = pg_col_long(r, 0, 1),
       inconsistent = pg_col_long(r, 0, 2), both = pg_col_long(r, 0, 3),
       agree = pg_col_long(r, 0, 4), both_nt = pg_col_long(r, 0, 5),
       agree_nt = pg_col_long(r, 0, 6);
  out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "name", judge,
                  "judged", (json_int_t)judged, "errors", (json_int_t)errors,
                  "inconsistent", (json_int_t)inconsistent, "compared",
                  (json_int_t)both, "compared_no_ties", (json_int_t)both_nt,
                  "agreement",
                  both ? json_real((double)agree / (double)both) : json_null(),
                  "agreement_no_ties",
                  both_nt ? json_real((double)agree_nt / (double)both_nt)
                          : json_null());
  if (!out)
    goto out;
  /* verdicts (and errors) held back on battles still blind: a count that
   * does not depend on the models */
  PQclear(r);
  r = pg_read(ps, "judge_stats",
              "SELECT count(*) FROM judgments j JOIN battles b ON b.id = "
              "j.battle_id WHERE j.judge = $1 AND b.status NOT IN "
              JUDGMENT_PUBLISHED,
              "t", judge);
  if (!r || PQntuples(r) != 1)
    goto fail;
  json_object_set_new(out, "pending", json_integer(pg_col_int64(r, 0, 0)));
  /* single mode: each model's mean score over the four criteria, summed
   * in judgment order */
  PQclear(r);
  r = pg_read(ps, "judge_stats",
              "SELECT b.model_a, b.model_b, j.scores FROM judgments j JOIN "
              "battles b ON b.id = j.battle_id WHERE j.judge = $1 AND "
              "j.scores IS NOT NULL AND j.verdict IS NOT NULL AND b.status "
              "IN " JUDGMENT_PUBLISHED " ORDER BY j.id",
              "t", judge);
  if (!r)
    goto out; /* as SQLite's: the stats without their scores */
  json_object_set_new(out, "scores", mean_scores(r));
  goto out;
fail:
  json_decref(out);
  out = NULL;
out:
  PQclear(r);
  return out;
}

int pg_judge_ratings(void *cls, const char *judge, double k,
                     struct rating_table *elo, struct pair_table *pairs) {
  struct pg_store *ps = cls;
  int rc = -1;
  PGresult *r = pg_read(
      ps, "judge_ratings",
      "SELECT b.model_a, b.model_b, j.verdict FROM judgments j JOIN battles "
      "b ON b.id = j.battle_id WHERE j.judge = $1 AND j.verdict IS NOT NULL "
      "AND b.status IN " JUDGMENT_PUBLISHED " ORDER BY j.id",
      "t", judge);
  if (!r)
    goto out;
  for (int i = 0; i < PQntuples(r); i++) {
    enum winner w;
    if (winner_parse(pg_col_text(r, i, 2), &w))
      continue; /* no verdict to count */
    const char *a = pg_col_text(r, i, 0), *b = pg_col_text(r, i, 1);
    if (rating_table_apply(elo, a, b, w, k) || pair_table_add(pairs, a, b, w))
      goto out;
  }
  rc = 0;
out:
  PQclear(r);
  return rc;
}
