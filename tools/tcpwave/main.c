/* main.c - the tcpwave command: one binary, one file per subcommand. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
    fprintf(f, "usage: tcpwave <command> [options]\n"
               "\n"
               "commands:\n"
               "  demo     run a client and a server over the simulated link and print\n"
               "           every segment and state change of the connection's life\n"
               "           (tcpwave demo --help for scenarios)\n"
               "  ladder   draw a JSON-lines trace (demo --trace FILE) as the textbook\n"
               "           ladder diagram, text or SVG (tcpwave ladder --help)\n"
               "  serve    a TCP server on tcpwave's stack over a Linux TUN device,\n"
               "           for the kernel (curl, nc) to talk to (tcpwave serve --help)\n"
               "  connect  one connection from tcpwave over a TUN device to a kernel\n"
               "           server (tcpwave connect --help)\n"
               "  analyze  read a pcap/pcapng capture and tell, per connection, how each\n"
               "           endpoint closed: states, dwell, diagnoses (tcpwave analyze --help)\n"
               "  script   run packetdrill scripts against tcpwave in-process on a\n"
               "           virtual clock (tcpwave script --help)\n"
               "  help     this text\n"
               "\n"
               "example: tcpwave demo --scenario client-close\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "demo")) return tw_cli_demo(argc - 1, argv + 1);
    if (!strcmp(cmd, "ladder")) return tw_cli_ladder(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return tw_cli_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "connect")) return tw_cli_connect(argc - 1, argv + 1);
    if (!strcmp(cmd, "script")) return tw_cli_script(argc - 1, argv + 1);
    if (!strcmp(cmd, "analyze")) return tw_cli_analyze(argc - 1, argv + 1);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    fprintf(stderr, "tcpwave: unknown command '%s' (try 'tcpwave help')\n", cmd);
    return 2;
}
