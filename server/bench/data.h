/* A task's data file: JSON lines in the layout of the Hugging Face
 * dataset the task comes from (bench/task.h says each task's fields). */
#ifndef AGON_BENCH_DATA_H
#define AGON_BENCH_DATA_H

#include <stddef.h>

#include "bench/task.h"

#define BENCH_MAX_LINE (8u << 20)    /* bytes of one line */
#define BENCH_MAX_FILE (1u << 30)    /* bytes of one file */

/* Read every line of path as an item of task t, in order (blank lines
 * are skipped; an item's line is its 1-based line number). *docs (n of
 * them) are the caller's (bench_docs_free); sha256 gets the hex SHA-256
 * of the file's bytes. 0, or -1 with "PATH:LINE: what is wrong" (or
 * "cannot read 'PATH': why") in err. */
int bench_data_load(const struct bench_task *t, const char *path,
                    struct bench_doc **docs, size_t *n, char sha256[65],
                    char *err, size_t errlen);

void bench_docs_free(struct bench_doc *d, size_t n);

#endif
