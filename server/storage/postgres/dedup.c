/* De-duplication on the live Bradley-Terry boards in the PostgreSQL
 * database: storage/sqlite/dedup.c's rule, decided in the vote's own
 * transaction. A counted vote's prompt is counted in prompt_counts; when
 * it has then been voted on more often than floor(cutoff) (the
 * DEDUP_PERCENTILE quantile of every prompt's count) and more than the
 * configured floor, the vote is left out of the pair counts. The two
 * figures (distinct prompts, votes left out) are spread over the 16 rows
 * of dedup_stats by the prompt hash's low bits (schema/postgres/0001):
 * nodes voting on different prompts rarely wait for one another. */
#include "storage/postgres/internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rating/dedup.h"
#include "rating/quantile.h"

/* The hash of battle id's prompt from its stored turns, as SQLite's
 * signed 64 bits. 0 or -1. */
static int hash_from_turns(struct pg_store *ps, const char *id,
                           int64_t *out) {
  PGresult *r = pg_prepared(ps, PG_DEDUP_PROMPTS, "dedup",
                            "SELECT prompt FROM turns WHERE battle_id = $1 "
                            "ORDER BY turn",
                            "t", id);
  if (!r)
    return -1;
  struct dedup_prompt p;
  dedup_prompt_init(&p);
  for (int i = 0; i < PQntuples(r); i++) {
    const char *t = pg_col_text(r, i, 0);
    dedup_prompt_add_turn(&p, t ? t : "", t ? strlen(t) : 0);
  }
  PQclear(r);
  memcpy(out, &p.hash, sizeof *out);
  return 0;
}

/* The cutoff over the prompts counted now: 0, or -1 on error. */
static int cutoff_now(struct pg_store *ps, double *cutoff) {
  PGresult *r = pg_prepared(ps, PG_DEDUP_PROMPTS_N, "dedup",
                            "SELECT coalesce(sum(prompts), 0) FROM "
                            "dedup_stats",
                            "");
  if (!r)
    return -1;
  long n = PQntuples(r) == 1 ? pg_col_long(r, 0, 0) : -1;
  PQclear(r);
  *cutoff = 0;
  if (n < 0)
    return -1;
  if (n == 0)
    return 0;
  long lo;
  double frac;
  quantile_ranks(n, DEDUP_PERCENTILE, &lo, &frac);
  /* descending, from rank lo + 1 down to lo (ascending ranks) */
  long offset = n - 2 - lo;
  if (offset < 0)
    offset = 0;
  r = pg_prepared(ps, PG_DEDUP_TOP, "dedup",
                  "SELECT n FROM prompt_counts ORDER BY n DESC LIMIT 2 "
                  "OFFSET $1",
                  "l", offset);
  if (!r)
    return -1;
  int k = PQntuples(r);
  double v[2] = {0, 0};
  for (int i = 0; i < k && i < 2; i++)
    v[i] = (double)pg_col_int64(r, i, 0);
  PQclear(r);
  if (k == 0)
    return -1;
  if (lo + 1 >= n) /* lo is the last rank (offset 0): no upper one */
    *cutoff = v[0];
  else
    *cutoff = v[1] + (v[0] - v[1]) * frac;
  return 0;
}

int pg_dedup_vote(struct pg_store *ps, const char *id, const char *hash,
                  long floor_n, double *cutoff) {
  int64_t h;
  if (hash)
    h = strtoll(hash, NULL, 10);
  else if (hash_from_turns(ps, id, &h))
    return -1;
  int shard = (int)((uint64_t)h & 15);
  /* the prompt's count, and a new prompt counted in its row of
   * dedup_stats, in one statement */
  PGresult *r = pg_prepared(
      ps, PG_DEDUP_COUNT, "dedup",
      "WITH c AS (INSERT INTO prompt_counts (hash, n) VALUES ($1, 1) ON "
      "CONFLICT (hash) DO UPDATE SET n = prompt_counts.n + 1 RETURNING n), "
      "s AS (UPDATE dedup_stats SET prompts = prompts + 1 WHERE id = $2 AND "
      "(SELECT n FROM c) = 1 RETURNING 1) SELECT n, (SELECT count(*) FROM "
      "s) FROM c",
      "Ii", h, shard);
  if (!r)
    return -1;
  long n = PQntuples(r) == 1 ? pg_col_long(r, 0, 0) : -1;
  int counted_new = PQntuples(r) == 1 ? pg_col_int(r, 0, 1) : 0;
  PQclear(r);
  if (n < 1 || (n == 1 && counted_new != 1))
    return -1;
  /* at or below the floor the vote is kept whatever the cutoff: the
   * cutoff's two reads are spared for nearly every vote */
  *cutoff = 0;
  if (n <= floor_n)
    return 0;
  if (cutoff_now(ps, cutoff))
    return -1;
  if (n <= (long)floor(*cutoff))
    return 0;
  if (pg_run_prepared(ps, PG_DEDUP_LEFT_OUT, "dedup",
                      "UPDATE dedup_stats SET left_out = left_out + 1 WHERE "
                      "id = $1",
                      "i", shard) != 1)
    return -1;
  return 1;
}

int pg_dedup_stats(void *cls, long *prompts, long *left_out) {
  struct pg_store *ps = cls;
  *prompts = *left_out = 0;
  PGresult *r = pg_exec(ps, "dedup_stats",
                        "SELECT coalesce(sum(prompts), 0), "
                        "coalesce(sum(left_out), 0) FROM dedup_stats",
                        "");
  if (!r)
    return -1;
  int rc = -1;
  if (PQntuples(r) == 1) {
    pg_row(r, 0, "ll", prompts, left_out);
    rc = 0;
  }
  PQclear(r);
  return rc;
}
