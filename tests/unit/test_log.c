/* The log's escaping: nothing in a message can start a line, quoted
 * values stay quoted, long lines are cut and say so. */
#include "check.h"
#include "util/log.h"

static const char *escaped(const char *msg, size_t size) {
  static char out[4096];
  size_t used = 0;
  log_escape_append(out, size, &used, msg, strlen(msg), 0);
  CHECK(used == strlen(out));
  return out;
}

static const char *quoted(const char *s, size_t size) {
  static char out[4096];
  return log_quote(out, size, s);
}

int main(void) {
  /* control characters, DEL, C1 controls and invalid UTF-8 as \xNN */
  CHECK_STR(escaped("path=\"/\nlevel=error msg=forged\"", 4096),
            "path=\"/\\x0alevel=error msg=forged\"");
  CHECK_STR(escaped("a\r\tb\x1b[31m\x7f" "c", 4096),
            "a\\x0d\\x09b\\x1b[31m\\x7fc");
  CHECK_STR(escaped("nel \xc2\x85 csi \xc2\x9b", 4096),
            "nel \\xc2\\x85 csi \\xc2\\x9b");
  CHECK_STR(escaped("bad \xff\xfe, cut \xe2\x82, overlong \xc0\xaf", 4096),
            "bad \\xff\\xfe, cut \\xe2\\x82, overlong \\xc0\\xaf");
  CHECK_STR(escaped("surrogate \xed\xa0\x80", 4096),
            "surrogate \\xed\\xa0\\x80");
  /* valid UTF-8 is kept, and so are quotes outside log_quote */
  CHECK_STR(escaped("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0 \"q\" \\",
                    4096),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0 \"q\" \\");

  /* a cut message ends in "...", never inside an escape or a character */
  CHECK_STR(escaped("abcdefghij", 11), "abcdefghij");
  CHECK_STR(escaped("abcdefghijk", 11), "abcdefg...");
  CHECK_STR(escaped("ab\ncdefghijk", 11), "ab\\x0ac...");
  CHECK_STR(escaped("abcde\n", 11), "abcde\\x0a");
  CHECK_STR(escaped("abcdefg\n", 11), "abcdefg...");
  CHECK_STR(escaped("abcd\xe2\x82\xac\xe2\x82\xacx", 11),
            "abcd\xe2\x82\xac...");
  {
    /* the caller says the message itself was cut */
    char out[64];
    size_t used = 0;
    log_escape_append(out, sizeof out, &used, "abc", 3, 1);
    CHECK_STR(out, "abc...");
    /* appending after a prefix, which is kept */
    memcpy(out, "ts=1 ", 6);
    used = 5;
    log_escape_append(out, 12, &used, "x\ny\nz", 5, 0);
    CHECK_STR(out, "ts=1 x...");
    CHECK(used == 9);
  }
  {
    /* a long line of newlines stays within the bound */
    char msg[3000];
    memset(msg, '\n', sizeof msg - 1);
    msg[sizeof msg - 1] = '\0';
    char out[LOG_LINE_MAX];
    size_t used = 0;
    log_escape_append(out, sizeof out, &used, msg, strlen(msg), 0);
    CHECK(used <= LOG_LINE_MAX - 1);
    CHECK(used >= LOG_LINE_MAX - 8);
    CHECK(!strchr(out, '\n'));
    CHECK(!strcmp(out + used - 3, "..."));
    CHECK(!strncmp(out + used - 7, "\\x0a", 4));
  }

  /* log_quote: quotes and backslashes too */
  CHECK_STR(quoted("/a\"b\\c\nd", 64), "/a\\\"b\\\\c\\x0ad");
  CHECK_STR(quoted("x\" level=error msg=\"forged", 64),
            "x\\\" level=error msg=\\\"forged");
  CHECK_STR(quoted(NULL, 64), "(null)");
  CHECK_STR(quoted("", 64), "");
  CHECK_STR(quoted("abcdefgh\"x", 11), "abcdefg...");
  CHECK_STR(quoted("abcdefghi\"", 11), "abcdefg...");
  CHECK_STR(quoted("abcdefg\"", 11), "abcdefg\\\"");
  {
    /* the macro's buffer lives to the end of the block */
    const char *a = log_q("one\"");
    const char *b = log_q("two\n");
    CHECK_STR(a, "one\\\"");
    CHECK_STR(b, "two\\x0a");
  }
  return check_done("test_log");
}
