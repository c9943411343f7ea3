/* De-duplication on the live Bradley-Terry boards (schema/0010_dedup.sql),
 * decided in the vote's own transaction, so that a fit never rescans
 * votes and the decision, once stored, never changes: a counted vote's
 * prompt (rating/dedup.h's prompt: its user turns) is counted in
 * prompt_counts; when that prompt has then been voted on more often than
 * floor(cutoff), the DEDUP_PERCENTILE quantile of every prompt's count
 * (as rating/dedup.c computes it, over the prompts voted on so far), and
 * more than the configured floor, the vote is left out of the pair counts.
 * FastChat samples floor(cutoff) battles of such a prompt at random once
 * all are known; live, the first floor(cutoff) are kept. */
#include "storage/sqlite/internal.h"

#include <math.h>
#include <string.h>

#include "rating/dedup.h"
#include "rating/quantile.h"

/* The hash of battle id's prompt: as stored when its last turn ended, else
 * from its stored turns. 0 or -1. */
static int prompt_hash(struct sqlite_store *st, const char *id,
                       int64_t *out) {
  sqlite3_stmt *h = sqlite_stmt(st, STMT_DEDUP_HASH,
                               "SELECT prompt_hash FROM battles WHERE id = ?",
                               "t", id);
  if (!h)
    return -1;
  int known = sqlite3_step(h) == SQLITE_ROW &&
              sqlite3_column_type(h, 0) != SQLITE_NULL;
  if (known)
    *out = sqlite3_column_int64(h, 0);
  sqlite3_reset(h);
  if (known)
    return 0;
  struct dedup_prompt p;
  dedup_prompt_init(&p);
  sqlite3_stmt *s = sqlite_stmt(st, STMT_DEDUP_PROMPTS,
                               "SELECT prompt FROM turns WHERE battle_id = "
                               "? ORDER BY turn",
                               "t", id);
  if (!s)
    return -1;
  int r;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    const char *t = sqlite_text(s, 0);
    dedup_prompt_add_turn(&p, t, strlen(t));
  }
  sqlite3_reset(s);
  if (r != SQLITE_DONE)
    return -1;
  memcpy(out, &p.hash, sizeof *out); /* stored as SQLite's signed 64 bits */
  return 0;
}

/* The cutoff over the prompts counted now: 0, or -1 on error. */
static int cutoff_now(struct sqlite_store *st, double *cutoff) {
  sqlite3_stmt *s = sqlite_stmt(st, STMT_DEDUP_STATS,
                               "SELECT prompts FROM dedup_stats WHERE id = 1",
                               "");
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    if (s)
      sqlite3_reset(s);
    return -1;
  }
  long n = (long)sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  *cutoff = 0;
  if (n <= 0)
    return 0;
  long lo;
  double frac;
  quantile_ranks(n, DEDUP_PERCENTILE, &lo, &frac);
  /* descending, from rank lo + 1 down to lo (ascending ranks) */
  long offset = n - 2 - lo;
  if (offset < 0)
    offset = 0;
  s = sqlite_stmt(st, STMT_DEDUP_TOP,
                  "SELECT n FROM prompt_counts ORDER BY n DESC LIMIT 2 "
                  "OFFSET ?",
                  "l", offset);
  if (!s)
    return -1;
  double v[2] = {0, 0};
  int k = 0, r;
  while (k < 2 && (r = sqlite3_step(s)) == SQLITE_ROW)
    v[k++] = (double)sqlite3_column_int64(s, 0);
  sqlite3_reset(s);
  if (k == 0)
    return -1;
  if (lo + 1 >= n)  /* lo is the last rank (offset 0): no upper one */
    *cutoff = v[0];
  else
    *cutoff = v[1] + (v[0] - v[1]) * frac;
  return 0;
}

int sqlite_dedup_vote(struct sqlite_store *st, const char *id, long floor_n,
                      double *cutoff) {
  int64_t hash;
  if (prompt_hash(st, id, &hash))
    return -1;
  sqlite3_stmt *s = sqlite_stmt(
      st, STMT_DEDUP_COUNT,
      "INSERT INTO prompt_counts (hash, n) VALUES (?, 1) ON CONFLICT (hash) "
      "DO UPDATE SET n = n + 1 RETURNING n",
      "I", hash);
  if (!s || sqlite3_step(s) != SQLITE_ROW) {
    if (s)
      sqlite3_reset(s);
    return -1;
  }
  long n = (long)sqlite3_column_int64(s, 0);
  if (sqlite3_step(s) != SQLITE_DONE) {
    sqlite3_reset(s);
    return -1;
  }
  sqlite3_reset(s);
  if (n == 1) {
    s = sqlite_stmt(st, STMT_DEDUP_PROMPT_NEW,
                    "UPDATE dedup_stats SET prompts = prompts + 1 WHERE id "
                    "= 1",
                    "");
    if (!s || sqlite_step_done(s, "dedup"))
      return -1;
  }
  /* at or below the floor the vote is kept whatever the cutoff: the
   * cutoff's two reads are spared for nearly every vote */
  *cutoff = 0;
  if (n <= floor_n)
    return 0;
  if (cutoff_now(st, cutoff))
    return -1;
  if (n <= (long)floor(*cutoff))
    return 0;
  s = sqlite_stmt(st, STMT_DEDUP_LEFT_OUT,
                  "UPDATE dedup_stats SET left_out = left_out + 1 WHERE id "
                  "= 1",
                  "");
  if (!s || sqlite_step_done(s, "dedup"))
    return -1;
  return 1;
}

int sqlite_dedup_stats(void *cls, long *prompts, long *left_out) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = sqlite_stmt_new(
      st->db, "SELECT prompts, left_out FROM dedup_stats WHERE id = 1", "");
  int rc = -1;
  *prompts = *left_out = 0;
  if (s && sqlite3_step(s) == SQLITE_ROW) {
    sqlite_row(s, "ll", prompts, left_out);
    rc = 0;
  }
  sqlite3_finalize(s);
  return rc;
}
