#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Match one pattern against a path; capture ":id" (param is "" for a
 * pattern without one). */
static int match(const char *pattern, const char *url, char *param,
                 size_t paramlen) {
  const char *p = pattern, *u = url;
  param[0] = '\0';
  while (*p && *u) {
    if (p[0] == ':' ) {
      const char *end = strchr(u, '/');
      size_t n = end ? (size_t)(end - u) : strlen(u);
      if (n == 0 || n >= paramlen)
        return 0;
      memcpy(param, u, n);
      param[n] = '\0';
      u += n;
      while (*p && *p != '/')
        p++;
      continue;
    }
    if (*p != *u)
      return 0;
    p++;
    u++;
  }
  return *p == '\0' && *u == '\0';
}

enum route_match router_find(const struct route *table, const char *method,
                             const char *url, const struct route **out,
                             char *param, size_t paramlen) {
  int path_seen = 0;
  int is_head = !strcmp(method, "HEAD");
  for (const struct route *r = table; r->method; r++) {
    if (!match(r->pattern, url, param, paramlen))
      continue;
    path_seen = 1;
    if (!strcmp(r->method, method) || (is_head && !strcmp(r->method, "GET"))) {
      *out = r;
      return ROUTE_FOUND;
    }
  }
  param[0] = '\0';
  return path_seen ? ROUTE_BAD_METHOD : ROUTE_NO_PATH;
}

void router_allowed(const struct route *table, const char *url, char *out,
                    size_t outlen) {
  char param[72];
  int get = 0, post = 0;
  for (const struct route *r = table; r->method; r++) {
    if (!match(r->pattern, url, param, sizeof param))
      continue;
    if (!strcmp(r->method, "GET"))
      get = 1;
    else if (!strcmp(r->method, "POST"))
      post = 1;
  }
  snprintf(out, outlen, "%s%s%s", get ? "GET, HEAD" : "",
           get && post ? ", " : "", post ? "POST" : "");
}
