/* A battle's tags as they stand when one of its turns ends: computed on
 * the upstream thread (beside the identity check, never on the writer or
 * an HTTP worker) from the battle's whole conversation, and stored with
 * the turn. Pure: no I/O, no state.
 *
 * What may be public when: the language and the prompt tags come from the
 * visitor's prompts alone and name no model; TAG_NO_REFUSAL and the style
 * counts come from the answers, so they stay private until the battle is
 * voted (they only ever reach a board through a counted vote). */
#ifndef AGON_TAG_BATTLE_TAGS_H
#define AGON_TAG_BATTLE_TAGS_H

#include <stddef.h>
#include <stdint.h>

#include "tag/categories.h"
#include "tag/style_count.h"

/* Bytes of the joined prompts the language is detected on. */
#define BATTLE_TAGS_LANGUAGE_BYTES 65536

struct battle_tags {
  char language[8];          /* ISO 639-1, or "und" */
  unsigned mask;             /* TAG_* of tag/categories.h, TAG_NO_REFUSAL
                                included */
  size_t user_tokens;        /* the prompts' tokens */
  size_t turns;
  /* the prompts' hash for de-duplication (rating/dedup.h), set by the
   * caller (battle_tags_compute leaves it 0: tag/ is below rating/) */
  uint64_t prompt_hash;
  struct style_counts style[2]; /* each side's answers, joined with "\n"
                                   as FastChat joins them */
};

/* One turn of a conversation, borrowed (NULL texts are empty). */
struct battle_tags_turn {
  const char *prompt;
  const char *answer[2];
};

/* The tags of a conversation of n turns (n >= 1). Returns 0, or -1 when
 * out of memory (*out is then zeroed, language "und"). */
int battle_tags_compute(const struct battle_tags_turn *turns, size_t n,
                        struct battle_tags *out);

/* The names of the categories in mask ("coding", ...), in the order of
 * heuristic_tag_name, into out[max]; returns how many. */
size_t battle_tags_names(unsigned mask, const char **out, size_t max);

/* The comma-separated names of mask's categories into out (at most
 * BATTLE_TAGS_TEXT_MAX bytes with the NUL; "" for none). */
#define BATTLE_TAGS_TEXT_MAX 128
void battle_tags_text(unsigned mask, char out[BATTLE_TAGS_TEXT_MAX]);

/* The mask of the comma-separated category names in s (unknown names are
 * skipped); s NULL is 0. */
unsigned battle_tags_parse(const char *s);

#endif
