/* The categories an LLM tags ([tagger NAME] in the config): FastChat's
 * hard_prompt, math, creative_writing and instruction_following, asked
 * in our own words, and the admin's own ([category NAME] with a yes/no
 * question). One request per battle and category; the reply is read
 * with a strict pattern, as FastChat reads it. Pure. */
#ifndef AGON_TAG_LLM_H
#define AGON_TAG_LLM_H

#include <jansson.h>
#include <stddef.h>

enum llm_tag_kind {
  LLM_TAG_CRITERIA, /* hard_prompt: the numbers of the 7 criteria met, as
                       "[1, 4, 6]"; in the category when 6 or more */
  LLM_TAG_SCORE,    /* instruction_following: "<score>N</score>", 0 to 5;
                       in the category at 4 or 5 */
  LLM_TAG_YESNO     /* "<decision>yes</decision>" or no */
};

struct llm_tag_category {
  const char *name;
  enum llm_tag_kind kind;
  const char *system;   /* the instructions (system message) */
};

/* The built-in categories, in this order: hard_prompt, math,
 * creative_writing, instruction_following. */
#define LLM_TAG_BUILTINS 4
extern const struct llm_tag_category llm_tag_builtins[LLM_TAG_BUILTINS];

/* The built-in category named name, or NULL. */
const struct llm_tag_category *llm_tag_builtin(const char *name);

/* The instructions for an admin's yes/no question, into out (len bytes;
 * cut to fit). */
void llm_tag_custom_system(const char *question, char *out, size_t len);

/* The prompt the tagger is shown: every turn's prompt, separated by a
 * blank line, at most LLM_TAG_MAX_PROMPT bytes (cut at a character). */
#define LLM_TAG_MAX_PROMPT 16384

/* The chat messages of one request (owned JSON array): the instructions,
 * then the visitor's prompts inside <user_prompt> tags. NULL when out of
 * memory. */
json_t *llm_tag_messages(const char *system, const char *const *prompts,
                         size_t n_prompts);

/* Read a reply. Returns 1 when the battle is in the category, 0 when it
 * is not, -1 when the reply does not say (no pattern, or two that
 * disagree): the tag is then retried or left unknown, never guessed.
 * *score (may be NULL) gets the criteria met or the score (-1 for a
 * yes/no). */
int llm_tag_parse(enum llm_tag_kind kind, const char *reply, int *score);

#endif
