/* The heuristic categories of a battle, as FastChat's leaderboard defines
 * them, from what may be known before the vote. Pure.
 *
 * From the visitor's prompts (computed whenever a turn is stored):
 * - coding: a prompt holds code (a ``` fence, or a line that reads as
 *   code: an #include, a def/function/class header, a statement ending
 *   in ';' or '{', an SQL query, an HTML tag...) or asks about
 *   programming (a programming language's name, or "code",
 *   "programming", "function" and their equivalents in the languages of
 *   the language boards);
 * - multi_turn: two or more turns;
 * - long_query: the prompts hold 500 or more tokens (the token rule of tag/style_count.h);
 * - no_short: the prompts hold 5 or more tokens (FastChat's "exclude
 *   short queries").
 * From the answers (only once the battle is voted, since an answer's
 * refusal tells one model from another):
 * - no_refusal: neither side's last answer is a refusal (is_refusal). */
#ifndef AGON_TAG_CATEGORIES_H
#define AGON_TAG_CATEGORIES_H

#include <stddef.h>

#define TAG_CODING      (1u << 0)
#define TAG_MULTI_TURN  (1u << 1)
#define TAG_LONG_QUERY  (1u << 2)
#define TAG_NO_SHORT    (1u << 3)
#define TAG_NO_REFUSAL  (1u << 4)
#define TAG_N_HEURISTIC 5

#define LONG_QUERY_TOKENS 500
#define SHORT_QUERY_TOKENS 5

/* The name of heuristic tag number i (0 .. TAG_N_HEURISTIC-1): "coding",
 * "multi_turn", "long_query", "no_short", "no_refusal". */
const char *heuristic_tag_name(int i);

/* The prompt tags (TAG_CODING | TAG_MULTI_TURN | TAG_LONG_QUERY |
 * TAG_NO_SHORT) of a battle whose turns asked prompts[n]. *tokens (may be
 * NULL) gets the prompts' tokens. */
unsigned prompt_tags(const char *const *prompts, size_t n, size_t *tokens);

/* Whether text holds code or asks about programming (see above). */
int is_coding(const char *text);

/* Whether an answer is a refusal: it starts (after white space and
 * Markdown emphasis) with a refusal phrase ("I'm sorry, but I can't",
 * "I cannot help with", "As an AI", and their forms in the languages of
 * the language boards), or is short and says it cannot help. */
int is_refusal(const char *answer);

#endif
