/* test_hystart.c - HyStart++ (RFC 9406, cc_hystart.c): slow start goes on
 * while the RTT holds, leaves for Conservative Slow Start when a round's
 * minimum RTT grows by RttThresh, resumes slow start when the RTT falls back,
 * ends in congestion avoidance after CSS_ROUNDS, and is off after a
 * congestion event or when disabled. Driven through the congestion-control
 * operations of a real connection, with RTT samples as timestamps give
 * them (one per ACK). */
#include "fixture.h"
#include "tcp/tcp_cc.h"

/* ESTABLISHED, cwnd at 16 segments: HyStart++ watches (past 10). */
static tw_tcp_conn *conn(bool hystart) {
    fx_opts o = fx_defaults();
    o.cfg.hystart = hystart;
    fx_next(&o);
    conn_established();
    F.c.cwnd = 16 * F.c.smss;
    return &F.c;
}

/* One round: the window in flight (cwnd) is acknowledged one SMSS per ACK,
 * each ACK with an RTT sample of `rtt`; new data follows at once. Returns
 * the cwnd growth over the round, in segments. */
static uint32_t round_of(tw_tcp_conn *c, tw_time_t rtt) {
    uint32_t before = c->cwnd, n = c->cwnd / c->smss;
    c->snd_nxt = c->snd_max = tw_seq_add(c->snd_una, c->cwnd);
    for (uint32_t i = 0; i < n; i++) {
        c->snd_una = tw_seq_add(c->snd_una, c->smss);
        c->hs_rtt = rtt;
        c->cc->ack(c, c->smss, c->cwnd, 0);
        if (tw_seq_gt(c->snd_una, c->snd_nxt)) c->snd_nxt = c->snd_max = c->snd_una;
    }
    return (c->cwnd - before) / c->smss;
}

TEST(hystart_slow_start_goes_on_while_the_rtt_holds) {
    tw_tcp_conn *c = conn(true);
    ASSERT_EQ(c->hs.phase, TW_HS_SLOW_START);
    for (int r = 0; r < 4; r++) ASSERT_EQ(round_of(c, TW_MS(50)) >= 15, true); /* doubling */
    ASSERT_EQ(c->hs.phase, TW_HS_SLOW_START);
    ASSERT_U64_EQ(F.counters[TW_C_HYSTART_EXIT], 0);
    ASSERT_U64_EQ(c->ssthresh, TW_CC_SSTHRESH_INF);
}

TEST(hystart_rtt_growth_enters_css_then_congestion_avoidance) {
    tw_tcp_conn *c = conn(true);
    round_of(c, TW_MS(50));
    round_of(c, TW_MS(50));
    /* RttThresh = clamp(50 / 8, 4, 16) = 6.25 ms: 56 ms is not enough... */
    round_of(c, TW_MS(56));
    ASSERT_EQ(c->hs.phase, TW_HS_SLOW_START);
    /* ...63 ms is, against the last round's 56 ms minimum (56 + 56 / 8 = 63). */
    round_of(c, TW_MS(63));
    ASSERT_EQ(c->hs.phase, TW_HS_CSS);
    ASSERT_U64_EQ(F.counters[TW_C_HYSTART_EXIT], 1);
    ASSERT_U64_EQ(c->hs.css_baseline, TW_MS(63));
    /* CSS: a quarter of slow start's growth, for CSS_ROUNDS = 5 rounds. */
    uint32_t w = c->cwnd / c->smss, g = round_of(c, TW_MS(64));
    ASSERT_EQ(g, w / 4);
    for (int r = 0; r < 3; r++) round_of(c, TW_MS(64));
    ASSERT_EQ(c->hs.phase, TW_HS_CSS);
    ASSERT_U64_EQ(c->ssthresh, TW_CC_SSTHRESH_INF);
    round_of(c, TW_MS(64));
    ASSERT_EQ(c->hs.phase, TW_HS_OFF);
    ASSERT_EQ(c->ssthresh, c->cwnd); /* congestion avoidance from here */
}

TEST(hystart_css_resumes_slow_start_when_the_rtt_falls_back) {
    tw_tcp_conn *c = conn(true);
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(30)); /* +10 ms >= 4 ms: CSS, baseline 30 ms */
    ASSERT_EQ(c->hs.phase, TW_HS_CSS);
    round_of(c, TW_MS(25)); /* below the baseline: the exit was jitter */
    ASSERT_EQ(c->hs.phase, TW_HS_SLOW_START);
    ASSERT_U64_EQ(c->hs.css_baseline, 0);
    uint32_t w = c->cwnd / c->smss;
    ASSERT_EQ(round_of(c, TW_MS(25)) >= w - 1, true); /* doubling again */
}

TEST(hystart_watches_past_the_initial_window) {
    /* Up to 10 segments nothing is sampled: a grown RTT there ends nothing. */
    tw_tcp_conn *c = conn(true);
    c->cwnd = 2 * c->smss;
    round_of(c, TW_MS(20)); /* 2 -> 4 segments */
    round_of(c, TW_MS(20)); /* 4 -> 8 */
    c->cwnd = 5 * c->smss;
    round_of(c, TW_MS(90)); /* 5 -> 10 */
    ASSERT_EQ(c->hs.samples, 0);
    ASSERT_EQ(c->hs.phase, TW_HS_SLOW_START);
    ASSERT_EQ(c->cwnd, 10 * c->smss);
    round_of(c, TW_MS(90)); /* 10 -> 20: watched from the second ACK */
    ASSERT_EQ(c->hs.samples, 9);
}

TEST(hystart_off_after_a_congestion_event_and_when_disabled) {
    tw_tcp_conn *c = conn(true);
    round_of(c, TW_MS(20));
    c->cc->rto(c, true);
    ASSERT_EQ(c->hs.phase, TW_HS_OFF);
    /* The slow start after the RTO is RFC 5681's: no exit on RTT growth,
     * even with a window HyStart++ would watch. */
    c->cwnd = 16 * c->smss;
    c->ssthresh = TW_CC_SSTHRESH_INF;
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(60));
    ASSERT_U64_EQ(F.counters[TW_C_HYSTART_EXIT], 0);
    c = conn(false);
    ASSERT_EQ(c->hs.phase, TW_HS_OFF);
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(20));
    round_of(c, TW_MS(60));
    ASSERT_U64_EQ(F.counters[TW_C_HYSTART_EXIT], 0);
    ASSERT_U64_EQ(c->ssthresh, TW_CC_SSTHRESH_INF);
}

TEST_MAIN()
