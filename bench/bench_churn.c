/* bench_churn.c - connection churn on tcpwave: connect, 64-byte request,
 * 64-byte reply, close (client first), one lifecycle at a time, two stacks in
 * one thread over the zero-delay pair driver (bench_common.h).
 *
 * TIME_WAIT is kept for the full 2MSL (60 s of virtual time). The virtual
 * clock moves by 2MSL / population after each lifecycle, so the client's
 * TIME_WAIT table holds `population` records in steady state; the warm-up
 * (population + 1000 lifecycles by default) fills it before measuring.
 *
 * The server listens on `ports` ports and the client goes round them, and the
 * client's ephemeral range is 1024..65535, so that 10^6 TIME_WAIT 4-tuples
 * fit between one client and one server address (64 ports x 64,512 = 4.1M
 * 4-tuples; at 10^6 records a quarter of them are taken).
 *
 * Both ends behave as lwIP's do by construction (bench_lwip), so that the
 * two count the same 7 packets per lifecycle: the client defers the ACK of
 * the SYN-ACK (tw_stack_cfg.delack_synack, TW_TCP_DELACK_SYNACK) so the
 * request it writes on TW_EVT_CONNECTED carries it, and the server delays
 * the ACK of the client's FIN (delack_fin, TW_TCP_DELACK_FIN) so its close
 * merges it with its own FIN: the three-way close. SYN, SYN-ACK,
 * request+ACK, reply, FIN, FIN+ACK, ACK. The defaults of both options are
 * off (SYN, SYN-ACK, ACK, request, reply, FIN, ACK, FIN, ACK).
 *
 * Prints one JSON line: lifecycles/s per core (CPU time of this thread, both
 * stacks and the driver), CPU ns and wall ns per lifecycle, the population
 * reached. With --callgrind the measured loop is the function
 * churn_measured(), for `valgrind --tool=callgrind --toggle-collect=churn_measured`.
 *
 * usage: bench_churn [--population P] [--lifecycles N] [--warmup W]
 *                    [--buf BYTES] [--ports K] [--max-seconds S]
 *                    [--eph-lo 1024 --eph-hi 65535]
 * (bench/run's port-pressure figure is this with --ports 1 and the default
 * ephemeral range 32768..60999, at 90% and ~0% of it in TIME_WAIT.) */
#include "bench_common.h"

#define REQ 64
#define MAXH 65536

typedef struct churn {
    bench_pair pr;
    int cs;        /* client socket of the current lifecycle, -1 when done */
    uint32_t cgot; /* reply bytes received by the client */
    bool csent;
    int listeners[256];
    uint16_t port0, nports;
    uint8_t sgot[MAXH]; /* request bytes per server socket (by handle index) */
    uint64_t errors;
    uint64_t done;
    uint64_t step; /* virtual ns between lifecycles */
    uint8_t msg[REQ];
} churn;

static int client_app(void *ctx, tw_stack *st) {
    churn *c = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.sock != c->cs) continue;
        if (ev.what & TW_EVT_CLOSED) {
            c->errors++;
            tw_close(st, c->cs);
            c->cs = -1;
            continue;
        }
        if ((ev.what & (TW_EVT_CONNECTED | TW_EVT_WRITABLE)) && !c->csent) {
            if (tw_send(st, c->cs, c->msg, REQ) == REQ) c->csent = true;
        }
        if (ev.what & TW_EVT_READABLE) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(st, c->cs, buf, sizeof buf)) > 0) c->cgot += (uint32_t)r;
            if (c->cgot >= REQ) {
                tw_close(st, c->cs); /* the client closes first: it holds TIME_WAIT */
                c->cs = -1;
            }
        }
    }
    return n;
}

static int server_app(void *ctx, tw_stack *st) {
    churn *c = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.what & TW_EVT_ACCEPTABLE) {
            int s;
            while ((s = tw_accept(st, ev.sock, NULL, NULL)) >= 0) c->sgot[(uint32_t)s & 0xffff] = 0;
            continue;
        }
        uint32_t k = (uint32_t)ev.sock & 0xffff;
        if (ev.what & TW_EVT_CLOSED) {
            if (ev.err) c->errors++;
        }
        if (ev.what & (TW_EVT_READABLE | TW_EVT_CLOSED)) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(st, ev.sock, buf, sizeof buf)) > 0) {
                c->sgot[k] = (uint8_t)(c->sgot[k] + r);
                if (c->sgot[k] == REQ) tw_send(st, ev.sock, c->msg, REQ);
            }
            if (r == 0 || (r < 0 && r != -TW_EAGAIN)) tw_close(st, ev.sock); /* EOF: close */
        }
    }
    return n;
}

static void one_lifecycle(churn *c, uint64_t i) {
    bench_pair *p = &c->pr;
    p->now += c->step;
    c->cs = tw_socket(p->a);
    c->cgot = 0;
    c->csent = false;
    int rc = tw_connect(p->a, c->cs, BENCH_ADDR_B, (uint16_t)(c->port0 + i % c->nports));
    if (rc != 0) bench_die("tw_connect: %d at lifecycle %llu", rc, (unsigned long long)i);
    bench_pair_settle(p, client_app, c, server_app, c);
    if (c->cs >= 0) bench_die("lifecycle %llu did not finish", (unsigned long long)i);
    c->done++;
}

/* The measured loop (callgrind toggles collection on this function). */
__attribute__((noinline)) uint64_t churn_measured(churn *c, uint64_t n, double max_cpu_ns);
__attribute__((noinline)) uint64_t churn_measured(churn *c, uint64_t n, double max_cpu_ns) {
    double t0 = max_cpu_ns > 0 ? bench_cpu_ns() : 0;
    uint64_t i;
    for (i = 0; i < n; i++) {
        one_lifecycle(c, c->done);
        if (max_cpu_ns > 0 && (i & 1023) == 1023 && bench_cpu_ns() - t0 > max_cpu_ns) {
            i++;
            break;
        }
    }
    return i;
}

int main(int argc, char **argv) {
    bench_check_args(
        argc, argv,
        "--buf= --eph-hi= --eph-lo= --lifecycles= --max-seconds= --population= --ports= --warmup=",
        "usage: bench_churn [--population P] [--lifecycles N] [--warmup W] [--buf BYTES] [--ports "
        "K] [--max-seconds S] [--eph-lo 1024 --eph-hi 65535]\n");
    double population = bench_argf(argc, argv, "--population", 100);
    uint64_t n = (uint64_t)bench_argf(argc, argv, "--lifecycles", 200000);
    uint64_t warm = (uint64_t)bench_argf(argc, argv, "--warmup", population + 1000);
    uint32_t buf = (uint32_t)bench_argf(argc, argv, "--buf", 4096);
    uint32_t nports = (uint32_t)bench_argf(argc, argv, "--ports", 64);
    double max_s = bench_argf(argc, argv, "--max-seconds", 0);
    if (nports < 1 || nports > 256) bench_die("--ports 1..256");

    churn *c = calloc(1, sizeof *c);
    if (!c) bench_die("out of memory");
    tw_stack_cfg ca, cb;
    tw_stack_cfg_default(&ca);
    ca.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    tw_stack_cfg_default(&cb);
    cb.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    ca.rcvbuf = ca.sndbuf = cb.rcvbuf = cb.sndbuf = buf;
    ca.ephemeral_lo = (uint16_t)bench_argf(argc, argv, "--eph-lo", 1024);
    ca.ephemeral_hi = (uint16_t)bench_argf(argc, argv, "--eph-hi", 65535);
    ca.max_time_wait = cb.max_time_wait = (uint32_t)(population * 1.1 + 1024);
    ca.delack_synack = true; /* the request carries the handshake ACK */
    cb.delack_fin = true;    /* the three-way close */
    bench_pair_init(&c->pr, &ca, &cb);
    c->step = (uint64_t)(2.0 * (double)ca.msl / population);
    c->port0 = 80;
    c->nports = (uint16_t)nports;
    memset(c->msg, 'x', sizeof c->msg);
    for (uint32_t k = 0; k < nports; k++) {
        int ls = tw_socket(c->pr.b);
        if (tw_bind(c->pr.b, ls, (uint16_t)(c->port0 + k)) || tw_listen(c->pr.b, ls, 64))
            bench_die("listen");
        c->listeners[k] = ls;
    }
    c->cs = -1;

    for (uint64_t i = 0; i < warm; i++) one_lifecycle(c, c->done);
    size_t tw_before = tw_stack_time_wait_count(c->pr.a);
    uint64_t pkts0 = c->pr.delivered;
    uint64_t ipin0 =
        tw_stack_counters(c->pr.a)[TW_C_IP_IN] + tw_stack_counters(c->pr.b)[TW_C_IP_IN];

    double w0 = bench_wall_ns(), t0 = bench_cpu_ns();
    uint64_t got = churn_measured(c, n, max_s * 1e9);
    double t1 = bench_cpu_ns(), w1 = bench_wall_ns();

    const uint64_t *ca_ = tw_stack_counters(c->pr.a);
    const uint64_t *cb_ = tw_stack_counters(c->pr.b);
    uint64_t rsts = ca_[TW_C_RST_RECEIVED] + cb_[TW_C_RST_RECEIVED];
    if (c->errors || rsts)
        bench_die("errors %llu, resets %llu", (unsigned long long)c->errors,
                  (unsigned long long)rsts);
    double cpu_ns = (t1 - t0) / (double)got;
    bench_json j;
    bj_begin(&j, "churn", "tcpwave");
    bj_num(&j, "population", population);
    bj_num(&j, "lifecycles", (double)got);
    bj_num(&j, "conn_per_s", 1e9 / cpu_ns);
    bj_num(&j, "cpu_ns", cpu_ns);
    bj_num(&j, "wall_ns", (w1 - w0) / (double)got);
    bj_num(&j, "time_wait_start", (double)tw_before);
    bj_num(&j, "time_wait_end", (double)tw_stack_time_wait_count(c->pr.a));
    bj_num(&j, "packets_per_lifecycle", (double)(c->pr.delivered - pkts0) / (double)got);
    bj_num(&j, "ip_in_per_lifecycle",
           (double)(ca_[TW_C_IP_IN] + cb_[TW_C_IP_IN] - ipin0) / (double)got);
    bj_num(&j, "buf", buf);
    bj_num(&j, "ports", nports);
    bj_num(&j, "ephemeral_ports", (double)(ca.ephemeral_hi - ca.ephemeral_lo + 1));
    bj_end(&j);
    bench_pair_free(&c->pr);
    free(c);
    return 0;
}
