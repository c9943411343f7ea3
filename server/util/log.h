/* The server log: one logfmt line per event on stderr,
 * "ts=TIME level=LEVEL msg=\"...\" key=value ...".
 *
 * A line is always one line: every byte of the formatted message below
 * 0x20 or equal to 0x7f, every C1 control character and every byte that is
 * not part of valid UTF-8 is written as \xNN, so nothing a client or an
 * upstream sends can start a line of its own. Values that come from
 * outside (a request path, a provider's error text, a file name) are
 * passed through log_q() so that their quotes and backslashes are escaped
 * too and a quoted value ends where it seems to. Lines are at most
 * LOG_LINE_MAX bytes; a cut line ends in "...". */
#ifndef AGON_UTIL_LOG_H
#define AGON_UTIL_LOG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define LOG_LINE_MAX 2048
#define LOG_VALUE_MAX 512

/* Log one line to stderr: "ts=... level=LEVEL " followed by the message,
 * escaped as above. Thread-safe (one write per line). Messages must never
 * carry API keys.
 *
 * Warnings and errors are rate-limited by their format string: more than
 * LOG_BURST lines of one format in a second are dropped, and a later line
 * says how many ("msg=\"41230 similar suppressed\" like=\"...\""). */
void log_msg(const char *level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same, rate-limited by `key` instead of the format (for messages
 * whose format is someone else's, such as libmicrohttpd's); key 0 is
 * never limited. */
void log_msg_keyed(uintptr_t key, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_info(...) log_msg("info", __VA_ARGS__)
#define log_warn(...) log_msg("warn", __VA_ARGS__)
#define log_error(...) log_msg("error", __VA_ARGS__)

/* Lines of one key allowed per second before they are suppressed. */
#define LOG_BURST 10

/* Write the "N similar suppressed" lines that are due (with `all`, every
 * pending one, as at exit). log_msg does this itself; call it from time
 * to time (the serve loop does, once a second) so that the count of a
 * flood that stopped still shows. */
void log_flush(int all);

/* Escape s for use inside a quoted log value: '"' and '\' get a backslash,
 * control characters and invalid UTF-8 become \xNN; when the result does
 * not fit in size bytes (NUL included) it is cut at a character boundary
 * and ends in "...". NULL is written as "(null)". Returns out. */
const char *log_quote(char *out, size_t size, const char *s);

/* log_quote into a buffer that lives until the end of the enclosing
 * block: log_info("path=\"%s\"", log_q(url)). */
#define log_q(s) log_quote((char[LOG_VALUE_MAX]){0}, LOG_VALUE_MAX, (s))

/* Append the len bytes at msg to out, which holds *used bytes of at most
 * size (NUL included), escaping every control character and invalid UTF-8
 * as \xNN. When it does not all fit, or `cut` says msg itself was cut,
 * the text ends in "...". Keeps out NUL-terminated. Pure; this is what
 * log_msg writes after the "ts=... level=... " prefix. */
void log_escape_append(char *out, size_t size, size_t *used, const char *msg,
                       size_t len, int cut);

#endif
