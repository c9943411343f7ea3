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
  /* the rightmost address that is not one of our proxies */
  char hops[1024];
  snprintf(hops, sizeof hops, "%s", xff);
  for (;;) {
    char *comma = strrchr(hops, ',');
    char *item = comma ? comma + 1 : hops;
    while (*item == ' ' || *item == '\t')
      item++;
    size_t n = strlen(item);
    while (n && (item[n - 1] == ' ' || item[n - 1] == '\t'))
      item[--n] = '\0';
    if (n && n < outlen) {
      unsigned char tmp[sizeof(struct in6_addr)];
      int valid = inet_pton(AF_INET, item, tmp) == 1 ||
                  inet_pton(AF_INET6, item, tmp) == 1;
      if (!valid)
        return; /* garbage: keep the last trustworthy hop */
      snprintf(out, outlen, "%s", item);
      if (!trusted(list, n_list, item))
        return;
    }
    if (!comma)
      return;
    *comma = '\0';
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
