/* Texts compared loosely (identical answers): white space collapsed and
 * trimmed, case folded for the scripts util/loose_text.h names, nothing
 * more. */
#include <string.h>

#include "check.h"
#include "util/loose_text.h"

static int same(const char *a, const char *b) {
  return text_same_loose(a, strlen(a), b, strlen(b));
}

int main(void) {
  /* white space: runs, ends, kinds, no-break space */
  CHECK(same("hello world", "hello world"));
  CHECK(same("  hello \t\n world\r\n", "hello world"));
  CHECK(same("hello\xC2\xA0world", "hello world"));
  CHECK(same("", "   \n\t"));
  CHECK(!same("helloworld", "hello world"));
  CHECK(!same("hello world", "hello world!"));
  CHECK(!same("a", ""));
  /* case: ASCII, Latin-1, Latin Extended-A, Greek, Cyrillic */
  CHECK(same("HELLO World", "hello world"));
  CHECK(same("CAF\xC3\x89 D\xC3\x89J\xC3\x80", "caf\xC3\xA9 d\xC3\xA9j\xC3\xA0"));
  CHECK(same("\xC5\x81\xC3\x93" "D\xC5\xB9", "\xC5\x82\xC3\xB3" "d\xC5\xBA")); /* ŁÓDŹ */
  CHECK(same("\xC4\x9E", "\xC4\x9F"));               /* Ğ ğ */
  CHECK(same("\xC5\xB8", "\xC3\xBF"));               /* Ÿ ÿ */
  CHECK(same("\xCE\xA3\xCE\x9F\xCE\xA6", "\xCF\x83\xCE\xBF\xCF\x86")); /* ΣΟΦ */
  CHECK(same("\xD0\x9F\xD0\xA0\xD0\x98", "\xD0\xBF\xD1\x80\xD0\xB8")); /* ПРИ */
  CHECK(same("\xD0\x81", "\xD1\x91"));               /* Ё ё */
  CHECK(!same("\xC3\x97", "\xC3\xB7"));              /* × is not ÷ */
  CHECK(!same("\xC3\x9F", "ss"));                    /* no ß to ss */
  CHECK(!same("\xC3\xA9", "e"));                     /* accents stay */
  /* invalid bytes compare as themselves, and never as a code point */
  CHECK(same("a\xFF" "b", "A\xFF" "B"));
  CHECK(!same("a\xFF", "a\xFE"));
  CHECK(!same("\xC3", "\xC3\xA9"));
  /* lengths are the caller's: bytes past them do not count */
  CHECK(text_same_loose("abcX", 3, "ABCY", 3));
  CHECK(!text_same_loose("abc", 3, "ab", 2));
  return check_done("test_loose_text");
}
