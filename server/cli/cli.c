/* What the commands share: opening the database, reading --k, reporting
 * the records of a battle log that are skipped. */
#include "cli/cli.h"

#include <stdio.h>
#include <stdlib.h>

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
