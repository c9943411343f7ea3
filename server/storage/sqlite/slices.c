/* The leaderboard slices in SQLite: which slices a battle's stored tags
 * put it in, their pair counts (slice_pairs, kept in the vote's own
 * transaction), and the LLM taggers' categories, which move a counted
 * battle's outcome into the slices of a category it is newly put in. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "tag/battle_tags.h"
#include "util/log.h"

int sqlite_battle_slice_keys(struct sqlite_store *st, const char *id,
                             char (*keys)[SLICE_KEY_MAX], size_t max) {
  char language[SLICE_LANG_MAX] = "";
  char cats[MAX_BATTLE_CATEGORIES][SLICE_CAT_MAX];
  const char *names[MAX_BATTLE_CATEGORIES];
  size_t n = 0;
  int rc = -1;
  /* one statement: the vote's transaction runs it for every vote */
  sqlite3_stmt *s = sqlite_stmt(
      st, STMT_SLICE_TAGS,
      "SELECT language, tags, (SELECT group_concat(category) FROM "
      "battle_categories c WHERE c.battle_id = b.id AND c.value = 1) FROM "
      "battles b WHERE id = ?",
      "t", id);
  if (!s)
    return -1;
  int r = sqlite3_step(s);
  if (r == SQLITE_ROW) {
    const char *l = (const char *)sqlite3_column_text(s, 0);
    if (l && strlen(l) < sizeof language)
      strcpy(language, l);
    const char *h[TAG_N_HEURISTIC];
    size_t nh = battle_tags_names(
        battle_tags_parse((const char *)sqlite3_column_text(s, 1)), h,
        TAG_N_HEURISTIC);
    for (size_t i = 0; i < nh; i++)
      snprintf(cats[n++], SLICE_CAT_MAX, "%s", h[i]);
    /* the taggers' categories, comma-separated ([a-z0-9_] names) */
    const char *c = (const char *)sqlite3_column_text(s, 2);
    while (c && *c && n < MAX_BATTLE_CATEGORIES) {
      size_t len = strcspn(c, ",");
      if (len > 0 && len < SLICE_CAT_MAX) {
        memcpy(cats[n], c, len);
        cats[n++][len] = '\0';
      }
      c += len + (c[len] == ',');
    }
  } else if (r != SQLITE_DONE) {
    goto out;
  }
  for (size_t i = 0; i < n; i++)
    names[i] = cats[i];
  rc = (int)slice_keys(language, names, n, keys, max);
out:
  sqlite3_reset(s);
  return rc;
}

int sqlite_slice_pair_add(struct sqlite_store *st, const char *key,
                          const char *x, const char *y, enum winner w) {
  int x_is_a = strcmp(x, y) < 0;
  int col = (int)pair_column(x, y, w); /* the order of sql[] */
  static const char *const sql[3] = {
      "INSERT INTO slice_pairs (slice, model_a, model_b, wins_a) VALUES (?, "
      "?, ?, 1) ON CONFLICT (slice, model_a, model_b) DO UPDATE SET wins_a "
      "= wins_a + 1",
      "INSERT INTO slice_pairs (slice, model_a, model_b, wins_b) VALUES (?, "
      "?, ?, 1) ON CONFLICT (slice, model_a, model_b) DO UPDATE SET wins_b "
      "= wins_b + 1",
      "INSERT INTO slice_pairs (slice, model_a, model_b, ties) VALUES (?, ?, "
      "?, 1) ON CONFLICT (slice, model_a, model_b) DO UPDATE SET ties = "
      "ties + 1"};
  sqlite3_stmt *s = sqlite_stmt(st, STMT_SLICE_WINS_A + col, sql[col], "ttt",
                                key, x_is_a ? x : y, x_is_a ? y : x);
  return s ? sqlite_step_done(s, "slice_pair") : -1;
}

int sqlite_vote_slices(struct sqlite_store *st, const char *id,
                       const char *model_a, const char *model_b,
                       enum winner w, struct vote_batch *vb) {
  char keys[MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  int n = sqlite_battle_slice_keys(st, id, keys,
                                   sizeof keys / sizeof keys[0]);
  if (n < 0)
    return -1;
  for (int i = 0; i < n; i++)
    if (sqlite_slice_pair_add(st, keys[i], model_a, model_b, w))
      return -1;
  return vb ? vote_batch_stage_slices(vb, (const char(*)[SLICE_KEY_MAX])keys,
                                      (size_t)n, model_a, model_b, w)
            : 0;
}

int sqlite_slices_load(void *cls, struct slice_table *t) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1, r;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT slice, model_a, model_b, wins_a, wins_b, "
                         "ties FROM slice_pairs ORDER BY slice",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    struct slice *sl =
        slice_table_get(t, (const char *)sqlite3_column_text(s, 0), 1);
    struct pair_row *p =
        sl ? pair_table_get(&sl->pairs, (const char *)sqlite3_column_text(s, 1),
                            (const char *)sqlite3_column_text(s, 2), 1)
           : NULL;
    if (!p)
      goto out;
    p->wins_a = sqlite3_column_int64(s, 3);
    p->wins_b = sqlite3_column_int64(s, 4);
    p->ties = sqlite3_column_int64(s, 5);
    sl->votes += p->wins_a + p->wins_b + p->ties;
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  return rc;
}

int sqlite_slices_replay(void *cls, struct slice_table *t, long *n_votes) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1, r;
  *n_votes = 0;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT b.id, b.model_a, b.model_b, v.winner FROM "
                         "votes v JOIN battles b ON b.id = v.battle_id WHERE "
                         "v.counted = 1 AND v.dedup = 0 ORDER BY v.seq",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    enum winner w;
    char keys[MAX_BATTLE_SLICES][SLICE_KEY_MAX];
    if (winner_parse((const char *)sqlite3_column_text(s, 3), &w))
      goto out;
    int n = sqlite_battle_slice_keys(st, (const char *)sqlite3_column_text(s, 0),
                                     keys, sizeof keys / sizeof keys[0]);
    if (n < 0)
      goto out;
    for (int i = 0; i < n; i++)
      if (slice_table_add(t, keys[i], (const char *)sqlite3_column_text(s, 1),
                          (const char *)sqlite3_column_text(s, 2), w))
        goto out;
    (*n_votes)++;
  }
  rc = r == SQLITE_DONE ? 0 : -1;
out:
  sqlite3_finalize(s);
  return rc;
}

int sqlite_battle_categories(void *cls, const char *id,
                             const struct category_verdict *v, size_t n,
                             const char *tagger, int64_t at,
                             struct vote_batch *vb) {
  struct sqlite_store *st = cls;
  sqlite3_stmt *s = NULL;
  int rc = -1;
  /* the battle's counted vote, if any, unless de-duplication left it out
   * of the BT boards: its outcome moves into the slices of every category
   * the battle is newly put in */
  char *model[2] = {NULL, NULL};
  char language[SLICE_LANG_MAX] = "";
  enum winner w = WINNER_TIE;
  int counted = 0;
  char (*keys)[SLICE_KEY_MAX] = NULL; /* the slices moved, two a category */
  size_t nk = 0;
  if (sqlite3_prepare_v2(st->db,
                         "SELECT b.model_a, b.model_b, b.language, v.winner "
                         "FROM battles b LEFT JOIN votes v ON v.battle_id = "
                         "b.id AND v.counted = 1 AND v.dedup = 0 WHERE b.id "
                         "= ?",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int r = sqlite3_step(s);
  if (r == SQLITE_DONE) {
    rc = 1;
    goto out;
  }
  if (r != SQLITE_ROW)
    goto out;
  if (sqlite3_column_type(s, 3) != SQLITE_NULL) {
    counted = 1;
    if (winner_parse((const char *)sqlite3_column_text(s, 3), &w) ||
        !(model[0] = strdup((const char *)sqlite3_column_text(s, 0))) ||
        !(model[1] = strdup((const char *)sqlite3_column_text(s, 1))))
      goto out;
    const char *l = (const char *)sqlite3_column_text(s, 2);
    if (l && strlen(l) < sizeof language)
      strcpy(language, l);
  }
  sqlite3_finalize(s);
  s = NULL;
  /* staged all at once at the end, so that a failure half-way (the
   * writer then rolls this job back to its savepoint) stages nothing */
  keys = counted && n ? calloc(2 * n, sizeof *keys) : NULL;
  if (counted && n && !keys)
    goto out;
  if (sqlite3_prepare_v2(st->db,
                         "INSERT INTO battle_categories (battle_id, "
                         "category, value, tagger, created_at) VALUES (?, ?, "
                         "?, ?, ?) ON CONFLICT DO NOTHING",
                         -1, &s, NULL) != SQLITE_OK)
    goto out;
  for (size_t i = 0; i < n; i++) {
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, v[i].category, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 3, v[i].value ? 1 : 0);
    if (tagger)
      sqlite3_bind_text(s, 4, tagger, -1, SQLITE_STATIC);
    else
      sqlite3_bind_null(s, 4);
    sqlite3_bind_int64(s, 5, at);
    if (sqlite3_step(s) != SQLITE_DONE)
      goto out;
    if (!counted || !v[i].value || sqlite3_changes(st->db) != 1)
      continue;
    /* the category's slices, not the language's (it has the vote) */
    size_t first = nk;
    if (slice_key(keys[nk], NULL, v[i].category) == 0)
      nk++;
    if (*language && strcmp(language, "und") &&
        slice_key(keys[nk], language, v[i].category) == 0)
      nk++;
    for (size_t k = first; k < nk; k++)
      if (sqlite_slice_pair_add(st, keys[k], model[0], model[1], w))
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
              log_q(sqlite3_errmsg(st->db)));
  sqlite3_finalize(s);
  free(keys);
  free(model[0]);
  free(model[1]);
  return rc;
}
