/* Battle logs in FastChat's "clean battle" format: a JSON array of
 * records, or JSON lines, each with model_a, model_b, winner ("model_a",
 * "model_b", "tie", "tie (bothbad)", "both_bad"), anony, tstamp, and
 * optionally judge, turn, language, conversation_a, conversation_b,
 * question_id, conv_metadata, category_tag, is_code, is_refusal and
 * dedup_tag (read with BATTLE_LOG_META: struct log_meta).
 *
 * A record that is not an object, lacks a model name or has an unknown
 * winner is malformed: it is reported (file and 0-based record index)
 * and skipped, never mixed in. */
#ifndef AGON_FASTCHAT_BATTLE_LOG_H
#define AGON_FASTCHAT_BATTLE_LOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "rating/elo.h"

struct log_battle {
  int a, b;            /* indices into battle_log.models */
  enum winner w;
  int anony;           /* "anony": true (absent counts as false) */
  double tstamp;       /* 0 when absent */
  size_t seq;          /* position in the input, across files */
  json_t *record;      /* the whole record when kept, else NULL */
};

/* Categories a record can be in, from what it says (BATTLE_LOG_META);
 * the names are FastChat's leaderboard keys (monitor_md.py):
 *   math, if, creative_writing  category_tag's math_v0.1.math,
 *                     if_v0.1.if, creative_writing_v0.1.creative_writing
 *                     is true
 *   hard_6            at least 6 of the 7 criteria of category_tag's
 *                     criteria_v0.1 (specificity, domain_knowledge,
 *                     complexity, problem_solving, creativity,
 *                     technical_accuracy, real_world) are true, or
 *                     category_tag's agon_categories_v0.1.hard_prompt
 *                     is (fastchat/fields.h: an export of a live
 *                     battle)
 *   hard_english_6    hard_6, in English
 *   coding            is_code is true; without is_code, a turn of either
 *                     conversation holds a ``` fence
 *   long_user         the user's turns have at least 500 tokens:
 *                     conv_metadata's sum_user_tokens, else
 *                     conversation_a's user turns counted by
 *                     tag/style_count.h's rule (unknown: not in it)
 *   no_short          the user's turns have at least 5 tokens, counted
 *                     the same way (unknown: in it)
 *   multiturn         turn >= 2; without turn, conversation_a has at
 *                     least two user turns
 *   no_tie            the winner is model_a or model_b
 *   no_refusal        is_refusal is not true
 *   dedup             dedup_tag's sampled is true, or there is no
 *                     dedup_tag (FastChat's de-duplication of the most
 *                     repeated prompts; battle_log_dedup computes it
 *                     for the records without one) */
enum log_category {
  LOG_CAT_MATH,
  LOG_CAT_IF,
  LOG_CAT_CREATIVE_WRITING,
  LOG_CAT_HARD_6,
  LOG_CAT_HARD_ENGLISH_6,
  LOG_CAT_CODING,
  LOG_CAT_LONG_USER,
  LOG_CAT_NO_SHORT,
  LOG_CAT_MULTITURN,
  LOG_CAT_NO_TIE,
  LOG_CAT_NO_REFUSAL,
  LOG_CAT_DEDUP,
  LOG_CATEGORIES
};

/* What a record says about itself, read with BATTLE_LOG_META. */
struct log_meta {
  int language;        /* index into battle_log.languages, -1 when absent */
  uint32_t categories; /* bit (1u << LOG_CAT_*) set: the record is in it */
  int style;           /* 1 when style_a and style_b hold all four counts */
  int dedup_tag;       /* 1 when the record has a dedup_tag */
  int prompted;        /* 1 when conversation_a has a user turn */
  uint64_t prompt;     /* then the hash of its prompt (rating/dedup.h) */
  int named;           /* 1 when it has a question_id */
  uint64_t id;         /* then its hash (else battle_log_dedup takes the
                          hash of "#SEQ", the record's position in the
                          input) */
  /* tokens, headers (h1..h6), list items (ordered and unordered), bold
   * spans ("**" and "__") of each side's answers: each from conv_metadata
   * (sum_assistant_a_tokens, header_count_a, list_count_a, bold_count_a,
   * and _b; a number, or an object whose numbers are summed, as
   * FastChat's preprocess_for_style sums them), else counted from the
   * side's conversation (tag/style_count.h) */
  double style_a[4], style_b[4];
};

struct battle_log {
  char **models;       /* interned names */
  size_t n_models;
  struct log_battle *battles;
  size_t n;
  size_t malformed;
  struct log_meta *meta;  /* meta[battle.seq]; NULL without BATTLE_LOG_META */
  char **languages;       /* interned "language" values */
  size_t n_languages;
  /* name -> index hash */
  int *slots;
  size_t n_slots;
};

/* Called once per malformed record. */
typedef void (*log_problem_fn)(void *cls, const char *file, size_t index,
                               const char *msg);

void battle_log_init(struct battle_log *log);

#define BATTLE_LOG_KEEP 1  /* keep each JSON record (for import) */
#define BATTLE_LOG_FAST 2  /* parse with a private allocator: only when no
                              other thread uses jansson meanwhile */
#define BATTLE_LOG_META 4  /* fill battle_log.meta */

/* Append the records of file (path, or "-" for stdin) to log; flags are
 * BATTLE_LOG_* bits. Returns 0, or -1 with err set when the file cannot
 * be read or is not JSON at all. */
int battle_log_read(struct battle_log *log, const char *path, int flags,
                    log_problem_fn problem, void *cls, char *err,
                    size_t errlen);

/* FastChat's de-duplication (rating/dedup.h, seed DEDUP_SEED) of the
 * records read with BATTLE_LOG_META that have no dedup_tag, over those
 * of them with a prompt: their LOG_CAT_DEDUP is set when sampled,
 * cleared when not; summary (may be NULL) gets the figures, and *n (may
 * be NULL) how many records took part. 0, or -1 when out of memory. */
struct dedup_summary;
int battle_log_dedup(struct battle_log *log, struct dedup_summary *summary,
                     size_t *n);

/* Sort the battles by tstamp, keeping input order among equal stamps. */
void battle_log_sort(struct battle_log *log);

/* Index of a model name, adding it when new; -1 when out of memory. */
int battle_log_model(struct battle_log *log, const char *name);

void battle_log_release(struct battle_log *log);

/* A category's name, and the category of a name (-1 when unknown). */
const char *log_category_name(enum log_category c);
int log_category_parse(const char *name);

/* The ISO 639-1 code of a language given as FastChat names it
 * ("English", "Chinese": polyglot's names, any case) or as a code ("en",
 * "EN", "en-US", "zh_Hant"), for about forty common languages; NULL for
 * any other. */
const char *log_language_code(const char *language);

/* The reverse: FastChat's name of an ISO 639-1 code ("en" -> "English"),
 * the first of the names log_language_code reads as it; NULL for a code
 * outside its table (and for NULL). */
const char *log_language_name(const char *code);

/* Whether a record's language is the one asked for: the same code by
 * log_language_code, or else the same text ignoring case. */
int log_language_match(const char *record_language, const char *wanted);

/* FastChat winner strings <-> ours. */
/* The four style counts (rating/style.h: tokens, headers, lists, bold)
 * of sides a and b from a FastChat conv_metadata object, into a[4] and
 * b[4]. 1 when all eight are there, else 0 (the missing ones are 0). */
int log_meta_style(json_t *conv_metadata, double a[4], double b[4]);

/* Add a FastChat record's prompt (conversation_a's user turns, as
 * FastChat's deduplication.py reads them) to p (rating/dedup.h). */
struct dedup_prompt;
void log_record_prompt(json_t *rec, struct dedup_prompt *p);

int fastchat_winner_parse(const char *s, enum winner *w);
const char *fastchat_winner_name(enum winner w);

/* The forms a battle log is written in (store_export,
 * storage/interchange.h): a JSON array, JSON lines, or CSV without the
 * conversations. */
enum export_format { EXPORT_FASTCHAT, EXPORT_JSONL, EXPORT_CSV };

#endif
