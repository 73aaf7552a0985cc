/* bench_wheel.c - a standalone micro-benchmark of the timing wheel (not a
 * test): arms, re-arms, cancels and pops 10^6 timers in the patterns a TCP
 * stack produces and prints nanoseconds per operation.
 *
 * Build: cc -std=c11 -O2 -Iinclude -Isrc bench/bench_wheel.c src/util/wheel.c
 *        src/util/rng.c -o bench_wheel */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/rng.h"
#include "util/wheel.h"

#define N 1000000

static double wall_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *what, double t0, long ops) {
    double dt = wall_ns() - t0;
    printf("%-44s %9ld ops %8.1f ns/op\n", what, ops, dt / (double)ops);
}

int main(void) {
    tw_wheel *w = malloc(sizeof *w);
    tw_wheel_entry *e = malloc(sizeof *e * N);
    tw_time_t *when = malloc(sizeof *when * N);
    if (!w || !e || !when) return 1;
    tw_rng g;
    tw_rng_seed(&g, 1);
    tw_time_t now = TW_SEC(1);
    tw_wheel_init(w, now);
    for (long i = 0; i < N; i++) {
        tw_wheel_entry_init(&e[i]);
        when[i] = now + 1 + tw_rng_below(&g, TW_SEC(60));
    }

    double t0 = wall_ns();
    for (long i = 0; i < N; i++) tw_wheel_arm(w, &e[i], when[i]);
    report("arm (random in 60 s)", t0, N);

    for (long i = 0; i < N; i++) when[i] = now + TW_MS(200) + tw_rng_below(&g, TW_MS(800));
    t0 = wall_ns();
    for (long i = 0; i < N; i++) tw_wheel_arm(w, &e[i], when[i]);
    report("re-arm armed entry (RTO 200 ms..1 s)", t0, N);

    t0 = wall_ns();
    for (long i = 0; i < N; i += 2) tw_wheel_cancel(w, &e[i]);
    report("cancel (half of them)", t0, N / 2);

    /* Event loop: sleep until next(), pop everything due then. */
    long pops = 0, wakeups = 0;
    t0 = wall_ns();
    for (;;) {
        tw_time_t t = tw_wheel_next(w);
        if (t == TW_TIME_NEVER) break;
        wakeups++;
        while (tw_wheel_pop_due(w, t)) pops++;
    }
    report("pop via next() + pop_due (per pop)", t0, pops);
    printf("  (%ld wake-ups, wheel now %.3f s)\n", wakeups, (double)tw_wheel_now(w) / 1e9);

    /* Fixed 1 ms ticks over 60 s with everything armed again. */
    now = tw_wheel_now(w);
    for (long i = 0; i < N; i++) tw_wheel_arm(w, &e[i], now + 1 + tw_rng_below(&g, TW_SEC(60)));
    pops = 0;
    t0 = wall_ns();
    for (tw_time_t t = now; pops < N; t += TW_MS(1))
        while (tw_wheel_pop_due(w, t)) pops++;
    report("pop with 1 ms ticks over 60 s (per pop)", t0, pops);

    /* Steady state: 10^5 connections, each segment re-arms its RTO and the
     * clock moves by 1 us; whatever is due is popped and re-armed. */
    const long conns = 100000;
    now = tw_wheel_now(w);
    for (long i = 0; i < conns; i++)
        tw_wheel_arm(w, &e[i], now + TW_MS(200) + tw_rng_below(&g, TW_MS(200)));
    long fired = 0;
    t0 = wall_ns();
    for (long k = 0; k < N; k++) {
        long c = (long)tw_rng_below(&g, (uint64_t)conns);
        tw_wheel_arm(w, &e[c], now + TW_MS(200));
        now += TW_US(1);
        tw_wheel_entry *p;
        while ((p = tw_wheel_pop_due(w, now)) != NULL) {
            fired++;
            tw_wheel_arm(w, p, now + TW_MS(400));
        }
    }
    report("steady: re-arm + 1 us advance + pop", t0, N);
    printf("  (%ld timers fired, %zu armed)\n", fired, tw_wheel_count(w));

    free(when);
    free(e);
    free(w);
    return 0;
}
