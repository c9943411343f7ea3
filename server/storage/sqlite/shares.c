/* Shared battles and a session's own votes in SQLite (schema/0013). */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <string.h>

int sqlite_shares_load(void *cls, long max, store_share_fn fn, void *ctx) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "SELECT token, battle_id FROM shares ORDER BY created_at, "
              "token LIMIT ?",
      "l", max);
  if (!s)
    return -1;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW)
    if (fn(ctx, sqlite_text(s, 0), sqlite_text(s, 1)))
      break;
  sqlite3_finalize(s);
  return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

int sqlite_share_put(void *cls, const char *token, const char *battle_id,
                     int64_t at, char out[STORE_SHARE_TOKEN]) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "INSERT INTO shares (token, battle_id, created_at) VALUES (?, ?, ?) "
      "ON CONFLICT (battle_id) DO NOTHING",
      "ttI", token, battle_id, at);
  if (!s || sqlite_step_done(s, "share"))
    goto fail;
  s = sqlite_stmt_next(s, "SELECT token FROM shares WHERE battle_id = ?",
                       "t", battle_id);
  if (!s || sqlite3_step(s) != SQLITE_ROW)
    goto fail;
  snprintf(out, STORE_SHARE_TOKEN, "%s", sqlite_text(s, 0));
  sqlite3_finalize(s);
  return 0;
fail:
  sqlite3_finalize(s);
  return -1;
}

int sqlite_share_delete(void *cls, const char *battle_id) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "DELETE FROM shares WHERE battle_id = ?", "t", battle_id);
  int rc = s ? sqlite_step_done(s, "unshare") : -1;
  sqlite3_finalize(s);
  return rc;
}

int sqlite_session_votes(void *cls, const char *session, long max,
                         store_session_vote_fn fn, void *ctx) {
  struct sqlite_store *st = cls;
  /* the newest max, given oldest first */
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "SELECT model_a, model_b, winner FROM (SELECT b.model_a, b.model_b, "
      "v.winner, v.seq FROM votes v JOIN battles b ON b.id = v.battle_id "
      "WHERE b.session = ? AND v.counted = 1 ORDER BY v.seq DESC LIMIT ?) "
      "ORDER BY seq",
      "tl", session, max);
  if (!s)
    return -1;
  int r, rc = 0;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    enum winner w;
    if (winner_parse(sqlite_text(s, 2), &w))
      continue;
    if (fn(ctx, sqlite_text(s, 0), sqlite_text(s, 1), w)) {
      rc = -1;
      break;
    }
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    rc = -1;
  sqlite3_finalize(s);
  return rc;
}
