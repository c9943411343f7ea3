#include "storage/interchange.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/digest.h"
#include "util/log.h"
#include "util/util.h"

/* ---- the secret ---- */

static int secret_locked(struct store *st, char out[65]) {
  sqlite3_stmt *s = NULL;
  int rc = -1;
  if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key = 'secret'",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  if (sqlite3_step(s) == SQLITE_ROW) {
    snprintf(out, 65, "%s", sqlite3_column_text(s, 0));
    rc = 0;
    goto out;
  }
  sqlite3_finalize(s);
  s = NULL;
  char fresh[65];
  if (random_hex(fresh, 32) ||
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO meta (key, value) VALUES ('secret', ?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(s, 1, fresh, -1, SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_DONE)
    goto out;
  memcpy(out, fresh, 65);
  rc = 0;
out:
  sqlite3_finalize(s);
  return rc;
}

int store_secret(struct store *st, char out[65]) {
  pthread_mutex_lock(&st->lock);
  int rc = secret_locked(st, out);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- rebuilding the live ratings ---- */

static int rebuild_locked(struct store *st, double k) {
  struct rating_table t = {0};
  struct pair_table p = {0};
  sqlite3_stmt *s = NULL;
  long n = 0;
  int rc = -1;
  if (store_replay_locked(st, k, &t, &p, &n))
    goto out;
  if (sqlite3_exec(st->db, "DELETE FROM ratings; DELETE FROM pair_counts;",
                   NULL, NULL, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO ratings (model, elo, battles, wins, "
                         "losses, ties) VALUES (?, ?, ?, ?, ?, ?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  for (size_t i = 0; i < t.n; i++) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, t.rows[i].model, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 2, t.rows[i].elo);
    sqlite3_bind_int64(s, 3, t.rows[i].battles);
    sqlite3_bind_int64(s, 4, t.rows[i].wins);
    sqlite3_bind_int64(s, 5, t.rows[i].losses);
    sqlite3_bind_int64(s, 6, t.rows[i].ties);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto out;
  }
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO pair_counts (model_a, model_b, wins_a, "
                         "wins_b, ties) VALUES (?, ?, ?, ?, ?)",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  for (size_t i = 0; i < p.n; i++) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, p.rows[i].a, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, p.rows[i].b, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, p.rows[i].wins_a);
    sqlite3_bind_int64(s, 4, p.rows[i].wins_b);
    sqlite3_bind_int64(s, 5, p.rows[i].ties);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto out;
  }
  rc = 0;
out:
  if (rc)
    log_error("msg=\"cannot rebuild ratings\" err=\"%s\"",
              log_q(sqlite3_errmsg(st->db)));
  sqlite3_finalize(s);
  rating_table_release(&t);
  pair_table_release(&p);
  return rc;
}

int store_rebuild_ratings(struct store *st, double k, int in_tx) {
  if (in_tx)
    return rebuild_locked(st, k);
  pthread_mutex_lock(&st->lock);
  int rc = -1;
  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
    rc = rebuild_locked(st, k);
    if (rc || sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
      sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
      rc = -1;
    }
  }
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- import ---- */

static int exists(sqlite3_stmt *q, const char *id) {
  sqlite3_reset(q);
  sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
  return sqlite3_step(q) == SQLITE_ROW;
}

int store_import(struct store *st, const struct battle_log *log, double k,
                 struct import_stats *stats, char *err, size_t errlen) {
  sqlite3_stmt *q = NULL, *ib = NULL, *iv = NULL;
  int rc = -1;
  memset(stats, 0, sizeof *stats);
  pthread_mutex_lock(&st->lock);
  if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  if (sqlite3_prepare_v2(st->db, "SELECT 1 FROM battles WHERE id = ?", -1, &q,
                         NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO battles (id, created_at, model_a, "
                         "model_b, session, status, source, record, tstamp, "
                         "anony) VALUES (?, ?, ?, ?, 'import', 'voted', "
                         "'import', ?, ?, ?)",
                         -1, &ib, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "INSERT INTO votes (battle_id, winner, created_at, "
                         "counted, reason, k) VALUES (?, ?, ?, ?, ?, ?)",
                         -1, &iv, NULL) != SQLITE_OK)
    goto fail;
  for (size_t i = 0; i < log->n; i++) {
    const struct log_battle *lb = &log->battles[i];
    const char *src =
        json_string_value(json_object_get(lb->record, "agon_source"));
    if (src && !strcmp(src, "judge")) {
      stats->judge_records++; /* an LLM judge's verdict, not a battle */
      continue;
    }
    char *text = json_dumps(lb->record, JSON_COMPACT | JSON_SORT_KEYS);
    if (!text)
      goto fail;
    char digest[65], id[40];
    const char *qid =
        json_string_value(json_object_get(lb->record, "question_id"));
    int present = qid && exists(q, qid);
    sha256_hex(text, strlen(text), digest);
    snprintf(id, sizeof id, "imp-%.32s", digest);
    present = present || exists(q, id);
    if (present) {
      stats->present++;
      free(text);
      continue;
    }
    json_t *marked = json_object_get(lb->record, "agon_counted");
    int counted = lb->anony && !json_is_false(marked);
    const char *reason = counted ? NULL
                         : !lb->anony ? "not anonymous"
                                      : "not counted where it came from";
    int64_t created = (int64_t)llround(lb->tstamp * 1000.0);
    sqlite3_reset(ib);
    sqlite3_bind_text(ib, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ib, 2, created);
    sqlite3_bind_text(ib, 3, log->models[lb->a], -1, SQLITE_STATIC);
    sqlite3_bind_text(ib, 4, log->models[lb->b], -1, SQLITE_STATIC);
    sqlite3_bind_text(ib, 5, text, -1, SQLITE_STATIC);
    sqlite3_bind_double(ib, 6, lb->tstamp);
    sqlite3_bind_int(ib, 7, lb->anony);
    int s1 = sqlite3_step(ib);
    sqlite3_reset(iv);
    sqlite3_bind_text(iv, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(iv, 2, winner_name(lb->w), -1, SQLITE_STATIC);
    sqlite3_bind_int64(iv, 3, created);
    sqlite3_bind_int(iv, 4, counted);
    if (reason)
      sqlite3_bind_text(iv, 5, reason, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(iv, 5);
    sqlite3_bind_double(iv, 6, k);
    int s2 = s1 == SQLITE_DONE ? sqlite3_step(iv) : s1;
    free(text);
    if (s1 != SQLITE_DONE || s2 != SQLITE_DONE)
      goto fail;
    stats->imported++;
    if (!counted)
      stats->not_counted++;
  }
  if (rebuild_locked(st, k) ||
      sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
    goto fail;
  rc = 0;
  goto out;
fail:
  snprintf(err, errlen, "import failed: %s", sqlite3_errmsg(st->db));
  sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
  sqlite3_finalize(q);
  sqlite3_finalize(ib);
  sqlite3_finalize(iv);
  pthread_mutex_unlock(&st->lock);
  return rc;
}

/* ---- export ---- */

static json_t *conversation(sqlite3_stmt *turns, int side) {
  json_t *conv = json_array();
  sqlite3_reset(turns);
  while (sqlite3_step(turns) == SQLITE_ROW) {
    const char *prompt = (const char *)sqlite3_column_text(turns, 0);
    const char *answer = (const char *)sqlite3_column_text(turns, 1 + side);
    json_array_append_new(conv, json_pack("{s:s, s:s}", "role", "user",
                                          "content", prompt ? prompt : ""));
    json_array_append_new(conv, json_pack("{s:s, s:s}", "role", "assistant",
                                          "content", answer ? answer : ""));
  }
  return conv;
}

static void csv_field(FILE *out, const char *s) {
  if (!strpbrk(s, ",\"\r\n")) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  for (; *s; s++) {
    if (*s == '"')
      fputc('"', out);
    fputc(*s, out);
  }
  fputc('"', out);
}

static void csv_row(FILE *out, json_t *rec) {
  static const char *const cols[] = {"question_id", "model_a", "model_b",
                                     "winner", "judge", "turn", "anony",
                                     "language", "tstamp"};
  for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++) {
    if (i)
      fputc(',', out);
    json_t *v = json_object_get(rec, cols[i]);
    char tmp[64];
    if (json_is_string(v)) {
      csv_field(out, json_string_value(v));
    } else if (json_is_boolean(v)) {
      fputs(json_is_true(v) ? "true" : "false", out);
    } else if (json_is_integer(v)) {
      fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
      /* the shortest text that reads back as the same number */
      double x = json_real_value(v);
      for (int prec = 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*g", prec, x);
        if (strtod(tmp, NULL) == x)
          break;
      }
      fputs(tmp, out);
    }
  }
  fputc('\n', out);
}

/* Write record number n (0-based) of an export and drop it. */
static void write_record(FILE *out, enum export_format fmt, json_t *rec,
                         long n) {
  if (fmt == EXPORT_CSV) {
    csv_row(out, rec);
  } else {
    if (fmt == EXPORT_FASTCHAT)
      fputs(n ? ",\n" : "\n", out);
    json_dumpf(rec, out, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (fmt == EXPORT_JSONL)
      fputc('\n', out);
  }
  json_decref(rec);
}

long store_export(struct store *st, enum export_format fmt, FILE *out,
                  char *err, size_t errlen) {
  sqlite3_stmt *s = NULL, *turns = NULL;
  long n = -1;
  char secret[65];
  pthread_mutex_lock(&st->lock);
  if (secret_locked(st, secret))
    goto fail;
  if (sqlite3_prepare_v2(
          st->db,
          "SELECT b.id, b.model_a, b.model_b, v.winner, b.session, v.created_at, "
          "b.record, v.counted, v.reason, (SELECT count(*) FROM turns t WHERE "
          "t.battle_id = b.id) FROM votes v JOIN battles b ON b.id = "
          "v.battle_id ORDER BY v.seq",
          -1, &s, NULL) != SQLITE_OK ||
      sqlite3_prepare_v2(st->db,
                         "SELECT prompt, answer_a, answer_b FROM turns WHERE "
                         "battle_id = ? ORDER BY turn",
                         -1, &turns, NULL) != SQLITE_OK)
    goto fail;
  if (fmt == EXPORT_FASTCHAT)
    fputs("[", out);
  else if (fmt == EXPORT_CSV)
    fputs("question_id,model_a,model_b,winner,judge,turn,anony,language,"
          "tstamp\n",
          out);
  n = 0;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    json_t *rec = NULL;
    const char *stored = (const char *)sqlite3_column_text(s, 6);
    if (stored) {
      rec = json_loads(stored, 0, NULL); /* an imported battle: as it came */
    }
    if (!rec) {
      enum winner w = WINNER_TIE;
      winner_parse((const char *)sqlite3_column_text(s, 3), &w);
      char judge[80], hash[65];
      const char *session = (const char *)sqlite3_column_text(s, 4);
      hmac_sha256_hex(secret, strlen(secret), session, strlen(session), hash);
      snprintf(judge, sizeof judge, "arena_user_%.16s", hash);
      const char *id = (const char *)sqlite3_column_text(s, 0);
      sqlite3_reset(turns);
      sqlite3_bind_text(turns, 1, id, -1, SQLITE_TRANSIENT);
      rec = json_pack(
          "{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:f}", "question_id", id,
          "model_a", (const char *)sqlite3_column_text(s, 1), "model_b",
          (const char *)sqlite3_column_text(s, 2), "winner",
          fastchat_winner_name(w), "judge", judge, "turn",
          (json_int_t)sqlite3_column_int64(s, 9), "anony", 1, "language",
          "unknown", "tstamp", (double)sqlite3_column_int64(s, 5) / 1000.0);
      if (fmt != EXPORT_CSV) {
        json_object_set_new(rec, "conversation_a", conversation(turns, 0));
        json_object_set_new(rec, "conversation_b", conversation(turns, 1));
      }
      if (!sqlite3_column_int(s, 7)) {
        /* stored but not counted: say so, so a re-import keeps it out */
        json_object_set_new(rec, "agon_counted", json_false());
        const char *reason = (const char *)sqlite3_column_text(s, 8);
        if (reason)
          json_object_set_new(rec, "agon_reason", json_string(reason));
      }
    }
    write_record(out, fmt, rec, n++);
  }
  if (r != SQLITE_DONE) {
    n = -1;
    goto fail;
  }
  /* LLM judges' verdicts: FastChat's "judge" field names who voted; they
   * are marked so that no analysis mistakes them for people, and an
   * import skips them. */
  sqlite3_finalize(s);
  s = NULL;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT b.id, b.model_a, b.model_b, j.verdict, "
                         "j.judge, j.created_at, j.inconsistent, (SELECT "
                         "count(*) FROM turns t WHERE t.battle_id = b.id) FROM "
                         "judgments j JOIN battles b ON b.id = j.battle_id "
                         "WHERE j.verdict IS NOT NULL ORDER BY j.id",
                         -1, &s, NULL) != SQLITE_OK)
    goto fail;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    enum winner w = WINNER_TIE;
    winner_parse((const char *)sqlite3_column_text(s, 3), &w);
    char judge[160];
    snprintf(judge, sizeof judge, "llm_judge/%s", sqlite3_column_text(s, 4));
    json_t *rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:I, s:b, s:s, s:f, s:s, s:b, s:b}",
        "question_id", (const char *)sqlite3_column_text(s, 0), "model_a",
        (const char *)sqlite3_column_text(s, 1), "model_b",
        (const char *)sqlite3_column_text(s, 2), "winner",
        fastchat_winner_name(w), "judge", judge, "turn",
        (json_int_t)sqlite3_column_int64(s, 7), "anony", 1, "language",
        "unknown", "tstamp", (double)sqlite3_column_int64(s, 5) / 1000.0,
        "agon_source", "judge", "agon_counted", 0, "agon_inconsistent",
        sqlite3_column_int(s, 6));
    write_record(out, fmt, rec, n++);
  }
  if (r != SQLITE_DONE) {
    n = -1;
    goto fail;
  }
  if (fmt == EXPORT_FASTCHAT)
    fputs(n ? "\n]\n" : "]\n", out);
  goto out;
fail:
  snprintf(err, errlen, "export failed: %s", sqlite3_errmsg(st->db));
  n = -1;
out:
  sqlite3_finalize(s);
  sqlite3_finalize(turns);
  pthread_mutex_unlock(&st->lock);
  return n;
}
