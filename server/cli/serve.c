/* agon serve: run the arena. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "agon_version.h"
#include "battle/arena.h"
#include "cli/cli.h"
#include "config/config.h"
#include "demo/demo.h"
#include "handlers/handlers.h"
#include "http/server.h"
#include "util/fdbudget.h"
#include "util/log.h"
#include "util/listen.h"

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

int cmd_serve(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"listen", required_argument, NULL, 'l'},
      {"demo", no_argument, NULL, 'd'},
      {"db", required_argument, NULL, 'D'},
      {"web-dir", required_argument, NULL, 'w'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  const char *config_file = NULL, *listen = NULL, *db = NULL;
  int demo = 0, c, rc = 1;
  char err[1024];
  struct config *cfg = NULL;
  struct arena *arena = NULL;
  struct demo_server *demo_srv = NULL;
  struct http_server *http = NULL;

  while ((c = getopt_long(argc, argv, "c:l:dD:w:h", opts, NULL)) != -1) {
    switch (c) {
    case 'c': config_file = optarg; break;
    case 'l': listen = optarg; break;
    case 'd': demo = 1; break;
    case 'D': db = optarg; break;
    case 'w': static_set_dir(optarg); break;
    case 'h': fputs(agon_usage, stdout); return 0;
    default: fputs(agon_usage, stderr); return 2;
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
  long nofile = fdbudget_raise();

  cfg = config_new();
  if (!cfg)
    return 1;
  int db_from_config = 0;
  if (config_file) {
    free(cfg->database);
    cfg->database = NULL;
    if (config_load(cfg, config_file, err, sizeof err)) {
      fprintf(stderr, "agon: %s\n", err);
      config_unref(cfg);
      return 1;
    }
    db_from_config = cfg->database != NULL;
    if (!cfg->database)
      cfg->database = strdup("agon.db");
  }
  size_t first_demo = cfg->n_models;
  if (demo) {
    demo_srv = demo_start(cfg, err, sizeof err);
    if (!demo_srv) {
      fprintf(stderr, "agon: %s\n", err);
      config_unref(cfg);
      return 1;
    }
    if (!db_from_config) {
      free(cfg->database);
      cfg->database = demo_db_path();
    }
  }
  if (db) {
    free(cfg->database);
    cfg->database = strdup(db);
  }
  if (listen) {
    free(cfg->listen);
    cfg->listen = strdup(listen);
  }
  if (static_init()) {
    fprintf(stderr, "agon: cannot prepare the built-in pages\n");
    goto out;
  }
  struct config *mine = cfg;
  cfg = NULL; /* the arena owns it from here, even on failure */
  arena = arena_new(mine, err, sizeof err);
  if (!arena) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  if (arena_keep_models(arena, mine->models + first_demo,
                        mine->n_models - first_demo)) {
    fprintf(stderr, "agon: out of memory\n");
    goto out;
  }
  uint16_t port = 0;
  struct http_app app = {
      .routes = agon_routes, .arena = arena, .config = arena_config};
  http = http_server_start(&app, mine, mine->listen, 2, &port, err,
                           sizeof err);
  if (!http) {
    fprintf(stderr, "agon: %s\n", err);
    goto out;
  }
  char host[256];
  uint16_t ignored;
  parse_listen(mine->listen, host, sizeof host, &ignored);
  arena_node_listening(arena, host, port);
  int v6 = strchr(host, ':') != NULL;
  printf("agon: listening on http://%s%s%s:%u/\n", v6 ? "[" : "",
         host[0] ? host : "0.0.0.0", v6 ? "]" : "", port);
  fflush(stdout);
  log_info("msg=\"serving\" models=%zu enabled=%zu database=\"%s\" "
           "open_files=%ld max_connections=%ld max_concurrent_battles=%ld",
           mine->n_models, config_enabled_models(mine), log_q(mine->database), nofile,
           mine->max_connections < 0 ? fdbudget_connections()
                                     : mine->max_connections,
           mine->max_concurrent_battles < 0 ? fdbudget_battles()
                                            : mine->max_concurrent_battles);

  for (;;) {
    /* once a second: the count of a flood of warnings that has stopped,
     * and the arena's housekeeping (idle battles out of memory) */
    struct timespec second = {.tv_sec = 1};
    int sig = sigtimedwait(&sigs, NULL, &second);
    if (sig < 0) {
      log_flush(0);
      arena_tick(arena);
      continue;
    }
    if (sig == SIGHUP) {
      if (arena_reload(arena, err, sizeof err))
        log_error("msg=\"reload failed; the running configuration stays\" "
                  "error=\"%s\"", log_q(err));
      else
        log_info("msg=\"configuration reloaded\"");
      continue;
    }
    log_info("msg=\"shutting down\" signal=%d", sig);
    break;
  }
  rc = 0;
out:
  if (arena)
    arena_shutdown(arena); /* every stream ends before the server stops */
  http_server_stop(http);
  demo_stop(demo_srv);
  arena_free(arena);
  config_unref(cfg);
  static_release();
  log_flush(1);
  return rc;
}

