/* Model answers as HTML: GitHub-flavoured Markdown through md4c, with raw
 * HTML disabled, so that any markup in an answer is shown as text. */
#ifndef AGON_RENDER_MARKDOWN_H
#define AGON_RENDER_MARKDOWN_H

#include <stddef.h>

/* The HTML for len bytes of Markdown (caller frees), or NULL on failure.
 * The result never contains a tag that was in the input: every '<' of the
 * input comes out as "&lt;". Link and image targets are kept as written;
 * the pages' Content-Security-Policy stops script URLs and foreign
 * images, and the page drops non-http(s) links. */
char *markdown_to_html(const char *md, size_t len);

#endif
