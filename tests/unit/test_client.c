/* Who the client is: the peer, or the X-Forwarded-For hops a trusted proxy
 * vouches for, read from the right; what a client writes itself (the
 * leftmost hops) never counts past the first hop it did not write. */
#include "check.h"
#include "http/client.h"

static char *proxies[] = {"10.0.0.1", "10.0.0.2", "fd00::1"};
#define N_PROXIES (sizeof proxies / sizeof *proxies)

/* with the X-Forwarded-For field lines xff[0..n) */
static const char *who_n(const char *peer, const char *const *xff,
                         size_t n) {
  static char out[64];
  memset(out, 'x', sizeof out);
  client_address(peer, xff, n, proxies, N_PROXIES, out, sizeof out);
  return out;
}

/* with one line, or none when xff is NULL */
static const char *who(const char *peer, const char *xff) {
  return who_n(peer, &xff, xff ? 1 : 0);
}

int main(void) {
  /* an untrusted peer is the client, whatever it says */
  CHECK_STR(who("203.0.113.5", NULL), "203.0.113.5");
  CHECK_STR(who("203.0.113.5", "198.51.100.9"), "203.0.113.5");
  CHECK_STR(who("203.0.113.5", "10.0.0.1"), "203.0.113.5");
  CHECK_STR(who("unknown", "198.51.100.9"), "unknown");
  /* a proxy is trusted for its exact address only */
  CHECK_STR(who("10.0.0.10", "198.51.100.9"), "10.0.0.10");
  CHECK_STR(who("10.0.0.", "198.51.100.9"), "10.0.0.");

  /* a trusted proxy: the hop it names */
  CHECK_STR(who("10.0.0.1", NULL), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "198.51.100.9"), "198.51.100.9");
  CHECK_STR(who("10.0.0.1", "  198.51.100.9\t "), "198.51.100.9");
  CHECK_STR(who("10.0.0.1", "1.1.1.1,\t198.51.100.9"), "198.51.100.9");
  CHECK_STR(who("10.0.0.1", ""), "10.0.0.1");

  /* spoofed hops on the left are what the client wrote: never used */
  CHECK_STR(who("10.0.0.1", "1.1.1.1, 2.2.2.2, 198.51.100.9"), "198.51.100.9");
  CHECK_STR(who("10.0.0.1", "10.0.0.2,198.51.100.9"), "198.51.100.9");

  /* several proxies: each trusted hop passes to the one before it */
  CHECK_STR(who("10.0.0.1", "1.1.1.1, 198.51.100.9, 10.0.0.2"), "198.51.100.9");
  CHECK_STR(who("10.0.0.2", "198.51.100.9, 10.0.0.2, 10.0.0.1"),
            "198.51.100.9");
  /* all of them proxies: the leftmost */
  CHECK_STR(who("10.0.0.1", "10.0.0.1, 10.0.0.2"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "10.0.0.2"), "10.0.0.2");
  /* empty hops are passed over */
  CHECK_STR(who("10.0.0.1", "198.51.100.9,,"), "198.51.100.9");
  CHECK_STR(who("10.0.0.1", "198.51.100.9, , 10.0.0.2"), "198.51.100.9");

  /* garbage ends the walk: the last hop believed is kept */
  CHECK_STR(who("10.0.0.1", "unknown"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "198.51.100.9, <script>"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "1.1.1.1, garbage, 10.0.0.2"), "10.0.0.2");
  CHECK_STR(who("10.0.0.1", "198.51.100.9:4711"), "10.0.0.1");  /* a port */
  CHECK_STR(who("10.0.0.1", "198.51.100.999"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "198.51.100.9 1.1.1.1"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "[2001:db8::7]"), "10.0.0.1");
  CHECK_STR(who("10.0.0.1", "\"198.51.100.9\""), "10.0.0.1");

  /* IPv6, peers and hops; case does not matter */
  CHECK_STR(who("fd00::1", "2001:db8::7"), "2001:db8::7");
  CHECK_STR(who("FD00::1", "2001:db8::7"), "2001:db8::7");
  CHECK_STR(who("10.0.0.1", "2001:db8::7, FD00::1"), "2001:db8::7");
  CHECK_STR(who("10.0.0.1", "::ffff:198.51.100.9"), "::ffff:198.51.100.9");
  CHECK_STR(who("2001:db8::7", "198.51.100.9"), "2001:db8::7");
  CHECK_STR(who("10.0.0.1", "2001:db8::7::1"), "10.0.0.1");

  /* a header of any length is read from its right end: the hops our
   * proxies appended are never cut off, whatever a client put before */
  {
    static char xff[6000];
    for (size_t pad = 1000; pad < 1040; pad++) {
      memset(xff, 0, sizeof xff);
      memset(xff, ' ', pad);
      strcat(xff, "6.6.6.6, 198.51.100.9");
      CHECK_STR(who("10.0.0.1", xff), "198.51.100.9");
    }
    memset(xff, 0, sizeof xff);
    for (int i = 0; i < 700; i++)
      strcat(xff, "6.6.6.6,");
    strcat(xff, " 198.51.100.9 ,10.0.0.2");
    CHECK_STR(who("10.0.0.1", xff), "198.51.100.9");
  }
  /* a hop too long to be an address is garbage, not passed over */
  CHECK_STR(who("10.0.0.1", "6.6.6.6, 1111111111111111111111111111111111111111"
                            "11111111111111111111111111111111"),
            "10.0.0.1");
  /* while the longest form of an address is one, kept as written */
  CHECK_STR(who("10.0.0.1",
                "6.6.6.6, 0000:0000:0000:0000:0000:ffff:198.51.100.9"),
            "0000:0000:0000:0000:0000:ffff:198.51.100.9");

  /* several field lines are one list, in their order (a proxy may add a
   * line of its own rather than append to the client's) */
  {
    const char *two[] = {"6.6.6.6", "198.51.100.9"};
    CHECK_STR(who_n("10.0.0.1", two, 2), "198.51.100.9");
    const char *hops[] = {"6.6.6.6, 7.7.7.7", "198.51.100.9", "10.0.0.2"};
    CHECK_STR(who_n("10.0.0.1", hops, 3), "198.51.100.9");
    const char *proxied[] = {"6.6.6.6", "198.51.100.9, 10.0.0.2", "10.0.0.1"};
    CHECK_STR(who_n("10.0.0.1", proxied, 3), "198.51.100.9");
    const char *empty[] = {"6.6.6.6", "", " , "};
    CHECK_STR(who_n("10.0.0.1", empty, 3), "6.6.6.6");  /* nothing newer */
    const char *bad[] = {"6.6.6.6", "garbage", "10.0.0.2"};
    CHECK_STR(who_n("10.0.0.1", bad, 3), "10.0.0.2");
    CHECK_STR(who_n("203.0.113.5", two, 2), "203.0.113.5");
    CHECK_STR(who_n("10.0.0.1", two, 0), "10.0.0.1");
  }

  /* the answer is cut to the room given, never past it */
  {
    char small[8];
    const char *xff = "198.51.100.9";
    client_address("10.0.0.1", &xff, 1, proxies, N_PROXIES, small,
                   sizeof small);
    CHECK(strlen(small) < sizeof small);
  }
  /* no trusted proxies at all */
  {
    char out[64];
    const char *xff = "198.51.100.9";
    client_address("10.0.0.1", &xff, 1, NULL, 0, out, sizeof out);
    CHECK_STR(out, "10.0.0.1");
  }
  return check_done("test_client");
}
