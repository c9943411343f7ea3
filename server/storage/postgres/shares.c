/* Shared battles and a session's own votes in PostgreSQL (SQLite's
 * schema/0013; storage/sqlite/shares.c's rules). On the write connection,
 * under the write lock. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <string.h>

int pg_shares_load(void *cls, long max, store_share_fn fn, void *ctx) {
  struct pg_store *ps = cls;
  /* a negative max: no limit (SQLite's LIMIT -1) */
  PGresult *r = pg_exec(ps, NULL,
                        "SELECT token, battle_id FROM shares ORDER BY "
                        "created_at, token COLLATE \"C\" LIMIT $1",
                        max >= 0 ? "l" : "n", max);
  if (!r)
    return -1;
  for (int i = 0; i < PQntuples(r); i++)
    if (fn(ctx, pg_col_text(r, i, 0), pg_col_text(r, i, 1)))
      break; /* stopped: not an error */
  PQclear(r);
  return 0;
}

int pg_share_put(void *cls, const char *token, const char *battle_id,
                 int64_t at, char out[STORE_SHARE_TOKEN]) {
  struct pg_store *ps = cls;
  if (pg_run(ps, "share",
             "INSERT INTO shares (token, battle_id, created_at) VALUES ($1, "
             "$2, $3) ON CONFLICT (battle_id) DO NOTHING",
             "ttI", token, battle_id, at) < 0)
    return -1;
  PGresult *r = pg_exec(ps, NULL,
                        "SELECT token FROM shares WHERE battle_id = $1", "t",
                        battle_id);
  int rc = r && PQntuples(r) == 1 ? 0 : -1;
  if (!rc)
    snprintf(out, STORE_SHARE_TOKEN, "%s", pg_col_text(r, 0, 0));
  PQclear(r);
  return rc;
}

int pg_share_delete(void *cls, const char *battle_id) {
  struct pg_store *ps = cls;
  return pg_run(ps, "unshare", "DELETE FROM shares WHERE battle_id = $1", "t",
                battle_id) < 0
             ? -1
             : 0;
}

int pg_session_votes(void *cls, const char *session, long max,
                     store_session_vote_fn fn, void *ctx) {
  struct pg_store *ps = cls;
  /* the newest max, given oldest first */
  PGresult *r = pg_exec(
      ps, NULL,
      "SELECT model_a, model_b, winner FROM (SELECT b.model_a, b.model_b, "
      "v.winner, v.seq FROM votes v JOIN battles b ON b.id = v.battle_id "
      "WHERE b.session = $1 AND v.counted = 1 ORDER BY v.seq DESC LIMIT $2) "
      "newest ORDER BY seq",
      max >= 0 ? "tl" : "tn", session, max);
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    enum winner w;
    if (winner_parse(pg_col_text(r, i, 2), &w))
      continue;
    if (fn(ctx, pg_col_text(r, i, 0), pg_col_text(r, i, 1), w)) {
      rc = -1;
      break;
    }
  }
  PQclear(r);
  return rc;
}
