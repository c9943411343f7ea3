/* agon ratings: Elo and Bradley-Terry with intervals from battle logs. */
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "cli/cli.h"
#include "interchange/battle_log.h"
#include "rating/summary.h"

static const char ratings_usage[] =
    "usage: agon ratings [--json] [--anony-only] [--bootstrap N] [--seed S]\n"
    "                    [--k K] [--threads T] FILE...\n"
    "Reads battle logs in FastChat's clean-battle format (JSON array or JSON\n"
    "lines; '-' is stdin) and prints online Elo (in tstamp order) and\n"
    "Bradley-Terry ratings with 95% bootstrap intervals.\n"
    "Malformed records are reported on stderr with their index and skipped.\n";

static void report_problem(void *cls, const char *file, size_t index,
                           const char *msg) {
  size_t *shown = cls;
  if (*shown < 20)
    fprintf(stderr, "agon: %s: record %zu: %s (skipped)\n", file, index, msg);
  (*shown)++;
}

struct row {
  const char *model;
  struct model_summary s;
};

static int by_bt(const void *x, const void *y) {
  const struct row *a = x, *b = y;
  double ka = isnan(a->s.bt) ? -INFINITY : a->s.bt;
  double kb = isnan(b->s.bt) ? -INFINITY : b->s.bt;
  if (ka != kb)
    return ka < kb ? 1 : -1;
  return strcmp(a->model, b->model);
}

static json_t *num_or_null(double x) {
  return isnan(x) ? json_null() : json_real(round(x * 1e6) / 1e6);
}

int cmd_ratings(int argc, char **argv) {
  static const struct option opts[] = {
      {"json", no_argument, NULL, 'j'},
      {"anony-only", no_argument, NULL, 'a'},
      {"bootstrap", required_argument, NULL, 'b'},
      {"seed", required_argument, NULL, 's'},
      {"k", required_argument, NULL, 'k'},
      {"threads", required_argument, NULL, 't'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int json = 0, anony_only = 0, c, rc = 1;
  struct summary_params p = {.k = 4.0, .rounds = 1000, .threads = 2};
  int seeded = 0;
  char *end;
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  if (cpus > 0)
    p.threads = (int)cpus;
  while ((c = getopt_long(argc, argv, "jab:s:k:t:h", opts, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'a': anony_only = 1; break;
    case 'b':
      p.rounds = (int)strtol(optarg, &end, 10);
      if (*end || p.rounds < 0 || p.rounds > 1000000) {
        fprintf(stderr, "agon: --bootstrap: expected 0 to 1000000 rounds\n");
        return 2;
      }
      break;
    case 's':
      p.seed = strtoull(optarg, &end, 10);
      if (*end) {
        fprintf(stderr, "agon: --seed: expected a whole number\n");
        return 2;
      }
      seeded = 1;
      break;
    case 'k':
      p.k = strtod(optarg, &end);
      if (*end || !(p.k >= 0)) {
        fprintf(stderr, "agon: --k: expected a number >= 0\n");
        return 2;
      }
      break;
    case 't':
      p.threads = (int)strtol(optarg, &end, 10);
      if (*end || p.threads < 1 || p.threads > 64) {
        fprintf(stderr, "agon: --threads: expected 1 to 64\n");
        return 2;
      }
      break;
    case 'h': fputs(ratings_usage, stdout); return 0;
    default: fputs(ratings_usage, stderr); return 2;
    }
  }
  if (optind >= argc) {
    fputs(ratings_usage, stderr);
    return 2;
  }
  if (!seeded && getrandom(&p.seed, sizeof p.seed, 0) != sizeof p.seed)
    p.seed = 1;

  struct battle_log log;
  battle_log_init(&log);
  struct outcome *o = NULL;
  struct row *rows = NULL;
  size_t shown = 0;
  char err[1024];
  for (int i = optind; i < argc; i++) {
    if (battle_log_read(&log, argv[i], BATTLE_LOG_FAST, report_problem, &shown, err,
                        sizeof err)) {
      fprintf(stderr, "agon: %s\n", err);
      goto out;
    }
  }
  if (shown > 20)
    fprintf(stderr, "agon: ... %zu malformed records in all (skipped)\n",
            shown);
  battle_log_sort(&log);
  o = malloc((log.n + 1) * sizeof *o);
  rows = calloc(log.n_models + 1, sizeof *rows);
  if (!o || !rows)
    goto out;
  size_t used = 0;
  for (size_t i = 0; i < log.n; i++) {
    if (anony_only && !log.battles[i].anony)
      continue;
    o[used++] = (struct outcome){log.battles[i].a, log.battles[i].b,
                                 log.battles[i].w};
  }
  int n = (int)log.n_models;
  struct model_summary *s = calloc((size_t)n + 1, sizeof *s);
  if (!s || summary_compute(n, o, used, (const char *const *)log.models, &p,
                            s)) {
    free(s);
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
  size_t nrows = 0;
  for (int i = 0; i < n; i++) {
    if (s[i].battles == 0)
      continue; /* e.g. only in non-anonymous battles with --anony-only */
    rows[nrows].model = log.models[i];
    rows[nrows++].s = s[i];
  }
  free(s);
  qsort(rows, nrows, sizeof *rows, by_bt);

  if (json) {
    json_t *models = json_array();
    for (size_t i = 0; i < nrows; i++) {
      struct model_summary *m = &rows[i].s;
      json_t *row = json_pack(
          "{s:s, s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I}", "model",
          rows[i].model, "elo", num_or_null(m->elo), "bt", num_or_null(m->bt),
          "ci_low", num_or_null(m->ci_low), "ci_high", num_or_null(m->ci_high),
          "rank_ub", m->rank_ub ? json_integer(m->rank_ub) : json_null(),
          "battles", (json_int_t)m->battles, "wins", (json_int_t)m->wins,
          "losses", (json_int_t)m->losses, "ties", (json_int_t)m->ties);
      json_object_set_new(row, "group", json_integer(m->component));
      json_array_append_new(models, row);
    }
    json_t *root = json_pack("{s:I, s:I, s:I, s:I, s:o}", "battles",
                             (json_int_t)used, "malformed",
                             (json_int_t)log.malformed, "bootstrap",
                             (json_int_t)p.rounds, "seed", (json_int_t)p.seed,
                             "models", models);
    json_dumpf(root, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(root);
  } else {
    printf("%-4s %-40s %8s %8s %17s %5s %8s %15s\n", "rank", "model", "elo",
           "bt", "95% ci", "ub", "battles", "w/l/t");
    for (size_t i = 0; i < nrows; i++) {
      struct model_summary *m = &rows[i].s;
      char ci[32] = "-", wlt[48];
      if (!isnan(m->ci_low))
        snprintf(ci, sizeof ci, "%.1f..%.1f", m->ci_low, m->ci_high);
      snprintf(wlt, sizeof wlt, "%ld/%ld/%ld", m->wins, m->losses, m->ties);
      printf("%-4zu %-40.40s %8.1f %8.1f %17s %5d %8ld %15s\n", i + 1,
             rows[i].model, m->elo, m->bt, ci, m->rank_ub, m->battles, wlt);
    }
    printf("%zu battles, %zu models, %d bootstrap rounds (seed %llu)%s\n",
           used, nrows, p.rounds, (unsigned long long)p.seed,
           log.malformed ? ", malformed records skipped" : "");
  }
  rc = 0;
out:
  free(o);
  free(rows);
  battle_log_release(&log);
  return rc;
}
