/* FNV-1a, 64 bits: the published test vectors, and the continued form
 * equal to hashing the whole at once. */
#include "check.h"
#include "util/hash.h"

int main(void) {
  /* from the FNV reference test suite (draft-eastlake-fnv) */
  CHECK(hash_fnv1a("", 0) == 0xcbf29ce484222325ull);
  CHECK(hash_fnv1a_str("") == HASH_FNV1A_BASIS);
  CHECK(hash_fnv1a_str("a") == 0xaf63dc4c8601ec8cull);
  CHECK(hash_fnv1a_str("b") == 0xaf63df4c8601f1a5ull);
  CHECK(hash_fnv1a_str("foobar") == 0x85944171f73967e8ull);
  CHECK(hash_fnv1a("foobar", 6) == 0x85944171f73967e8ull);
  /* the rest computed from the definition, byte by byte:
   * bytes past a NUL count with the length form, never with _str */
  CHECK(hash_fnv1a("a\0", 2) == 0x089be207b544f1e4ull);
  CHECK(hash_fnv1a_str("a\0b") == 0xaf63dc4c8601ec8cull);
  /* high bytes are taken unsigned */
  CHECK(hash_fnv1a("\xff", 1) == 0xaf64724c8602eb6eull);
  CHECK(hash_fnv1a_str("\xff") == 0xaf64724c8602eb6eull);

  /* continued: "foo" then "bar" is "foobar" */
  CHECK(hash_fnv1a_add(hash_fnv1a("foo", 3), "bar", 3) ==
        hash_fnv1a_str("foobar"));
  CHECK(hash_fnv1a_add_str(hash_fnv1a_str("foo"), "bar") ==
        0x85944171f73967e8ull);
  CHECK(hash_fnv1a_add(HASH_FNV1A_BASIS, "foobar", 6) ==
        hash_fnv1a_str("foobar"));
  CHECK(hash_fnv1a_add(12345, "", 0) == 12345);
  CHECK(hash_fnv1a_add_str(12345, "") == 12345);
  return check_done("test_hash");
}
