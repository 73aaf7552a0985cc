/* demo.c - `tcpwave demo`: run a lifecycle scenario over the simulated link
 * and print every segment and state change in time order, client on the
 * left and server on the right, so the close can be read off as in the
 * textbook figure. Sequence numbers are relative to each side's ISN unless
 * --absolute is given. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "drive/scenario.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

typedef struct printer {
    bool absolute;
    bool quiet_data;   /* no per-event output (summary only) */
    uint32_t iss[2];   /* each host's ISN, learned from its SYN */
    bool have_iss[2];
    FILE *out;
} printer;

#define COL 44

static void print_time(printer *p, uint64_t t) {
    fprintf(p->out, "%4" PRIu64 ".%06" PRIu64 "  ", t / 1000000000u, (t % 1000000000u) / 1000u);
}

/* Relative sequence numbers as Wireshark shows them: seq from the sender's
 * ISN, ack from the receiver's. */
static void seg_text(printer *p, int from, uint8_t flags, uint32_t seq, uint32_t ack,
                     uint32_t len, uint16_t wnd, char *buf, size_t cap) {
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
    if (host == TW_SCN_CLIENT) fprintf(p->out, "%s\n", text);
    else fprintf(p->out, "%*s%s\n", COL + 8, "", text);
}

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    printer *p = ctx;
    char buf[160], seg[128];
    if (ev->kind == TW_EV_SEG_OUT && (ev->flags & TW_TH_SYN) && !p->have_iss[host]) {
        p->iss[host] = ev->seq;
        p->have_iss[host] = true;
    }
    if (p->quiet_data) return;
    switch (ev->kind) {
    case TW_EV_STATE:
        snprintf(buf, sizeof buf, "%s -> %s  (%s)", tw_state_name(ev->old_state),
                 tw_state_name(ev->new_state), tw_cause_desc(ev->cause));
        line(p, ev->t, host, buf);
        break;
    case TW_EV_SEG_OUT: {
        seg_text(p, host, ev->flags, ev->seq, ev->ack, ev->len, ev->wnd, seg, sizeof seg);
        const char *mark = (ev->meta & TW_SEGMETA_RETRANS) ? " [retransmission]"
                           : (ev->meta & TW_SEGMETA_TW)    ? " [from TIME_WAIT]"
                                                           : "";
        if (host == TW_SCN_CLIENT) snprintf(buf, sizeof buf, "%s%s  --->", seg, mark);
        else snprintf(buf, sizeof buf, "<---  %s%s", seg, mark);
        print_time(p, ev->t);
        if (host == TW_SCN_CLIENT) fprintf(p->out, "%s\n", buf);
        else fprintf(p->out, "%*s%s\n", COL + 2, "", buf);
        break;
    }
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
            snprintf(buf, sizeof buf, "app: %s %" PRIu32 " bytes", tw_call_name(ev->cause), ev->len);
        else
            snprintf(buf, sizeof buf, "app: %s", tw_call_name(ev->cause));
        line(p, ev->t, host, buf);
        break;
    default:
        break;
    }
}

static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)to;
    (void)nth;
    printer *p = ctx;
    if (p->quiet_data) return;
    if (ev != TW_SIM_DROPPED_LOSS && ev != TW_SIM_DROPPED_RULE) return;
    tw_tcp_seg s;
    char seg[128], buf[192];
    if (tw_packet_parse(pkt, len, &s) != 0) return;
    seg_text(p, from, s.flags, s.seq.v, s.ack.v, s.len, s.wnd, seg, sizeof seg);
    snprintf(buf, sizeof buf, "  X  lost on the link: %s", seg);
    print_time(p, now);
    fprintf(p->out, "%*s%s\n", COL - 10, "", buf);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: tcpwave demo [--scenario NAME|all] [--seed N] [--delay-ms N] [--msl-s N]\n"
            "                    [--absolute] [--summary] [--list]\n"
            "\n"
            "Runs a client (198.18.0.1) and a server (198.18.0.2:80) over the built-in\n"
            "simulated network on a virtual clock and prints each segment (flags, seq,\n"
            "ack, len, window) and each side's state changes in time order.\n"
            "\n"
            "  --scenario NAME  one of the scenarios below, or 'all' (default client-close)\n"
            "  --seed N         seed for ISNs and the link (default 1)\n"
            "  --delay-ms N     one-way link delay in ms (default 1)\n"
            "  --msl-s N        maximum segment lifetime in s; TIME_WAIT = 2 MSL (default 30)\n"
            "  --absolute       print absolute sequence numbers, not relative to the ISN\n"
            "  --summary        print only the summary of each scenario\n"
            "  --list           list the scenarios\n"
            "\nscenarios:\n");
    for (int i = 0; i < TW_SCN__COUNT; i++) fprintf(f, "  %-15s %s\n", tw_scn_name(i), tw_scn_desc(i));
    fprintf(f, "\nexample: tcpwave demo --scenario three-way\n");
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
    fprintf(stderr, "tcpwave demo: %s needs a whole number from 0 to %" PRIu64 ", got '%s'\n",
            flag, max, v ? v : "(nothing)");
    return -1;
}

static int run_one(int id, const tw_scn_opts *base, printer *p) {
    tw_scn_opts o = *base;
    o.trace = on_trace;
    o.trace_ctx = p;
    o.link_observer = on_link;
    o.link_ctx = p;
    p->have_iss[0] = p->have_iss[1] = false;
    fprintf(p->out, "== scenario %s: %s\n", tw_scn_name(id), tw_scn_desc(id));
    fprintf(p->out, "   one-way delay %" PRIu64 " ms, MSL %" PRIu64 " s (TIME_WAIT %" PRIu64
                    " s), RTO min 1 s, delayed ACK 200 ms\n\n",
            o.delay / 1000000u, o.msl / 1000000000u, 2 * o.msl / 1000000000u);
    if (!p->quiet_data)
        fprintf(p->out, "    time (s)  %-*s%s\n", COL + 2, "client 198.18.0.1", "server 198.18.0.2:80");
    tw_scn_result r;
    int rc = tw_scn_run(id, &o, &r);
    if (rc) {
        fprintf(stderr, "tcpwave demo: scenario setup failed: %s\n", tw_strerror(rc));
        return 1;
    }
    fprintf(p->out, "\n   summary: client read %" PRIu64 " bytes%s%s, server read %" PRIu64
                    " bytes%s%s; done at %.6f s\n",
            r.client_rx, r.client_err ? ", error " : "", r.client_err ? tw_strerror(r.client_err) : "",
            r.server_rx, r.server_err ? ", error " : "", r.server_err ? tw_strerror(r.server_err) : "",
            (double)r.end_time / 1e9);
    fprintf(p->out, "   client: %" PRIu64 " segments sent, %" PRIu64 " retransmitted, %" PRIu64
                    " TIME_WAIT; server: %" PRIu64 " sent, %" PRIu64 " retransmitted, %" PRIu64
                    " TIME_WAIT\n",
            r.counters[0][TW_C_TCP_OUT], r.counters[0][TW_C_TCP_RETRANS], r.counters[0][TW_C_TW_ENTER],
            r.counters[1][TW_C_TCP_OUT], r.counters[1][TW_C_TCP_RETRANS], r.counters[1][TW_C_TW_ENTER]);
    bool clean = !r.client_conns && !r.server_conns && !r.client_tw && !r.server_tw;
    fprintf(p->out, "   both sides CLOSED, nothing left: %s\n\n", clean ? "yes" : "NO");
    return clean ? 0 : 1;
}

int tw_cli_demo(int argc, char **argv) {
    tw_scn_opts o;
    tw_scn_opts_default(&o);
    printer p;
    memset(&p, 0, sizeof p);
    p.out = stdout;
    const char *scenario = "client-close";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--list")) {
            for (int k = 0; k < TW_SCN__COUNT; k++) printf("%s\n", tw_scn_name(k));
            return 0;
        } else if (!strcmp(a, "--scenario")) {
            if (!v) goto missing;
            scenario = v;
            i++;
        } else if (!strcmp(a, "--seed")) {
            if (parse_u64(a, v, UINT64_MAX, &o.seed)) return 2;
            i++;
        } else if (!strcmp(a, "--delay-ms")) {
            if (parse_u64(a, v, 10000, &x)) return 2;
            o.delay = TW_MS(x);
            i++;
        } else if (!strcmp(a, "--msl-s")) {
            if (parse_u64(a, v, 3600, &x)) return 2;
            if (x == 0) {
                fprintf(stderr, "tcpwave demo: --msl-s must be at least 1\n");
                return 2;
            }
            o.msl = TW_SEC(x);
            i++;
        } else if (!strcmp(a, "--absolute")) {
            p.absolute = true;
        } else if (!strcmp(a, "--summary")) {
            p.quiet_data = true;
        } else {
            fprintf(stderr, "tcpwave demo: unknown option '%s' (see tcpwave demo --help)\n", a);
            return 2;
        }
        continue;
    missing:
        fprintf(stderr, "tcpwave demo: %s needs a value (see tcpwave demo --help)\n", a);
        return 2;
    }
    if (!strcmp(scenario, "all")) {
        int bad = 0;
        for (int k = 0; k < TW_SCN__COUNT; k++) bad |= run_one(k, &o, &p);
        return bad;
    }
    int id = tw_scn_lookup(scenario);
    if (id < 0) {
        fprintf(stderr, "tcpwave demo: unknown scenario '%s'; one of:", scenario);
        for (int k = 0; k < TW_SCN__COUNT; k++) fprintf(stderr, " %s", tw_scn_name(k));
        fprintf(stderr, ", all\n");
        return 2;
    }
    return run_one(id, &o, &p);
}
