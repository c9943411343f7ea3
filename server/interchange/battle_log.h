/* Battle logs in FastChat's "clean battle" format: a JSON array of
 * records, or JSON lines, each with model_a, model_b, winner ("model_a",
 * "model_b", "tie", "tie (bothbad)", "both_bad"), anony, tstamp, and
 * optionally judge, turn, language, conversation_a, conversation_b,
 * question_id.
 *
 * A record that is not an object, lacks a model name or has an unknown
 * winner is malformed: it is reported (file and 0-based record index)
 * and skipped, never mixed in. */
#ifndef AGON_INTERCHANGE_BATTLE_LOG_H
#define AGON_INTERCHANGE_BATTLE_LOG_H

#include <jansson.h>
#include <stddef.h>

#include "rating/elo.h"

struct log_battle {
  int a, b;            /* indices into battle_log.models */
  enum winner w;
  int anony;           /* "anony": true (absent counts as false) */
  double tstamp;       /* 0 when absent */
  size_t seq;          /* position in the input, across files */
  json_t *record;      /* the whole record when kept, else NULL */
};

struct battle_log {
  char **models;       /* interned names */
  size_t n_models;
  struct log_battle *battles;
  size_t n;
  size_t malformed;
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

/* Append the records of file (path, or "-" for stdin) to log; flags are
 * BATTLE_LOG_* bits. Returns 0, or -1 with err set when the file cannot
 * be read or is not JSON at all. */
int battle_log_read(struct battle_log *log, const char *path, int flags,
                    log_problem_fn problem, void *cls, char *err,
                    size_t errlen);

/* Sort the battles by tstamp, keeping input order among equal stamps. */
void battle_log_sort(struct battle_log *log);

/* Index of a model name, adding it when new; -1 when out of memory. */
int battle_log_model(struct battle_log *log, const char *name);

void battle_log_release(struct battle_log *log);

/* FastChat winner strings <-> ours. */
int fastchat_winner_parse(const char *s, enum winner *w);
const char *fastchat_winner_name(enum winner w);

#endif
