#include "util/utf8.h"

#include <string.h>

size_t utf8_length(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

size_t utf8_char_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len;
  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    len = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    len = 3;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    len = 4;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  if ((p[0] == 0xE0 && p[1] < 0xA0) ||  /* overlong */
      (p[0] == 0xED && p[1] > 0x9F) ||  /* a surrogate */
      (p[0] == 0xF0 && p[1] < 0x90) ||  /* overlong */
      (p[0] == 0xF4 && p[1] > 0x8F))    /* beyond U+10FFFF */
    return 0;
  return len;
}

int utf8_valid(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t n = utf8_char_len(s + i, len - i);
    if (!n)
      return 0;
    i += n;
  }
  return 1;
}
