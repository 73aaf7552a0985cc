/* bench_twmem.c - memory per TIME_WAIT record, measured from the allocator.
 *
 * The server stack is made first; then the allocator's count of bytes in use
 * (mallinfo2: uordblks + hblkhd, so mmap'd blocks count too) is read, the
 * client stack is made (max_time_wait = --records, so its 4-tuple index is
 * sized for them), and --records lifecycles (connect, 64-byte request and
 * reply, client closes first) run with the virtual clock frozen, so every
 * one of them stays in TIME_WAIT. Bytes per record = growth of the
 * allocator's count / records: the records, their FIFO links (the timer),
 * the hash index, and the client stack's fixed part and connection pool
 * (spread over the records, so this is an upper bound).
 *
 * usage: bench_twmem [--records 1000000] [--ports 64] */
#include "bench_common.h"

#include <malloc.h>

#include "stack/stack.h"

#define REQ 64

typedef struct twm {
    tw_stack *a, *b;
    int cs;
    uint32_t cgot;
    bool csent;
    uint8_t sgot[65536];
    uint8_t msg[REQ];
    uint64_t errors;
} twm;

static int client_app(void *ctx, tw_stack *st) {
    twm *c = ctx;
    tw_event ev;
    int n = 0;
    while (tw_next_event(st, &ev)) {
        n++;
        if (ev.sock != c->cs) continue;
        if (ev.what & TW_EVT_CLOSED) c->errors++;
        if ((ev.what & (TW_EVT_CONNECTED | TW_EVT_WRITABLE)) && !c->csent &&
            tw_send(st, c->cs, c->msg, REQ) == REQ)
            c->csent = true;
        if (ev.what & TW_EVT_READABLE) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(st, c->cs, buf, sizeof buf)) > 0) c->cgot += (uint32_t)r;
            if (c->cgot >= REQ) {
                tw_close(st, c->cs);
                c->cs = -1;
            }
        }
    }
    return n;
}

static int server_app(void *ctx, tw_stack *st) {
    twm *c = ctx;
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
        if (ev.what & (TW_EVT_READABLE | TW_EVT_CLOSED)) {
            uint8_t buf[256];
            int r;
            while ((r = tw_recv(st, ev.sock, buf, sizeof buf)) > 0) {
                c->sgot[k] = (uint8_t)(c->sgot[k] + r);
                if (c->sgot[k] == REQ) tw_send(st, ev.sock, c->msg, REQ);
            }
            if (r == 0 || (r < 0 && r != -TW_EAGAIN)) tw_close(st, ev.sock);
        }
    }
    return n;
}

static size_t heap_bytes(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

int main(int argc, char **argv) {
    bench_check_args(
        argc, argv, "--ports= --records=", "usage: bench_twmem [--records 1000000] [--ports 64]\n");
    uint32_t records = (uint32_t)bench_argf(argc, argv, "--records", 1000000);
    uint32_t nports = (uint32_t)bench_argf(argc, argv, "--ports", 64);
    twm *c = calloc(1, sizeof *c);
    if (!c) bench_die("out of memory");
    memset(c->msg, 'x', sizeof c->msg);

    /* The pair driver, by hand: the server stack first, then measure. */
    bench_pair *p = calloc(1, sizeof *p);
    if (!p) bench_die("out of memory");
    p->qa.p = malloc(sizeof(bq_pkt) * BQ_CAP);
    p->qb.p = malloc(sizeof(bq_pkt) * BQ_CAP);
    p->la.link.ops = &bq_ops;
    p->la.to = &p->qb;
    p->lb.link.ops = &bq_ops;
    p->lb.to = &p->qa;
    p->now = 1000000000ull;
    tw_stack_cfg ca, cb;
    tw_stack_cfg_default(&cb);
    cb.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cb.addr = BENCH_ADDR_B;
    cb.rcvbuf = cb.sndbuf = 4096;
    if (tw_stack_new(&cb, &p->lb.link, &p->b)) bench_die("server stack");
    for (uint32_t k = 0; k < nports; k++) {
        int ls = tw_socket(p->b);
        if (tw_bind(p->b, ls, (uint16_t)(80 + k)) || tw_listen(p->b, ls, 64)) bench_die("listen");
    }
    size_t m0 = heap_bytes();
    tw_stack_cfg_default(&ca);
    ca.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    ca.addr = BENCH_ADDR_A;
    ca.rcvbuf = ca.sndbuf = 4096;
    ca.ephemeral_lo = 1024;
    ca.ephemeral_hi = 65535;
    ca.max_time_wait = records;
    if (tw_stack_new(&ca, &p->la.link, &p->a)) bench_die("client stack");
    size_t m_stack = heap_bytes();

    double t0 = bench_wall_ns();
    for (uint32_t i = 0; i < records; i++) {
        c->cs = tw_socket(p->a);
        c->cgot = 0;
        c->csent = false;
        if (tw_connect(p->a, c->cs, BENCH_ADDR_B, (uint16_t)(80 + i % nports)))
            bench_die("connect %u", i);
        bench_pair_settle(p, client_app, c, server_app, c);
        if (c->cs >= 0 || c->errors) bench_die("lifecycle %u did not finish", i);
        if ((i & 0xffff) == 0 && bench_wall_ns() - t0 > 120e9) bench_die("too slow");
    }
    size_t m1 = heap_bytes();
    size_t n = tw_stack_time_wait_count(p->a);
    if (n != records) bench_die("expected %u records, have %zu", records, n);
    const tw_stack *st = p->a;
    bench_json j;
    bj_begin(&j, "twmem", "tcpwave");
    bj_num(&j, "records", (double)n);
    bj_num(&j, "bytes_per_record", (double)(m1 - m0) / (double)n);
    bj_num(&j, "bytes_per_record_growth", (double)(m1 - m_stack) / (double)n);
    bj_num(&j, "stack_fixed_bytes", (double)(m_stack - m0));
    bj_num(&j, "record_struct_bytes", (double)sizeof(tw_twrec));
    bj_num(&j, "record_slots", (double)st->tw_cap);
    bj_num(&j, "buckets", (double)st->nbuckets);
    bj_num(&j, "declared_record_size", (double)tw_stack_time_wait_record_size());
    bj_end(&j);
    bench_pair_free(p);
    free(p);
    free(c);
    return 0;
}
