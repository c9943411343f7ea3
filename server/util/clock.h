/* Clocks: wall-clock and monotonic time, and RFC 3339 timestamps. */
#ifndef AGON_UTIL_CLOCK_H
#define AGON_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (wall clock). */
int64_t now_ms(void);

/* Milliseconds of a monotonic clock. */
int64_t mono_ms(void);

/* Seconds of a monotonic clock, with sub-microsecond resolution. */
double mono_s(void);

/* The time ms milliseconds (>= 0) from now on clock clk, for
 * pthread_cond_timedwait (CLOCK_REALTIME unless the condition variable
 * was made for another clock). */
struct timespec clock_in_ms(clockid_t clk, long ms);

/* Format ms since the epoch as RFC 3339 UTC ("2026-11-27T23:18:32Z") into
 * out, which must hold at least 32 bytes. */
void format_rfc3339(int64_t ms, char out[32]);

/* The same with milliseconds ("2026-11-27T23:18:32.123Z"). */
void format_rfc3339_ms(int64_t ms, char out[32]);

#endif
