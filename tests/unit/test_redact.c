/* Excerpts of upstream text: keys out, control characters and invalid
 * UTF-8 replaced, bounded. */
#include "check.h"
#include "util/redact.h"

#define KEY "sk-test-0123456789abcdefghijKLMNOP"

static const char *ex(const char *text, const char *secret, size_t size) {
  static char out[1024];
  size_t n = redact_excerpt(text, strlen(text), secret, out, size);
  CHECK(n == strlen(out));
  CHECK(n < size);
  return out;
}

static const char *exn(const char *text, size_t len, const char *secret) {
  static char out[1024];
  redact_excerpt(text, len, secret, out, sizeof out);
  return out;
}

int main(void) {
  /* plain text is kept, UTF-8 too */
  CHECK_STR(ex("upstream overloaded, caf\xc3\xa9 \xe2\x82\xac", NULL, 300),
            "upstream overloaded, caf\xc3\xa9 \xe2\x82\xac");
  CHECK_STR(ex("", NULL, 300), "");

  /* the model's own key, wherever it is and whatever its shape */
  CHECK_STR(ex("you sent zq81-PLAIN-key!? twice: zq81-PLAIN-key!?", "zq81-PLAIN-key!?", 300),
            "you sent [redacted] twice: [redacted]");
  CHECK_STR(ex("xx" KEY "yy", KEY, 300), "xx[redacted]yy");
  /* a piece of it cut off by the end (or start) of what was kept */
  CHECK_STR(ex("the key was sk-test-012345", KEY, 300), "the key was [redacted]");
  CHECK_STR(ex("ghijKLMNOP is the end", KEY, 300), "[redacted] is the end");
  CHECK_STR(ex("short sk-te", KEY, 300), "short sk-te");  /* under 8 bytes */

  /* Authorization headers and fields, in the forms an echo takes */
  CHECK_STR(ex("Authorization: Bearer abc.def-ghi\r\nHost: x", NULL, 300),
            "Authorization: [redacted] Host: x");
  CHECK_STR(ex("{\"authorization\": \"Basic dXNlcjpwYXNz\", \"host\": \"x\"}", NULL, 300),
            "{\"authorization\": \"[redacted]\", \"host\": \"x\"}");
  CHECK_STR(ex("{'Authorization': 'Bearer zz'}", NULL, 300),
            "{'Authorization': '[redacted]'}");
  CHECK_STR(ex("\"{\\\"Authorization\\\": \\\"Bearer zz\\\"}\"", NULL, 300),
            "\"{\\\"Authorization\\\": \\\"[redacted]\\\"}\"");
  CHECK_STR(ex("refused (Authorization: Bearer zz); try again", NULL, 300),
            "refused (Authorization: [redacted]); try again");
  CHECK_STR(ex("Proxy-Authorization: Digest u=1", NULL, 300),
            "Proxy-Authorization: [redacted]");
  CHECK_STR(ex("x-api-key: abc123; api_key=zzz&b=1 apikey = q", NULL, 300),
            "x-api-key: [redacted]; api_key=[redacted]&b=1 apikey = [redacted]");
  /* the word without a value is only a word */
  CHECK_STR(ex("authorization failed: check your api-key", NULL, 300),
            "authorization failed: check your api-key");

  /* Bearer tokens anywhere */
  CHECK_STR(ex("got bearer  tok_123/+= instead", NULL, 300),
            "got bearer  [redacted] instead");
  CHECK_STR(ex("Bearer", NULL, 300), "Bearer");

  /* common key shapes: the prefix stays */
  CHECK_STR(ex("Incorrect API key provided: sk-proj-AbCdEf0123456789xyz.", NULL, 300),
            "Incorrect API key provided: sk-[redacted].");
  CHECK_STR(ex("keys hf_abcdefghijklmnop and AIzaSyA1234567890abcdefg", NULL, 300),
            "keys hf_[redacted] and AIza[redacted]");
  CHECK_STR(ex("task-runner sk-short sk-learn", NULL, 300),
            "task-runner sk-short sk-learn");

  /* long tokens after a key/token/secret word */
  CHECK_STR(ex("{\"access_token\": \"0123456789abcdef0123456789abcdef01\"}", NULL, 300),
            "{\"access_token\": \"[redacted]\"}");
  CHECK_STR(ex("secretKey=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo+/= end", NULL, 300),
            "secretKey=[redacted] end");
  CHECK_STR(ex("token: 0123456789abcdef (short)", NULL, 300),
            "token: 0123456789abcdef (short)");
  CHECK_STR(ex("max_tokens: 1024", NULL, 300), "max_tokens: 1024");

  /* control characters become one space a run, invalid UTF-8 U+FFFD */
  CHECK_STR(ex("line one\r\n\r\nline two\tend\x1b[31m\x7f", NULL, 300),
            "line one line two end [31m ");
  CHECK_STR(ex("bad \xff\xfe cut \xe2\x82 nel \xc2\x85!", NULL, 300),
            "bad \xef\xbf\xbd\xef\xbf\xbd cut \xef\xbf\xbd\xef\xbf\xbd nel  !");
  CHECK_STR(exn("nul\0byte", 8, NULL), "nul byte");
  CHECK_STR(exn("a\0sk-abcdefghijkl", 17, NULL), "a sk-[redacted]");

  /* bounded: cut before a character, "..." at the end */
  CHECK_STR(ex("abcdefghij", NULL, 11), "abcdefghij");
  CHECK_STR(ex("abcdefghijk", NULL, 11), "abcdefg...");
  CHECK_STR(ex("abcd\xe2\x82\xac\xe2\x82\xacx", NULL, 11), "abcd\xe2\x82\xac...");
  /* the marker is never split, and a key past the cut leaves nothing */
  CHECK_STR(ex("abcdef" KEY, KEY, 11), "abcdef...");
  CHECK_STR(ex("ab " KEY " and more", KEY, 17), "ab [redacted]...");
  {
    /* a key across the cut of a long body */
    char body[2000];
    memset(body, 'a', sizeof body);
    memcpy(body + 290, KEY, strlen(KEY));
    char out[301];
    size_t n = redact_excerpt(body, sizeof body, KEY, out, sizeof out);
    CHECK(n <= 300);
    CHECK(strstr(out, "sk-test") == NULL);
    CHECK(strstr(out, "sk-te") == NULL);
    CHECK(!strcmp(out + n - 3, "..."));
  }
  {
    /* a key shape that runs into the secret: the whole secret goes */
    const char *secret = "abc.SECRET.tail";
    CHECK_STR(ex("sk-abcdefghijklmnop" "abc.SECRET.tail!", secret, 300),
              "sk-[redacted]!");
  }
  return check_done("test_redact");
}
