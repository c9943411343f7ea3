#include "util/log.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/lograte.h"
#include "util/clock.h"
#include "util/utf8.h"

#define LOG_WINDOW_MS 1000

static struct lograte limiter = LOGRATE_INITIALIZER(LOG_BURST, LOG_WINDOW_MS);

/* The next character of s (n > 0 bytes left) as it is written to the log:
 * its text in unit (at most 8 bytes) and the length of that returned, the
 * bytes of s it stands for in *take. With quote, '"' and '\' are escaped
 * as well. */
static size_t escape_unit(const char *s, size_t n, int quote, char unit[8],
                          size_t *take) {
  static const char hex[] = "0123456789abcdef";
  unsigned char c = (unsigned char)s[0];
  size_t len = utf8_char_len(s, n);
  int c1 = len == 2 && c == 0xC2 && (unsigned char)s[1] < 0xA0;
  if (!len || c < 0x20 || c == 0x7f || c1) {
    /* a C1 control is two bytes, both written as \xNN */
    size_t k = c1 ? 2 : 1;
    for (size_t i = 0; i < k; i++) {
      unsigned char b = (unsigned char)s[i];
      unit[4 * i] = '\\';
      unit[4 * i + 1] = 'x';
      unit[4 * i + 2] = hex[b >> 4];
      unit[4 * i + 3] = hex[b & 15];
    }
    *take = k;
    return 4 * k;
  }
  *take = len;
  if (quote && (c == '"' || c == '\\')) {
    unit[0] = '\\';
    unit[1] = (char)c;
    return 2;
  }
  memcpy(unit, s, len);
  return len;
}

/* Append msg escaped to out; see log_escape_append. */
static void escape_append(char *out, size_t size, size_t *used,
                          const char *msg, size_t len, int quote, int cut) {
  if (*used >= size)
    return;
  size_t limit = size - 1;    /* bytes of text out can hold */
  size_t mark = *used;        /* the last end after which "..." fits */
  size_t i = 0;
  while (i < len) {
    char unit[8];
    size_t take;
    size_t ul = escape_unit(msg + i, len - i, quote, unit, &take);
    if (*used + ul > limit) {
      cut = 1;
      break;
    }
    memcpy(out + *used, unit, ul);
    *used += ul;
    if (*used + 3 <= limit)
      mark = *used;
    i += take;
  }
  if (cut) {
    *used = mark;
    if (*used + 3 <= limit) {
      memcpy(out + *used, "...", 3);
      *used += 3;
    }
  }
  out[*used] = '\0';
}

void log_escape_append(char *out, size_t size, size_t *used, const char *msg,
                       size_t len, int cut) {
  escape_append(out, size, used, msg, len, 0, cut);
}

const char *log_quote(char *out, size_t size, const char *s) {
  size_t used = 0;
  if (!size)
    return out;
  if (!s)
    s = "(null)";
  escape_append(out, size, &used, s, strlen(s), 1, 0);
  return out;
}

/* Write "ts=... level=LEVEL " and msg, escaped, as one line. */
static void write_line(const char *level, const char *msg, size_t len,
                       int cut) {
  char line[LOG_LINE_MAX];
  char ts[32];
  format_rfc3339(now_ms(), ts);
  int n = snprintf(line, sizeof line, "ts=%s level=%s ", ts, level);
  if (n < 0 || (size_t)n >= sizeof line)
    return;
  size_t used = (size_t)n;
  log_escape_append(line, sizeof line, &used, msg, len, cut);
  line[used++] = '\n';  /* in place of the NUL: at most LOG_LINE_MAX */
  ssize_t w = write(STDERR_FILENO, line, used);
  (void)w;
}

/* What a run of dropped lines is reported "like": the value of the
 * msg="..." they start with, as it was written (its quotes and
 * backslashes already escaped), else the whole line. */
static const char *label_of(const char *msg) {
  return strncmp(msg, "msg=\"", 5) ? msg : msg + 5;
}

/* The label, cut where its msg value ends and never in an escape. */
static void label_trim(char *label) {
  size_t n = 0;
  while (label[n] && label[n] != '"') {
    if (label[n] == '\\') {
      if (!label[n + 1])
        break;
      n++;
    }
    n++;
  }
  label[n] = '\0';
}

static void report_due(int64_t now, int all) {
  struct lograte_report r;
  while (lograte_take(&limiter, now, all, &r)) {
    char msg[LOG_LINE_MAX];
    label_trim(r.label);
    int m = snprintf(msg, sizeof msg,
                     "msg=\"%llu similar suppressed\" like=\"%s\"",
                     (unsigned long long)r.suppressed, r.label);
    if (m < 0)
      continue;
    int cut = (size_t)m >= sizeof msg;
    write_line(r.tag ? r.tag : "warn", msg, cut ? sizeof msg - 1 : (size_t)m,
               cut);
  }
}

__attribute__((format(printf, 3, 0))) static void
log_vmsg(uintptr_t key, const char *level, const char *fmt, va_list ap) {
  char msg[LOG_LINE_MAX];
  int m = vsnprintf(msg, sizeof msg, fmt, ap);
  if (m < 0)
    return;
  int cut = (size_t)m >= sizeof msg;
  size_t len = cut ? sizeof msg - 1 : (size_t)m;
  int64_t now = mono_ms();
  report_due(now, 0);
  if (key && !lograte_check(&limiter, key, level, label_of(msg), now))
    return;
  write_line(level, msg, len, cut);
}

void log_msg(const char *level, const char *fmt, ...) {
  /* info lines (one per request, per upstream call) are all kept */
  uintptr_t key = strcmp(level, "info") ? (uintptr_t)fmt : 0;
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(key, level, fmt, ap);
  va_end(ap);
}

void log_msg_keyed(uintptr_t key, const char *level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_vmsg(key, level, fmt, ap);
  va_end(ap);
}

void log_flush(int all) {
  report_due(mono_ms(), all);
}
