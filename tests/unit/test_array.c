/* util/array.c: array_grow doubles, keeps the contents, and leaves the
 * array as it was when it cannot. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "util/array.h"

int main(void) {
  int *v = NULL;
  size_t n = 0, cap = 0;
  for (int i = 0; i < 100; i++) {
    int *grown = array_grow(v, n, &cap, sizeof *v, 4);
    CHECK(grown != NULL);
    if (!grown)
      break;
    v = grown;
    CHECK(n < cap);
    v[n++] = i;
  }
  CHECK(cap == 128); /* 4, 8, ..., 128 */
  int in_order = 1;
  for (size_t i = 0; i < n; i++)
    in_order = in_order && v[i] == (int)i;
  CHECK(in_order);
  /* room left: the same array, cap unchanged */
  size_t before = cap;
  CHECK(array_grow(v, 100, &cap, sizeof *v, 4) == v && cap == before);

  /* sizes that cannot be had (twice the count, or its bytes, past
   * SIZE_MAX): NULL before any allocation, the array and cap as they
   * were */
  size_t huge = SIZE_MAX / 2 + 1;
  CHECK(array_grow(v, huge, &huge, sizeof *v, 4) == NULL);
  CHECK(huge == SIZE_MAX / 2 + 1);
  size_t many = SIZE_MAX / 4;
  CHECK(array_grow(v, many, &many, sizeof *v, 4) == NULL);
  CHECK(many == SIZE_MAX / 4);
  CHECK(v[99] == 99);
  free(v);
  return check_done("test_array");
}
