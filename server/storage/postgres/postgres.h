/* The PostgreSQL engine: a struct store over one PostgreSQL database
 * (storage/ops.h), through libpq. Only storage/store.c, which chooses the
 * engine, includes this; it exists in builds with libpq
 * (AGON_HAVE_POSTGRES). */
#ifndef AGON_STORAGE_POSTGRES_POSTGRES_H
#define AGON_STORAGE_POSTGRES_POSTGRES_H

#include <stddef.h>

#include "storage/store.h"

/* Connect to the database conninfo names (a postgresql:// or postgres://
 * URL, or a libpq keyword string, as config_db_engine hands it on; libpq
 * itself does multi-host and target_session_attrs), bring its schema up
 * to date (under an advisory lock, so that nodes starting at once migrate
 * once) and set st->ops and st->impl; st->lock is the caller's.
 * must_exist: the schema must be there already (the offline commands
 * never create an empty arena). 0, or -1 with a message in err that
 * never repeats conninfo or its password (st->ops left NULL). */
int pg_store_open(struct store *st, const char *conninfo, int must_exist,
                  char *err, size_t errlen);

#endif
