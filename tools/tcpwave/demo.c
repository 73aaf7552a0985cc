/* demo.c - `tcpwave demo`: run a lifecycle scenario over the simulated link
 * and show it: by default every segment and state change in time order,
 * client on the left and server on the right; with --ladder the textbook
 * ladder diagram (src/view/ladder.h). Every run ends with each connection's
 * close reason and dwell per state (src/view/lifecycle.h); --stats adds
 * every non-zero counter of each stack, --trace writes the JSON-lines trace
 * and --svg the ladder as SVG. Sequence numbers are relative to each side's
 * ISN unless --absolute (or --symbolic for the ladder) is given. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "drive/scenario.h"
#include "link/pcap.h"
#include "util/time.h"
#include "view/report.h"
#include "wire/tcp_hdr.h"

typedef struct printer {
    bool absolute;
    bool quiet_data; /* no per-event output (summary only) */
    bool ladder;     /* draw the ladder instead of the event log */
    tw_seqmode mode; /* for the ladder and the SVG */
    uint32_t iss[2]; /* each host's ISN, learned from its SYN */
    bool have_iss[2];
    FILE *out;
    tw_vev_list evs; /* every event of the run, for the views */
    bool oom;
    tw_pcap *pcap; /* --pcap: every packet the link delivers or drops */
} printer;

typedef struct demo_args {
    tw_scn_opts o;
    const char *scenario;
    const char *trace_path, *svg_path, *pcap_path;
    bool stats, symbolic;
} demo_args;

#define COL 44

static const char *host_name(int host) {
    return host == TW_SCN_CLIENT ? "client" : "server";
}

static void keep(printer *p, int host, const tw_trace_ev *ev) {
    tw_vev v;
    tw_vev_make(&v, host, host_name(host), ev);
    if (tw_vev_list_push(&p->evs, &v)) p->oom = true;
}

static void print_time(printer *p, uint64_t t) {
    fprintf(p->out, "%4" PRIu64 ".%06" PRIu64 "  ", t / 1000000000u, (t % 1000000000u) / 1000u);
}

/* Relative sequence numbers as Wireshark shows them: seq from the sender's
 * ISN, ack from the receiver's. */
static void seg_text(printer *p, int from, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                     uint16_t wnd, char *buf, size_t cap) {
    char fl[64];
    tw_tcp_flags_str(flags, fl, sizeof fl);
    int to = 1 - from;
    uint32_t s = seq, a = ack;
    if (!p->absolute) {
        if (p->have_iss[from]) s = seq - p->iss[from];
        if (p->have_iss[to]) a = ack - p->iss[to];
    }
    if (flags & TW_TH_ACK)
        snprintf(buf, cap, "%-7s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 " win=%u", fl, s, a,
                 len, wnd);
    else
        snprintf(buf, cap, "%-7s seq=%" PRIu32 " len=%" PRIu32 " win=%u", fl, s, len, wnd);
}

static void line(printer *p, uint64_t t, int host, const char *text) {
    print_time(p, t);
    if (host == TW_SCN_CLIENT)
        fprintf(p->out, "%s\n", text);
    else
        fprintf(p->out, "%*s%s\n", COL + 8, "", text);
}

static void print_seg(printer *p, int host, const tw_trace_ev *ev) {
    char buf[192], seg[128];
    seg_text(p, host, ev->flags, ev->seq, ev->ack, ev->len, ev->wnd, seg, sizeof seg);
    const char *mark = (ev->meta & TW_SEGMETA_RETRANS) ? " [retransmission]"
                       : (ev->meta & TW_SEGMETA_TW)    ? " [from TIME_WAIT]"
                                                       : "";
    if (host == TW_SCN_CLIENT)
        snprintf(buf, sizeof buf, "%s%s  --->", seg, mark);
    else
        snprintf(buf, sizeof buf, "<---  %s%s", seg, mark);
    print_time(p, ev->t);
    if (host == TW_SCN_CLIENT)
        fprintf(p->out, "%s\n", buf);
    else
        fprintf(p->out, "%*s%s\n", COL + 2, "", buf);
}

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    printer *p = ctx;
    char buf[160];
    keep(p, host, ev);
    if (ev->kind == TW_EV_SEG_OUT && (ev->flags & TW_TH_SYN) && !p->have_iss[host]) {
        p->iss[host] = ev->seq;
        p->have_iss[host] = true;
    }
    if (p->quiet_data || p->ladder) return;
    switch (ev->kind) {
    case TW_EV_STATE:
        snprintf(buf, sizeof buf, "%s -> %s  (%s)", tw_state_name(ev->old_state),
                 tw_state_name(ev->new_state), tw_cause_desc(ev->cause));
        line(p, ev->t, host, buf);
        break;
    case TW_EV_SEG_OUT: print_seg(p, host, ev); break;
    case TW_EV_DROP:
        if (ev->reason) {
            snprintf(buf, sizeof buf, "dropped: %s", tw_counter_desc(ev->reason));
            line(p, ev->t, host, buf);
        }
        break;
    case TW_EV_TIMER:
        snprintf(buf, sizeof buf, "timer %s fired", tw_timer_name(ev->cause));
        line(p, ev->t, host, buf);
        break;
    case TW_EV_USER:
        if (ev->cause == TW_CALL_SEND || ev->cause == TW_CALL_RECV)
            snprintf(buf, sizeof buf, "app: %s %" PRIu32 " bytes", tw_call_name(ev->cause),
                     ev->len);
        else
            snprintf(buf, sizeof buf, "app: %s", tw_call_name(ev->cause));
        line(p, ev->t, host, buf);
        break;
    default: break;
    }
}

/* Packets the link loses become link_lost events of the trace (the stacks
 * never see them), so the ladder can end their arrows in an X. */
static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)to;
    (void)nth;
    printer *p = ctx;
    /* The capture: what arrived, at its arrival, and what the link lost, at
     * its send time (as a tap next to the sender would see it). */
    if (p->pcap &&
        (ev == TW_SIM_DELIVERED || ev == TW_SIM_DROPPED_LOSS || ev == TW_SIM_DROPPED_RULE))
        tw_pcap_write(p->pcap, now, pkt, len);
    if (ev != TW_SIM_DROPPED_LOSS && ev != TW_SIM_DROPPED_RULE) return;
    tw_tcp_seg s;
    char seg[128], buf[192];
    if (tw_packet_parse(pkt, len, &s) != 0) return;
    tw_trace_ev e;
    memset(&e, 0, sizeof e);
    e.t = now;
    e.kind = TW_VEV_LINK_LOST;
    e.flags = s.flags;
    e.seq = s.seq.v;
    e.ack = s.ack.v;
    e.len = s.len;
    e.wnd = s.wnd;
    e.laddr = s.src_addr;
    e.raddr = s.dst_addr;
    e.lport = s.src_port;
    e.rport = s.dst_port;
    keep(p, from, &e);
    if (p->quiet_data || p->ladder) return;
    seg_text(p, from, s.flags, s.seq.v, s.ack.v, s.len, s.wnd, seg, sizeof seg);
    snprintf(buf, sizeof buf, "  X  lost on the link: %s", seg);
    print_time(p, now);
    fprintf(p->out, "%*s%s\n", COL - 10, "", buf);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: tcpwave demo [--scenario NAME|all] [--seed N] [--delay-ms N] [--msl-s N]\n"
            "                    [--ladder] [--absolute|--symbolic] [--svg FILE] [--trace FILE]\n"
            "                    [--pcap FILE] [--stats] [--summary] [--list]\n"
            "\n"
            "Runs a client (198.18.0.1) and a server (198.18.0.2:80) over the built-in\n"
            "simulated network on a virtual clock and prints each segment (flags, seq,\n"
            "ack, len, window) and each side's state changes in time order, then each\n"
            "connection's close reason and the time it spent in each state.\n"
            "\n"
            "  --scenario NAME  one of the scenarios below, or 'all' (default client-close)\n"
            "  --seed N         seed for ISNs and the link (default 1)\n"
            "  --delay-ms N     one-way link delay in ms (default 1)\n"
            "  --msl-s N        maximum segment lifetime in s; TIME_WAIT = 2 MSL (default 30)\n"
            "  --ladder         draw the textbook ladder diagram instead of the event log:\n"
            "                   client column left, server right, an arrow per segment\n"
            "                   (same output as `tcpwave ladder` on the --trace file)\n"
            "  --absolute       absolute sequence numbers, not relative to the ISN\n"
            "  --symbolic       the ladder with the textbook's letters (x, y, u, v, w);\n"
            "                   implies --ladder\n"
            "  --svg FILE       also write the ladder as an SVG picture (open it in a browser)\n"
            "  --trace FILE     also write every trace event as JSON lines (one scenario)\n"
            "  --pcap FILE      also write a capture (pcap, raw IPv4) of every packet the\n"
            "                   link delivers or loses, for tcpwave analyze (one scenario)\n"
            "  --stats          print every non-zero counter of each stack with its meaning\n"
            "  --summary        print only the summary of each scenario\n"
            "  --list           list the scenarios\n"
            "\nscenarios:\n");
    for (int i = 0; i < TW_SCN__COUNT; i++)
        fprintf(f, "  %-15s %s\n", tw_scn_name(i), tw_scn_desc(i));
    fprintf(f, "\nexamples:\n"
               "  tcpwave demo --scenario three-way\n"
               "  tcpwave demo --scenario client-close --ladder --symbolic\n"
               "  tcpwave demo --scenario lost-final-ack --svg close.svg --trace close.jsonl\n"
               "  tcpwave demo --scenario all --summary --stats\n");
}

static int parse_u64(const char *flag, const char *v, uint64_t max, uint64_t *out) {
    char *end;
    errno = 0;
    if (!v || !*v || *v == '-') goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > max) goto bad;
    *out = x;
    return 0;
bad:
    fprintf(stderr, "tcpwave demo: %s needs a whole number from 0 to %" PRIu64 ", got '%s'\n", flag,
            max, v ? v : "(nothing)");
    return -1;
}

static void print_indented(FILE *f, const char *text, const char *indent) {
    for (const char *s = text; *s;) {
        size_t n = strcspn(s, "\n");
        fprintf(f, "%s%.*s\n", n ? indent : "", (int)n, s);
        s += n + (s[n] == '\n');
    }
}

static int write_file(const char *path, const char *what, const char *text,
                      const tw_vev_list *evs) {
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tcpwave demo: cannot write %s '%s': %s\n", what, path, strerror(errno));
        return 1;
    }
    int bad = 0;
    if (text) bad = fputs(text, f) < 0;
    for (size_t i = 0; evs && i < evs->n && !bad; i++) bad = tw_tj_write(f, &evs->v[i]) != 0;
    if (fclose(f) != 0) bad = 1;
    if (bad) fprintf(stderr, "tcpwave demo: writing %s '%s' failed\n", what, path);
    return bad;
}

/* What follows the run: ladder or lifecycle, the SVG and trace files. */
static int show_views(printer *p, const demo_args *a, int id) {
    tw_sbuf text, svg;
    tw_sbuf_init(&text);
    tw_sbuf_init(&svg);
    char err[160], title[96];
    snprintf(title, sizeof title, "tcpwave demo --scenario %s", tw_scn_name(id));
    tw_report_opts ro = {p->mode, 0, title};
    int rc = 0;
    if (p->ladder || a->svg_path) {
        if (tw_view_report(p->evs.v, p->evs.n, &ro, p->ladder ? &text : NULL,
                           a->svg_path ? &svg : NULL, err, sizeof err)) {
            fprintf(stderr, "tcpwave demo: %s\n", err);
            rc = 1;
        }
    }
    if (!p->ladder && tw_view_lifecycle(p->evs.v, p->evs.n, &text)) rc = 1;
    if (rc == 0 && tw_sbuf_str(&text)) {
        if (!p->ladder && !p->quiet_data) fputc('\n', p->out);
        print_indented(p->out, tw_sbuf_str(&text), p->ladder ? "" : "   ");
    }
    if (rc == 0 && a->svg_path) rc = write_file(a->svg_path, "SVG", tw_sbuf_str(&svg), NULL);
    if (rc == 0 && a->trace_path) rc = write_file(a->trace_path, "trace", NULL, &p->evs);
    tw_sbuf_free(&text);
    tw_sbuf_free(&svg);
    return rc;
}

static void print_stats(printer *p, const tw_scn_result *r) {
    for (int h = 0; h < 2; h++) {
        tw_sbuf b;
        tw_sbuf_init(&b);
        tw_view_counters(&b, "     ", r->counters[h]);
        fprintf(p->out, "   counters of the %s (%s), non-zero only:\n%s", host_name(h),
                h == TW_SCN_CLIENT ? "198.18.0.1" : "198.18.0.2",
                tw_sbuf_str(&b) ? tw_sbuf_str(&b) : "");
        tw_sbuf_free(&b);
    }
    fputc('\n', p->out);
}

static int run_one(int id, const demo_args *a, printer *p) {
    tw_scn_opts o = a->o;
    o.trace = on_trace;
    o.trace_ctx = p;
    o.link_observer = on_link;
    o.link_ctx = p;
    p->have_iss[0] = p->have_iss[1] = false;
    p->evs.n = 0;
    fprintf(p->out, "== scenario %s: %s\n", tw_scn_name(id), tw_scn_desc(id));
    fprintf(p->out,
            "   one-way delay %" PRIu64 " ms, MSL %" PRIu64 " s (TIME_WAIT %" PRIu64
            " s), RTO min 1 s, delayed ACK 200 ms\n\n",
            o.delay / 1000000u, o.msl / 1000000000u, 2 * o.msl / 1000000000u);
    if (!p->quiet_data && !p->ladder)
        fprintf(p->out, "    time (s)  %-*s%s\n", COL + 2, "client 198.18.0.1",
                "server 198.18.0.2:80");
    tw_scn_result r;
    int rc = tw_scn_run(id, &o, &r);
    if (rc) {
        fprintf(stderr, "tcpwave demo: scenario setup failed: %s\n", tw_strerror(rc));
        return 1;
    }
    if (p->oom) {
        fprintf(stderr, "tcpwave demo: out of memory keeping the trace\n");
        return 1;
    }
    int bad = show_views(p, a, id);
    fprintf(p->out,
            "\n   summary: client read %" PRIu64 " bytes%s%s, server read %" PRIu64
            " bytes%s%s; done at %.6f s\n",
            r.client_rx, r.client_err ? ", error " : "",
            r.client_err ? tw_strerror(r.client_err) : "", r.server_rx,
            r.server_err ? ", error " : "", r.server_err ? tw_strerror(r.server_err) : "",
            (double)r.end_time / 1e9);
    fprintf(
        p->out,
        "   client: %" PRIu64 " segments sent, %" PRIu64 " retransmitted, %" PRIu64
        " TIME_WAIT; server: %" PRIu64 " sent, %" PRIu64 " retransmitted, %" PRIu64 " TIME_WAIT\n",
        r.counters[0][TW_C_TCP_OUT], r.counters[0][TW_C_TCP_RETRANS], r.counters[0][TW_C_TW_ENTER],
        r.counters[1][TW_C_TCP_OUT], r.counters[1][TW_C_TCP_RETRANS], r.counters[1][TW_C_TW_ENTER]);
    bool clean = !r.client_conns && !r.server_conns && !r.client_tw && !r.server_tw;
    fprintf(p->out, "   both sides CLOSED, nothing left: %s\n\n", clean ? "yes" : "NO");
    if (a->stats) print_stats(p, &r);
    return clean && !bad ? 0 : 1;
}

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "tcpwave demo: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (see tcpwave demo --help)\n");
    return 2;
}

/* An option that takes a value. Returns 0, or 2 after printing an error. */
static int parse_valued(demo_args *a, const char *opt, const char *v) {
    uint64_t x;
    if (!v) return usage_error("%s needs a value", opt);
    if (!strcmp(opt, "--scenario")) {
        a->scenario = v;
    } else if (!strcmp(opt, "--trace")) {
        a->trace_path = v;
    } else if (!strcmp(opt, "--svg")) {
        a->svg_path = v;
    } else if (!strcmp(opt, "--pcap")) {
        a->pcap_path = v;
    } else if (!strcmp(opt, "--seed")) {
        if (parse_u64(opt, v, UINT64_MAX, &a->o.seed)) return 2;
    } else if (!strcmp(opt, "--delay-ms")) {
        if (parse_u64(opt, v, 10000, &x)) return 2;
        a->o.delay = TW_MS(x);
    } else {
        if (parse_u64(opt, v, 3600, &x)) return 2;
        if (x == 0) return usage_error("%s must be at least 1", opt);
        a->o.msl = TW_SEC(x);
    }
    return 0;
}

/* Returns -1 to go on, else the exit status (0 after --help/--list). */
static int parse_args(int argc, char **argv, demo_args *a, printer *p) {
    static const char *const valued[] = {"--scenario", "--trace", "--svg", "--seed",
                                         "--delay-ms", "--msl-s", "--pcap"};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        bool takes = false;
        for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++)
            takes |= !strcmp(o, valued[k]);
        if (takes) {
            if (parse_valued(a, o, i + 1 < argc ? argv[i + 1] : NULL)) return 2;
            i++;
        } else if (!strcmp(o, "--help") || !strcmp(o, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(o, "--list")) {
            for (int k = 0; k < TW_SCN__COUNT; k++) printf("%s\n", tw_scn_name(k));
            return 0;
        } else if (!strcmp(o, "--absolute")) {
            p->absolute = true;
        } else if (!strcmp(o, "--symbolic")) {
            a->symbolic = true;
        } else if (!strcmp(o, "--ladder")) {
            p->ladder = true;
        } else if (!strcmp(o, "--stats")) {
            a->stats = true;
        } else if (!strcmp(o, "--summary")) {
            p->quiet_data = true;
        } else {
            return usage_error("unknown option '%s'", o);
        }
    }
    if (p->absolute && a->symbolic)
        return usage_error("%s: choose one of --absolute and --symbolic", "conflict");
    if (a->symbolic) p->ladder = true;
    if (p->ladder && p->quiet_data)
        return usage_error("%s: --ladder (or --symbolic) and --summary exclude each other",
                           "conflict");
    p->mode = a->symbolic ? TW_SEQ_SYMBOLIC : p->absolute ? TW_SEQ_ABSOLUTE : TW_SEQ_RELATIVE;
    if (!strcmp(a->scenario, "all") && (a->trace_path || a->svg_path || a->pcap_path))
        return usage_error("%s write one scenario: choose it with --scenario NAME",
                           a->trace_path ? "--trace"
                           : a->svg_path ? "--svg"
                                         : "--pcap");
    return -1;
}

int tw_cli_demo(int argc, char **argv) {
    demo_args a;
    memset(&a, 0, sizeof a);
    tw_scn_opts_default(&a.o);
    a.scenario = "client-close";
    printer p;
    memset(&p, 0, sizeof p);
    p.out = stdout;
    int rc = parse_args(argc, argv, &a, &p);
    if (rc >= 0) return rc;
    tw_vev_list_init(&p.evs);
    if (!strcmp(a.scenario, "all")) {
        int bad = 0;
        for (int k = 0; k < TW_SCN__COUNT; k++) bad |= run_one(k, &a, &p);
        tw_vev_list_free(&p.evs);
        return bad;
    }
    int id = tw_scn_lookup(a.scenario);
    if (id < 0) {
        fprintf(stderr, "tcpwave demo: unknown scenario '%s'; one of:", a.scenario);
        for (int k = 0; k < TW_SCN__COUNT; k++) fprintf(stderr, " %s", tw_scn_name(k));
        fprintf(stderr, ", all\n");
        return 2;
    }
    if (a.pcap_path) {
        int e = tw_pcap_open(a.pcap_path, TW_PCAP_LINKTYPE_RAW, &p.pcap);
        if (e) {
            fprintf(stderr, "tcpwave demo: cannot write capture '%s': %s\n", a.pcap_path,
                    strerror(-e));
            tw_vev_list_free(&p.evs);
            return 1;
        }
    }
    rc = run_one(id, &a, &p);
    if (p.pcap && tw_pcap_close(p.pcap)) {
        fprintf(stderr, "tcpwave demo: writing capture '%s' failed\n", a.pcap_path);
        rc = 1;
    }
    tw_vev_list_free(&p.evs);
    return rc;
}
