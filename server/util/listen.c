#include "util/listen.h"

#include <stdlib.h>
#include <string.h>

int parse_listen(const char *listen, char *host, size_t hostlen,
                 uint16_t *port) {
  const char *colon = strrchr(listen, ':');
  if (!colon)
    return -1;
  const char *h = listen;
  size_t n = (size_t)(colon - listen);
  if (n > 0 && h[0] == '[') {
    if (n < 3 || h[n - 1] != ']')
      return -1;
    h++;
    n -= 2;
  } else if (memchr(h, ':', n)) {
    return -1; /* "::1:8080": an IPv6 address needs its brackets */
  }
  if (n == 0 || n >= hostlen)
    return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)h[i];
    if (c <= ' ' || c == 0x7f || c == '[' || c == ']')
      return -1;
  }
  const char *digits = colon + 1;
  size_t nd = strspn(digits, "0123456789");
  if (nd == 0 || nd > 5 || digits[nd])
    return -1;
  long p = strtol(digits, NULL, 10);
  if (p > 65535)
    return -1;
  memcpy(host, h, n);
  host[n] = '\0';
  *port = (uint16_t)p;
  return 0;
}
