/* The tags of battles stored without them (before schema 0009, or
 * imported before imports kept them): their language, heuristic
 * categories and style counts computed now from the stored conversation
 * (its turns, or an imported record's conversations) exactly as a turn's
 * end computes them (tag/battle_tags.h), and stored through the writer
 * (store_writer_battle_tags), which moves a counted vote into the slices
 * the battle newly joins. For `agon tag`; the caller's thread computes,
 * the writer writes in group commits. */
#ifndef AGON_TAGGER_BACKFILL_H
#define AGON_TAGGER_BACKFILL_H

#include <stddef.h>

#include "storage/store.h"
#include "storage/writer.h"

struct tag_backfill {
  size_t total;       /* battles that lacked tags */
  size_t done;        /* of them, looked at so far */
  size_t tagged;      /* tags stored */
  size_t moved;       /* slice outcomes of counted votes they moved */
  size_t no_text;     /* no conversation to read (a log without one) */
  size_t errors;      /* could not be read, computed or stored */
};

/* Tag at most limit (0: all) of the battles of st that lack tags, through
 * w; tick (may be NULL) is called after each battle with the counts so
 * far. Returns 0 with *out filled when the battles could be listed (a
 * battle that fails counts in errors), else -1. */
int tag_backfill_run(struct store *st, struct store_writer *w, long limit,
                     void (*tick)(const struct tag_backfill *b, void *cls),
                     void *cls, struct tag_backfill *out);

#endif
