/* The agon subcommands, one file each under server/cli/. Each takes the
 * arguments after the command name (argv[0] is the command) and returns
 * the process exit status. */
#ifndef AGON_CLI_CLI_H
#define AGON_CLI_CLI_H

#include <stddef.h>

struct store;

extern const char agon_usage[];           /* main.c */

int cmd_serve(int argc, char **argv);        /* serve.c */
int cmd_check_config(int argc, char **argv); /* check_config.c */
int cmd_recompute(int argc, char **argv);    /* recompute.c */
int cmd_ratings(int argc, char **argv);      /* ratings.c */
int cmd_import(int argc, char **argv);       /* import.c */
int cmd_export(int argc, char **argv);       /* export.c */
int cmd_judge(int argc, char **argv);        /* judge.c */
int cmd_tag(int argc, char **argv);          /* tag.c */
int cmd_bench(int argc, char **argv);        /* bench.c */
int cmd_migrate(int argc, char **argv);      /* migrate.c */

/* ---- what they share (cli.c) ---- */

/* Open the database db into st: store_open_existing when must_exist (a
 * missing file is an error), else store_open. 0, or -1 with the reason
 * printed on stderr (st then not open). */
int cli_store_open(struct store *st, const char *db, int must_exist);

/* --k's value, arg, into *k: 0, or -1 with the complaint printed when it
 * is not a number >= 0. */
int cli_parse_k(const char *arg, double *k);

/* The arguments of a command that works through a database with its
 * configuration's sections (`agon judge`, `agon tag`): --db FILE --config
 * FILE [--WHAT NAME] [--limit N]. Strings borrowed from argv. */
struct cli_batch_args {
  const char *db, *config;
  const char *only;     /* --WHAT NAME, or NULL */
  long limit;           /* 0: no limit */
};

/* Read argv of command cmd into *a, whose --what names one section
 * (short option: what's first letter). 0, or the exit status 2 after the
 * complaint or the usage is printed. */
int cli_batch_args(int argc, char **argv, const char *cmd, const char *what,
                   struct cli_batch_args *a);

/* A battle log's log_problem_fn for the commands that read logs: prints
 * the first 20 records skipped; cls is the size_t count of them. */
void cli_report_problem(void *cls, const char *file, size_t index,
                        const char *msg);

#endif
