/* test_lossy.c - many connections over a bad network, checked end to end.
 *
 * Each run (one seed) builds a world of client and server stacks whose links
 * lose, duplicate, reorder, delay with jitter and corrupt packets (rates drawn
 * from the seed). Every connection moves a pseudo-random byte stream in each
 * direction (0 to ~100 KB, bytes derived from the seed and the connection
 * index) and closes in one of five ways: client first, server first, both at
 * once, client half-close (the server sends its data after the client's FIN)
 * and server half-close. At the end:
 *   - every byte arrived in order exactly once (checked against the
 *     generator as it is read), and every side that waits for the peer's
 *     FIN saw end of stream;
 *   - every connection incarnation on every stack ended CLOSED, the
 *     application's ones orderly (TIME_WAIT ended by 2MSL or by a new SYN
 *     reusing the 4-tuple, or LAST_ACK ended by the ACK of our FIN; no
 *     error), and each TIME_WAIT ended exactly 2MSL after it began or was
 *     last restarted by a retransmitted FIN;
 *   - no connection and no TIME_WAIT record is left, the world is idle;
 *   - counters agree with the link and the applications: packets sent and
 *     received, corrupted copies == packets dropped by header/checksum checks
 *     (so every corruption was caught), payload bytes in and out, opens ==
 *     closes, TIME_WAIT entries == expiries + reuses.
 * Every run is bounded in virtual time and in steps, so a bug cannot hang.
 * On failure the seed is printed (tw_test_context).
 *
 * Environment:
 *   TW_SOAK_SEEDS=N   also run N more seeds (a long soak; not for CI), e.g.
 *                     TW_SOAK_SEEDS=500 build/release/tests/sim/test_lossy soak
 *                     (TW_SOAK_START=K skips the first K of them, to go on
 *                     past a failure; the failing seed is printed)
 *   TW_LOSSY_SEED=S   run only seed S (replay a failure), e.g.
 *                     TW_LOSSY_SEED=1234 build/asan/tests/sim/test_lossy replay
 *   TW_HEAVY_CONNS=N  the "heavy" profile: one world of N connections (CI:
 *                     1000) over links losing 30% of packets (plus the usual
 *                     duplication, reordering and corruption), started over
 *                     N x 20 ms, streams of up to 8 KB each way; the full
 *                     soak is TW_HEAVY_CONNS=10000 build/release/tests/sim/test_lossy heavy
 *                     (TW_HEAVY_SEED=S picks another seed)
 *   TW_LOSSY_VERBOSE=1 print a summary line per seed.
 *   TW_LOSSY_TRACE=H:ID print the trace of connection incarnation ID on host
 *                     H (as named in a failure message), for debugging.
 */
#include <inttypes.h>

#include "test.h"

#include "drive/world.h"
#include "stack/stack.h"
#include "util/rng.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

#define NCLIENTS 2
#define NSERVERS 2
#define NHOSTS (NCLIENTS + NSERVERS)
#define PORT 80
#define MAX_SOCK_IDX 16384
#define MSL TW_SEC(30)
/* The heavy profile (30% loss): a FIN retransmission backed off to the 10 s
 * RTO cap must still find TIME_WAIT there after many losses in a row, so
 * 2MSL is 240 s (24 straight losses: 0.3^24 ~ 3e-13 per connection). */
#define HEAVY_MSL TW_SEC(120)
#define HEAVY_LOSS 0.30
#define MAX_VTIME TW_SEC(3600) /* bound on virtual time per run (plus the start spread) */
#define MAX_STEPS 3000000u     /* bound on event-loop steps per run (x connections / 150) */
#define CHECK_EVERY 2000u      /* steps between tw__stack_check() calls */

/* Seeds run in CI: together about 2 s under ASan. TW_SOAK_SEEDS runs more. */
static const uint64_t CI_SEEDS[] = {1,  2,  3,  4,  5,  6,      7,        8,       9,
                                    10, 11, 12, 13, 14, 0x5eed, 20240601, 0xc0ffee};

/* ---------------------------------------------------------------- model */

enum { WHEN_DONE, WHEN_EOF }; /* close after sending all and reading all / at EOF */
enum { M_CLIENT_FIRST, M_SERVER_FIRST, M_SIMULTANEOUS, M_CLIENT_HALF, M_SERVER_HALF, M__COUNT };
static const char *const MODE_NAMES[M__COUNT] = {"client-first", "server-first", "simultaneous",
                                                 "client-half-close", "server-half-close"};

typedef struct side {
    int host, dir; /* dir: 0 = client->server bytes are this side's tx */
    int sock;
    bool assigned, connected, eof, shut, closed, got_closed;
    bool wait_eof;       /* start sending only after the peer's FIN */
    bool shut_when_sent; /* shutdown(WR) once everything is queued */
    int close_when;
    uint64_t tx_total, tx_done, rx_total, rx_done;
    int err, closed_err;
    uint32_t conn_id;
    struct conn *conn;
} side;

typedef struct conn {
    int idx, mode;
    int chost, shost;
    uint64_t start;
    uint16_t lport;
    side c, s;
} conn;

typedef struct idst {
    uint8_t state, cause;
    bool seen, tw;
    bool fin_in; /* the latest segment in was a FIN reaching TIME_WAIT */
    uint64_t tw_enter, restart, end;
    uint64_t prev_restart; /* restart before that FIN, if it is dropped */
} idst;

typedef struct hoststate {
    bool server;
    int lsock;
    side *by_sock[MAX_SOCK_IDX];
    idst *ids;
    size_t nids;
    uint64_t app_rx, app_tx;
    int next_start; /* clients: index into `order` of the next conn to start */
    int *order;     /* clients: conns of this host by start time */
    int norder;
} hoststate;

typedef struct lossy {
    uint64_t seed;
    bool heavy;   /* the heavy profile (see the header) */
    bool cubic;   /* the stacks run CUBIC (else NewReno) */
    uint64_t msl; /* MSL or HEAVY_MSL */
    tw_world *w;
    conn *conns;
    int nconns;
    hoststate hosts[NHOSTS];
    tw_sim_cfg link;
    uint64_t corrupted_copies;
    int last_corrupt_from;
    uint64_t last_corrupt_nth;
    int strays;
    uint64_t tw_checked;
    uint64_t closing, fin_reack; /* incarnations through CLOSING; FINs re-ACKed in TIME_WAIT */
    uint8_t buf[16384], gen[16384];
} lossy;

static uint32_t host_addr(int h) {
    return 0x0a000000u + (uint32_t)h + 1;
}

/* ---------------------------------------------------------------- byte streams */

static uint64_t mix64(uint64_t x) {
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* Bytes [off, off+n) of the stream of connection k in direction dir. */
static void gen_bytes(uint64_t seed, int k, int dir, uint64_t off, uint8_t *out, size_t n) {
    uint64_t base = mix64(seed ^ ((uint64_t)(unsigned)k << 24) ^ ((uint64_t)dir << 56));
    uint64_t word = 0, wi = UINT64_MAX;
    for (size_t i = 0; i < n; i++) {
        uint64_t o = off + i;
        if (o >> 3 != wi) {
            wi = o >> 3;
            word = mix64(base ^ (wi * 0xd6e8feb86659fd93ull));
        }
        out[i] = (uint8_t)(word >> ((o & 7) * 8));
    }
}

/* 10% empty, 40% up to 2 KB, 40% up to 30 KB, 10% up to ~100 KB. */
static uint64_t draw_size(tw_rng *r) {
    uint64_t p = tw_rng_below(r, 100);
    if (p < 10) return 0;
    if (p < 50) return tw_rng_range(r, 1, 2000);
    if (p < 90) return tw_rng_range(r, 2001, 30000);
    return tw_rng_range(r, 30001, 100000);
}

static void set_mode(conn *c) {
    static const struct {
        bool wait_eof, shut;
        int when;
    } R[M__COUNT][2] = {
        [M_CLIENT_FIRST] = {{false, false, WHEN_DONE}, {false, false, WHEN_EOF}},
        [M_SERVER_FIRST] = {{false, false, WHEN_EOF}, {false, false, WHEN_DONE}},
        [M_SIMULTANEOUS] = {{false, false, WHEN_DONE}, {false, false, WHEN_DONE}},
        [M_CLIENT_HALF] = {{false, true, WHEN_EOF}, {true, false, WHEN_EOF}},
        [M_SERVER_HALF] = {{true, false, WHEN_EOF}, {false, true, WHEN_EOF}},
    };
    side *sd[2] = {&c->c, &c->s};
    for (int i = 0; i < 2; i++) {
        sd[i]->wait_eof = R[c->mode][i].wait_eof;
        sd[i]->shut_when_sent = R[c->mode][i].shut;
        sd[i]->close_when = R[c->mode][i].when;
    }
}

static void plan(lossy *L, int nconns) {
    L->nconns = nconns;
    L->conns = calloc((size_t)nconns, sizeof *L->conns);
    if (!L->conns) abort();
    tw_rng r;
    tw_rng_seed(&r, mix64(L->seed ^ 0x706c616eull));
    for (int k = 0; k < nconns; k++) {
        conn *c = &L->conns[k];
        c->idx = k;
        c->chost = (int)tw_rng_below(&r, NCLIENTS);
        c->shost = NCLIENTS + (int)tw_rng_below(&r, NSERVERS);
        c->start = tw_rng_below(&r, L->heavy ? (uint64_t)nconns * TW_MS(20) : TW_SEC(2));
        c->mode = (int)tw_rng_below(&r, M__COUNT);
        uint64_t c2s = draw_size(&r), s2c = draw_size(&r);
        if (L->heavy) c2s %= 8193, s2c %= 8193;
        c->c = (side){
            .host = c->chost, .dir = 0, .sock = -1, .tx_total = c2s, .rx_total = s2c, .conn = c};
        c->s = (side){
            .host = c->shost, .dir = 1, .sock = -1, .tx_total = s2c, .rx_total = c2s, .conn = c};
        set_mode(c);
    }
}

/* ---------------------------------------------------------------- applications */

static void map_sock(lossy *L, side *sd) {
    uint32_t i = (uint32_t)sd->sock & 0xffffu;
    if (i >= MAX_SOCK_IDX) FAIL("socket index %u too large for the test's map", i);
    L->hosts[sd->host].by_sock[i] = sd;
}

static side *find_sock(lossy *L, int host, int sock) {
    uint32_t i = (uint32_t)sock & 0xffffu;
    if (sock < 0 || i >= MAX_SOCK_IDX) return NULL;
    side *sd = L->hosts[host].by_sock[i];
    return sd && sd->sock == sock && !sd->closed ? sd : NULL;
}

static void push_data(lossy *L, tw_stack *st, side *sd) {
    while (sd->tx_done < sd->tx_total) {
        uint64_t left = sd->tx_total - sd->tx_done;
        size_t n = left < sizeof L->gen ? (size_t)left : sizeof L->gen;
        gen_bytes(L->seed, sd->conn->idx, sd->dir, sd->tx_done, L->gen, n);
        int rc = tw_send(st, sd->sock, L->gen, n);
        if (rc == -TW_EAGAIN) return;
        if (rc <= 0)
            FAIL("conn %d (%s) %s: send: %d", sd->conn->idx, MODE_NAMES[sd->conn->mode],
                 sd->dir ? "server" : "client", rc);
        sd->tx_done += (uint64_t)rc;
        L->hosts[sd->host].app_tx += (uint64_t)rc;
    }
}

static void drain(lossy *L, tw_stack *st, side *sd) {
    for (;;) {
        int n = tw_recv(st, sd->sock, L->buf, sizeof L->buf);
        if (n == -TW_EAGAIN) return;
        if (n == 0) {
            sd->eof = true;
            return;
        }
        if (n < 0) {
            sd->err = -n;
            return;
        }
        if (sd->rx_done + (uint64_t)n > sd->rx_total)
            FAIL("conn %d: %s received %" PRIu64 " bytes, more than the %" PRIu64 " sent",
                 sd->conn->idx, sd->dir ? "server" : "client", sd->rx_done + (uint64_t)n,
                 sd->rx_total);
        gen_bytes(L->seed, sd->conn->idx, 1 - sd->dir, sd->rx_done, L->gen, (size_t)n);
        if (memcmp(L->buf, L->gen, (size_t)n) != 0) {
            size_t k = 0;
            while (L->buf[k] == L->gen[k]) k++;
            FAIL("conn %d (%s): %s stream corrupted at byte %" PRIu64, sd->conn->idx,
                 MODE_NAMES[sd->conn->mode], sd->dir ? "client->server" : "server->client",
                 sd->rx_done + k);
        }
        sd->rx_done += (uint64_t)n;
        L->hosts[sd->host].app_rx += (uint64_t)n;
    }
}

/* Moves a side on: send what may be sent, shut down, close. */
static void progress(lossy *L, tw_stack *st, side *sd) {
    if (sd->closed) return;
    if (sd->connected && !sd->shut && (!sd->wait_eof || sd->eof) && !sd->got_closed)
        push_data(L, st, sd);
    bool sent_all = sd->tx_done == sd->tx_total;
    if (sd->shut_when_sent && sent_all && !sd->shut && sd->connected && !sd->got_closed) {
        int rc = tw_shutdown(st, sd->sock, TW_SHUT_WR);
        if (rc) FAIL("conn %d: shutdown: %d", sd->conn->idx, rc);
        sd->shut = true;
    }
    bool done =
        sd->close_when == WHEN_DONE ? sent_all && sd->rx_done == sd->rx_total : sent_all && sd->eof;
    if ((sd->connected && done) || sd->got_closed) {
        if (tw_close(st, sd->sock) != 0) FAIL("conn %d: close failed", sd->conn->idx);
        sd->closed = true;
    }
}

static void on_sock_event(lossy *L, tw_stack *st, side *sd, const tw_event *ev) {
    if (ev->what & TW_EVT_CONNECTED) sd->connected = true;
    if (ev->what & (TW_EVT_READABLE | TW_EVT_CLOSED)) drain(L, st, sd);
    if (ev->what & TW_EVT_CLOSED) {
        sd->got_closed = true;
        sd->closed_err = ev->err;
    }
    progress(L, st, sd);
}

static void start_due(lossy *L, tw_world *w, int host) {
    hoststate *hs = &L->hosts[host];
    tw_stack *st = tw_world_stack(w, host);
    uint64_t now = tw_world_now(w);
    while (hs->next_start < hs->norder && L->conns[hs->order[hs->next_start]].start <= now) {
        conn *c = &L->conns[hs->order[hs->next_start++]];
        side *sd = &c->c;
        sd->sock = tw_socket(st);
        if (sd->sock < 0) FAIL("tw_socket: %d", sd->sock);
        int rc = tw_connect(st, sd->sock, host_addr(c->shost), PORT);
        if (rc) FAIL("conn %d: connect: %d", c->idx, rc);
        tw_sock_info info;
        tw_sock_info_get(st, sd->sock, &info);
        c->lport = info.lport;
        sd->conn_id = info.conn_id;
        sd->assigned = true;
        map_sock(L, sd);
    }
    if (hs->next_start < hs->norder)
        tw_world_wake_at(w, host, L->conns[hs->order[hs->next_start]].start);
}

static void client_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    lossy *L = ctx;
    if (!ev) {
        start_due(L, w, host);
        return;
    }
    side *sd = find_sock(L, host, ev->sock);
    if (sd) on_sock_event(L, tw_world_stack(w, host), sd, ev);
}

static void accept_all(lossy *L, tw_stack *st, int host) {
    hoststate *hs = &L->hosts[host];
    uint32_t ra;
    uint16_t rp;
    int s;
    while ((s = tw_accept(st, hs->lsock, &ra, &rp)) >= 0) {
        side *sd = NULL;
        for (int k = 0; k < L->nconns && !sd; k++) {
            conn *c = &L->conns[k];
            if (c->shost == host && host_addr(c->chost) == ra && c->lport == rp && c->c.assigned &&
                !c->s.assigned)
                sd = &c->s;
        }
        if (!sd) { /* a stray incarnation (e.g. an old duplicate SYN): not ours */
            L->strays++;
            tw_abort(st, s);
            continue;
        }
        sd->sock = s;
        sd->assigned = sd->connected = true;
        tw_sock_info info;
        tw_sock_info_get(st, s, &info);
        sd->conn_id = info.conn_id;
        map_sock(L, sd);
        progress(L, st, sd);
    }
}

static void server_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    lossy *L = ctx;
    if (!ev) return;
    tw_stack *st = tw_world_stack(w, host);
    if (ev->sock == L->hosts[host].lsock) {
        accept_all(L, st, host);
        return;
    }
    side *sd = find_sock(L, host, ev->sock);
    if (sd) on_sock_event(L, st, sd, ev);
}

/* ---------------------------------------------------------------- observers */

/* TW_LOSSY_TRACE=host:conn_id prints that incarnation's trace. */
static void debug_trace(int host, const tw_trace_ev *ev) {
    static int want_host = -2;
    static unsigned want_id;
    if (want_host == -2) {
        const char *v = getenv("TW_LOSSY_TRACE");
        want_host = -1;
        if (v && sscanf(v, "%d:%u", &want_host, &want_id) != 2) want_host = -1;
    }
    if (host != want_host || ev->conn_id != want_id) return;
    char fl[48];
    tw_tcp_flags_str(ev->flags, fl, sizeof fl);
    printf("# %" PRIu64 ".%09" PRIu64
           " h%d kind=%d %s->%s cause=%d %s seq=%u ack=%u len=%u wnd=%u meta=%u "
           "reason=%s\n",
           ev->t / 1000000000u, ev->t % 1000000000u, host, ev->kind, tw_state_name(ev->old_state),
           tw_state_name(ev->new_state), ev->cause, fl, ev->seq, ev->ack, ev->len, ev->wnd,
           ev->meta, ev->reason ? tw_counter_name(ev->reason) : "-");
}

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    lossy *L = ctx;
    hoststate *hs = &L->hosts[host];
    debug_trace(host, ev);
    if (ev->conn_id == 0 ||
        (ev->kind != TW_EV_STATE && ev->kind != TW_EV_SEG_IN && ev->kind != TW_EV_DROP))
        return;
    if (ev->conn_id >= hs->nids) {
        size_t n = hs->nids ? hs->nids : 64;
        while (n <= ev->conn_id) n *= 2;
        idst *v = realloc(hs->ids, n * sizeof *v);
        if (!v) abort();
        memset(v + hs->nids, 0, (n - hs->nids) * sizeof *v);
        hs->ids = v;
        hs->nids = n;
    }
    idst *d = &hs->ids[ev->conn_id];
    if (ev->kind == TW_EV_SEG_IN) {
        d->fin_in = false;
        /* A FIN reaching TIME_WAIT: a retransmission of the peer's FIN,
         * which restarts 2MSL (RFC 9293 §3.10.7.4), unless PAWS finds it an
         * old copy (RFC 7323 §5.3): see resolve_fin(). */
        if (d->state == TW_TIME_WAIT && ev->new_state == TW_TIME_WAIT && (ev->flags & TW_TH_FIN)) {
            d->prev_restart = d->restart;
            d->restart = ev->t;
            d->fin_in = true;
            L->fin_reack++;
        }
        return;
    }
    if (ev->kind == TW_EV_DROP) {
        /* That FIN was dropped (an old copy: PAWS), so 2MSL runs on. */
        if (d->fin_in && d->state == TW_TIME_WAIT && ev->t == d->restart &&
            (ev->flags & TW_TH_FIN)) {
            d->restart = d->prev_restart;
            L->fin_reack--;
        }
        d->fin_in = false;
        return;
    }
    if (d->seen && d->state != ev->old_state)
        FAIL("host %d conn %u: move %s -> %s after reaching %s", host, ev->conn_id,
             tw_state_name(ev->old_state), tw_state_name(ev->new_state), tw_state_name(d->state));
    d->seen = true;
    if (ev->new_state == TW_CLOSING) L->closing++;
    d->state = ev->new_state;
    d->cause = ev->cause;
    if (ev->new_state == TW_TIME_WAIT) {
        d->tw = true;
        d->tw_enter = d->restart = ev->t;
    }
    if (ev->new_state == TW_CLOSED) d->end = ev->t;
}

static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)to, (void)pkt, (void)len, (void)now;
    lossy *L = ctx;
    if (ev == TW_SIM_CORRUPTED) {
        L->corrupted_copies++;
        L->last_corrupt_from = from;
        L->last_corrupt_nth = nth;
    } else if (ev == TW_SIM_DUPLICATED && L->last_corrupt_from == from &&
               L->last_corrupt_nth == nth) {
        L->corrupted_copies++; /* the duplicate carries the same flipped bit */
    }
}

/* ---------------------------------------------------------------- setup */

static void draw_link(lossy *L) {
    tw_rng r;
    tw_rng_seed(&r, mix64(L->seed ^ 0x6c696e6bull));
    tw_sim_cfg *c = &L->link;
    memset(c, 0, sizeof *c);
    c->delay_ns = tw_rng_range(&r, TW_US(200), TW_MS(20));
    c->jitter_ns = tw_rng_range(&r, 0, TW_MS(5));
    c->loss = 0.02 + 0.08 * tw_rng_unit(&r);
    c->dup = 0.03 * tw_rng_unit(&r);
    c->reorder = 0.05 * tw_rng_unit(&r);
    c->reorder_extra_ns = tw_rng_range(&r, TW_MS(1), TW_MS(20));
    c->corrupt = 0.01 + 0.04 * tw_rng_unit(&r);
    c->ce = 0.05 * tw_rng_unit(&r); /* CE marks where ECN is in use (RFC 3168) */
    if (L->heavy) c->loss = HEAVY_LOSS;
}

static void build_world(lossy *L, int nconns) {
    draw_link(L);
    plan(L, nconns);
    L->w = tw_world_new(L->seed);
    if (!L->w) abort();
    tw_rng r;
    tw_rng_seed(&r, mix64(L->seed ^ 0x737461ull));
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = L->seed;
    cfg.msl = L->msl;
    if (L->heavy) {
        /* At 30% loss each way a round trip fails about half the time:
         * enough retries that giving up (a correct answer, but not what this
         * test checks) has odds below 1e-9 per segment, and orphans wait for
         * the peer's FIN however late it comes. */
        cfg.syn_retries = 30;
        cfg.data_retries = 40;
        cfg.fin_wait_2_timeout = 0;
        cfg.max_time_wait = 65536;
    }
    cfg.max_time_wait = 4096;
    /* With the default RTO cap of 60 s = 2MSL, a peer's last FIN, backed off
     * to the cap, can legitimately arrive just after TIME_WAIT (or an
     * orphan's FIN_WAIT_2 timeout) ended when a re-ACK was lost, and be
     * answered with an RST: correct TCP, but indistinguishable here from a
     * bug. A 10 s cap keeps FINs coming well within 2MSL. */
    cfg.rto_max = TW_SEC(10);
    /* Small buffers make small windows: they exercise zero-window probes
     * and the sender's SWS override timer (RFC 1122 §4.2.3.4). */
    static const uint32_t bufs[] = {65535, 16384, 4000};
    const uint64_t nb = 3;
    cfg.sndbuf = bufs[tw_rng_below(&r, nb)];
    cfg.rcvbuf = bufs[tw_rng_below(&r, nb)];
    cfg.nagle = tw_rng_below(&r, 2) == 0;
    /* Either congestion control, and ECN off, asked for or only accepted. */
    cfg.cc = tw_rng_below(&r, 2) ? TW_CC_CUBIC : TW_CC_NEWRENO;
    cfg.ecn = (uint8_t)tw_rng_below(&r, 3);
    L->cubic = cfg.cc == TW_CC_CUBIC;
    for (int h = 0; h < NHOSTS; h++) {
        char name[16];
        snprintf(name, sizeof name, "h%d", h);
        ASSERT_EQ(tw_world_add_host(L->w, name, host_addr(h), &cfg, &L->link), h);
        hoststate *hs = &L->hosts[h];
        hs->server = h >= NCLIENTS;
        tw_world_set_app(L->w, h, hs->server ? server_app : client_app, L);
        tw_stack *st = tw_world_stack(L->w, h);
        if (hs->server) {
            hs->lsock = tw_socket(st);
            ASSERT_EQ(tw_bind(st, hs->lsock, PORT), 0);
            ASSERT_EQ(tw_listen(st, hs->lsock, 1024), 0);
            continue;
        }
        hs->lsock = -1;
        hs->order = calloc((size_t)nconns, sizeof *hs->order);
        if (!hs->order) abort();
        for (int k = 0; k < nconns; k++)
            if (L->conns[k].chost == h) hs->order[hs->norder++] = k;
        /* insertion sort by start time (stable, small) */
        for (int i = 1; i < hs->norder; i++)
            for (int j = i;
                 j > 0 && L->conns[hs->order[j]].start < L->conns[hs->order[j - 1]].start; j--) {
                int t = hs->order[j];
                hs->order[j] = hs->order[j - 1];
                hs->order[j - 1] = t;
            }
        if (hs->norder) tw_world_wake_at(L->w, h, L->conns[hs->order[0]].start);
    }
    tw_world_set_trace(L->w, on_trace, L);
    tw_sim_set_observer(tw_world_sim(L->w), on_link, L);
}

static void free_world(lossy *L) {
    tw_world_free(L->w);
    for (int h = 0; h < NHOSTS; h++) {
        free(L->hosts[h].ids);
        free(L->hosts[h].order);
    }
    free(L->conns);
}

/* ---------------------------------------------------------------- checks */

static void check_side(lossy *L, const side *sd) {
    const conn *c = sd->conn;
    const char *who = sd->dir ? "server" : "client";
    tw_test_context("seed=%" PRIu64
                    " conn=%d mode=%s side=%s (host %d conn_id %u; peer host %d conn_id %u) "
                    "c2s=%" PRIu64 " s2c=%" PRIu64,
                    L->seed, c->idx, MODE_NAMES[c->mode], who, sd->host, sd->conn_id,
                    sd->dir ? c->c.host : c->s.host, sd->dir ? c->c.conn_id : c->s.conn_id,
                    c->c.tx_total, c->s.tx_total);
    ASSERT_TRUE(sd->assigned);
    if (!sd->closed) {
        tw_sock_info i;
        tw_sock_info_get(tw_world_stack(L->w, sd->host), sd->sock, &i);
        FAIL("never finished: %s, queued %" PRIu64 "/%" PRIu64 " read %" PRIu64 "/%" PRIu64
             ", unsent %u, unread %u, snd_una..nxt %u..%u, snd_wnd %u, rto %" PRIu64
             " ms, at %" PRIu64 " ms",
             tw_state_name(i.state), sd->tx_done, sd->tx_total, sd->rx_done, sd->rx_total, i.unsent,
             i.unread, i.snd_una - i.iss, i.snd_nxt - i.iss, i.snd_wnd, i.rto / 1000000u,
             tw_world_now(L->w) / 1000000u);
    }
    ASSERT_U64_EQ(sd->tx_done, sd->tx_total);
    ASSERT_U64_EQ(sd->rx_done, sd->rx_total);
    if (sd->close_when == WHEN_EOF) ASSERT_TRUE(sd->eof); /* a WHEN_DONE side may close first */
    ASSERT_EQ(sd->err, 0);
    ASSERT_EQ(sd->closed_err, 0);
    ASSERT_TRUE(sd->closed);
    const hoststate *hs = &L->hosts[sd->host];
    ASSERT_CMP(sd->conn_id, <, hs->nids);
    const idst *d = &hs->ids[sd->conn_id];
    ASSERT_TRUE(d->seen);
    ASSERT_EQ(d->state, TW_CLOSED);
    /* An orderly end: after TIME_WAIT (2MSL, or a new SYN reopening the
     * 4-tuple when the client reuses its port), or by the ACK of our FIN. */
    if (d->cause != TW_CAUSE_TIMEOUT_2MSL && d->cause != TW_CAUSE_RCV_ACK_OF_FIN &&
        d->cause != TW_CAUSE_TW_REUSE)
        FAIL("ended by %s", tw_cause_name(d->cause));
    ASSERT_EQ(d->tw, d->cause != TW_CAUSE_RCV_ACK_OF_FIN);
}

/* Every incarnation on every stack (the applications' and any stray one)
 * ended CLOSED; every TIME_WAIT lasted exactly 2MSL from its last restart. */
static void check_incarnations(lossy *L) {
    for (int h = 0; h < NHOSTS; h++) {
        const hoststate *hs = &L->hosts[h];
        for (size_t id = 1; id < hs->nids; id++) {
            const idst *d = &hs->ids[id];
            if (!d->seen) continue;
            tw_test_context("seed=%" PRIu64 " host=%d conn_id=%zu", L->seed, h, id);
            ASSERT_EQ(d->state, TW_CLOSED);
            if (!d->tw || d->cause == TW_CAUSE_TW_REUSE) continue;
            ASSERT_EQ(d->cause, TW_CAUSE_TIMEOUT_2MSL);
            ASSERT_U64_EQ(d->end - d->restart, 2 * L->msl);
            L->tw_checked++;
        }
    }
}

static uint64_t parse_drops(const uint64_t *k) {
    static const int ids[] = {TW_C_DROP_IP_SHORT,  TW_C_DROP_IP_VERSION, TW_C_DROP_IP_IHL,
                              TW_C_DROP_IP_TOTLEN, TW_C_DROP_IP_CKSUM,   TW_C_DROP_IP_FRAG,
                              TW_C_DROP_IP_PROTO,  TW_C_DROP_IP_NOT_US,  TW_C_DROP_IP_BAD_SRC,
                              TW_C_DROP_TCP_SHORT, TW_C_DROP_TCP_DOFF,   TW_C_DROP_TCP_CKSUM,
                              TW_C_DROP_TCP_OPT,   TW_C_DROP_TCP_PORT0,  TW_C_DROP_TCP_FLAGS};
    uint64_t n = 0;
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) n += k[ids[i]];
    return n;
}

static void check_counters(lossy *L) {
    tw_test_context("seed=%" PRIu64 " (counters)", L->seed);
    struct tw_sim_stats ss;
    tw_sim_get_stats(tw_world_sim(L->w), &ss);
    uint64_t ip_out = 0, ip_in = 0, drops = 0, cksum = 0;
    for (int h = 0; h < NHOSTS; h++) {
        tw_stack *st = tw_world_stack(L->w, h);
        const uint64_t *k = tw_stack_counters(st);
        ip_out += k[TW_C_IP_OUT];
        ip_in += k[TW_C_IP_IN];
        drops += parse_drops(k);
        cksum += k[TW_C_DROP_IP_CKSUM] + k[TW_C_DROP_TCP_CKSUM];
        const hoststate *hs = &L->hosts[h];
        ASSERT_U64_EQ(k[TW_C_TCP_DATA_IN_BYTES], hs->app_rx);
        ASSERT_U64_EQ(k[TW_C_TCP_DATA_OUT_BYTES], hs->app_tx);
        ASSERT_U64_EQ(k[TW_C_CONN_CLOSED], k[TW_C_CONN_ACTIVE_OPEN] + k[TW_C_CONN_PASSIVE_OPEN]);
        ASSERT_U64_EQ(k[TW_C_TW_ENTER], k[TW_C_TW_EXPIRE] + k[TW_C_TW_REUSE]);
        ASSERT_U64_EQ(tw_stack_conn_count(st), 0);
        ASSERT_U64_EQ(tw_stack_time_wait_count(st), 0);
        tw__stack_check(st);
    }
    ASSERT_U64_EQ(ip_out, ss.sent);
    ASSERT_U64_EQ(ip_in, ss.delivered);
    ASSERT_U64_EQ(ss.unroutable, 0);
    ASSERT_U64_EQ(tw_sim_in_flight(tw_world_sim(L->w)), 0);
    /* Every corrupted copy was caught by a header or checksum check, and
     * nothing else was. */
    ASSERT_U64_EQ(drops, L->corrupted_copies);
    if (L->corrupted_copies) ASSERT_CMP(cksum, >, 0);
    ASSERT_CMP(ss.lost, >, 0);
}

/* ---------------------------------------------------------------- one run */

/* What the runs exercised, summed over seeds. */
typedef struct coverage {
    uint64_t closing, fin_reack, tw_reuse, corrupted, dup, reordered, lost, modes[M__COUNT];
    uint64_t ce_in, ecn_cuts, cubic_seeds; /* CE marks taken, cwnd cuts for ECE; CUBIC runs */
} coverage;

static void run_seed_p(uint64_t seed, int nconns, bool heavy, bool verbose, coverage *cov) {
    lossy *L = calloc(1, sizeof *L);
    if (!L) abort();
    L->seed = seed;
    L->heavy = heavy;
    L->msl = heavy ? HEAVY_MSL : MSL;
    uint64_t max_steps = MAX_STEPS * (nconns > 150 ? (uint64_t)nconns / 150 : 1);
    uint64_t max_vtime = MAX_VTIME + (heavy ? (uint64_t)nconns * TW_MS(20) : 0);
    L->last_corrupt_from = -1;
    tw_test_context("seed=%" PRIu64 " (setup)", seed);
    build_world(L, nconns);
    tw_test_context("seed=%" PRIu64 " (running)", seed);
    uint64_t steps = 0;
    while (steps < max_steps && !tw_world_idle(L->w) && tw_world_now(L->w) <= max_vtime) {
        uint64_t n = tw_world_run(L->w, max_vtime, CHECK_EVERY);
        if (n == 0) break;
        steps += n;
        for (int h = 0; h < NHOSTS; h++) tw__stack_check(tw_world_stack(L->w, h));
    }
    if (!tw_world_idle(L->w))
        FAIL("not finished after %" PRIu64 " steps at virtual time %" PRIu64 " ns", steps,
             tw_world_now(L->w));
    for (int k = 0; k < L->nconns; k++) {
        check_side(L, &L->conns[k].c);
        check_side(L, &L->conns[k].s);
    }
    check_incarnations(L);
    check_counters(L);
    struct tw_sim_stats ss;
    tw_sim_get_stats(tw_world_sim(L->w), &ss);
    cov->closing += L->closing;
    cov->fin_reack += L->fin_reack;
    cov->corrupted += ss.corrupted;
    cov->dup += ss.duplicated;
    cov->reordered += ss.reordered;
    cov->lost += ss.lost;
    for (int h = 0; h < NHOSTS; h++) {
        const uint64_t *k = tw_stack_counters(tw_world_stack(L->w, h));
        cov->tw_reuse += k[TW_C_TW_REUSE];
        cov->ce_in += k[TW_C_ECN_CE_IN];
        cov->ecn_cuts += k[TW_C_ECN_CWND_CUT];
    }
    cov->cubic_seeds += L->cubic;
    for (int k = 0; k < L->nconns; k++) cov->modes[L->conns[k].mode]++;
    if (verbose) {
        uint64_t bytes = 0;
        for (int h = 0; h < NHOSTS; h++) bytes += L->hosts[h].app_rx;
        printf("# seed %" PRIu64 ": %d conns, %" PRIu64 " bytes, %" PRIu64
               " steps, end %.3f s; link: "
               "delay %.1f ms loss %.3f dup %.3f reorder %.3f corrupt %.3f; sent %" PRIu64
               " lost %" PRIu64 " corrupted %" PRIu64 " (copies %" PRIu64 "); %" PRIu64
               " TIME_WAITs timed, %" PRIu64 " FINs re-ACKed, %" PRIu64 " CLOSING; %d strays\n",
               seed, L->nconns, bytes, steps, (double)tw_world_now(L->w) / 1e9,
               (double)L->link.delay_ns / 1e6, L->link.loss, L->link.dup, L->link.reorder,
               L->link.corrupt, ss.sent, ss.lost, ss.corrupted, L->corrupted_copies, L->tw_checked,
               L->fin_reack, L->closing, L->strays);
    }
    free_world(L);
    free(L);
}

/* 50 to 200 connections, a function of the seed so a replay is exact. */
static int conns_for(uint64_t seed) {
    return 50 + (int)(mix64(seed) % 151);
}

static bool verbose(void) {
    const char *v = getenv("TW_LOSSY_VERBOSE");
    return v && *v && strcmp(v, "0") != 0;
}

TEST(ci_seeds) {
    coverage cov;
    memset(&cov, 0, sizeof cov);
    const char *only = getenv("TW_LOSSY_SEED");
    if (only && *only) {
        uint64_t seed = strtoull(only, NULL, 0);
        run_seed_p(seed, conns_for(seed), false, true, &cov);
        return;
    }
    for (size_t i = 0; i < sizeof CI_SEEDS / sizeof *CI_SEEDS; i++)
        run_seed_p(CI_SEEDS[i], conns_for(CI_SEEDS[i]), false, verbose(), &cov);
    /* The CI seeds do exercise what this test is about. */
    tw_test_context("coverage of the CI seeds");
    ASSERT_CMP(cov.closing, >, 0);   /* FINs crossed: CLOSING */
    ASSERT_CMP(cov.fin_reack, >, 0); /* a lost final ACK: FIN re-ACKed in TIME_WAIT */
    ASSERT_CMP(cov.corrupted, >, 0);
    ASSERT_CMP(cov.dup, >, 0);
    ASSERT_CMP(cov.reordered, >, 0);
    for (int m = 0; m < M__COUNT; m++) ASSERT_CMP(cov.modes[m], >=, 50);
    ASSERT_CMP(cov.ce_in, >, 0); /* ECN in use, CE marks echoed and acted on */
    ASSERT_CMP(cov.ecn_cuts, >, 0);
    ASSERT_CMP(cov.cubic_seeds, >, 0);
    ASSERT_CMP(cov.cubic_seeds, <, sizeof CI_SEEDS / sizeof *CI_SEEDS);
    if (verbose())
        printf("# coverage: %" PRIu64 " CLOSING, %" PRIu64 " FIN re-ACKs, %" PRIu64
               " TIME_WAIT reuses, %" PRIu64 " lost, %" PRIu64 " corrupted, %" PRIu64
               " duplicated, %" PRIu64 " reordered; %" PRIu64 " CE marks taken, %" PRIu64
               " ECN cwnd cuts, %" PRIu64 " seeds with CUBIC\n",
               cov.closing, cov.fin_reack, cov.tw_reuse, cov.lost, cov.corrupted, cov.dup,
               cov.reordered, cov.ce_in, cov.ecn_cuts, cov.cubic_seeds);
}

TEST(soak) {
    const char *n = getenv("TW_SOAK_SEEDS"), *from = getenv("TW_SOAK_START");
    uint64_t count = n ? strtoull(n, NULL, 0) : 0;
    for (uint64_t i = from ? strtoull(from, NULL, 0) : 0; i < count; i++) {
        uint64_t seed = mix64(i + 1000);
        if (verbose()) printf("# soak %" PRIu64 "/%" PRIu64 "\n", i + 1, count);
        coverage cov;
        memset(&cov, 0, sizeof cov);
        run_seed_p(seed, conns_for(seed), false, verbose(), &cov);
    }
}

/* One world, 30% loss each way: TW_HEAVY_CONNS connections (1000 in CI). */
TEST(heavy) {
    const char *n = getenv("TW_HEAVY_CONNS"), *sd = getenv("TW_HEAVY_SEED");
    int nconns = n && *n ? atoi(n) : 1000;
    uint64_t seed = sd && *sd ? strtoull(sd, NULL, 0) : 0x30305eedull;
    ASSERT_CMP(nconns, >, 0);
    coverage cov;
    memset(&cov, 0, sizeof cov);
    run_seed_p(seed, nconns, true, verbose() || (n && *n), &cov);
    tw_test_context("heavy profile, seed %" PRIu64, seed);
    ASSERT_CMP(cov.lost, >, 0);
    ASSERT_CMP(cov.corrupted, >, 0);
    ASSERT_CMP(cov.fin_reack, >, 0);
}

TEST(stream_generator_is_a_function_of_position) {
    /* The checks above rely on it: any split of a stream gives the same bytes. */
    uint8_t a[1000], b[1000];
    gen_bytes(7, 3, 1, 0, a, sizeof a);
    gen_bytes(7, 3, 1, 0, b, 333);
    gen_bytes(7, 3, 1, 333, b + 333, sizeof b - 333);
    ASSERT_MEMEQ(a, b, sizeof a);
    gen_bytes(7, 3, 0, 0, b, sizeof b);
    ASSERT_TRUE(memcmp(a, b, sizeof a) != 0);
    gen_bytes(7, 4, 1, 0, b, sizeof b);
    ASSERT_TRUE(memcmp(a, b, sizeof a) != 0);
}

TEST_MAIN()
