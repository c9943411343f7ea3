/* Tagging battles with LLM taggers ([tagger NAME] sections), in the
 * background: a bounded queue of (tagger, battle) jobs; for each job, one
 * request per category the battle has no verdict on yet (tag/llm.h), at
 * most the tagger's `concurrency` requests in flight at once, on the
 * shared upstream loops. A request that fails, or whose reply says
 * nothing readable, is tried again up to the tagger's `retries` times,
 * after a pause that doubles each time (0.5 s, 1 s, 2 s... at most
 * 30 s); after that the category is left untagged, never guessed (`agon
 * tag` tries it again later). One thread of its own loads the battles'
 * prompts (on the store's read connection), builds the requests and reads
 * the replies; the verdicts go to the writer thread
 * (store_writer_categories), whose group commit moves the live slices of
 * a counted battle. So neither the arena's threads nor the upstream loops
 * ever wait for a tagger, and no lock is held across I/O.
 *
 * What a tagger is shown: the instructions for one category and the
 * visitor's prompts, nothing else (no answer, no model, no battle id). */
#ifndef AGON_TAGGER_RUNNER_H
#define AGON_TAGGER_RUNNER_H

#include <stddef.h>

#include "config/config.h"
#include "storage/store.h"
#include "storage/writer.h"
#include "upstream/upstream.h"

struct tag_runner;

struct tag_progress {
  size_t queued;       /* jobs waiting */
  size_t running;      /* jobs started and not done: requests in flight or
                          waiting to be tried again, verdicts being stored */
  size_t done;         /* jobs done (with or without verdicts) */
  size_t empty;        /* of them, battles gone or without a prompt */
  size_t requests;     /* requests sent, retries included */
  size_t verdicts;     /* category verdicts stored */
  size_t in_category;  /* of them, battles put in the category */
  size_t unknown;      /* categories left untagged after every try, or
                          whose verdicts could not be stored */
};

/* Called on the writer thread once a job's verdicts are committed and
 * have moved `moved` (> 0) slice outcomes of a counted battle into the
 * live slices (store_writer_categories): the owner refits the boards. */
typedef void (*tag_moved_fn)(void *cls, int moved);

/* A runner over st, w and up (all must outlive it); moved (may be NULL)
 * with cls as above. NULL on failure. */
struct tag_runner *tag_runner_new(struct store *st, struct store_writer *w,
                                  struct upstream *up, tag_moved_fn moved,
                                  void *cls);

/* Queue battle id for tagger t of cfg (the tagger's connection and the
 * categories it tags, with cfg's [category] questions, are copied).
 * Cheap; callable from any thread. At most TAG_MAX_QUEUE jobs wait; past
 * that the job is dropped (and tagged later by `agon tag`). Returns 0, or
 * -1 when it is dropped. */
#define TAG_MAX_QUEUE 20000
int tag_runner_enqueue(struct tag_runner *r, const struct config *cfg,
                       const struct tagger_config *t, const char *id);

/* Current counts. */
void tag_runner_progress(struct tag_runner *r, struct tag_progress *p);

/* Block until at most max jobs are queued or running (0: until the
 * runner is idle), calling tick (may be NULL) about every 200 ms. */
void tag_runner_wait(struct tag_runner *r, size_t max,
                     void (*tick)(const struct tag_progress *p, void *cls),
                     void *cls);

/* Stop: waiting jobs are dropped; running ones end when their requests
 * in flight come back (aborted: set off the upstream first to hurry them),
 * storing the verdicts they have, before this returns (so the writer must
 * still run). Jobs queued later are refused, so that a vote the writer
 * stores after this is harmless. Idempotent; accepts NULL. */
void tag_runner_stop(struct tag_runner *r);

/* tag_runner_stop if needed, and free everything (after the writer, when
 * it may still queue jobs). Accepts NULL. */
void tag_runner_free(struct tag_runner *r);

#endif
