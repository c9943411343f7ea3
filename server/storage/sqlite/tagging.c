/* What taggers read from the SQLite database (a battle's prompts, the
 * battles still to tag), and the heuristic tags filled in on battles
 * stored without them, with the slices a counted vote newly joins. */
#include "storage/sqlite/internal.h"

#include <stdlib.h>
#include <string.h>

#include "storage/tags.h"
#include "util/array.h"
#include "util/log.h"

int sqlite_tag_case_load(void *cls, const char *id, struct tag_case *out) {
  struct sqlite_store *st = cls;
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", id);
  char *record = NULL;
  int rc = -1, r;
  sqlite3_stmt *s = sqlite_read_begin(
      st, "SELECT record FROM battles WHERE id = ?", "t", id);
  if (!s)
    goto out;
  r = sqlite3_step(s);
  if (r == SQLITE_DONE) {
    rc = 1;
    goto out;
  }
  if (r != SQLITE_ROW ||
      (sqlite3_column_type(s, 0) != SQLITE_NULL &&
       !(record = sqlite_text_dup(s, 0))))
    goto out;
  s = sqlite_stmt_next(s, "SELECT prompt FROM turns WHERE battle_id = ? "
                          "ORDER BY turn",
                       "t", id);
  if (!s)
    goto out;
  while ((r = sqlite3_step(s)) == SQLITE_ROW)
    if (tag_case_add_prompt(out, sqlite_text(s, 0)))
      goto out;
  if (r != SQLITE_DONE)
    goto out;
  if (!out->n_prompts && record && tag_case_from_record(out, record) < 0)
    goto out;
  s = sqlite_stmt_next(s, "SELECT category FROM battle_categories WHERE "
                          "battle_id = ? ORDER BY category",
                       "t", id);
  if (!s)
    goto out;
  while ((r = sqlite3_step(s)) == SQLITE_ROW)
    if (tag_case_add_tagged(out, sqlite_text(s, 0)))
      goto out;
  if (r != SQLITE_DONE)
    goto out;
  rc = out->n_prompts ? 0 : 1;
out:
  sqlite_read_end(st, s);
  free(record);
  if (rc)
    tag_case_release(out);
  return rc;
}

/* The first column of every row of s (stepped to the end) into a new
 * array *ids of *n strings. 0 or -1 (nothing allocated then). */
static int collect_ids(sqlite3_stmt *s, char ***ids, size_t *n) {
  size_t cap = 0;
  int r;
  *ids = NULL;
  *n = 0;
  while ((r = sqlite3_step(s)) == SQLITE_ROW) {
    char **more = array_grow(*ids, *n, &cap, sizeof **ids, 64);
    char *id = more ? sqlite_text_dup(s, 0) : NULL;
    if (more)
      *ids = more;
    if (!id)
      break;
    (*ids)[(*n)++] = id;
  }
  if (r == SQLITE_DONE)
    return 0;
  for (size_t i = 0; i < *n; i++)
    free((*ids)[i]);
  free(*ids);
  *ids = NULL;
  *n = 0;
  return -1;
}

int sqlite_tag_pending(void *cls, const char *const *categories, size_t n,
                       long limit, char ***ids, size_t *n_ids) {
  struct sqlite_store *st = cls;
  int rc = -1;
  *ids = NULL;
  *n_ids = 0;
  json_t *names = json_array();
  for (size_t i = 0; names && i < n; i++)
    if (json_array_append_new(names, json_string(categories[i])))
      goto out;
  char *list = names ? json_dumps(names, JSON_COMPACT) : NULL;
  if (!list)
    goto out;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT b.id FROM battles b WHERE b.status = 'voted' AND EXISTS "
      "(SELECT 1 FROM json_each(?1) c WHERE NOT EXISTS (SELECT 1 FROM "
      "battle_categories k WHERE k.battle_id = b.id AND k.category = "
      "c.value)) ORDER BY b.created_at, b.id LIMIT ?2",
      "tl", list, limit > 0 ? limit : -1L);
  if (s)
    rc = collect_ids(s, ids, n_ids);
  sqlite_read_end(st, s);
  free(list);
out:
  json_decref(names);
  return rc;
}

int sqlite_untagged(void *cls, long limit, char ***ids, size_t *n_ids) {
  struct sqlite_store *st = cls;
  int rc = -1;
  *ids = NULL;
  *n_ids = 0;
  sqlite3_stmt *s = sqlite_read_begin(
      st,
      "SELECT id FROM battles WHERE status IN ('ready', 'voted') AND "
      "mode != 'direct' AND (language IS NULL OR tags IS NULL OR conv_metadata IS NULL) ORDER "
      "BY created_at, id LIMIT ?",
      "l", limit > 0 ? limit : -1L);
  if (s)
    rc = collect_ids(s, ids, n_ids);
  sqlite_read_end(st, s);
  return rc;
}

/* Whether key is one of keys[n]. */
static int has_key(const char (*keys)[SLICE_KEY_MAX], int n,
                   const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(keys[i], key))
      return 1;
  return 0;
}

int sqlite_battle_tags(void *cls, const char *id,
                       const struct battle_tags *tags, struct vote_batch *vb) {
  struct sqlite_store *st = cls;
  char before[MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  char after[MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  char names[BATTLE_TAGS_TEXT_MAX];
  char *model[2] = {NULL, NULL};
  char *meta_text = NULL;
  sqlite3_stmt *s = NULL;
  int rc = -1;
  /* the slices the battle is in now, as the vote counted it */
  int nb = sqlite_battle_slice_keys(st, id, before, MAX_BATTLE_SLICES);
  if (nb < 0)
    goto out;
  battle_tags_text(tags->mask, names);
  json_t *meta = store_conv_metadata(tags);
  meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
  json_decref(meta);
  if (!meta_text)
    goto out;
  s = sqlite_stmt(st, STMT_TAGS_FILL,
                  "UPDATE battles SET language = coalesce(language, ?1), "
                  "tags = coalesce(tags, ?2), conv_metadata = "
                  "coalesce(conv_metadata, ?3) WHERE id = ?4 AND (language "
                  "IS NULL OR tags IS NULL OR conv_metadata IS NULL)",
                  "tttt", tags->language, names, meta_text, id);
  if (!s || sqlite_step_done(s, NULL))
    goto out;
  if (sqlite3_changes(st->db) != 1) {
    rc = 1;
    goto out;
  }
  /* a counted vote moves into the slices its battle is newly in (unless
   * de-duplication left it out of the BT boards, and so of every slice) */
  s = sqlite_stmt(st, STMT_TAGS_VOTE,
                  "SELECT b.model_a, b.model_b, v.winner FROM battles b JOIN "
                  "votes v ON v.battle_id = b.id AND v.counted = 1 AND "
                  "v.dedup = 0 WHERE b.id = ?",
                  "t", id);
  if (!s)
    goto out;
  int r = sqlite3_step(s);
  enum winner w = WINNER_TIE;
  if (r == SQLITE_ROW && (winner_parse(sqlite_text(s, 2), &w) ||
                          !(model[0] = sqlite_text_dup(s, 0)) ||
                          !(model[1] = sqlite_text_dup(s, 1)))) {
    sqlite3_reset(s);
    goto out;
  }
  sqlite3_reset(s);
  if (r == SQLITE_DONE) {
    rc = 0;
    goto out;
  }
  if (r != SQLITE_ROW)
    goto out;
  int na = sqlite_battle_slice_keys(st, id, after, MAX_BATTLE_SLICES);
  if (na < 0)
    goto out;
  char added[MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  int n = 0;
  for (int i = 0; i < na; i++)
    if (!has_key((const char(*)[SLICE_KEY_MAX])before, nb, after[i]))
      memcpy(added[n++], after[i], SLICE_KEY_MAX);
  for (int i = 0; i < n; i++)
    if (sqlite_slice_pair_add(st, added[i], model[0], model[1], w))
      goto out;
  if (vb && vote_batch_stage_slices(vb, (const char(*)[SLICE_KEY_MAX])added,
                                    (size_t)n, model[0], model[1], w))
    goto out;
  rc = 0;
out:
  if (rc < 0)
    log_error("msg=\"storing battle tags failed\" battle=%s err=\"%s\"",
              log_q(id), log_q(sqlite3_errmsg(st->db)));
  free(meta_text);
  free(model[0]);
  free(model[1]);
  return rc;
}
