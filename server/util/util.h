/* Small helpers: time, randomness, logging. */
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

/* Log one line to stderr: "agon: level=LEVEL " followed by the message.
 * Thread-safe (one write per line). Messages must never carry API keys. */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

/* Whether s (len bytes) is valid UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
int utf8_valid(const char *s, size_t len);

/* Number of Unicode code points in valid UTF-8 text. */
size_t utf8_length(const char *s, size_t len);

#endif
