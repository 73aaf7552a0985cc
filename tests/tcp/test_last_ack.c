/* test_last_ack.c - LAST_ACK (RFC 9293 §3.10.7.4): the peer's FIN 5001 is
 * taken (RCV.NXT 5002), our FIN 1001 is out (SND.NXT 1002) and the user has
 * closed; only the ACK of our FIN is expected. */
#include "fixture.h"

TEST(last_ack_fixture_path) {
    conn_last_ack();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,CLOSE_WAIT:RCV_FIN,"
                   "LAST_ACK:USER_CLOSE");
    expect_deadline_in(TW_SEC(1));
}

TEST(last_ack_syn_challenge_ack) {
    conn_last_ack();
    tw_tcp_result r = send_seg(SYN, 5002, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
    expect_counters("CHALLENGE_ACK");
}

TEST(last_ack_ack_of_fin_closed) {
    conn_last_ack();
    advance(FX_RTT);
    tw_tcp_result r = send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_ACK_OF_FIN");
    ASSERT_EQ(F.c.err, 0);
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    expect_deadline_in(TW_TIME_NEVER);
    expect_counters("");
}

TEST(last_ack_ack_duplicate_ignored) {
    conn_last_ack();
    tw_tcp_result r = send_seg(ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_state(TW_LAST_ACK);
    expect_deadline_in(TW_SEC(1));
}

TEST(last_ack_ack_too_new_acked) {
    conn_last_ack();
    tw_tcp_result r = send_seg(ACK, 5002, 1003, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(last_ack_fin_retransmitted_acked) {
    conn_last_ack();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
}

TEST(last_ack_fin_new_beyond_fin_acked) {
    conn_last_ack();
    tw_tcp_result r = send_seg(FIN | ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
}

TEST(last_ack_rst_exact_closed) {
    conn_last_ack();
    tw_tcp_result r = send_seg(RST, 5002, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, 0);
    expect_counters("RST_RECEIVED");
}

TEST(last_ack_rst_in_window_challenge_ack) {
    conn_last_ack();
    tw_tcp_result r = send_seg(RST, 5010, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
}

TEST(last_ack_rst_out_of_window_dropped) {
    conn_last_ack();
    tw_tcp_result r = send_seg(RST, 5002 + 65535, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_LAST_ACK);
}

TEST(last_ack_data_after_fin_acked_and_dropped) {
    conn_last_ack();
    tw_tcp_result r = send_data(ACK | PSH, 5002, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_LAST_ACK);
    expect_counters("DROP_DATA_AFTER_FIN");
}

TEST(last_ack_timeout_retransmits_fin_then_gives_up) {
    conn_last_ack();
    tw_time_t t0 = F.now;
    /* 15 retransmissions (data_retries), 1, 2, 4 ... 32 s apart, then 60 s. */
    tw_time_t at = 0, gap = TW_SEC(1);
    for (int i = 0; i < 15; i++) {
        at += gap;
        advance(t0 + at - F.now);
        expect_segs(1);
        expect_seg(0, FIN | ACK, 1001, 5002, 0);
        ASSERT_U64_EQ(F.out[0].t, t0 + at);
        expect_state(TW_LAST_ACK);
        gap = gap * 2 > TW_SEC(60) ? TW_SEC(60) : gap * 2;
    }
    ASSERT_U64_EQ(at, TW_SEC(603));
    advance(TW_SEC(60) - 1);
    expect_silence();
    expect_state(TW_LAST_ACK);
    advance(1);
    expect_silence();
    expect_states("CLOSED:TIMEOUT_RETRANSMIT");
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_TIMEDOUT");
}

TEST(last_ack_close_shutdown_noop) {
    conn_last_ack();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_LAST_ACK);
    expect_states("");
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
}

TEST(last_ack_abort_no_rst) {
    conn_last_ack();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0); /* RFC 9293 §3.10.5 */
    expect_states("CLOSED:USER_ABORT");
    expect_counters("");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST_MAIN()
