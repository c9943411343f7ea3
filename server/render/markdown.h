/* Model answers as HTML: GitHub-flavoured Markdown parsed by md4c (raw
 * HTML disabled) and written out by our own small renderer, which decides
 * every tag and attribute itself. */
#ifndef AGON_RENDER_MARKDOWN_H
#define AGON_RENDER_MARKDOWN_H

#include <stddef.h>

/* The HTML for len bytes of Markdown (caller frees), or NULL on failure.
 *
 * - No tag of the input survives: every '<' of the input comes out as
 *   "&lt;".
 * - A link keeps its href only when the target, read the way a browser
 *   reads it (entities decoded, leading and trailing controls and spaces
 *   dropped, tabs and newlines removed anywhere), is an http:, https: or
 *   mailto: URL (any case) or a "#fragment". Any other link (javascript:,
 *   data:, vbscript:, relative paths, ...) becomes <a> without an href,
 *   around its text. The href written is exactly the target that was
 *   checked, percent-encoded where needed.
 * - No image is ever loaded: ![alt](src) becomes its alt text, as
 *   <a class="md-image" href="src">alt</a> when src is allowed as above
 *   and the image is not inside a link, else <span class="md-image">alt
 *   </span>.
 * - No other attribute than href, title (links), class (md-image, code
 *   languages, task lists), start (ordered lists), align (table cells)
 *   and the disabled/checked of task list checkboxes is written. */
char *markdown_to_html(const char *md, size_t len);

#endif
