#include "util/redact.h"

#include <string.h>
#include <strings.h>

#include "util/utf8.h"

/* Pieces of the secret shorter than this, cut off at an end of the text,
 * are left alone (the whole secret always goes). */
#define SECRET_PIECE_MIN 8
/* A token after a key/token/secret word is taken out from this length. */
#define KEYWORD_TOKEN_MIN 32
/* A known key prefix must be followed by at least this much of a key. */
#define SHAPE_TOKEN_MIN 8

/* Field and header names whose value is a credential. */
static const char *const credential_names[] = {
    "authorization", "api-key", "api_key", "apikey",
};

/* Prefixes of common API key formats, case-sensitive. */
static const char *const key_prefixes[] = {
    "sk-", "sk_", "hf_", "gsk_", "xai-", "pplx-", "nvapi-", "AIza", "ghp_",
    "github_pat_",
};

/* Words after which a long token is taken for a credential. */
static const char *const key_words[] = {"key", "token", "secret"};

struct excerpt {
  char *p;
  size_t limit;   /* bytes of text out can hold (size - 1) */
  size_t used;
  size_t mark;    /* the last end after which "..." still fits */
  int full;
  int in_space;   /* the last thing written stands for control chars */
};

static void put(struct excerpt *o, const char *s, size_t n) {
  if (o->full)
    return;
  if (o->used + n > o->limit) {
    o->full = 1;
    return;
  }
  memcpy(o->p + o->used, s, n);
  o->used += n;
  if (o->used + 3 <= o->limit)
    o->mark = o->used;
}

/* Write the character at text[i], sanitized; returns the bytes it took. */
static size_t put_char(struct excerpt *o, const char *text, size_t len,
                       size_t i) {
  unsigned char c = (unsigned char)text[i];
  size_t n = utf8_char_len(text + i, len - i);
  int c1 = n == 2 && c == 0xC2 && (unsigned char)text[i + 1] < 0xA0;
  if (n && (c < 0x20 || c == 0x7f || c1)) {
    if (!o->in_space)
      put(o, " ", 1);
    o->in_space = 1;
    return n;
  }
  o->in_space = 0;
  if (!n) {
    put(o, "\xEF\xBF\xBD", 3);  /* U+FFFD */
    return 1;
  }
  put(o, text + i, n);
  return n;
}

static void put_plain(struct excerpt *o, const char *text, size_t len,
                      size_t from, size_t to) {
  while (from < to && !o->full)
    from += put_char(o, text, len, from);
}

static int is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z');
}

static int word_start(const char *text, size_t i) {
  return i == 0 || !is_alnum((unsigned char)text[i - 1]);
}

static int starts_with(const char *text, size_t len, size_t i, const char *w,
                       int nocase) {
  size_t n = strlen(w);
  if (len - i < n)
    return 0;
  return nocase ? !strncasecmp(text + i, w, n) : !memcmp(text + i, w, n);
}

/* Bytes from i on that are in set (or alnum, with alnum). */
static size_t span_of(const char *text, size_t len, size_t i, int alnum,
                      const char *set, size_t max) {
  size_t j = i;
  while (j < len && j - i < max &&
         ((alnum && is_alnum((unsigned char)text[j])) ||
          (text[j] && strchr(set, text[j]))))
    j++;
  return j - i;
}

/* Bytes from i on that are not in stop (and not NUL). */
static size_t span_until(const char *text, size_t len, size_t i,
                         const char *stop) {
  size_t j = i;
  while (j < len && text[j] && !strchr(stop, text[j]))
    j++;
  return j - i;
}

#define SEPARATORS " \t\"'\\"
#define TOKEN_CHARS "-._~+/="
#define KEY_CHARS "_-"

/* "Authorization: VALUE", "\"api_key\": \"VALUE\"", "apikey=VALUE". */
static int match_credential_field(const char *text, size_t len, size_t i,
                                  size_t *keep, size_t *skip) {
  if (!word_start(text, i))
    return 0;
  for (size_t k = 0; k < sizeof credential_names / sizeof *credential_names;
       k++) {
    if (!starts_with(text, len, i, credential_names[k], 1))
      continue;
    size_t j = i + strlen(credential_names[k]);
    j += span_of(text, len, j, 0, SEPARATORS, 4);
    if (j >= len || (text[j] != ':' && text[j] != '='))
      return 0;
    j++;
    j += span_of(text, len, j, 0, SEPARATORS, 4);
    size_t v = span_until(text, len, j, "\r\n\"'\\,;&<>)]}");
    if (!v)
      return 0;
    *keep = j - i;
    *skip = v;
    return 1;
  }
  return 0;
}

/* "Bearer TOKEN" */
static int match_bearer(const char *text, size_t len, size_t i, size_t *keep,
                        size_t *skip) {
  if (!word_start(text, i) || !starts_with(text, len, i, "bearer", 1))
    return 0;
  size_t j = i + 6;
  size_t ws = span_of(text, len, j, 0, " \t", 8);
  if (!ws)
    return 0;
  j += ws;
  size_t t = span_of(text, len, j, 1, TOKEN_CHARS, (size_t)-1);
  if (!t)
    return 0;
  *keep = j - i;
  *skip = t;
  return 1;
}

/* "sk-proj-...", "hf_...", "AIza..." */
static int match_key_shape(const char *text, size_t len, size_t i,
                           size_t *keep, size_t *skip) {
  if (i > 0 && (is_alnum((unsigned char)text[i - 1]) ||
                (text[i - 1] && strchr(KEY_CHARS, text[i - 1]))))
    return 0;
  for (size_t k = 0; k < sizeof key_prefixes / sizeof *key_prefixes; k++) {
    if (!starts_with(text, len, i, key_prefixes[k], 0))
      continue;
    size_t p = strlen(key_prefixes[k]);
    size_t t = span_of(text, len, i + p, 1, KEY_CHARS, (size_t)-1);
    if (t < SHAPE_TOKEN_MIN)
      continue;
    *keep = p;
    *skip = t;
    return 1;
  }
  return 0;
}

/* "access_token": "<32+ characters>", "secretKey=<...>" */
static int match_keyword_token(const char *text, size_t len, size_t i,
                               size_t *keep, size_t *skip) {
  for (size_t k = 0; k < sizeof key_words / sizeof *key_words; k++) {
    if (!starts_with(text, len, i, key_words[k], 1))
      continue;
    size_t j = i + strlen(key_words[k]);
    /* the rest of the word: "tokens", "key_id", "secretValue" */
    j += span_of(text, len, j, 0,
                 "_-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 16);
    size_t sep = span_of(text, len, j, 0, SEPARATORS ":=", 8);
    if (!sep)
      continue;
    j += sep;
    size_t t = span_of(text, len, j, 1, "+/=_.-", (size_t)-1);
    if (t < KEYWORD_TOKEN_MIN)
      continue;
    *keep = j - i;
    *skip = t;
    return 1;
  }
  return 0;
}

/* The secret itself at i, or a piece of it cut off by either end of the
 * text. */
static int match_secret(const char *text, size_t len, size_t i,
                        const char *secret, size_t slen, size_t *skip) {
  if (!slen)
    return 0;
  if (len - i >= slen && !memcmp(text + i, secret, slen)) {
    *skip = slen;
    return 1;
  }
  size_t left = len - i;
  if (left >= SECRET_PIECE_MIN && left < slen &&
      !memcmp(text + i, secret, left)) {
    *skip = left;  /* the head of the secret ends the text */
    return 1;
  }
  if (i == 0) {
    /* the tail of the secret starts the text: the longest one */
    for (size_t n = slen - 1; n >= SECRET_PIECE_MIN && n > 0; n--) {
      if (n <= len && !memcmp(text, secret + slen - n, n)) {
        *skip = n;
        return 1;
      }
    }
  }
  return 0;
}

/* Where a redaction starts at i: keep bytes of text are written as they
 * are, the skip bytes after them replaced. */
static int match_at(const char *text, size_t len, size_t i,
                    const char *secret, size_t slen, size_t *keep,
                    size_t *skip) {
  *keep = 0;
  if (match_secret(text, len, i, secret, slen, skip))
    return 1;
  return match_credential_field(text, len, i, keep, skip) ||
         match_bearer(text, len, i, keep, skip) ||
         match_key_shape(text, len, i, keep, skip) ||
         match_keyword_token(text, len, i, keep, skip);
}

/* The end of a redacted span [from, to), moved past an occurrence of the
 * secret that starts inside it and goes on after it. */
static size_t cover_secret(const char *text, size_t len, size_t from,
                           size_t to, const char *secret, size_t slen) {
  if (!slen)
    return to;
  for (size_t p = from; p < to; p++)
    if (p + slen > to && p + slen <= len && !memcmp(text + p, secret, slen))
      to = p + slen;
  return to;
}

size_t redact_excerpt(const char *text, size_t len, const char *secret,
                      char *out, size_t size) {
  struct excerpt o = {.p = out, .limit = size ? size - 1 : 0};
  size_t slen = secret ? strlen(secret) : 0;
  size_t i = 0;
  if (!size)
    return 0;
  while (i < len && !o.full) {
    size_t keep, skip;
    if (match_at(text, len, i, secret, slen, &keep, &skip)) {
      size_t end = cover_secret(text, len, i, i + keep + skip, secret, slen);
      put_plain(&o, text, len, i, i + keep);
      put(&o, REDACTED, sizeof REDACTED - 1);
      o.in_space = 0;
      i = end;
      continue;
    }
    i += put_char(&o, text, len, i);
  }
  if (o.full) {
    o.used = o.mark;
    o.full = 0;
    put(&o, "...", 3);
  }
  out[o.used] = '\0';
  return o.used;
}
