/* Where a vote goes in SQLite: one transaction stores it and moves the
 * live Elo; the ratings as stored, and their replay. */
#include "storage/sqlite/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/clock.h"
#include "util/loose_text.h"

static int upsert_rating(struct sqlite_store *st, const struct rating_row *r) {
  sqlite3_stmt *s = sqlite_stmt(
      st, STMT_RATING_UPSERT,
      "INSERT INTO ratings (model, elo, battles, wins, losses, ties) VALUES "
      "(?, ?, ?, ?, ?, ?) ON CONFLICT (model) DO UPDATE SET elo = "
      "excluded.elo, battles = excluded.battles, wins = excluded.wins, "
      "losses = excluded.losses, ties = excluded.ties",
      "tdllll", r->model, r->elo, r->battles, r->wins, r->losses, r->ties);
  return s ? sqlite_step_done(s, NULL) : -1;
}

static int upsert_pair(struct sqlite_store *st, const char *x, const char *y,
                       enum winner w) {
  int x_is_a = strcmp(x, y) < 0;
  int col = (int)pair_column(x, y, w); /* the order of sql[] */
  static const char *const sql[3] = {
      "INSERT INTO pair_counts (model_a, model_b, wins_a) VALUES (?, ?, 1) "
      "ON CONFLICT (model_a, model_b) DO UPDATE SET wins_a = wins_a + 1",
      "INSERT INTO pair_counts (model_a, model_b, wins_b) VALUES (?, ?, 1) "
      "ON CONFLICT (model_a, model_b) DO UPDATE SET wins_b = wins_b + 1",
      "INSERT INTO pair_counts (model_a, model_b, ties) VALUES (?, ?, 1) "
      "ON CONFLICT (model_a, model_b) DO UPDATE SET ties = ties + 1"};
  sqlite3_stmt *s = sqlite_stmt(st, STMT_PAIR_WINS_A + col, sql[col], "tt",
                                x_is_a ? x : y, x_is_a ? y : x);
  return s ? sqlite_step_done(s, NULL) : -1;
}

/* Whether the last stored turn of battle id has two answers that are the
 * same (text_same_loose): 1 yes, 0 no, -1 on a database error. Compared
 * where SQLite holds them, without copies. A turn with a failed side has
 * no two answers. */
static int stored_identical(struct sqlite_store *st, const char *id) {
  sqlite3_stmt *s = sqlite_stmt(st, STMT_VOTE_LAST_TURN,
                               "SELECT answer_a, answer_b, error_a IS NULL "
                               "AND error_b IS NULL FROM turns WHERE "
                               "battle_id = ? ORDER BY turn DESC LIMIT 1",
                               "t", id);
  if (!s)
    return -1;
  int rc = 0, r = sqlite3_step(s);
  if (r == SQLITE_ROW && sqlite3_column_int(s, 2) &&
      sqlite3_column_type(s, 0) != SQLITE_NULL &&
      sqlite3_column_type(s, 1) != SQLITE_NULL) {
    const char *x = (const char *)sqlite3_column_text(s, 0);
    size_t xn = (size_t)sqlite3_column_bytes(s, 0);
    const char *y = (const char *)sqlite3_column_text(s, 1);
    size_t yn = (size_t)sqlite3_column_bytes(s, 1);
    rc = x && y && text_same_loose(x, xn, y, yn);
  } else if (r != SQLITE_ROW && r != SQLITE_DONE) {
    rc = -1;
  }
  sqlite3_reset(s);
  return rc;
}

/* Ask vr->verdict about the battle's stored turns. Returns 0 when the vote
 * counts, 1 when it does not (reason in why), -1 on a database error. */
static int stored_verdict(struct sqlite_store *st,
                          const struct vote_request *vr,
                          char *why, size_t whylen) {
  enum { MAX_TURNS = 256 };
  const char *texts[VOTE_TEXTS_PER_TURN * MAX_TURNS];
  char *owned[VOTE_TEXTS_PER_TURN * MAX_TURNS];
  size_t n = 0, k = 0;
  int64_t finished_at = 0;
  int rc = -1;
  sqlite3_stmt *s = sqlite_stmt(st, STMT_VOTE_TURNS,
                               "SELECT prompt, answer_a, answer_b, "
                               "reasoning_a, reasoning_b, finished_at, "
                               "identity, identity_checked FROM turns WHERE "
                               "battle_id = ? ORDER BY turn",
                               "t", vr->id);
  if (!s)
    return -1;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW && n < MAX_TURNS) {
    /* checked when the turn ended: only the word found (no copies of
     * answers of up to max_answer_bytes) */
    int checked = sqlite3_column_int(s, VOTE_TEXTS_PER_TURN + 2);
    for (int c = 0; c < (checked ? 1 : VOTE_TEXTS_PER_TURN); c++) {
      const char *t = sqlite_text(s, checked ? VOTE_TEXTS_PER_TURN + 1 : c);
      owned[k] = t ? strdup(t) : NULL;
      if (t && !owned[k])
        goto out;
      texts[k] = owned[k];
      k++;
    }
    finished_at = sqlite3_column_type(s, VOTE_TEXTS_PER_TURN) == SQLITE_NULL
                      ? 0
                      : sqlite3_column_int64(s, VOTE_TEXTS_PER_TURN);
    n++;
  }
  if (r != SQLITE_ROW && r != SQLITE_DONE)
    goto out;
  sqlite3_reset(s);
  const char *reason = vr->verdict(vr->verdict_cls, texts, k, finished_at,
                                   why, whylen);
  if (reason && reason != why)
    snprintf(why, whylen, "%s", reason);
  rc = reason ? 1 : 0;
out:
  sqlite3_reset(s);
  for (size_t i = 0; i < k; i++)
    free(owned[i]);
  return rc;
}

enum agon_ec sqlite_vote(void *cls, const struct vote_request *vr,
                         const struct live_ratings *live,
                         struct vote_batch *vb, struct vote_outcome *out) {
  struct sqlite_store *st = cls;
  const char *id = vr->id, *session = vr->session;
  enum winner w = vr->w;
  enum agon_ec vs = VOTE_ERROR;
  sqlite3_stmt *sel = NULL;
  memset(out, 0, sizeof *out);
  sel = sqlite_stmt(st, STMT_VOTE_BATTLE,
                   "SELECT model_a, model_b, session, status, mode FROM "
                   "battles WHERE id = ?",
                   "t", id);
  if (!sel)
    goto out;
  int s = sqlite3_step(sel);
  if (s == SQLITE_DONE) {
    vs = VOTE_NOT_FOUND;
    goto out;
  }
  if (s != SQLITE_ROW)
    goto out;
  const char *mode = sqlite_text(sel, 4);
  vs = store_vote_gate(sqlite_text(sel, 2), session, sqlite_text(sel, 3), mode);
  if (vs != VOTE_OK)
    goto out;
  vs = VOTE_ERROR;
  /* only a battle whose models were drawn at random and hidden counts on
   * the boards (FastChat counts anony battles only) */
  int anony = !mode || !strcmp(mode, "anony");
  out->model[0] = sqlite_text_dup(sel, 0);
  out->model[1] = sqlite_text_dup(sel, 1);
  sqlite3_reset(sel);
  sel = NULL;
  if (!out->model[0] || !out->model[1])
    goto out;
  /* decided here from the stored answers, so that a vote racing the end
   * of a turn is judged on the same facts as a calm one */
  int same = stored_identical(st, id);
  if (same) {
    vs = same > 0 ? VOTE_IDENTICAL : VOTE_ERROR;
    goto out;
  }
  out->counted = vr->counted && anony;
  if (!vr->counted && vr->reason)
    snprintf(out->reason, sizeof out->reason, "%s", vr->reason);
  else if (!anony)
    snprintf(out->reason, sizeof out->reason, "not anonymous");
  if (out->counted && vr->verdict) {
    int v = stored_verdict(st, vr, out->reason, sizeof out->reason);
    if (v < 0)
      goto out;
    out->counted = v == 0;
  }

  /* de-duplication: decided once, here, for a counted vote */
  double cutoff = 0;
  if (out->counted && vr->dedup_min > 0) {
    int d = sqlite_dedup_vote(st, id, vr->dedup_min, &cutoff);
    if (d < 0)
      goto out;
    out->dedup = d;
  }
  const char *reason = !out->counted && out->reason[0] ? out->reason : NULL;
  sqlite3_stmt *ins = sqlite_stmt(
      st, STMT_VOTE_INSERT,
      "INSERT INTO votes (battle_id, winner, created_at, counted, reason, k, "
      "client, dedup, reasons, comment) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?)",
      "ttIitdtitt", id, winner_name(w), now_ms(), out->counted, reason,
      vr->k, vr->client, out->dedup, vr->reasons, vr->comment);
  if (!ins || sqlite_step_done(ins, NULL))
    goto out;
  sqlite3_stmt *upd = sqlite_stmt(st, STMT_VOTE_MARK,
                                  "UPDATE battles SET status = 'voted' "
                                  "WHERE id = ?",
                                  "t", id);
  if (!upd || sqlite_step_done(upd, NULL))
    goto out;

  /* Only the writer thread changes `live`, and it is the caller: reading
   * it here without live->lock is safe. */
  struct rating_row ra, rb;
  vote_batch_peek(vb, live, out->model[0], out->model[1], &ra, &rb);
  out->elo_before[0] = ra.elo;
  out->elo_before[1] = rb.elo;
  if (out->counted) {
    rating_rows_apply(&ra, &rb, w, vr->k);
    if (upsert_rating(st, &ra) || upsert_rating(st, &rb))
      goto out;
    /* the pair counts of the BT boards: the whole board's, and every
     * slice's the battle's stored tags put it in; not for a vote that
     * de-duplication leaves out */
    if (out->dedup ? vote_batch_stage_rows(vb, &ra, &rb)
                   : upsert_pair(st, out->model[0], out->model[1], w) ||
                         vote_batch_stage(vb, &ra, &rb, w) ||
                         sqlite_vote_slices(st, id, out->model[0],
                                            out->model[1], w, vb))
      goto out;
  }
  out->elo[0] = ra.elo;
  out->elo[1] = rb.elo;
  vs = VOTE_OK;
out:
  if (vs == VOTE_ERROR)
    log_error("msg=\"vote failed\" err=\"%s\"", log_q(sqlite3_errmsg(st->db)));
  /* a cached statement: reset, never finalized here */
  if (sel)
    sqlite3_reset(sel);
  if (vs != VOTE_OK)
    vote_outcome_release(out);
  return vs;
}

int sqlite_ratings_load(void *cls, struct rating_table *t,
                        struct pair_table *pairs) {
  struct sqlite_store *st = cls;
  int rc = -1;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "SELECT model, elo, battles, wins, losses, ties FROM ratings",
      "");
  if (!s)
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    struct rating_row *row = rating_table_get(t, sqlite_text(s, 0));
    if (!row)
      goto out;
    sqlite_row(s, "-dllll", &row->elo, &row->battles, &row->wins,
               &row->losses, &row->ties);
  }
  if (r != SQLITE_DONE)
    goto out;
  s = sqlite_stmt_next(
      s, "SELECT model_a, model_b, wins_a, wins_b, ties FROM pair_counts", "");
  if (!s)
    goto out;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    struct pair_row *p =
        pair_table_get(pairs, sqlite_text(s, 0), sqlite_text(s, 1), 1);
    if (!p)
      goto out;
    sqlite_row(s, "--lll", &p->wins_a, &p->wins_b, &p->ties);
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  return rc;
}

int sqlite_ratings_replay(void *cls, double k, struct rating_table *t,
                          struct pair_table *pairs, long *n_votes) {
  struct sqlite_store *st = cls;
  int rc = -1;
  *n_votes = 0;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db,
      "SELECT b.model_a, b.model_b, v.winner, v.k, v.dedup FROM votes v JOIN "
      "battles b ON b.id = v.battle_id WHERE v.counted = 1 ORDER BY v.seq",
      "");
  if (!s)
    goto out;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    double vk = sqlite3_column_type(s, 3) == SQLITE_NULL
                    ? k
                    : sqlite3_column_double(s, 3);
    /* a vote de-duplication left out counts in the Elo only */
    if (sqlite_replay_row(s, vk, t,
                          sqlite3_column_int(s, 4) ? NULL : pairs))
      goto out;
    (*n_votes)++;
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  return rc;
}

int sqlite_replay_row(sqlite3_stmt *s, double k, struct rating_table *elo,
                      struct pair_table *pairs) {
  enum winner w;
  if (winner_parse(sqlite_text(s, 2), &w))
    return 1;
  const char *a = sqlite_text(s, 0), *b = sqlite_text(s, 1);
  if (rating_table_apply(elo, a, b, w, k) ||
      (pairs && pair_table_add(pairs, a, b, w)))
    return -1;
  return 0;
}
