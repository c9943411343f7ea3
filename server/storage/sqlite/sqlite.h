/* The SQLite engine: a struct store over one SQLite file (storage/ops.h).
 * Only storage/store.c, which chooses the engine, includes this. */
#ifndef AGON_STORAGE_SQLITE_SQLITE_H
#define AGON_STORAGE_SQLITE_SQLITE_H

#include <stddef.h>

#include "storage/store.h"

/* Open (creating it unless must_exist) the SQLite file at path, bring its
 * schema up to date and set st->ops and st->impl; st->lock is the
 * caller's. WAL with synchronous=FULL. 0, or -1 with a message in err
 * (st->ops left NULL). */
int sqlite_store_open(struct store *st, const char *path, int must_exist,
                      char *err, size_t errlen);

#endif
