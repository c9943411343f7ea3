/* agon import: store battles from FastChat clean-battle logs. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "fastchat/battle_log.h"
#include "storage/interchange.h"

int cmd_import(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, NULL, 'D'},
                                       {"k", required_argument, NULL, 'k'},
                                       {NULL, 0, NULL, 0}};
  const char *db = NULL;
  double k = 4.0;
  int c, rc = 1;
  while ((c = getopt_long(argc, argv, "D:k:", opts, NULL)) != -1) {
    if (c == 'D') {
      db = optarg;
    } else if (c == 'k') {
      if (cli_parse_k(optarg, &k))
        return 2;
    } else {
      return 2;
    }
  }
  if (!db || optind >= argc) {
    fprintf(stderr, "usage: agon import --db FILE [--k K] LOG...\n");
    return 2;
  }
  struct battle_log log;
  struct store st;
  struct import_stats stats;
  char err[1024];
  size_t shown = 0;
  int store_open_ok = 0;
  battle_log_init(&log);
  for (int i = optind; i < argc; i++) {
    if (battle_log_read(&log, argv[i], BATTLE_LOG_KEEP, cli_report_problem, &shown, err,
                        sizeof err)) {
      fprintf(stderr, "agon: %s\n", err);
      goto out;
    }
  }
  if (log.n == 0 && log.malformed > 0) {
    fprintf(stderr, "agon: nothing to import: all %zu records are malformed "
                    "(is this a FastChat clean-battle log?)\n",
            log.malformed);
    goto out;
  }
  battle_log_sort(&log);
  if (cli_store_open(&st, db, 0))
    goto out;
  store_open_ok = 1;
  if (store_import(&st, &log, k, &stats, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  printf("imported %zu battles (%zu not counted), %zu already present, %zu "
         "malformed records skipped",
         stats.imported, stats.not_counted, stats.present, log.malformed);
  if (stats.judge_records)
    printf(", %zu LLM judge verdicts skipped", stats.judge_records);
  putchar('\n');
  rc = 0;
out:
  if (store_open_ok)
    store_close(&st);
  battle_log_release(&log);
  return rc;
}
