/* agon recompute: replay every vote and compare with the live ratings. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agon_version.h"
#include "cli/cli.h"
#include "config/config.h"
#include "demo/demo.h"
#include "handlers/handlers.h"
#include "http/server.h"
#include "storage/store.h"

static int by_name(const void *x, const void *y) {
  return strcmp(((const struct rating_row *)x)->model,
                ((const struct rating_row *)y)->model);
}

int cmd_recompute(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, NULL, 'D'},
                                       {"k", required_argument, NULL, 'k'},
                                       {NULL, 0, NULL, 0}};
  const char *db = NULL;
  double k = 4.0;
  int c;
  while ((c = getopt_long(argc, argv, "D:k:", opts, NULL)) != -1) {
    if (c == 'D')
      db = optarg;
    else if (c == 'k') {
      if (cli_parse_k(optarg, &k))
        return 2;
    } else
      return 2;
  }
  if (!db) {
    fprintf(stderr, "usage: agon recompute --db FILE [--k K]\n");
    return 2;
  }
  struct store st;
  if (cli_store_open(&st, db, 1))
    return 1;
  struct rating_table live = {0}, replay = {0};
  struct pair_table live_pairs = {0}, replay_pairs = {0};
  long n = 0;
  int rc = 1;
  if (store_ratings_load(&st, &live, &live_pairs) ||
      store_ratings_replay(&st, k, &replay, &replay_pairs, &n)) {
    fprintf(stderr, "agon: '%s': cannot read votes: %s\n", db,
            store_error(&st));
    goto out;
  }
  if (replay.n)
    qsort(replay.rows, replay.n, sizeof *replay.rows, by_name);
  int same = live.n == replay.n;
  json_t *models = json_array();
  for (size_t i = 0; i < replay.n; i++) {
    const struct rating_row *r = &replay.rows[i];
    const struct rating_row *l = rating_table_find(&live, r->model);
    int eq = l && l->elo == r->elo && l->battles == r->battles &&
             l->wins == r->wins && l->losses == r->losses && l->ties == r->ties;
    same = same && eq;
    json_array_append_new(
        models, json_pack("{s:s, s:f, s:o, s:I, s:I, s:I, s:I, s:b}", "model",
                          r->model, "elo", r->elo, "live_elo",
                          l ? json_real(l->elo) : json_null(), "battles",
                          (json_int_t)r->battles, "wins", (json_int_t)r->wins,
                          "losses", (json_int_t)r->losses, "ties",
                          (json_int_t)r->ties, "matches", eq));
  }
  /* the pair counts that Bradley-Terry is fitted from must agree too */
  int pairs_same = live_pairs.n == replay_pairs.n;
  for (size_t i = 0; pairs_same && i < replay_pairs.n; i++) {
    const struct pair_row *r = &replay_pairs.rows[i];
    const struct pair_row *l = pair_table_get(&live_pairs, r->a, r->b, 0);
    pairs_same = l && l->wins_a == r->wins_a && l->wins_b == r->wins_b &&
                 l->ties == r->ties;
  }
  same = same && pairs_same;
  json_t *out = json_pack("{s:I, s:b, s:b, s:o}", "votes", (json_int_t)n,
                          "matches", same, "pair_counts_match", pairs_same,
                          "models", models);
  json_dumpf(out, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
  putchar('\n');
  json_decref(out);
  if (!same)
    fprintf(stderr, "agon: live ratings differ from the replay of %ld votes\n",
            n);
  rc = same ? 0 : 1;
out:
  rating_table_release(&live);
  rating_table_release(&replay);
  pair_table_release(&live_pairs);
  pair_table_release(&replay_pairs);
  store_close(&st);
  return rc;
}

