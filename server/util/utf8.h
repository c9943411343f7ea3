/* UTF-8 validity and lengths (RFC 3629). */
#ifndef AGON_UTIL_UTF8_H
#define AGON_UTIL_UTF8_H

#include <stddef.h>

/* Whether s (len bytes) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
int utf8_valid(const char *s, size_t len);

/* Number of Unicode code points in valid UTF-8 text. */
size_t utf8_length(const char *s, size_t len);

/* The length (1 to 4) of the valid UTF-8 character at s, of which n > 0
 * bytes may be read; 0 when the bytes there are not one (a stray or
 * missing continuation byte, an overlong form, a surrogate, beyond
 * U+10FFFF). */
size_t utf8_char_len(const char *s, size_t n);

#endif
