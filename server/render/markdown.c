/* Markdown to HTML: md4c parses, and the callbacks below write every tag
 * and attribute, so that link targets and images can be decided here
 * (md4c-html writes any target it is given). See markdown.h. */
#include "render/markdown.h"

#include <md4c.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"

#define MAX_HTML (64u << 20)
/* A link target longer than this, decoded, loses its href. */
#define MAX_URL (64u << 10)
/* md4c 0.4.8 (Debian 12's) can read a byte or two past the end of its
 * input, and now and then hands such bytes on as text (found by
 * tests/fuzz/fuzz_markdown.c; valgrind shows the read). So it parses a
 * copy followed by this many NUL bytes, and text is cut at the input's
 * end. */
#define INPUT_PAD 16

struct renderer {
  struct buf out;
  const char *in;   /* the copy md4c parses, INPUT_PAD bytes longer */
  size_t in_len;
  int failed;       /* the HTML would pass MAX_HTML, or memory ran out */
  unsigned links;   /* links entered and not left */
  unsigned a_open;  /* the value of links when the open <a> was written;
                       0 when none is open (links never nest in ours) */
  unsigned images;  /* images entered and not left: inside one, only its
                       alt text is written */
  int image_link;   /* the outermost image was written as <a>, not <span> */
};

static void put(struct renderer *r, const char *s, size_t n) {
  if (!r->failed && buf_append(&r->out, s, n))
    r->failed = 1;
}

static void put_str(struct renderer *r, const char *s) { put(r, s, strlen(s)); }

/* Text for an element's content or a double-quoted attribute value. */
static void put_escaped(struct renderer *r, const char *s, size_t n) {
  size_t from = 0;
  for (size_t i = 0; i < n; i++) {
    const char *rep = s[i] == '&'   ? "&amp;"
                      : s[i] == '<' ? "&lt;"
                      : s[i] == '>' ? "&gt;"
                      : s[i] == '"' ? "&quot;"
                                    : NULL;
    if (rep) {
      put(r, s + from, i - from);
      put_str(r, rep);
      from = i + 1;
    }
  }
  put(r, s + from, n - from);
}

static const char REPLACEMENT[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Code point c as UTF-8 into out (4 bytes); U+FFFD for what HTML would not
 * give as itself (NUL, surrogates, beyond U+10FFFF). Returns the length. */
static size_t utf8_put(uint32_t c, char *out) {
  if (c == 0 || (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF) {
    memcpy(out, REPLACEMENT, 3);
    return 3;
  }
  if (c < 0x80) {
    out[0] = (char)c;
    return 1;
  }
  if (c < 0x800) {
    out[0] = (char)(0xC0 | (c >> 6));
    out[1] = (char)(0x80 | (c & 0x3F));
    return 2;
  }
  if (c < 0x10000) {
    out[0] = (char)(0xE0 | (c >> 12));
    out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[2] = (char)(0x80 | (c & 0x3F));
    return 3;
  }
  out[0] = (char)(0xF0 | (c >> 18));
  out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
  out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
  out[3] = (char)(0x80 | (c & 0x3F));
  return 4;
}

/* A numeric character reference ("&#65;", "&#x41;") of n bytes as UTF-8
 * into out (4 bytes). Returns the length, or 0 when s is not one. */
static size_t numeric_entity(const char *s, size_t n, char *out) {
  if (n < 4 || s[0] != '&' || s[1] != '#' || s[n - 1] != ';')
    return 0;
  int hex = s[2] == 'x' || s[2] == 'X';
  size_t i = hex ? 3 : 2;
  if (i >= n - 1)
    return 0;
  uint32_t c = 0;
  for (; i < n - 1; i++) {
    int d;
    char ch = s[i];
    if (ch >= '0' && ch <= '9')
      d = ch - '0';
    else if (hex && ch >= 'a' && ch <= 'f')
      d = ch - 'a' + 10;
    else if (hex && ch >= 'A' && ch <= 'F')
      d = ch - 'A' + 10;
    else
      return 0;
    c = c * (hex ? 16u : 10u) + (uint32_t)d;
    if (c > 0x10FFFF)
      c = 0x110000; /* stays out of range, never wraps */
  }
  return utf8_put(c, out);
}

/* A named reference ("&amp;") made only of letters and digits. */
static int named_entity(const char *s, size_t n) {
  if (n < 3 || s[0] != '&' || s[n - 1] != ';')
    return 0;
  for (size_t i = 1; i < n - 1; i++) {
    char c = s[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

/* An entity of the text. A numeric one is written as its character; a
 * named one as it is (the browser decodes it into text, and shows one it
 * does not know as written, as md4c-html does); anything else as text. */
static void put_entity(struct renderer *r, const char *s, size_t n) {
  char u[4];
  size_t k = numeric_entity(s, n, u);
  if (k) {
    if (k == 1)
      put_escaped(r, u, 1);
    else
      put(r, u, k);
  } else if (named_entity(s, n)) {
    put(r, s, n);
  } else {
    put_escaped(r, s, n);
  }
}

/* An attribute's text (a title, a code block's language), escaped. */
static void put_attr(struct renderer *r, const MD_ATTRIBUTE *a) {
  for (unsigned i = 0; a->substr_offsets[i] < a->size; i++) {
    const char *s = a->text + a->substr_offsets[i];
    size_t n = a->substr_offsets[i + 1] - a->substr_offsets[i];
    if (a->substr_types[i] == MD_TEXT_ENTITY)
      put_entity(r, s, n);
    else if (a->substr_types[i] == MD_TEXT_NULLCHAR)
      put_str(r, REPLACEMENT);
    else
      put_escaped(r, s, n);
  }
}

/* Named references that may spell a URL's characters; others are kept
 * as written (then their '&' is written as "&amp;": the URL checked is
 * still the URL the browser gets). */
static const struct {
  const char *name;
  const char *text;
} URL_ENTITIES[] = {
    {"amp", "&"},     {"lt", "<"},       {"gt", ">"},     {"quot", "\""},
    {"apos", "'"},    {"colon", ":"},    {"sol", "/"},    {"quest", "?"},
    {"num", "#"},     {"equals", "="},   {"percnt", "%"}, {"commat", "@"},
    {"period", "."},  {"comma", ","},    {"semi", ";"},   {"excl", "!"},
    {"plus", "+"},    {"lowbar", "_"},   {"Tab", "\t"},   {"NewLine", "\n"},
    {"nbsp", "\xC2\xA0"},
};

/* The target of a link or image as the browser will read it: references
 * decoded, then leading and trailing C0 controls and spaces dropped and
 * every tab and newline removed (the WHATWG URL parser does both). Into u;
 * 0, or -1 when it does not fit. */
static int url_of(const MD_ATTRIBUTE *a, struct buf *u) {
  struct buf raw;
  int rc = 0;
  buf_init(&raw, MAX_URL);
  for (unsigned i = 0; rc == 0 && a->substr_offsets[i] < a->size; i++) {
    const char *s = a->text + a->substr_offsets[i];
    size_t n = a->substr_offsets[i + 1] - a->substr_offsets[i];
    if (a->substr_types[i] == MD_TEXT_NULLCHAR) {
      rc = buf_append_str(&raw, REPLACEMENT);
    } else if (a->substr_types[i] == MD_TEXT_ENTITY) {
      char c[4];
      size_t k = numeric_entity(s, n, c);
      const char *text = NULL;
      for (size_t e = 0; !k && n > 2 &&
                         e < sizeof URL_ENTITIES / sizeof URL_ENTITIES[0];
           e++) {
        if (strlen(URL_ENTITIES[e].name) == n - 2 &&
            !memcmp(URL_ENTITIES[e].name, s + 1, n - 2))
          text = URL_ENTITIES[e].text;
      }
      rc = k ? buf_append(&raw, c, k)
           : text ? buf_append_str(&raw, text)
                  : buf_append(&raw, s, n);
    } else {
      rc = buf_append(&raw, s, n);
    }
  }
  size_t from = 0, to = raw.len;
  while (from < to && (unsigned char)raw.data[from] <= 0x20)
    from++;
  while (to > from && (unsigned char)raw.data[to - 1] <= 0x20)
    to--;
  for (size_t i = from; rc == 0 && i < to; i++) {
    char c = raw.data[i];
    if (c != '\t' && c != '\n' && c != '\r')
      rc = buf_append(u, &c, 1);
  }
  buf_release(&raw);
  return rc;
}

/* Whether a target (as url_of gives it) may be a link: an http, https or
 * mailto URL, or a fragment of this page. Everything else, relative paths
 * included, may not. */
static int url_allowed(const char *u, size_t n) {
  if (n == 0)
    return 0;
  if (u[0] == '#')
    return 1;
  /* a scheme is a letter, then letters, digits, '+', '-' or '.', then ':' */
  size_t i = 0;
  while (i < n && ((u[i] >= 'a' && u[i] <= 'z') ||
                   (u[i] >= 'A' && u[i] <= 'Z') ||
                   (i > 0 && ((u[i] >= '0' && u[i] <= '9') || u[i] == '+' ||
                              u[i] == '-' || u[i] == '.'))))
    i++;
  if (i == 0 || i == n || u[i] != ':')
    return 0;
  return (i == 4 && !strncasecmp(u, "http", 4)) ||
         (i == 5 && !strncasecmp(u, "https", 5)) ||
         (i == 6 && !strncasecmp(u, "mailto", 6));
}

/* An allowed target as an attribute value: what may stand in a URL as
 * itself, '&' as "&amp;", every other byte (controls, spaces, quotes,
 * '<', '>', non-ASCII) percent-encoded. */
static void put_url(struct renderer *r, const char *u, size_t n) {
  static const char keep[] = "-._~:/?#[]@!$()*+,;=%";
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)u[i];
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || (c && strchr(keep, c))) {
      put(r, (const char *)&c, 1);
    } else if (c == '&') {
      put_str(r, "&amp;");
    } else {
      char e[3] = {'%', hex[c >> 4], hex[c & 15]};
      put(r, e, 3);
    }
  }
}

/* Write ` href="..."` when the target is allowed; returns whether it was. */
static int put_href(struct renderer *r, const MD_ATTRIBUTE *target) {
  struct buf u;
  buf_init(&u, MAX_URL);
  int ok = url_of(target, &u) == 0 && url_allowed(u.data, u.len);
  if (ok) {
    put_str(r, " href=\"");
    put_url(r, u.data, u.len);
    put_str(r, "\"");
  }
  buf_release(&u);
  return ok;
}

static int enter_block(MD_BLOCKTYPE type, void *detail, void *cls) {
  struct renderer *r = cls;
  char tag[64];
  switch (type) {
  case MD_BLOCK_QUOTE:
    put_str(r, "<blockquote>\n");
    break;
  case MD_BLOCK_UL:
    put_str(r, "<ul>\n");
    break;
  case MD_BLOCK_OL: {
    const MD_BLOCK_OL_DETAIL *d = detail;
    if (d->start == 1) {
      put_str(r, "<ol>\n");
    } else {
      snprintf(tag, sizeof tag, "<ol start=\"%u\">\n", d->start);
      put_str(r, tag);
    }
    break;
  }
  case MD_BLOCK_LI: {
    const MD_BLOCK_LI_DETAIL *d = detail;
    if (d->is_task) {
      put_str(r, "<li class=\"task-list-item\"><input type=\"checkbox\" "
                 "class=\"task-list-item-checkbox\" disabled");
      put_str(r, d->task_mark == 'x' || d->task_mark == 'X' ? " checked>"
                                                            : ">");
    } else {
      put_str(r, "<li>");
    }
    break;
  }
  case MD_BLOCK_HR:
    put_str(r, "<hr>\n");
    break;
  case MD_BLOCK_H: {
    const MD_BLOCK_H_DETAIL *d = detail;
    snprintf(tag, sizeof tag, "<h%u>",
             d->level >= 1 && d->level <= 6 ? d->level : 6);
    put_str(r, tag);
    break;
  }
  case MD_BLOCK_CODE: {
    const MD_BLOCK_CODE_DETAIL *d = detail;
    put_str(r, "<pre><code");
    if (d->lang.size > 0) {
      put_str(r, " class=\"language-");
      put_attr(r, &d->lang);
      put_str(r, "\"");
    }
    put_str(r, ">");
    break;
  }
  case MD_BLOCK_P:
    put_str(r, "<p>");
    break;
  case MD_BLOCK_TABLE:
    put_str(r, "<table>\n");
    break;
  case MD_BLOCK_THEAD:
    put_str(r, "<thead>\n");
    break;
  case MD_BLOCK_TBODY:
    put_str(r, "<tbody>\n");
    break;
  case MD_BLOCK_TR:
    put_str(r, "<tr>\n");
    break;
  case MD_BLOCK_TH:
  case MD_BLOCK_TD: {
    const MD_BLOCK_TD_DETAIL *d = detail;
    put_str(r, type == MD_BLOCK_TH ? "<th" : "<td");
    put_str(r, d->align == MD_ALIGN_LEFT     ? " align=\"left\">"
               : d->align == MD_ALIGN_CENTER ? " align=\"center\">"
               : d->align == MD_ALIGN_RIGHT  ? " align=\"right\">"
                                             : ">");
    break;
  }
  default: /* the document; raw HTML blocks (disabled) */
    break;
  }
  return r->failed ? -1 : 0;
}

static int leave_block(MD_BLOCKTYPE type, void *detail, void *cls) {
  struct renderer *r = cls;
  const char *end = NULL;
  char tag[16];
  switch (type) {
  case MD_BLOCK_QUOTE: end = "</blockquote>\n"; break;
  case MD_BLOCK_UL: end = "</ul>\n"; break;
  case MD_BLOCK_OL: end = "</ol>\n"; break;
  case MD_BLOCK_LI: end = "</li>\n"; break;
  case MD_BLOCK_H: {
    const MD_BLOCK_H_DETAIL *d = detail;
    snprintf(tag, sizeof tag, "</h%u>\n",
             d->level >= 1 && d->level <= 6 ? d->level : 6);
    end = tag;
    break;
  }
  case MD_BLOCK_CODE: end = "</code></pre>\n"; break;
  case MD_BLOCK_P: end = "</p>\n"; break;
  case MD_BLOCK_TABLE: end = "</table>\n"; break;
  case MD_BLOCK_THEAD: end = "</thead>\n"; break;
  case MD_BLOCK_TBODY: end = "</tbody>\n"; break;
  case MD_BLOCK_TR: end = "</tr>\n"; break;
  case MD_BLOCK_TH: end = "</th>\n"; break;
  case MD_BLOCK_TD: end = "</td>\n"; break;
  default: /* the document, <hr>, raw HTML blocks */
    break;
  }
  if (end)
    put_str(r, end);
  return r->failed ? -1 : 0;
}

static int enter_span(MD_SPANTYPE type, void *detail, void *cls) {
  struct renderer *r = cls;
  if (type == MD_SPAN_A)
    r->links++;
  if (r->images > 0) {
    /* alt text: no markup */
    if (type == MD_SPAN_IMG)
      r->images++;
    return 0;
  }
  switch (type) {
  case MD_SPAN_EM: put_str(r, "<em>"); break;
  case MD_SPAN_STRONG: put_str(r, "<strong>"); break;
  case MD_SPAN_CODE: put_str(r, "<code>"); break;
  case MD_SPAN_DEL: put_str(r, "<del>"); break;
  case MD_SPAN_U: put_str(r, "<u>"); break;
  case MD_SPAN_A: {
    /* A link inside a link (an autolink in a link's text) adds no tag. */
    if (r->a_open)
      break;
    const MD_SPAN_A_DETAIL *d = detail;
    put_str(r, "<a");
    if (put_href(r, &d->href) && d->title.size > 0) {
      put_str(r, " title=\"");
      put_attr(r, &d->title);
      put_str(r, "\"");
    }
    put_str(r, ">");
    r->a_open = r->links;
    break;
  }
  case MD_SPAN_IMG: {
    const MD_SPAN_IMG_DETAIL *d = detail;
    r->images = 1;
    r->image_link = 0;
    if (!r->a_open) {
      /* decided before anything is written: see put_href */
      struct buf u;
      buf_init(&u, MAX_URL);
      r->image_link = url_of(&d->src, &u) == 0 && url_allowed(u.data, u.len);
      buf_release(&u);
    }
    if (r->image_link) {
      put_str(r, "<a class=\"md-image\"");
      put_href(r, &d->src);
      put_str(r, ">");
    } else {
      put_str(r, "<span class=\"md-image\">");
    }
    break;
  }
  default: /* LaTeX and wiki links are not enabled */
    break;
  }
  return r->failed ? -1 : 0;
}

static int leave_span(MD_SPANTYPE type, void *detail, void *cls) {
  struct renderer *r = cls;
  (void)detail;
  if (r->images > 0) {
    if (type == MD_SPAN_IMG && --r->images == 0)
      put_str(r, r->image_link ? "</a>" : "</span>");
    if (type == MD_SPAN_A)
      r->links--;
    return r->failed ? -1 : 0;
  }
  switch (type) {
  case MD_SPAN_EM: put_str(r, "</em>"); break;
  case MD_SPAN_STRONG: put_str(r, "</strong>"); break;
  case MD_SPAN_CODE: put_str(r, "</code>"); break;
  case MD_SPAN_DEL: put_str(r, "</del>"); break;
  case MD_SPAN_U: put_str(r, "</u>"); break;
  case MD_SPAN_A:
    if (r->a_open == r->links) {
      put_str(r, "</a>");
      r->a_open = 0;
    }
    r->links--;
    break;
  default:
    break;
  }
  return r->failed ? -1 : 0;
}

static int text(MD_TEXTTYPE type, const MD_CHAR *s, MD_SIZE n, void *cls) {
  struct renderer *r = cls;
  /* Text is mostly a piece of the input, sometimes md4c's own (the spaces
   * of an indented code line): only a piece of the input that runs into
   * the padding is cut. Addresses as integers: two objects may be
   * compared that way. */
  uintptr_t at = (uintptr_t)s, lo = (uintptr_t)r->in, hi = lo + r->in_len;
  if (at >= lo && at <= hi + INPUT_PAD && at + n > hi)
    n = at >= hi ? 0 : (MD_SIZE)(hi - at);
  switch (type) {
  case MD_TEXT_NULLCHAR:
    put_str(r, REPLACEMENT);
    break;
  case MD_TEXT_BR:
    put_str(r, r->images ? " " : "<br>\n");
    break;
  case MD_TEXT_SOFTBR:
    put_str(r, r->images ? " " : "\n");
    break;
  case MD_TEXT_ENTITY:
    put_entity(r, s, n);
    break;
  default: /* normal text, code, raw HTML (disabled: shown as text) */
    put_escaped(r, s, n);
    break;
  }
  return r->failed ? -1 : 0;
}

char *markdown_to_html(const char *md, size_t len) {
  struct renderer r;
  if (len > (MD_SIZE)-1 - INPUT_PAD)
    return NULL;
  char *in = calloc(1, len + INPUT_PAD);
  if (!in)
    return NULL;
  if (len)
    memcpy(in, md, len);
  memset(&r, 0, sizeof r);
  r.in = in;
  r.in_len = len;
  buf_init(&r.out, MAX_HTML);
  MD_PARSER parser = {
      .abi_version = 0,
      .flags = MD_DIALECT_GITHUB | MD_FLAG_NOHTML,
      .enter_block = enter_block,
      .leave_block = leave_block,
      .enter_span = enter_span,
      .leave_span = leave_span,
      .text = text,
  };
  /* the final append makes the result "" rather than NULL when empty */
  int rc = md_parse(in, (MD_SIZE)len, &parser, &r) != 0 || r.failed ||
           buf_append(&r.out, "", 0);
  free(in);
  if (rc) {
    buf_release(&r.out);
    return NULL;
  }
  return buf_steal(&r.out);
}
