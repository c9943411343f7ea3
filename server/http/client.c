/* Who is asking: the client's address (through trusted proxies) and
 * whether a cross-site POST must be refused. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "config.h"
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

void client_address(const char *peer, const char *xff, char *const *list,
                    size_t n_list, char *out, size_t outlen) {
  snprintf(out, outlen, "%s", peer);
  if (!xff || !trusted(list, n_list, peer))
    return;
  /* the rightmost address that is not one of our proxies, read in place
   * from the right: a copy cut to some size would lose the hops our
   * proxies appended, and keep one a client wrote */
  const char *end = xff + strlen(xff);
  for (;;) {
    const char *start = end;
    while (start > xff && start[-1] != ',')
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
    if (start == xff)
      return;
    end = start - 1;
  }
}

void request_identify(struct request *rq, const struct config *cfg) {
  char peer[sizeof rq->client];
  peer_address(rq->conn, peer, sizeof peer);
  snprintf(rq->client, sizeof rq->client, "%s", peer);
  if (!trusted(cfg->trusted_proxies, cfg->n_trusted_proxies, peer))
    return;
  const char *proto = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                  "X-Forwarded-Proto");
  rq->secure = proto && !strcasecmp(proto, "https");
  const char *xff = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND,
                                                "X-Forwarded-For");
  client_address(peer, xff, cfg->trusted_proxies, cfg->n_trusted_proxies,
                 rq->client, sizeof rq->client);
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
