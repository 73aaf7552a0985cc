/* bench_timers.c - the timing wheel under 10^6 connections' timers.
 *
 * 10^6 objects the size of a connection slot, each with its wheel entry
 * inside (so the entries are spread over memory as in a real stack), and
 * the operations a TCP stack makes on them:
 *   arm     - arm each unarmed entry (RTO-like, now + 200 ms .. 1 s)
 *   rearm   - arm each armed entry again (RTO restart on an ACK)
 *   cancel  - cancel each armed entry
 *   expire  - arm all within 60 s, then run the event loop: sleep to
 *             tw_wheel_next(), pop everything due; ns per expired timer.
 * Entries are visited in a random order. One JSON line, ns per operation.
 *
 * usage: bench_timers [--timers 1000000] */
#include "bench_common.h"

#include "stack/stack.h"
#include "util/rng.h"
#include "util/wheel.h"

typedef struct obj {
    tw_slot pad; /* connection-sized */
} obj;

int main(int argc, char **argv) {
    bench_check_args(argc, argv, "--timers=", "usage: bench_timers [--timers 1000000]\n");
    size_t n = (size_t)bench_argf(argc, argv, "--timers", 1000000);
    obj *o = calloc(n, sizeof *o);
    uint32_t *order = malloc(sizeof *order * n);
    tw_time_t *when = malloc(sizeof *when * n);
    tw_wheel *w = malloc(sizeof *w);
    if (!o || !order || !when || !w) bench_die("out of memory");
    tw_rng g;
    tw_rng_seed(&g, 7);
    for (size_t i = 0; i < n; i++) order[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
        size_t k = (size_t)tw_rng_below(&g, i);
        uint32_t t = order[i - 1];
        order[i - 1] = order[k];
        order[k] = t;
    }
    tw_time_t now = TW_SEC(10);
    tw_wheel_init(w, now);
    for (size_t i = 0; i < n; i++) tw_wheel_entry_init(&o[i].pad.timer);

    for (size_t i = 0; i < n; i++) when[i] = now + TW_MS(200) + tw_rng_below(&g, TW_MS(800));
    double t0 = bench_wall_ns();
    for (size_t i = 0; i < n; i++) tw_wheel_arm(w, &o[order[i]].pad.timer, when[i]);
    double arm = (bench_wall_ns() - t0) / (double)n;

    for (size_t i = 0; i < n; i++) when[i] = now + TW_MS(200) + tw_rng_below(&g, TW_MS(800));
    t0 = bench_wall_ns();
    for (size_t i = 0; i < n; i++) tw_wheel_arm(w, &o[order[n - 1 - i]].pad.timer, when[i]);
    double rearm = (bench_wall_ns() - t0) / (double)n;

    t0 = bench_wall_ns();
    for (size_t i = 0; i < n; i++) tw_wheel_cancel(w, &o[order[i]].pad.timer);
    double cancel = (bench_wall_ns() - t0) / (double)n;
    if (tw_wheel_count(w) != 0) bench_die("wheel not empty");

    for (size_t i = 0; i < n; i++)
        tw_wheel_arm(w, &o[order[i]].pad.timer, now + 1 + tw_rng_below(&g, TW_SEC(60)));
    size_t pops = 0, wakeups = 0;
    t0 = bench_wall_ns();
    for (;;) {
        tw_time_t t = tw_wheel_next(w);
        if (t == TW_TIME_NEVER) break;
        wakeups++;
        while (tw_wheel_pop_due(w, t)) pops++;
    }
    double expire = (bench_wall_ns() - t0) / (double)pops;
    if (pops != n) bench_die("expired %zu of %zu", pops, n);

    bench_json j;
    bj_begin(&j, "timers", "tcpwave");
    bj_num(&j, "timers", (double)n);
    bj_num(&j, "arm_ns", arm);
    bj_num(&j, "rearm_ns", rearm);
    bj_num(&j, "cancel_ns", cancel);
    bj_num(&j, "expire_ns", expire);
    bj_num(&j, "wakeups", (double)wakeups);
    bj_num(&j, "object_bytes", (double)sizeof(obj));
    bj_end(&j);
    free(o);
    free(order);
    free(when);
    free(w);
    return 0;
}
