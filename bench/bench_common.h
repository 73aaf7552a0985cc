/* bench_common.h - helpers shared by the tcpwave benchmarks (header only:
 * every bench_NAME.c is its own executable).
 *
 * - clocks: wall (CLOCK_MONOTONIC) and this thread's CPU time;
 * - a lean zero-delay "pair" driver: two stacks joined by in-memory packet
 *   FIFOs (one copy per packet, as a wire would make), no simulator, no
 *   heap per packet, a virtual clock that only moves when the bench says so;
 * - a tiny JSON line writer: each bench prints one JSON object per result
 *   on stdout, which bench/run collects.
 *
 * Not part of the library; benches may use internal headers. */
#ifndef TW_BENCH_COMMON_H
#define TW_BENCH_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <tcpwave/tcpwave.h>

#define BENCH_ADDR_A 0xC6120001u /* 198.18.0.1: the client */
#define BENCH_ADDR_B 0xC6120002u /* 198.18.0.2: the server */

/* ---- clocks ---- */

static inline double bench_wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline double bench_cpu_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static inline void bench_die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

/* ---- arguments: --name value pairs ---- */

static inline const char *bench_arg(int argc, char **argv, const char *name, const char *def) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) return argv[i + 1];
    return def;
}

static inline double bench_argf(int argc, char **argv, const char *name, double def) {
    const char *v = bench_arg(argc, argv, name, NULL);
    if (!v) return def;
    char *end = NULL;
    double d = strtod(v, &end);
    if (end == v || *end != '\0' || d < 0) {
        fprintf(stderr, "%s: %s: '%s' is not a non-negative number\n", argv[0], name, v);
        exit(2);
    }
    return d;
}

/* Checks the command line against `spec`, the options a program reads:
 * space-separated names, "=" after one that takes a value (e.g.
 * "--syns= --only= --verbose"). --help prints `usage` and exits 0; an
 * unknown option, a stray word or a missing value is an error (exit 2). */
static inline void bench_check_args(int argc, char **argv, const char *spec, const char *usage) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf("%s", usage);
            exit(0);
        }
        size_t n = strlen(a);
        const char *m = n > 2 && a[0] == '-' && a[1] == '-' ? strstr(spec, a) : NULL;
        while (m && ((m != spec && m[-1] != ' ') || (m[n] != ' ' && m[n] != '=' && m[n] != '\0')))
            m = strstr(m + 1, a);
        if (!m) {
            fprintf(stderr, "%s: unknown argument '%s'\n%s", argv[0], a, usage);
            exit(2);
        }
        if (m[n] == '=' && ++i >= argc) {
            fprintf(stderr, "%s: %s needs a value\n%s", argv[0], a, usage);
            exit(2);
        }
    }
}

static inline bool bench_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return true;
    return false;
}

/* ---- JSON line output ---- */

typedef struct bench_json {
    char buf[4096];
    size_t n;
} bench_json;

static inline void bj_begin(bench_json *j, const char *bench, const char *impl) {
    j->n =
        (size_t)snprintf(j->buf, sizeof j->buf, "{\"bench\":\"%s\",\"impl\":\"%s\"", bench, impl);
}

static inline void bj_num(bench_json *j, const char *key, double v) {
    if (j->n < sizeof j->buf)
        j->n += (size_t)snprintf(j->buf + j->n, sizeof j->buf - j->n, ",\"%s\":%.6g", key, v);
}

static inline void bj_str(bench_json *j, const char *key, const char *v) {
    if (j->n < sizeof j->buf)
        j->n += (size_t)snprintf(j->buf + j->n, sizeof j->buf - j->n, ",\"%s\":\"%s\"", key, v);
}

static inline void bj_end(bench_json *j) {
    printf("%s}\n", j->buf);
    fflush(stdout);
}

/* ---- percentiles ---- */

static inline int bench_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Sorts v in place and returns the q-quantile (0..1), nearest rank. */
static inline double bench_quantile(double *v, size_t n, double q) {
    if (n == 0) return 0;
    qsort(v, n, sizeof *v, bench_cmp_double);
    size_t k = (size_t)(q * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

/* ---- the pair driver ---- */

#define BQ_MTU 2048u
#define BQ_CAP 1024u /* packets per direction */

typedef struct bq_pkt {
    uint32_t len;
    uint8_t data[BQ_MTU - 4];
} bq_pkt;

/* A FIFO of packets towards one stack. */
typedef struct bq {
    bq_pkt *p;
    uint32_t head, n;
    uint64_t dropped;
} bq;

typedef struct bq_link {
    tw_link link;
    bq *to;
} bq_link;

static inline int bq_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    bq *q = ((bq_link *)l)->to;
    if (q->n == BQ_CAP || len > sizeof q->p[0].data) {
        q->dropped++;
        return -TW_ENOMEM;
    }
    bq_pkt *p = &q->p[(q->head + q->n) % BQ_CAP];
    p->len = (uint32_t)len;
    memcpy(p->data, pkt, len);
    q->n++;
    return 0;
}

static inline int bq_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    (void)l, (void)buf, (void)cap, (void)now;
    return 0;
}
static inline uint64_t bq_next_arrival(tw_link *l) {
    (void)l;
    return UINT64_MAX;
}
static inline int bq_poll_fd(tw_link *l) {
    (void)l;
    return -1;
}
static inline void bq_close(tw_link *l) {
    (void)l;
}

static const struct tw_link_ops bq_ops
    __attribute__((unused)) = {bq_send, bq_recv, bq_next_arrival, bq_poll_fd, bq_close};

typedef struct bench_pair {
    tw_stack *a, *b; /* a: client 198.18.0.1, b: server 198.18.0.2 */
    bq qa, qb;       /* packets towards a, towards b */
    bq_link la, lb;  /* a sends into qb, b into qa */
    uint64_t now;    /* virtual time, ns */
    uint64_t delivered;
} bench_pair;

/* cfg_a / cfg_b: NULL = defaults. Their addr is set here. */
static inline void bench_pair_init(bench_pair *p, const tw_stack_cfg *cfg_a,
                                   const tw_stack_cfg *cfg_b) {
    memset(p, 0, sizeof *p);
    p->qa.p = malloc(sizeof(bq_pkt) * BQ_CAP);
    p->qb.p = malloc(sizeof(bq_pkt) * BQ_CAP);
    if (!p->qa.p || !p->qb.p) bench_die("out of memory");
    p->la.link.ops = &bq_ops;
    p->la.to = &p->qb;
    p->lb.link.ops = &bq_ops;
    p->lb.to = &p->qa;
    tw_stack_cfg ca, cb;
    if (cfg_a)
        ca = *cfg_a;
    else
        tw_stack_cfg_default(&ca);
    if (cfg_b)
        cb = *cfg_b;
    else
        tw_stack_cfg_default(&cb);
    ca.addr = BENCH_ADDR_A;
    cb.addr = BENCH_ADDR_B;
    ca.seed ^= 0x1111;
    cb.seed ^= 0x2222;
    if (tw_stack_new(&ca, &p->la.link, &p->a) != 0) bench_die("tw_stack_new a");
    if (tw_stack_new(&cb, &p->lb.link, &p->b) != 0) bench_die("tw_stack_new b");
    p->now = 1000000000ull; /* start at 1 s */
}

static inline void bench_pair_free(bench_pair *p) {
    tw_stack_free(p->a);
    tw_stack_free(p->b);
    free(p->qa.p);
    free(p->qb.p);
}

/* Hands every queued packet to its stack (packets sent while doing so are
 * delivered too). Returns the number delivered. */
static inline uint32_t bench_pair_deliver(bench_pair *p) {
    uint32_t k = 0;
    while (p->qa.n || p->qb.n) {
        while (p->qb.n) {
            bq_pkt *pk = &p->qb.p[p->qb.head];
            tw_stack_input(p->b, p->now, pk->data, pk->len);
            p->qb.head = (p->qb.head + 1) % BQ_CAP;
            p->qb.n--;
            k++;
        }
        while (p->qa.n) {
            bq_pkt *pk = &p->qa.p[p->qa.head];
            tw_stack_input(p->a, p->now, pk->data, pk->len);
            p->qa.head = (p->qa.head + 1) % BQ_CAP;
            p->qa.n--;
            k++;
        }
    }
    p->delivered += k;
    return k;
}

/* One application callback per stack: handle every queued event of `st`.
 * Returns the number of events handled. */
typedef int (*bench_app_fn)(void *ctx, tw_stack *st);

/* Runs at the current virtual time until nothing moves: polls both stacks,
 * delivers packets, lets the applications react. Bounded by max_rounds. */
static inline void bench_pair_settle(bench_pair *p, bench_app_fn app_a, void *ctx_a,
                                     bench_app_fn app_b, void *ctx_b) {
    for (int round = 0; round < 100000; round++) {
        int ev = 0;
        if (app_a) ev += app_a(ctx_a, p->a);
        if (app_b) ev += app_b(ctx_b, p->b);
        tw_stack_poll(p->a, p->now);
        tw_stack_poll(p->b, p->now);
        uint32_t moved = bench_pair_deliver(p);
        if (!moved && !ev && tw_stack_next_deadline(p->a) > p->now &&
            tw_stack_next_deadline(p->b) > p->now)
            return;
    }
    bench_die("pair did not settle");
}

/* Moves the virtual clock to t (no-op if earlier). */
static inline void bench_pair_advance(bench_pair *p, uint64_t t) {
    if (t > p->now) p->now = t;
}

#endif
