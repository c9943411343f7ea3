/* The six Open LLM Leaderboard tasks as lm-evaluation-harness defines
 * them: each one's reading of a data line (the Hugging Face dataset's
 * fields), its prompts and its few-shot rule. One file per task
 * (bench/arc.c, hellaswag.c, mmlu.c, truthfulqa.c, winogrande.c,
 * gsm8k.c); what they share is in bench/task.c and bench/prompt.c. Pure:
 * no I/O. */
#ifndef AGON_BENCH_TASK_H
#define AGON_BENCH_TASK_H

#include <jansson.h>
#include <stddef.h>

/* How an item is asked in likelihood mode (lm-eval's output types). */
enum bench_kind {
  BENCH_CHOICE,   /* multiple_choice: one context, a continuation per
                     choice (ARC, HellaSwag, MMLU, TruthfulQA) */
  BENCH_PARTIAL,  /* multiple_choice with multiple inputs: a context per
                     choice, one shared continuation (WinoGrande) */
  BENCH_GENERATE, /* generate_until: generated text, read for its answer
                     (GSM8K) */
};

/* How the shots are drawn (lm-eval's samplers). */
enum bench_sampler {
  BENCH_SAMPLER_RANDOM, /* "default": random.Random(1234).sample over the
                           shot pool, one draw per item in data order */
  BENCH_SAMPLER_FIRST_N, /* "first_n": the pool's first n, in order (MMLU,
                            within the item's subject) */
};

/* lm-eval's few-shot seed (fewshot_random_seed's default). */
#define BENCH_FEWSHOT_SEED 1234

/* One item (or shot) of a task, read from a data line. */
struct bench_doc {
  size_t line;          /* 1-based line of its file */
  json_t *raw;          /* the line's object (owned): an item's shots
                           leave out the docs equal to it */
  char *group;          /* MMLU: the subject; else NULL */
  char *query;          /* doc_to_text (BENCH_CHOICE, BENCH_GENERATE) */
  char **choices;       /* doc_to_choice; BENCH_PARTIAL: the contexts, the
                           sentence up to the blank with each option */
  size_t n_choices;
  int gold;             /* the right choice's index */
  int *labels;          /* TruthfulQA MC2: 1 for each true answer */
  char *target;         /* BENCH_PARTIAL: the shared continuation (the
                           sentence after the blank); BENCH_GENERATE: the
                           whole reference answer */
  /* generate mode's multiple choice prompt (simple-evals' template) */
  char *question;       /* {Question} */
  char **options;       /* the options shown as A) B) ... (n_choices) */
};

void bench_doc_release(struct bench_doc *d);

struct bench_task {
  const char *name;          /* lm-eval's task name: "arc_challenge" */
  const char *title;         /* "ARC-Challenge" */
  const char *fields;        /* the data's fields, for messages */
  unsigned shots;            /* the leaderboard's number of shots */
  enum bench_kind kind;
  enum bench_sampler sampler;
  int mc2;                   /* scored as TruthfulQA MC2 */
  int generate;              /* has a generate mode */
  int acc_norm;              /* reports acc_norm beside acc */
  /* Read a data line's object into d (whose line is set): 0, or -1 with
   * what is wrong (err, errlen bytes: "'answerKey' is missing"). */
  int (*parse)(json_t *o, struct bench_doc *d, char *err, size_t errlen);
  /* The text before the shots, or NULL (MMLU: the description). */
  char *(*description)(const struct bench_doc *d);
};

/* The task named name, or NULL. */
const struct bench_task *bench_task_find(const char *name);

/* Every task, NULL-terminated. */
extern const struct bench_task *const bench_tasks[];

/* The metric a task is shown and correlated by, in a mode
 * ("acc_norm", "acc", "mc2", "strict_match"). */
const char *bench_primary_metric(const struct bench_task *t, int generate);

/* ---- what the task files share (task.c) ---- */

/* The string field name of o, copied into *out: 0, or -1 with err. */
int bench_field_str(json_t *o, const char *name, char **out, char *err,
                    size_t errlen);
/* An array of n >= 2 strings, copied into *out (n strings). */
int bench_field_strs(json_t *arr, const char *name, char ***out, size_t *n,
                     char *err, size_t errlen);
/* A copy of a string array of n strings (NULL when out of memory). */
char **bench_strs_dup(char *const *s, size_t n);
void bench_strs_free(char **s, size_t n);

extern const struct bench_task bench_task_arc_challenge;
extern const struct bench_task bench_task_hellaswag;
extern const struct bench_task bench_task_mmlu;
extern const struct bench_task bench_task_truthfulqa_mc2;
extern const struct bench_task bench_task_winogrande;
extern const struct bench_task bench_task_gsm8k;

#endif
