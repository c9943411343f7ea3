/* The prompts of a task's items (bench/task.h): their shots, drawn as
 * lm-evaluation-harness draws them, and the texts and messages sent in
 * each mode. Pure. */
#ifndef AGON_BENCH_PROMPT_H
#define AGON_BENCH_PROMPT_H

#include <stddef.h>

#include "bench/task.h"
#include "upstream/upstream.h"
#include "util/buf.h"

/* Draw k shots for each of the n items, in item order, from the pool
 * (n_pool docs): out gets n * k indices into the pool, item i's at
 * out[i * k]. The task's sampler decides: "default" draws
 * random.Random(BENCH_FEWSHOT_SEED).sample(pool, k) for item after item
 * (the draws go on from one item to the next, as lm-eval's one sampler
 * per task does), "first_n" takes the first k of the item's subject. When
 * same_split (the pool is the items' own file), an item is never its own
 * shot: "default" draws k + 1 and keeps the first k that are not equal to
 * the item (lm-eval's rule for a few-shot split that is the test split),
 * "first_n" skips it. 0, or -1 with why (err, errlen bytes): a pool too
 * small, out of memory. */
int bench_draw_shots(const struct bench_task *t, const struct bench_doc *items,
                     size_t n, const struct bench_doc *pool, size_t n_pool,
                     int same_split, unsigned k, size_t *out, char *err,
                     size_t errlen);

/* The text a likelihood request starts with: the description (MMLU),
 * the shots (each "query answer\n\n"), and the item's query (for a
 * BENCH_PARTIAL task, what comes before its per-option contexts: the
 * description and shots only). NULL when out of memory; the caller frees
 * it. */
char *bench_prefix(const struct bench_task *t, const struct bench_doc *d,
                   const struct bench_doc *const *shots, size_t n_shots);

/* The parts of that prefix, for builders of its other forms
 * (bench/body.h): it is t->description(d) when the task has one, then
 * each shot's text, then bench_prefix_query (when not NULL). */
/* Append shot s's text to b: its query and answer with lm-eval's
 * delimiters (target " ", few-shot "\n\n"). 0, or -1 as buf_append. */
int bench_shot_text(const struct bench_task *t, const struct bench_doc *s,
                    struct buf *b);
/* The item's own text at the end of the prefix, or NULL (BENCH_PARTIAL:
 * its per-option contexts follow instead). */
const char *bench_prefix_query(const struct bench_task *t,
                               const struct bench_doc *d);

/* One (context, continuation) pair whose log-likelihood is asked for. */
struct bench_pair {
  char *context;
  char *continuation;
};

/* The pairs of item d in likelihood mode from its prefix: d->n_choices
 * of them (BENCH_CHOICE: the prefix and " choice"; BENCH_PARTIAL: the
 * prefix with each option's context, and " target"). 0, or -1 when out of
 * memory. */
int bench_pairs(const struct bench_task *t, const struct bench_doc *d,
                const char *prefix, struct bench_pair **out);
void bench_pairs_free(struct bench_pair *p, size_t n);

/* Generate mode's question for a multiple choice item (simple-evals'
 * QUERY_TEMPLATE_MULTICHOICE with the item's letters). NULL when out of
 * memory. */
char *bench_mc_prompt(const struct bench_doc *d);

/* Generate mode's messages for a GSM8K item: each shot as a user turn
 * (its query) and an assistant turn (its answer), then the item's query
 * (lm-eval's --apply_chat_template --fewshot_as_multiturn). *out gets
 * 2 * n_shots + 1 messages whose strings are owned by them
 * (bench_messages_free). 0, or -1 when out of memory. */
int bench_gsm8k_messages(const struct bench_doc *d,
                         const struct bench_doc *const *shots,
                         size_t n_shots, struct chat_message **out,
                         size_t *n);
void bench_messages_free(struct chat_message *m, size_t n);

#endif
