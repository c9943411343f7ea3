/* Files embedded into the binary at build time (tools/embed.py). */
#ifndef AGON_UTIL_EMBEDDED_H
#define AGON_UTIL_EMBEDDED_H

#include <stddef.h>

struct agon_embedded {
  const char *name;           /* base name, NULL ends the table */
  const unsigned char *data;  /* NUL-terminated, the NUL not counted in size */
  size_t size;
  const char *etag;           /* strong ETag, quoted */
};

/* web/ assets and schema/ migrations, sorted by name. */
extern const struct agon_embedded agon_web_assets[];
extern const struct agon_embedded agon_schema_files[];
/* schema/postgres/ migrations, in builds with the PostgreSQL engine
 * (AGON_HAVE_POSTGRES) only. */
extern const struct agon_embedded agon_pg_schema_files[];

#endif
