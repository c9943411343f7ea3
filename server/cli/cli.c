/* What the commands share: opening the database, reading --k, reporting
 * the records of a battle log that are skipped. */
#include "cli/cli.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "storage/store.h"

int cli_store_open(struct store *st, const char *db, int must_exist) {
  char err[1024];
  int rc = must_exist ? store_open_existing(st, db, err, sizeof err)
                      : store_open(st, db, err, sizeof err);
  if (rc)
    fprintf(stderr, "agon: %s\n", err);
  return rc ? -1 : 0;
}

int cli_parse_k(const char *arg, double *k) {
  char *end;
  *k = strtod(arg, &end);
  if (*end || !(*k >= 0)) {
    fprintf(stderr, "agon: --k: expected a number >= 0\n");
    return -1;
  }
  return 0;
}

void cli_report_problem(void *cls, const char *file, size_t index,
                        const char *msg) {
  size_t *shown = cls;
  if (*shown < 20)
    fprintf(stderr, "agon: %s: record %zu: %s (skipped)\n", file, index, msg);
  (*shown)++;
}

int cli_batch_args(int argc, char **argv, const char *cmd, const char *what,
                   struct cli_batch_args *a) {
  const struct option opts[] = {{"db", required_argument, NULL, 'D'},
                                {"config", required_argument, NULL, 'c'},
                                {what, required_argument, NULL, 'o'},
                                {"limit", required_argument, NULL, 'n'},
                                {NULL, 0, NULL, 0}};
  char shorts[16];
  snprintf(shorts, sizeof shorts, "D:c:%c:n:", what[0]);
  memset(a, 0, sizeof *a);
  int c;
  char *end;
  while ((c = getopt_long(argc, argv, shorts, opts, NULL)) != -1) {
    if (c == what[0])
      c = 'o';
    switch (c) {
    case 'D': a->db = optarg; break;
    case 'c': a->config = optarg; break;
    case 'o': a->only = optarg; break;
    case 'n':
      a->limit = strtol(optarg, &end, 10);
      if (*end || a->limit < 1) {
        fprintf(stderr, "agon: --limit: expected a whole number >= 1\n");
        return 2;
      }
      break;
    default:
      return 2;
    }
  }
  if (!a->db || !a->config || optind < argc) {
    fprintf(stderr,
            "usage: agon %s --db FILE --config FILE [--%s NAME] "
            "[--limit N]\n",
            cmd, what);
    return 2;
  }
  return 0;
}
