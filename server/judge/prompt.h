/* LLM-as-a-judge: the prompts a judge gets and the parsing of its replies
 * (MT-Bench style pairwise verdicts, Chiang and Lee style single scores).
 * Pure: no I/O. */
#ifndef AGON_JUDGE_PROMPT_H
#define AGON_JUDGE_PROMPT_H

#include <stddef.h>

#include "upstream/upstream.h"
#include "storage/judgments.h"

/* The pairwise messages (system, user) for c, with side B shown first when
 * swapped. examples (n, may be 0) are worked examples with their human
 * verdicts. instructions replaces the built-in system prompt when not
 * NULL. The strings are allocated into out[0..1].content (free them). */
int judge_pairwise_messages(const struct judge_case *c, int swapped,
                            const struct judge_case *examples, size_t n,
                            const char *instructions,
                            struct chat_message out[2]);

/* The single-answer messages for side (0 or 1) of c. */
int judge_single_messages(const struct judge_case *c, int side,
                          const char *instructions, struct chat_message out[2]);

void judge_messages_free(struct chat_message m[2]);

/* The verdict of a pairwise reply: the last of "[[A]]", "[[B]]", "[[C]]"
 * in it, as 'A', 'B' or 'C'; 0 when there is none. */
char judge_parse_verdict(const char *reply);

/* The four 1-20 scores of a single-answer reply, in the order
 * grammaticality, cohesiveness, likability, relevance. Returns 0, or -1
 * when any is missing or out of range. */
int judge_parse_scores(const char *reply, int scores[4]);

extern const char *const judge_criteria[4];

#endif
