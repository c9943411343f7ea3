/* What taggers read from the PostgreSQL database (a battle's prompts, the
 * battles still to tag), and the heuristic tags filled in on battles
 * stored without them, with the slices a counted vote newly joins
 * (storage/sqlite/tagging.c's rules). */
#include "storage/postgres/internal.h"

#include <stdlib.h>
#include <string.h>

#include "storage/tags.h"
#include "util/array.h"
#include "util/log.h"

int pg_tag_case_load(void *cls, const char *id, struct tag_case *out) {
  struct pg_store *ps = cls;
  memset(out, 0, sizeof *out);
  snprintf(out->id, sizeof out->id, "%s", id);
  char *record = NULL;
  int rc = -1;
  PGresult *r = pg_read(ps, "tag_case_load",
                        "SELECT record FROM battles WHERE id = $1", "t", id);
  if (!r)
    goto out;
  if (PQntuples(r) == 0) {
    rc = 1;
    goto out;
  }
  if (!pg_col_null(r, 0, 0) && !(record = pg_col_dup(r, 0, 0)))
    goto out;
  PQclear(r);
  r = pg_read(ps, "tag_case_load",
              "SELECT prompt FROM turns WHERE battle_id = $1 ORDER BY turn",
              "t", id);
  if (!r)
    goto out;
  for (int i = 0; i < PQntuples(r); i++)
    if (tag_case_add_prompt(out, pg_col_text(r, i, 0)))
      goto out;
  if (!out->n_prompts && record && tag_case_from_record(out, record) < 0)
    goto out;
  PQclear(r);
  r = pg_read(ps, "tag_case_load",
              "SELECT category FROM battle_categories WHERE battle_id = $1 "
              "ORDER BY category",
              "t", id);
  if (!r)
    goto out;
  for (int i = 0; i < PQntuples(r); i++)
    if (tag_case_add_tagged(out, pg_col_text(r, i, 0)))
      goto out;
  rc = out->n_prompts ? 0 : 1;
out:
  PQclear(r);
  free(record);
  if (rc)
    tag_case_release(out);
  return rc;
}

int pg_collect_ids(const PGresult *r, char ***ids, size_t *n) {
  size_t cap = 0;
  *ids = NULL;
  *n = 0;
  for (int i = 0; i < PQntuples(r); i++) {
    char **more = array_grow(*ids, *n, &cap, sizeof **ids, 64);
    char *id = more ? pg_col_dup(r, i, 0) : NULL;
    if (more)
      *ids = more;
    if (!id)
      goto fail;
    (*ids)[(*n)++] = id;
  }
  return 0;
fail:
  for (size_t i = 0; i < *n; i++)
    free((*ids)[i]);
  free(*ids);
  *ids = NULL;
  *n = 0;
  return -1;
}

int pg_tag_pending(void *cls, const char *const *categories, size_t n,
                   long limit, char ***ids, size_t *n_ids) {
  struct pg_store *ps = cls;
  int rc = -1;
  char *list = NULL;
  *ids = NULL;
  *n_ids = 0;
  json_t *names = json_array();
  for (size_t i = 0; names && i < n; i++)
    if (json_array_append_new(names, json_string(categories[i])))
      goto out;
  if (!names || !(list = json_dumps(names, JSON_COMPACT)))
    goto out;
  PGresult *r = pg_read(
      ps, "tag_pending",
      "SELECT b.id FROM battles b WHERE b.status = 'voted' AND EXISTS "
      "(SELECT 1 FROM json_array_elements_text($1::json) c (value) WHERE "
      "NOT EXISTS (SELECT 1 FROM battle_categories k WHERE k.battle_id = "
      "b.id AND k.category = c.value COLLATE \"C\")) ORDER BY b.created_at, "
      "b.id COLLATE \"C\" LIMIT $2",
      limit > 0 ? "tl" : "tn", list, limit);
  if (r)
    rc = pg_collect_ids(r, ids, n_ids);
  PQclear(r);
out:
  free(list);
  json_decref(names);
  return rc;
}

int pg_untagged(void *cls, long limit, char ***ids, size_t *n_ids) {
  struct pg_store *ps = cls;
  *ids = NULL;
  *n_ids = 0;
  PGresult *r = pg_read(
      ps, "untagged",
      "SELECT id FROM battles WHERE status IN ('ready', 'voted') AND mode "
      "<> 'direct' AND (language IS NULL OR tags IS NULL OR conv_metadata "
      "IS NULL) ORDER BY created_at, id COLLATE \"C\" LIMIT $1",
      limit > 0 ? "l" : "n", limit);
  int rc = r ? pg_collect_ids(r, ids, n_ids) : -1;
  PQclear(r);
  return rc;
}

/* The keys of the slices battle id's stored tags put it in (none when
 * there is no such battle), at most max: how many, or -1. On the write
 * connection, in the caller's transaction. */
static int slice_keys_now(struct pg_store *ps, const char *id,
                          char (*keys)[SLICE_KEY_MAX], size_t max) {
  PGresult *r = pg_prepared(
      ps, PG_TAGS_SLICES, "tags_slices",
      "SELECT language, tags, " PG_CATEGORIES_COLUMN("b.id") " FROM "
      "battles b WHERE id = $1",
      "t", id);
  if (!r)
    return -1;
  int one = PQntuples(r) == 1;
  int n = pg_slice_keys_of(one ? pg_col_text(r, 0, 0) : NULL,
                           one ? pg_col_text(r, 0, 1) : NULL,
                           one ? pg_col_text(r, 0, 2) : NULL, keys, max);
  PQclear(r);
  return n;
}

/* Whether key is one of keys[n]. */
static int has_key(const char (*keys)[SLICE_KEY_MAX], int n,
                   const char *key) {
  for (int i = 0; i < n; i++)
    if (!strcmp(keys[i], key))
      return 1;
  return 0;
}

int pg_battle_tags(void *cls, const char *id, const struct battle_tags *tags,
                   struct vote_batch *vb) {
  struct pg_store *ps = cls;
  char before[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  char after[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  char added[PG_MAX_BATTLE_SLICES][SLICE_KEY_MAX];
  char names[BATTLE_TAGS_TEXT_MAX];
  char *meta_text = NULL;
  PGresult *r = NULL;
  int rc = -1;
  /* the slices the battle is in now, as the vote counted it */
  int nb = slice_keys_now(ps, id, before, PG_MAX_BATTLE_SLICES);
  if (nb < 0)
    goto out;
  battle_tags_text(tags->mask, names);
  json_t *meta = store_conv_metadata(tags);
  meta_text = meta ? json_dumps(meta, JSON_COMPACT) : NULL;
  json_decref(meta);
  if (!meta_text)
    goto out;
  long changed = pg_run_prepared(
      ps, PG_TAGS_FILL, "tags_fill",
      "UPDATE battles SET language = coalesce(language, $1), tags = "
      "coalesce(tags, $2), conv_metadata = coalesce(conv_metadata, $3) "
      "WHERE id = $4 AND (language IS NULL OR tags IS NULL OR "
      "conv_metadata IS NULL)",
      "tttt", tags->language, names, meta_text, id);
  if (changed < 0)
    goto out;
  if (changed != 1) {
    rc = 1;
    goto out;
  }
  /* a counted vote moves into the slices its battle is newly in (unless
   * de-duplication left it out of the BT boards, and so of every slice) */
  r = pg_prepared(ps, PG_TAGS_VOTE, "tags_vote",
                  "SELECT b.model_a, b.model_b, v.winner FROM battles b JOIN "
                  "votes v ON v.battle_id = b.id AND v.counted = 1 AND "
                  "v.dedup = 0 WHERE b.id = $1",
                  "t", id);
  if (!r)
    goto out;
  if (PQntuples(r) == 0) {
    rc = 0;
    goto out;
  }
  enum winner w;
  if (winner_parse(pg_col_text(r, 0, 2), &w))
    goto out;
  int na = slice_keys_now(ps, id, after, PG_MAX_BATTLE_SLICES);
  if (na < 0)
    goto out;
  int n = 0;
  for (int i = 0; i < na; i++)
    if (!has_key((const char(*)[SLICE_KEY_MAX])before, nb, after[i]))
      memcpy(added[n++], after[i], SLICE_KEY_MAX);
  const char *model_a = pg_col_text(r, 0, 0), *model_b = pg_col_text(r, 0, 1);
  if (pg_slice_pairs_add(ps, (const char(*)[SLICE_KEY_MAX])added, (size_t)n,
                         model_a, model_b, w))
    goto out;
  if (vb && vote_batch_stage_slices(vb, (const char(*)[SLICE_KEY_MAX])added,
                                    (size_t)n, model_a, model_b, w))
    goto out;
  rc = 0;
out:
  if (rc < 0)
    log_error("msg=\"storing battle tags failed\" battle=%s err=\"%s\"",
              log_q(id), log_q(pg_error(ps)));
  PQclear(r);
  free(meta_text);
  return rc;
}
