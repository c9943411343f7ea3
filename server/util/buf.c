#include "util/buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max) {
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  b->max = max;
}

int buf_append(struct buf *b, const void *data, size_t n) {
  /* len + n + 1 (the NUL) must not wrap, whatever max is */
  if (n > b->max - b->len || n >= SIZE_MAX - b->len)
    return -1;
  size_t need = b->len + n + 1;
  if (need > b->cap) {
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
      cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap - 1 > b->max)  /* cap > max + 1, as max + 1 may wrap */
      cap = b->max + 1;
    char *p = realloc(b->data, cap);
    if (!p)
      return -1;
    b->data = p;
    b->cap = cap;
  }
  if (n)
    memcpy(b->data + b->len, data, n);
  b->len += n;
  b->data[b->len] = '\0';
  return 0;
}

int buf_append_str(struct buf *b, const char *s) {
  return buf_append(b, s, strlen(s));
}

void buf_reset(struct buf *b) {
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void buf_drop_front(struct buf *b, size_t n) {
  if (n >= b->len) {
    buf_reset(b);
    return;
  }
  memmove(b->data, b->data + n, b->len - n);
  b->len -= n;
  b->data[b->len] = '\0';
}

char *buf_steal(struct buf *b) {
  char *p = b->data;
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
  return p;
}

size_t buf_read(const struct buf *b, size_t *pos, char *out, size_t max) {
  size_t n = *pos < b->len ? b->len - *pos : 0;
  if (n > max)
    n = max;
  if (n)
    memcpy(out, b->data + *pos, n);
  *pos += n;
  return n;
}

void buf_release(struct buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = 0;
  b->cap = 0;
}
