/* Battles and their turns in the SQLite database. */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/tags.h"
#include "util/log.h"

static char *column_dup(sqlite3_stmt *s, int i) {
  const unsigned char *t = sqlite3_column_text(s, i);
  return t ? strdup((const char *)t) : NULL;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *t) {
  if (t)
    sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
  else
    sqlite3_bind_null(s, i);
}

/* Run one prepared statement to completion; 0 on success. */
static int step_done(struct sqlite_store *st, sqlite3_stmt *s,
                     const char *what) {
  int rc = sqlite3_step(s);
  if (rc != SQLITE_DONE) {
    log_error("msg=\"database write failed\" op=%s err=\"%s\"", what,
              log_q(sqlite3_errmsg(st->db)));
    return -1;
  }
  return 0;
}

int sqlite_battle_create(void *cls, const char *id, int64_t created_at,
                         const char *model_a, const char *model_b,
                         const char *session, const char *prompt) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *b = sqlite_stmt(st, STMT_BATTLE_INSERT,
                               "INSERT INTO battles (id, created_at, model_a, "
                               "model_b, session, status) VALUES (?, ?, ?, ?, "
                               "?, 'streaming')");
  if (!b)
    return -1;
  sqlite3_bind_text(b, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(b, 2, created_at);
  sqlite3_bind_text(b, 3, model_a, -1, SQLITE_STATIC);
  sqlite3_bind_text(b, 4, model_b, -1, SQLITE_STATIC);
  sqlite3_bind_text(b, 5, session, -1, SQLITE_STATIC);
  int rc = step_done(st, b, "battle_create");
  sqlite3_reset(b);
  if (rc)
    return -1;
  sqlite3_stmt *t = sqlite_stmt(st, STMT_TURN_INSERT,
                               "INSERT INTO turns (battle_id, turn, prompt, "
                               "started_at) VALUES (?, ?, ?, ?)");
  if (!t)
    return -1;
  sqlite3_bind_text(t, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(t, 2, 1);
  sqlite3_bind_text(t, 3, prompt, -1, SQLITE_STATIC);
  sqlite3_bind_int64(t, 4, created_at);
  rc = step_done(st, t, "turn_create");
  sqlite3_reset(t);
  return rc;
}

int sqlite_turn_add(void *cls, const char *id, int turn, const char *prompt,
                    int64_t started_at) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *b = sqlite_stmt(st, STMT_BATTLE_RESUME,
                               "UPDATE battles SET status = 'streaming' "
                               "WHERE id = ? AND status = 'ready'");
  if (!b)
    return -1;
  sqlite3_bind_text(b, 1, id, -1, SQLITE_STATIC);
  int rc = step_done(st, b, "turn_status");
  sqlite3_reset(b);
  if (rc)
    return -1;
  if (sqlite3_changes(st->db) != 1)
    return 1;  /* voted meanwhile */
  sqlite3_stmt *t = sqlite_stmt(st, STMT_TURN_INSERT,
                               "INSERT INTO turns (battle_id, turn, prompt, "
                               "started_at) VALUES (?, ?, ?, ?)");
  if (!t)
    return -1;
  sqlite3_bind_text(t, 1, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(t, 2, turn);
  sqlite3_bind_text(t, 3, prompt, -1, SQLITE_STATIC);
  sqlite3_bind_int64(t, 4, started_at);
  rc = step_done(st, t, "turn_add");
  sqlite3_reset(t);
  return rc;
}

/* Store a battle's tags as they stand after a turn (storage/tags.h). */
static int store_battle_tags(struct sqlite_store *st, const char *id,
                             const struct battle_tags *tags) {
  char names[BATTLE_TAGS_TEXT_MAX];
  battle_tags_text(tags->mask, names);
  json_t *meta = store_conv_metadata(tags);
  char *meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
  json_decref(meta);
  int rc = -1;
  sqlite3_stmt *t = NULL;
  if (!meta_text)
    goto out;
  t = sqlite_stmt(st, STMT_BATTLE_TAGS,
                  "UPDATE battles SET language = ?, tags = ?, conv_metadata "
                  "= ? WHERE id = ?");
  if (!t)
    goto out;
  sqlite3_bind_text(t, 1, tags->language, -1, SQLITE_STATIC);
  sqlite3_bind_text(t, 2, names, -1, SQLITE_STATIC);
  sqlite3_bind_text(t, 3, meta_text, -1, SQLITE_STATIC);
  sqlite3_bind_text(t, 4, id, -1, SQLITE_STATIC);
  rc = step_done(st, t, "battle_tags");
  sqlite3_reset(t);
out:
  free(meta_text);
  return rc;
}

int sqlite_turn_finish(void *cls, const char *id, int turn,
                       const struct turn_answer ans[2], int64_t finished_at,
                       const char *status, const char *identity,
                       const struct battle_tags *tags) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *t = sqlite_stmt(st, STMT_TURN_FINISH,
                               "UPDATE turns SET answer_a = ?, answer_b = ?, "
                               "error_a = ?, error_b = ?, reasoning_a = ?, "
                               "reasoning_b = ?, finished_at = ?, identity = "
                               "?, identity_checked = 1 WHERE battle_id = ? "
                               "AND turn = ?");
  if (!t)
    return -1;
  for (int s = 0; s < 2; s++) {
    sqlite3_bind_text(t, 1 + s, ans[s].text ? ans[s].text : "", -1,
                      SQLITE_STATIC);
    bind_text_or_null(t, 3 + s, ans[s].error);
    bind_text_or_null(t, 5 + s, ans[s].reasoning);
  }
  sqlite3_bind_int64(t, 7, finished_at);
  bind_text_or_null(t, 8, identity);
  sqlite3_bind_text(t, 9, id, -1, SQLITE_STATIC);
  sqlite3_bind_int(t, 10, turn);
  int rc = step_done(st, t, "turn_finish");
  sqlite3_reset(t);
  if (rc)
    return -1;
  if (sqlite3_changes(st->db) != 1)
    return -1;  /* no such turn: its battle was never stored */
  sqlite3_stmt *b = sqlite_stmt(st, STMT_BATTLE_FINISH,
                               "UPDATE battles SET status = ? WHERE id = ? "
                               "AND status = 'streaming'");
  if (!b)
    return -1;
  sqlite3_bind_text(b, 1, status, -1, SQLITE_STATIC);
  sqlite3_bind_text(b, 2, id, -1, SQLITE_STATIC);
  rc = step_done(st, b, "battle_status");
  sqlite3_reset(b);
  if (rc || !tags)
    return rc;
  return store_battle_tags(st, id, tags);
}

int sqlite_fail_streaming(void *cls) {
  struct sqlite_store *st = cls;
  if (sqlite3_exec(st->db,
                   "UPDATE battles SET status = 'failed' WHERE status = "
                   "'streaming'",
                   NULL, NULL, NULL) != SQLITE_OK)
    return -1;
  return 0;
}

int sqlite_battle_load(void *cls, const char *id, struct battle_record *out) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *b = NULL, *t = NULL;
  memset(out, 0, sizeof *out);
  out->winner = -1;
  pthread_mutex_lock(&st->read_lock);
  if (sqlite3_prepare_v2(st->rdb,
                         "SELECT b.id, b.created_at, b.model_a, b.model_b, "
                         "b.session, b.status, v.winner FROM battles b LEFT "
                         "JOIN votes v ON v.battle_id = b.id WHERE b.id = ?",
                         -1, &b, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->rdb,
                         "SELECT prompt, answer_a, answer_b, error_a, error_b, "
                         "reasoning_a, reasoning_b FROM turns WHERE "
                         "battle_id = ? ORDER BY turn",
                         -1, &t, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(b, 1, id, -1, SQLITE_STATIC);
  int s = sqlite3_step(b);
  if (s == SQLITE_DONE) {
    rc = 1;
    goto out;
  }
  if (s != SQLITE_ROW)
    goto out;
  snprintf(out->id, sizeof out->id, "%s", sqlite3_column_text(b, 0));
  out->created_at = sqlite3_column_int64(b, 1);
  out->model[0] = column_dup(b, 2);
  out->model[1] = column_dup(b, 3);
  snprintf(out->session, sizeof out->session, "%s", sqlite3_column_text(b, 4));
  snprintf(out->status, sizeof out->status, "%s", sqlite3_column_text(b, 5));
  if (sqlite3_column_type(b, 6) != SQLITE_NULL) {
    enum winner w;
    if (winner_parse((const char *)sqlite3_column_text(b, 6), &w) == 0)
      out->winner = (int)w;
  }
  sqlite3_bind_text(t, 1, id, -1, SQLITE_STATIC);
  while ((s = sqlite3_step(t)) == SQLITE_ROW) {
    struct turn_record *turns =
        realloc(out->turns, (out->n_turns + 1) * sizeof *turns);
    if (!turns)
      goto out;
    out->turns = turns;
    struct turn_record *tr = &turns[out->n_turns++];
    tr->prompt = column_dup(t, 0);
    tr->answer[0] = column_dup(t, 1);
    tr->answer[1] = column_dup(t, 2);
    tr->error[0] = column_dup(t, 3);
    tr->error[1] = column_dup(t, 4);
    tr->reasoning[0] = column_dup(t, 5);
    tr->reasoning[1] = column_dup(t, 6);
  }
  if (s != SQLITE_DONE)
    goto out;
  rc = 0;
out:
  if (rc < 0)
    log_error("msg=\"cannot load battle\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->rdb)));
  sqlite3_finalize(b);
  sqlite3_finalize(t);
  pthread_mutex_unlock(&st->read_lock);
  if (rc != 0)
    battle_record_release(out);
  return rc;
}

json_t *sqlite_battles_list(void *cls, const char *model, const char *status,
                            int64_t since, int64_t until, long limit,
                            long offset) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  json_t *out = NULL;
  pthread_mutex_lock(&st->read_lock);
  if (sqlite3_prepare_v2(
          st->rdb,
          "SELECT b.id, b.created_at, b.model_a, b.model_b, b.status, "
          "b.source, v.winner, v.counted, v.reason, (SELECT count(*) FROM "
          "turns t WHERE t.battle_id = b.id) FROM battles b LEFT JOIN votes v "
          "ON v.battle_id = b.id WHERE (?1 IS NULL OR b.model_a = ?1 OR "
          "b.model_b = ?1) AND (?2 IS NULL OR b.status = ?2) AND (?3 = 0 OR "
          "b.created_at >= ?3) AND (?4 = 0 OR b.created_at < ?4) ORDER BY "
          "b.created_at DESC, b.id LIMIT ?5 OFFSET ?6",
          -1, &s, NULL) != SQLITE_OK)
    goto out;
  if (model)
    sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
  if (status)
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, since);
  sqlite3_bind_int64(s, 4, until);
  sqlite3_bind_int64(s, 5, limit);
  sqlite3_bind_int64(s, 6, offset);
  out = json_array();
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *row = json_pack(
        "{s:s, s:I, s:s, s:s, s:s, s:s, s:I}", "id",
        (const char *)sqlite3_column_text(s, 0), "created_at",
        (json_int_t)sqlite3_column_int64(s, 1), "model_a",
        (const char *)sqlite3_column_text(s, 2), "model_b",
        (const char *)sqlite3_column_text(s, 3), "status",
        (const char *)sqlite3_column_text(s, 4), "source",
        (const char *)sqlite3_column_text(s, 5), "turns",
        (json_int_t)sqlite3_column_int64(s, 9));
    if (sqlite3_column_type(s, 6) != SQLITE_NULL) {
      json_object_set_new(row, "winner",
                          json_string((const char *)sqlite3_column_text(s, 6)));
      json_object_set_new(row, "counted",
                          json_boolean(sqlite3_column_int(s, 7)));
      const char *reason = (const char *)sqlite3_column_text(s, 8);
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
  sqlite3_finalize(s);
  pthread_mutex_unlock(&st->read_lock);
  return out;
}
