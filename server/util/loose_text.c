#include "util/loose_text.h"

#include <stdint.h>

#include "util/utf8.h"

/* A text read as normalised code points (see text_same_loose). */
struct loose_iter {
  const unsigned char *p, *end;
  int started;  /* something other than white space was given */
};

/* The white space at p (n > 0 bytes readable): its length, or 0. */
static size_t space_len(const unsigned char *p, size_t n) {
  if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
    return 1;
  if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
    return 2;
  return 0;
}

static uint32_t fold(uint32_t c) {
  if (c >= 'A' && c <= 'Z')
    return c + 32;
  if (c < 0x80)
    return c;
  if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
    return c + 32;
  if (c == 0x178)
    return 0xFF;  /* Y with diaeresis: its lower case is in Latin-1 */
  if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 &&
      c != 0x149 && c != 0x17F) {
    /* pairs: even upper, odd lower, but U+0139-U+0148 and U+0179-U+017E
     * are odd upper, even lower */
    int odd_upper = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
    if (odd_upper)
      return c & 1 ? c + 1 : c;
    return c & 1 ? c : c + 1;
  }
  if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
    return c + 32;
  if (c >= 0x410 && c <= 0x42F)
    return c + 32;
  if (c >= 0x400 && c <= 0x40F)
    return c + 80;
  return c;
}

/* The next normalised code point, or -1 at the end. A byte that is not
 * valid UTF-8 is given as 0x110000 + its value (never a code point). */
static int32_t loose_next(struct loose_iter *it) {
  int space = 0;
  size_t k;
  while (it->p < it->end &&
         (k = space_len(it->p, (size_t)(it->end - it->p))) > 0) {
    it->p += k;
    space = 1;
  }
  if (it->p >= it->end)
    return -1;  /* trailing white space is trimmed */
  if (space && it->started)
    return ' ';  /* the character after it comes next time */
  it->started = 1;
  size_t n = utf8_char_len((const char *)it->p, (size_t)(it->end - it->p));
  const unsigned char *s = it->p;
  uint32_t c;
  switch (n) {
  case 1: c = s[0]; break;
  case 2: c = (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F); break;
  case 3:
    c = (uint32_t)(s[0] & 0x0F) << 12 | (uint32_t)(s[1] & 0x3F) << 6 |
        (s[2] & 0x3F);
    break;
  case 4:
    c = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
        (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
    break;
  default:
    it->p++;
    return (int32_t)(0x110000 + s[0]);
  }
  it->p += n;
  return (int32_t)fold(c);
}

int text_same_loose(const char *a, size_t alen, const char *b, size_t blen) {
  struct loose_iter x = {(const unsigned char *)a,
                         (const unsigned char *)a + alen, 0};
  struct loose_iter y = {(const unsigned char *)b,
                         (const unsigned char *)b + blen, 0};
  for (;;) {
    int32_t c = loose_next(&x), d = loose_next(&y);
    if (c != d)
      return 0;
    if (c < 0)
      return 1;
  }
}
