/* What tagging needs from storage, the same for every engine: a battle's
 * prompts as a tagger sees them, the battles still to tag, and the
 * heuristic tags of battles stored without them (before schema 0009, or
 * imported before imports kept them). The taggers' own verdicts are
 * stored by store_battle_categories_tx (storage/store.h). */
#ifndef AGON_STORAGE_TAGGING_H
#define AGON_STORAGE_TAGGING_H

#include <stddef.h>

#include "storage/store.h"

/* A battle as a tagger sees it: the visitor's prompts only (never an
 * answer, never a model), and the categories already tagged. Owns its
 * strings. */
struct tag_case {
  char id[40];
  char **prompts;            /* n_prompts, in turn order */
  size_t n_prompts;
  char **tagged;             /* categories with a verdict, any tagger's */
  size_t n_tagged;
};

void tag_case_release(struct tag_case *c);

/* Whether c has a verdict on category. */
int tag_case_tagged(const struct tag_case *c, const char *category);

/* For the engines (storage/ops.h), which build cases from what they read:
 * add a prompt, or a category with a verdict (copied; NULL is ""), 0 or
 * -1; or add the prompts of a FastChat record (JSON text): the user
 * messages of its conversation_a. 0, 1 when it has none, -1. */
int tag_case_add_prompt(struct tag_case *c, const char *prompt);
int tag_case_add_tagged(struct tag_case *c, const char *category);
int tag_case_from_record(struct tag_case *c, const char *record);

/* Load battle id's prompts (its turns', or for an imported battle the
 * user messages of its record's conversation_a) and its verdicts, on the
 * read connection (any thread; never waits for a write). 0, 1 when there
 * is no such battle or it has no prompt, -1 on error (*out is then
 * empty). */
int store_tag_case_load(struct store *st, const char *id,
                        struct tag_case *out);

/* Ids of voted battles (imported ones included) without a verdict on at
 * least one of categories[n], oldest first, at most limit (0: all).
 * *ids is allocated (free each and the array). 0 or -1. */
int store_tag_pending(struct store *st, const char *const *categories,
                      size_t n, long limit, char ***ids, size_t *n_ids);

/* Ids of battles that are ready or voted but lack their language, their
 * heuristic tags or their style counts (stored before schema 0009, or
 * imported), oldest first, at most limit (0: all). Same contract as
 * store_tag_pending. */
int store_untagged(struct store *st, long limit, char ***ids,
                   size_t *n_ids);

/* Fill in what battle id lacks of tags (language, heuristic categories,
 * style counts: each only where it is not stored yet, so that a battle's
 * tags are never changed once set). When the battle has a counted vote
 * that de-duplication kept, its outcome is added to every slice the
 * battle is newly in (the slice keys of its stored tags and categories
 * after, less those before), as store_slices_replay will count it, and
 * staged in vb (NULL: not staged, for a process without live ratings). Caller holds st->lock inside a
 * transaction. 0, 1 when there is no such battle or it lacked nothing,
 * -1 on error. */
int store_battle_tags_tx(struct store *st, const char *id,
                         const struct battle_tags *tags,
                         struct vote_batch *vb);

#endif
