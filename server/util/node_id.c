/* Node names and battle ids (node_id.h). */
#include "util/node_id.h"

#include <stdio.h>
#include <string.h>

#include "util/random.h"

static int name_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

static int name_span_valid(const char *s, size_t n) {
  if (n == 0 || n > NODE_NAME_MAX || s[0] == '_' || s[0] == '-')
    return 0;
  for (size_t i = 0; i < n; i++)
    if (!name_byte(s[i]))
      return 0;
  return 1;
}

int node_name_valid(const char *name) {
  return name && name_span_valid(name, strlen(name));
}

void node_name_default(const char *host, unsigned port,
                       char out[NODE_NAME_MAX + 1]) {
  char suffix[8];
  snprintf(suffix, sizeof suffix, "-%u", port % 100000u);
  size_t room = NODE_NAME_MAX - strlen(suffix), n = 0;
  for (const char *p = host ? host : ""; *p && *p != '.' && n < room; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z')
      c = (char)(c - 'A' + 'a');
    if (!name_byte(c))
      c = '_';
    if (n == 0 && (c == '_' || c == '-'))
      continue;  /* a name starts with a letter or digit */
    out[n++] = c;
  }
  if (n == 0) {
    memcpy(out, "node", 4);
    n = 4;
  }
  memcpy(out + n, suffix, strlen(suffix) + 1);
}

int node_battle_id_new(const char *node, char out[40]) {
  char hex[NODE_ID_RANDOM_HEX + 1];
  if (!node_name_valid(node) || random_hex(hex, NODE_ID_RANDOM_HEX / 2))
    return -1;
  snprintf(out, 40, "%s-%s", node, hex);
  return 0;
}

int node_of_battle(const char *id, char node[NODE_NAME_MAX + 1]) {
  node[0] = '\0';
  const char *dash = id ? strrchr(id, '-') : NULL;
  if (!dash || strlen(dash + 1) != NODE_ID_RANDOM_HEX)
    return 0;
  for (const char *p = dash + 1; *p; p++)
    if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
      return 0;
  size_t n = (size_t)(dash - id);
  if (!name_span_valid(id, n))
    return 0;
  memcpy(node, id, n);
  node[n] = '\0';
  return 1;
}
