/* Kernel randomness as hex (ids, tokens, seeds). */
#ifndef AGON_UTIL_RANDOM_H
#define AGON_UTIL_RANDOM_H

#include <stddef.h>

/* Fill out with 2*nbytes lowercase hex characters of kernel randomness and
 * a NUL. Returns 0, or -1 if randomness is unavailable. */
int random_hex(char *out, size_t nbytes);

#endif
