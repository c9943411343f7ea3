/* Judge verdicts in the database, and what judges need from it. */
#ifndef AGON_STORAGE_JUDGMENTS_H
#define AGON_STORAGE_JUDGMENTS_H

#include <jansson.h>
#include <stddef.h>

#include "rating/pairs.h"
#include "storage/store.h"

/* A battle as a judge sees it: the prompts and each side's answers. */
struct judge_case {
  size_t n_turns;
  const char **prompts;      /* n_turns */
  const char **answers[2];   /* answers[side][turn] */
  char human;                /* for few-shot examples: 'A', 'B' or 'C' */
};

/* A battle as a judge needs it, owning its strings. */
struct case_data {
  char id[40];
  struct judge_case c;
};

void case_data_release(struct case_data *d);

/* For the engines (storage/ops.h), which build cases from what they read:
 * add a turn (prompt p, answers a and b, copied; NULL is ""), 0 or -1;
 * or add the turns of a FastChat record (JSON text): its conversations'
 * user/assistant pairs, side by side. 0, 1 when it has none, -1. */
int case_data_add_turn(struct case_data *d, const char *p, const char *a,
                       const char *b);
int case_data_from_record(struct case_data *d, const char *record);

/* Load battle id's prompts and answers: its turns, or for an imported
 * battle the conversations of its record. 0, 1 (nothing to judge), -1. */
int store_case_load(struct store *st, const char *id, struct case_data *out);

/* Ids of battles judge has no verdict on yet (none, or an error): every
 * battle that is ready or voted, imported ones included, oldest first,
 * at most limit (0: all). *ids is allocated (free each and the array). */
int store_judge_pending(struct store *st, const char *judge, long limit,
                        char ***ids, size_t *n);

/* Up to n recent battles with a counted human vote, as worked examples
 * (human verdict in c.human); *got says how many. out has n slots. */
int store_few_shot(struct store *st, size_t n, struct case_data *out,
                   size_t *got);

struct judgment {
  const char *battle_id;
  const char *judge;
  const char *mode;          /* "pairwise" or "single" */
  const char *verdict;       /* "a", "b", "tie"; NULL on error */
  const char *verdict_ab, *verdict_ba;
  int inconsistent;
  json_t *scores;            /* borrowed; NULL unless single */
  json_t *raw;               /* borrowed: the replies */
  const char *error;
};

/* Store (or replace) a judgment. 0 or -1. */
int store_judgment_save(struct store *st, const struct judgment *j);

/* Stats for GET /api/judges: {"judged", "errors", "inconsistent",
 * "agreement", "agreement_no_ties", "compared", "scores": {model: avg}}.
 * NULL on error. */
json_t *store_judge_stats(struct store *st, const char *judge);

/* The judge's verdicts as outcomes in judgment order, for a leaderboard:
 * Elo replayed into elo (starts empty) with k, counts into pairs. */
int store_judge_ratings(struct store *st, const char *judge, double k,
                        struct rating_table *elo, struct pair_table *pairs);

#endif
