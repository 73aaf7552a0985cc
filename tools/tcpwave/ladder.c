/* ladder.c - `tcpwave ladder`: read a JSON-lines trace (from `tcpwave demo
 * --trace`, or any tool that writes the format of src/view/trace_json.h)
 * and draw each connection as the textbook ladder diagram, followed by its
 * close reason and dwell per state; --svg writes the same diagram as SVG. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "view/report.h"

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: tcpwave ladder FILE.jsonl [--conn N] [--list] [--relative|--absolute|--symbolic]\n"
        "                      [--svg OUT] [--no-text]\n"
        "\n"
        "Draws connections of a JSON-lines trace as ladder diagrams: the active opener\n"
        "(client) on the left, the passive side (server) on the right, each side's state\n"
        "where it changes, and an arrow per segment with its flags and seq/ack(/len).\n"
        "In text, an arrow sits on the row of its send time; the receiver's state change\n"
        "shows at the arrival time. The SVG slants each arrow from send to arrival.\n"
        "An arrow ending in X was lost on the link; [retrans] marks a retransmission.\n"
        "Each connection ends with its close reason and the time spent in each state.\n"
        "\n"
        "  FILE.jsonl   the trace ('-' reads standard input); write one with\n"
        "               tcpwave demo --scenario NAME --trace FILE.jsonl\n"
        "  --conn N     only connection N (1, 2, ... in order of appearance; see --list);\n"
        "               default: every connection\n"
        "  --list       list the connections of the trace and exit\n"
        "  --relative   seq/ack relative to each side's ISN, as Wireshark shows them\n"
        "               (the default)\n"
        "  --absolute   seq/ack as on the wire\n"
        "  --symbolic   the textbook's letters: x, y = the ISNs, u = the first FIN,\n"
        "               v = the other side's seq when it ACKs it, w = the other FIN\n"
        "               (e.g. FIN seq=u, ACK ack=u+1, FIN seq=w, ACK ack=w+1)\n"
        "  --svg OUT    also write the diagram as an SVG picture to OUT\n"
        "  --no-text    do not print the text diagram (with --svg)\n"
        "\n"
        "examples:\n"
        "  tcpwave demo --scenario three-way --trace close.jsonl\n"
        "  tcpwave ladder close.jsonl --symbolic\n"
        "  tcpwave ladder close.jsonl --conn 1 --svg close.svg --no-text\n");
}

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "tcpwave ladder: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, " (see tcpwave ladder --help)\n");
    return 2;
}

typedef struct ladder_args {
    const char *file, *svg;
    tw_report_opts ro;
    bool list, no_text;
} ladder_args;

static int parse_conn(const char *v, size_t *out) {
    char *end;
    errno = 0;
    if (!v || !*v || *v == '-' || *v == '+') return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x == 0 || x > 1000000000ull) return -1;
    *out = (size_t)x;
    return 0;
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, ladder_args *a) {
    int modes = 0;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--conn")) {
            if (parse_conn(v, &a->ro.conn))
                return bad_usage("--conn needs a connection number from 1 up, got '%s'",
                                 v ? v : "(nothing)");
            i++;
        } else if (!strcmp(o, "--svg")) {
            if (!v) return bad_usage("%s needs a file name", o);
            a->svg = v;
            i++;
        } else if (!strcmp(o, "--list")) {
            a->list = true;
        } else if (!strcmp(o, "--no-text")) {
            a->no_text = true;
        } else if (!strcmp(o, "--relative") || !strcmp(o, "--absolute") ||
                   !strcmp(o, "--symbolic")) {
            modes++;
            a->ro.mode = o[2] == 'r'   ? TW_SEQ_RELATIVE
                         : o[2] == 'a' ? TW_SEQ_ABSOLUTE
                                       : TW_SEQ_SYMBOLIC;
        } else if (o[0] == '-' && o[1] != '\0') {
            return bad_usage("unknown option '%s'", o);
        } else if (a->file) {
            return bad_usage("one trace file only; '%s' is extra", o);
        } else {
            a->file = o;
        }
    }
    if (!a->file)
        return bad_usage("%s", "needs a trace file (FILE.jsonl, or - for standard input)");
    if (modes > 1) return bad_usage("%s", "choose one of --relative, --absolute and --symbolic");
    if (a->no_text && !a->svg && !a->list)
        return bad_usage("%s", "--no-text without --svg prints nothing");
    return -1;
}

static int read_trace(const char *path, tw_vev_list *evs) {
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "tcpwave ladder: cannot open '%s': %s\n", path, strerror(errno));
        return 1;
    }
    char err[320];
    int rc = tw_tj_read(f, evs, err, sizeof err);
    if (f != stdin) fclose(f);
    if (rc) {
        fprintf(stderr, "tcpwave ladder: %s: %s\n", path, err);
        return 1;
    }
    return 0;
}

static int write_svg(const char *path, const char *svg) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tcpwave ladder: cannot write '%s': %s\n", path, strerror(errno));
        return 1;
    }
    int bad = fputs(svg, f) < 0;
    if (fclose(f) != 0 || bad) {
        fprintf(stderr, "tcpwave ladder: writing '%s' failed\n", path);
        return 1;
    }
    return 0;
}

static int render(const ladder_args *a, const tw_vev_list *evs) {
    tw_sbuf text, svg;
    tw_sbuf_init(&text);
    tw_sbuf_init(&svg);
    char err[200], title[160];
    snprintf(title, sizeof title, "tcpwave ladder %.140s", a->file);
    tw_report_opts ro = a->ro;
    ro.title = title;
    int rc = 0;
    if (tw_view_report(evs->v, evs->n, &ro, a->no_text ? NULL : &text, a->svg ? &svg : NULL, err,
                       sizeof err)) {
        fprintf(stderr, "tcpwave ladder: %s: %s\n", a->file, err);
        rc = 1;
    }
    if (rc == 0 && !a->no_text) fputs(tw_sbuf_str(&text), stdout);
    if (rc == 0 && a->svg) rc = write_svg(a->svg, tw_sbuf_str(&svg));
    tw_sbuf_free(&text);
    tw_sbuf_free(&svg);
    return rc;
}

int tw_cli_ladder(int argc, char **argv) {
    ladder_args a;
    memset(&a, 0, sizeof a);
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    tw_vev_list evs;
    tw_vev_list_init(&evs);
    rc = read_trace(a.file, &evs);
    if (rc == 0 && a.list) {
        tw_sbuf out;
        tw_sbuf_init(&out);
        int n = tw_view_list(evs.v, evs.n, &out);
        if (n < 0) {
            fprintf(stderr, "tcpwave ladder: out of memory\n");
            rc = 1;
        } else {
            fputs(n ? tw_sbuf_str(&out) : "no connection in the trace\n", stdout);
        }
        tw_sbuf_free(&out);
    } else if (rc == 0) {
        rc = render(&a, &evs);
    }
    tw_vev_list_free(&evs);
    return rc;
}
