/* The meta table, whether a battle is stored, and the ratings as a
 * replay makes them, in the PostgreSQL database (storage/sqlite/
 * interchange.c's first half). All on the write connection, under the
 * write lock. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <string.h>

int pg_meta_get(void *cls, const char *key, char *out, size_t len) {
  struct pg_store *ps = cls;
  PGresult *r =
      pg_exec(ps, NULL, "SELECT value FROM meta WHERE key = $1", "t", key);
  if (!r)
    return -1;
  int rc = 1;
  if (PQntuples(r) == 1) {
    const char *v = pg_col_text(r, 0, 0);
    snprintf(out, len, "%s", v ? v : "");
    rc = 0;
  }
  PQclear(r);
  return rc;
}

/* Several nodes may add the same key at once (the secret, at their first
 * start): the first value stays, and that is no error. */
int pg_meta_add(void *cls, const char *key, const char *value) {
  struct pg_store *ps = cls;
  return pg_run(ps, NULL,
                "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT "
                "(key) DO NOTHING",
                "tt", key, value) < 0
             ? -1
             : 0;
}

int pg_battle_exists(void *cls, const char *id) {
  struct pg_store *ps = cls;
  PGresult *r = pg_prepared(ps, PG_BATTLE_EXISTS, NULL,
                            "SELECT 1 FROM battles WHERE id = $1", "t", id);
  if (!r)
    return -1;
  int rc = PQntuples(r) > 0;
  PQclear(r);
  return rc;
}

int pg_ratings_replace(void *cls, const struct rating_table *t,
                       const struct pair_table *p) {
  struct pg_store *ps = cls;
  if (pg_run(ps, "ratings_replace", "DELETE FROM ratings", "") < 0 ||
      pg_run(ps, "ratings_replace", "DELETE FROM pair_counts", "") < 0)
    return -1;
  for (size_t i = 0; i < t->n; i++) {
    const struct rating_row *r = &t->rows[i];
    if (pg_run_prepared(ps, PG_RATING_INSERT, "ratings_replace",
                        "INSERT INTO ratings (model, elo, battles, wins, "
                        "losses, ties) VALUES ($1, $2, $3, $4, $5, $6)",
                        "tdllll", r->model, r->elo, r->battles, r->wins,
                        r->losses, r->ties) != 1)
      return -1;
  }
  for (size_t i = 0; i < p->n; i++) {
    const struct pair_row *r = &p->rows[i];
    if (pg_run_prepared(ps, PG_PAIR_INSERT, "ratings_replace",
                        "INSERT INTO pair_counts (model_a, model_b, wins_a, "
                        "wins_b, ties) VALUES ($1, $2, $3, $4, $5)",
                        "ttlll", r->a, r->b, r->wins_a, r->wins_b,
                        r->ties) != 1)
      return -1;
  }
  return 0;
}
