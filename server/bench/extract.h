/* Reading answers out of generated text, as the reference harnesses do
 * (bench tasks). Pure; strings returned are new (the caller frees them),
 * NULL when out of memory.
 *
 * GSM8K, as lm-evaluation-harness's gsm8k.yaml (version 3) scores it:
 *  - strict-match: the first match of the regex "#### (\-?[0-9\.\,]+)";
 *  - flexible-extract: the last match of "(-?[$0-9.,]{2,})|(-?[0-9]+)";
 *  either "[invalid]" when nothing matches; then exact_match against the
 *  reference answer (the whole `answer` field) after both lose every
 *  ",", every "$", everything up to the last "#### " and a final "."
 *  (regexes_to_ignore), and are lower-cased (ignore_case; ASCII letters
 *  here, the only ones a number has).
 * Multiple choice, as OpenAI's simple-evals reads it: the first match of
 * "(?i)Answer[ \t]*:[ \t]*\$?([A-D])\$?" (the letters of the item's
 * choices), the letter compared as it is written. */
#ifndef AGON_BENCH_EXTRACT_H
#define AGON_BENCH_EXTRACT_H

#include <stddef.h>

#define GSM8K_INVALID "[invalid]"

char *gsm8k_strict(const char *text);
char *gsm8k_flexible(const char *text);

/* exact_match's normal form (regexes_to_ignore, then lower case). */
char *gsm8k_normalize(const char *s);

/* 1 when the extracted answer equals the reference answer, 0 when not,
 * -1 when out of memory. */
int gsm8k_match(const char *extracted, const char *reference);

/* The text before the first of lm-eval's gsm8k stop sequences
 * ("Question:", "</s>", "<|im_end|>"): generate_until's `until`. */
char *gsm8k_until(const char *text);

/* The choice a reply names: 0 for A, 1 for B, ... below n_choices (at
 * most 26); -1 when the first "Answer: X" has a lower-case letter or
 * there is none. *letter (when not NULL) gets the letter read as it was
 * written, or '\0'. */
int mc_letter(const char *text, size_t n_choices, char *letter);

#endif
