/* test_keepalive.c - keep-alives (RFC 9293 §3.8.4, MUST-24..29, SHLD-12;
 * RFC 1122 §4.2.3.6) and the user timeout (RFC 9293 §3.10.8, RFC 5482) at
 * exact virtual times. We are at SND.NXT 1001, the peer at RCV.NXT 5001. */
#include "fixture.h"

/* Turns keep-alives on with the given idle time, interval and count. */
static void keep_on(tw_time_t idle, tw_time_t intvl, uint8_t cnt) {
    tw_tcp_set_keepalive(&F.c, true, idle, intvl, cnt, F.now);
}

static void expect_probe(int i, uint32_t seq, uint32_t ack) {
    expect_seg(i, ACK, seq, ack, 0);
    ASSERT_TRUE(F.out[i].meta & TW_SEGMETA_KEEPALIVE);
}

/* ---------------------------------------------------------------- keep-alive */

TEST(keepalive_off_by_default) {
    conn_established(); /* MUST-25 */
    ASSERT_FALSE(F.c.uflags & TW_UF_KEEPALIVE);
    expect_deadline_in(TW_TIME_NEVER);
    advance(TW_SEC(3 * 3600));
    expect_silence();
    expect_state(TW_ESTABLISHED);
}

TEST(keepalive_defaults_two_hours_75s_9) {
    conn_established();
    keep_on(0, 0, 0);
    ASSERT_U64_EQ(F.c.ka_idle, TW_SEC(7200)); /* MUST-28: at least two hours */
    ASSERT_U64_EQ(F.c.ka_intvl, TW_SEC(75));
    ASSERT_EQ(F.c.ka_cnt, 9);
    expect_deadline_in(TW_SEC(7200));
    advance(TW_SEC(7200) - 1);
    expect_silence(); /* MUST-26: not before the idle time */
    advance(1);
    expect_segs(1);
    expect_probe(0, 1000, 5001); /* SEQ = SND.NXT - 1, no data (SHLD-12) */
    expect_timers("keepalive");
    ASSERT_EQ(F.counters[TW_C_KEEPALIVE_PROBE], 1);
    expect_deadline_in(TW_SEC(75));
}

TEST(keepalive_answer_restarts_idle_time) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(10));
    expect_probe(0, 1000, 5001);
    advance(FX_RTT);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND); /* the peer's answer */
    expect_silence();
    ASSERT_EQ(F.c.ka_probes, 0);
    expect_deadline_in(TW_SEC(10));
    expect_state(TW_ESTABLISHED);
}

TEST(keepalive_gives_up_after_count_unanswered) {
    conn_established();
    tw_time_t t0 = F.now;
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(10));
    expect_probe(0, 1000, 5001);
    advance(TW_SEC(1));
    expect_probe(0, 1000, 5001);
    advance(TW_SEC(1));
    expect_probe(0, 1000, 5001);
    ASSERT_EQ(F.counters[TW_C_KEEPALIVE_PROBE], 3);
    advance(TW_SEC(1) - 1);
    expect_state(TW_ESTABLISHED);
    advance(1);
    expect_silence(); /* given up: no RST, as for R2 */
    expect_states("CLOSED:TIMEOUT_KEEPALIVE");
    ASSERT_U64_EQ(F.now, t0 + TW_SEC(13));
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_KEEPALIVE_TIMEDOUT");
    expect_timers("keepalive,keepalive,keepalive,keepalive");
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_ETIMEDOUT);
}

TEST(keepalive_lost_probe_is_not_a_dead_peer) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(12)); /* probes at 10 s and 11 s lost, the third at 12 s */
    ASSERT_EQ(F.c.ka_probes, 3);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND); /* MUST-29: answered */
    advance(TW_SEC(10) - 1);
    expect_silence();
    advance(1);
    expect_segs(1);
    expect_probe(0, 1000, 5001);
    expect_state(TW_ESTABLISHED);
}

TEST(keepalive_any_segment_restarts_idle_time) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(6));
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND);
    expect_deadline_in(TW_MS(200)); /* the delayed ACK */
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 5011, 0);
    advance(TW_SEC(10) - TW_MS(200) - 1);
    expect_silence();
    advance(1);
    expect_probe(0, 1000, 5011);
}

TEST(keepalive_not_while_data_outstanding) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    user_send(1001, 10);
    run_output();
    advance(TW_SEC(20)); /* RTO at 1, 3, 7, 15 s: retransmissions only */
    expect_segs(4);
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(F.out[i].meta & TW_SEGMETA_RETRANS);
        ASSERT_FALSE(F.out[i].meta & TW_SEGMETA_KEEPALIVE);
    }
    /* The keep-alive timer expired at 10 s and 20 s, found data outstanding
     * and waited again. */
    expect_timers("retransmit,retransmit,retransmit,keepalive,retransmit,keepalive");
    ASSERT_EQ(F.counters[TW_C_KEEPALIVE_PROBE], 0);
    /* Everything acknowledged: the idle time counts from the ACK. */
    send_seg(ACK, 5001, 1011, NULL, 0, FX_WND);
    expect_deadline_in(TW_SEC(10));
}

TEST(keepalive_in_fin_wait_2) {
    conn_fin_wait_2();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(10));
    expect_segs(1);
    expect_probe(0, 1001, 5001); /* SND.NXT 1002 after our FIN */
}

TEST(keepalive_off_again_cancels) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    expect_deadline_in(TW_SEC(10));
    tw_tcp_set_keepalive(&F.c, false, 0, 0, 0, F.now);
    expect_deadline_in(TW_TIME_NEVER);
    advance(TW_SEC(100));
    expect_silence();
}

TEST(keepalive_on_from_cfg) {
    fx_opts o = fx_defaults();
    o.cfg.keepalive = true;
    o.cfg.keepidle = TW_SEC(30);
    fx_next(&o);
    conn_established();
    expect_deadline_in(TW_SEC(30));
}

TEST(keepalive_probe_from_peer_answered) {
    /* The other side of the mechanism: a probe below our window is an
     * unacceptable segment, answered with an ACK (RFC 9293 §3.10.7.4). */
    conn_established();
    tw_tcp_result r = send_seg(ACK, 5000, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    /* With the optional garbage octet (MAY-6) too. */
    r = send_data(ACK, 5000, 1001, 1, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

TEST(keepalive_probe_leaves_delayed_ack_owed) {
    conn_established();
    keep_on(TW_SEC(10), TW_SEC(1), 3);
    advance(TW_SEC(10) - TW_MS(100));
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND); /* the delayed ACK is due at +200 ms */
    F.c.t_keep = F.now;                           /* force a probe now */
    F.c.ka_probes = 0;
    advance(0);
    expect_probe(0, 1000, 5011);
    ASSERT_TRUE(F.c.flags & TW_TF_DELACK); /* still owed: the probe settles nothing */
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 5011, 0);
    ASSERT_FALSE(F.out[0].meta & TW_SEGMETA_KEEPALIVE);
}

/* ---------------------------------------------------------------- user timeout */

TEST(user_timeout_aborts_unacknowledged_data) {
    conn_established();
    tw_tcp_set_user_timeout(&F.c, TW_SEC(5), F.now);
    expect_deadline_in(TW_TIME_NEVER); /* nothing outstanding */
    tw_time_t t0 = F.now;
    user_send(1001, 10);
    run_output();
    expect_deadline_in(TW_SEC(1)); /* the RTO; the user timeout at 5 s */
    ASSERT_U64_EQ(F.c.t_user, t0 + TW_SEC(5));
    advance(TW_SEC(5) - 1);
    expect_state(TW_ESTABLISHED);
    advance(1);
    expect_silence();
    expect_states("CLOSED:TIMEOUT_USER");
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_USER_TIMEDOUT");
    expect_timers("retransmit,retransmit,user_timeout"); /* RTOs at 1 s and 3 s */
}

TEST(user_timeout_restarts_on_progress) {
    conn_established();
    F.c.flags |= TW_TF_NODELAY;
    tw_tcp_set_user_timeout(&F.c, TW_SEC(5), F.now);
    user_send(1001, 10);
    run_output();
    advance(TW_SEC(4));
    user_send(1011, 10);
    run_output();
    send_seg(ACK, 5001, 1011, NULL, 0, FX_WND); /* the first 10 bytes: progress */
    tw_time_t t1 = F.now;
    ASSERT_U64_EQ(F.c.t_user, t1 + TW_SEC(5));
    send_seg(ACK, 5001, 1021, NULL, 0, FX_WND); /* all of it */
    ASSERT_U64_EQ(F.c.t_user, TW_TIME_NEVER);
    expect_deadline_in(TW_TIME_NEVER);
    advance(TW_SEC(60));
    expect_state(TW_ESTABLISHED);
}

TEST(user_timeout_bounds_the_handshake) {
    conn_syn_sent();
    tw_tcp_set_user_timeout(&F.c, TW_MS(2500), F.now); /* the SYN is outstanding */
    advance(TW_MS(2500));
    expect_segs(1); /* the SYN again at 1 s, nothing at 2.5 s */
    expect_states("CLOSED:TIMEOUT_USER");
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
}

TEST(user_timeout_from_cfg_and_zero_window) {
    fx_opts o = fx_defaults();
    o.cfg.user_timeout = TW_SEC(30);
    o.peer_wnd = 0;
    fx_next(&o);
    conn_established();
    user_send(1001, 10);
    run_output();
    expect_silence(); /* zero window: the persist timer probes, first after 1 s */
    advance(TW_SEC(31) - 1);
    ASSERT_TRUE(F.counters[TW_C_PERSIST_PROBE] >= 3);
    expect_state(TW_ESTABLISHED);
    advance(1); /* the probed byte unacknowledged for 30 s: the user's bound */
    expect_states("CLOSED:TIMEOUT_USER");
}

TEST_MAIN()
