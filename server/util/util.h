/* Small helpers: time, randomness, UTF-8. Logging is in util/log.h. */
#ifndef AGON_UTIL_UTIL_H
#define AGON_UTIL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock). */
int64_t now_ms(void);

/* Milliseconds of a monotonic clock. */
int64_t mono_ms(void);

/* Seconds of a monotonic clock, with sub-microsecond resolution. */
double mono_s(void);

/* Format ms since the epoch as RFC 3339 UTC ("2026-11-27T23:18:32Z") into
 * out, which must hold at least 32 bytes. */
void format_rfc3339(int64_t ms, char out[32]);

/* The same with milliseconds ("2026-11-27T23:18:32.123Z"). */
void format_rfc3339_ms(int64_t ms, char out[32]);

/* Fill out with 2*nbytes lowercase hex characters of kernel randomness and
 * a NUL. Returns 0, or -1 if randomness is unavailable. */
int random_hex(char *out, size_t nbytes);

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
