/* agon: the command line. */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "agon_version.h"
#include "cli/cli.h"
#include "config/config.h"

const char agon_usage[] =
    "usage: agon <command> [options]\n"
    "\n"
    "Agon is a self-hosted arena for large language models: two anonymous\n"
    "models answer each prompt, visitors vote, a live leaderboard ranks them.\n"
    "\n"
    "commands:\n"
    "  serve [--config FILE] [--listen HOST:PORT] [--demo] [--db FILE]\n"
    "        [--web-dir DIR]\n"
    "        run the arena. --demo adds built-in demo models (no config\n"
    "        needed). Port 0 picks a free port. Prints one line\n"
    "        'agon: listening on http://HOST:PORT/' once it accepts.\n"
    "        --web-dir serves the pages from DIR instead of the built-in\n"
    "        copies (for working on them).\n"
    "  check-config FILE\n"
    "        read FILE; exit 0 when it is valid, else name the file and line\n"
    "  recompute --db FILE\n"
    "        replay every counted vote in commit order and compare with the\n"
    "        live ratings; prints JSON; exit 0 when they agree, 1 when not\n"
    "  ratings [--json] [--anony-only] [--bootstrap N] [--seed S] [--k K] FILE...\n"
    "        Elo and Bradley-Terry ratings with 95% intervals from battle\n"
    "        logs in FastChat's clean-battle format\n"
    "  import --db FILE LOG...\n"
    "        store battles from FastChat clean-battle logs (idempotent);\n"
    "        anonymous ones count in the ratings. Run with the server stopped.\n"
    "  export --db FILE [--format fastchat|jsonl|csv] [--output FILE]\n"
    "        write every voted battle in FastChat's clean-battle schema\n"
    "  judge --db FILE --config FILE [--judge NAME] [--limit N]\n"
    "        let the [judge NAME] sections judge the battles they have not\n"
    "        judged yet (imported ones included)\n"
    "  tag --db FILE --config FILE [--tagger NAME] [--limit N]\n"
    "        give battles stored without them their language and heuristic\n"
    "        tags, and let the [tagger NAME] sections tag the voted battles\n"
    "        in the categories they have no verdict on (imported ones too)\n"
    "  bench --config FILE --task TASK --data FILE [--shots FILE]\n"
    "        [--model NAME] [--limit N] [--seed S] [--mode likelihood|generate]\n"
    "        [--concurrency C] [--retries N] [--backoff-ms MS]\n"
    "        measure an Open LLM Leaderboard task (arc_challenge, hellaswag,\n"
    "        mmlu, truthfulqa_mc2, winogrande, gsm8k) through each model's own\n"
    "        endpoint; resumable: the same command continues a stopped run\n"
    "  migrate --from DATABASE --to DATABASE\n"
    "        copy every row of an arena (it may be running: its database\n"
    "        is read in one snapshot) into a database that holds no data\n"
    "        yet, in one transaction. DATABASE: a SQLite file (or\n"
    "        sqlite:FILE), or a postgresql:// URL or libpq keyword string\n"
    "  --help, --version\n"
    "\n"
    "With --demo and no database in the config, the database is\n"
    "$XDG_DATA_HOME/agon/demo.db (default ~/.local/share/agon/demo.db).\n";

/* The commands, by name. */
static const struct command {
  const char *name;
  int (*run)(int argc, char **argv);
} commands[] = {
    {"serve", cmd_serve},         {"check-config", cmd_check_config},
    {"recompute", cmd_recompute}, {"ratings", cmd_ratings},
    {"import", cmd_import},       {"export", cmd_export},
    {"judge", cmd_judge},         {"tag", cmd_tag},
    {"bench", cmd_bench},
    {"migrate", cmd_migrate},
};

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(agon_usage, stderr);
    return 2;
  }
  const char *cmd = argv[1];
  if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
    fputs(agon_usage, stdout);
    return 0;
  }
  if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
    printf("agon %s\n", AGON_VERSION);
    /* the storage engines of this build (config_db_engine_built) */
    printf("storage engines: %s%s\n", config_db_engine_name(CONFIG_DB_SQLITE),
           config_db_engine_built(CONFIG_DB_POSTGRES) ? ", PostgreSQL" : "");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
    if (strcmp(cmd, commands[i].name))
      continue;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc = commands[i].run(argc - 1, argv + 1);
    curl_global_cleanup();
    return rc;
  }
  fprintf(stderr, "agon: unknown command '%s' (see agon --help)\n", cmd);
  return 2;
}
