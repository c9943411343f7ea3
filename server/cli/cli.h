/* The agon subcommands, one file each under server/cli/. Each takes the
 * arguments after the command name (argv[0] is the command) and returns
 * the process exit status. */
#ifndef AGON_CLI_CLI_H
#define AGON_CLI_CLI_H

int cmd_ratings(int argc, char **argv);   /* ratings.c */

#endif
