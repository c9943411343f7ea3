/* Fuzz the answer renderer (render/markdown.c) and check what it promises
 * on every input: only our own tags, and every href an http, https or
 * mailto URL or a #fragment made of URL characters. A broken promise
 * aborts, which libFuzzer and the replay test both report. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "render/markdown.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void broken(const char *what, const char *html, size_t at) {
  fprintf(stderr, "markdown: %s at %zu: %.200s\n", what, at, html + at);
  abort();
}

/* The tags the renderer writes. */
static const char *const TAGS[] = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "blockquote",
    "pre", "code", "em", "strong", "del", "u", "a", "span", "table", "thead",
    "tbody", "tr", "th", "td", "hr", "br", "input",
};

/* And the attributes it writes (on whichever of them). */
static const char *const ATTRS[] = {
    "href", "title", "class", "start", "align", "type", "disabled", "checked",
};

static int in_list(const char *s, size_t n, const char *const *list,
                   size_t count) {
  for (size_t i = 0; i < count; i++)
    if (strlen(list[i]) == n && !strncmp(s, list[i], n))
      return 1;
  return 0;
}

static void check_href(const char *html, const char *v, size_t n) {
  size_t at = (size_t)(v - html);
  if (strncasecmp(v, "http:", 5) && strncasecmp(v, "https:", 6) &&
      strncasecmp(v, "mailto:", 7) && *v != '#')
    broken("href with another target", html, at);
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)v[i];
    if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '\'' ||
        c == '`' || c == '\\')
      broken("href with a raw byte that should be encoded", html, at);
    if (c == '&' && (n - i < 5 || strncmp(v + i, "&amp;", 5)))
      broken("href with an entity", html, at);
  }
}

/* The tag at p (just after its '<'): a known name, known attributes, each
 * without a value or with a double-quoted one. Returns where it ends. */
static const char *check_tag(const char *html, const char *p) {
  size_t at = (size_t)(p - html);
  if (*p == '/')
    p++;
  size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789");
  if (!in_list(p, n, TAGS, sizeof TAGS / sizeof TAGS[0]))
    broken("a tag the renderer does not write", html, at);
  p += n;
  for (;;) {
    if (*p == '>')
      return p + 1;
    if (*p != ' ')
      broken("a malformed tag", html, at);
    p++;
    n = strspn(p, "abcdefghijklmnopqrstuvwxyz");
    if (!in_list(p, n, ATTRS, sizeof ATTRS / sizeof ATTRS[0]))
      broken("an attribute the renderer does not write", html, at);
    int href = n == 4 && !strncmp(p, "href", 4);
    p += n;
    if (*p != '=')
      continue;
    if (p[1] != '"')
      broken("an unquoted attribute", html, at);
    const char *v = p + 2, *end = strchr(v, '"');
    if (!end)
      broken("an unterminated attribute", html, at);
    if (memchr(v, '<', (size_t)(end - v)) || memchr(v, '>', (size_t)(end - v)))
      broken("an attribute with a raw '<' or '>'", html, at);
    if (href)
      check_href(html, v, (size_t)(end - v));
    p = end + 1;
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *html = markdown_to_html((const char *)data, size);
  if (!html)
    broken("no output", "", 0);
  for (const char *p = html; (p = strchr(p, '<'));)
    p = check_tag(html, p + 1);
  free(html);
  return 0;
}
