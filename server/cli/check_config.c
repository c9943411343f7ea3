/* agon check-config: validate a config file. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agon_version.h"
#include "cli/cli.h"
#include "config/config.h"
#include "demo/demo.h"
#include "handlers/handlers.h"
#include "http/server.h"

int cmd_check_config(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: agon check-config FILE\n");
    return 2;
  }
  struct config cfg;
  char err[1024];
  config_init(&cfg);
  int rc = config_load(&cfg, argv[1], err, sizeof err);
  if (rc)
    fprintf(stderr, "agon: %s\n", err);
  else
    printf("%s: ok (%zu models, %zu enabled)\n", argv[1], cfg.n_models,
           config_enabled_models(&cfg));
  config_release(&cfg);
  return rc ? 1 : 0;
}

