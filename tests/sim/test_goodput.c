/* test_goodput.c - goodput of one bulk transfer over the simulated link,
 * across a loss x delay grid, with SACK (RFC 2018 + RFC 6675 recovery) on
 * and off, kept as a snapshot so that a change in loss recovery or
 * congestion control shows as a diff (STYLE rule 16).
 *
 * Each cell: a client sends BULK bytes to a server (MSS 1460, BUF-byte send
 * and receive buffers, window scaling and timestamps as by default), then
 * closes; the link drops each packet, both ways, with probability `loss`
 * and delays it by `delay` one way. Goodput is BULK over the virtual time
 * from connect() to the server reading the last byte, so it is exact and
 * the same on every machine. Every byte is checked on arrival. The seed of a
 * cell depends only on its place in the grid, not on SACK, so both columns
 * face the same link.
 *
 * Golden file: tests/sim/golden/goodput.txt. After an intended change of
 * behaviour, regenerate it and review the diff:
 *     TW_UPDATE_GOLDEN=1 TW_SOURCE_DIR=$PWD build/release/tests/sim/test_goodput
 * (the file goes under $TW_SOURCE_DIR/tests/sim/golden, as ctest sets it,
 * else ./golden when run from tests/sim, else ./tests/sim/golden). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"

#include "drive/world.h"
#include "util/time.h"

#define BULK (4u << 20)  /* bytes per transfer */
#define BUF (256u << 10) /* send and receive buffer of each side */
#define REPS 4u          /* transfers (seeds) per cell */
#define PORT 80
#define CLIENT_ADDR 0xC6120001u /* 198.18.0.1 */
#define SERVER_ADDR 0xC6120002u /* 198.18.0.2 */
#define MAX_VTIME TW_SEC(3600)

static const double LOSS[] = {0.0, 0.001, 0.01, 0.05};
static const char *const LOSS_NAME[] = {"0%", "0.1%", "1%", "5%"};
static const unsigned DELAY_MS[] = {1, 20, 100};
#define NLOSS (sizeof LOSS / sizeof LOSS[0])
#define NDELAY (sizeof DELAY_MS / sizeof DELAY_MS[0])

static uint8_t pattern(uint64_t i) {
    return (uint8_t)((i * 131u + (i >> 11)) ^ 0x5a);
}

typedef struct bulk {
    int cs, ls, ss;
    uint64_t sent, rcvd;
    uint64_t done_at; /* virtual time the last byte was read (0: not yet) */
    bool closed_c, eof, bad;
    uint8_t buf[16384];
} bulk;

static void client_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    bulk *b = ctx;
    tw_stack *st = tw_world_stack(w, host);
    if (!ev || ev->sock != b->cs) return;
    if (ev->what & TW_EVT_CLOSED) {
        if (ev->err) b->bad = true;
        return;
    }
    if (!(ev->what & (TW_EVT_CONNECTED | TW_EVT_WRITABLE)) || b->closed_c) return;
    while (b->sent < BULK) {
        uint32_t n = (uint32_t)(BULK - b->sent < sizeof b->buf ? BULK - b->sent : sizeof b->buf);
        for (uint32_t i = 0; i < n; i++) b->buf[i] = pattern(b->sent + i);
        int k = tw_send(st, b->cs, b->buf, n);
        if (k <= 0) break;
        b->sent += (uint64_t)k;
    }
    if (b->sent == BULK) {
        tw_close(st, b->cs);
        b->closed_c = true;
    }
}

static void server_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    bulk *b = ctx;
    tw_stack *st = tw_world_stack(w, host);
    if (!ev) return;
    if (ev->sock == b->ls && (ev->what & TW_EVT_ACCEPTABLE)) {
        int s = tw_accept(st, b->ls, NULL, NULL);
        if (s >= 0) b->ss = s;
        return;
    }
    if (ev->sock != b->ss || b->eof) return;
    if (ev->what & TW_EVT_CLOSED) {
        if (ev->err) b->bad = true;
        return;
    }
    if (!(ev->what & TW_EVT_READABLE)) return;
    uint8_t in[16384];
    int r;
    while ((r = tw_recv(st, b->ss, in, sizeof in)) > 0) {
        for (int i = 0; i < r; i++)
            if (in[i] != pattern(b->rcvd + (uint64_t)i)) b->bad = true;
        b->rcvd += (uint64_t)r;
        if (b->rcvd == BULK) b->done_at = tw_world_now(w);
    }
    if (r == 0) {
        b->eof = true;
        tw_close(st, b->ss);
    }
}

typedef struct cell {
    uint64_t ns;         /* virtual time of the transfers, summed */
    uint64_t kbps;       /* goodput, kbit/s: all the bytes over all that time */
    uint64_t retrans;    /* segments retransmitted by the sender */
    uint64_t rto;        /* retransmission timeouts at the sender */
    uint64_t recoveries; /* fast recoveries entered (SACK or NewReno) */
} cell;

/* The link and the stacks of one transfer. */
typedef struct setup {
    uint64_t seed;
    uint64_t delay;
    double loss, ce; /* per packet, each way */
    bool sack;
    uint8_t client_ecn; /* TW_ECN_*; the server keeps the default (passive) */
    uint8_t cc;         /* TW_CC_* of both */
    bool no_hystart;    /* HyStart++ off (it is on by default) */
    uint64_t rate_bps;  /* a bottleneck each way (0: none), its queue and AQM mark */
    uint32_t queue_bytes, ce_queue_bytes;
    struct tw_sim_stats *sim; /* where the link's statistics go (NULL: nowhere) */
} setup;

/* One transfer; adds its time and sender counters to *out. The counters of
 * both stacks are copied to ck / sk when not NULL. */
static void transfer(const setup *u, cell *out, uint64_t *ck, uint64_t *sk) {
    tw_world *w = tw_world_new(u->seed);
    if (!w) abort();
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = u->seed;
    cfg.sack = u->sack;
    cfg.sndbuf = cfg.rcvbuf = BUF;
    cfg.cc = u->cc;
    cfg.hystart = !u->no_hystart;
    tw_sim_cfg link;
    memset(&link, 0, sizeof link);
    link.delay_ns = u->delay;
    link.loss = u->loss;
    link.ce = u->ce;
    link.rate_bps = u->rate_bps;
    link.queue_bytes = u->queue_bytes;
    link.ce_queue_bytes = u->ce_queue_bytes;
    bulk *b = calloc(1, sizeof *b);
    if (!b) abort();
    ASSERT_EQ(tw_world_add_host(w, "server", SERVER_ADDR, &cfg, &link), 0);
    cfg.ecn = u->client_ecn;
    ASSERT_EQ(tw_world_add_host(w, "client", CLIENT_ADDR, &cfg, &link), 1);
    tw_world_set_app(w, 1, client_app, b);
    tw_world_set_app(w, 0, server_app, b);
    tw_stack *cst = tw_world_stack(w, 1), *sst = tw_world_stack(w, 0);
    b->ls = tw_socket(sst);
    b->ss = -1;
    ASSERT_EQ(tw_bind(sst, b->ls, PORT), 0);
    ASSERT_EQ(tw_listen(sst, b->ls, 8), 0);
    b->cs = tw_socket(cst);
    ASSERT_EQ(tw_connect(cst, b->cs, SERVER_ADDR, PORT), 0);
    uint64_t t0 = tw_world_now(w);
    while (!b->done_at && !b->bad && !tw_world_idle(w) && tw_world_now(w) < MAX_VTIME)
        if (tw_world_run(w, MAX_VTIME, 4096) == 0) break;
    if (b->bad) FAIL("a byte arrived wrong or a side closed with an error");
    if (!b->done_at)
        FAIL("transfer not done: %" PRIu64 " of %u bytes read at %" PRIu64 " ns", b->rcvd, BULK,
             tw_world_now(w));
    const uint64_t *k = tw_stack_counters(cst);
    out->ns += b->done_at - t0;
    out->retrans += k[TW_C_TCP_RETRANS];
    out->rto += k[TW_C_RTO_FIRED];
    out->recoveries += k[TW_C_TCP_FAST_RETRANS];
    if (u->sack && u->loss > 0) ASSERT_EQ(k[TW_C_SACK_RECOVERY], k[TW_C_TCP_FAST_RETRANS]);
    if (!u->sack) ASSERT_EQ(k[TW_C_SACK_RECOVERY], 0);
    if (ck) memcpy(ck, k, TW_C__COUNT * sizeof *ck);
    if (sk) memcpy(sk, tw_stack_counters(sst), TW_C__COUNT * sizeof *sk);
    if (u->sim) tw_sim_get_stats(tw_world_sim(w), u->sim);
    tw_world_free(w);
    free(b);
}

/* One transfer of the grid. */
static void run_one(unsigned li, unsigned di, unsigned rep, bool sack, uint8_t cc, cell *out) {
    setup u = {.seed = 0x600d0000u + li * 256u + di * 16u + rep,
               .delay = TW_MS(DELAY_MS[di]),
               .loss = LOSS[li],
               .sack = sack,
               .client_ecn = TW_ECN_PASSIVE,
               .cc = cc};
    tw_test_context("loss=%s delay=%ums sack=%d cc=%u seed=%" PRIu64, LOSS_NAME[li], DELAY_MS[di],
                    sack, cc, u.seed);
    transfer(&u, out, NULL, NULL);
}

/* A cell of the grid: REPS transfers, each with its own seed (shared by
 * the SACK and the no-SACK column), so one unlucky loss (a lost
 * retransmission costs a 1 s RTO) weighs less. */
static void run_cell(unsigned li, unsigned di, bool sack, uint8_t cc, cell *out) {
    memset(out, 0, sizeof *out);
    for (unsigned rep = 0; rep < REPS; rep++) run_one(li, di, rep, sack, cc, out);
    out->kbps = (uint64_t)REPS * BULK * 8u * 1000000u / out->ns;
}

/* ---------------------------------------------------------------- golden */

static void golden_path(char *buf, size_t cap) {
    const char *root = getenv("TW_SOURCE_DIR");
    if (root && *root) {
        snprintf(buf, cap, "%s/tests/sim/golden/goodput.txt", root);
        return;
    }
    FILE *f = fopen("golden/README.md", "rb");
    if (f) fclose(f);
    snprintf(buf, cap, "%sgolden/goodput.txt", f ? "" : "tests/sim/");
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 14, n = 0, k;
    char *s = malloc(cap + 1);
    while (s && (k = fread(s + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            char *t = realloc(s, 2 * cap + 1);
            if (!t) free(s);
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (!s) abort();
    s[n] = 0;
    *len = n;
    return s;
}

static void check_golden(const char *got, size_t glen) {
    char path[1024];
    golden_path(path, sizeof path);
    const char *upd = getenv("TW_UPDATE_GOLDEN");
    if (upd && *upd && strcmp(upd, "0") != 0) {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(got, 1, glen, f) != glen || fclose(f) != 0) FAIL("cannot write %s", path);
        printf("# updated %s\n", path);
        return;
    }
    size_t wlen = 0;
    char *want = slurp(path, &wlen);
    if (!want) FAIL("missing golden file %s (TW_UPDATE_GOLDEN=1 creates it)", path);
    bool same = glen == wlen && memcmp(got, want, glen) == 0;
    if (!same) {
        const char *a = got, *b = want;
        int line = 1;
        while (*a && *b) {
            size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
            if (la != lb || memcmp(a, b, la) != 0) break;
            a += la + (a[la] ? 1 : 0);
            b += lb + (b[lb] ? 1 : 0);
            line++;
        }
        printf("# got:\n%s", got);
        FAIL("%s differs at line %d:\n  got:      %.*s\n  expected: %.*s\n  (TW_UPDATE_GOLDEN=1 "
             "rewrites it)",
             path, line, (int)strcspn(a, "\n"), a, (int)strcspn(b, "\n"), b);
    }
    free(want);
}

TEST(goodput_grid_sack_on_off) {
    static char table[8192];
    size_t n = 0;
    n +=
        (size_t)snprintf(table + n, sizeof table - n,
                         "# goodput of %u transfers of %u MiB per cell, MSS 1460, %u KiB buffers,\n"
                         "# virtual time; loss each way, one-way delay; rexmt = segments\n"
                         "# retransmitted, rto = timeouts, fr = fast recoveries (sender, summed);\n"
                         "# SACK and NoSACK with NewReno, CUBIC with SACK.\n"
                         "# tests/sim/test_goodput.c\n",
                         REPS, BULK >> 20, BUF >> 10);
    n += (size_t)snprintf(table + n, sizeof table - n,
                          "%-5s %6s | %12s %6s %4s %4s | %12s %6s %4s %4s | %5s | %12s %6s %4s "
                          "%4s\n",
                          "loss", "delay", "SACK Mbit/s", "rexmt", "rto", "fr", "NoSACK Mbit/s",
                          "rexmt", "rto", "fr", "ratio", "CUBIC Mbit/s", "rexmt", "rto", "fr");
    for (unsigned li = 0; li < NLOSS; li++) {
        for (unsigned di = 0; di < NDELAY; di++) {
            cell on, off, cu;
            run_cell(li, di, true, TW_CC_NEWRENO, &on);
            run_cell(li, di, false, TW_CC_NEWRENO, &off);
            run_cell(li, di, true, TW_CC_CUBIC, &cu);
            uint64_t ratio = off.kbps ? on.kbps * 100u / off.kbps : 0;
            n += (size_t)snprintf(
                table + n, sizeof table - n,
                "%-5s %3ums | %8" PRIu64 ".%03" PRIu64 " %6" PRIu64 " %4" PRIu64 " %4" PRIu64
                " | %9" PRIu64 ".%03" PRIu64 " %6" PRIu64 " %4" PRIu64 " %4" PRIu64 " | %" PRIu64
                ".%02" PRIu64 "  | %8" PRIu64 ".%03" PRIu64 " %6" PRIu64 " %4" PRIu64 " %4" PRIu64
                "\n",
                LOSS_NAME[li], DELAY_MS[di], on.kbps / 1000, on.kbps % 1000, on.retrans, on.rto,
                on.recoveries, off.kbps / 1000, off.kbps % 1000, off.retrans, off.rto,
                off.recoveries, ratio / 100, ratio % 100, cu.kbps / 1000, cu.kbps % 1000,
                cu.retrans, cu.rto, cu.recoveries);
            /* Without loss the two are the same transfer. */
            if (li == 0) ASSERT_EQ(on.kbps, off.kbps);
        }
    }
    fputs(table, stdout);
    check_golden(table, n);
}

TEST(ecn_marks_slow_the_sender_without_a_loss) {
    /* RFC 3168 end to end between two tcpwave stacks: a link that marks 2%
     * of the ECN-capable packets CE instead of dropping them. With ECN asked
     * for and accepted, the sender halves its window on the echoes and
     * retransmits nothing; with ECN off nothing is ECN-capable, so nothing
     * is marked and the window is never cut. */
    uint64_t ck[TW_C__COUNT], sk[TW_C__COUNT];
    cell on = {0}, off = {0};
    setup u = {
        .seed = 0xecec, .delay = TW_MS(20), .ce = 0.02, .sack = true, .client_ecn = TW_ECN_ON};
    transfer(&u, &on, ck, sk);
    ASSERT_U64_EQ(on.retrans, 0);
    ASSERT_U64_EQ(on.rto, 0);
    ASSERT_CMP(sk[TW_C_ECN_CE_IN], >, 0);
    ASSERT_CMP(ck[TW_C_ECN_CWND_CUT], >, 0);
    ASSERT_CMP(ck[TW_C_ECN_CWND_CUT], <=, sk[TW_C_ECN_CE_IN]); /* once per window at most */
    u.client_ecn = TW_ECN_OFF;
    transfer(&u, &off, ck, sk);
    ASSERT_U64_EQ(sk[TW_C_ECN_CE_IN], 0);
    ASSERT_U64_EQ(ck[TW_C_ECN_CWND_CUT], 0);
    ASSERT_U64_EQ(off.retrans, 0);
    ASSERT_CMP(off.ns, <, on.ns); /* unmarked, the window only grows */
    printf("# ECN, 2%% of ECN-capable packets marked CE, 20 ms: %.3f Mbit/s, no retransmission "
           "(ECN off: %.3f Mbit/s, nothing marked)\n",
           (double)BULK * 8e3 / (double)on.ns, (double)BULK * 8e3 / (double)off.ns);
}

TEST(cubic_outruns_newreno_on_a_long_lossy_path) {
    /* RFC 9438 §1: on a long path with random loss CUBIC's window comes
     * back faster (cut to 0.7, then the cubic climb) than NewReno's (0.5,
     * one segment per RTT). Same link, same loss pattern seeds. */
    cell reno = {0}, cubic = {0};
    for (unsigned rep = 0; rep < 2; rep++) {
        setup u = {.seed = 0xc0b1c + rep,
                   .delay = TW_MS(50),
                   .loss = 0.001,
                   .sack = true,
                   .client_ecn = TW_ECN_PASSIVE,
                   .cc = TW_CC_NEWRENO};
        transfer(&u, &reno, NULL, NULL);
        u.cc = TW_CC_CUBIC;
        transfer(&u, &cubic, NULL, NULL);
    }
    ASSERT_CMP(reno.recoveries, >, 0);
    ASSERT_CMP(cubic.recoveries, >, 0);
    printf("# 50 ms, 0.1%% loss, 2 x 4 MiB: CUBIC %.3f Mbit/s, NewReno %.3f Mbit/s\n",
           2.0 * BULK * 8e3 / (double)cubic.ns, 2.0 * BULK * 8e3 / (double)reno.ns);
    ASSERT_CMP(cubic.ns, <, reno.ns);
}

TEST(bottleneck_filled_hystart_and_ecn_aqm_cut_the_loss) {
    /* A 10 Mbit/s bottleneck each way, 20 ms one way (a 50 KB
     * bandwidth-delay product), a 64 KB drop-tail queue. Plain slow start
     * overshoots: a burst of drops that leaves dozens of holes in one
     * window, every one of them repaired once by SACK recovery, with no
     * RTO (the receiver holds and reports up to 96 out-of-order ranges and
     * the sender's scoreboard keeps 80). HyStart++ (RFC 9406, on by
     * default) leaves slow start when the queue makes the RTT grow: fewer
     * drops (the overshoot of the round it takes to see the growth remains).
     * With a step-marking AQM at 16 KB queued and ECN
     * asked for, the queue marks instead of dropping: no packet lost, none
     * retransmitted, the window cut on the echoes. Without ECN the same
     * AQM cannot mark (Not-ECT) and the queue drops. */
    static const struct {
        const char *name;
        uint8_t cc, ecn;
        bool hystart;
    } v[] = {{"NewReno, no HyStart++", TW_CC_NEWRENO, TW_ECN_OFF, false},
             {"NewReno", TW_CC_NEWRENO, TW_ECN_OFF, true},
             {"CUBIC", TW_CC_CUBIC, TW_ECN_OFF, true},
             {"NewReno+ECN", TW_CC_NEWRENO, TW_ECN_ON, true},
             {"CUBIC+ECN", TW_CC_CUBIC, TW_ECN_ON, true}};
    const uint64_t rate = 10000000;
    uint64_t plain_drops = 0, plain_bps = 0; /* without HyStart++ */
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        tw_test_context("%s", v[i].name);
        struct tw_sim_stats ss;
        uint64_t ck[TW_C__COUNT];
        cell c = {0};
        setup u = {.seed = 0xb077,
                   .delay = TW_MS(20),
                   .sack = true,
                   .client_ecn = v[i].ecn,
                   .cc = v[i].cc,
                   .no_hystart = !v[i].hystart,
                   .rate_bps = rate,
                   .queue_bytes = 65536,
                   .ce_queue_bytes = 16384,
                   .sim = &ss};
        transfer(&u, &c, ck, NULL);
        uint64_t bps = (uint64_t)BULK * 8u * 1000000000u / c.ns;
        printf("# bottleneck 10 Mbit/s, 20 ms, 64 KB queue, AQM mark at 16 KB: %-21s %.2f Mbit/s, "
               "%" PRIu64 " dropped by the queue, %" PRIu64 " retransmitted, %" PRIu64
               " RTOs, %" PRIu64 " CE marks, %" PRIu64 " HyStart++ exits\n",
               v[i].name, (double)bps / 1e6, ss.queue_dropped, c.retrans, c.rto, ss.ce_marked,
               ck[TW_C_HYSTART_EXIT]);
        ASSERT_CMP(bps, <=, rate);
        ASSERT_CMP(bps, >=, rate * 6 / 10); /* the link is kept busy */
        if (!v[i].hystart) {
            ASSERT_U64_EQ(ck[TW_C_HYSTART_EXIT], 0);
            plain_drops = ss.queue_dropped;
            plain_bps = bps;
        } else if (v[i].ecn == TW_ECN_OFF) {
            ASSERT_U64_EQ(ck[TW_C_HYSTART_EXIT], 1);
            ASSERT_CMP(ss.queue_dropped, <, plain_drops * 2 / 3); /* a smaller overshoot */
            ASSERT_CMP(bps, >=, plain_bps);
        }
        if (v[i].ecn == TW_ECN_ON) {
            ASSERT_CMP(bps, >=, rate * 8 / 10);
            ASSERT_U64_EQ(ss.queue_dropped, 0);
            ASSERT_U64_EQ(c.retrans, 0);
            ASSERT_CMP(ss.ce_marked, >, 0);
            ASSERT_CMP(ck[TW_C_ECN_CWND_CUT], >, 0);
        } else {
            ASSERT_U64_EQ(ss.ce_marked, 0);
            ASSERT_CMP(ss.queue_dropped, >, 0);
            ASSERT_U64_EQ(c.retrans, ss.queue_dropped); /* each loss repaired once */
            ASSERT_U64_EQ(c.rto, 0);
        }
    }
}

TEST_MAIN()
