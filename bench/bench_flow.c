/* bench_flow.c - one tcpwave connection over the zero-delay pair driver
 * (bench_common.h): bulk throughput and 1-byte ping-pong latency, and the
 * memcpy baseline the bulk figure is compared with.
 *
 *   --mode bulk    --bytes B [--write 65536]: B bytes one way, written in
 *                  64 KiB application writes (a write takes what fits) and
 *                  read into a 64 KiB application buffer; MSS 1460, the
 *                  default 64 KiB send and receive buffers. Throughput is
 *                  bytes per CPU second of this thread (both stacks).
 *   --mode memcpy  --bytes B [--write 65536]: memcpy of the same bytes in
 *                  the same 64 KiB blocks between two application buffers.
 *   --mode latency --rounds N: 1-byte ping-pong, TCP_NODELAY both ends;
 *                  p50/p99 wall time per round trip, after 2,000 untimed
 *                  rounds (as bench_lwip and bench_linux do). */
#include "bench_common.h"

typedef struct flow {
    bench_pair pr;
    int cs, ss, ls;
    uint8_t *src, *dst;
    uint32_t wsize;
    uint64_t total, sent, rcvd;
    uint64_t errors;
    bool connected;
} flow;

static void push(flow *f, tw_stack *st) {
    while (f->sent < f->total) {
        uint32_t off = (uint32_t)(f->sent % f->wsize);
        uint64_t want = f->wsize - off;
        if (want > f->total - f->sent) want = f->total - f->sent;
        int n = tw_send(st, f->cs, f->src + off, (size_t)want);
        if (n <= 0) break;
        f->sent += (uint64_t)n;
    }
}

static int bulk_client(void *ctx, tw_stack *st) {
    flow *f = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.sock != f->cs) continue;
        if (ev.what & TW_EVT_CLOSED) f->errors++;
        if (ev.what & (TW_EVT_CONNECTED | TW_EVT_WRITABLE)) push(f, st);
    }
    return n;
}

static int bulk_server(void *ctx, tw_stack *st) {
    flow *f = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.what & TW_EVT_ACCEPTABLE) {
            int s = tw_accept(st, f->ls, NULL, NULL);
            if (s >= 0) f->ss = s;
            continue;
        }
        if (ev.sock != f->ss) continue;
        if (ev.what & TW_EVT_CLOSED) f->errors++;
        if (ev.what & TW_EVT_READABLE) {
            for (;;) {
                uint32_t off = (uint32_t)(f->rcvd % f->wsize);
                int r = tw_recv(st, f->ss, f->dst + off, f->wsize - off);
                if (r <= 0) break;
                f->rcvd += (uint64_t)r;
            }
        }
    }
    return n;
}

static void setup(flow *f, uint32_t buf, uint16_t port) {
    tw_stack_cfg c;
    tw_stack_cfg_default(&c);
    c.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    c.rcvbuf = c.sndbuf = buf;
    bench_pair_init(&f->pr, &c, &c);
    f->ls = tw_socket(f->pr.b);
    if (tw_bind(f->pr.b, f->ls, port) || tw_listen(f->pr.b, f->ls, 4)) bench_die("listen");
    f->cs = tw_socket(f->pr.a);
    f->ss = -1;
}

/* Runs the pair until done() holds, moving the clock to the next deadline
 * whenever everything is quiet (a delayed ACK, say). */
static void run_until(flow *f, bench_app_fn ca, bench_app_fn sa, bool (*done)(flow *)) {
    for (uint64_t guard = 0; !done(f); guard++) {
        bench_pair_settle(&f->pr, ca, f, sa, f);
        if (done(f)) break;
        uint64_t da = tw_stack_next_deadline(f->pr.a), db = tw_stack_next_deadline(f->pr.b);
        uint64_t d = da < db ? da : db;
        if (d == UINT64_MAX || f->errors || guard > 100000000ull) bench_die("flow stalled");
        bench_pair_advance(&f->pr, d);
    }
}

static bool bulk_done(flow *f) {
    return f->rcvd >= f->total;
}

static void run_bulk(uint64_t bytes, uint32_t wsize) {
    flow *f = calloc(1, sizeof *f);
    if (!f) bench_die("out of memory");
    f->wsize = wsize;
    f->total = bytes;
    f->src = malloc(wsize);
    f->dst = malloc(wsize);
    if (!f->src || !f->dst) bench_die("out of memory");
    for (uint32_t i = 0; i < wsize; i++) f->src[i] = (uint8_t)(i * 7 + 1);
    memset(f->dst, 0, wsize);
    setup(f, 65535, 5001);
    double w0 = bench_wall_ns(), t0 = bench_cpu_ns();
    if (tw_connect(f->pr.a, f->cs, BENCH_ADDR_B, 5001)) bench_die("connect");
    run_until(f, bulk_client, bulk_server, bulk_done);
    double t1 = bench_cpu_ns(), w1 = bench_wall_ns();
    if (f->total >= wsize && memcmp(f->src, f->dst, wsize) != 0) bench_die("bulk: bytes differ");
    bench_json j;
    bj_begin(&j, "bulk", "tcpwave");
    bj_num(&j, "bytes", (double)f->total);
    bj_num(&j, "gbit_per_s", (double)f->total * 8 / (t1 - t0));
    bj_num(&j, "cpu_s", (t1 - t0) / 1e9);
    bj_num(&j, "wall_s", (w1 - w0) / 1e9);
    bj_num(&j, "packets", (double)f->pr.delivered);
    bj_end(&j);
    bench_pair_free(&f->pr);
    free(f->src);
    free(f->dst);
    free(f);
}

static void run_memcpy(uint64_t bytes, uint32_t wsize) {
    uint8_t *src = malloc(wsize), *dst = malloc(wsize);
    if (!src || !dst) bench_die("out of memory");
    for (uint32_t i = 0; i < wsize; i++) src[i] = (uint8_t)(i * 7 + 1);
    memset(dst, 0, wsize);
    double w0 = bench_wall_ns(), t0 = bench_cpu_ns();
    for (uint64_t done = 0; done < bytes; done += wsize) {
        size_t n = bytes - done < wsize ? (size_t)(bytes - done) : wsize;
        memcpy(dst, src, n);
        __asm__ volatile("" : : "r"(dst) : "memory"); /* keep every copy */
    }
    double t1 = bench_cpu_ns(), w1 = bench_wall_ns();
    bench_json j;
    bj_begin(&j, "bulk", "memcpy");
    bj_num(&j, "bytes", (double)bytes);
    bj_num(&j, "gbit_per_s", (double)bytes * 8 / (t1 - t0));
    bj_num(&j, "cpu_s", (t1 - t0) / 1e9);
    bj_num(&j, "wall_s", (w1 - w0) / 1e9);
    bj_end(&j);
    free(src);
    free(dst);
}

/* ---- latency ---- */

static int ping_client(void *ctx, tw_stack *st) {
    flow *f = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.sock != f->cs) continue;
        if (ev.what & TW_EVT_CLOSED) f->errors++;
        if (ev.what & TW_EVT_CONNECTED) f->connected = true;
        if (ev.what & TW_EVT_READABLE) {
            uint8_t b[64];
            int r;
            while ((r = tw_recv(st, f->cs, b, sizeof b)) > 0) f->rcvd += (uint64_t)r;
        }
    }
    return n;
}

static int echo_server(void *ctx, tw_stack *st) {
    flow *f = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.what & TW_EVT_ACCEPTABLE) {
            int s = tw_accept(st, f->ls, NULL, NULL);
            if (s >= 0) {
                f->ss = s;
                tw_set_nodelay(st, s, true);
            }
            continue;
        }
        if (ev.sock != f->ss) continue;
        if (ev.what & TW_EVT_CLOSED) f->errors++;
        if (ev.what & TW_EVT_READABLE) {
            uint8_t b[64];
            int r;
            while ((r = tw_recv(st, f->ss, b, sizeof b)) > 0) tw_send(st, f->ss, b, (size_t)r);
        }
    }
    return n;
}

static bool connected(flow *f) {
    return f->connected && f->ss >= 0;
}
static bool pong_done(flow *f) {
    return f->rcvd >= f->total;
}

static void run_latency(uint64_t rounds) {
    flow *f = calloc(1, sizeof *f);
    if (!f) bench_die("out of memory");
    setup(f, 65535, 7);
    tw_set_nodelay(f->pr.a, f->cs, true);
    if (tw_connect(f->pr.a, f->cs, BENCH_ADDR_B, 7)) bench_die("connect");
    run_until(f, ping_client, echo_server, connected);
    double *rt = malloc(sizeof *rt * rounds);
    if (!rt) bench_die("out of memory");
    uint8_t one = 'p';
    for (int i = 0; i < 2000; i++) { /* warm-up: caches, pages, predictors */
        f->total = f->rcvd + 1;
        tw_send(f->pr.a, f->cs, &one, 1);
        run_until(f, ping_client, echo_server, pong_done);
    }
    double c0 = bench_cpu_ns();
    for (uint64_t i = 0; i < rounds; i++) {
        double t0 = bench_wall_ns();
        f->total = f->rcvd + 1;
        tw_send(f->pr.a, f->cs, &one, 1);
        run_until(f, ping_client, echo_server, pong_done);
        rt[i] = bench_wall_ns() - t0;
    }
    double c1 = bench_cpu_ns();
    bench_json j;
    bj_begin(&j, "latency", "tcpwave");
    bj_num(&j, "rounds", (double)rounds);
    bj_num(&j, "cpu_ns", (c1 - c0) / (double)rounds);
    bj_num(&j, "p50_ns", bench_quantile(rt, rounds, 0.50));
    bj_num(&j, "p99_ns", bench_quantile(rt, rounds, 0.99));
    bj_end(&j);
    free(rt);
    bench_pair_free(&f->pr);
    free(f);
}

int main(int argc, char **argv) {
    bench_check_args(
        argc, argv, "--bytes= --mode= --rounds= --write=",
        "usage: bench_flow [--mode bulk|memcpy|latency] [--bytes N] [--write N] [--rounds N]\n");
    const char *mode = bench_arg(argc, argv, "--mode", "bulk");
    uint64_t bytes = (uint64_t)bench_argf(argc, argv, "--bytes", 1 << 30);
    uint32_t wsize = (uint32_t)bench_argf(argc, argv, "--write", 65536);
    if (strcmp(mode, "bulk") == 0)
        run_bulk(bytes, wsize);
    else if (strcmp(mode, "memcpy") == 0)
        run_memcpy(bytes, wsize);
    else if (strcmp(mode, "latency") == 0)
        run_latency((uint64_t)bench_argf(argc, argv, "--rounds", 100000));
    else
        bench_die("unknown --mode %s", mode);
    return 0;
}
