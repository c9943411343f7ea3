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
#include "fastchat/battle_log.h"
#include "rating/dedup.h"
#include "rating/style.h"
#include "rating/summary.h"

static const char ratings_usage[] =
    "usage: agon ratings [--json] [--anony-only] [--bootstrap N] [--seed S]\n"
    "                    [--k K] [--threads T] [--style-control]\n"
    "                    [--language CODE]... [--category NAME]... FILE...\n"
    "Reads battle logs in FastChat's clean-battle format (JSON array or JSON\n"
    "lines; '-' is stdin) and prints online Elo (in tstamp order) and\n"
    "Bradley-Terry ratings with 95% bootstrap intervals.\n"
    "--style-control also fits Bradley-Terry with style control (FastChat's:\n"
    "answer length, headers, lists and bold as features), sorts by it and\n"
    "prints its coefficients; its counts come from each record's\n"
    "conv_metadata, else from its conversations.\n"
    "--language keeps the battles in one of the languages given (a code such\n"
    "as en, or FastChat's name, English); --category keeps those in every\n"
    "category given: math, if, creative_writing, hard_6, hard_english_6,\n"
    "coding, long_user, no_short, multiturn, no_tie, no_refusal, dedup (full:\n"
    "all). dedup keeps what a record's dedup_tag says; for the records\n"
    "without one, it is computed as FastChat does (a prompt asked more often\n"
    "than the 99.99th percentile of prompt counts keeps that many battles,\n"
    "chosen by seed 42), and reported.\n"
    "Malformed records are reported on stderr with their index and skipped.\n";

struct row {
  const char *model;
  struct model_summary s;
  double style, style_low, style_high; /* NaN without style counts */
  int style_rank_ub;
};

static int by_key(double ka, double kb, const struct row *a,
                  const struct row *b) {
  ka = isnan(ka) ? -INFINITY : ka;
  kb = isnan(kb) ? -INFINITY : kb;
  if (ka != kb)
    return ka < kb ? 1 : -1;
  return strcmp(a->model, b->model);
}

static int by_bt(const void *x, const void *y) {
  const struct row *a = x, *b = y;
  return by_key(a->s.bt, b->s.bt, a, b);
}

static int by_style(const void *x, const void *y) {
  const struct row *a = x, *b = y;
  int c = by_key(a->style, b->style, a, b);
  return c ? c : by_key(a->s.bt, b->s.bt, a, b);
}

/* The filters and style control of one run. */
struct selection {
  const char *languages[16];
  int n_languages;
  int categories[LOG_CATEGORIES];
  int n_categories;
  int style;
  int dedup;           /* the dedup category is asked for */
};

static int keep_battle(const struct battle_log *log, const struct log_battle *b,
                       const struct selection *sel) {
  if (!log->meta)
    return 1;
  const struct log_meta *m = &log->meta[b->seq];
  for (int c = 0; c < sel->n_categories; c++)
    if (!(m->categories & (1u << sel->categories[c])))
      return 0;
  if (!sel->n_languages)
    return 1;
  if (m->language < 0)
    return 0;
  for (int l = 0; l < sel->n_languages; l++)
    if (log_language_match(log->languages[m->language], sel->languages[l]))
      return 1;
  return 0;
}

/* Style control over the selected battles that have counts; results into
 * rows[] (matched by model index through idx[]) and the coefficients. */
struct style_out {
  size_t battles, without_counts;
  struct style_result res;
  double beta_low[STYLE_FEATURES], beta_high[STYLE_FEATURES];
};

static int style_control(const struct battle_log *log, const size_t *chosen,
                         size_t n_chosen, const struct summary_params *p,
                         double *rating, double *low, double *high,
                         int *rank_ub, struct style_out *so) {
  int rc = -1, n = (int)log->n_models;
  struct style_battle *sb = malloc((n_chosen + 1) * sizeof *sb);
  int *comp = malloc(((size_t)n + 1) * sizeof *comp);
  if (!sb || !comp)
    goto out;
  size_t used = 0;
  for (size_t k = 0; k < n_chosen; k++) {
    const struct log_battle *b = &log->battles[chosen[k]];
    const struct log_meta *m = &log->meta[b->seq];
    if (!m->style) {
      so->without_counts++;
      continue;
    }
    struct style_battle *t = &sb[used++];
    t->a = b->a;
    t->b = b->b;
    t->outcome = b->w == WINNER_A ? 1.0 : b->w == WINNER_B ? 0.0 : 0.5;
    memcpy(t->count_a, m->style_a, sizeof t->count_a);
    memcpy(t->count_b, m->style_b, sizeof t->count_b);
  }
  so->battles = used;
  struct style_data d = {n, sb, used};
  if (style_fit(&d, rating, comp, &so->res))
    goto out;
  if (p->rounds > 0) {
    if (style_bootstrap(&d, p->rounds, p->seed, p->threads, low, high,
                        so->beta_low, so->beta_high))
      goto out;
  } else {
    for (int i = 0; i < n; i++)
      low[i] = high[i] = NAN;
    for (int f = 0; f < STYLE_FEATURES; f++)
      so->beta_low[f] = so->beta_high[f] = NAN;
  }
  bt_rank_ub(n, low, high, comp, rank_ub);
  rc = 0;
out:
  free(comp);
  free(sb);
  return rc;
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
      {"style-control", no_argument, NULL, 'S'},
      {"language", required_argument, NULL, 'L'},
      {"category", required_argument, NULL, 'C'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  int json = 0, anony_only = 0, c, rc = 1;
  struct summary_params p = {.k = 4.0, .rounds = 1000, .threads = 2};
  int seeded = 0, cat;
  struct selection sel = {0};
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
      if (cli_parse_k(optarg, &p.k))
        return 2;
      break;
    case 't':
      p.threads = (int)strtol(optarg, &end, 10);
      if (*end || p.threads < 1 || p.threads > 64) {
        fprintf(stderr, "agon: --threads: expected 1 to 64\n");
        return 2;
      }
      break;
    case 'S': sel.style = 1; break;
    case 'L':
      if (sel.n_languages == 16) {
        fprintf(stderr, "agon: --language: at most 16\n");
        return 2;
      }
      sel.languages[sel.n_languages++] = optarg;
      break;
    case 'C':
      if (!strcmp(optarg, "full"))
        break;
      cat = log_category_parse(optarg);
      if (cat < 0) {
        fprintf(stderr, "agon: --category: unknown category '%s' (known:",
                optarg);
        for (int k = 0; k < LOG_CATEGORIES; k++)
          fprintf(stderr, " %s", log_category_name(k));
        fprintf(stderr, ", full)\n");
        return 2;
      }
      if (sel.n_categories < LOG_CATEGORIES)
        sel.categories[sel.n_categories++] = cat;
      sel.dedup |= cat == LOG_CAT_DEDUP;
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
  size_t *chosen = NULL;
  double *st = NULL;
  int *st_rank = NULL;
  struct style_out so = {0};
  size_t shown = 0;
  char err[1024];
  int flags = BATTLE_LOG_FAST;
  if (sel.style || sel.n_languages || sel.n_categories)
    flags |= BATTLE_LOG_META;
  for (int i = optind; i < argc; i++) {
    if (battle_log_read(&log, argv[i], flags, cli_report_problem, &shown, err,
                        sizeof err)) {
      fprintf(stderr, "agon: %s\n", err);
      goto out;
    }
  }
  if (shown > 20)
    fprintf(stderr, "agon: ... %zu malformed records in all (skipped)\n",
            shown);
  struct dedup_summary dd = {0};
  size_t dd_n = 0;
  if (sel.dedup && battle_log_dedup(&log, &dd, &dd_n)) {
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
  battle_log_sort(&log);
  o = malloc((log.n + 1) * sizeof *o);
  chosen = malloc((log.n + 1) * sizeof *chosen);
  rows = calloc(log.n_models + 1, sizeof *rows);
  st = malloc((3 * log.n_models + 1) * sizeof *st);
  st_rank = calloc(log.n_models + 1, sizeof *st_rank);
  if (!o || !chosen || !rows || !st || !st_rank) {
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
  size_t used = 0;
  for (size_t i = 0; i < log.n; i++) {
    if (anony_only && !log.battles[i].anony)
      continue;
    if (!keep_battle(&log, &log.battles[i], &sel))
      continue;
    chosen[used] = i;
    o[used++] = (struct outcome){log.battles[i].a, log.battles[i].b,
                                 log.battles[i].w};
  }
  int n = (int)log.n_models;
  double *st_rating = st, *st_low = st + n, *st_high = st + 2 * n;
  if (sel.style && style_control(&log, chosen, used, &p, st_rating, st_low,
                                 st_high, st_rank, &so)) {
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
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
    rows[nrows].s = s[i];
    rows[nrows].style = sel.style ? st_rating[i] : NAN;
    rows[nrows].style_low = sel.style ? st_low[i] : NAN;
    rows[nrows].style_high = sel.style ? st_high[i] : NAN;
    rows[nrows++].style_rank_ub = sel.style ? st_rank[i] : 0;
  }
  free(s);
  qsort(rows, nrows, sizeof *rows, sel.style ? by_style : by_bt);

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
      if (sel.style)
        json_object_set_new(
            row, "style",
            json_pack("{s:o, s:o, s:o, s:o}", "rating",
                      num_or_null(rows[i].style), "ci_low",
                      num_or_null(rows[i].style_low), "ci_high",
                      num_or_null(rows[i].style_high), "rank_ub",
                      rows[i].style_rank_ub
                          ? json_integer(rows[i].style_rank_ub)
                          : json_null()));
      json_array_append_new(models, row);
    }
    json_t *root = json_pack("{s:I, s:I, s:I, s:I, s:o}", "battles",
                             (json_int_t)used, "malformed",
                             (json_int_t)log.malformed, "bootstrap",
                             (json_int_t)p.rounds, "seed", (json_int_t)p.seed,
                             "models", models);
    if (sel.n_languages || sel.n_categories) {
      json_t *langs = json_array(), *cats = json_array();
      for (int l = 0; l < sel.n_languages; l++)
        json_array_append_new(langs, json_string(sel.languages[l]));
      for (int k = 0; k < sel.n_categories; k++)
        json_array_append_new(cats,
                              json_string(log_category_name(sel.categories[k])));
      json_object_set_new(root, "filters",
                          json_pack("{s:o, s:o}", "language", langs,
                                    "category", cats));
    }
    if (sel.dedup)
      json_object_set_new(
          root, "dedup",
          json_pack("{s:I, s:I, s:f, s:I, s:I, s:I}", "computed",
                    (json_int_t)dd_n, "prompts", (json_int_t)dd.prompts,
                    "cutoff", dd.cutoff, "high_freq_prompts",
                    (json_int_t)dd.high_freq_prompts, "high_freq_battles",
                    (json_int_t)dd.high_freq_battles, "not_sampled",
                    (json_int_t)dd.dropped));
    if (sel.style) {
      json_t *coef = json_object(), *lo = json_object(), *hi = json_object();
      json_t *feat = json_object();
      for (int f = 0; f < STYLE_FEATURES; f++) {
        const char *name = style_feature_names[f];
        json_object_set_new(coef, name, num_or_null(so.res.beta[f]));
        json_object_set_new(lo, name, num_or_null(so.beta_low[f]));
        json_object_set_new(hi, name, num_or_null(so.beta_high[f]));
        json_object_set_new(feat, name,
                            json_pack("{s:o, s:o}", "mean",
                                      num_or_null(so.res.mean[f]), "std",
                                      num_or_null(so.res.std[f])));
      }
      json_object_set_new(
          root, "style",
          json_pack("{s:o, s:o, s:o, s:I, s:I, s:o, s:i, s:f}",
                    "coefficients", coef, "ci_low", lo, "ci_high", hi,
                    "battles", (json_int_t)so.battles, "without_counts",
                    (json_int_t)so.without_counts, "features", feat,
                    "iterations", so.res.iterations, "gradient_norm",
                    so.res.gradient_norm));
    }
    json_dumpf(root, stdout, JSON_INDENT(2));
    putchar('\n');
    json_decref(root);
  } else if (sel.style) {
    printf("%-4s %-40s %8s %8s %17s %8s %17s %5s %8s %15s\n", "rank", "model",
           "elo", "bt", "95% ci", "style", "95% ci", "ub", "battles", "w/l/t");
    for (size_t i = 0; i < nrows; i++) {
      struct model_summary *m = &rows[i].s;
      char ci[32] = "-", sci[32] = "-", sr[16] = "-", wlt[48];
      if (!isnan(m->ci_low))
        snprintf(ci, sizeof ci, "%.1f..%.1f", m->ci_low, m->ci_high);
      if (!isnan(rows[i].style))
        snprintf(sr, sizeof sr, "%.1f", rows[i].style);
      if (!isnan(rows[i].style_low))
        snprintf(sci, sizeof sci, "%.1f..%.1f", rows[i].style_low,
                 rows[i].style_high);
      snprintf(wlt, sizeof wlt, "%ld/%ld/%ld", m->wins, m->losses, m->ties);
      printf("%-4zu %-40.40s %8.1f %8.1f %17s %8s %17s %5d %8ld %15s\n", i + 1,
             rows[i].model, m->elo, m->bt, ci, sr, sci, rows[i].style_rank_ub,
             m->battles, wlt);
    }
    printf("style coefficients (logit per standard deviation of the "
           "feature, 95%% ci):\n");
    for (int f = 0; f < STYLE_FEATURES; f++) {
      printf("  %-8s %9.4f", style_feature_names[f], so.res.beta[f]);
      if (!isnan(so.beta_low[f]))
        printf("  (%.4f..%.4f)", so.beta_low[f], so.beta_high[f]);
      printf("%s\n", so.res.std[f] == 0 ? "  (no variation: set to 0)" : "");
    }
    printf("%zu battles, %zu models, %d bootstrap rounds (seed %llu)%s; style "
           "control on %zu battles (%zu without style counts left out)\n",
           used, nrows, p.rounds, (unsigned long long)p.seed,
           log.malformed ? ", malformed records skipped" : "", so.battles,
           so.without_counts);
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
  if (!json && sel.dedup)
    printf("dedup: computed for %zu records without a dedup_tag: %zu "
           "prompts, cutoff %.2f, %zu high-frequency prompts (%zu records), "
           "%zu records not sampled\n",
           dd_n, dd.prompts, dd.cutoff, dd.high_freq_prompts,
           dd.high_freq_battles, dd.dropped);
  rc = 0;
out:
  free(o);
  free(chosen);
  free(st);
  free(st_rank);
  free(rows);
  battle_log_release(&log);
  return rc;
}
