#include "tag/language.h"

#include <string.h>

#include "tag/cld2_shim.h"

/* CLD2 reads at most this much: the language of a long prompt shows in
 * its first 64 KiB. */
#define LANG_MAX_BYTES 65536

void detect_language(const char *text, size_t len, char out[8]) {
  int reliable = 0;
  if (len > LANG_MAX_BYTES) {
    len = LANG_MAX_BYTES; /* back to the start of a character */
    while (len > 0 && ((unsigned char)text[len] & 0xC0) == 0x80)
      len--;
  }
  const char *code = len ? agon_cld2_detect(text, (int)len, &reliable) : "un";
  if (!reliable || !code || strcmp(code, "un") == 0 ||
      strcmp(code, "xx") == 0 || strlen(code) > 7) {
    strcpy(out, "und");
    return;
  }
  /* "zh-Hant" and the like: the language is the part before '-' */
  size_t n = strcspn(code, "-_");
  memcpy(out, code, n);
  out[n] = '\0';
}
