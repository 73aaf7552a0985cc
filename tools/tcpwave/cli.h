/* cli.h - subcommand entry points of the tcpwave command. Each takes the
 * arguments after "tcpwave" (argv[0] is the subcommand name) and returns the
 * process exit status: 0 success, 1 failure, 2 bad usage. */
#ifndef TW_TOOLS_CLI_H
#define TW_TOOLS_CLI_H

int tw_cli_demo(int argc, char **argv);
int tw_cli_ladder(int argc, char **argv);
int tw_cli_serve(int argc, char **argv);
int tw_cli_connect(int argc, char **argv);
int tw_cli_script(int argc, char **argv);
int tw_cli_analyze(int argc, char **argv);

#endif
