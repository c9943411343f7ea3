/* Judge verdicts in the SQLite database, and what judges read from it. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/clock.h"

/* Verdicts are stored at once but published (stats, judge boards,
 * correlations) only for battles whose human vote is in, or that can no
 * longer be voted: before that, a verdict moving a model's score would
 * name the models of a blind battle. */
#define JUDGMENT_PUBLISHED "('voted', 'failed')"

int sqlite_case_load(void *cls, const char *id, struct case_data *out) {
  struct sqlite_store *st = cls;
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", id);
  int rc = -1;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT prompt, answer_a, answer_b, error_a, error_b FROM turns WHERE "
      "battle_id = ? ORDER BY turn",
      "t", id);
  if (!s)
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    if (sqlite3_column_type(s, 1) == SQLITE_NULL ||
        sqlite3_column_type(s, 3) != SQLITE_NULL ||
        sqlite3_column_type(s, 4) != SQLITE_NULL) {
      rc = 1; /* unfinished or failed: nothing to judge */
      goto out;
    }
    if (case_data_add_turn(out, sqlite_text(s, 0), sqlite_text(s, 1),
                           sqlite_text(s, 2)))
      goto out;
  }
  if (r != SQLITE_DONE)
    goto out;
  if (out->c.n_turns) {
    rc = 0;
    goto out;
  }
  s = sqlite_stmt_next(s, "SELECT record FROM battles WHERE id = ?", "t", id);
  if (!s)
    goto out;
  if (sqlite3_step(s) == SQLITE_ROW &&
      sqlite3_column_type(s, 0) != SQLITE_NULL)
    rc = case_data_from_record(out, sqlite_text(s, 0));
  else
    rc = 1;
out:
  sqlite_read_end(st, s);
  if (rc)
    case_data_release(out);
  return rc;
}

int sqlite_judge_pending(void *cls, const char *judge, long limit,
                         char ***ids, size_t *n) {
  struct sqlite_store *st = cls;
  int rc = -1;
  *ids = NULL;
  *n = 0;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT b.id FROM battles b WHERE b.status IN ('ready', 'voted') "
      "AND b.mode != 'direct' AND NOT EXISTS (SELECT 1 FROM judgments j WHERE j.battle_id = b.id "
      "AND j.judge = ?1 AND j.verdict IS NOT NULL) ORDER BY b.created_at, "
      "b.id LIMIT ?2",
      "tl", judge, limit > 0 ? limit : -1L);
  if (!s)
    goto out;
  int r;
  size_t cap = 0;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    if (*n == cap) {
      cap = cap ? cap * 2 : 64;
      char **more = realloc(*ids, cap * sizeof *more);
      if (!more)
        goto out;
      *ids = more;
    }
    (*ids)[(*n)++] = sqlite_text_dup(s, 0);
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite_read_end(st, s);
  return rc;
}

int sqlite_recent_votes(void *cls, size_t want, char (*ids)[40],
                        char *winners, size_t *found) {
  struct sqlite_store *st = cls;
  *found = 0;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT v.battle_id, v.winner FROM votes v JOIN battles b ON b.id = "
      "v.battle_id WHERE v.counted = 1 ORDER BY v.seq DESC LIMIT ?",
      "I", (int64_t)want);
  while (s && *found < want && sqlite3_step(s) == SQLITE_ROW) {
    const char *w = sqlite_text(s, 1);
    snprintf(ids[*found], sizeof ids[0], "%s", sqlite_text(s, 0));
    winners[*found] = !strcmp(w, "a") ? 'A' : !strcmp(w, "b") ? 'B' : 'C';
    (*found)++;
  }
  int rc = s ? 0 : -1;
  sqlite_read_end(st, s);
  return rc;
}

int sqlite_judgment_save(void *cls, const struct judgment *j) {
  struct sqlite_store *st = cls;
  int rc = -1;
  char *scores = j->scores ? json_dumps(j->scores, JSON_COMPACT) : NULL;
  char *raw = j->raw ? json_dumps(j->raw, JSON_COMPACT) : NULL;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "INSERT OR REPLACE INTO judgments (battle_id, judge, mode, verdict, "
      "verdict_ab, verdict_ba, inconsistent, scores, raw, error, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      "ttttttitttI", j->battle_id, j->judge, j->mode, j->verdict,
      j->verdict_ab, j->verdict_ba, j->inconsistent, scores, raw, j->error,
      now_ms());
  if (!s)
    goto out;
  rc = sqlite_step_done(s, NULL);
  if (rc)
    log_error("msg=\"cannot store judgment\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->db)));
out:
  sqlite3_finalize(s);
  free(scores);
  free(raw);
  return rc;
}

json_t *sqlite_judge_stats(void *cls, const char *judge) {
  struct sqlite_store *st = cls;
  json_t *out = NULL;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT count(j.verdict), sum(j.verdict IS NULL), sum(j.inconsistent),"
      " sum(v.winner IS NOT NULL AND j.verdict IS NOT NULL), "
      " sum(v.winner IS NOT NULL AND j.verdict = CASE v.winner WHEN "
      "   'bothbad' THEN 'tie' ELSE v.winner END), "
      " sum(v.winner IN ('a', 'b') AND j.verdict IN ('a', 'b')), "
      " sum(v.winner IN ('a', 'b') AND j.verdict = v.winner) "
      "FROM judgments j JOIN battles b ON b.id = j.battle_id AND "
      "b.status IN " JUDGMENT_PUBLISHED " LEFT JOIN votes v ON "
      "v.battle_id = j.battle_id AND v.counted = 1 WHERE j.judge = ?",
      "t", judge);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    goto out;
  long judged = sqlite3_column_int64(s, 0), errors = sqlite3_column_int64(s, 1),
       inconsistent = sqlite3_column_int64(s, 2),
       both = sqlite3_column_int64(s, 3), agree = sqlite3_column_int64(s, 4),
       both_nt = sqlite3_column_int64(s, 5), agree_nt = sqlite3_column_int64(s, 6);
  out = json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:o, s:o}", "name", judge,
                  "judged", (json_int_t)judged, "errors", (json_int_t)errors,
                  "inconsistent", (json_int_t)inconsistent, "compared",
                  (json_int_t)both, "compared_no_ties", (json_int_t)both_nt,
                  "agreement",
                  both ? json_real((double)agree / (double)both) : json_null(),
                  "agreement_no_ties",
                  both_nt ? json_real((double)agree_nt / (double)both_nt)
                          : json_null());
  /* verdicts (and errors) held back on battles still blind: a count that
   * does not depend on the models */
  s = sqlite_stmt_next(s,
                       "SELECT count(*) FROM judgments j JOIN battles b ON "
                       "b.id = j.battle_id WHERE j.judge = ? AND b.status "
                       "NOT IN " JUDGMENT_PUBLISHED,
                       "t", judge);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    goto fail;
  json_object_set_new(out, "pending", json_integer(sqlite3_column_int64(s, 0)));
  /* single mode: each model's mean score over the four criteria */
  s = sqlite_stmt_next(s,
                       "SELECT b.model_a, b.model_b, j.scores FROM judgments "
                       "j JOIN battles b ON b.id = j.battle_id WHERE j.judge "
                       "= ? AND j.scores IS NOT NULL AND j.verdict IS NOT "
                       "NULL AND b.status IN " JUDGMENT_PUBLISHED,
                       "t", judge);
  if (!s)
    goto out;
  json_t *sums = json_object(); /* model -> [sum, n] */
  while (sqlite3_step(s) == SQLITE_ROW) {
    json_t *sc = json_loads(sqlite_text(s, 2), 0, NULL);
    for (int side = 0; side < 2; side++) {
      json_t *arr = json_object_get(sc, side ? "b" : "a");
      const char *model = sqlite_text(s, side);
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
        json_array_set_new(acc, 1,
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
  json_object_set_new(out, "scores", scores);
  goto out;
fail:
  json_decref(out);
  out = NULL;
out:
  sqlite_read_end(st, s);
  return out;
}

int sqlite_judge_ratings(void *cls, const char *judge, double k,
                         struct rating_table *elo, struct pair_table *pairs) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT b.model_a, b.model_b, j.verdict FROM judgments j JOIN battles "
      "b ON b.id = j.battle_id WHERE j.judge = ? AND j.verdict IS NOT NULL "
      "AND b.status IN " JUDGMENT_PUBLISHED " ORDER BY j.id",
      "t", judge);
  if (!s)
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW)
    if (sqlite_replay_row(s, k, elo, pairs) < 0) /* 1: no verdict to count */
      goto out;
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite_read_end(st, s);
  return rc;
}
