#include "util/hash.h"

uint64_t hash_fnv1a_add(uint64_t h, const void *data, size_t len) {
  const unsigned char *p = data;
  for (size_t i = 0; i < len; i++)
    h = (h ^ p[i]) * HASH_FNV1A_PRIME;
  return h;
}

uint64_t hash_fnv1a_add_str(uint64_t h, const char *s) {
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * HASH_FNV1A_PRIME;
  return h;
}

uint64_t hash_fnv1a(const void *data, size_t len) {
  return hash_fnv1a_add(HASH_FNV1A_BASIS, data, len);
}

uint64_t hash_fnv1a_str(const char *s) {
  return hash_fnv1a_add_str(HASH_FNV1A_BASIS, s);
}
