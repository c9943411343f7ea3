/* agon tag: tag what is untagged in a database. First the battles stored
 * without their language, heuristic categories and style counts (before
 * schema 0009, or imported before imports kept them) get them, computed
 * now (tagger/backfill.h); then every [tagger NAME] of the configuration
 * tags the voted battles in the categories it has no verdict on yet
 * (tagger/runner.h). A counted vote moves into every slice this puts its
 * battle in, as `agon recompute` replays it. A server running on the same
 * database meanwhile shows the new slices after a restart or a SIGHUP. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "config/config.h"
#include "storage/store.h"
#include "storage/tagging.h"
#include "storage/writer.h"
#include "tag/llm.h"
#include "tagger/backfill.h"
#include "tagger/runner.h"
#include "upstream/upstream.h"

/* Jobs handed to the runner at once: it queues at most TAG_MAX_QUEUE. */
#define FEED_AHEAD (TAG_MAX_QUEUE / 2)

static void show_backfill(const struct tag_backfill *b, void *cls) {
  (void)cls;
  if (!isatty(STDERR_FILENO))
    return;
  fprintf(stderr, "\ragon: tags of %zu of %zu battles (%zu errors)   ",
          b->done, b->total, b->errors);
  fflush(stderr);
}

struct feed {
  const char *tagger;
  size_t total;
  struct tag_progress base;  /* the runner's counts before this tagger */
};

static void show_tagging(const struct tag_progress *p, void *cls) {
  const struct feed *f = cls;
  if (!isatty(STDERR_FILENO))
    return;
  fprintf(stderr,
          "\ragon: %s: tagged %zu of %zu battles (%zu verdicts, %zu left "
          "untagged, %zu running)   ",
          f->tagger, p->done - f->base.done, f->total,
          p->verdicts - f->base.verdicts, p->unknown - f->base.unknown,
          p->running);
  fflush(stderr);
}

static void end_line(void) {
  if (isatty(STDERR_FILENO))
    fputc('\n', stderr);
}

/* The names of the categories tagger t tags, into names (room for
 * LLM_TAG_BUILTINS + cfg->n_categories); returns how many. */
static size_t tagger_categories(const struct config *cfg,
                                const struct tagger_config *t,
                                const char **names) {
  size_t n = 0;
  for (size_t i = 0; i < LLM_TAG_BUILTINS + cfg->n_categories; i++) {
    const char *name = i < LLM_TAG_BUILTINS
                           ? llm_tag_builtins[i].name
                           : cfg->categories[i - LLM_TAG_BUILTINS].name;
    if (tagger_tags(t, name))
      names[n++] = name;
  }
  return n;
}

/* Let tagger t tag what it has no verdict on; prints its summary line.
 * 0, or -1 when its battles cannot be listed. */
static int run_tagger(struct store *st, struct tag_runner *runner,
                      const struct config *cfg, const struct tagger_config *t,
                      long limit) {
  const char **names =
      calloc(LLM_TAG_BUILTINS + cfg->n_categories, sizeof *names);
  char **ids = NULL;
  size_t n_ids = 0, n = names ? tagger_categories(cfg, t, names) : 0;
  int rc = -1;
  if (!names || store_tag_pending(st, names, n, limit, &ids, &n_ids))
    goto out;
  struct feed f = {.tagger = t->conn.name};
  tag_runner_progress(runner, &f.base);
  fprintf(stderr, "agon: %s: %zu battles to tag in %zu categories\n",
          t->conn.name, n_ids, n);
  for (size_t i = 0; i < n_ids; i++) {
    tag_runner_wait(runner, FEED_AHEAD, show_tagging, &f);
    if (tag_runner_enqueue(runner, cfg, t, ids[i]) == 0)
      f.total++;
  }
  tag_runner_wait(runner, 0, show_tagging, &f);
  end_line();
  struct tag_progress p;
  tag_runner_progress(runner, &p);
  printf("%s: %zu battles: %zu verdicts (%zu in a category), %zu left "
         "untagged, %zu without a prompt, %zu requests\n",
         t->conn.name, p.done - f.base.done, p.verdicts - f.base.verdicts,
         p.in_category - f.base.in_category, p.unknown - f.base.unknown,
         p.empty - f.base.empty, p.requests - f.base.requests);
  rc = 0;
out:
  for (size_t i = 0; i < n_ids; i++)
    free(ids[i]);
  free(ids);
  free(names);
  return rc;
}

int cmd_tag(int argc, char **argv) {
  struct cli_batch_args args;
  int rc = cli_batch_args(argc, argv, "tag", "tagger", &args);
  if (rc)
    return rc;
  rc = 1;
  const char *db = args.db, *config_file = args.config, *only = args.only;
  long limit = args.limit;
  char err[1024];
  struct config *cfg = config_new();
  struct store st;
  int st_open = 0;
  struct store_writer *w = NULL;
  struct upstream *up = NULL;
  struct tag_runner *runner = NULL;
  if (!cfg)
    return 1;
  if (config_load(cfg, config_file, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  if (only && !config_find_tagger(cfg, only)) {
    fprintf(stderr, "agon: no [tagger %s] in '%s'\n", only, config_file);
    goto out;
  }
  if (cli_store_open(&st, db, 1))
    goto out;
  st_open = 1;
  w = store_writer_new(&st, NULL);
  if (!w) {
    fprintf(stderr, "agon: cannot start\n");
    goto out;
  }
  struct tag_backfill b;
  if (tag_backfill_run(&st, w, limit, show_backfill, NULL, &b)) {
    fprintf(stderr, "agon: '%s': cannot list battles: %s\n", db,
            store_error(&st));
    goto out;
  }
  end_line();
  printf("tags: %zu battles tagged (%zu slice counts moved), %zu without a "
         "conversation, %zu errors\n",
         b.tagged, b.moved, b.no_text, b.errors);
  if (!cfg->n_taggers)
    fprintf(stderr, "agon: '%s' has no [tagger NAME] section: no categories "
                    "tagged\n",
            config_file);
  if (cfg->n_taggers) {
    up = upstream_new(1);
    runner = up ? tag_runner_new(&st, w, up, NULL, NULL) : NULL;
    if (!runner) {
      fprintf(stderr, "agon: cannot start\n");
      goto out;
    }
  }
  for (size_t i = 0; i < cfg->n_taggers; i++) {
    const struct tagger_config *t = &cfg->taggers[i];
    if (only && strcmp(t->conn.name, only))
      continue;
    if (run_tagger(&st, runner, cfg, t, limit)) {
      fprintf(stderr, "agon: '%s': cannot list battles: %s\n", db,
              store_error(&st));
      goto out;
    }
  }
  rc = 0;
out:
  tag_runner_free(runner);
  upstream_free(up);
  store_writer_free(w);
  if (st_open)
    store_close(&st);
  config_unref(cfg);
  return rc;
}
