/* JSON lines read into a task's docs (data.h). */
#include "bench/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/digest.h"

void bench_docs_free(struct bench_doc *d, size_t n) {
  if (!d)
    return;
  for (size_t i = 0; i < n; i++)
    bench_doc_release(&d[i]);
  free(d);
}

/* The whole file, NUL-terminated, in *out (*len bytes). */
static int slurp(const char *path, char **out, size_t *len, char *err,
                 size_t errlen) {
  FILE *f = fopen(path, "rb");
  char *data = NULL;
  size_t cap = 0, n = 0;
  if (!f) {
    snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
    return -1;
  }
  for (;;) {
    if (cap - n < 65536 + 1) {
      size_t ncap = cap ? cap * 2 : 1u << 20;
      char *p = ncap <= BENCH_MAX_FILE + 65536u + 1 ? realloc(data, ncap)
                                                     : NULL;
      if (!p) {
        snprintf(err, errlen, "cannot read '%s': %s", path,
                 ncap > BENCH_MAX_FILE ? "larger than 1 GiB"
                                       : "out of memory");
        goto fail;
      }
      data = p;
      cap = ncap;
    }
    size_t got = fread(data + n, 1, 65536, f);
    n += got;
    if (got < 65536) {
      if (ferror(f)) {
        snprintf(err, errlen, "cannot read '%s': %s", path, strerror(errno));
        goto fail;
      }
      break;
    }
  }
  fclose(f);
  data[n] = '\0';
  *out = data;
  *len = n;
  return 0;
fail:
  fclose(f);
  free(data);
  return -1;
}

static int blank(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
      return 0;
  return 1;
}

int bench_data_load(const struct bench_task *t, const char *path,
                    struct bench_doc **docs, size_t *n, char sha256[65],
                    char *err, size_t errlen) {
  char *data = NULL;
  size_t len, count = 0, cap = 0, line = 0;
  struct bench_doc *d = NULL;
  char why[256];
  if (slurp(path, &data, &len, err, errlen))
    return -1;
  if (sha256_hex(data, len, sha256)) {
    snprintf(err, errlen, "cannot read '%s': cannot hash it", path);
    goto fail;
  }
  for (size_t pos = 0; pos < len;) {
    const char *s = data + pos;
    const char *nl = memchr(s, '\n', len - pos);
    size_t l = nl ? (size_t)(nl - s) : len - pos;
    pos += l + (nl ? 1 : 0);
    line++;
    if (blank(s, l))
      continue;
    if (l > BENCH_MAX_LINE) {
      snprintf(err, errlen, "%s:%zu: the line is longer than %u bytes", path,
               line, BENCH_MAX_LINE);
      goto fail;
    }
    json_error_t je;
    json_t *o = json_loadb(s, l, JSON_REJECT_DUPLICATES, &je);
    if (!o || !json_is_object(o)) {
      if (o)
        snprintf(err, errlen, "%s:%zu: not a JSON object", path, line);
      else
        snprintf(err, errlen, "%s:%zu: not JSON (%.200s, column %d)", path,
                 line, je.text, je.column);
      json_decref(o);
      goto fail;
    }
    if (count == cap) {
      size_t ncap = cap ? cap * 2 : 256;
      struct bench_doc *p = realloc(d, ncap * sizeof *p);
      if (!p) {
        json_decref(o);
        snprintf(err, errlen, "%s:%zu: out of memory", path, line);
        goto fail;
      }
      d = p;
      cap = ncap;
    }
    memset(&d[count], 0, sizeof d[count]);
    d[count].line = line;
    d[count].raw = o;
    if (t->parse(o, &d[count], why, sizeof why)) {
      snprintf(err, errlen, "%s:%zu: %s: %s (expected the fields %s)", path,
               line, t->name, why, t->fields);
      bench_doc_release(&d[count]);
      goto fail;
    }
    count++;
  }
  if (!count) {
    snprintf(err, errlen, "%s: no items in it", path);
    goto fail;
  }
  free(data);
  *docs = d;
  *n = count;
  return 0;
fail:
  free(data);
  bench_docs_free(d, count);
  return -1;
}
