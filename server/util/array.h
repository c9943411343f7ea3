/* Growing an array by doubling. */
#ifndef AGON_UTIL_ARRAY_H
#define AGON_UTIL_ARRAY_H

#include <stddef.h>

/* The array items, of n items of size bytes in room for *cap, with room
 * for at least one more: items itself while n < *cap; else items
 * reallocated to twice *cap items (first when *cap is 0), and *cap set to
 * that. NULL when memory runs out: items and *cap are then as they were,
 * and items is still the caller's. */
void *array_grow(void *items, size_t n, size_t *cap, size_t size,
                 size_t first);

/* The index of s in names[n], sorted by strcmp, or -1 (binary search). */
int array_find_sorted_str(char *const *names, int n, const char *s);

#endif
