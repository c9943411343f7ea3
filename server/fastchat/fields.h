/* FastChat's fields that say what a battle is about, read from a record
 * into Agon's tags on import and written from them on export:
 *
 *   language       FastChat's name of the prompts' language ("English",
 *                  "Korean": polyglot's names), "unknown" when it could
 *                  not tell
 *   is_code        the prompts are about code (LMArena's releases)
 *   is_refusal     an answer is a refusal (LMArena's releases)
 *   conv_metadata  the style counts (tag/battle_tags.h, storage/tags.h)
 *   category_tag   LLM classifiers' verdicts by task, as
 *                  fastchat/serve/monitor/classify/category.py writes
 *                  them: criteria_v0.1 (7 criteria, hard_prompt at 6 or
 *                  more), math_v0.1 {math}, creative_writing_v0.1
 *                  {creative_writing, score: "yes"/"no"}, if_v0.1 {if,
 *                  score: 0..5, instruction_following at 4 or more};
 *                  and two keys of Agon's own (FastChat's tools ignore
 *                  them, each merging the keys it knows):
 *                    agon_tags_v0.1        the heuristic categories as
 *                      Agon stored them, all five: {"coding": bool,
 *                      "multi_turn", "long_query", "no_short",
 *                      "no_refusal"}
 *                    agon_categories_v0.1  every LLM-tagged category as
 *                      stored, built-in and admin-defined alike:
 *                      {"hard_prompt": bool, "math": bool, "<admin's
 *                      category>": bool, ...}
 *   dedup_tag      {high_freq, sampled} (rating/dedup.h), written only
 *   agon_replaced_v0.1      Agon's own, beside FastChat's fields: the
 *                  answers regenerates and retries replaced (schema/0012),
 *                  [{"turn", "side": "a"|"b", "attempt", "kind":
 *                  "regenerate"|"retry", "model", "answer", "failed":
 *                  bool, "reasoning", "at": ms}]; conversation_a/_b hold
 *                  the answers the vote was on
 *   agon_replacements_v0.1  the failed sides replaced by other models,
 *                  [{"side", "turn", "old_model", "new_model", "at"}];
 *                  model_a/model_b are the final pair
 *                  (both written only when there are any; an import
 *                  stores them with the battle)
 *
 * and, at the top level of a record, two fields of Agon's own about the
 * vote (FastChat's tools ignore them; storage/interchange.c reads and
 * writes them):
 *   agon_vote_reasons_v0.1  the reasons the voter chose, an array of
 *                           strings ([arena] vote_reasons)
 *   agon_vote_comment_v0.1  the voter's comment, a string
 *
 * Pure (the language of a record without one is detected with CLD2,
 * tag/language.h). */
#ifndef AGON_FASTCHAT_FIELDS_H
#define AGON_FASTCHAT_FIELDS_H

#include <jansson.h>
#include <stddef.h>

#include "rating/slices.h"
#include "tag/battle_tags.h"

#define FASTCHAT_MAX_CATEGORIES 64 /* more are not kept */
#define FASTCHAT_VOTE_REASONS "agon_vote_reasons_v0.1"
#define FASTCHAT_VOTE_COMMENT "agon_vote_comment_v0.1"

/* The record keys of Agon's replaced answers and replacements. */
#define FASTCHAT_REPLACED "agon_replaced_v0.1"
#define FASTCHAT_REPLACEMENTS "agon_replacements_v0.1"


struct fastchat_category {
  char name[SLICE_CAT_MAX];   /* [a-z0-9_-] */
  int value;                  /* 1: in it, 0: not */
};

/* A battle's tags in FastChat's terms. */
struct fastchat_fields {
  char language[SLICE_LANG_MAX]; /* ISO 639-1 (or CLD2's 3 letters),
                                    "und", or "" when not known at all */
  int tagged;                 /* mask says what the battle is (else the
                                 record said nothing of its prompts) */
  unsigned mask;              /* TAG_* of tag/categories.h */
  struct fastchat_category categories[FASTCHAT_MAX_CATEGORIES];
  size_t n_categories;
  json_t *conv_metadata;      /* a reference held here, or NULL */
  int counted_style;          /* style holds the counts of the record's
                                 conversation (read side; when the
                                 record has no conv_metadata) */
  struct battle_tags style;
  int dedup;                  /* -1: none; else DEDUP_* flags (written) */
};

/* Empty: no language, untagged, no categories, no counts, no dedup. */
void fastchat_fields_init(struct fastchat_fields *f);
void fastchat_fields_release(struct fastchat_fields *f);

/* What record rec says (f initialised here):
 * - language: `language` read by log_language_code (and a code of 2 or 3
 *   lowercase letters as it is, so an export of CLD2's codes reads
 *   back); "und" for "unknown" and for a name it does not know; without
 *   the field, CLD2 on the prompts of conversation_a, as a live battle's;
 *   "" without either.
 * - mask: agon_tags_v0.1 when the record has it; else each category from
 *   FastChat's field for it, else from the conversation as a live
 *   battle's (tag/battle_tags.h: the k-th user turn of conversation_a and
 *   the k-th answer of each side make turn k): coding from is_code,
 *   multi_turn from turn >= 2, long_query and no_short from
 *   conv_metadata's sum_user_tokens, no_refusal from is_refusal; a
 *   category neither says is not set. tagged when any of these was there.
 * - conv_metadata: the record's own (an object); else, with a
 *   conversation, counted_style and its counts in style.
 * - categories: agon_categories_v0.1's, then those of criteria_v0.1,
 *   math_v0.1, creative_writing_v0.1 and if_v0.1 not named there (if_v0.1
 *   by its score when it is a number, else by "if"); names that cannot
 *   be a slice's are skipped.
 * Returns 0, or -1 when out of memory. */
int fastchat_fields_read(json_t *rec, struct fastchat_fields *f);

/* How many of criteria_v0.1's seven criteria (specificity,
 * domain_knowledge, complexity, problem_solving, creativity,
 * technical_accuracy, real_world) criteria holds true; 0 for NULL. */
int fastchat_hard_criteria(json_t *criteria);

/* Set f's fields on rec: language (FastChat's name by log_language_name,
 * the code itself outside its table, "unknown" for "und" and ""); when
 * tagged, is_code, is_refusal and category_tag's agon_tags_v0.1; the
 * categories in category_tag (FastChat's shape for math,
 * creative_writing and instruction_following, whose score is null: only
 * the verdict is kept; criteria_v0.1 never, as the seven criteria are
 * not kept either) and all of them in agon_categories_v0.1;
 * conv_metadata when f has it; dedup_tag when f->dedup >= 0. Returns 0,
 * or -1 when out of memory. */
int fastchat_fields_write(json_t *rec, const struct fastchat_fields *f);

#endif
