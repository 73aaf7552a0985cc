/* test_cubic.c - CUBIC congestion control (RFC 9438, cc_cubic.c): the cut
 * to beta = 0.7 with W_max and fast convergence, the cubic window curve in
 * congestion avoidance (concave up to W_max, reached at K, convex beyond),
 * the Reno-friendly region, and NewReno's recovery kept. The window is
 * driven through the congestion-control operations of a real connection,
 * with exact times, plus one fast retransmit on the wire. */
#include "fixture.h"
#include "tcp/tcp_cc.h"

static double dabs(double x) {
    return x < 0 ? -x : x;
}

/* An ESTABLISHED connection with CUBIC, delayed ACKs off. */
static tw_tcp_conn *cubic_conn(void) {
    fx_opts o = fx_defaults();
    o.cfg.cc = TW_TCP_CC_CUBIC;
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_established();
    ASSERT_TRUE(F.c.cc == &tw_cc_cubic);
    return &F.c;
}

/* One RTT of congestion avoidance from `t`: a cwnd's worth of ACKs, one per
 * SMSS, spread evenly over `rtt`. Returns the time after it. */
static tw_time_t one_rtt(tw_tcp_conn *c, tw_time_t t, tw_time_t rtt) {
    uint32_t n = c->cwnd / c->smss;
    for (uint32_t i = 0; i < n; i++) c->cc->ack(c, c->smss, c->cwnd, t + rtt * (i + 1) / n);
    return t + rtt;
}

/* The state just after a congestion event at cwnd = w segments. */
static void cut_at(tw_tcp_conn *c, uint32_t w) {
    c->cwnd = w * c->smss;
    c->ssthresh = c->cc->cut(c, c->cwnd);
    c->cwnd = c->ssthresh;
    c->ccf = 0;
}

TEST(cubic_cut_is_beta_with_fast_convergence) {
    tw_tcp_conn *c = cubic_conn();
    uint32_t m = c->smss;
    c->cwnd = 100 * m;
    ASSERT_EQ(c->cc->cut(c, c->cwnd), 70 * m); /* beta_cubic 0.7, not 0.5 */
    ASSERT_EQ(c->cubic.w_max, 100 * m);
    /* A second event below the previous W_max: W_max = cwnd (1 + 0.7) / 2. */
    c->cwnd = 80 * m;
    ASSERT_EQ(c->cc->cut(c, c->cwnd), 56 * m);
    ASSERT_EQ(c->cubic.w_max, 68 * m);
    /* Never below two segments. */
    c->cwnd = 2 * m;
    ASSERT_EQ(c->cc->cut(c, c->cwnd), 2 * m);
}

TEST(cubic_window_concave_to_w_max_at_k_then_convex) {
    tw_tcp_conn *c = cubic_conn();
    uint32_t m = c->smss;
    tw_time_t rtt = TW_MS(100);
    c->srtt = rtt;
    cut_at(c, 100); /* W_max 100 segments, cwnd 70: K = cbrt(30 / 0.4) = 4.217 s */
    tw_time_t t = TW_SEC(10);
    double k = 4.2171633265; /* cbrt(30 / 0.4), written out: no libm here */
    double w[80];
    for (int i = 0; i < 80; i++) {
        t = one_rtt(c, t, rtt);
        w[i] = (double)c->cwnd / m;
    }
    ASSERT_U64_EQ(c->cubic.k / TW_MS(1), (uint64_t)(k * 1000));
    /* At K (42 RTTs in, the target one RTT ahead) the window is back at
     * W_max, within 2%. */
    int ik = (int)(k * 10) - 1;
    ASSERT_FCMP(dabs(w[ik] - 100.0), <, 2.0);
    /* Concave before K: growth slows as W_max nears; a plateau around K;
     * convex after it: growth speeds up again. */
    double early = w[1] - w[0], mid = w[21] - w[20], near_k = w[ik + 1] - w[ik - 1];
    double after = w[60] - w[59], late = w[79] - w[78];
    ASSERT_FCMP(early, >, 1.5);
    ASSERT_FCMP(mid, <, early);
    ASSERT_FCMP(near_k, <, 0.2);
    ASSERT_FCMP(after, >, near_k);
    ASSERT_FCMP(late, >, after);
    for (int i = 1; i < 80; i++) ASSERT_FCMP(w[i], >=, w[i - 1]);
    /* W_cubic(t), RTT by RTT, within two segments (cwnd moves towards the
     * target during the RTT, so it trails the curve where it is steep). */
    for (int i = 5; i < 80; i += 5) {
        double ts = (i + 1) * 0.1 + 0.1 - k; /* the target is one RTT ahead */
        double want = 0.4 * ts * ts * ts + 100.0;
        if (want > w[i - 1] * 1.5) continue;
        ASSERT_FCMP(dabs(w[i] - want), <, 2.0);
    }
}

TEST(cubic_reno_friendly_region_at_a_short_rtt) {
    /* RTT 1 ms, W_max 20 segments: the cubic curve would take K = 2.47 s,
     * 2,470 RTTs, to climb back, where Reno adds alpha = 3 (1 - 0.7) / (1 +
     * 0.7) = 0.53 segment per RTT: CUBIC follows that estimate (§4.3). */
    tw_tcp_conn *c = cubic_conn();
    uint32_t m = c->smss;
    tw_time_t rtt = TW_MS(1);
    c->srtt = rtt;
    cut_at(c, 20); /* cwnd 14 segments */
    tw_time_t t = TW_SEC(10);
    for (int i = 0; i < 100; i++) t = one_rtt(c, t, rtt);
    double w = (double)c->cwnd / m, alpha = 3.0 * 0.3 / 1.7;
    ASSERT_FCMP(dabs(w - (14.0 + 100 * alpha)), <, 4.0);
}

TEST(cubic_epoch_restarts_after_a_cut_and_an_rto) {
    tw_tcp_conn *c = cubic_conn();
    c->srtt = TW_MS(50);
    cut_at(c, 50);
    one_rtt(c, TW_SEC(1), TW_MS(50));
    ASSERT_U64_EQ(c->cubic.epoch, TW_SEC(1) + TW_MS(50) / (c->ssthresh / c->smss));
    cut_at(c, 60);
    ASSERT_U64_EQ(c->cubic.epoch, TW_TIME_NEVER);
    one_rtt(c, TW_SEC(2), TW_MS(50));
    ASSERT_CMP(c->cubic.epoch, >, TW_SEC(2));
    c->cc->rto(c, true);
    ASSERT_U64_EQ(c->cubic.epoch, TW_TIME_NEVER);
    ASSERT_EQ(c->cwnd, c->smss);
}

TEST(cubic_slow_start_and_fast_retransmit_on_the_wire) {
    /* Slow start is NewReno's; the third duplicate ACK cuts to 0.7 cwnd
     * (NewReno: 0.5) and retransmits, as NewReno does. */
    tw_tcp_conn *c = cubic_conn();
    uint32_t m = c->smss, q = FX_ISS + 1;
    ASSERT_EQ(c->cwnd, 10 * m);
    user_send(q, 10 * m);
    run_output();
    expect_segs(10);
    send_seg(ACK, FX_PEER_ISS + 1, q + m, NULL, 0, FX_WND);
    ASSERT_EQ(c->cwnd, 11 * m); /* slow start: + min(acked, SMSS) */
    for (int i = 0; i < 3; i++) send_seg(ACK, FX_PEER_ISS + 1, q + m, NULL, 0, FX_WND);
    ASSERT_EQ(c->ssthresh, (uint32_t)(11 * m * 0.7));
    ASSERT_EQ(c->cubic.w_max, 11 * m);
    ASSERT_EQ(F.out[0].seq, q + m); /* the fast retransmit */
    ASSERT_U64_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1);
}

TEST_MAIN()
