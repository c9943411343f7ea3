/* Who is asking: the client's address (through trusted proxies) and
 * whether a cross-site POST must be refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config/config.h"
#include "http/client.h"
#include "http/request.h"

static void peer_address(struct MHD_Connection *conn, char *out, size_t len) {
  const union MHD_ConnectionInfo *ci =
      MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
  snprintf(out, len, "unknown");
  if (!ci || !ci->client_addr)
    return;
  const struct sockaddr *sa = ci->client_addr;
  if (sa->sa_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, out,
              (socklen_t)len);
  } else if (sa->sa_family == AF_INET6) {
    const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
    if (IN6_IS_ADDR_V4MAPPED(a6))
      inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)len);
    else
      inet_ntop(AF_INET6, a6, out, (socklen_t)len);
  }
}

static int trusted(char *const *list, size_t n, const char *addr) {
  for (size_t i = 0; i < n; i++)
    if (!strcasecmp(list[i], addr))
      return 1;
  return 0;
}

void client_address(const char *peer, const char *const *xff, size_t n_xff,
                    char *const *list, size_t n_list, char *out,
                    size_t outlen) {
  snprintf(out, outlen, "%s", peer);
  if (!trusted(list, n_list, peer))
    return;
  /* the rightmost address that is not one of our proxies, read in place
   * from the right: a copy cut to some size would lose the hops our
   * proxies appended, and keep one a client wrote */
  for (size_t v = n_xff; v-- > 0;) {
    const char *line = xff[v], *end = line + strlen(line);
    for (;;) {
      const char *start = end;
      while (start > line && start[-1] != ',')
        start--;
      const char *a = start, *b = end;
      while (a < b && (*a == ' ' || *a == '\t'))
        a++;
      while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
        b--;
      size_t n = (size_t)(b - a);
      if (n) {
        char hop[INET6_ADDRSTRLEN];
        unsigned char tmp[sizeof(struct in6_addr)];
        if (n >= sizeof hop || n >= outlen)
          return; /* longer than any address (or out): as garbage */
        memcpy(hop, a, n);
        hop[n] = '\0';
        if (inet_pton(AF_INET, hop, tmp) != 1 &&
            inet_pton(AF_INET6, hop, tmp) != 1)
          return; /* garbage: keep the last trustworthy hop */
        memcpy(out, hop, n + 1);
        if (!trusted(list, n_list, hop))
          return;
      }
      if (start == line)
        break;
      end = start - 1;
    }
  }
}

/* The request's X-Forwarded-For lines, the last XFF_LINES of them, and its
 * last X-Forwarded-Proto: the ones the nearest proxy wrote. */
#define XFF_LINES 16

struct forwarded {
  const char *xff[XFF_LINES];
  size_t n_xff;
  const char *proto;
};

static enum MHD_Result scan_forwarded(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value) {
  struct forwarded *f = cls;
  (void)kind;
  if (!key || !value)
    return MHD_YES;
  if (!strcasecmp(key, "X-Forwarded-For")) {
    if (f->n_xff == XFF_LINES) {
      memmove(f->xff, f->xff + 1, (XFF_LINES - 1) * sizeof *f->xff);
      f->n_xff--;
    }
    f->xff[f->n_xff++] = value;
  } else if (!strcasecmp(key, "X-Forwarded-Proto")) {
    f->proto = value;
  }
  return MHD_YES;
}

void request_identify(struct request *rq, const struct config *cfg) {
  char peer[sizeof rq->client];
  peer_address(rq->conn, peer, sizeof peer);
  snprintf(rq->client, sizeof rq->client, "%s", peer);
  if (!trusted(cfg->trusted_proxies, cfg->n_trusted_proxies, peer))
    return;
  /* every line of a header, in order: a proxy may add its own line
   * rather than append to the one a client sent (HAProxy's forwardfor
   * does), and the first line is then the client's */
  struct forwarded f = {.n_xff = 0};
  MHD_get_connection_values(rq->conn, MHD_HEADER_KIND, &scan_forwarded, &f);
  rq->secure = f.proto && !strcasecmp(f.proto, "https");
  client_address(peer, f.xff, f.n_xff, cfg->trusted_proxies,
                 cfg->n_trusted_proxies, rq->client, sizeof rq->client);
}

int request_origin_ok(struct request *rq, const struct config *cfg) {
  const char *origin =
      MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
  if (!origin)
    return 1; /* same-origin fetches and non-browser clients may omit it */
  const char *host =
      MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host");
  if (host) {
    char own[300];
    snprintf(own, sizeof own, "%s://%s", rq->secure ? "https" : "http", host);
    if (!strcasecmp(own, origin))
      return 1;
  }
  for (size_t i = 0; i < cfg->n_allowed_origins; i++)
    if (!strcasecmp(cfg->allowed_origins[i], origin))
      return 1;
  return 0;
}
