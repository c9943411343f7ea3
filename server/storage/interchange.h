/* Battle logs in and out of the database: FastChat's clean-battle format
 * (as a JSON array, JSON lines, or CSV without conversations). */
#ifndef AGON_STORAGE_INTERCHANGE_H
#define AGON_STORAGE_INTERCHANGE_H

#include <stdio.h>

#include "fastchat/battle_log.h"
#include "storage/store.h"

struct import_stats {
  size_t imported;     /* new battles stored */
  size_t present;      /* already in the database: skipped */
  size_t not_counted;  /* stored, not counted (not anonymous, or marked) */
  size_t judge_records; /* LLM judge verdicts from an export: skipped */
};

/* Store the battles of log (sorted by tstamp, records kept) as imported
 * battles with their votes, in one transaction, then rebuild the live
 * ratings and pair counts by replaying every counted vote (imported votes
 * count with K = k). A battle already present (same question_id as a
 * stored battle, or the same record imported before) is skipped. Only
 * anonymous battles count, as in FastChat.
 *
 * Each battle keeps what its record says of it (fastchat/fields.h): its
 * language (NULL when the record has neither a language nor prompts to
 * detect one from: untagged, as a battle stored before tags were), its
 * heuristic categories (NULL when the record says nothing of its
 * prompts), its conv_metadata (the record's own, else counted from its
 * conversation), and category_tag's verdicts (tagger "import"); a
 * counted vote's outcome goes into the slices these put it in, in the
 * same transaction, as a live vote's does. Returns 0 or -1 (err set). */
int store_import(struct store *st, const struct battle_log *log, double k,
                 struct import_stats *stats, char *err, size_t errlen);

/* Rebuild the ratings and pair_counts tables from a replay of the votes.
 * Caller holds st->lock inside a transaction when in_tx, else it is done
 * in its own. Returns 0 or -1. */
int store_rebuild_ratings(struct store *st, double k, int in_tx);

/* Write every voted battle, in vote order, in fmt (its values are in
 * fastchat/battle_log.h). Returns the number written, or -1 (err set). */
long store_export(struct store *st, enum export_format fmt, FILE *out,
                  char *err, size_t errlen);

/* The database's secret for keyed hashes (64 hex), created on first use.
 * Returns 0 or -1. */
int store_secret(struct store *st, char out[65]);

#endif
