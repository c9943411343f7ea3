/* Listen addresses ("HOST:PORT", "[V6]:PORT"), read the same way by
 * config_load (and so check-config) and by the HTTP server. */
#ifndef AGON_UTIL_LISTEN_H
#define AGON_UTIL_LISTEN_H

#include <stddef.h>
#include <stdint.h>

/* Split listen into host (hostlen bytes; an IPv6 address without its
 * brackets) and port (0 to 65535; 0 picks a free port). The host is not
 * resolved. Returns 0, or -1 when listen is not of that form: no host, a
 * host longer than hostlen - 1 bytes or holding a space, a control
 * character or a bracket, an IPv6 address without brackets, a port that
 * is not 1 to 5 digits or is over 65535. */
int parse_listen(const char *listen, char *host, size_t hostlen,
                 uint16_t *port);

#endif
