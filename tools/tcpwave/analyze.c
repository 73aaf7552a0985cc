/* analyze.c - `tcpwave analyze`: read a pcap/pcapng capture and tell, per
 * TCP connection, what each endpoint went through when it closed: the
 * close kind, each side's states (observed / inferred / assumed) and dwell,
 * and diagnoses with the frames that prove them (tools/analyze/). Text by
 * default, JSON lines with --json, totals with --stats, and the ladder of
 * one connection with --conn N (drawn by src/view as for tcpwave's traces). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "cli.h"
#include "view/report.h"

static void usage(FILE *f) {
    fprintf(f, "usage: tcpwave analyze FILE [--conn N] [--json] [--stats] [--close-wait-ms N]\n"
               "                       [--msl-s N] [--zero-window-ms N] [--time rel|abs]\n"
               "                       [--relative|--absolute|--symbolic]\n"
               "\n"
               "Reads a capture (pcap or pcapng: Ethernet, raw IP, Linux cooked SLL/SLL2 or\n"
               "loopback; e.g. from tcpdump -w, or tcpwave demo --pcap) and, for each TCP/IPv4\n"
               "connection (4-tuple; a new SYN after a close or TIME_WAIT starts a new\n"
               "incarnation), prints the close kind, who closed first, each endpoint's states\n"
               "with how each is known (observed: its own packets prove it; inferred: from a\n"
               "packet it received; assumed: no packet, e.g. TIME_WAIT ending after 2MSL), the\n"
               "time spent in each, diagnoses naming the frames that prove them, and a Wireshark\n"
               "display filter. The file is streamed: connections print as they finish.\n"
               "\n"
               "  FILE               the capture ('-' reads standard input)\n"
               "  --conn N           only connection N, with its ladder diagram\n"
               "  --json             one JSON object per connection per line\n"
               "  --stats            totals: close kinds, diagnoses, CLOSE_WAIT dwell per server\n"
               "                     port, TIME_WAIT held per client\n"
               "  --close-wait-ms N  CLOSE_WAIT longer than this is diagnosed (default 5000)\n"
               "  --msl-s N          maximum segment lifetime; TIME_WAIT = 2 MSL (default 30)\n"
               "  --zero-window-ms N a zero window this long is diagnosed (default 5000)\n"
               "  --time rel|abs     times in the text: seconds since the capture's first TCP\n"
               "                     frame (rel, default) or ISO 8601 UTC (abs); --json has both\n"
               "  --relative, --absolute, --symbolic   sequence numbers in the ladder\n"
               "\n"
               "exit status: 0 analyzed, 1 unreadable, corrupt or truncated capture (the error\n"
               "names the frame), 2 bad arguments\n"
               "\n"
               "examples:\n"
               "  tcpwave demo --scenario three-way --pcap close.pcap\n"
               "  tcpwave analyze close.pcap\n"
               "  tcpwave analyze close.pcap --conn 1 --symbolic\n"
               "  tcpwave analyze close.pcap --time abs\n"
               "  tcpdump -i lo -w lo.pcap tcp port 8080 ... ; tcpwave analyze lo.pcap --stats\n");
}

typedef struct an_args {
    const char *file;
    tw_an_opts o;
    tw_seqmode mode;
    int time_mode; /* TW_AN_TIME_* */
    bool json, stats;
} an_args;

typedef struct an_run {
    const an_args *a;
    tw_an_stats st;
    tw_sbuf out;
} an_run;

static int bad_usage(const char *msg, const char *arg) {
    fprintf(stderr, "tcpwave analyze: ");
    fprintf(stderr, msg, arg);
    fprintf(stderr, " (see tcpwave analyze --help)\n");
    return 2;
}

static int parse_num(const char *v, uint64_t max, uint64_t *out) {
    char *end;
    errno = 0;
    if (!v || !*v || *v == '-' || *v == '+') return -1;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > max) return -1;
    *out = x;
    return 0;
}

static int parse_valued(an_args *a, const char *o, const char *v) {
    uint64_t x;
    if (parse_num(v, 1000000000ull, &x)) return bad_usage("%s needs a whole number", o);
    if (!strcmp(o, "--conn")) {
        if (x == 0) return bad_usage("%s counts from 1", o);
        a->o.ladder_conn = x;
    } else if (!strcmp(o, "--close-wait-ms")) {
        a->o.close_wait_ns = x * 1000000ull;
    } else if (!strcmp(o, "--zero-window-ms")) {
        a->o.zero_wnd_ns = x * 1000000ull;
    } else {
        if (x == 0 || x > 3600) return bad_usage("%s must be 1 to 3600", o);
        a->o.msl_ns = x * 1000000000ull;
    }
    return 0;
}

static int parse_args(int argc, char **argv, an_args *a) {
    static const char *const valued[] = {"--conn", "--close-wait-ms", "--zero-window-ms",
                                         "--msl-s"};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool takes = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            takes |= !strcmp(o, valued[k]);
        if (!strcmp(o, "--time")) {
            if (i + 1 >= argc) return bad_usage("%s needs rel or abs", o);
            const char *v = argv[++i];
            if (!strcmp(v, "rel"))
                a->time_mode = TW_AN_TIME_REL;
            else if (!strcmp(v, "abs"))
                a->time_mode = TW_AN_TIME_ABS;
            else
                return bad_usage("--time takes rel or abs, not '%s'", v);
        } else if (takes) {
            if (i + 1 >= argc) return bad_usage("%s needs a value", o);
            if (parse_valued(a, o, argv[++i])) return 2;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--json")) {
            a->json = true;
        } else if (!strcmp(o, "--stats")) {
            a->stats = true;
        } else if (!strcmp(o, "--relative") || !strcmp(o, "--absolute") ||
                   !strcmp(o, "--symbolic")) {
            a->mode = o[2] == 'r'   ? TW_SEQ_RELATIVE
                      : o[2] == 'a' ? TW_SEQ_ABSOLUTE
                                    : TW_SEQ_SYMBOLIC;
        } else if (o[0] == '-' && o[1] != '\0') {
            return bad_usage("unknown option '%s'", o);
        } else if (a->file) {
            return bad_usage("one capture file only; '%s' is extra", o);
        } else {
            a->file = o;
        }
    }
    if (!a->file) return bad_usage("%s", "needs a capture file (pcap or pcapng, - for stdin)");
    return -1;
}

static void on_conn(void *ctx, const tw_an_conn *c) {
    an_run *r = ctx;
    tw_an_stats_add(&r->st, c, &r->a->o);
    if (r->a->o.ladder_conn && r->a->o.ladder_conn != c->no) return;
    if (r->a->json)
        tw_an_json(c, &r->out);
    else
        tw_an_text(c, r->a->time_mode, &r->out);
    fputs(tw_sbuf_str(&r->out), stdout);
    r->out.len = 0;
    if (r->out.s) r->out.s[0] = '\0';
}

static int print_ladder(const an_args *a, const tw_an *an) {
    const tw_vev_list *evs = tw_an_ladder_events(an);
    if (!evs) {
        fprintf(stderr,
                "tcpwave analyze: %s: no connection %" PRIu64 " (the capture has %" PRIu64 ")\n",
                a->file, a->o.ladder_conn, tw_an_count(an));
        return 1;
    }
    tw_sbuf text;
    tw_sbuf_init(&text);
    char err[200];
    tw_report_opts ro = {a->mode, 0, NULL};
    int rc = 0;
    if (tw_view_report(evs->v, evs->n, &ro, &text, NULL, err, sizeof err)) {
        fprintf(stderr, "tcpwave analyze: ladder: %s\n", err);
        rc = 1;
    } else {
        fputs(tw_sbuf_str(&text), stdout);
    }
    tw_sbuf_free(&text);
    return rc;
}

static int run(const an_args *a, an_run *r, tw_an *an) {
    char err[512];
    tw_an_reader *rd;
    if (tw_an_open_file(a->file, &rd, err, sizeof err)) {
        fprintf(stderr, "tcpwave analyze: %s: %s\n", a->file, err);
        return 1;
    }
    tw_an_pkt p;
    int rc, status = 0;
    while ((rc = tw_an_next(rd, &p, err, sizeof err)) == 1) {
        if (tw_an_feed(an, &p)) {
            fprintf(stderr, "tcpwave analyze: out of memory\n");
            tw_an_close(rd);
            return 1;
        }
    }
    if (rc < 0) {
        fprintf(stderr, "tcpwave analyze: %s: %s\n", a->file, err);
        status = 1;
    }
    if (tw_an_finish(an)) status = 1;
    if (!a->json)
        fprintf(stdout,
                "capture %s: link type %s, %" PRIu64 " frames (%" PRIu64 " not TCP/IPv4), %" PRIu64
                " connection(s)%s\n",
                a->file, tw_an_linktype(rd), tw_an_frames(rd), tw_an_skipped(rd), tw_an_count(an),
                status ? ", analysis stopped at the error" : "");
    tw_an_close(rd);
    if (a->o.ladder_conn && status == 0) {
        fputc('\n', stdout);
        status = print_ladder(a, an);
    }
    if (a->stats) {
        tw_sbuf s;
        tw_sbuf_init(&s);
        tw_an_stats_text(&r->st, &s);
        fputs(tw_sbuf_str(&s), stdout);
        tw_sbuf_free(&s);
    }
    return status;
}

int tw_cli_analyze(int argc, char **argv) {
    an_args a;
    memset(&a, 0, sizeof a);
    tw_an_opts_default(&a.o);
    int rc = parse_args(argc, argv, &a);
    if (rc >= 0) return rc;
    an_run r;
    memset(&r, 0, sizeof r);
    r.a = &a;
    tw_sbuf_init(&r.out);
    tw_an *an;
    if (tw_an_new(&a.o, on_conn, &r, &an)) {
        fprintf(stderr, "tcpwave analyze: out of memory\n");
        return 1;
    }
    rc = run(&a, &r, an);
    tw_an_free(an);
    tw_sbuf_free(&r.out);
    return rc;
}
