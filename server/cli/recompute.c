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
  struct slice_table live_slices, replay_slices;
  slice_table_init(&live_slices);
  slice_table_init(&replay_slices);
  long n = 0, n_sliced = 0;
  int rc = 1;
  if (store_ratings_load(&st, &live, &live_pairs) ||
      store_ratings_replay(&st, k, &replay, &replay_pairs, &n) ||
      store_slices_load(&st, &live_slices) ||
      store_slices_replay(&st, &replay_slices, &n_sliced)) {
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
  int pairs_same = pair_table_equal(&live_pairs, &replay_pairs);
  /* and so must every slice's (tags as stored now) */
  int slices_same = live_slices.n == replay_slices.n;
  for (size_t i = 0; slices_same && i < replay_slices.n; i++) {
    const struct slice *r = &replay_slices.s[i];
    const struct slice *l = slice_table_find(&live_slices, r->key);
    slices_same = l && pair_table_equal(&l->pairs, &r->pairs);
  }
  same = same && pairs_same && slices_same;
  json_t *out = json_pack("{s:I, s:b, s:b, s:b, s:I, s:o}", "votes",
                          (json_int_t)n, "matches", same,
                          "pair_counts_match", pairs_same,
                          "slice_counts_match", slices_same, "slices",
                          (json_int_t)replay_slices.n, "models", models);
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
  slice_table_release(&live_slices);
  slice_table_release(&replay_slices);
  store_close(&st);
  return rc;
}

