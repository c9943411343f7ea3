/* agon bench: an Open LLM Leaderboard task asked of the configured
 * models through their own endpoints (docs/benchmarks.md). The data file
 * is read and every item's prompt fixed first (a malformed line is
 * named by file and line before any request); then each model's run
 * goes through bench/runner.c, and its scores are computed from what
 * the store holds once every item is in. Running the same command again
 * continues a run that was stopped, however it was stopped. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/data.h"
#include "bench/prompt.h"
#include "bench/pyrandom.h"
#include "bench/results.h"
#include "bench/runner.h"
#include "cli/cli.h"
#include "config/config.h"
#include "storage/store.h"
#include "upstream/upstream.h"
#include "util/clock.h"

#define DEFAULT_CONCURRENCY 8
#define MAX_CONCURRENCY 1024
#define DEFAULT_RETRIES 4
#define DEFAULT_BACKOFF_MS 500
#define DEFAULT_SEED 1234
#define UPSTREAM_LOOPS 2

static atomic_int stop_flag;

static void on_signal(int sig) {
  (void)sig;
  atomic_store(&stop_flag, 1);
}

static const char usage[] =
    "usage: agon bench --config FILE --task TASK --data FILE [--shots FILE]\n"
    "                  [--model NAME] [--limit N] [--seed S]\n"
    "                  [--mode likelihood|generate] [--concurrency C]\n"
    "                  [--retries N] [--backoff-ms MS]\n"
    "tasks: arc_challenge hellaswag mmlu truthfulqa_mc2 winogrande gsm8k\n";

struct bench_args {
  const char *config, *task, *data, *shots, *model;
  long limit, seed, concurrency, retries, backoff_ms;
  int generate;
};

static int parse_long(const char *opt, const char *s, long min, long max,
                      long *out) {
  char *end;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || *end || end == s || v < min || v > max) {
    fprintf(stderr, "agon: --%s: expected a whole number from %ld to %ld\n",
            opt, min, max);
    return -1;
  }
  *out = v;
  return 0;
}

static int parse_args(int argc, char **argv, struct bench_args *a) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"task", required_argument, NULL, 't'},
      {"data", required_argument, NULL, 'd'},
      {"shots", required_argument, NULL, 's'},
      {"model", required_argument, NULL, 'm'},
      {"limit", required_argument, NULL, 'n'},
      {"seed", required_argument, NULL, 'S'},
      {"mode", required_argument, NULL, 'M'},
      {"concurrency", required_argument, NULL, 'C'},
      {"retries", required_argument, NULL, 'r'},
      {"backoff-ms", required_argument, NULL, 'b'},
      {NULL, 0, NULL, 0}};
  memset(a, 0, sizeof *a);
  a->seed = DEFAULT_SEED;
  a->concurrency = DEFAULT_CONCURRENCY;
  a->retries = DEFAULT_RETRIES;
  a->backoff_ms = DEFAULT_BACKOFF_MS;
  int c;
  while ((c = getopt_long(argc, argv, "c:t:d:s:m:n:S:M:C:r:b:", opts,
                          NULL)) != -1) {
    switch (c) {
    case 'c': a->config = optarg; break;
    case 't': a->task = optarg; break;
    case 'd': a->data = optarg; break;
    case 's': a->shots = optarg; break;
    case 'm': a->model = optarg; break;
    case 'n':
      if (parse_long("limit", optarg, 1, 100000000, &a->limit))
        return 2;
      break;
    case 'S':
      if (parse_long("seed", optarg, 0, 2147483647L, &a->seed))
        return 2;
      break;
    case 'M':
      if (strcmp(optarg, "likelihood") && strcmp(optarg, "generate")) {
        fprintf(stderr, "agon: --mode: expected likelihood or generate\n");
        return 2;
      }
      a->generate = !strcmp(optarg, "generate");
      break;
    case 'C':
      if (parse_long("concurrency", optarg, 1, MAX_CONCURRENCY,
                     &a->concurrency))
        return 2;
      break;
    case 'r':
      if (parse_long("retries", optarg, 0, 20, &a->retries))
        return 2;
      break;
    case 'b':
      if (parse_long("backoff-ms", optarg, 0, 60000, &a->backoff_ms))
        return 2;
      break;
    default:
      fputs(usage, stderr);
      return 2;
    }
  }
  if (!a->config || !a->task || !a->data || optind < argc) {
    fputs(usage, stderr);
    return 2;
  }
  return 0;
}

/* The progress bar, on a terminal only. */
struct show {
  const char *task, *model;
  int tty;
};

static void show_progress(void *cls, const struct bench_progress *p) {
  const struct show *s = cls;
  if (!s->tty)
    return;
  char bar[31];
  size_t width = sizeof bar - 1;
  size_t done = p->scored + p->failed;
  size_t fill = p->todo ? done * width / p->todo : width;
  for (size_t i = 0; i < width; i++)
    bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  double rate = p->seconds > 0 ? (double)p->scored / p->seconds : 0;
  fprintf(stderr,
          "\r%s %s [%s] %zu/%zu  %.1f items/s  %zu stored  %zu retried  "
          "%zu failed ",
          s->task, s->model, bar, done, p->todo, rate, p->stored, p->retried,
          p->failed);
  fflush(stderr);
}

/* Lines already stored, as a sorted array (store_bench_items order). */
struct stored {
  long *lines;
  size_t n, cap;
  struct bench_results *res;
};

static int stored_add(void *ctx, long line, const char *grp,
                      const char *metrics) {
  struct stored *s = ctx;
  if (s->res)
    return bench_results_add(s->res, grp, metrics);
  if (s->n == s->cap) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    long *p = realloc(s->lines, cap * sizeof *p);
    if (!p)
      return -1;
    s->lines = p;
    s->cap = cap;
  }
  s->lines[s->n++] = line;
  return 0;
}

static int stored_has(const struct stored *s, long line) {
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (s->lines[mid] == line)
      return 1;
    if (s->lines[mid] < line)
      lo = mid + 1;
    else
      hi = mid;
  }
  return 0;
}

static int cmp_size(const void *a, const void *b) {
  size_t x = *(const size_t *)a, y = *(const size_t *)b;
  return x < y ? -1 : x > y;
}

/* Print a finished run's scores: the primary metric first. */
static void print_scores(const struct bench_task *t, int generate,
                         const char *model, unsigned shots,
                         const struct bench_results *res, size_t n) {
  const char *primary = bench_primary_metric(t, generate);
  printf("%s %s %u-shot model '%s': ", t->name,
         generate ? "generate" : "likelihood", shots, model);
  const struct store_bench_score *p = bench_results_find(res, "", primary);
  if (p)
    printf("%s %.4f (95%% CI %.4f-%.4f)", p->metric, p->value, p->ci_low,
           p->ci_high);
  for (size_t i = 0; i < res->n_scores; i++) {
    const struct store_bench_score *s = &res->scores[i];
    if (s->grp[0] || !strcmp(s->metric, primary))
      continue;
    printf(", %s %.4f (95%% CI %.4f-%.4f)", s->metric, s->value, s->ci_low,
           s->ci_high);
  }
  size_t groups = 0;
  for (size_t i = 0; i < res->n_scores; i++)
    groups += res->scores[i].grp[0] && !strcmp(res->scores[i].metric, primary);
  printf(" over %zu items", n);
  if (groups)
    printf(" in %zu subjects", groups);
  printf("\n");
}

/* One model's run. 0 done, 1 not complete, -1 fatal, 130 stopped. */
static int run_model(struct store *st, struct upstream *up,
                     const struct bench_args *a, const struct bench_task *t,
                     const struct model_config *m, unsigned shots,
                     const char *data_sha, const char *shots_sha,
                     const struct bench_doc *docs, size_t n_docs,
                     const struct bench_doc *pool, size_t n_pool,
                     const size_t *shot_idx, const size_t *chosen,
                     size_t n_chosen, long limit) {
  struct store_bench_key key = {
      .model = m->name,
      .task = t->name,
      .mode = a->generate ? "generate" : "likelihood",
      .shots = shots,
      .data_sha256 = data_sha,
      .shots_sha256 = shots_sha,
      .seed = limit ? a->seed : 0,
      .limit = limit,
  };
  int64_t run_id;
  struct stored done = {0};
  struct bench_results res;
  size_t *todo = NULL;
  int rc = -1;
  char err[1024];
  bench_results_init(&res);
  if (store_bench_run_open(st, &key, (long)n_chosen, now_ms(), &run_id) ||
      store_bench_items(st, run_id, stored_add, &done)) {
    fprintf(stderr, "agon: cannot read the runs: %s\n", store_error(st));
    goto out;
  }
  todo = calloc(n_chosen ? n_chosen : 1, sizeof *todo);
  if (!todo)
    goto out;
  size_t n_todo = 0;
  for (size_t i = 0; i < n_chosen; i++)
    if (!stored_has(&done, (long)docs[chosen[i]].line))
      todo[n_todo++] = chosen[i];
  if (done.n)
    fprintf(stderr, "agon: %s '%s': %zu of %zu items already stored, "
            "asking the other %zu\n", t->name, m->name,
            n_chosen - n_todo, n_chosen, n_todo);
  struct bench_run_opts o = {
      .task = t,
      .model = m,
      .generate = a->generate,
      .shots = shots,
      .concurrency = (unsigned)a->concurrency,
      .retries = (unsigned)a->retries,
      .backoff_ms = a->backoff_ms,
      .run_id = run_id,
  };
  struct bench_run_items items = {
      .docs = docs,
      .n_docs = n_docs,
      .todo = todo,
      .n_todo = n_todo,
      .pool = pool,
      .n_pool = n_pool,
      .shots = shot_idx,
  };
  struct show sh = {.task = t->name, .model = m->name,
                    .tty = isatty(STDERR_FILENO)};
  struct bench_progress p;
  int r = bench_run(st, up, &o, &items, &stop_flag, show_progress, &sh, &p,
                    err, sizeof err);
  if (sh.tty)
    fputc('\n', stderr);
  if (p.requests)
    fprintf(stderr, "agon: %s '%s': %zu requests in %.3f s (%.1f requests/s)\n",
            t->name, m->name, p.requests, p.seconds,
            p.seconds > 0 ? (double)p.requests / p.seconds : 0.0);
  if (r < 0) {
    fprintf(stderr, "agon: %s\n", err);
    if (p.stored)
      fprintf(stderr, "agon: %zu items of this run are stored\n", p.stored);
    goto out;
  }
  if (r == 1) {
    fprintf(stderr, "agon: interrupted: %zu of %zu items stored; run the "
            "same command again to continue\n",
            n_chosen - n_todo + p.stored, n_chosen);
    rc = 130;
    goto out;
  }
  /* the scores, from what the store holds */
  struct stored all = {.res = &res};
  if (store_bench_items(st, run_id, stored_add, &all)) {
    fprintf(stderr, "agon: cannot read the results: %s\n", store_error(st));
    goto out;
  }
  if (res.n_items < n_chosen) {
    fprintf(stderr,
            "agon: %s '%s': %zu of %zu items scored, %zu failed after %ld "
            "retries (%s); run the same command again to ask them again\n",
            t->name, m->name, res.n_items, n_chosen, p.failed, a->retries,
            err[0] ? err : "see above");
    rc = 1;
    goto out;
  }
  if (bench_results_compute(&res) ||
      store_bench_finish(st, run_id, res.scores, res.n_scores, now_ms())) {
    fprintf(stderr, "agon: cannot store the scores: %s\n", store_error(st));
    goto out;
  }
  print_scores(t, a->generate, m->name, shots, &res, res.n_items);
  rc = 0;
out:
  free(todo);
  free(done.lines);
  bench_results_release(&res);
  return rc;
}

int cmd_bench(int argc, char **argv) {
  struct bench_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc)
    return rc;
  rc = 1;
  char err[1024], data_sha[65], shots_sha[65] = "";
  struct config *cfg = config_new();
  struct store st;
  int st_open = 0;
  struct upstream *up = NULL;
  struct bench_doc *docs = NULL, *pool_docs = NULL;
  size_t n_docs = 0, n_pool = 0, *shot_idx = NULL, *chosen = NULL;
  if (!cfg)
    return 1;
  const struct bench_task *t = bench_task_find(a.task);
  if (!t) {
    fprintf(stderr, "agon: --task: no task '%s'\n%s", a.task, usage);
    rc = 2;
    goto out;
  }
  if (a.generate && !t->generate) {
    fprintf(stderr,
            "agon: %s has no generate mode: its score is the probability "
            "mass of the true answers, which only log-probabilities give; "
            "use --mode likelihood\n",
            t->name);
    rc = 2;
    goto out;
  }
  if (config_load(cfg, a.config, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  if (a.model && !config_find_model(cfg, a.model)) {
    fprintf(stderr, "agon: no [model %s] in '%s'\n", a.model, a.config);
    goto out;
  }
  if (!a.model && !config_enabled_models(cfg)) {
    fprintf(stderr, "agon: '%s' has no enabled model\n", a.config);
    goto out;
  }
  if (bench_data_load(t, a.data, &docs, &n_docs, data_sha, err, sizeof err) ||
      (a.shots && bench_data_load(t, a.shots, &pool_docs, &n_pool, shots_sha,
                                  err, sizeof err))) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  /* MC generate mode asks simple-evals' zero-shot question; GSM8K keeps
   * its shots as earlier turns */
  unsigned shots = a.generate && t->kind != BENCH_GENERATE ? 0 : t->shots;
  const struct bench_doc *pool = pool_docs ? pool_docs : docs;
  if (!pool_docs)
    n_pool = n_docs;
  shot_idx = calloc(n_docs * (shots ? shots : 1), sizeof *shot_idx);
  chosen = calloc(n_docs, sizeof *chosen);
  if (!shot_idx || !chosen)
    goto out;
  if (bench_draw_shots(t, docs, n_docs, pool, n_pool, !pool_docs, shots,
                       shot_idx, err, sizeof err)) {
    fprintf(stderr, "agon: %s: %s\n", a.shots ? a.shots : a.data, err);
    goto out;
  }
  /* --limit: sorted(random.Random(seed).sample(range(n), limit)) */
  size_t n_chosen = n_docs;
  long limit = a.limit && (size_t)a.limit < n_docs ? a.limit : 0;
  if (limit) {
    struct pyrandom r;
    pyrandom_seed(&r, (uint64_t)a.seed);
    if (pyrandom_sample(&r, n_docs, (size_t)limit, chosen))
      goto out;
    n_chosen = (size_t)limit;
    qsort(chosen, n_chosen, sizeof *chosen, cmp_size);
  } else {
    for (size_t i = 0; i < n_docs; i++)
      chosen[i] = i;
  }
  if (cli_store_open(&st, cfg->database, 0))
    goto out;
  st_open = 1;
  up = upstream_new(UPSTREAM_LOOPS);
  if (!up) {
    fprintf(stderr, "agon: cannot start\n");
    goto out;
  }
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  rc = 0;
  for (size_t i = 0; i < cfg->n_models && rc != 130; i++) {
    const struct model_config *m = &cfg->models[i];
    if (a.model ? strcmp(m->name, a.model) != 0 : !m->enabled)
      continue;
    int r = run_model(&st, up, &a, t, m, shots, data_sha, shots_sha, docs,
                      n_docs, pool, n_pool, shot_idx, chosen, n_chosen,
                      limit);
    if (r == 130)
      rc = 130;
    else if (r && !rc)
      rc = 1;
  }
out:
  upstream_free(up);
  if (st_open)
    store_close(&st);
  bench_docs_free(docs, n_docs);
  bench_docs_free(pool_docs, n_pool);
  free(shot_idx);
  free(chosen);
  config_unref(cfg);
  return rc;
}
