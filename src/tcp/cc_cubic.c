/* cc_cubic.c - CUBIC congestion control (RFC 9438; RFC 9293 MAY-18).
 *
 * CUBIC keeps NewReno's slow start, fast retransmit and recovery (NewReno's
 * or RFC 6675's), RTO and idle restart: those operations are NewReno's
 * (cc_newreno.c), which take the new ssthresh from `cut`. It changes two
 * things:
 *  - the cut (§4.6, §4.7): ssthresh = cwnd * beta_cubic (0.7), and the window
 *    before the event is remembered as W_max, lowered to cwnd * (1 +
 *    beta_cubic) / 2 when a second event comes below the previous W_max (fast
 *    convergence), so a newcomer can take its share;
 *  - congestion avoidance (§4.2-§4.5): from the first ACK after a cut (the
 *    epoch), the window follows W_cubic(t) = C (t - K)^3 + W_max, with C =
 *    0.4 segments/s^3 and K the time to climb back to W_max: concave below
 *    W_max, a plateau at it, convex above it. Each ACK moves cwnd towards
 *    W_cubic(t + RTT), by at most half a window per RTT. Where NewReno would
 *    be faster (short RTTs, small windows), the Reno-friendly estimate
 *    W_est, grown by alpha_cubic = 3 (1 - beta) / (1 + beta) segments per
 *    window acknowledged, is taken instead (§4.3).
 * Windows are bytes here (W in segments times SMSS); times are ns, seconds
 * in the cubic function. The arithmetic is double: no libm (the cube root is
 * Newton's), so the layer stays libc-only. */
#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"

#define CUBIC_C 0.4    /* segments / s^3 (§5.1) */
#define CUBIC_BETA 0.7 /* multiplicative decrease (§4.6) */
#define CUBIC_ALPHA (3.0 * (1.0 - CUBIC_BETA) / (1.0 + CUBIC_BETA))
#define NS_PER_S 1e9
#define CWND_CAP (1u << 30)

/* Cube root of x >= 0 by Newton's method, from a power-of-two start. */
static double cbrt_pos(double x) {
    if (x <= 0) return 0;
    double r = 1;
    while (r * r * r < x) r *= 2;
    for (int i = 0; i < 100; i++) {
        double next = (2 * r + x / (r * r)) / 3;
        if (next >= r) break; /* from above, Newton decreases until it settles */
        r = next;
    }
    return r;
}

static void cubic_init(tw_tcp_conn *c) {
    tw__cc_reno_init(c);
    c->cubic.w_max = 0;
    c->cubic.epoch = TW_TIME_NEVER;
    c->cubic.k = 0;
    c->cubic.cwnd_epoch = c->cwnd;
    c->cubic.w_est = 0;
}

/* §4.6, §4.7: W_max with fast convergence, a new epoch at the next ACK in
 * congestion avoidance, ssthresh = cwnd * beta (at least two segments). */
static uint32_t cubic_cut(tw_tcp_conn *c, uint32_t flight) {
    (void)flight; /* RFC 9438 §4.6 cuts from cwnd, as Linux does */
    uint32_t w = c->cwnd;
    if (c->cubic.w_max && w < c->cubic.w_max)
        c->cubic.w_max = (uint32_t)((double)w * (1.0 + CUBIC_BETA) / 2.0);
    else
        c->cubic.w_max = w;
    c->cubic.epoch = TW_TIME_NEVER;
    uint32_t ss = (uint32_t)((double)w * CUBIC_BETA), two = 2u * c->smss;
    return ss > two ? ss : two;
}

/* W_cubic(t) in bytes, t in ns from the epoch (§4.2). */
static double w_cubic(const tw_tcp_conn *c, tw_time_t t) {
    double d = ((double)t - (double)c->cubic.k) / NS_PER_S;
    return CUBIC_C * d * d * d * (double)c->smss + (double)c->cubic.w_max;
}

static void start_epoch(tw_tcp_conn *c, tw_time_t now) {
    c->cubic.epoch = now;
    c->cubic.cwnd_epoch = c->cwnd;
    c->cubic.w_est = (double)c->cwnd;
    if (c->cubic.w_max <= c->cwnd) { /* above the last maximum: convex at once */
        c->cubic.w_max = c->cwnd;
        c->cubic.k = 0;
        return;
    }
    double segs = (double)(c->cubic.w_max - c->cwnd) / (double)c->smss;
    c->cubic.k = (tw_time_t)(cbrt_pos(segs / CUBIC_C) * NS_PER_S); /* §4.2 eq. 2 */
}

static void cubic_ack(tw_tcp_conn *c, uint32_t acked, uint32_t flight, tw_time_t now) {
    if ((c->ccf & TW_CCF_RECOVERY) || c->cwnd < c->ssthresh) {
        /* Recovery and slow start are NewReno's (§4.8, §4.10). */
        tw__cc_reno_ack(c, acked, flight, now);
        return;
    }
    c->dupacks = 0;
    if (c->cubic.epoch == TW_TIME_NEVER || now < c->cubic.epoch) start_epoch(c, now);
    tw_time_t t = now - c->cubic.epoch;
    double cwnd = (double)c->cwnd;
    /* §4.3: the Reno-friendly estimate, alpha segments per window acked. */
    c->cubic.w_est += CUBIC_ALPHA * (double)c->smss * (double)acked / cwnd;
    double next;
    if (w_cubic(c, t) < c->cubic.w_est) {
        next = c->cubic.w_est; /* Reno-friendly region */
    } else {
        /* §4.4, §4.5: towards W_cubic one RTT ahead, at most 1.5 cwnd. */
        double target = w_cubic(c, t + c->srtt);
        if (target < cwnd) target = cwnd;
        if (target > 1.5 * cwnd) target = 1.5 * cwnd;
        next = cwnd + (target - cwnd) * (double)acked / cwnd;
    }
    if (next > (double)CWND_CAP) next = CWND_CAP;
    if (next > cwnd) c->cwnd = (uint32_t)next;
}

/* §4.8: after an RTO, ssthresh was cut (the first time); the epoch starts
 * over with the next congestion avoidance. */
static void cubic_rto(tw_tcp_conn *c, bool first) {
    tw__cc_reno_rto(c, first);
    c->cubic.epoch = TW_TIME_NEVER;
}

/* §4.2 (and RFC 5681 §4.1): after idle the window restarts and so does the
 * epoch, or the time spent idle would count as growth. */
static void cubic_idle(tw_tcp_conn *c) {
    tw__cc_reno_idle(c);
    c->cubic.epoch = TW_TIME_NEVER;
}

const tw_tcp_cc_ops tw_cc_cubic = {
    "cubic",
    cubic_init,
    cubic_ack,
    tw__cc_reno_dupack,
    cubic_rto,
    cubic_idle,
    tw__cc_reno_sack_recovery,
    tw__cc_reno_ecn,
    cubic_cut,
};
