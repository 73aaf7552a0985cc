/* tunrun.c - owns the plumbing shared by `tcpwave serve` and `tcpwave
 * connect` (see tunrun.h): common options, TUN + pcap + stack + loop set-up
 * and teardown, signal handling, and the one-endpoint trace printer. */
#include "tunrun.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "link/fault.h"
#include "link/pcap.h"
#include "link/tun.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

#define NCONN_SLOTS 256 /* per-connection ISNs remembered for relative numbers */

typedef struct conn_isn {
    uint32_t id;
    uint32_t iss, irs;
    bool have_iss, have_irs, announced;
} conn_isn;

struct tw_tunrun {
    tw_tunrun_opts o;
    tw_tun *tun;
    tw_pcap *pcap;
    tw_pcap_tap tap;
    tw_fault_link fault;
    bool have_fault;
    tw_link *link;
    tw_stack *st;
    tw_tunloop *loop;
    uint64_t t0;
    tw_tunrun_closed_fn on_closed;
    void *closed_ctx;
    conn_isn isn[NCONN_SLOTS];
};

/* ---------------------------------------------------------------- options */

void tw_tunrun_opts_default(tw_tunrun_opts *o, const char *cmd) {
    memset(o, 0, sizeof *o);
    o->cmd = cmd;
    o->msl = TW_SEC(30);
    o->ecn = -1;
    o->close_first = -1;
}

int tw_tunrun_parse_u64(const char *cmd, const char *flag, const char *v, uint64_t max,
                        uint64_t *out) {
    char *end;
    errno = 0;
    if (!v || !*v || *v == '-' || *v == '+') goto bad;
    unsigned long long x = strtoull(v, &end, 10);
    if (errno || *end || x > max) goto bad;
    *out = x;
    return 0;
bad:
    fprintf(stderr, "tcpwave %s: %s needs a whole number from 0 to %" PRIu64 ", got '%s'\n", cmd,
            flag, max, v ? v : "(nothing)");
    return -1;
}

static bool ipv4_from(const char *v, uint32_t *out) {
    unsigned a[4];
    char extra;
    if (!v || sscanf(v, "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &extra) != 4) return false;
    for (int k = 0; k < 4; k++)
        if (a[k] > 255) return false;
    *out = a[0] << 24 | a[1] << 16 | a[2] << 8 | a[3];
    return true;
}

int tw_tunrun_parse_ipv4(const char *cmd, const char *flag, const char *v, uint32_t *out) {
    if (ipv4_from(v, out)) return 0;
    fprintf(stderr, "tcpwave %s: %s needs an IPv4 address like 198.18.0.2, got '%s'\n", cmd, flag,
            v ? v : "(nothing)");
    return -1;
}

int tw_tunrun_parse_endpoint(const char *cmd, const char *flag, const char *v, uint32_t *addr,
                             uint16_t *port) {
    char host[32];
    const char *colon = v ? strrchr(v, ':') : NULL;
    uint64_t p;
    if (!colon || (size_t)(colon - v) >= sizeof host) goto bad;
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = '\0';
    if (!ipv4_from(host, addr)) goto bad;
    char what[48];
    snprintf(what, sizeof what, "the port of %s", flag);
    if (tw_tunrun_parse_u64(cmd, what, colon + 1, 65535, &p) != 0) return -1;
    if (p == 0) goto bad;
    *port = (uint16_t)p;
    return 0;
bad:
    fprintf(stderr, "tcpwave %s: %s needs ADDRESS:PORT like 198.18.0.1:8080, got '%s'\n", cmd, flag,
            v ? v : "(nothing)");
    return -1;
}

const char *tw_tunrun_ip_str(uint32_t a, char *buf, size_t cap) {
    snprintf(buf, cap, "%u.%u.%u.%u", a >> 24, (a >> 16) & 255u, (a >> 8) & 255u, a & 255u);
    return buf;
}

static int need_value(const char *cmd, const char *flag, const char *v) {
    if (v) return 0;
    fprintf(stderr, "tcpwave %s: %s needs a value (see tcpwave %s --help)\n", cmd, flag, cmd);
    return -1;
}

/* Options that take no value. Returns true if `a` was one. */
static bool parse_flag(tw_tunrun_opts *o, const char *a) {
    if (!strcmp(a, "--delack-fin"))
        o->delack_fin = true;
    else if (!strcmp(a, "--ecn"))
        o->ecn = TW_ECN_ON;
    else if (!strcmp(a, "--no-ecn"))
        o->ecn = TW_ECN_OFF;
    else if (!strcmp(a, "--no-hystart"))
        o->no_hystart = true;
    else if (!strcmp(a, "--absolute"))
        o->absolute = true;
    else if (!strcmp(a, "--quiet"))
        o->quiet = true;
    else if (!strcmp(a, "--stats"))
        o->stats = true;
    else if (!strcmp(a, "--linger0"))
        o->linger0 = true;
    else if (!strcmp(a, "--shutdown-write"))
        o->shutdown_write = true;
    else
        return false;
    return true;
}

static bool is_link_option(const char *a) {
    return !strcmp(a, "--loss") || !strcmp(a, "--loss-in") || !strcmp(a, "--loss-out") ||
           !strcmp(a, "--ce") || !strcmp(a, "--ce-in") || !strcmp(a, "--ce-out") ||
           !strcmp(a, "--cc") || !strcmp(a, "--seed") || !strcmp(a, "--rcvbuf") ||
           !strcmp(a, "--sndbuf") || !strcmp(a, "--keepalive");
}

/* A percentage 0..100 with an optional fraction ("0.5"), as a fraction. */
static int parse_pct(const char *cmd, const char *flag, const char *v, double *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !(x >= 0.0 && x <= 100.0)) {
        fprintf(stderr, "tcpwave %s: %s needs a percentage from 0 to 100 (e.g. 0.5), got '%s'\n",
                cmd, flag, v);
        return -1;
    }
    *out = x / 100.0;
    return 0;
}

/* --keepalive IDLE,INTVL,CNT (seconds, seconds, probes). */
static int parse_keepalive(tw_tunrun_opts *o, const char *v) {
    unsigned idle, intvl, cnt;
    char extra;
    if (sscanf(v, "%u,%u,%u%c", &idle, &intvl, &cnt, &extra) != 3 || idle < 1 || idle > 32767 ||
        intvl < 1 || intvl > 32767 || cnt < 1 || cnt > 255) {
        fprintf(stderr,
                "tcpwave %s: --keepalive needs IDLE,INTVL,CNT: seconds idle before the "
                "first probe (1..32767), seconds between probes (1..32767), unanswered "
                "probes before giving up (1..255), e.g. 2,1,3; got '%s'\n",
                o->cmd, v);
        return -1;
    }
    o->keepalive = true;
    o->ka_idle = (int)idle;
    o->ka_intvl = (int)intvl;
    o->ka_cnt = (int)cnt;
    return 0;
}

static int parse_link_option(tw_tunrun_opts *o, const char *a, const char *v) {
    const char *c = o->cmd;
    uint64_t x;
    if (!strcmp(a, "--loss")) {
        if (parse_pct(c, a, v, &o->loss_in)) return -1;
        o->loss_out = o->loss_in;
    } else if (!strcmp(a, "--loss-in")) {
        return parse_pct(c, a, v, &o->loss_in);
    } else if (!strcmp(a, "--loss-out")) {
        return parse_pct(c, a, v, &o->loss_out);
    } else if (!strcmp(a, "--cc")) {
        if (!strcmp(v, "newreno"))
            o->cc = TW_CC_NEWRENO;
        else if (!strcmp(v, "cubic"))
            o->cc = TW_CC_CUBIC;
        else {
            fprintf(stderr, "tcpwave %s: --cc needs 'newreno' or 'cubic', got '%s'\n", c, v);
            return -1;
        }
    } else if (!strcmp(a, "--ce")) {
        if (parse_pct(c, a, v, &o->ce_in)) return -1;
        o->ce_out = o->ce_in;
    } else if (!strcmp(a, "--ce-in")) {
        return parse_pct(c, a, v, &o->ce_in);
    } else if (!strcmp(a, "--ce-out")) {
        return parse_pct(c, a, v, &o->ce_out);
    } else if (!strcmp(a, "--seed")) {
        if (tw_tunrun_parse_u64(c, a, v, UINT64_MAX, &o->seed)) return -1;
        o->have_seed = true;
    } else if (!strcmp(a, "--keepalive")) {
        return parse_keepalive(o, v);
    } else { /* --rcvbuf, --sndbuf: ring sizes, up to 1 GiB (window scale 14) */
        if (tw_tunrun_parse_u64(c, a, v, 1u << 30, &x)) return -1;
        if (x < 1024) {
            fprintf(stderr, "tcpwave %s: %s must be at least 1024 bytes\n", c, a);
            return -1;
        }
        if (!strcmp(a, "--rcvbuf"))
            o->rcvbuf = (uint32_t)x;
        else
            o->sndbuf = (uint32_t)x;
    }
    return 0;
}

int tw_tunrun_parse_common(tw_tunrun_opts *o, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL, *c = o->cmd;
    uint64_t x;
    if (parse_flag(o, a)) return 1;
    if (strcmp(a, "--tun") && strcmp(a, "--addr") && strcmp(a, "--pcap") && strcmp(a, "--msl-s") &&
        strcmp(a, "--timeout-s") && strcmp(a, "--close-first") && strcmp(a, "--close-delay-ms") &&
        strcmp(a, "--expect-bytes") && !is_link_option(a))
        return 0;
    if (need_value(c, a, v)) return -1;
    (*i)++;
    if (is_link_option(a)) return parse_link_option(o, a, v) ? -1 : 1;
    if (!strcmp(a, "--tun")) {
        if (!*v || strlen(v) > 15) {
            fprintf(stderr, "tcpwave %s: --tun needs a device name of 1 to 15 characters\n", c);
            return -1;
        }
        o->tun = v;
    } else if (!strcmp(a, "--addr")) {
        if (tw_tunrun_parse_ipv4(c, a, v, &o->addr)) return -1;
        o->have_addr = true;
    } else if (!strcmp(a, "--pcap")) {
        o->pcap = v;
    } else if (!strcmp(a, "--msl-s")) {
        if (tw_tunrun_parse_u64(c, a, v, 3600, &x)) return -1;
        if (x == 0) {
            fprintf(stderr, "tcpwave %s: --msl-s must be at least 1\n", c);
            return -1;
        }
        o->msl = TW_SEC(x);
    } else if (!strcmp(a, "--timeout-s")) {
        if (tw_tunrun_parse_u64(c, a, v, 86400, &x)) return -1;
        o->timeout = TW_SEC(x);
    } else if (!strcmp(a, "--close-first")) {
        if (!strcmp(v, "client"))
            o->close_first = TW_CLOSE_FIRST_CLIENT;
        else if (!strcmp(v, "server"))
            o->close_first = TW_CLOSE_FIRST_SERVER;
        else {
            fprintf(stderr, "tcpwave %s: --close-first is 'client' or 'server', got '%s'\n", c, v);
            return -1;
        }
    } else if (!strcmp(a, "--close-delay-ms")) {
        if (tw_tunrun_parse_u64(c, a, v, 3600000, &x)) return -1;
        o->close_delay = TW_MS(x);
    } else { /* --expect-bytes */
        if (tw_tunrun_parse_u64(c, a, v, UINT64_MAX / 2, &o->expect_bytes)) return -1;
        o->have_expect = true;
    }
    return 1;
}

int tw_tunrun_check(const tw_tunrun_opts *o) {
    if (!o->tun) {
        fprintf(stderr, "tcpwave %s: --tun DEV is required (e.g. --tun tw0; see --help)\n", o->cmd);
        return -1;
    }
    if (!o->have_addr) {
        fprintf(stderr,
                "tcpwave %s: --addr A.B.C.D is required: tcpwave's own address on the "
                "TUN link (e.g. --addr 198.18.0.2)\n",
                o->cmd);
        return -1;
    }
    if (o->linger0 && o->shutdown_write) {
        fprintf(stderr, "tcpwave %s: --linger0 and --shutdown-write exclude each other\n", o->cmd);
        return -1;
    }
    return 0;
}

void tw_tunrun_usage_common(FILE *f) {
    fprintf(f, "  --tun DEV            TUN device to open or create (required; e.g. tw0)\n"
               "  --addr A.B.C.D       tcpwave's IPv4 address on that link (required)\n"
               "  --pcap FILE          write every packet sent and received to FILE (pcap,\n"
               "                       LINKTYPE_RAW; opens in tshark/Wireshark)\n"
               "  --close-first WHO    'client' or 'server': which side closes first\n"
               "  --close-delay-ms N   wait N ms before closing once it is our turn\n"
               "  --linger0            abort with RST instead of closing (SO_LINGER 0)\n"
               "  --shutdown-write     half-close (FIN) first, read until the peer's FIN,\n"
               "                       then close\n"
               "  --expect-bytes N     bytes to receive before closing (and, for connect,\n"
               "                       exactly what must arrive for exit status 0)\n"
               "  --msl-s N            maximum segment lifetime; TIME_WAIT = 2 MSL (default 30)\n"
               "  --delack-fin         delay the ACK of a peer's FIN (three-way close)\n"
               "  --cc NAME            congestion control: newreno (default) or cubic (RFC 9438)\n"
               "  --no-hystart         plain slow start, without HyStart++ (RFC 9406)\n"
               "  --ecn, --no-ecn      ask for ECN on our SYNs (RFC 3168), or refuse it; by\n"
               "                       default ECN is used when the peer's SYN asks for it\n"
               "  --timeout-s N        give up after N seconds (exit status 3; default none)\n"
               "  --absolute           print absolute sequence numbers\n"
               "  --quiet              print only SYN/FIN/RST segments, no app send/recv lines\n"
               "  --stats              print the stack's non-zero counters at the end\n"
               "  --keepalive I,N,C    keep-alive probes after I s idle, N s apart, giving up\n"
               "                       after C unanswered ones (SO_KEEPALIVE, TCP_KEEPIDLE,\n"
               "                       TCP_KEEPINTVL, TCP_KEEPCNT), e.g. --keepalive 2,1,3\n"
               "  --rcvbuf N, --sndbuf N  receive / send ring per connection in bytes\n"
               "                       (default 65535; the window scale follows --rcvbuf)\n"
               "  --loss PCT           drop PCT %% of the packets each way (e.g. 0.5), seeded\n"
               "                       and counted; --loss-in / --loss-out for one way only\n"
               "  --ce PCT             mark CE on PCT %% of the ECN-capable packets each way,\n"
               "                       as a congested ECN router would (--ce-in / --ce-out)\n"
               "                       (in: from the kernel, out: to it). The --pcap capture\n"
               "                       is the wire: it lacks the dropped outgoing packets\n"
               "  --seed N             seed of the --loss pattern and of the stack (ISN\n"
               "                       secret, ports): reproducible runs for tests. Without\n"
               "                       it (or with 0) the ISN secret is random (RFC 6528)\n"
               "                       and the loss seed is 1\n");
}

int tw_tunrun_sockopts(const tw_tunrun_opts *o, tw_stack *st, int h) {
    if (!o->keepalive) return 0;
    const int one = 1;
    const struct {
        int opt;
        const int *v;
        const char *name;
    } set[] = {
        {TW_SO_KEEPALIVE, &one, "SO_KEEPALIVE"},
        {TW_TCP_KEEPIDLE, &o->ka_idle, "TCP_KEEPIDLE"},
        {TW_TCP_KEEPINTVL, &o->ka_intvl, "TCP_KEEPINTVL"},
        {TW_TCP_KEEPCNT, &o->ka_cnt, "TCP_KEEPCNT"},
    };
    for (size_t k = 0; k < sizeof set / sizeof set[0]; k++) {
        int e = tw_setsockopt(st, h, set[k].opt, set[k].v, sizeof(int));
        if (e) {
            fprintf(stderr, "tcpwave %s: setting %s failed: %s\n", o->cmd, set[k].name,
                    tw_strerror(e));
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- trace */

static conn_isn *isn_of(tw_tunrun *r, uint32_t id) {
    conn_isn *c = &r->isn[id % NCONN_SLOTS];
    if (c->id != id) {
        memset(c, 0, sizeof *c);
        c->id = id;
    }
    return c;
}

static void print_prefix(tw_tunrun *r, uint64_t t, uint32_t id) {
    uint64_t d = t >= r->t0 ? t - r->t0 : 0;
    printf("%4" PRIu64 ".%06" PRIu64 "  ", d / 1000000000u, (d % 1000000000u) / 1000u);
    if (id)
        printf("#%-3" PRIu32 " ", id);
    else
        printf("#-   ");
}

void tw_tunrun_say(tw_tunrun *r, uint32_t conn_id, const char *fmt, ...) {
    /* Polling flushes the trace events queued by the application's calls, so
     * this line comes after them, stamped with the stack's clock. */
    uint64_t now = tw_tunloop_clock();
    if (r->st) {
        tw_stack_poll(r->st, now);
        now = tw_stack_now(r->st);
    }
    print_prefix(r, now, conn_id);
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
}

void tw_tunrun_note_urgent(tw_tunrun *r, int h, uint32_t conn_id) {
    tw_sock_info info;
    if (tw_sock_info_get(r->st, h, &info) != 0) return;
    tw_tunrun_say(r, conn_id, "app: urgent data: %" PRIu32 " byte%s up to the mark (read in line)",
                  info.urgent, info.urgent == 1 ? "" : "s");
}

static void print_seg(tw_tunrun *r, const tw_trace_ev *ev, conn_isn *c) {
    bool out = ev->kind == TW_EV_SEG_OUT;
    if (r->o.quiet && !(ev->flags & (TW_TH_SYN | TW_TH_FIN | TW_TH_RST))) return;
    char fl[64];
    tw_tcp_flags_str(ev->flags, fl, sizeof fl);
    uint32_t seq = ev->seq, ack = ev->ack;
    if (!r->o.absolute && c) {
        /* Wireshark's relative numbers: seq from the sender's ISN, ack from the receiver's. */
        if (out ? c->have_iss : c->have_irs) seq -= out ? c->iss : c->irs;
        if (out ? c->have_irs : c->have_iss) ack -= out ? c->irs : c->iss;
    }
    const char *mark = (ev->meta & TW_SEGMETA_RETRANS)     ? " [retransmission]"
                       : (ev->meta & TW_SEGMETA_TW)        ? " [from TIME_WAIT]"
                       : (ev->meta & TW_SEGMETA_CHALLENGE) ? " [challenge ACK]"
                       : (ev->meta & TW_SEGMETA_PROBE)     ? " [window probe]"
                       : (ev->meta & TW_SEGMETA_CE)        ? " [CE]"
                                                           : "";
    print_prefix(r, ev->t, ev->conn_id);
    if (ev->flags & TW_TH_ACK)
        printf("%s  %-7s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32 " win=%u%s\n",
               out ? "--->" : "<---", fl, seq, ack, ev->len, ev->wnd, mark);
    else
        printf("%s  %-7s seq=%" PRIu32 " len=%" PRIu32 " win=%u%s\n", out ? "--->" : "<---", fl,
               seq, ev->len, ev->wnd, mark);
}

static void on_trace(void *ctx, const tw_trace_ev *ev) {
    tw_tunrun *r = ctx;
    conn_isn *c = ev->conn_id ? isn_of(r, ev->conn_id) : NULL;
    if (c && !c->announced && ev->raddr) {
        char l[20], p[20];
        c->announced = true;
        print_prefix(r, ev->t, ev->conn_id);
        printf("new connection %s:%u <-> %s:%u\n", tw_tunrun_ip_str(ev->laddr, l, sizeof l),
               ev->lport, tw_tunrun_ip_str(ev->raddr, p, sizeof p), ev->rport);
    }
    if (c && (ev->flags & TW_TH_SYN) && !(ev->flags & TW_TH_RST)) {
        if (ev->kind == TW_EV_SEG_OUT && !c->have_iss) c->iss = ev->seq, c->have_iss = true;
        if (ev->kind == TW_EV_SEG_IN && !c->have_irs) c->irs = ev->seq, c->have_irs = true;
    }
    switch (ev->kind) {
    case TW_EV_STATE:
        print_prefix(r, ev->t, ev->conn_id);
        printf("%s -> %s  (%s)\n", tw_state_name(ev->old_state), tw_state_name(ev->new_state),
               tw_cause_desc(ev->cause));
        if (ev->new_state == TW_CLOSED && ev->conn_id && r->on_closed)
            r->on_closed(r->closed_ctx, ev->conn_id, ev->cause);
        break;
    case TW_EV_SEG_IN:
    case TW_EV_SEG_OUT: print_seg(r, ev, c); break;
    case TW_EV_DROP:
        if (!ev->reason) break;
        print_prefix(r, ev->t, ev->conn_id);
        printf("%s\n", tw_counter_desc(ev->reason));
        break;
    case TW_EV_TIMER:
        print_prefix(r, ev->t, ev->conn_id);
        printf("timer %s fired\n", tw_timer_name(ev->cause));
        break;
    case TW_EV_USER:
        if (ev->cause == TW_CALL_SEND || ev->cause == TW_CALL_RECV) {
            if (r->o.quiet) break;
            print_prefix(r, ev->t, ev->conn_id);
            printf("app: %s %" PRIu32 " bytes\n", tw_call_name(ev->cause), ev->len);
        } else {
            print_prefix(r, ev->t, ev->conn_id);
            printf("app: %s\n", tw_call_name(ev->cause));
        }
        break;
    default: break;
    }
}

/* ---------------------------------------------------------------- run */

static tw_tunloop *g_loop; /* for the signal handler */
static volatile sig_atomic_t g_signal;

static void on_signal(int sig) {
    g_signal = sig;
    if (g_loop) tw_tunloop_stop(g_loop);
}

static uint64_t clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The pcap file first: a bad path then fails before any device is touched. */
static int open_link(tw_tunrun *r) {
    const tw_tunrun_opts *o = &r->o;
    int rc;
    if (o->pcap && (rc = tw_pcap_open(o->pcap, TW_PCAP_LINKTYPE_RAW, &r->pcap)) != 0) {
        fprintf(stderr, "tcpwave %s: cannot write pcap file '%s': %s\n", o->cmd, o->pcap,
                strerror(-rc));
        return TW_EXIT_SETUP;
    }
    rc = tw_tun_open(o->tun, &r->tun);
    if (rc) {
        fprintf(stderr, "tcpwave %s: cannot open TUN device '%s': %s%s\n", o->cmd, o->tun,
                strerror(-rc),
                rc == -EPERM || rc == -EACCES ? " (needs root or CAP_NET_ADMIN)"
                : rc == -ENOENT               ? " (no /dev/net/tun: load the tun module)"
                : rc == -EBUSY                ? " (another process has it open)"
                                              : "");
        return TW_EXIT_SETUP;
    }
    r->link = tw_tun_link(r->tun);
    /* Send nothing before the kernel will answer (see tw_tun_wait_running). */
    rc = tw_tun_wait_running(r->tun, TW_SEC(3));
    if (rc == -TW_EAGAIN)
        fprintf(stderr,
                "tcpwave %s: warning: TUN device '%s' is not up and running after 3 s "
                "(ip link set %s up?); going on\n",
                o->cmd, o->tun, o->tun);
    if (r->pcap) {
        /* Monotonic stack time + (realtime - monotonic) = wall-clock stamps. */
        int64_t off = (int64_t)(clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC));
        tw_pcap_tap_init(&r->tap, r->link, r->pcap, off);
        r->link = &r->tap.link;
    }
    if (o->loss_in > 0 || o->loss_out > 0 || o->ce_in > 0 || o->ce_out > 0) {
        /* Outside the tap: the capture is the wire (see link/fault.h). */
        tw_fault_link_init(&r->fault, r->link, o->loss_in, o->loss_out, o->have_seed ? o->seed : 1);
        tw_fault_link_set_ce(&r->fault, o->ce_in, o->ce_out);
        r->link = &r->fault.link;
        r->have_fault = true;
    }
    return 0;
}

int tw_tunrun_start(const tw_tunrun_opts *o, const tw_tunloop_app *app,
                    tw_tunrun_closed_fn on_closed, void *closed_ctx, tw_tunrun **out) {
    tw_tunrun *r = calloc(1, sizeof *r);
    if (!r) return TW_EXIT_SETUP;
    r->o = *o;
    r->on_closed = on_closed;
    r->closed_ctx = closed_ctx;
    r->t0 = tw_tunloop_clock();
    /* Lines go out as they happen, so a test can wait for one. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    int rc = open_link(r);
    if (rc) goto fail;
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.addr = o->addr;
    /* RFC 9293 MUST-67, SHLD-6: the MSS we offer, and the largest we send,
     * follow the device's MTU (MTU - 20 for IPv4 - 20 for TCP). */
    int mtu = tw_tun_mtu(r->tun);
    if (mtu >= 88) cfg.mss = (uint16_t)(mtu - 40 > 65495 ? 65495 : mtu - 40);
    /* RFC 6528: the ISN secret must not be guessable, unless a test asks. */
    /* Without --seed the stack draws its own secret (TW_SEED_RANDOM). */
    cfg.seed = o->have_seed ? o->seed : TW_SEED_RANDOM;
    if (o->rcvbuf) cfg.rcvbuf = o->rcvbuf;
    if (o->sndbuf) cfg.sndbuf = o->sndbuf;
    cfg.msl = o->msl;
    cfg.delack_fin = o->delack_fin;
    if (o->ecn >= 0) cfg.ecn = (uint8_t)o->ecn;
    cfg.cc = o->cc;
    if (o->no_hystart) cfg.hystart = false;
    cfg.trace = on_trace;
    cfg.trace_ctx = r;
    rc = tw_stack_new(&cfg, r->link, &r->st);
    if (rc) {
        fprintf(stderr, "tcpwave %s: cannot create the stack: %s\n", o->cmd, tw_strerror(rc));
        rc = TW_EXIT_SETUP;
        goto fail;
    }
    rc = tw_tunloop_new(r->st, r->link, app, &r->loop);
    if (rc) {
        fprintf(stderr, "tcpwave %s: cannot set up the event loop: %s\n", o->cmd, strerror(-rc));
        rc = TW_EXIT_SETUP;
        goto fail;
    }
    *out = r;
    return 0;
fail:
    tw_tunrun_finish(r);
    return rc;
}

tw_stack *tw_tunrun_stack(tw_tunrun *r) {
    return r->st;
}
tw_tunloop *tw_tunrun_loop(tw_tunrun *r) {
    return r->loop;
}

int tw_tunrun_run(tw_tunrun *r, bool *signalled) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    g_loop = r->loop;
    g_signal = 0;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    uint64_t until = r->o.timeout ? tw_tunloop_clock() + r->o.timeout : TW_TIME_NEVER;
    int rc = tw_tunloop_run(r->loop, until);
    g_loop = NULL;
    *signalled = g_signal != 0;
    if (rc < 0) {
        fprintf(stderr, "tcpwave %s: the TUN link failed: %s\n", r->o.cmd, strerror(-rc));
        return TW_EXIT_FAIL;
    }
    if (rc == 1) {
        tw_tunrun_say(r, 0, "timeout: %" PRIu64 " s passed (--timeout-s)",
                      r->o.timeout / TW_SEC(1));
        return TW_EXIT_TIMEOUT;
    }
    if (*signalled) tw_tunrun_say(r, 0, "stopped by signal %d", (int)g_signal);
    return TW_EXIT_OK;
}

int tw_tunrun_finish(tw_tunrun *r) {
    if (!r) return TW_EXIT_OK;
    int rc = TW_EXIT_OK;
    if (r->st && r->o.stats) {
        const uint64_t *c = tw_stack_counters(r->st);
        printf("counters:\n");
        for (int k = 0; k < TW_C__COUNT; k++)
            if (c[k])
                printf("  %-24s %10" PRIu64 "  %s\n", tw_counter_name(k), c[k], tw_counter_desc(k));
    }
    if (r->have_fault) {
        const tw_fault_stats *f = &r->fault.stats;
        printf(
            "loss: dropped %" PRIu64 " of %" PRIu64 " packets from the kernel (%.2f %%), %" PRIu64
            " of %" PRIu64 " to it (%.2f %%), seed %" PRIu64 "\n",
            f->in_dropped, f->in, f->in ? 100.0 * (double)f->in_dropped / (double)f->in : 0.0,
            f->out_dropped, f->out, f->out ? 100.0 * (double)f->out_dropped / (double)f->out : 0.0,
            r->o.have_seed ? r->o.seed : 1);
        if (r->o.ce_in > 0 || r->o.ce_out > 0)
            printf("ecn: marked CE on %" PRIu64 " packets from the kernel, %" PRIu64 " to it\n",
                   f->in_ce, f->out_ce);
    }
    tw_tunloop_free(r->loop);
    tw_stack_free(r->st);
    if (r->pcap) {
        uint64_t n = tw_pcap_count(r->pcap);
        int e = tw_pcap_close(r->pcap);
        if (e) {
            fprintf(stderr, "tcpwave %s: writing '%s' failed: %s\n", r->o.cmd, r->o.pcap,
                    strerror(-e));
            rc = TW_EXIT_FAIL;
        } else {
            printf("pcap: %" PRIu64 " packets written to %s\n", n, r->o.pcap);
        }
    }
    tw_tun_free(r->tun);
    free(r);
    return rc;
}
