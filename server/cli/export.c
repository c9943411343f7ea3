/* agon export: every voted battle in FastChat's clean-battle schema. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "storage/interchange.h"

int cmd_export(int argc, char **argv) {
  static const struct option opts[] = {
      {"db", required_argument, NULL, 'D'},
      {"format", required_argument, NULL, 'f'},
      {"output", required_argument, NULL, 'o'},
      {NULL, 0, NULL, 0}};
  const char *db = NULL, *format = "fastchat", *output = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "D:f:o:", opts, NULL)) != -1) {
    if (c == 'D')
      db = optarg;
    else if (c == 'f')
      format = optarg;
    else if (c == 'o')
      output = optarg;
    else
      return 2;
  }
  enum export_format fmt;
  if (!strcmp(format, "fastchat"))
    fmt = EXPORT_FASTCHAT;
  else if (!strcmp(format, "jsonl"))
    fmt = EXPORT_JSONL;
  else if (!strcmp(format, "csv"))
    fmt = EXPORT_CSV;
  else {
    fprintf(stderr, "agon: --format: expected fastchat, jsonl or csv, got '%s'\n",
            format);
    return 2;
  }
  if (!db || optind < argc) {
    fprintf(stderr, "usage: agon export --db FILE [--format "
                    "fastchat|jsonl|csv] [--output FILE]\n");
    return 2;
  }
  struct store st;
  if (cli_store_open(&st, db, 1))
    return 1;
  char err[1024];
  FILE *out = output ? fopen(output, "w") : stdout;
  if (!out) {
    fprintf(stderr, "agon: cannot write '%s': %s\n", output, strerror(errno));
    store_close(&st);
    return 1;
  }
  long n = store_export(&st, fmt, out, err, sizeof err);
  int rc = 0;
  if (n < 0) {
    fprintf(stderr, "agon: %s\n", err);
    rc = 1;
  }
  if (fflush(out) || (output && fclose(out))) {
    fprintf(stderr, "agon: cannot write '%s': %s\n", output ? output : "stdout",
            strerror(errno));
    rc = 1;
  }
  store_close(&st);
  return rc;
}
