/* Regenerate and retry in the SQLite database (schema/0012): the answers
 * a turn no longer shows, and the failed sides replaced by other models. */
#include "storage/sqlite/internal.h"

#include <stdio.h>

#include "fastchat/fields.h"

/* A count of rows: 0 with *n, or -1. The statement is finalized. */
static int count_rows(sqlite3_stmt *s, long *n) {
  if (!s)
    return -1;
  int rc = sqlite3_step(s) == SQLITE_ROW ? 0 : -1;
  *n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return rc;
}

/* Run s (a statement without rows) once and finalize it: 0 when it
 * changed exactly `want` rows (want < 0: any), else -1. */
static int run_once(struct sqlite_store *st, sqlite3_stmt *s, int want,
                    const char *op) {
  if (!s)
    return -1;
  int rc = sqlite_step_done(s, op);
  if (!rc && want >= 0 && sqlite3_changes(st->db) != want)
    rc = -1;
  sqlite3_finalize(s);
  return rc;
}

/* Keep side c's ('a' or 'b') answer of the turn and clear it. */
static int keep_side(struct sqlite_store *st, const char *id,
                     const struct turn_replace *r, char c) {
  char sql[768];
  snprintf(sql, sizeof sql,
           "INSERT INTO replaced_answers (battle_id, turn, side, attempt, "
           "answer, error, reasoning, replaced_at, kind, model) SELECT "
           "t.battle_id, t.turn, '%c', (SELECT coalesce(max(attempt), 0) + 1 "
           "FROM replaced_answers x WHERE x.battle_id = t.battle_id AND "
           "x.turn = t.turn AND x.side = '%c'), t.answer_%c, t.error_%c, "
           "t.reasoning_%c, ?, ?, b.model_%c FROM turns t JOIN battles b ON "
           "b.id = t.battle_id WHERE t.battle_id = ? AND t.turn = ?",
           c, c, c, c, c, c);
  if (run_once(st,
               sqlite_stmt_new(st->db, sql, "Itti", r->at,
                               r->retry ? "retry" : "regenerate", id, r->turn),
               1, "replaced_keep"))
    return -1;
  snprintf(sql, sizeof sql,
           "UPDATE turns SET answer_%c = NULL, error_%c = NULL, reasoning_%c "
           "= NULL, finished_at = NULL, identity = NULL, identity_checked = 0 "
           "WHERE battle_id = ? AND turn = ?",
           c, c, c);
  return run_once(st, sqlite_stmt_new(st->db, sql, "ti", id, r->turn), 1,
                  "replaced_clear");
}

int sqlite_turn_replace(void *cls, const char *id,
                        const struct turn_replace *r) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "UPDATE battles SET status = 'streaming' WHERE id = ? AND status = ?",
      "tt", id, r->retry ? "failed" : "ready");
  if (!s || sqlite_step_done(s, "replace_status")) {
    sqlite3_finalize(s);
    return -1;
  }
  int changed = sqlite3_changes(st->db);
  sqlite3_finalize(s);
  if (changed != 1)
    return 1;
  long n = 0;
  if (count_rows(r->retry
                     ? sqlite_stmt_new(st->db,
                                       "SELECT count(*) FROM "
                                       "side_replacements WHERE battle_id = ?",
                                       "t", id)
                     : sqlite_stmt_new(st->db,
                                       "SELECT count(*) FROM replaced_answers "
                                       "WHERE battle_id = ? AND turn = ? AND "
                                       "side = 'a' AND kind = 'regenerate'",
                                       "ti", id, r->turn),
                 &n))
    return -1;
  if (n >= r->max)
    return 2;
  for (int side = 0; side < 2; side++)
    if ((r->sides & (1 << side)) && keep_side(st, id, r, "ab"[side]))
      return -1;
  if (!r->retry)
    return 0;
  char c = (r->sides & 1) ? 'a' : 'b';
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO side_replacements (battle_id, seq, side, old_model, "
           "new_model, turn, at) SELECT id, (SELECT coalesce(max(seq), 0) + 1 "
           "FROM side_replacements WHERE battle_id = ?1), '%c', model_%c, ?2, "
           "?3, ?4 FROM battles WHERE id = ?1",
           c, c);
  if (run_once(st,
               sqlite_stmt_new(st->db, sql, "ttiI", id, r->new_model, r->turn,
                               r->at),
               1, "replacement_insert"))
    return -1;
  snprintf(sql, sizeof sql, "UPDATE battles SET model_%c = ? WHERE id = ?", c);
  return run_once(st, sqlite_stmt_new(st->db, sql, "tt", r->new_model, id), 1,
                  "replacement_model");
}

int sqlite_import_replaced(struct sqlite_store *st, const char *id,
                           const char *record) {
  /* rows the record gets wrong (no side, a kind of its own) are left out
   * (OR IGNORE) rather than failing the import */
  if (run_once(st,
               sqlite_stmt_new(
                   st->db,
                   "INSERT OR IGNORE INTO replaced_answers (battle_id, turn, "
                   "side, attempt, answer, error, reasoning, replaced_at, "
                   "kind, model) SELECT ?1, json_extract(value, '$.turn'), "
                   "json_extract(value, '$.side'), json_extract(value, "
                   "'$.attempt'), json_extract(value, '$.answer'), "
                   "iif(json_extract(value, '$.failed'), 'imported failure', "
                   "NULL), json_extract(value, '$.reasoning'), "
                   "coalesce(json_extract(value, '$.at'), 0), "
                   "json_extract(value, '$.kind'), json_extract(value, "
                   "'$.model') FROM json_each(?2, '$.\"" FASTCHAT_REPLACED
                   "\"') WHERE json_type(value) = 'object'",
                   "tt", id, record),
               -1, "import_replaced"))
    return -1;
  return run_once(
      st,
      sqlite_stmt_new(
          st->db,
          "INSERT OR IGNORE INTO side_replacements (battle_id, seq, side, "
          "old_model, new_model, turn, at) SELECT ?1, key + 1, "
          "json_extract(value, '$.side'), json_extract(value, "
          "'$.old_model'), json_extract(value, '$.new_model'), "
          "json_extract(value, '$.turn'), coalesce(json_extract(value, "
          "'$.at'), 0) FROM json_each(?2, '$.\"" FASTCHAT_REPLACEMENTS
          "\"') WHERE json_type(value) = 'object'",
          "tt", id, record),
      -1, "import_replacements");
}
