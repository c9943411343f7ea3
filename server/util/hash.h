/* FNV-1a, 64 bits (Fowler, Noll, Vo): the one hash of in-memory tables.
 * Fast and good enough to spread keys; not for keys chosen to collide by
 * someone who gains from it, and not a digest (util/digest.h is). */
#ifndef AGON_UTIL_HASH_H
#define AGON_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV1A_BASIS 14695981039346656037ull  /* the offset basis */
#define HASH_FNV1A_PRIME 1099511628211ull

/* The hash of len bytes at data. This function can't fail. */
uint64_t hash_fnv1a(const void *data, size_t len);

/* The hash of the NUL-terminated string s (without its NUL). */
uint64_t hash_fnv1a_str(const char *s);

/* Continue the hash h over len more bytes at data: hashing "ab" equals
 * hash_fnv1a_add(hash_fnv1a("a", 1), "b", 1). With h = HASH_FNV1A_BASIS
 * it is hash_fnv1a. */
uint64_t hash_fnv1a_add(uint64_t h, const void *data, size_t len);

/* hash_fnv1a_add over the NUL-terminated string s. */
uint64_t hash_fnv1a_add_str(uint64_t h, const char *s);

#endif
