/* The fuzz input as a file, for the parsers that read a path. */
#ifndef AGON_TESTS_FUZZ_MEMFILE_H
#define AGON_TESTS_FUZZ_MEMFILE_H

#include <stddef.h>
#include <stdint.h>

/* An anonymous memory file (memfd) holding the size bytes at data, and its
 * name /proc/self/fd/N in path (path_size bytes). Returns its descriptor,
 * for the caller to close, or -1 when it could not be made. */
int fuzz_memfile(const uint8_t *data, size_t size, char *path,
                 size_t path_size);

#endif
