/* The agon subcommands, one file each under server/cli/. Each takes the
 * arguments after the command name (argv[0] is the command) and returns
 * the process exit status. */
#ifndef AGON_CLI_CLI_H
#define AGON_CLI_CLI_H

extern const char agon_usage[];           /* main.c */

int cmd_serve(int argc, char **argv);        /* serve.c */
int cmd_check_config(int argc, char **argv); /* check_config.c */
int cmd_recompute(int argc, char **argv);    /* recompute.c */
int cmd_ratings(int argc, char **argv);      /* ratings.c */
int cmd_import(int argc, char **argv);       /* import.c */
int cmd_export(int argc, char **argv);       /* export.c */
int cmd_judge(int argc, char **argv);        /* judge.c */

#endif
