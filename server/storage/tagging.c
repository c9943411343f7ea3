/* What tagging needs from storage, the same for every engine: tag cases
 * and their release; the rest is the engine's (storage/ops.h). */
#include "storage/ops.h"

#include <stdlib.h>
#include <string.h>

void tag_case_release(struct tag_case *c) {
  for (size_t i = 0; i < c->n_prompts; i++)
    free(c->prompts[i]);
  for (size_t i = 0; i < c->n_tagged; i++)
    free(c->tagged[i]);
  free(c->prompts);
  free(c->tagged);
  c->prompts = c->tagged = NULL;
  c->n_prompts = c->n_tagged = 0;
}

int tag_case_tagged(const struct tag_case *c, const char *category) {
  for (size_t i = 0; i < c->n_tagged; i++)
    if (!strcmp(c->tagged[i], category))
      return 1;
  return 0;
}

/* Append a copy of s to the list *items of *n. 0 or -1. */
static int list_add(char ***items, size_t *n, const char *s) {
  char **more = realloc(*items, (*n + 1) * sizeof *more);
  if (!more)
    return -1;
  *items = more;
  more[*n] = strdup(s ? s : "");
  if (!more[*n])
    return -1;
  (*n)++;
  return 0;
}

int tag_case_add_prompt(struct tag_case *c, const char *prompt) {
  return list_add(&c->prompts, &c->n_prompts, prompt);
}

int tag_case_add_tagged(struct tag_case *c, const char *category) {
  return list_add(&c->tagged, &c->n_tagged, category);
}

int tag_case_from_record(struct tag_case *c, const char *record) {
  json_t *r = json_loads(record, 0, NULL);
  json_t *conv = json_object_get(r, "conversation_a");
  int rc = 1;
  for (size_t i = 0; json_is_array(conv) && i < json_array_size(conv); i++) {
    json_t *m = json_array_get(conv, i);
    const char *role = json_string_value(json_object_get(m, "role"));
    const char *content = json_string_value(json_object_get(m, "content"));
    if (!role || strcmp(role, "user") || !content)
      continue;
    if (tag_case_add_prompt(c, content)) {
      rc = -1;
      break;
    }
    rc = 0;
  }
  json_decref(r);
  return rc;
}

int store_tag_case_load(struct store *st, const char *id,
                        struct tag_case *out) {
  return STORE_OPS(st)->tag_case_load(st->impl, id, out);
}

int store_tag_pending(struct store *st, const char *const *categories,
                      size_t n, long limit, char ***ids, size_t *n_ids) {
  return STORE_OPS(st)->tag_pending(st->impl, categories, n, limit, ids, n_ids);
}

int store_untagged(struct store *st, long limit, char ***ids,
                   size_t *n_ids) {
  return STORE_OPS(st)->untagged(st->impl, limit, ids, n_ids);
}

int store_battle_tags_tx(struct store *st, const char *id,
                         const struct battle_tags *tags,
                         struct vote_batch *vb) {
  return STORE_OPS(st)->battle_tags(st->impl, id, tags, vb);
}
