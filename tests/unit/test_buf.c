/* The bounded buffer: its maximum is kept to the byte, a failed append
 * leaves it as it was, and steal, reset and release. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "util/buf.h"

/* The buffer as it is, to compare after a failed append. */
struct seen {
  char *data;
  size_t len, cap;
  char text[64];
};

static struct seen look(const struct buf *b) {
  struct seen s = {b->data, b->len, b->cap, ""};
  if (b->data)
    snprintf(s.text, sizeof s.text, "%s", b->data);
  return s;
}

static int same(const struct buf *b, struct seen s) {
  return b->data == s.data && b->len == s.len && b->cap == s.cap &&
         (!b->data || !strcmp(b->data, s.text));
}

int main(void) {
  struct buf b;

  /* fresh: empty, nothing allocated */
  buf_init(&b, 10);
  CHECK(!b.data && b.len == 0 && b.max == 10);
  CHECK(buf_steal(&b) == NULL);

  /* appends up to the maximum, exactly; NUL-terminated throughout */
  CHECK(buf_append_str(&b, "abc") == 0);
  CHECK(b.len == 3 && b.data[3] == '\0');
  CHECK_STR(b.data, "abc");
  CHECK(buf_append(&b, "defghij", 7) == 0);
  CHECK(b.len == 10);
  CHECK_STR(b.data, "abcdefghij");
  CHECK(b.cap >= b.len + 1 && b.cap <= b.max + 1);  /* never past max */

  /* past the maximum: refused, the buffer as it was */
  struct seen s = look(&b);
  CHECK(buf_append(&b, "k", 1) == -1);
  CHECK(same(&b, s));
  CHECK(buf_append(&b, "", 0) == 0);    /* nothing more always fits */
  CHECK(same(&b, s));
  buf_reset(&b);
  CHECK(b.len == 0 && b.data && b.data[0] == '\0');
  CHECK(b.cap == s.cap && b.data == s.data);   /* reset keeps the memory */
  CHECK(buf_append_str(&b, "0123456") == 0);
  s = look(&b);
  CHECK(buf_append_str(&b, "7890") == -1);     /* 11 > 10: none of it */
  CHECK(same(&b, s));
  CHECK(buf_append_str(&b, "789") == 0);
  CHECK_STR(b.data, "0123456789");
  /* a length that would wrap around is refused, not wrapped */
  s = look(&b);
  CHECK(buf_append(&b, "x", SIZE_MAX) == -1);
  CHECK(same(&b, s));

  /* steal: the caller's, NUL-terminated; the buffer empty and usable */
  char *p = buf_steal(&b);
  CHECK_STR(p, "0123456789");
  CHECK(!b.data && b.len == 0 && b.cap == 0 && b.max == 10);
  free(p);
  CHECK(buf_append_str(&b, "again") == 0);
  CHECK_STR(b.data, "again");
  /* after a reset, steal hands over an empty string */
  buf_reset(&b);
  p = buf_steal(&b);
  CHECK(p && p[0] == '\0');
  free(p);
  /* appending nothing allocates: steal then gives "", not NULL */
  CHECK(buf_append(&b, "", 0) == 0);
  p = buf_steal(&b);
  CHECK(p && p[0] == '\0');
  free(p);
  /* release frees, and leaves a buffer that may be released again */
  CHECK(buf_append_str(&b, "held") == 0);
  buf_release(&b);
  CHECK(!b.data && b.len == 0 && b.cap == 0);
  buf_release(&b);

  /* growth across many appends keeps every byte, bytes past a NUL too */
  buf_init(&b, 100000);
  {
    int ok = 1;
    for (int i = 0; i < 100000; i++) {
      char c = (char)(i % 251);
      ok &= buf_append(&b, &c, 1) == 0;
    }
    CHECK(ok);
    CHECK(buf_append(&b, "z", 1) == -1);
    int right = b.len == 100000 && b.data[100000] == '\0';
    for (int i = 0; right && i < 100000; i++)
      right = b.data[i] == (char)(i % 251);
    CHECK(right);
    CHECK(b.cap <= b.max + 1);
  }
  buf_release(&b);

  /* a maximum of 0 holds nothing */
  buf_init(&b, 0);
  CHECK(buf_append(&b, "a", 1) == -1);
  CHECK(b.len == 0);
  CHECK(buf_append(&b, "", 0) == 0);
  CHECK(b.data && b.data[0] == '\0');
  buf_release(&b);

  /* the largest maximum of all: no room is lost to a wrapped size */
  buf_init(&b, SIZE_MAX);
  CHECK(buf_append_str(&b, "abc") == 0);
  CHECK(b.cap >= 4 && b.len == 3);
  if (b.cap >= 4)
    CHECK_STR(b.data, "abc");
  s = look(&b);
  CHECK(buf_append(&b, "x", SIZE_MAX - 3) == -1);   /* its NUL: no room */
  CHECK(same(&b, s));
  buf_release(&b);

  /* buf_read: the contents in pieces, then nothing */
  buf_init(&b, 64);
  CHECK(buf_append_str(&b, "hello") == 0);
  size_t pos = 0;
  char piece[8];
  CHECK(buf_read(&b, &pos, piece, 3) == 3 && pos == 3);
  CHECK(!memcmp(piece, "hel", 3));
  CHECK(buf_read(&b, &pos, piece, sizeof piece) == 2 && pos == 5);
  CHECK(!memcmp(piece, "lo", 2));
  CHECK(buf_read(&b, &pos, piece, sizeof piece) == 0 && pos == 5);
  buf_release(&b);
  buf_init(&b, 64); /* nothing ever appended: no data at all */
  pos = 0;
  CHECK(buf_read(&b, &pos, piece, sizeof piece) == 0 && pos == 0);
  buf_release(&b);

  /* buf_drop_front: what is left moves to the front, and its room is
   * free again up to the maximum */
  buf_init(&b, 8);
  CHECK(buf_append_str(&b, "abcdefgh") == 0);
  CHECK(buf_append_str(&b, "i") == -1);
  buf_drop_front(&b, 3);
  CHECK(b.len == 5 && !strcmp(b.data, "defgh"));
  CHECK(buf_append_str(&b, "ijk") == 0);
  CHECK(b.len == 8 && !strcmp(b.data, "defghijk"));
  buf_drop_front(&b, 0);
  CHECK(b.len == 8);
  buf_drop_front(&b, 100);
  CHECK(b.len == 0 && b.data && b.data[0] == '\0');
  buf_release(&b);
  buf_init(&b, 8);
  buf_drop_front(&b, 2); /* nothing ever appended: still nothing */
  CHECK(b.len == 0);
  buf_release(&b);

#ifndef __SANITIZE_ADDRESS__
  /* out of memory (an allocation no machine has): refused, unchanged.
   * AddressSanitizer reports such a request instead of failing it. */
  buf_init(&b, SIZE_MAX / 4);
  CHECK(buf_append_str(&b, "kept") == 0);
  s = look(&b);
  CHECK(buf_append(&b, "never read", SIZE_MAX / 8) == -1);
  CHECK(same(&b, s));
  buf_release(&b);
#endif
  return check_done("test_buf");
}
