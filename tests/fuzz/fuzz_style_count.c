/* Fuzz the style counts (tag/style_count.c) and check what holds on
 * every input: counting never fails for lack of input validity, removing
 * code never lengthens the text, and no count exceeds what the bytes
 * allow. A broken promise aborts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tag/style_count.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what) {
  fprintf(stderr, "style_count: %s\n", what);
  abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *text = (const char *)data;
  size_t n;
  char *s = style_strip_code(text, size, &n);
  if (!s)
    broken("no output");
  if (n > size || s[n] != '\0')
    broken("stripping made the text longer or left it unterminated");
  struct style_counts c;
  if (style_count(text, size, &c))
    broken("counting failed");
  uint64_t headers = 0;
  for (int k = 0; k < 6; k++)
    headers += c.headers[k];
  /* each item needs at least two bytes of its own, each bold span five */
  if (c.tokens > size || headers * 2 > n || (c.ordered + c.unordered) * 2 > n ||
      (c.bold_star + c.bold_under) * 5 > n)
    broken("a count larger than the text allows");
  struct style_counts again;
  style_count_markdown(s, n, &again);
  if (memcmp(again.headers, c.headers, sizeof c.headers) ||
      again.ordered != c.ordered || again.bold_under != c.bold_under)
    broken("the counts of the stripped text differ");
  free(s);
  return 0;
}
