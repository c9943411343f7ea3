/* agon judge: let the configured LLM judges judge the battles they have
 * not judged yet (imported ones included). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "upstream/upstream.h"
#include "cli/cli.h"
#include "config/config.h"
#include "judge/runner.h"
#include "storage/judgments.h"
#include "storage/store.h"

static void show(const struct judge_progress *p, void *cls) {
  size_t total = *(size_t *)cls;
  if (!isatty(STDERR_FILENO))
    return;
  fprintf(stderr, "\ragon: judged %zu of %zu (%zu errors, %zu running)   ",
          p->done, total, p->errors, p->running);
  fflush(stderr);
}

int cmd_judge(int argc, char **argv) {
  struct cli_batch_args args;
  int rc = cli_batch_args(argc, argv, "judge", "judge", &args);
  if (rc)
    return rc;
  rc = 1;
  const char *db = args.db, *config_file = args.config, *only = args.only;
  long limit = args.limit;
  char err[1024];
  struct config *cfg = config_new();
  struct store st;
  int st_open = 0;
  struct upstream *up = NULL;
  struct judge_runner *runner = NULL;
  if (!cfg)
    return 1;
  if (config_load(cfg, config_file, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  if (only && !config_find_judge(cfg, only)) {
    fprintf(stderr, "agon: no [judge %s] in '%s'\n", only, config_file);
    goto out;
  }
  if (!cfg->n_judges) {
    fprintf(stderr, "agon: '%s' has no [judge NAME] section\n", config_file);
    goto out;
  }
  if (cli_store_open(&st, db, 0))
    goto out;
  st_open = 1;
  up = upstream_new(1);
  runner = up ? judge_runner_new(&st, up) : NULL;
  if (!runner) {
    fprintf(stderr, "agon: cannot start\n");
    goto out;
  }
  size_t total = 0;
  for (size_t i = 0; i < cfg->n_judges; i++) {
    const struct judge_config *j = &cfg->judges[i];
    if (only && strcmp(j->conn.name, only))
      continue;
    char **ids;
    size_t n;
    if (store_judge_pending(&st, j->conn.name, limit, &ids, &n)) {
      fprintf(stderr, "agon: '%s': cannot list battles\n", db);
      goto out;
    }
    for (size_t k = 0; k < n; k++) {
      if (judge_runner_enqueue(runner, j, ids[k]) == 0)
        total++;
      free(ids[k]);
    }
    free(ids);
  }
  judge_runner_drain(runner, show, &total);
  struct judge_progress p;
  judge_runner_progress(runner, &p);
  if (isatty(STDERR_FILENO))
    fputc('\n', stderr);
  printf("judged %zu battles: %zu verdicts, %zu errors (%zu had nothing to "
         "judge)\n",
         total, p.done - p.errors, p.errors, total - p.done);
  rc = 0;
out:
  judge_runner_free(runner);
  upstream_free(up);
  if (st_open)
    store_close(&st);
  config_unref(cfg);
  return rc;
}
