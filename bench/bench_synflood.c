/* bench_synflood.c - a SYN flood against a listener, with and without SYN
 * cookies (src/stack/syncookie.c), in one process on a virtual clock.
 *
 * A server stack (198.18.0.2, a listener on :80 with --backlog) receives
 * --syns SYNs from random sources in 198.18.0.0/15 (random port, ISN; the
 * two stacks' own addresses excluded), --rate per virtual second. Every
 * --legit-every SYNs a legitimate client on a second stack (198.18.0.1)
 * starts a full connection: connect, a 64-byte request, the 64-byte answer,
 * the server closes, the client closes. The link has no delay; SYN-ACKs to
 * the flood's addresses are counted and discarded (nobody answers them).
 * After the flood the clock runs on for --drain virtual seconds (the
 * flood's half-open connections give up; clients still trying may get in).
 *
 * Figures, per mode (cookies on, then off): the server stack's memory as
 * the allocator sees it (not sizeof): this program puts a counting layer
 * over glibc's malloc, free, calloc and realloc that adds up
 * malloc_usable_size() of the blocks each stack holds (every call into a
 * stack is marked with its owner), before the flood, at its peak, at its
 * end and after the drain (the stack keeps the buffer blocks of closed
 * connections for reuse, so "after" stays near the peak); SYN-ACKs
 * sent; legitimate connections completed during the flood and by the end,
 * of those attempted; their connect time (virtual); the wall time and the
 * wall time per flood SYN. One table on stdout, then one JSON line per
 * mode (bench_common.h) for bench/run.
 *
 * usage: bench_synflood [--syns 1000000] [--rate 100000] [--legit-every 1000]
 *                       [--backlog 128] [--drain 200] [--only on|off] */
#include "bench_common.h"

#include <inttypes.h>
#include <malloc.h>

#include "util/rng.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

#define REQ 64
#define QCAP 8192u
#define MAXC 65536u

/* ---- the counting allocator ---- */

enum { OWN_OTHER, OWN_SRV, OWN_CLI };
static int g_owner = OWN_OTHER;
static int64_t g_heap[3];
#define AS(o, stmt)                                                                                \
    do {                                                                                           \
        int o_ = g_owner;                                                                          \
        g_owner = (o);                                                                             \
        stmt;                                                                                      \
        g_owner = o_;                                                                              \
    } while (0)

#if defined(__SANITIZE_ADDRESS__)
#define SF_COUNTING 0 /* ASan owns malloc: no counts (the figures read 0) */
#else
#define SF_COUNTING 1
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t k);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

void *malloc(size_t n) {
    void *p = __libc_malloc(n);
    if (p) g_heap[g_owner] += (int64_t)malloc_usable_size(p);
    return p;
}
void *calloc(size_t n, size_t k) {
    void *p = __libc_calloc(n, k);
    if (p) g_heap[g_owner] += (int64_t)malloc_usable_size(p);
    return p;
}
void *realloc(void *p, size_t n) {
    int64_t old = p ? (int64_t)malloc_usable_size(p) : 0;
    void *q = __libc_realloc(p, n);
    if (q)
        g_heap[g_owner] += (int64_t)malloc_usable_size(q) - old;
    else if (p && n == 0)
        g_heap[g_owner] -= old;
    return q;
}
void free(void *p) {
    if (p) g_heap[g_owner] -= (int64_t)malloc_usable_size(p);
    __libc_free(p);
}
#endif

/* Bytes the server stack holds now. */
static size_t heap_bytes(void) {
    return (size_t)(g_heap[OWN_SRV] > 0 ? g_heap[OWN_SRV] : 0);
}

/* A FIFO of packets towards one stack. */
typedef struct sq {
    uint8_t (*pkt)[1600];
    uint16_t *len;
    uint32_t head, n;
} sq;

typedef struct sf_link {
    tw_link link;
    sq *to;
    uint32_t peer;      /* the only address delivered; 0: all */
    uint64_t discarded; /* packets to anyone else (the flood's sources) */
} sf_link;

static int sf_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    sf_link *s = (sf_link *)l;
    uint32_t dst =
        (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
    if (s->peer && dst != s->peer) {
        s->discarded++;
        return 0;
    }
    if (s->to->n == QCAP || len > sizeof s->to->pkt[0]) bench_die("link queue full");
    uint32_t i = (s->to->head + s->to->n++) % QCAP;
    memcpy(s->to->pkt[i], pkt, len);
    s->to->len[i] = (uint16_t)len;
    return 0;
}
static const struct tw_link_ops sf_ops = TW_LINK_SEND_ONLY(sf_send);

/* A legitimate client: socket index -> its progress. */
typedef struct client {
    uint64_t started;
    uint32_t got;
    uint8_t sent, done;
} client;

typedef struct world {
    tw_stack *srv, *cli;
    sq to_srv, to_cli;
    sf_link lsrv, lcli;
    uint64_t now;
    int lsock;
    client c[MAXC];
    uint8_t sgot[MAXC];
    uint8_t msg[REQ];
    uint64_t attempted, completed, completed_in_flood, refused;
    double *connect_ms;
    uint64_t nconnect;
} world;

static void deliver(world *w) {
    while (w->to_srv.n || w->to_cli.n) {
        while (w->to_srv.n) {
            uint32_t i = w->to_srv.head;
            w->to_srv.head = (i + 1) % QCAP;
            w->to_srv.n--;
            AS(OWN_SRV, tw_stack_input(w->srv, w->now, w->to_srv.pkt[i], w->to_srv.len[i]));
        }
        while (w->to_cli.n) {
            uint32_t i = w->to_cli.head;
            w->to_cli.head = (i + 1) % QCAP;
            w->to_cli.n--;
            AS(OWN_CLI, tw_stack_input(w->cli, w->now, w->to_cli.pkt[i], w->to_cli.len[i]));
        }
    }
}

static int server_app(world *w) {
    tw_event ev;
    int n = 0;
    while (tw_next_event(w->srv, &ev)) {
        n++;
        if (ev.what & TW_EVT_ACCEPTABLE) {
            int s;
            while ((s = tw_accept(w->srv, ev.sock, NULL, NULL)) >= 0)
                w->sgot[(uint32_t)s & 0xffff] = 0;
            continue;
        }
        uint32_t k = (uint32_t)ev.sock & 0xffff;
        if (ev.what & (TW_EVT_READABLE | TW_EVT_CLOSED)) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(w->srv, ev.sock, buf, sizeof buf)) > 0) {
                w->sgot[k] = (uint8_t)(w->sgot[k] + r);
                if (w->sgot[k] == REQ) {
                    tw_send(w->srv, ev.sock, w->msg, REQ);
                    tw_close(w->srv, ev.sock); /* the server closes first */
                    break;
                }
            }
            if (r == 0 || (r < 0 && r != -TW_EAGAIN)) tw_close(w->srv, ev.sock);
        }
    }
    return n;
}

static int client_app(world *w, bool in_flood) {
    tw_event ev;
    int n = 0;
    while (tw_next_event(w->cli, &ev)) {
        n++;
        client *c = &w->c[(uint32_t)ev.sock & 0xffff];
        if ((ev.what & TW_EVT_CONNECTED) && !c->sent) {
            w->connect_ms[w->nconnect++] = (double)(w->now - c->started) / 1e6;
            if (tw_send(w->cli, ev.sock, w->msg, REQ) == REQ) c->sent = 1;
        }
        if (ev.what & TW_EVT_READABLE) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(w->cli, ev.sock, buf, sizeof buf)) > 0) c->got += (uint32_t)r;
            if (r == 0 && c->got == REQ && !c->done) {
                c->done = 1;
                w->completed++;
                w->completed_in_flood += in_flood;
                tw_close(w->cli, ev.sock);
                continue;
            }
        }
        if ((ev.what & TW_EVT_CLOSED) && !c->done) {
            c->done = 1;
            w->refused++; /* timed out or reset */
            tw_close(w->cli, ev.sock);
        }
    }
    return n;
}

/* Everything that is due at w->now, until nothing moves. */
static void settle(world *w, bool in_flood) {
    for (int round = 0; round < 1000; round++) {
        int ev = 0;
        AS(OWN_SRV, ev += server_app(w));
        AS(OWN_CLI, ev += client_app(w, in_flood));
        AS(OWN_SRV, tw_stack_poll(w->srv, w->now));
        AS(OWN_CLI, tw_stack_poll(w->cli, w->now));
        bool moved = w->to_srv.n || w->to_cli.n;
        deliver(w);
        if (!moved && !ev) return;
    }
    bench_die("did not settle");
}

static void flood_syn(world *w, tw_rng *r) {
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    uint64_t v;
    do {
        v = tw_rng_next(r);
        s.src_addr = 0xC6120000u | (uint32_t)(v & 0x1ffffu);
    } while (s.src_addr == BENCH_ADDR_A || s.src_addr == BENCH_ADDR_B || s.src_addr == 0xC6120000u);
    s.dst_addr = BENCH_ADDR_B;
    s.src_port = (uint16_t)(1024 + (v >> 17) % 64511);
    s.dst_port = 80;
    s.seq = tw_seq((uint32_t)(v >> 32));
    s.flags = TW_TH_SYN;
    s.wnd = 65535;
    s.opt.has_mss = true;
    s.opt.mss = 1460;
    uint8_t buf[128];
    int n = tw_packet_emit(&s, 1, buf, sizeof buf);
    if (n < 0) bench_die("emit");
    AS(OWN_SRV, tw_stack_input(w->srv, w->now, buf, (size_t)n));
}

static void legit_start(world *w) {
    int s = tw_socket(w->cli);
    if (s < 0) bench_die("client socket: %d", s);
    client *c = &w->c[(uint32_t)s & 0xffff];
    memset(c, 0, sizeof *c);
    c->started = w->now;
    if (tw_connect(w->cli, s, BENCH_ADDR_B, 80)) bench_die("connect");
    w->attempted++;
}

typedef struct result {
    bool cookies;
    size_t m_before, m_peak, m_end, m_after;
    uint64_t synacks, cookies_sent, cookies_ok, overflow, flood_syns;
    uint64_t attempted, completed, completed_in_flood;
    double connect_p50, connect_max, wall_s;
    size_t conns_end, conns_after;
    int64_t leaked; /* server bytes left after tw_stack_free (must be 0) */
} result;

static void run(bool cookies, uint64_t syns, double rate, uint64_t every, int backlog, double drain,
                result *out) {
    world *w = calloc(1, sizeof *w);
    if (!w) bench_die("out of memory");
    memset(out, 0, sizeof *out);
    out->cookies = cookies;
    w->to_srv.pkt = malloc(sizeof *w->to_srv.pkt * QCAP);
    w->to_cli.pkt = malloc(sizeof *w->to_cli.pkt * QCAP);
    w->to_srv.len = malloc(sizeof *w->to_srv.len * QCAP);
    w->to_cli.len = malloc(sizeof *w->to_cli.len * QCAP);
    w->connect_ms = malloc(sizeof *w->connect_ms * (syns / (every ? every : 1) + 1));
    if (!w->to_srv.pkt || !w->to_cli.pkt || !w->to_srv.len || !w->to_cli.len || !w->connect_ms)
        bench_die("out of memory");
    memset(w->msg, 'x', REQ);
    w->lsrv = (sf_link){{&sf_ops}, &w->to_cli, BENCH_ADDR_A, 0};
    w->lcli = (sf_link){{&sf_ops}, &w->to_srv, 0, 0};
    w->now = TW_SEC(1);
    g_heap[OWN_SRV] = g_heap[OWN_CLI] = 0;
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.addr = BENCH_ADDR_B;
    cfg.syn_cookies = cookies;
    int rc = 0;
    AS(OWN_SRV, rc = tw_stack_new(&cfg, &w->lsrv.link, &w->srv));
    if (rc) bench_die("server stack");
    AS(OWN_SRV, w->lsock = tw_socket(w->srv);
       rc = tw_bind(w->srv, w->lsock, 80) || tw_listen(w->srv, w->lsock, backlog));
    if (rc) bench_die("listen");
    out->m_before = heap_bytes();
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.addr = BENCH_ADDR_A;
    AS(OWN_CLI, rc = tw_stack_new(&cfg, &w->lcli.link, &w->cli));
    if (rc) bench_die("client stack");

    tw_rng r;
    tw_rng_seed(&r, 0x5eed);
    uint64_t step = (uint64_t)(1e9 / rate);
    double t0 = bench_wall_ns();
    size_t peak = 0;
    for (uint64_t i = 1; i <= syns; i++) {
        w->now += step;
        flood_syn(w, &r);
        if (every && i % every == 0) AS(OWN_CLI, legit_start(w));
        settle(w, true);
        if ((i & 255) == 0) {
            size_t h = heap_bytes();
            if (h > peak) peak = h;
        }
    }
    out->wall_s = (bench_wall_ns() - t0) / 1e9;
    out->conns_end = tw_stack_conn_count(w->srv);
    if (heap_bytes() > peak) peak = heap_bytes();
    out->m_peak = peak;
    out->m_end = heap_bytes();
    /* The drain: jump from deadline to deadline. */
    uint64_t stop = w->now + (uint64_t)(drain * 1e9);
    while (w->now < stop) {
        uint64_t d = tw_stack_next_deadline(w->srv), e = tw_stack_next_deadline(w->cli);
        uint64_t t = d < e ? d : e;
        if (t > stop) t = stop;
        if (t > w->now) w->now = t;
        settle(w, false);
    }
    out->m_after = heap_bytes();
    out->conns_after = tw_stack_conn_count(w->srv);
    const uint64_t *k = tw_stack_counters(w->srv);
    out->synacks = w->lsrv.discarded; /* every packet to a flood source is a SYN-ACK */
    out->cookies_sent = k[TW_C_SYNCOOKIE_SENT];
    out->cookies_ok = k[TW_C_SYNCOOKIE_ACCEPTED];
    out->overflow = k[TW_C_DROP_LISTEN_OVERFLOW];
    out->flood_syns = syns;
    out->attempted = w->attempted;
    out->completed = w->completed;
    out->completed_in_flood = w->completed_in_flood;
    out->connect_p50 = bench_quantile(w->connect_ms, w->nconnect, 0.5);
    out->connect_max = w->nconnect ? w->connect_ms[w->nconnect - 1] : 0;
    AS(OWN_SRV, tw_stack_free(w->srv));
    AS(OWN_CLI, tw_stack_free(w->cli));
    out->leaked = g_heap[OWN_SRV];
    free(w->to_srv.pkt);
    free(w->to_cli.pkt);
    free(w->to_srv.len);
    free(w->to_cli.len);
    free(w->connect_ms);
    free(w);
}

static void print_row(const result *x) {
    char in_flood[32], by_end[32];
    snprintf(in_flood, sizeof in_flood, "%" PRIu64 "/%" PRIu64, x->completed_in_flood,
             x->attempted);
    snprintf(by_end, sizeof by_end, "%" PRIu64 "/%" PRIu64, x->completed, x->attempted);
    printf("%-7s %8.2f %8.2f %8.2f %8.2f %6zu %5zu %9" PRIu64 " %9" PRIu64 " %9" PRIu64
           " %11s %11s %8.2f %6.2f %6.0f\n",
           x->cookies ? "on" : "off", x->m_before / 1048576.0, x->m_peak / 1048576.0,
           x->m_end / 1048576.0, x->m_after / 1048576.0, x->conns_end, x->conns_after, x->synacks,
           x->cookies_sent, x->overflow, in_flood, by_end, x->connect_max, x->wall_s,
           x->wall_s * 1e9 / (double)x->flood_syns);
}

static void print_json(const result *x, int backlog, double rate) {
    bench_json j;
    bj_begin(&j, "synflood", "tcpwave");
    bj_str(&j, "cookies", x->cookies ? "on" : "off");
    bj_num(&j, "syns", (double)x->flood_syns);
    bj_num(&j, "rate", rate);
    bj_num(&j, "backlog", backlog);
    bj_num(&j, "mem_before", (double)x->m_before);
    bj_num(&j, "mem_peak", (double)x->m_peak);
    bj_num(&j, "mem_end", (double)x->m_end);
    bj_num(&j, "mem_after", (double)x->m_after);
    bj_num(&j, "mem_leaked", (double)x->leaked);
    bj_num(&j, "conns_end", (double)x->conns_end);
    bj_num(&j, "conns_after", (double)x->conns_after);
    bj_num(&j, "synacks", (double)x->synacks);
    bj_num(&j, "cookies_sent", (double)x->cookies_sent);
    bj_num(&j, "cookies_accepted", (double)x->cookies_ok);
    bj_num(&j, "listen_overflow", (double)x->overflow);
    bj_num(&j, "legit_attempted", (double)x->attempted);
    bj_num(&j, "legit_completed_in_flood", (double)x->completed_in_flood);
    bj_num(&j, "legit_completed", (double)x->completed);
    bj_num(&j, "connect_p50_ms", x->connect_p50);
    bj_num(&j, "connect_max_ms", x->connect_max);
    bj_num(&j, "wall_s", x->wall_s);
    bj_num(&j, "ns_per_syn", x->wall_s * 1e9 / (double)x->flood_syns);
    bj_end(&j);
}

int main(int argc, char **argv) {
    bench_check_args(argc, argv, "--backlog= --drain= --legit-every= --only= --rate= --syns=",
                     "usage: bench_synflood [--syns 1000000] [--rate 100000] [--legit-every 1000] "
                     "[--backlog 128] [--drain 200] [--only on|off]\n");
    uint64_t syns = (uint64_t)bench_argf(argc, argv, "--syns", 1000000);
    double rate = bench_argf(argc, argv, "--rate", 100000);
    uint64_t every = (uint64_t)bench_argf(argc, argv, "--legit-every", 1000);
    int backlog = (int)bench_argf(argc, argv, "--backlog", 128);
    double drain = bench_argf(argc, argv, "--drain", 200);
    const char *only = bench_arg(argc, argv, "--only", "");
    if (syns == 0 || rate <= 0 || (every && syns / every >= MAXC / 2)) bench_die("bad arguments");
    result res[2];
    int n = 0;
    if (strcmp(only, "off") != 0) run(true, syns, rate, every, backlog, drain, &res[n++]);
    if (strcmp(only, "on") != 0) run(false, syns, rate, every, backlog, drain, &res[n++]);
    printf("SYN flood: %" PRIu64 " SYNs from random 198.18.0.0/15 sources at %.0f/s (virtual), "
           "backlog %d, a legitimate client every %" PRIu64 " SYNs, drain %.0f s\n",
           syns, rate, backlog, every, drain);
    printf("server stack memory in MiB (allocator-counted); conns = its connections (flood "
           "half-open ones) at the flood's end and after the drain; legit = legitimate "
           "connections done/tried during the flood and by the end\n");
    printf("%-7s %8s %8s %8s %8s %6s %5s %9s %9s %9s %11s %11s %8s %6s %6s\n", "cookies", "before",
           "peak", "end", "after", "conns", "after", "SYN-ACKs", "cookies", "overflow",
           "legit flood", "legit end", "conn max", "wall", "ns/SYN");
    printf("%-7s %8s %8s %8s %8s %6s %5s %9s %9s %9s %11s %11s %8s %6s %6s\n", "", "", "", "",
           "drain", "end", "drain", "to flood", "sent", "drops", "", "", "ms", "s", "");
    for (int i = 0; i < n; i++) print_row(&res[i]);
    for (int i = 0; i < n; i++) print_json(&res[i], backlog, rate);
    if (!SF_COUNTING) printf("(ASan build: the allocator is not counted, memory reads 0)\n");
    return 0;
}
