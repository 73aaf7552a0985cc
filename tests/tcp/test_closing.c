/* test_closing.c - CLOSING, the simultaneous close (RFC 9293 §3.10.7.4,
 * §3.6 Figure 13): our FIN 1001 is out and unacknowledged (SND.NXT 1002),
 * the peer's FIN 5001 has been taken (RCV.NXT 5002). */
#include "fixture.h"

TEST(closing_fixture_path) {
    conn_closing();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,FIN_WAIT_1:USER_SHUTDOWN,"
                   "CLOSING:RCV_FIN");
    expect_deadline_in(TW_SEC(1) - FX_RTT); /* our FIN went out one RTT ago */
}

TEST(closing_syn_challenge_ack) {
    conn_closing();
    tw_tcp_result r = send_seg(SYN, 5002, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
    expect_counters("CHALLENGE_ACK");
}

TEST(closing_ack_of_fin_time_wait) {
    conn_closing();
    tw_tcp_result r = send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("TIME_WAIT:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_SEC(60));
    expect_counters("");
}

TEST(closing_ack_duplicate_ignored) {
    conn_closing();
    tw_tcp_result r = send_seg(ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_state(TW_CLOSING);
    expect_states("");
}

TEST(closing_ack_too_new_acked) {
    conn_closing();
    tw_tcp_result r = send_seg(ACK, 5002, 1003, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(closing_fin_retransmitted_acked) {
    conn_closing();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
    expect_counters("DROP_UNACCEPTABLE");
}

TEST(closing_fin_retransmitted_with_ack_of_fin_stays) {
    conn_closing();
    /* Step 1 drops the whole unacceptable segment, its ACK field too: the
     * ACK of our FIN must come in an acceptable segment. */
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
}

TEST(closing_fin_new_beyond_fin_acked) {
    conn_closing();
    /* A second FIN, after the one already taken: repeat our ACK. */
    tw_tcp_result r = send_seg(FIN | ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
}

TEST(closing_rst_exact_closed) {
    conn_closing();
    tw_tcp_result r = send_seg(RST, 5002, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, 0); /* both sides had closed: nothing was lost */
    expect_counters("RST_RECEIVED");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(closing_rst_in_window_challenge_ack) {
    conn_closing();
    tw_tcp_result r = send_seg(RST, 5003, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_CLOSING);
    expect_counters("CHALLENGE_ACK");
}

TEST(closing_rst_out_of_window_dropped) {
    conn_closing();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0); /* the FIN's number: below RCV.NXT */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_CLOSING);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
}

TEST(closing_data_after_fin_acked_and_dropped) {
    conn_closing();
    tw_tcp_result r = send_data(ACK | PSH, 5002, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_state(TW_CLOSING);
    expect_counters("DROP_DATA_AFTER_FIN");
}

TEST(closing_data_after_fin_with_ack_of_fin_time_wait) {
    conn_closing();
    /* The ACK step runs before the text step: our FIN is acknowledged and the
     * bogus text is never looked at (RFC 9293 §3.10.7.4, fifth step). */
    tw_tcp_result r = send_data(ACK | PSH, 5002, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("TIME_WAIT:RCV_ACK_OF_FIN");
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

TEST(closing_timeout_retransmits_fin) {
    conn_closing();
    advance(TW_SEC(1) - FX_RTT);
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0); /* now also acknowledging the peer's FIN */
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    expect_deadline_in(TW_SEC(2));
    expect_state(TW_CLOSING);
    send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_states("TIME_WAIT:RCV_ACK_OF_FIN");
}

TEST(closing_close_shutdown_noop) {
    conn_closing();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_CLOSING);
    expect_states("");
    expect_counters("");
}

TEST(closing_abort_no_rst) {
    conn_closing();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0); /* RFC 9293 §3.10.5: CLOSING just deletes the TCB */
    expect_states("CLOSED:USER_ABORT");
    expect_counters("");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST_MAIN()
