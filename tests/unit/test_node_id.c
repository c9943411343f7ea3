/* Node names and the battle ids that name them (util/node_id.h). */
#include "util/node_id.h"

#include "check.h"

static void names(void) {
  CHECK(node_name_valid("a"));
  CHECK(node_name_valid("web-1"));
  CHECK(node_name_valid("n_2"));
  CHECK(node_name_valid("abcdefghijklmn"));   /* 14 */
  CHECK(!node_name_valid("abcdefghijklmno")); /* 15 */
  CHECK(!node_name_valid(""));
  CHECK(!node_name_valid(NULL));
  CHECK(!node_name_valid("-a"));
  CHECK(!node_name_valid("_a"));
  CHECK(!node_name_valid("Web1"));
  CHECK(!node_name_valid("a.b"));
  CHECK(!node_name_valid("a b"));
}

static void defaults(void) {
  char n[NODE_NAME_MAX + 1];
  node_name_default("Web1.example.org", 8080, n);
  CHECK_STR(n, "web1-8080");
  node_name_default("a-very-long-hostname", 8080, n);
  CHECK_STR(n, "a-very-lo-8080");
  CHECK(node_name_valid(n));
  node_name_default("_x y", 0, n);
  CHECK_STR(n, "x_y-0");
  node_name_default("", 65535, n);
  CHECK_STR(n, "node-65535");
  node_name_default("...", 1, n);
  CHECK_STR(n, "node-1");
  node_name_default(NULL, 80, n);
  CHECK(node_name_valid(n));
}

static void ids(void) {
  char id[40], other[40], node[NODE_NAME_MAX + 1];
  CHECK(node_battle_id_new("web-1", id) == 0);
  CHECK(strlen(id) == 5 + 1 + NODE_ID_RANDOM_HEX);
  CHECK(strncmp(id, "web-1-", 6) == 0);
  CHECK(node_of_battle(id, node) == 1);
  CHECK_STR(node, "web-1");
  CHECK(node_battle_id_new("web-1", other) == 0);
  CHECK(strcmp(id, other) != 0);
  CHECK(node_battle_id_new("abcdefghijklmn", id) == 0);
  CHECK(strlen(id) == 39);
  CHECK(node_of_battle(id, node) == 1);
  CHECK_STR(node, "abcdefghijklmn");
  CHECK(node_battle_id_new("Bad", id) == -1);
  /* ids before nodes, and others, name no node */
  CHECK(node_of_battle("0123456789abcdef0123456789abcdef", node) == 0);
  CHECK_STR(node, "");
  CHECK(node_of_battle("n-0123456789abcdef01234567", node) == 1);
  CHECK(node_of_battle("n-0123456789abcdef0123456", node) == 0);   /* 23 */
  CHECK(node_of_battle("n-0123456789abcdef012345678", node) == 0); /* 25 */
  CHECK(node_of_battle("n-0123456789ABCDEF01234567", node) == 0);
  CHECK(node_of_battle("-0123456789abcdef01234567", node) == 0);
  CHECK(node_of_battle("N-0123456789abcdef01234567", node) == 0);
  CHECK(node_of_battle("abcdefghijklmno-0123456789abcdef01234567", node) == 0);
  CHECK(node_of_battle("", node) == 0);
  CHECK(node_of_battle(NULL, node) == 0);
}

int main(void) {
  names();
  defaults();
  ids();
  return check_done("test_node_id");
}
