/* Battles and their turns in the PostgreSQL database: the same rows and
 * rules as storage/sqlite/battles.c, each write one round trip. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/tags.h"
#include "util/log.h"

int pg_battle_create(void *cls, const char *id, int64_t created_at,
                     const char *model_a, const char *model_b,
                     const char *mode, const char *session,
                     const char *prompt) {
  struct pg_store *ps = cls;
  /* the battle and its first turn in one statement (the turn's foreign
   * key is checked at its end, the battle inserted by then) */
  long n = pg_run_prepared(
      ps, PG_BATTLE_INSERT, "battle_create",
      "WITH b AS (INSERT INTO battles (id, created_at, model_a, model_b, "
      "session, status, mode, anony) VALUES ($1, $2, $3, $4, $5, "
      "'streaming', $6::text, ($6::text = 'anony')::int) RETURNING id) "
      "INSERT INTO turns (battle_id, turn, prompt, started_at) SELECT id, 1, "
      "$7::text, $2::bigint FROM b",
      "tIttttt", id, created_at, model_a, model_b, session, mode, prompt);
  return n == 1 ? 0 : -1;
}

int pg_turn_add(void *cls, const char *id, int turn, const char *prompt,
                int64_t started_at) {
  struct pg_store *ps = cls;
  long n = pg_run_prepared(
      ps, PG_TURN_INSERT, "turn_add",
      "WITH b AS (UPDATE battles SET status = 'streaming' WHERE id = $1 AND "
      "status = 'ready' RETURNING id) INSERT INTO turns (battle_id, turn, "
      "prompt, started_at) SELECT id, $2::int, $3::text, $4::bigint FROM b",
      "titI", id, turn, prompt, started_at);
  if (n < 0)
    return -1;
  return n == 1 ? 0 : 1; /* 0 rows: voted meanwhile */
}

int pg_turn_finish(void *cls, const char *id, int turn,
                   const struct turn_answer ans[2], int64_t finished_at,
                   const char *status, const char *identity,
                   const struct battle_tags *tags) {
  struct pg_store *ps = cls;
  char names[BATTLE_TAGS_TEXT_MAX] = "";
  char *meta_text = NULL;
  if (tags) {
    battle_tags_text(tags->mask, names);
    json_t *meta = store_conv_metadata(tags);
    meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
    json_decref(meta);
    if (!meta_text)
      return -1;
  }
  /* the turn's answers, then the battle's status (from 'streaming' only)
   * and, when given, its tags: one statement, the battle updated only
   * when the turn was there */
  PGresult *r = pg_prepared(
      ps, PG_TURN_FINISH, "turn_finish",
      "WITH t AS (UPDATE turns SET answer_a = $1, answer_b = $2, error_a = "
      "$3, error_b = $4, reasoning_a = $5, reasoning_b = $6, finished_at = "
      "$7, identity = $8, identity_checked = 1 WHERE battle_id = $9 AND "
      "turn = $10 RETURNING battle_id), b AS (UPDATE battles SET status = "
      "CASE WHEN status = 'streaming' THEN $11 ELSE status END, language = "
      "CASE WHEN $12::boolean THEN $13 ELSE language END, tags = CASE WHEN $12 THEN "
      "$14 ELSE tags END, conv_metadata = CASE WHEN $12 THEN $15 ELSE "
      "conv_metadata END, prompt_hash = CASE WHEN $12 THEN $16::bigint ELSE "
      "prompt_hash END WHERE id = $9 AND EXISTS (SELECT 1 FROM t) RETURNING "
      "id) SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM b)",
      "ttttttIttitbtttI", ans[0].text ? ans[0].text : "",
      ans[1].text ? ans[1].text : "", ans[0].error, ans[1].error,
      ans[0].reasoning, ans[1].reasoning, finished_at, identity, id, turn,
      status, tags != NULL, tags ? tags->language : NULL, names, meta_text,
      tags ? (int64_t)tags->prompt_hash : (int64_t)0);
  free(meta_text);
  if (!r)
    return -1;
  /* no such turn: its battle was never stored */
  int rc = PQntuples(r) == 1 && pg_col_long(r, 0, 0) == 1 ? 0 : -1;
  PQclear(r);
  return rc;
}

int pg_battle_load(void *cls, const char *id, struct battle_record *out) {
  struct pg_store *ps = cls;
  int rc = -1;
  memset(out, 0, sizeof *out);
  out->winner = -1;
  /* the battle (once, in x) and its turns, one row a turn, in one
   * statement: one snapshot */
  PGresult *r = pg_read(
      ps, "battle_load",
      "SELECT x.*, t.turn, t.prompt, t.answer_a, t.answer_b, t.error_a, "
      "t.error_b, t.reasoning_a, t.reasoning_b FROM (SELECT b.id, "
      "b.created_at, b.model_a, b.model_b, b.session, b.status, v.winner, "
      "b.mode, v.reasons, v.comment, " PG_REPLACED_COLUMNS("b.id")
      " FROM battles b LEFT JOIN votes v ON v.battle_id = b.id WHERE b.id = "
      "$1) x LEFT JOIN turns t ON t.battle_id = x.id ORDER BY t.turn",
      "t", id);
  if (!r)
    goto out;
  int rows = PQntuples(r);
  if (rows == 0) {
    rc = 1;
    goto out;
  }
  snprintf(out->id, sizeof out->id, "%s", pg_col_text(r, 0, 0));
  out->created_at = pg_col_int64(r, 0, 1);
  out->model[0] = pg_col_dup(r, 0, 2);
  out->model[1] = pg_col_dup(r, 0, 3);
  snprintf(out->session, sizeof out->session, "%s", pg_col_text(r, 0, 4));
  snprintf(out->status, sizeof out->status, "%s", pg_col_text(r, 0, 5));
  snprintf(out->mode, sizeof out->mode, "%s", pg_col_text(r, 0, 7));
  if (!pg_col_null(r, 0, 6)) {
    enum winner w;
    if (winner_parse(pg_col_text(r, 0, 6), &w) == 0)
      out->winner = (int)w;
  }
  out->reasons = pg_col_dup(r, 0, 8);
  out->comment = pg_col_dup(r, 0, 9);
  out->replaced = pg_col_dup(r, 0, 10);
  out->replacements = pg_col_dup(r, 0, 11);
  enum { TURN = 12 };
  if (!out->model[0] || !out->model[1])
    goto out;
  if (rows > 1 || !pg_col_null(r, 0, TURN)) {
    out->turns = calloc((size_t)rows, sizeof *out->turns);
    if (!out->turns)
      goto out;
    for (int i = 0; i < rows; i++) {
      struct turn_record *tr = &out->turns[out->n_turns++];
      tr->prompt = pg_col_dup(r, i, TURN + 1);
      for (int side = 0; side < 2; side++) {
        tr->answer[side] = pg_col_dup(r, i, TURN + 2 + side);
        tr->error[side] = pg_col_dup(r, i, TURN + 4 + side);
        tr->reasoning[side] = pg_col_dup(r, i, TURN + 6 + side);
      }
    }
  }
  rc = 0;
out:
  PQclear(r);
  if (rc != 0)
    battle_record_release(out);
  return rc;
}

json_t *pg_battles_list(void *cls, const char *model, const char *status,
                        int64_t since, int64_t until, long limit,
                        long offset) {
  struct pg_store *ps = cls;
  PGresult *r = pg_read(
      ps, "battles_list",
      "SELECT b.id, b.created_at, b.model_a, b.model_b, b.status, b.source, "
      "v.winner, v.counted, v.reason, (SELECT count(*) FROM turns t WHERE "
      "t.battle_id = b.id), b.mode FROM battles b LEFT JOIN votes v ON "
      "v.battle_id = b.id WHERE ($1::text IS NULL OR b.model_a = $1 OR "
      "b.model_b = $1) AND ($2::text IS NULL OR b.status = $2) AND "
      "($3::bigint = 0 OR b.created_at >= $3) AND ($4::bigint = 0 OR "
      "b.created_at < $4) ORDER BY b.created_at DESC, b.id COLLATE \"C\" "
      "LIMIT $5 OFFSET $6",
      "ttIIll", model, status, since, until, limit, offset);
  if (!r)
    return NULL;
  json_t *out = json_array();
  for (int i = 0; out && i < PQntuples(r); i++) {
    json_t *row = json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "id", pg_col_text(r, i, 0),
        "created_at", (json_int_t)pg_col_int64(r, i, 1), "model_a",
        pg_col_text(r, i, 2), "model_b", pg_col_text(r, i, 3), "status",
        pg_col_text(r, i, 4), "source", pg_col_text(r, i, 5), "turns",
        (json_int_t)pg_col_int64(r, i, 9), "mode", pg_col_text(r, i, 10));
    if (!row) {
      json_decref(out);
      out = NULL;
      break;
    }
    if (!pg_col_null(r, i, 6)) {
      json_object_set_new(row, "winner", json_string(pg_col_text(r, i, 6)));
      json_object_set_new(row, "counted", json_boolean(pg_col_int(r, i, 7)));
      const char *reason = pg_col_text(r, i, 8);
      json_object_set_new(row, "reason",
                          reason ? json_string(reason) : json_null());
    } else {
      json_object_set_new(row, "winner", json_null());
    }
    json_array_append_new(out, row);
  }
  PQclear(r);
  return out;
}
