/* test_timers.c - TIMEOUTS (RFC 9293 §3.10.8) at exact virtual times:
 * retransmission with RFC 6298 backoff for SYN, data and FIN; give-up after
 * the retry limits; RTT samples (RFC 6298 §2, Karn); delayed ACK (§3.8.6.3);
 * zero-window probes (§3.8.6.1); the orphaned FIN_WAIT_2 timeout; 2MSL. */
#include "fixture.h"

/* Advances to t0 + at and expects exactly one segment emitted at that time. */
static void expect_one_at(tw_time_t t0, tw_time_t at) {
    advance(t0 + at - F.now);
    expect_segs(1);
    ASSERT_U64_EQ(F.out[0].t, t0 + at);
}

/* ---------------------------------------------------------------- RTO */

TEST(timers_syn_backoff_doubles_capped_then_gives_up) {
    conn_syn_sent();
    /* gaps 1, 2, 4, 8, 16, 32 s, then 60 s (64 capped) twice: a SYN is sent
     * for more than 3 minutes (RFC 9293 MUST-23) */
    static const unsigned at[] = {1, 3, 7, 15, 31, 63, 123, 183};
    for (unsigned i = 0; i < 8; i++) {
        advance(TW_SEC(at[i]) - F.now - 1);
        expect_silence();
        expect_one_at(0, TW_SEC(at[i]));
        expect_seg(0, SYN, 1000, 0, 0);
        ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    }
    /* Retry limit (syn_retries = 8) reached; the last wait is 60 s again. */
    advance(TW_SEC(60) - 1);
    expect_state(TW_SYN_SENT);
    advance(1);
    expect_silence(); /* no RST: the peer never answered */
    expect_states("CLOSED:TIMEOUT_RETRANSMIT");
    ASSERT_U64_EQ(F.now, TW_SEC(243));
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_TIMEDOUT");
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 9);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 8);
    expect_timers("retransmit,retransmit,retransmit,retransmit,retransmit,retransmit,retransmit,"
                  "retransmit,retransmit");
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_ETIMEDOUT);
}

TEST(timers_syn_retries_and_rto_max_from_cfg) {
    fx_opts o = fx_defaults();
    o.cfg.syn_retries = 3;
    o.cfg.rto_max = TW_SEC(5);
    fx_next(&o);
    conn_syn_sent();
    expect_one_at(0, TW_SEC(1));
    expect_one_at(0, TW_SEC(3));
    expect_one_at(0, TW_SEC(7));
    expect_deadline_in(TW_SEC(5)); /* 8 s capped at rto_max */
    advance(TW_SEC(5));
    expect_silence();
    expect_states("CLOSED:TIMEOUT_RETRANSMIT");
}

TEST(timers_data_backoff_capped_then_gives_up) {
    conn_established();
    tw_time_t t0 = F.now;
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    tw_time_t at = 0, gap = TW_SEC(1);
    for (int i = 0; i < 15; i++) { /* data_retries = 15 */
        at += gap;
        advance(t0 + at - F.now - 1);
        expect_silence();
        expect_one_at(t0, at);
        expect_seg(0, ACK | PSH, 1001, 5001, 100);
        expect_payload(0);
        ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
        gap = gap * 2 > TW_SEC(60) ? TW_SEC(60) : gap * 2;
    }
    ASSERT_U64_EQ(at, TW_SEC(603)); /* 1+2+4+8+16+32 + 9*60 */
    advance(TW_SEC(60) - 1);
    expect_state(TW_ESTABLISHED);
    advance(1);
    expect_silence();
    expect_states("CLOSED:TIMEOUT_RETRANSMIT");
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_TIMEDOUT");
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_ETIMEDOUT);
}

TEST(timers_fin_backoff_then_ack) {
    conn_fin_wait_1();
    tw_time_t t0 = F.now;
    static const unsigned at[] = {1, 3, 7, 15};
    for (unsigned i = 0; i < 4; i++) {
        expect_one_at(t0, TW_SEC(at[i]));
        expect_seg(0, FIN | ACK, 1001, 5001, 0);
    }
    expect_deadline_in(TW_SEC(16));
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_silence();
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(timers_ack_of_new_data_restarts_rto) {
    conn_established();
    F.c.flags |= TW_TF_NODELAY; /* what tw_set_nodelay() does */
    tw_time_t t0 = F.now;
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    advance(TW_MS(500));
    user_send(1101, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1101, 5001, 100);
    ASSERT_U64_EQ(tw_tcp_next_deadline(&F.c), t0 + TW_SEC(1)); /* not restarted by a send */
    advance(TW_MS(300));
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND); /* RFC 6298 §5.3: restart */
    expect_silence();
    expect_deadline_in(TW_SEC(1));
    advance(TW_SEC(1));
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 100);
}

TEST(timers_rtt_samples_set_rto_rfc6298) {
    fx_opts o = fx_defaults();
    o.cfg.rto_min = TW_MS(10);
    fx_next(&o);
    conn_established();
    /* Handshake sample R = 10 ms: SRTT 10, RTTVAR 5, RTO = 10 + 4*5 = 30 ms. */
    ASSERT_U64_EQ(F.c.srtt, TW_MS(10));
    ASSERT_U64_EQ(F.c.rttvar, TW_MS(5));
    user_send(1001, 100);
    run_output();
    expect_deadline_in(TW_MS(30));
    advance(TW_MS(20));
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    /* R = 20: RTTVAR = 3/4*5 + 1/4*|10-20| = 6.25, SRTT = 7/8*10 + 1/8*20 = 11.25,
     * RTO = 11.25 + 25 = 36.25 ms. */
    ASSERT_U64_EQ(F.c.srtt, TW_US(11250));
    ASSERT_U64_EQ(F.c.rttvar, TW_US(6250));
    ASSERT_U64_EQ(F.c.rto, TW_US(36250));
    user_send(1101, 100);
    run_output();
    expect_deadline_in(TW_US(36250));
    advance(TW_MS(30));
    send_seg(ACK, 5001, 1201, NULL, 0, FX_WND);
    /* R = 30: RTTVAR = 3/4*6.25 + 1/4*18.75 = 9.375, SRTT = 7/8*11.25 + 30/8
     * = 13.59375, RTO = 13.59375 + 37.5 = 51.09375 ms. */
    ASSERT_U64_EQ(F.c.rto, 51093750u);
    user_send(1201, 100);
    run_output();
    expect_deadline_in(51093750u);
    advance(51093750u);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1201, 5001, 100);
}

TEST(timers_rto_min_clamps_small_samples) {
    conn_established(); /* R = 10 ms would give 30 ms; rto_min is 1 s */
    ASSERT_U64_EQ(F.c.rto, TW_SEC(1));
    user_send(1001, 100);
    run_output();
    expect_deadline_in(TW_SEC(1));
}

TEST(timers_syn_retransmitted_rto_3s_after_handshake) {
    conn_syn_sent();
    advance(TW_SEC(1));
    expect_seg(0, SYN, 1000, 0, 0);
    advance(TW_MS(500));
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460); /* ambiguous: no sample (Karn) */
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_U64_EQ(F.c.srtt, 0);
    user_send(1001, 10);
    run_output();
    expect_deadline_in(TW_SEC(3)); /* RFC 6298 §5.7 */
}

TEST(timers_backoff_kept_until_valid_rtt_sample) {
    conn_established();
    tw_time_t t0 = F.now;
    user_send(1001, 100);
    run_output();
    expect_one_at(t0, TW_SEC(1));
    expect_one_at(t0, TW_SEC(3));
    /* The ACK of retransmitted data gives no RTT sample (Karn), so the
     * backed-off RTO (RFC 6298 §5.5: 4 s now) stays in force. */
    advance(TW_MS(500));
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    expect_silence();
    user_send(1101, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1101, 5001, 100);
    expect_deadline_in(TW_SEC(4));
    /* A sample from the new segment (R = 400 ms) recomputes the RTO. */
    advance(TW_MS(400));
    send_seg(ACK, 5001, 1201, NULL, 0, FX_WND);
    user_send(1201, 100);
    run_output();
    expect_deadline_in(TW_SEC(1));
}

/* ---------------------------------------------------------------- delayed ACK */

TEST(timers_delack_fires_at_exactly_200ms) {
    conn_established();
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_silence();
    expect_deadline_in(TW_MS(200));
    advance(TW_MS(200) - 1);
    expect_silence();
    advance(1);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5101, 0);
    expect_timers("delack");
    ASSERT_EQ(F.counters[TW_C_DELACK_SENT], 1);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(timers_delack_counts_from_first_unacked_segment) {
    conn_established();
    tw_time_t t0 = F.now;
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    advance(TW_MS(150));
    send_data(ACK | PSH, 5101, 1001, 100, FX_WND);
    expect_silence();
    advance(t0 + TW_MS(200) - F.now);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5201, 0);
    ASSERT_U64_EQ(F.out[0].t, t0 + TW_MS(200));
}

TEST(timers_delack_second_full_segment_acked_at_once) {
    conn_established();
    send_data(ACK, 5001, 1001, 1460, FX_WND);
    expect_silence();
    advance(TW_MS(50));
    send_data(ACK, 6461, 1001, 1460, FX_WND); /* 2 * SND.MSS unacknowledged */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 7921, 0);
    expect_deadline_in(TW_TIME_NEVER);
    send_data(ACK, 7921, 1001, 1460, FX_WND); /* counting starts again */
    expect_silence();
    expect_deadline_in(TW_MS(200));
    expect_recv(5001, 3 * 1460);
}

TEST(timers_delack_disabled_acks_every_segment) {
    fx_opts o = fx_defaults();
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_established();
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5101, 0);
    expect_deadline_in(TW_TIME_NEVER);
}

/* ---------------------------------------------------------------- persist */

/* ESTABLISHED; 100 bytes sent and ACKed with a zero window; 50 more queued. */
static void zero_window(void) {
    conn_established();
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    advance(FX_RTT);
    send_seg(ACK, 5001, 1101, NULL, 0, 0);
    expect_silence();
    ASSERT_EQ(user_send(1101, 50), 50);
    ASSERT_EQ(run_output(), 0);
    fx_settle();
}

TEST(timers_persist_probes_back_off_and_never_give_up) {
    zero_window();
    tw_time_t t0 = F.now, at = 0, gap = TW_SEC(1);
    expect_deadline_in(TW_SEC(1)); /* SHLD-29: first probe after one RTO */
    for (int i = 0; i < 20; i++) {
        tw_test_context("probe %d", i + 1);
        at += gap;
        advance(t0 + at - F.now - 1);
        expect_silence();
        expect_one_at(t0, at);
        expect_seg(0, ACK, 1101, 5001, 1); /* the first unsent byte, every time */
        expect_payload(0);
        ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_PROBE);
        advance(FX_RTT);
        send_seg(ACK, 5001, 1101, NULL, 0, 0); /* still closed; byte not taken */
        expect_silence();
        expect_state(TW_ESTABLISHED);                      /* MUST-37: the peer answers, we stay */
        gap = gap * 2 > TW_SEC(60) ? TW_SEC(60) : gap * 2; /* SHLD-30 */
    }
    ASSERT_EQ(F.counters[TW_C_PERSIST_PROBE], 20);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
    /* The window opens: all 50 bytes go, the probed byte first. */
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 50);
    expect_payload(0);
    expect_deadline_in(TW_SEC(1)); /* now a retransmission timer */
    send_seg(ACK, 5001, 1151, NULL, 0, FX_WND);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(timers_persist_unanswered_probes_give_up) {
    /* A peer that answers none of data_retries+1 probes is gone (MUST-20). */
    fx_opts o = fx_defaults();
    o.cfg.data_retries = 3;
    fx_next(&o);
    zero_window();
    for (int i = 0; i < 3; i++) {
        tw_test_context("probe %d", i + 1);
        advance_to_deadline();
        expect_segs(1);
        ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_PROBE);
    }
    advance_to_deadline(); /* the 4th expiry with no answer: give up */
    expect_silence();
    expect_state(TW_CLOSED);
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 1);
    ASSERT_EQ(F.counters[TW_C_PERSIST_PROBE], 3);
}

TEST(timers_persist_orphan_answered_but_closed_window_gives_up) {
    /* After close() nobody waits for the data: a peer that ACKs every probe
     * but never opens its window cannot hold the connection for ever
     * (RFC 6429). */
    fx_opts o = fx_defaults();
    o.cfg.data_retries = 3;
    fx_next(&o);
    zero_window();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_silence(); /* the FIN waits behind the unsent data */
    int probes = 0;
    for (int i = 0; i < 10 && F.c.state != TW_CLOSED; i++) {
        advance_to_deadline();
        if (F.c.state == TW_CLOSED) break;
        expect_segs(1);
        probes++;
        send_seg(ACK, 5001, 1101, NULL, 0, 0); /* answered, still closed */
    }
    expect_state(TW_CLOSED);
    ASSERT_EQ(probes, 3);
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
}

TEST(timers_persist_probe_taken_next_probe_next_byte) {
    zero_window();
    advance(TW_SEC(1));
    expect_seg(0, ACK, 1101, 5001, 1);
    send_seg(ACK, 5001, 1102, NULL, 0, 0); /* byte taken, window still zero */
    expect_silence();
    expect_deadline_in(TW_SEC(2));
    advance(TW_SEC(2));
    expect_segs(1);
    expect_seg(0, ACK, 1102, 5001, 1);
    send_seg(ACK, 5001, 1102, NULL, 0, 2000);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1102, 5001, 49);
}

TEST(timers_persist_lost_probe_still_retried_after_window_opens) {
    zero_window();
    advance(TW_SEC(1));
    expect_seg(0, ACK, 1101, 5001, 1);
    /* The peer's window update arrives without acknowledging the probe. */
    send_seg(ACK, 5001, 1101, NULL, 0, 1000);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 50);
    advance(TW_SEC(1)); /* lost again: retransmitted by the RTO */
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 50);
}

TEST(timers_rto_on_shrunk_zero_window_hands_over_to_persist) {
    conn_established();
    user_send(1001, 1000);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 1000);
    advance(FX_RTT);
    send_seg(ACK, 5001, 1001, NULL, 0, 0); /* the peer shrinks its window to zero */
    expect_silence();
    advance(TW_SEC(1) - FX_RTT);
    expect_silence(); /* the RTO fires but nothing fits in a zero window */
    expect_timers("retransmit");
    expect_deadline_in(TW_SEC(1)); /* persist, not another silent RTO */
    advance(TW_SEC(1));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 1);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_PROBE);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 1000);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
}

/* ---------------------------------------------------------------- FIN_WAIT_2, 2MSL */

TEST(timers_fin_wait_2_timeout_exact_for_orphan) {
    conn_established();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    advance(FX_RTT);
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    tw_time_t t0 = F.now;
    expect_deadline_in(TW_SEC(60));
    advance(TW_SEC(60) - 1);
    expect_state(TW_FIN_WAIT_2);
    advance(1);
    expect_states("FIN_WAIT_1:USER_CLOSE,FIN_WAIT_2:RCV_ACK_OF_FIN,CLOSED:TIMEOUT_FIN_WAIT_2");
    ASSERT_U64_EQ(F.now, t0 + TW_SEC(60));
    expect_silence();
}

TEST(timers_fin_wait_2_timeout_zero_means_none) {
    fx_opts o = fx_defaults();
    o.cfg.fin_wait_2_timeout = 0;
    fx_next(&o);
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    expect_deadline_in(TW_TIME_NEVER);
    advance(TW_SEC(3600));
    expect_state(TW_FIN_WAIT_2);
}

TEST(timers_fin_wait_2_data_does_not_extend_orphan_timeout) {
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    advance(TW_SEC(30));
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND); /* keep-alive-like ACK */
    expect_silence();
    expect_deadline_in(TW_SEC(30));
}

TEST(timers_time_wait_restarts_on_retransmitted_fin) {
    conn_time_wait();
    tw_time_t t0 = F.now;
    advance(TW_SEC(59));
    send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_seg(0, ACK, 1002, 5002, 0);
    advance(TW_SEC(60) - 1);
    expect_state(TW_TIME_WAIT);
    advance(1);
    expect_states("CLOSED:TIMEOUT_2MSL");
    ASSERT_U64_EQ(F.now, t0 + TW_SEC(119));
}

TEST(timers_time_wait_is_2_msl_from_cfg) {
    fx_opts o = fx_defaults();
    o.cfg.msl = TW_MS(1500);
    fx_next(&o);
    conn_time_wait();
    expect_deadline_in(TW_SEC(3));
    advance(TW_SEC(3));
    expect_states("CLOSED:TIMEOUT_2MSL");
}

/* Only our FIN is outstanding and the peer holds its window closed, ACKing
 * each FIN retransmission without taking it (a zero window takes no FIN
 * either): those retransmissions are the zero-window probes, so a peer that
 * answers keeps the connection for ever (MUST-37), backed off like the
 * persist timer up to the RTO cap, and none counts toward R2. Found by
 * fuzz_stack. */
TEST(timers_fin_in_zero_window_answered_never_gives_up) {
    fx_opts o = fx_defaults();
    o.cfg.data_retries = 3;
    fx_next(&o);
    conn_established();
    advance(FX_RTT);
    send_seg(ACK, 5001, 1001, NULL, 0, 0); /* window closed */
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    fx_settle();
    tw_time_t gap = TW_SEC(1), sent = F.now;
    for (int i = 0; i < 12; i++) { /* four times data_retries */
        tw_test_context("retransmission %d", i + 1);
        advance_to_deadline();
        ASSERT_U64_EQ(F.now - sent, gap); /* 1, 2, 4 ... s, capped at 60 s */
        sent = F.now;
        expect_segs(1);
        expect_seg(0, FIN | ACK, 1001, 5001, 0);
        advance(FX_RTT);
        send_seg(ACK, 5001, 1001, NULL, 0, 0); /* answered, still closed */
        expect_silence();
        expect_state(TW_FIN_WAIT_1);
        gap = gap * 2 > TW_SEC(60) ? TW_SEC(60) : gap * 2;
    }
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 0);
    /* The window opens: the FIN is taken and acknowledged. */
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    advance_to_deadline();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_state(TW_FIN_WAIT_2);
}

/* The same with a peer that stops answering: data_retries+1 unanswered FIN
 * probes end the connection (MUST-20). */
TEST(timers_fin_in_zero_window_unanswered_gives_up) {
    fx_opts o = fx_defaults();
    o.cfg.data_retries = 3;
    fx_next(&o);
    conn_established();
    advance(FX_RTT);
    send_seg(ACK, 5001, 1001, NULL, 0, 0);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    fx_settle();
    for (int i = 0; i < 3; i++) {
        tw_test_context("retransmission %d", i + 1);
        advance_to_deadline();
        expect_segs(1);
        expect_seg(0, FIN | ACK, 1001, 5001, 0);
    }
    advance_to_deadline();
    expect_silence();
    expect_state(TW_CLOSED);
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 1);
}

/* Data and the FIN in flight; the peer acknowledges part of the data,
 * SACKs the rest, shrinks its window to zero and goes silent. Go-back-N
 * after the RTO skips the SACKed data, so the FIN is all that goes out
 * again: the closed window's probe, backed off like one, and unanswered
 * like any retransmission, which must end the connection (MUST-20) instead
 * of going out every RTO for ever (found by fuzz_stack: an orphan in
 * FIN_WAIT_1 resent its FIN every 3.2 s). `orphan`: close() rather than
 * shutdown(). */
static void shrunk_window_sacked_tail(bool orphan) {
    fx_opts o = fx_defaults();
    o.cfg.data_retries = 3;
    o.peer_sack = true;
    fx_next(&o);
    conn_established();
    user_send(1001, 1000);
    ASSERT_EQ(orphan ? tw_tcp_close(&F.c, F.now) : tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK | PSH, 1001, 5001, 1000);
    advance(FX_RTT);
    uint32_t lr[2] = {1501, 2001};
    send_sack(1501, 0, 1, lr); /* half taken, the rest SACKed, window zero */
    expect_silence();
    expect_state(TW_FIN_WAIT_1);
}

/* The time from one FIN to the next: the RTO doubled at each FIN (the
 * persist timer's backoff, RFC 9293 §3.8.6.1), at most rto_max. */
static tw_time_t zw_fin_gap(int fins_before) {
    tw_time_t t = F.c.rto << fins_before;
    return t > F.c.cfg->rto_max ? F.c.cfg->rto_max : t;
}

TEST(timers_shrunk_zero_window_sacked_data_fin_unanswered_gives_up) {
    shrunk_window_sacked_tail(true);
    tw_time_t last = TW_TIME_NEVER;
    for (int i = 0; i < 3; i++) { /* data_retries */
        tw_test_context("expiry %d", i + 1);
        advance_to_deadline();
        if (i > 0) ASSERT_EQ(F.now - last, zw_fin_gap(i));
        last = F.now;
        expect_segs(1);
        expect_seg(0, FIN | ACK, 2001, 5001, 0); /* the SACKed data is skipped */
        expect_state(TW_FIN_WAIT_1);
    }
    advance_to_deadline(); /* the 4th expiry with no answer: give up */
    ASSERT_EQ(F.now - last, zw_fin_gap(3));
    expect_silence();
    expect_state(TW_CLOSED);
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 1);
}

/* The same peer answering each FIN, window still closed: alive, so the
 * connection the application still holds stays (MUST-37), the FIN backed
 * off up to rto_max. */
TEST(timers_shrunk_zero_window_sacked_data_fin_answered_stays) {
    shrunk_window_sacked_tail(false);
    tw_time_t last = TW_TIME_NEVER;
    for (int i = 0; i < 12; i++) { /* three times data_retries */
        tw_test_context("expiry %d", i + 1);
        advance_to_deadline();
        if (i > 0) ASSERT_EQ(F.now - last, zw_fin_gap(i));
        last = F.now;
        expect_segs(1);
        expect_seg(0, FIN | ACK, 2001, 5001, 0);
        advance(FX_RTT);
        uint32_t lr[2] = {1501, 2001};
        send_sack(1501, 0, 1, lr); /* answered, window still closed */
        expect_silence();
        expect_state(TW_FIN_WAIT_1);
    }
    ASSERT_EQ(zw_fin_gap(11), F.c.cfg->rto_max); /* the cap was reached */
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 0);
}

/* An orphan (closed by its application) may not be held for ever by a peer
 * that answers but never opens its window (RFC 6429): after data_retries+1
 * of those FINs it ends, as with the persist timer. */
TEST(timers_shrunk_zero_window_sacked_data_orphan_fin_answered_ends) {
    shrunk_window_sacked_tail(true);
    for (int i = 0; i < 4; i++) { /* data_retries + 1 */
        tw_test_context("expiry %d", i + 1);
        advance_to_deadline();
        expect_segs(1);
        expect_seg(0, FIN | ACK, 2001, 5001, 0);
        advance(FX_RTT);
        uint32_t lr[2] = {1501, 2001};
        send_sack(1501, 0, 1, lr);
        expect_state(TW_FIN_WAIT_1);
    }
    advance_to_deadline();
    expect_silence();
    expect_state(TW_CLOSED);
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    ASSERT_EQ(F.counters[TW_C_CONN_TIMEDOUT], 1);
}

TEST_MAIN()
