/* Short, safe excerpts of text that came from outside (an upstream's error
 * body, say) for the log and the database: credentials taken out, control
 * characters and invalid UTF-8 replaced, the length bounded. Pure. */
#ifndef AGON_UTIL_REDACT_H
#define AGON_UTIL_REDACT_H

#include <stddef.h>

#define REDACTED "[redacted]"

/* Write into out (size bytes, NUL included; size >= 4) an excerpt of the
 * len bytes at text in which
 *  - every occurrence of secret (when not NULL or empty), and a piece of
 *    it of 8 bytes or more cut off at either end of text, is REDACTED;
 *  - so are the token after "Bearer", the value of an Authorization,
 *    Proxy-Authorization or api-key header or field, key shapes
 *    ("sk-...", "sk-proj-...", "hf_...", "AIza...", and a few more; the
 *    prefix is kept), and a token of 32 or more base64 or hex characters
 *    that follows a word with "key", "token" or "secret" in it;
 *  - a run of control characters becomes one space, a byte that is not
 *    part of valid UTF-8 becomes U+FFFD;
 *  - what does not fit is cut before a character and "..." ends it.
 * Redaction happens before the cut, on the whole of text, so a key past
 * the cut cannot leave its head behind. Returns the length written. This
 * function can't fail. */
size_t redact_excerpt(const char *text, size_t len, const char *secret,
                      char *out, size_t size);

#endif
