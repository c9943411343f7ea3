#include "render/markdown.h"

#include <md4c-html.h>
#include <md4c.h>

#include "util/buf.h"

#define MAX_HTML (64u << 20)

static void collect(const MD_CHAR *text, MD_SIZE size, void *cls) {
  struct buf *b = cls;
  if (buf_append(b, text, size))
    b->max = 0; /* mark the overflow; checked below */
}

char *markdown_to_html(const char *md, size_t len) {
  struct buf b;
  buf_init(&b, MAX_HTML);
  unsigned flags = MD_DIALECT_GITHUB | MD_FLAG_NOHTML;
  if (md_html(md ? md : "", (MD_SIZE)len, collect, &b, flags, 0) != 0 ||
      b.max == 0) {
    buf_release(&b);
    return NULL;
  }
  if (!b.data && buf_append(&b, "", 0)) {
    buf_release(&b);
    return NULL;
  }
  return buf_steal(&b);
}
