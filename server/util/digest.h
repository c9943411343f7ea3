/* SHA-256 and HMAC-SHA-256 (OpenSSL's libcrypto), as lowercase hex. */
#ifndef AGON_UTIL_DIGEST_H
#define AGON_UTIL_DIGEST_H

#include <stddef.h>

/* out gets 64 hex characters and a NUL. Returns 0 or -1. */
int sha256_hex(const void *data, size_t len, char out[65]);

/* HMAC-SHA-256 of data under key; out as for sha256_hex. */
int hmac_sha256_hex(const void *key, size_t keylen, const void *data,
                    size_t len, char out[65]);

#endif
