/* Where a vote goes in PostgreSQL: one transaction (the writer's group,
 * READ COMMITTED, a savepoint around the vote) stores it and moves the
 * ratings, while other nodes vote on the same database at the same time;
 * the ratings as stored, and their replay.
 *
 * The vote, phase by phase, one round trip each:
 *   1. the battle, locked (FOR UPDATE), with what its turns say: every
 *      check storage/sqlite/votes.c makes, on the same facts, decided
 *      once no other node can vote on it or add a turn;
 *   2. (a counted vote, de-duplication on) its prompt counted (dedup.c);
 *   3. the two models' rating rows created when missing and locked, in
 *      the order of their names (INSERT ... ON CONFLICT DO UPDATE locks
 *      the row it meets), their values read as locked: what another node
 *      committed a moment ago, not this node's memory;
 *   4. Elo computed from those values with rating_rows_apply (the
 *      function `recompute` replays with), then in one statement: the
 *      battle marked voted (a conditional UPDATE: status 'ready'), and
 *      only when it was, the vote inserted (its seq taken now, after the
 *      locks), the ratings, pair counts and slices updated.
 * Taking the seq after the rating locks makes seq order the order in
 * which each model's rating moved, so a replay in seq order gives the
 * live ratings exactly. No global lock: votes on other models go on. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/loose_text.h"

/* The columns of phase 1: the battle's, then one row a turn. */
enum {
  B_MODEL_A, B_MODEL_B, B_SESSION, B_STATUS, B_MODE, B_LANGUAGE, B_TAGS,
  B_CATEGORIES, B_PROMPT_HASH, T_TURN, T_PROMPT, T_ANSWER_A, T_ANSWER_B,
  T_REASONING_A, T_REASONING_B, T_FINISHED_AT, T_IDENTITY, T_CHECKED,
  T_NO_ERROR
};

/* Whether the battle's last turn (the last row of r) has two answers
 * that are the same (text_same_loose): 1 or 0. A turn with a failed side
 * has no two answers. */
static int stored_identical(const PGresult *r) {
  int last = PQntuples(r) - 1;
  if (pg_col_null(r, last, T_TURN) || !pg_col_int(r, last, T_NO_ERROR) ||
      pg_col_null(r, last, T_ANSWER_A) || pg_col_null(r, last, T_ANSWER_B))
    return 0;
  return text_same_loose(
      PQgetvalue(r, last, T_ANSWER_A),
      (size_t)PQgetlength(r, last, T_ANSWER_A),
      PQgetvalue(r, last, T_ANSWER_B),
      (size_t)PQgetlength(r, last, T_ANSWER_B));
}

/* Ask vr->verdict about the battle's stored turns (r's rows): 0 when the
 * vote counts, 1 when it does not (reason in why). Borrowed texts: r
 * holds them. */
static int stored_verdict(const PGresult *r, const struct vote_request *vr,
                          char *why, size_t whylen) {
  enum { MAX_TURNS = 256 };
  const char *texts[VOTE_TEXTS_PER_TURN * MAX_TURNS];
  size_t k = 0;
  int64_t finished_at = 0;
  int rows = PQntuples(r);
  for (int i = 0; i < rows && i < MAX_TURNS; i++) {
    if (pg_col_null(r, i, T_TURN))
      break;
    /* checked when the turn ended: only the word found */
    int checked = pg_col_int(r, i, T_CHECKED);
    if (checked)
      texts[k++] = pg_col_text(r, i, T_IDENTITY);
    else
      for (int c = 0; c < VOTE_TEXTS_PER_TURN; c++)
        texts[k++] = pg_col_text(r, i, T_PROMPT + c);
    finished_at = pg_col_null(r, i, T_FINISHED_AT)
                      ? 0
                      : pg_col_int64(r, i, T_FINISHED_AT);
  }
  const char *reason = vr->verdict(vr->verdict_cls, texts, k, finished_at,
                                   why, whylen);
  if (reason && reason != why)
    snprintf(why, whylen, "%s", reason);
  return reason ? 1 : 0;
}

/* Phase 3: the rows of out's two models into ra and rb (names borrowed
 * from out), locked when lock (created at ELO_INITIAL when missing), else
 * only read (ELO_INITIAL and no battles when missing). 0 or -1. */
static int rating_rows(struct pg_store *ps, const struct vote_outcome *out,
                       int lock, struct rating_row *ra,
                       struct rating_row *rb) {
  const char *a = out->model[0], *b = out->model[1];
  int same = !strcmp(a, b);
  const char *lo = strcmp(a, b) <= 0 ? a : b, *hi = lo == a ? b : a;
  *ra = (struct rating_row){.model = out->model[0], .elo = ELO_INITIAL};
  *rb = (struct rating_row){.model = out->model[1], .elo = ELO_INITIAL};
  PGresult *r;
  if (lock && same)
    r = pg_prepared(ps, PG_VOTE_LOCK_RATING, "vote_ratings",
                    "INSERT INTO ratings (model, elo) VALUES ($1, $2) ON "
                    "CONFLICT (model) DO UPDATE SET model = excluded.model "
                    "RETURNING model, elo, battles, wins, losses, ties",
                    "td", lo, ELO_INITIAL);
  else if (lock)
    /* the rows are met, and locked, in the order given: by name */
    r = pg_prepared(ps, PG_VOTE_LOCK_RATINGS, "vote_ratings",
                    "INSERT INTO ratings (model, elo) VALUES ($1, $3), ($2, "
                    "$3) ON CONFLICT (model) DO UPDATE SET model = "
                    "excluded.model RETURNING model, elo, battles, wins, "
                    "losses, ties",
                    "ttd", lo, hi, ELO_INITIAL);
  else
    r = pg_prepared(ps, PG_VOTE_READ_RATINGS, "vote_ratings",
                    "SELECT model, elo, battles, wins, losses, ties FROM "
                    "ratings WHERE model IN ($1, $2)",
                    "tt", lo, hi);
  if (!r)
    return -1;
  for (int i = 0; i < PQntuples(r); i++) {
    const char *m = pg_col_text(r, i, 0);
    for (int s = 0; s < 2; s++) {
      struct rating_row *row = s ? rb : ra;
      if (m && !strcmp(m, row->model))
        pg_row(r, i, "-dllll", &row->elo, &row->battles, &row->wins,
               &row->losses, &row->ties);
    }
  }
  PQclear(r);
  return 0;
}

/* Phase 4's statement: the battle marked voted and, only when it was
 * (CTE m), the vote, the two rows (x), the pair count and the slices. It
 * answers the vote's seq, NULL when the battle was not 'ready'. */
static const char vote_write_sql[] =
    "WITH m AS (UPDATE battles SET status = 'voted' WHERE id = $1 AND "
    "status = 'ready' RETURNING id), "
    "v AS (INSERT INTO votes (battle_id, winner, created_at, counted, "
    "reason, k, client, dedup, reasons, comment) SELECT id, $2::text, "
    "$3::bigint, $4::int, $5::text, $6::double precision, $7::text, "
    "$8::int, $9::text, $10::text FROM m RETURNING seq), "
    "r AS (UPDATE ratings SET elo = x.elo, battles = x.battles, wins = "
    "x.wins, losses = x.losses, ties = x.ties FROM (VALUES ($11::text, "
    "$12::double precision, $13::bigint, $14::bigint, $15::bigint, "
    "$16::bigint), ($17::text, $18::double precision, $19::bigint, "
    "$20::bigint, $21::bigint, $22::bigint)) x (model, elo, battles, wins, "
    "losses, ties) WHERE $23::boolean AND ratings.model = x.model AND "
    "EXISTS (SELECT 1 FROM m) RETURNING 1), "
    "p AS (INSERT INTO pair_counts (model_a, model_b, wins_a, wins_b, ties) "
    "SELECT $24::text, $25::text, $26::bigint, $27::bigint, $28::bigint "
    "FROM m WHERE $29::boolean ON CONFLICT (model_a, model_b) DO UPDATE SET "
    "wins_a = pair_counts.wins_a + excluded.wins_a, wins_b = "
    "pair_counts.wins_b + excluded.wins_b, ties = pair_counts.ties + "
    "excluded.ties RETURNING 1), "
    "s AS (INSERT INTO slice_pairs (slice, model_a, model_b, wins_a, "
    "wins_b, ties) SELECT k, $24::text, $25::text, n * $26::bigint, n * "
    "$27::bigint, n * $28::bigint FROM (SELECT k, count(*) AS n FROM "
    "unnest($30::text[]) k GROUP BY k) ks, m WHERE $29::boolean ORDER BY k "
    "ON CONFLICT (slice, model_a, model_b) DO UPDATE SET wins_a = "
    "slice_pairs.wins_a + excluded.wins_a, wins_b = slice_pairs.wins_b + "
    "excluded.wins_b, ties = slice_pairs.ties + excluded.ties RETURNING 1) "
    "SELECT (SELECT seq FROM v)";

enum agon_ec pg_vote(void *cls, const struct vote_request *vr,
                     const struct live_ratings *live, struct vote_batch *vb,
                     struct vote_outcome *out) {
  struct pg_store *ps = cls;
  (void)live; /* the rows come from the database, locked */
  const char *id = vr->id;
  enum winner w = vr->w;
  enum agon_ec vs = VOTE_ERROR;
  PGresult *b = NULL;
  char *arr = NULL;
  memset(out, 0, sizeof *out);
  /* a group that holds rating rows already waits for others briefly */
  if (pg_lock_wait(ps, vb && (vb->n_rows || vb->n_pairs)))
    goto out;

  /* 1. the battle, locked, and its turns: the prompts and texts only of
   * turns checked for identity before this schema, the answers of the
   * last one (whether they are the same) */
  b = pg_prepared(
      ps, PG_VOTE_BATTLE, "vote_battle",
      "SELECT b.model_a, b.model_b, b.session, b.status, b.mode, "
      "b.language, b.tags, " PG_CATEGORIES_COLUMN("b.id") ", b.prompt_hash, "
      "t.turn, CASE WHEN t.identity_checked = 0 THEN t.prompt END, CASE "
      "WHEN t.identity_checked = 0 OR t.turn = l.last THEN t.answer_a END, "
      "CASE WHEN t.identity_checked = 0 OR t.turn = l.last THEN t.answer_b "
      "END, CASE WHEN t.identity_checked = 0 THEN t.reasoning_a END, CASE "
      "WHEN t.identity_checked = 0 THEN t.reasoning_b END, t.finished_at, "
      "t.identity, t.identity_checked, t.error_a IS NULL AND t.error_b IS "
      "NULL FROM battles b CROSS JOIN (SELECT max(turn) AS last FROM turns "
      "WHERE battle_id = $1) l LEFT JOIN turns t ON t.battle_id = b.id "
      "WHERE b.id = $1 ORDER BY t.turn FOR UPDATE OF b",
      "t", id);
  if (!b)
    goto out;
  if (PQntuples(b) == 0) {
    vs = VOTE_NOT_FOUND;
    goto out;
  }
  const char *mode = pg_col_text(b, 0, B_MODE);
  vs = store_vote_gate(pg_col_text(b, 0, B_SESSION), vr->session,
                       pg_col_text(b, 0, B_STATUS), mode);
  if (vs != VOTE_OK)
    goto out;
  vs = VOTE_ERROR;
  /* only a battle whose models were drawn at random and hidden counts on
   * the boards (FastChat counts anony battles only) */
  int anony = !mode || !strcmp(mode, "anony");
  out->model[0] = pg_col_dup(b, 0, B_MODEL_A);
  out->model[1] = pg_col_dup(b, 0, B_MODEL_B);
  if (!out->model[0] || !out->model[1])
    goto out;
  if (stored_identical(b)) {
    vs = VOTE_IDENTICAL;
    goto out;
  }
  out->counted = vr->counted && anony;
  if (!vr->counted && vr->reason)
    snprintf(out->reason, sizeof out->reason, "%s", vr->reason);
  else if (!anony)
    snprintf(out->reason, sizeof out->reason, "not anonymous");
  if (out->counted && vr->verdict)
    out->counted =
        stored_verdict(b, vr, out->reason, sizeof out->reason) == 0;

  /* 2. de-duplication: decided once, here, for a counted vote */
  double cutoff = 0;
  if (out->counted && vr->dedup_min > 0) {
    int d = pg_dedup_vote(ps, id, pg_col_text(b, 0, B_PROMPT_HASH),
                          vr->dedup_min, &cutoff);
    if (d < 0)
      goto out;
    out->dedup = d;
  }

  /* the slices the battle's stored tags put it in */
  char keys[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  int nk = 0;
  int pairs = out->counted && !out->dedup;
  if (pairs)
    nk = pg_slice_keys_of(pg_col_text(b, 0, B_LANGUAGE),
                          pg_col_text(b, 0, B_TAGS),
                          pg_col_text(b, 0, B_CATEGORIES), keys,
                          sizeof keys / sizeof keys[0]);
  if (!(arr = pg_slice_keys_array((const char(*)[SLICE_KEY_MAX])keys,
                                  (size_t)nk)))
    goto out;

  /* 3. the rating rows, locked when the vote counts */
  struct rating_row ra, rb;
  if (rating_rows(ps, out, out->counted, &ra, &rb))
    goto out;
  out->elo_before[0] = ra.elo;
  out->elo_before[1] = rb.elo;
  if (out->counted)
    rating_rows_apply(&ra, &rb, w, vr->k);
  out->elo[0] = ra.elo;
  out->elo[1] = rb.elo;

  /* 4. everything written, the battle first */
  const char *a = out->model[0], *bm = out->model[1];
  int a_first = strcmp(a, bm) < 0;
  enum pair_column col = pair_column(a, bm, w);
  /* the same model on both sides: one row, its last values (rb's), as
   * two upserts in turn would leave it */
  const struct rating_row *x0 = strcmp(a, bm) ? &ra : &rb;
  const char *reason = !out->counted && out->reason[0] ? out->reason : NULL;
  PGresult *v = pg_prepared(
      ps, PG_VOTE_WRITE, "vote", vote_write_sql,
      "ttIitdtitt" "tdllll" "tdllll" "b" "ttiiib" "t",
      id, winner_name(w), now_ms(), out->counted, reason, vr->k, vr->client,
      out->dedup, vr->reasons, vr->comment, x0->model, x0->elo, x0->battles,
      x0->wins, x0->losses, x0->ties, rb.model, rb.elo, rb.battles, rb.wins,
      rb.losses, rb.ties, out->counted, a_first ? a : bm, a_first ? bm : a,
      col == PAIR_WINS_A, col == PAIR_WINS_B, col == PAIR_TIES, pairs, arr);
  if (!v)
    goto out;
  int voted = PQntuples(v) == 1 && !pg_col_null(v, 0, 0);
  PQclear(v);
  if (!voted) {
    /* the battle left 'ready' although it was locked: refused, and the
     * writer rolls back what this vote wrote */
    vs = VOTE_ALREADY_VOTED;
    goto out;
  }
  /* staged last: nothing is staged for a vote that failed */
  if (out->counted &&
      (out->dedup
           ? vote_batch_stage_rows(vb, &ra, &rb)
           : vote_batch_stage(vb, &ra, &rb, w) ||
                 vote_batch_stage_slices(vb,
                                         (const char(*)[SLICE_KEY_MAX])keys,
                                         (size_t)nk, a, bm, w)))
    goto out;
  vs = VOTE_OK;
out:
  if (vs == VOTE_ERROR && ps->err[0])
    log_error("msg=\"vote failed\" err=\"%s\"", log_q(ps->err));
  PQclear(b);
  free(arr);
  if (vs != VOTE_OK)
    vote_outcome_release(out);
  return vs;
}

int pg_ratings_load(void *cls, struct rating_table *t,
                    struct pair_table *pairs) {
  struct pg_store *ps = cls;
  PGresult *r = pg_exec(ps, "ratings_load",
                        "SELECT model, elo, battles, wins, losses, ties FROM "
                        "ratings ORDER BY ord",
                        "");
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r) && !rc; i++) {
    struct rating_row *row = rating_table_get(t, pg_col_text(r, i, 0));
    if (!row)
      rc = -1;
    else
      pg_row(r, i, "-dllll", &row->elo, &row->battles, &row->wins,
             &row->losses, &row->ties);
  }
  PQclear(r);
  if (rc)
    return -1;
  r = pg_exec(ps, "ratings_load",
              "SELECT model_a, model_b, wins_a, wins_b, ties FROM "
              "pair_counts ORDER BY ord",
              "");
  if (!r)
    return -1;
  for (int i = 0; i < PQntuples(r) && !rc; i++) {
    struct pair_row *p = pair_table_get(pairs, pg_col_text(r, i, 0),
                                        pg_col_text(r, i, 1), 1);
    if (!p)
      rc = -1;
    else
      pg_row(r, i, "--lll", &p->wins_a, &p->wins_b, &p->ties);
  }
  PQclear(r);
  return rc;
}

int pg_ratings_replay(void *cls, double k, struct rating_table *t,
                      struct pair_table *pairs, long *n_votes) {
  struct pg_store *ps = cls;
  *n_votes = 0;
  PGresult *r = pg_exec(ps, "ratings_replay",
                        "SELECT b.model_a, b.model_b, v.winner, v.k, v.dedup "
                        "FROM votes v JOIN battles b ON b.id = v.battle_id "
                        "WHERE v.counted = 1 ORDER BY v.seq",
                        "");
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    enum winner w;
    if (winner_parse(pg_col_text(r, i, 2), &w)) {
      rc = -1; /* names no winner, as SQLite's replay fails on it */
      break;
    }
    double vk = pg_col_null(r, i, 3) ? k : pg_col_double(r, i, 3);
    const char *a = pg_col_text(r, i, 0), *b = pg_col_text(r, i, 1);
    /* a vote de-duplication left out counts in the Elo only */
    if (rating_table_apply(t, a, b, w, vk) ||
        (!pg_col_int(r, i, 4) && pair_table_add(pairs, a, b, w))) {
      rc = -1;
      break;
    }
    (*n_votes)++;
  }
  PQclear(r);
  return rc;
}
