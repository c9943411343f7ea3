#include "util/array.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *array_grow(void *items, size_t n, size_t *cap, size_t size,
                 size_t first) {
  if (n < *cap)
    return items;
  size_t want = *cap ? 2 * *cap : first;
  if (want < *cap || (size && want > SIZE_MAX / size))
    return NULL;
  void *grown = realloc(items, want * size);
  if (grown)
    *cap = want;
  return grown;
}

int array_find_sorted_str(char *const *names, int n, const char *s) {
  int lo = 0, hi = n - 1;
  while (lo <= hi) {
    int mid = lo + (hi - lo) / 2;
    int c = strcmp(names[mid], s);
    if (!c)
      return mid;
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}
