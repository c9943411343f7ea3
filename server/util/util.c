#include "util/util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

double mono_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void format_rfc3339(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void format_rfc3339_ms(int64_t ms, char out[32]) {
  time_t t = (time_t)(ms / 1000);
  struct tm tm;
  gmtime_r(&t, &tm);
  char base[24];
  strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

int random_hex(char *out, size_t nbytes) {
  unsigned char raw[64];
  static const char hex[] = "0123456789abcdef";
  if (nbytes > sizeof raw)
    return -1;
  size_t got = 0;
  while (got < nbytes) {
    ssize_t n = getrandom(raw + got, nbytes - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    got += (size_t)n;
  }
  for (size_t i = 0; i < nbytes; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[2 * nbytes] = '\0';
  return 0;
}

size_t utf8_length(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

size_t utf8_char_len(const char *s, size_t n) {
  const unsigned char *p = (const unsigned char *)s;
  size_t len;
  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    len = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    len = 3;
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    len = 4;
  else
    return 0;
  if (n < len)
    return 0;
  for (size_t i = 1; i < len; i++)
    if ((p[i] & 0xC0) != 0x80)
      return 0;
  if ((p[0] == 0xE0 && p[1] < 0xA0) ||  /* overlong */
      (p[0] == 0xED && p[1] > 0x9F) ||  /* a surrogate */
      (p[0] == 0xF0 && p[1] < 0x90) ||  /* overlong */
      (p[0] == 0xF4 && p[1] > 0x8F))    /* beyond U+10FFFF */
    return 0;
  return len;
}

int utf8_valid(const char *s, size_t len) {
  size_t i = 0;
  while (i < len) {
    size_t n = utf8_char_len(s + i, len - i);
    if (!n)
      return 0;
    i += n;
  }
  return 1;
}
