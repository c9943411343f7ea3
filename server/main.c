/* agon: the command line. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>

#include "agon_version.h"
#include "battle/arena.h"
#include "cli/cli.h"
#include "config.h"
#include "demo/demo.h"
#include "handlers/handlers.h"
#include "http/server.h"
#include "util/util.h"

static const char usage[] =
    "usage: agon <command> [options]\n"
    "\n"
    "Agon is a self-hosted arena for large language models: two anonymous\n"
    "models answer each prompt, visitors vote, a live leaderboard ranks them.\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--listen HOST:PORT] [--demo] [--db FILE]\n"
    "        run the arena. --demo adds built-in demo models (no config\n"
    "        needed). Port 0 picks a free port. Prints one line\n"
    "        'agon: listening on http://HOST:PORT/' once it accepts.\n"
    "  check-config FILE\n"
    "        read FILE; exit 0 when it is valid, else name the file and line\n"
    "  recompute --db FILE\n"
    "        replay every counted vote in commit order and compare with the\n"
    "        live ratings; prints JSON; exit 0 when they agree, 1 when not\n"
    "  ratings [--json] [--anony-only] [--bootstrap N] [--seed S] [--k K] FILE...\n"
    "        Elo and Bradley-Terry ratings with 95% intervals from battle\n"
    "        logs in FastChat's clean-battle format\n"
    "  --help, --version\n"
    "\n"
    "With --demo and no database in the config, the database is\n"
    "$XDG_DATA_HOME/agon/demo.db (default ~/.local/share/agon/demo.db).\n";

/* The demo database path; created directories as needed. */
static char *demo_db_path(void) {
  const char *xdg = getenv("XDG_DATA_HOME");
  const char *home = getenv("HOME");
  char dir[4096];
  if (xdg && *xdg)
    snprintf(dir, sizeof dir, "%s/agon", xdg);
  else if (home && *home)
    snprintf(dir, sizeof dir, "%s/.local/share/agon", home);
  else
    snprintf(dir, sizeof dir, ".");
  /* mkdir -p */
  for (char *p = dir + 1; *p; p++) {
    if (*p == '/') {
      *p = '\0';
      mkdir(dir, 0755);
      *p = '/';
    }
  }
  mkdir(dir, 0755);
  char path[4200];
  snprintf(path, sizeof path, "%s/demo.db", dir);
  return strdup(path);
}

static int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"listen", required_argument, NULL, 'l'},
      {"demo", no_argument, NULL, 'd'},
      {"db", required_argument, NULL, 'D'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config_file = NULL, *listen = NULL, *db = NULL;
  int demo = 0, c, rc = 1;
  char err[1024];
  struct config cfg;
  struct arena arena;
  int arena_up = 0;
  struct demo_server *demo_srv = NULL;
  struct http_server *http = NULL;

  while ((c = getopt_long(argc, argv, "c:l:dD:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_file = optarg; break;
    case 'l': listen = optarg; break;
    case 'd': demo = 1; break;
    case 'D': db = optarg; break;
    case 'h': fputs(usage, stdout); return 0;
    default: fputs(usage, stderr); return 2;
    }
  }
  if (optind < argc) {
    fprintf(stderr, "agon: unexpected argument '%s'\n", argv[optind]);
    return 2;
  }
  if (!config_file && !demo) {
    fprintf(stderr, "agon: serve needs --config FILE or --demo\n");
    return 2;
  }

  /* Signals are taken by sigwait below: block them before any thread. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);
  signal(SIGPIPE, SIG_IGN);

  config_init(&cfg);
  int db_from_config = 0;
  if (config_file) {
    free(cfg.database);
    cfg.database = NULL;
    if (config_load(&cfg, config_file, err, sizeof err)) {
      fprintf(stderr, "agon: %s\n", err);
      config_release(&cfg);
      return 1;
    }
    db_from_config = cfg.database != NULL;
    if (!cfg.database)
      cfg.database = strdup("agon.db");
  }
  if (demo) {
    demo_srv = demo_start(&cfg, err, sizeof err);
    if (!demo_srv) {
      fprintf(stderr, "agon: %s\n", err);
      config_release(&cfg);
      return 1;
    }
    if (!db_from_config) {
      free(cfg.database);
      cfg.database = demo_db_path();
    }
  }
  if (db) {
    free(cfg.database);
    cfg.database = strdup(db);
  }
  if (listen) {
    free(cfg.listen);
    cfg.listen = strdup(listen);
  }
  if (static_init()) {
    fprintf(stderr, "agon: cannot prepare the built-in pages\n");
    goto out;
  }
  if (arena_init(&arena, &cfg, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  arena_up = 1;
  uint16_t port = 0;
  http = http_server_start(&arena, arena.cfg.listen, 2, &port, err, sizeof err);
  if (!http) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  char host[256];
  uint16_t ignored;
  parse_listen(arena.cfg.listen, host, sizeof host, &ignored);
  int v6 = strchr(host, ':') != NULL;
  printf("agon: listening on http://%s%s%s:%u/\n", v6 ? "[" : "",
         host[0] ? host : "0.0.0.0", v6 ? "]" : "", port);
  fflush(stdout);
  log_info("msg=\"serving\" models=%zu enabled=%zu database=\"%s\"",
           arena.cfg.n_models, config_enabled_models(&arena.cfg),
           arena.cfg.database);

  for (;;) {
    int sig = 0;
    if (sigwait(&sigs, &sig))
      continue;
    if (sig == SIGHUP) {
      log_info("msg=\"SIGHUP: configuration reload is not supported yet\"");
      continue;
    }
    log_info("msg=\"shutting down\" signal=%d", sig);
    break;
  }
  rc = 0;
out:
  if (arena_up)
    upstream_stop(arena.up);   /* ends every stream, which wakes watchers */
  http_server_stop(http);
  demo_stop(demo_srv);
  if (arena_up)
    arena_release(&arena);
  else
    config_release(&cfg);
  static_release();
  return rc;
}

static int cmd_check_config(int argc, char **argv) {
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

static int by_name(const void *x, const void *y) {
  return strcmp(((const struct rating_row *)x)->model,
                ((const struct rating_row *)y)->model);
}

static int cmd_recompute(int argc, char **argv) {
  static const struct option opts[] = {{"db", required_argument, NULL, 'D'},
                                       {"k", required_argument, NULL, 'k'},
                                       {NULL, 0, NULL, 0}};
  const char *db = NULL;
  double k = 4.0;
  int c;
  while ((c = getopt_long(argc, argv, "D:k:", opts, NULL)) != -1) {
    if (c == 'D')
      db = optarg;
    else if (c == 'k')
      k = strtod(optarg, NULL);
    else
      return 2;
  }
  if (!db) {
    fprintf(stderr, "usage: agon recompute --db FILE [--k K]\n");
    return 2;
  }
  struct stat sb;
  if (stat(db, &sb)) {
    fprintf(stderr, "agon: cannot open '%s': %s\n", db, strerror(errno));
    return 1;
  }
  struct store st;
  char err[1024];
  if (store_open(&st, db, err, sizeof err)) {
    fprintf(stderr, "agon: %s\n", err);
    return 1;
  }
  struct rating_table live = {0}, replay = {0};
  struct pair_table live_pairs = {0}, replay_pairs = {0};
  long n = 0;
  int rc = 1;
  if (store_ratings_load(&st, &live, &live_pairs) ||
      store_ratings_replay(&st, k, &replay, &replay_pairs, &n)) {
    fprintf(stderr, "agon: '%s': cannot read votes: %s\n", db,
            sqlite3_errmsg(st.db));
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

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("agon %s\n", AGON_VERSION);
    return 0;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  int rc;
  if (!strcmp(cmd, "serve"))
    rc = cmd_serve(argc - 1, argv + 1);
  else if (!strcmp(cmd, "check-config"))
    rc = cmd_check_config(argc - 1, argv + 1);
  else if (!strcmp(cmd, "ratings"))
    rc = cmd_ratings(argc - 1, argv + 1);
  else if (!strcmp(cmd, "recompute"))
    rc = cmd_recompute(argc - 1, argv + 1);
  else {
    fprintf(stderr, "agon: unknown command '%s' (see agon --help)\n", cmd);
    rc = 2;
  }
  curl_global_cleanup();
  return rc;
}
