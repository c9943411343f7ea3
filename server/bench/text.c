/* Python 3's string operations that the task files use (text.h). */
#include "bench/text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/utf8.h"

size_t py_len(const char *s) { return utf8_length(s, strlen(s)); }

size_t py_offset(const char *s, size_t chars) {
  size_t len = strlen(s), i = 0;
  while (i < len && chars) {
    size_t c = utf8_char_len(s + i, len - i);
    i += c ? c : 1;
    chars--;
  }
  return i;
}

/* The code point at s, or -1 when the bytes are not valid UTF-8. */
static long decode(const char *s, size_t n, size_t *clen) {
  const unsigned char *u = (const unsigned char *)s;
  size_t c = utf8_char_len(s, n);
  *clen = c ? c : 1;
  if (!c)
    return -1;
  if (c == 1)
    return u[0];
  if (c == 2)
    return ((u[0] & 0x1f) << 6) | (u[1] & 0x3f);
  if (c == 3)
    return ((u[0] & 0x0f) << 12) | ((u[1] & 0x3f) << 6) | (u[2] & 0x3f);
  return ((long)(u[0] & 0x07) << 18) | ((u[1] & 0x3f) << 12) |
         ((u[2] & 0x3f) << 6) | (u[3] & 0x3f);
}

int py_isspace_at(const char *s, size_t n, size_t *clen) {
  long c = decode(s, n, clen);
  /* str.isspace: Unicode's White_Space with bidi class WS, B or S, and
   * the four ASCII separators 0x1c to 0x1f */
  return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 ||
         c == 0xa0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200a) ||
         c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
         c == 0x3000;
}

char *py_strip(const char *s) {
  size_t len = strlen(s), start = 0, end = 0, i = 0, clen;
  int seen = 0;
  while (i < len) {
    int sp = py_isspace_at(s + i, len - i, &clen);
    if (!sp && !seen) {
      start = i;
      seen = 1;
    }
    if (!sp)
      end = i + clen;
    i += clen;
  }
  if (!seen)
    return strdup("");
  return strndup(s + start, end - start);
}

char *py_capitalize_ascii(const char *s) {
  char *out = strdup(s);
  if (!out)
    return NULL;
  for (size_t i = 0; out[i]; i++) {
    char c = out[i];
    if (i == 0 && c >= 'a' && c <= 'z')
      out[i] = (char)(c - 'a' + 'A');
    else if (i > 0 && c >= 'A' && c <= 'Z')
      out[i] = (char)(c - 'A' + 'a');
  }
  return out;
}

char *py_replace(const char *s, const char *old, const char *new_text) {
  struct buf b;
  size_t olen = strlen(old);
  buf_init(&b, SIZE_MAX / 2);
  if (buf_append(&b, "", 0))
    return NULL;
  const char *p = s;
  while (olen) {
    const char *q = strstr(p, old);
    if (!q)
      break;
    if (buf_append(&b, p, (size_t)(q - p)) || buf_append_str(&b, new_text))
      goto fail;
    p = q + olen;
  }
  if (buf_append_str(&b, p))
    goto fail;
  return buf_steal(&b);
fail:
  buf_release(&b);
  return NULL;
}

char *py_drop_brackets(const char *s) {
  struct buf b;
  buf_init(&b, SIZE_MAX / 2);
  if (buf_append(&b, "", 0))
    return NULL;
  const char *p = s;
  while (*p) {
    if (*p == '[') {
      const char *q = p + 1;
      while (*q && *q != ']' && *q != '\n') /* '.' stops at a newline */
        q++;
      if (*q == ']') {
        p = q + 1;
        continue;
      }
    }
    if (buf_append(&b, p, 1))
      goto fail;
    p++;
  }
  return buf_steal(&b);
fail:
  buf_release(&b);
  return NULL;
}

long py_index_char(const char *s, char c) {
  const char *p = strchr(s, c);
  if (!p)
    return -1;
  return (long)utf8_length(s, (size_t)(p - s));
}
