/* Regenerate and retry in the PostgreSQL database (SQLite's
 * schema/0012, storage/sqlite/replaced.c): the answers a turn no longer
 * shows, and the failed sides replaced by other models. battle_load reads
 * them back with PG_REPLACED_COLUMNS (internal.h). */
#include "storage/postgres/internal.h"

#include <stdio.h>

/* Keep side c's ('a' or 'b') answer of the turn and clear it. */
static int keep_side(struct pg_store *ps, const char *id,
                     const struct turn_replace *r, char c) {
  char sql[768];
  snprintf(sql, sizeof sql,
           "INSERT INTO replaced_answers (battle_id, turn, side, attempt, "
           "answer, error, reasoning, replaced_at, kind, model) SELECT "
           "t.battle_id, t.turn, '%c', (SELECT coalesce(max(attempt), 0) + 1 "
           "FROM replaced_answers x WHERE x.battle_id = t.battle_id AND "
           "x.turn = t.turn AND x.side = '%c'), t.answer_%c, t.error_%c, "
           "t.reasoning_%c, $1::bigint, $2::text, b.model_%c FROM turns t "
           "JOIN battles b ON b.id = t.battle_id WHERE t.battle_id = $3 AND "
           "t.turn = $4",
           c, c, c, c, c, c);
  if (pg_run(ps, "replaced_keep", sql, "Itti", r->at,
             r->retry ? "retry" : "regenerate", id, r->turn) != 1)
    return -1;
  snprintf(sql, sizeof sql,
           "UPDATE turns SET answer_%c = NULL, error_%c = NULL, reasoning_%c "
           "= NULL, finished_at = NULL, identity = NULL, identity_checked = 0 "
           "WHERE battle_id = $1 AND turn = $2",
           c, c, c);
  return pg_run(ps, "replaced_clear", sql, "ti", id, r->turn) == 1 ? 0 : -1;
}

int pg_turn_replace(void *cls, const char *id, const struct turn_replace *r) {
  struct pg_store *ps = cls;
  long changed = pg_run(ps, "replace_status",
                        "UPDATE battles SET status = 'streaming' WHERE id = "
                        "$1 AND status = $2",
                        "tt", id, r->retry ? "failed" : "ready");
  if (changed < 0)
    return -1;
  if (changed != 1)
    return 1;
  PGresult *c =
      r->retry ? pg_exec(ps, "replace_count",
                         "SELECT count(*) FROM side_replacements WHERE "
                         "battle_id = $1",
                         "t", id)
               : pg_exec(ps, "replace_count",
                         "SELECT count(*) FROM replaced_answers WHERE "
                         "battle_id = $1 AND turn = $2 AND side = 'a' AND "
                         "kind = 'regenerate'",
                         "ti", id, r->turn);
  if (!c)
    return -1;
  long n = PQntuples(c) == 1 ? pg_col_long(c, 0, 0) : -1;
  PQclear(c);
  if (n < 0)
    return -1;
  if (n >= r->max)
    return 2;
  for (int side = 0; side < 2; side++)
    if ((r->sides & (1 << side)) && keep_side(ps, id, r, "ab"[side]))
      return -1;
  if (!r->retry)
    return 0;
  char s = (r->sides & 1) ? 'a' : 'b';
  char sql[512];
  snprintf(sql, sizeof sql,
           "INSERT INTO side_replacements (battle_id, seq, side, old_model, "
           "new_model, turn, at) SELECT id, (SELECT coalesce(max(seq), 0) + 1 "
           "FROM side_replacements WHERE battle_id = $1), '%c', model_%c, "
           "$2::text, $3::int, $4::bigint FROM battles WHERE id = $1",
           s, s);
  if (pg_run(ps, "replacement_insert", sql, "ttiI", id, r->new_model,
             r->turn, r->at) != 1)
    return -1;
  snprintf(sql, sizeof sql,
           "UPDATE battles SET model_%c = $1 WHERE id = $2", s);
  return pg_run(ps, "replacement_model", sql, "tt", r->new_model, id) == 1
             ? 0
             : -1;
}
