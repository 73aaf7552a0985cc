/* bench_lwip.c - the lwIP peer of the benchmarks (built only when Debian's
 * liblwip-dev is found; see CMakeLists.txt). lwIP is used as a library,
 * through its raw API only.
 *
 * One lwIP instance, single-threaded: lwip_init(), then our own loop. Two
 * netifs (198.18.0.1 client, 198.18.0.2 server) are joined in memory: a
 * netif's output copies the packet into a fresh PBUF_RAM pbuf (Debian's
 * PBUF_POOL buffers are too small for 1500-byte packets) and queues it for
 * the netif owning the destination address; the loop hands queued packets
 * to that netif's input (ip_input). Every PCB is bound to its netif.
 *
 * Time is virtual: sys_now() is ours (the library calls it through the PLT,
 * so the executable's definition wins; the target is linked with
 * ENABLE_EXPORTS). lwIP's cyclic timers do not catch up after a clock jump,
 * so the clock is stepped through each due timer in turn.
 *
 * Debian's build (NO_SYS=0, pools on malloc) never reclaims TIME_WAIT PCBs
 * early, its TIME_WAIT is 2 * TCP_MSL = 120 s, and its ephemeral ports are
 * 49152..65535 (16,384), which caps the TIME_WAIT population of one client.
 *
 * Modes (one JSON line each, the same shapes as the tcpwave benches):
 *   --mode churn   --population P --lifecycles N [--warmup W] [--max-seconds S]
 *   --mode bulk    --bytes B [--write 65536]
 *   --mode latency --rounds N */
#define _GNU_SOURCE
#include "bench_common.h"

#include <malloc.h>

#include <lwip/init.h>
#include <lwip/ip.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/priv/tcp_priv.h>
#include <lwip/sys.h>
#include <lwip/tcp.h>
#include <lwip/timeouts.h>

/* ---- virtual time ---- */

static u32_t g_now_ms;

u32_t sys_now(void) {
    return g_now_ms;
}

/* Steps the clock to `target`, running each due timer at its own time. */
static void advance_to(u32_t target) {
    for (int guard = 0; guard < 10000000; guard++) {
        u32_t sleep = sys_timeouts_sleeptime();
        if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE) break;
        u32_t due = g_now_ms + sleep;
        if ((int32_t)(due - target) > 0) break;
        g_now_ms = due;
        sys_check_timeouts();
    }
    if ((int32_t)(target - g_now_ms) > 0) g_now_ms = target;
    sys_check_timeouts();
}

/* ---- the in-memory wire ---- */

static struct netif nif_a, nif_b;

#define QCAP 4096u
static struct pbuf *q_pkt[QCAP];
static struct netif *q_to[QCAP];
static uint32_t q_head, q_n;
static uint64_t q_dropped, q_sent;

static err_t wire_output(struct netif *nif, struct pbuf *p, const ip4_addr_t *dst) {
    (void)nif;
    struct netif *to = ip4_addr_cmp(dst, netif_ip4_addr(&nif_a))   ? &nif_a
                       : ip4_addr_cmp(dst, netif_ip4_addr(&nif_b)) ? &nif_b
                                                                   : NULL;
    if (!to || q_n == QCAP) {
        q_dropped++;
        return ERR_OK;
    }
    struct pbuf *q = pbuf_alloc(PBUF_RAW, p->tot_len, PBUF_RAM);
    if (!q) {
        q_dropped++;
        return ERR_MEM;
    }
    pbuf_copy(q, p);
    uint32_t k = (q_head + q_n) % QCAP;
    q_pkt[k] = q;
    q_to[k] = to;
    q_n++;
    q_sent++;
    return ERR_OK;
}

static uint32_t deliver(void) {
    uint32_t k = 0;
    while (q_n) {
        struct pbuf *p = q_pkt[q_head];
        struct netif *to = q_to[q_head];
        q_head = (q_head + 1) % QCAP;
        q_n--;
        to->input(p, to);
        k++;
    }
    return k;
}

static err_t nif_init(struct netif *nif) {
    nif->output = wire_output;
    nif->mtu = 1500;
    nif->name[0] = 'b';
    nif->name[1] = nif == &nif_a ? 'a' : 'b';
    nif->flags = 0;
    return ERR_OK;
}

static void setup(void) {
    lwip_init();
    ip4_addr_t a, b, mask, gw;
    IP4_ADDR(&a, 198, 18, 0, 1);
    IP4_ADDR(&b, 198, 18, 0, 2);
    IP4_ADDR(&mask, 255, 255, 255, 0);
    IP4_ADDR(&gw, 0, 0, 0, 0);
    if (!netif_add(&nif_a, &a, &mask, &gw, NULL, nif_init, ip_input)) bench_die("netif_add a");
    if (!netif_add(&nif_b, &b, &mask, &gw, NULL, nif_init, ip_input)) bench_die("netif_add b");
    netif_set_up(&nif_a);
    netif_set_link_up(&nif_a);
    netif_set_up(&nif_b);
    netif_set_link_up(&nif_b);
}

static size_t list_len(struct tcp_pcb *p) {
    size_t n = 0;
    for (; p; p = p->next) n++;
    return n;
}

static uint64_t g_errors;

static void on_err(void *arg, err_t err) {
    (void)arg, (void)err;
    g_errors++;
}

static struct tcp_pcb *listen_on(u16_t port, tcp_accept_fn fn) {
    struct tcp_pcb *l = tcp_new();
    if (!l) bench_die("tcp_new");
    tcp_bind_netif(l, &nif_b);
    if (tcp_bind(l, netif_ip_addr4(&nif_b), port) != ERR_OK) bench_die("tcp_bind");
    l = tcp_listen_with_backlog(l, 64);
    if (!l) bench_die("tcp_listen");
    tcp_accept(l, fn);
    return l;
}

static struct tcp_pcb *connect_to(u16_t port, tcp_connected_fn fn, void *arg) {
    struct tcp_pcb *c = tcp_new();
    if (!c) bench_die("tcp_new (client)");
    tcp_bind_netif(c, &nif_a);
    tcp_arg(c, arg);
    tcp_err(c, on_err);
    err_t e = tcp_connect(c, netif_ip_addr4(&nif_b), port, fn);
    if (e != ERR_OK) bench_die("tcp_connect: %d", (int)e);
    return c;
}

/* ---- churn ---- */

#define REQ 64
static uint8_t g_msg[REQ];

typedef struct cli {
    struct tcp_pcb *pcb;
    uint32_t got;
    bool done;
} cli;

static cli g_cli;

static err_t srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)err;
    uintptr_t got = (uintptr_t)arg;
    if (!p) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        tcp_close(pcb);
        return ERR_OK;
    }
    got += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    tcp_arg(pcb, (void *)got);
    if (got == REQ) {
        tcp_write(pcb, g_msg, REQ, TCP_WRITE_FLAG_COPY);
        tcp_output(pcb);
    }
    return ERR_OK;
}

static err_t srv_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    tcp_arg(pcb, (void *)(uintptr_t)0);
    tcp_recv(pcb, srv_recv);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

static err_t cli_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)err;
    cli *c = arg;
    if (!p) { /* the server's FIN after our close, or an early EOF */
        if (c && !c->done) g_errors++;
        return ERR_OK;
    }
    tcp_recved(pcb, p->tot_len);
    if (c) c->got += p->tot_len;
    pbuf_free(p);
    if (c && c->got >= REQ && !c->done) {
        c->done = true;
        tcp_arg(pcb, NULL);
        tcp_err(pcb, NULL);
        tcp_close(pcb); /* client closes first: it holds TIME_WAIT */
    }
    return ERR_OK;
}

static err_t cli_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK) return err;
    tcp_recv(pcb, cli_recv);
    tcp_write(pcb, g_msg, REQ, TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
    return ERR_OK;
}

static u32_t g_step_ms;
static uint64_t g_done;

static void churn_one(void) {
    advance_to(g_now_ms + g_step_ms);
    g_cli.got = 0;
    g_cli.done = false;
    g_cli.pcb = connect_to(80, cli_connected, &g_cli);
    for (int guard = 0; !g_cli.done || q_n; guard++) {
        if (guard > 1000)
            bench_die("lwIP lifecycle %llu did not finish", (unsigned long long)g_done);
        if (!deliver()) advance_to(g_now_ms + 1); /* nothing in flight: let a timer act */
    }
    g_done++;
}

__attribute__((noinline)) uint64_t lwip_churn_measured(uint64_t n, double max_cpu_ns);
__attribute__((noinline)) uint64_t lwip_churn_measured(uint64_t n, double max_cpu_ns) {
    double t0 = max_cpu_ns > 0 ? bench_cpu_ns() : 0;
    uint64_t i;
    for (i = 0; i < n; i++) {
        churn_one();
        if (max_cpu_ns > 0 && (i & 255) == 255 && bench_cpu_ns() - t0 > max_cpu_ns) {
            i++;
            break;
        }
    }
    return i;
}

static void run_churn(double population, uint64_t n, uint64_t warm, double max_s) {
    /* lwIP's TIME_WAIT lasts 2 * TCP_MSL; space the lifecycles so that
     * `population` of them are in it at once. */
    g_step_ms = (u32_t)(2.0 * (double)TCP_MSL / population);
    if (g_step_ms == 0) bench_die("population too large for 1 ms steps");
    memset(g_msg, 'x', sizeof g_msg);
    listen_on(80, srv_accept);
    struct mallinfo2 mi0 = mallinfo2();
    for (uint64_t i = 0; i < warm; i++) churn_one();
    size_t tw0 = list_len(tcp_tw_pcbs);
    struct mallinfo2 mi1 = mallinfo2();
    double heap_per_tw =
        tw0 ? ((double)(mi1.uordblks + mi1.hblkhd) - (double)(mi0.uordblks + mi0.hblkhd)) /
                  (double)tw0
            : 0;
    uint64_t pk0 = q_sent;
    double w0 = bench_wall_ns(), t0 = bench_cpu_ns();
    uint64_t got = lwip_churn_measured(n, max_s * 1e9);
    double t1 = bench_cpu_ns(), w1 = bench_wall_ns();
    if (g_errors || q_dropped)
        bench_die("lwIP churn: %llu errors, %llu drops", (unsigned long long)g_errors,
                  (unsigned long long)q_dropped);
    double cpu_ns = (t1 - t0) / (double)got;
    bench_json j;
    bj_begin(&j, "churn", "lwip");
    bj_num(&j, "population", population);
    bj_num(&j, "lifecycles", (double)got);
    bj_num(&j, "conn_per_s", 1e9 / cpu_ns);
    bj_num(&j, "cpu_ns", cpu_ns);
    bj_num(&j, "wall_ns", (w1 - w0) / (double)got);
    bj_num(&j, "time_wait_start", (double)tw0);
    bj_num(&j, "time_wait_end", (double)list_len(tcp_tw_pcbs));
    bj_num(&j, "packets_per_lifecycle", (double)(q_sent - pk0) / (double)got);
    bj_num(&j, "bytes_per_time_wait", heap_per_tw);
    bj_num(&j, "tcp_pcb_size", (double)sizeof(struct tcp_pcb));
    bj_end(&j);
}

/* ---- bulk ---- */

static uint8_t *g_src, *g_dst;
static uint64_t g_total, g_sent, g_rcvd;
static uint32_t g_write;
static struct tcp_pcb *g_tx;

static void bulk_push(struct tcp_pcb *pcb) {
    while (g_sent < g_total) {
        /* The application writes 64 KiB blocks; a write takes what fits. */
        uint32_t off = (uint32_t)(g_sent % g_write);
        uint32_t want = g_write - off;
        if (want > g_total - g_sent) want = (uint32_t)(g_total - g_sent);
        u16_t room = tcp_sndbuf(pcb);
        if (room == 0 || tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 1) break;
        u16_t n = (u16_t)(want < room ? want : room);
        if (tcp_write(pcb, g_src + off, n, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
        g_sent += n;
    }
    tcp_output(pcb);
}

static err_t bulk_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)arg, (void)len;
    bulk_push(pcb);
    return ERR_OK;
}

static err_t bulk_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK) return err;
    tcp_sent(pcb, bulk_sent);
    bulk_push(pcb);
    return ERR_OK;
}

static err_t bulk_rx(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg, (void)err;
    if (!p) return ERR_OK;
    /* The application reads into its own buffer, as a socket read would. */
    u16_t len = p->tot_len;
    uint32_t off = (uint32_t)(g_rcvd % g_write);
    u16_t done = 0;
    while (done < len) {
        u16_t n = (u16_t)(len - done);
        if (n > g_write - off) n = (u16_t)(g_write - off);
        pbuf_copy_partial(p, g_dst + off, n, done);
        done = (u16_t)(done + n);
        off = (off + n) % g_write;
    }
    g_rcvd += len;
    tcp_recved(pcb, len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t bulk_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    tcp_recv(pcb, bulk_rx);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

static void run_bulk(uint64_t bytes, uint32_t wsize) {
    g_write = wsize;
    g_total = bytes;
    g_src = malloc(wsize);
    g_dst = malloc(wsize);
    if (!g_src || !g_dst) bench_die("out of memory");
    for (uint32_t i = 0; i < wsize; i++) g_src[i] = (uint8_t)(i * 7 + 1);
    listen_on(5001, bulk_accept);
    double w0 = bench_wall_ns(), t0 = bench_cpu_ns();
    g_tx = connect_to(5001, bulk_connected, NULL);
    for (uint64_t guard = 0; g_rcvd < g_total; guard++) {
        if (!deliver()) advance_to(g_now_ms + 1);
        if (g_errors || guard > 100000000ull)
            bench_die("lwIP bulk stalled at %llu", (unsigned long long)g_rcvd);
    }
    double t1 = bench_cpu_ns(), w1 = bench_wall_ns();
    if (memcmp(g_src, g_dst, wsize) != 0 && g_total >= wsize) bench_die("lwIP bulk: bytes differ");
    bench_json j;
    bj_begin(&j, "bulk", "lwip");
    bj_num(&j, "bytes", (double)g_total);
    bj_num(&j, "gbit_per_s", (double)g_total * 8 / (t1 - t0));
    bj_num(&j, "cpu_s", (t1 - t0) / 1e9);
    bj_num(&j, "wall_s", (w1 - w0) / 1e9);
    bj_num(&j, "packets", (double)q_sent);
    bj_end(&j);
}

/* ---- latency: 1-byte ping-pong ---- */

static volatile int g_pong;

static err_t echo_rx(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg, (void)err;
    if (!p) return ERR_OK;
    uint8_t b[64];
    u16_t n = pbuf_copy_partial(p, b, sizeof b, 0);
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    tcp_write(pcb, b, n, TCP_WRITE_FLAG_COPY);
    tcp_output(pcb);
    return ERR_OK;
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK || !pcb) return ERR_VAL;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, echo_rx);
    tcp_err(pcb, on_err);
    return ERR_OK;
}

static err_t ping_rx(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)arg, (void)err;
    if (!p) return ERR_OK;
    uint8_t b[64];
    pbuf_copy_partial(p, b, sizeof b, 0);
    tcp_recved(pcb, p->tot_len);
    g_pong += p->tot_len;
    pbuf_free(p);
    return ERR_OK;
}

static volatile int g_connected;

static err_t ping_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
    (void)arg;
    if (err != ERR_OK) return err;
    tcp_nagle_disable(pcb);
    tcp_recv(pcb, ping_rx);
    g_connected = 1;
    return ERR_OK;
}

static void run_latency(uint64_t rounds) {
    listen_on(7, echo_accept);
    struct tcp_pcb *c = connect_to(7, ping_connected, NULL);
    for (int guard = 0; !g_connected; guard++) {
        if (guard > 1000) bench_die("lwIP latency: no connection");
        if (!deliver()) advance_to(g_now_ms + 1);
    }
    double *rt = malloc(sizeof *rt * rounds);
    if (!rt) bench_die("out of memory");
    uint8_t one = 'p';
    for (int i = 0; i < 2000; i++) { /* warm-up, as in bench_flow */
        int want = g_pong + 1;
        tcp_write(c, &one, 1, TCP_WRITE_FLAG_COPY);
        tcp_output(c);
        while (g_pong < want)
            if (!deliver()) advance_to(g_now_ms + 1);
    }
    double c0 = bench_cpu_ns();
    for (uint64_t i = 0; i < rounds; i++) {
        double t0 = bench_wall_ns();
        int want = g_pong + 1;
        tcp_write(c, &one, 1, TCP_WRITE_FLAG_COPY);
        tcp_output(c);
        while (g_pong < want) {
            if (!deliver()) advance_to(g_now_ms + 1);
        }
        rt[i] = bench_wall_ns() - t0;
    }
    double c1 = bench_cpu_ns();
    bench_json j;
    bj_begin(&j, "latency", "lwip");
    bj_num(&j, "rounds", (double)rounds);
    bj_num(&j, "cpu_ns", (c1 - c0) / (double)rounds);
    bj_num(&j, "p50_ns", bench_quantile(rt, rounds, 0.50));
    bj_num(&j, "p99_ns", bench_quantile(rt, rounds, 0.99));
    bj_end(&j);
    free(rt);
}

int main(int argc, char **argv) {
    bench_check_args(
        argc, argv,
        "--bytes= --lifecycles= --max-seconds= --mode= --population= --rounds= --warmup= --write=",
        "usage: bench_lwip [--mode churn|bulk|latency] [--population P] [--lifecycles N] "
        "[--warmup W] [--max-seconds S] [--bytes N] [--write N] [--rounds N]\n");
    const char *mode = bench_arg(argc, argv, "--mode", "churn");
    g_now_ms = 1000;
    setup();
    if (strcmp(mode, "churn") == 0) {
        double pop = bench_argf(argc, argv, "--population", 100);
        if (pop > 16000)
            bench_die("lwIP: at most 16,384 local ports, so at most ~16,000 TIME_WAIT");
        run_churn(pop, (uint64_t)bench_argf(argc, argv, "--lifecycles", 20000),
                  (uint64_t)bench_argf(argc, argv, "--warmup", pop * 1.05 + 500),
                  bench_argf(argc, argv, "--max-seconds", 0));
    } else if (strcmp(mode, "bulk") == 0) {
        run_bulk((uint64_t)bench_argf(argc, argv, "--bytes", 1 << 30),
                 (uint32_t)bench_argf(argc, argv, "--write", 65536));
    } else if (strcmp(mode, "latency") == 0) {
        run_latency((uint64_t)bench_argf(argc, argv, "--rounds", 100000));
    } else {
        bench_die("unknown --mode %s", mode);
    }
    return 0;
}
