/* The leaderboard slices in the PostgreSQL database, as in
 * storage/sqlite/slices.c: which slices a battle's stored tags put it in,
 * their pair counts (slice_pairs, kept in the vote's own transaction),
 * and the LLM taggers' categories, which move a counted battle's outcome
 * into the slices of a category it is newly put in. */
#include "storage/postgres/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tag/battle_tags.h"
#include "util/log.h"

int pg_slice_keys_of(const char *language, const char *tags,
                     const char *categories, char (*keys)[SLICE_KEY_MAX],
                     size_t max) {
  char lang[SLICE_LANG_MAX] = "";
  char cats[PG_MAX_BATTLE_CATEGORIES][SLICE_CAT_MAX];
  const char *names[PG_MAX_BATTLE_CATEGORIES];
  size_t n = 0;
  if (language && strlen(language) < sizeof lang)
    strcpy(lang, language);
  const char *h[TAG_N_HEURISTIC];
  size_t nh = battle_tags_names(battle_tags_parse(tags), h, TAG_N_HEURISTIC);
  for (size_t i = 0; i < nh; i++)
    snprintf(cats[n++], SLICE_CAT_MAX, "%s", h[i]);
  /* the taggers' categories, comma-separated ([a-z0-9_] names) */
  const char *c = categories;
  while (c && *c && n < PG_MAX_BATTLE_CATEGORIES) {
    size_t len = strcspn(c, ",");
    if (len > 0 && len < SLICE_CAT_MAX) {
      memcpy(cats[n], c, len);
      cats[n++][len] = '\0';
    }
    c += len + (c[len] == ',');
  }
  for (size_t i = 0; i < n; i++)
    names[i] = cats[i];
  return (int)slice_keys(lang, names, n, keys, max);
}

char *pg_slice_keys_array(const char (*keys)[SLICE_KEY_MAX], size_t n) {
  size_t len = 3 + n * (2 * SLICE_KEY_MAX + 3);
  char *out = malloc(len);
  const char *v[PG_MAX_BATTLE_SLICES * 2];
  if (!out || n > sizeof v / sizeof v[0]) {
    free(out);
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    v[i] = keys[i];
  if (pg_text_array(v, n, out, len)) {
    free(out);
    return NULL;
  }
  return out;
}

int pg_slice_pairs_add(struct pg_store *ps, const char (*keys)[SLICE_KEY_MAX],
                       size_t n, const char *model_a, const char *model_b,
                       enum winner w) {
  if (n == 0)
    return 0;
  char *arr = pg_slice_keys_array(keys, n);
  if (!arr)
    return -1;
  int a_first = strcmp(model_a, model_b) < 0;
  enum pair_column col = pair_column(model_a, model_b, w);
  /* a key given twice counts twice, as two upserts would; the rows are
   * locked in key order, the same in every transaction */
  long r = pg_run_prepared(
      ps, PG_SLICE_PAIRS_ADD, "slice_pair",
      "INSERT INTO slice_pairs (slice, model_a, model_b, wins_a, wins_b, "
      "ties) SELECT k, $2::text, $3::text, n * $4::bigint, n * $5::bigint, "
      "n * $6::bigint FROM (SELECT k, count(*) AS n FROM unnest($1::text[]) "
      "k GROUP BY k) ks ORDER BY k ON CONFLICT (slice, model_a, model_b) DO "
      "UPDATE SET wins_a = slice_pairs.wins_a + excluded.wins_a, wins_b = "
      "slice_pairs.wins_b + excluded.wins_b, ties = slice_pairs.ties + "
      "excluded.ties",
      "tttiii", arr, a_first ? model_a : model_b, a_first ? model_b : model_a,
      col == PAIR_WINS_A, col == PAIR_WINS_B, col == PAIR_TIES);
  free(arr);
  return r < 0 ? -1 : 0;
}

int pg_vote_slices(struct pg_store *ps, const char *id, const char *model_a,
                   const char *model_b, enum winner w, struct vote_batch *vb) {
  PGresult *r = pg_exec(ps, "slice_tags",
                        "SELECT language, tags, " PG_CATEGORIES_COLUMN("b.id")
                        " FROM battles b WHERE id = $1",
                        "t", id);
  if (!r)
    return -1;
  char keys[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  int n = PQntuples(r) == 1
              ? pg_slice_keys_of(pg_col_text(r, 0, 0), pg_col_text(r, 0, 1),
                                 pg_col_text(r, 0, 2), keys,
                                 sizeof keys / sizeof keys[0])
              : pg_slice_keys_of(NULL, NULL, NULL, keys,
                                 sizeof keys / sizeof keys[0]);
  PQclear(r);
  if (pg_slice_pairs_add(ps, (const char(*)[SLICE_KEY_MAX])keys, (size_t)n,
                         model_a, model_b, w))
    return -1;
  return vb ? vote_batch_stage_slices(vb, (const char(*)[SLICE_KEY_MAX])keys,
                                      (size_t)n, model_a, model_b, w)
            : 0;
}

int pg_slices_load(void *cls, struct slice_table *t) {
  struct pg_store *ps = cls;
  PGresult *r = pg_exec(ps, "slices_load",
                        "SELECT slice, model_a, model_b, wins_a, wins_b, ties "
                        "FROM slice_pairs ORDER BY slice, model_a, model_b",
                        "");
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    struct slice *sl = slice_table_get(t, pg_col_text(r, i, 0), 1);
    struct pair_row *p = sl ? pair_table_get(&sl->pairs, pg_col_text(r, i, 1),
                                             pg_col_text(r, i, 2), 1)
                            : NULL;
    if (!p) {
      rc = -1;
      break;
    }
    p->wins_a = pg_col_long(r, i, 3);
    p->wins_b = pg_col_long(r, i, 4);
    p->ties = pg_col_long(r, i, 5);
    sl->votes += p->wins_a + p->wins_b + p->ties;
  }
  PQclear(r);
  return rc;
}

int pg_slices_replay(void *cls, struct slice_table *t, long *n_votes) {
  struct pg_store *ps = cls;
  *n_votes = 0;
  PGresult *r = pg_exec(ps, "slices_replay",
                        "SELECT b.model_a, b.model_b, v.winner, b.language, "
                        "b.tags, " PG_CATEGORIES_COLUMN("b.id")
                        " FROM votes v JOIN battles b ON b.id = v.battle_id "
                        "WHERE v.counted = 1 AND v.dedup = 0 ORDER BY v.seq",
                        "");
  if (!r)
    return -1;
  int rc = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    enum winner w;
    char keys[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
    if (winner_parse(pg_col_text(r, i, 2), &w)) {
      rc = -1;
      break;
    }
    int n = pg_slice_keys_of(pg_col_text(r, i, 3), pg_col_text(r, i, 4),
                             pg_col_text(r, i, 5), keys,
                             sizeof keys / sizeof keys[0]);
    for (int k = 0; k < n && !rc; k++)
      if (slice_table_add(t, keys[k], pg_col_text(r, i, 0),
                          pg_col_text(r, i, 1), w))
        rc = -1;
    if (rc)
      break;
    (*n_votes)++;
  }
  PQclear(r);
  return rc;
}

int pg_battle_categories(void *cls, const char *id,
                         const struct category_verdict *v, size_t n,
                         const char *tagger, int64_t at,
                         struct vote_batch *vb) {
  struct pg_store *ps = cls;
  int rc = -1;
  char *model[2] = {NULL, NULL};
  char language[SLICE_LANG_MAX] = "";
  enum winner w = WINNER_TIE;
  int counted = 0;
  char (*keys)[SLICE_KEY_MAX] = NULL; /* the slices moved, two a category */
  size_t nk = 0;
  /* a transaction that holds rating rows already waits only briefly */
  if (pg_lock_wait(ps, vb && (vb->n_rows || vb->n_pairs)))
    goto out;
  /* the battle's counted vote, if any, unless de-duplication left it out
   * of the BT boards: its outcome moves into the slices of every category
   * the battle is newly put in */
  PGresult *r = pg_exec(ps, "categories",
                        "SELECT b.model_a, b.model_b, b.language, v.winner "
                        "FROM battles b LEFT JOIN votes v ON v.battle_id = "
                        "b.id AND v.counted = 1 AND v.dedup = 0 WHERE b.id = "
                        "$1",
                        "t", id);
  if (!r)
    goto out;
  if (PQntuples(r) == 0) {
    PQclear(r);
    rc = 1;
    goto out;
  }
  if (!pg_col_null(r, 0, 3)) {
    counted = 1;
    const char *l = pg_col_text(r, 0, 2);
    if (l && strlen(l) < sizeof language)
      strcpy(language, l);
    if (winner_parse(pg_col_text(r, 0, 3), &w) ||
        !(model[0] = pg_col_dup(r, 0, 0)) ||
        !(model[1] = pg_col_dup(r, 0, 1))) {
      PQclear(r);
      goto out;
    }
  }
  PQclear(r);
  /* staged all at once at the end, so that a failure half-way (the
   * writer then rolls this job back to its savepoint) stages nothing */
  keys = counted && n ? calloc(2 * n, sizeof *keys) : NULL;
  if (counted && n && !keys)
    goto out;
  for (size_t i = 0; i < n; i++) {
    long added = pg_run(ps, "categories",
                        "INSERT INTO battle_categories (battle_id, category, "
                        "value, tagger, created_at) VALUES ($1, $2, $3, $4, "
                        "$5) ON CONFLICT DO NOTHING",
                        "ttitI", id, v[i].category, v[i].value ? 1 : 0,
                        tagger, at);
    if (added < 0)
      goto out;
    if (!counted || !v[i].value || added != 1)
      continue;
    /* the category's slices, not the language's (it has the vote) */
    size_t first = nk;
    if (slice_key(keys[nk], NULL, v[i].category) == 0)
      nk++;
    if (*language && strcmp(language, "und") &&
        slice_key(keys[nk], language, v[i].category) == 0)
      nk++;
    if (pg_slice_pairs_add(ps, (const char(*)[SLICE_KEY_MAX])keys + first,
                           nk - first, model[0], model[1], w))
      goto out;
  }
  if (vb && nk &&
      vote_batch_stage_slices(vb, (const char(*)[SLICE_KEY_MAX])keys, nk,
                              model[0], model[1], w))
    goto out;
  rc = 0;
out:
  if (rc < 0)
    log_error("msg=\"storing categories failed\" err=\"%s\"",
              log_q(pg_error(ps)));
  free(keys);
  free(model[0]);
  free(model[1]);
  return rc;
}
