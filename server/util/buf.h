/* A growable byte buffer with a hard maximum size. */
#ifndef AGON_UTIL_BUF_H
#define AGON_UTIL_BUF_H

#include <stddef.h>

struct buf {
  char *data;   /* always NUL-terminated when non-NULL */
  size_t len;
  size_t cap;
  size_t max;   /* appends that would pass this fail */
};

/* Prepare an empty buffer that will never hold more than max bytes. */
void buf_init(struct buf *b, size_t max);

/* Append n bytes. Returns 0, or -1 when the result would exceed the
 * maximum or memory runs out; the buffer is unchanged on failure. */
int buf_append(struct buf *b, const void *data, size_t n);

/* Append a NUL-terminated string; same contract as buf_append. */
int buf_append_str(struct buf *b, const char *s);

/* Forget the contents, keep the allocation. */
void buf_reset(struct buf *b);

/* Forget the first n bytes (all of them when n >= len): the rest moves to
 * the front, and as much room as they left is free for appends again. */
void buf_drop_front(struct buf *b, size_t n);

/* Hand the contents to the caller (NUL-terminated; NULL when nothing was
 * ever appended, "" after an append of nothing or a reset); the buffer is
 * left empty, with nothing allocated. The caller frees the result. */
char *buf_steal(struct buf *b);

/* Copy the contents from *pos on into out, max bytes at the most, and
 * move *pos past them: the number copied (0 once *pos reaches len). A
 * reader's half of a buffer that is filled, then read out in pieces. */
size_t buf_read(const struct buf *b, size_t *pos, char *out, size_t max);

/* Free the contents; the buffer may be used again after buf_init. */
void buf_release(struct buf *b);

#endif
