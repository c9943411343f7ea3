/* Battles and their turns in the SQLite database. */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/tags.h"
#include "util/log.h"

/* Insert turn number turn of battle id; op names it in the log. */
static int turn_insert(struct sqlite_store *st, const char *id, int turn,
                       const char *prompt, int64_t started_at,
                       const char *op) {
  sqlite3_stmt *t = sqlite_stmt(st, STMT_TURN_INSERT,
                               "INSERT INTO turns (battle_id, turn, prompt, "
                               "started_at) VALUES (?, ?, ?, ?)",
                               "titI", id, turn, prompt, started_at);
  return t ? sqlite_step_done(t, op) : -1;
}

int sqlite_battle_create(void *cls, const char *id, int64_t created_at,
                         const char *model_a, const char *model_b,
                         const char *mode, const char *session,
                         const char *prompt) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *b = sqlite_stmt(
      st, STMT_BATTLE_INSERT,
      "INSERT INTO battles (id, created_at, model_a, model_b, session, "
      "status, mode, anony) VALUES (?1, ?2, ?3, ?4, ?5, 'streaming', ?6, "
      "?6 = 'anony')",
      "tItttt", id, created_at, model_a, model_b, session, mode);
  if (!b || sqlite_step_done(b, "battle_create"))
    return -1;
  return turn_insert(st, id, 1, prompt, created_at, "turn_create");
}

int sqlite_turn_add(void *cls, const char *id, int turn, const char *prompt,
                    int64_t started_at) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *b = sqlite_stmt(st, STMT_BATTLE_RESUME,
                               "UPDATE battles SET status = 'streaming' "
                               "WHERE id = ? AND status = 'ready'",
                               "t", id);
  if (!b || sqlite_step_done(b, "turn_status"))
    return -1;
  if (sqlite3_changes(st->db) != 1)
    return 1;  /* voted meanwhile */
  return turn_insert(st, id, turn, prompt, started_at, "turn_add");
}

/* Store a battle's tags as they stand after a turn (storage/tags.h). */
static int store_battle_tags(struct sqlite_store *st, const char *id,
                             const struct battle_tags *tags) {
  char names[BATTLE_TAGS_TEXT_MAX];
  battle_tags_text(tags->mask, names);
  json_t *meta = store_conv_metadata(tags);
  char *meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
  json_decref(meta);
  sqlite3_stmt *t = NULL;
  if (meta_text)
    t = sqlite_stmt(st, STMT_BATTLE_TAGS,
                    "UPDATE battles SET language = ?, tags = ?, conv_metadata "
                    "= ?, prompt_hash = ? WHERE id = ?",
                    "tttIt", tags->language, names, meta_text,
                    (int64_t)tags->prompt_hash, id);
  int rc = t ? sqlite_step_done(t, "battle_tags") : -1;
  free(meta_text);
  return rc;
}

int sqlite_turn_finish(void *cls, const char *id, int turn,
                       const struct turn_answer ans[2], int64_t finished_at,
                       const char *status, const char *identity,
                       const struct battle_tags *tags) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *t = sqlite_stmt(
      st, STMT_TURN_FINISH,
      "UPDATE turns SET answer_a = ?, answer_b = ?, error_a = ?, error_b = ?, "
      "reasoning_a = ?, reasoning_b = ?, finished_at = ?, identity = ?, "
      "identity_checked = 1 WHERE battle_id = ? AND turn = ?",
      "ttttttItti", ans[0].text ? ans[0].text : "",
      ans[1].text ? ans[1].text : "", ans[0].error, ans[1].error,
      ans[0].reasoning, ans[1].reasoning, finished_at, identity, id, turn);
  if (!t || sqlite_step_done(t, "turn_finish"))
    return -1;
  if (sqlite3_changes(st->db) != 1)
    return -1;  /* no such turn: its battle was never stored */
  sqlite3_stmt *b = sqlite_stmt(st, STMT_BATTLE_FINISH,
                               "UPDATE battles SET status = ? WHERE id = ? "
                               "AND status = 'streaming'",
                               "tt", status, id);
  if (!b || sqlite_step_done(b, "battle_status"))
    return -1;
  return tags ? store_battle_tags(st, id, tags) : 0;
}

int sqlite_battle_load(void *cls, const char *id, struct battle_record *out) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *t = NULL;
  memset(out, 0, sizeof *out);
  out->winner = -1;
  sqlite3_stmt *b = sqlite_read_begin(
      st,
      "SELECT b.id, b.created_at, b.model_a, b.model_b, b.session, b.status, "
      "v.winner, b.mode, v.reasons, v.comment, " SQLITE_REPLACED_COLUMNS("b.id")
      " FROM battles b LEFT JOIN votes v ON v.battle_id = b.id WHERE b.id = ?",
      "t", id);
  if (!b || !(t = sqlite_stmt_new(st->rdb,
                                  "SELECT prompt, answer_a, answer_b, "
                                  "error_a, error_b, reasoning_a, reasoning_b "
                                  "FROM turns WHERE battle_id = ? ORDER BY "
                                  "turn",
                                  "t", id)))
    goto out;
  int s = sqlite3_step(b);
  if (s == SQLITE_DONE) {
    rc = 1;
    goto out;
  }
  if (s != SQLITE_ROW)
    goto out;
  snprintf(out->id, sizeof out->id, "%s", sqlite_text(b, 0));
  out->created_at = sqlite3_column_int64(b, 1);
  out->model[0] = sqlite_text_dup(b, 2);
  out->model[1] = sqlite_text_dup(b, 3);
  snprintf(out->session, sizeof out->session, "%s", sqlite_text(b, 4));
  snprintf(out->status, sizeof out->status, "%s", sqlite_text(b, 5));
  snprintf(out->mode, sizeof out->mode, "%s", sqlite_text(b, 7));
  if (sqlite3_column_type(b, 6) != SQLITE_NULL) {
    enum winner w;
    if (winner_parse(sqlite_text(b, 6), &w) == 0)
      out->winner = (int)w;
  }
  out->reasons = sqlite_text_dup(b, 8);
  out->comment = sqlite_text_dup(b, 9);
  out->replaced = sqlite_text_dup(b, 10);
  out->replacements = sqlite_text_dup(b, 11);
  while ((s = sqlite3_step(t)) == SQLITE_ROW) {
    struct turn_record *turns =
        realloc(out->turns, (out->n_turns + 1) * sizeof *turns);
    if (!turns)
      goto out;
    out->turns = turns;
    struct turn_record *tr = &turns[out->n_turns++];
    tr->prompt = sqlite_text_dup(t, 0);
    for (int side = 0; side < 2; side++) {
      tr->answer[side] = sqlite_text_dup(t, 1 + side);
      tr->error[side] = sqlite_text_dup(t, 3 + side);
      tr->reasoning[side] = sqlite_text_dup(t, 5 + side);
    }
  }
  if (s != SQLITE_DONE)
    goto out;
  rc = 0;
out:
  if (rc < 0)
    log_error("msg=\"cannot load battle\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  sqlite3_finalize(t);
  sqlite_read_end(st, b);
  if (rc != 0)
    battle_record_release(out);
  return rc;
}

json_t *sqlite_battles_list(void *cls, const char *model, const char *status,
                            int64_t since, int64_t until, long limit,
                            long offset) {
  struct sqlite_store *st = cls;
  json_t *out = NULL;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT b.id, b.created_at, b.model_a, b.model_b, b.status, "
      "b.source, v.winner, v.counted, v.reason, (SELECT count(*) FROM "
      "turns t WHERE t.battle_id = b.id), b.mode FROM battles b LEFT JOIN "
      "votes v "
      "ON v.battle_id = b.id WHERE (?1 IS NULL OR b.model_a = ?1 OR "
      "b.model_b = ?1) AND (?2 IS NULL OR b.status = ?2) AND (?3 = 0 OR "
      "b.created_at >= ?3) AND (?4 = 0 OR b.created_at < ?4) ORDER BY "
      "b.created_at DESC, b.id LIMIT ?5 OFFSET ?6",
      "ttIIll", model, status, since, until, limit, offset);
  if (!s)
    goto out;
  out = json_array();
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *row = json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:s, s:I, s:s}", "id", sqlite_text(s, 0),
        "created_at", (json_int_t)sqlite3_column_int64(s, 1), "model_a",
        sqlite_text(s, 2), "model_b", sqlite_text(s, 3), "status",
        sqlite_text(s, 4), "source", sqlite_text(s, 5), "turns",
        (json_int_t)sqlite3_column_int64(s, 9), "mode", sqlite_text(s, 10));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
      json_object_set_new(row, "winner", json_string(sqlite_text(s, 6)));
      json_object_set_new(row, "counted",
                          json_boolean(sqlite3_column_int(s, 7)));
      const char *reason = sqlite_text(s, 8);
      json_object_set_new(row, "reason",
                          reason ? json_string(reason) : json_null());
    } else {
      json_object_set_new(row, "winner", json_null());
    }
    json_array_append_new(out, row);
  }
  if (r != SQLITE_DONE) {
    json_decref(out);
    out = NULL;
  }
out:
  sqlite_read_end(st, s);
  return out;
}
