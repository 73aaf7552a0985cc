/* test_close_wait.c - CLOSE_WAIT (RFC 9293 §3.10.7.4): the peer's FIN 5001
 * is taken (RCV.NXT 5002) and ACKed; we are at SND.NXT 1001 and may still
 * send until the user closes. */
#include "fixture.h"

TEST(close_wait_fixture_path) {
    conn_close_wait();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,CLOSE_WAIT:RCV_FIN");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(close_wait_syn_challenge_ack) {
    conn_close_wait();
    tw_tcp_result r = send_seg(SYN, 5002, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_state(TW_CLOSE_WAIT);
    expect_counters("CHALLENGE_ACK");
}

TEST(close_wait_ack_duplicate_ignored) {
    conn_close_wait();
    tw_tcp_result r = send_seg(ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_state(TW_CLOSE_WAIT);
    expect_counters("");
}

TEST(close_wait_ack_too_new_acked) {
    conn_close_wait();
    tw_tcp_result r = send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_state(TW_CLOSE_WAIT);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(close_wait_send_data_acked) {
    conn_close_wait();
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5002, 100);
    expect_payload(0);
    expect_deadline_in(TW_SEC(1));
    tw_tcp_result r = send_seg(ACK, 5002, 1101, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_deadline_in(TW_TIME_NEVER);
    expect_state(TW_CLOSE_WAIT);
}

TEST(close_wait_fin_retransmitted_acked) {
    conn_close_wait();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_state(TW_CLOSE_WAIT);
}

TEST(close_wait_fin_new_beyond_fin_acked) {
    conn_close_wait();
    tw_tcp_result r = send_seg(FIN | ACK, 5002, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0); /* eighth step: remain in CLOSE_WAIT */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_state(TW_CLOSE_WAIT);
    expect_states("");
}

TEST(close_wait_rst_exact_closed_reset) {
    conn_close_wait();
    tw_tcp_result r = send_seg(RST, 5002, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNRESET);
    expect_counters("RST_RECEIVED");
}

TEST(close_wait_rst_in_window_challenge_ack) {
    conn_close_wait();
    tw_tcp_result r = send_seg(RST, 5003, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_state(TW_CLOSE_WAIT);
}

TEST(close_wait_rst_out_of_window_dropped) {
    conn_close_wait();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_CLOSE_WAIT);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
}

TEST(close_wait_data_after_fin_acked_and_dropped) {
    conn_close_wait();
    tw_tcp_result r = send_data(ACK | PSH, 5002, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_counters("DROP_DATA_AFTER_FIN");
}

TEST(close_wait_timeout_only_for_data) {
    conn_close_wait();
    advance(TW_SEC(600));
    expect_silence(); /* waiting for the application has no time limit */
    expect_state(TW_CLOSE_WAIT);
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    advance(TW_SEC(1));
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5002, 100);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    expect_timers("retransmit");
}

TEST(close_wait_close_last_ack) {
    conn_close_wait();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0);
    expect_states("LAST_ACK:USER_CLOSE");
    expect_deadline_in(TW_SEC(1));
}

TEST(close_wait_shutdown_last_ack) {
    conn_close_wait();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0);
    expect_states("LAST_ACK:USER_SHUTDOWN");
}

TEST(close_wait_send_then_close_fin_on_data) {
    conn_close_wait();
    ASSERT_EQ(user_send(1001, 100), 100);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK | PSH, 1001, 5002, 100);
    expect_payload(0);
    expect_states("LAST_ACK:USER_CLOSE");
    send_seg(ACK, 5002, 1102, NULL, 0, FX_WND);
    expect_silence();
    expect_states("LAST_ACK:USER_CLOSE,CLOSED:RCV_ACK_OF_FIN");
}

TEST(close_wait_close_with_unread_data_rst) {
    conn_established();
    send_data(FIN | ACK | PSH, 5001, 1001, 10, FX_WND);
    expect_seg(0, ACK, 1001, 5012, 0);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0);
    expect_states("CLOSE_WAIT:RCV_FIN,CLOSED:USER_CLOSE_UNREAD");
    expect_counters("RST_UNREAD_DATA");
}

TEST(close_wait_abort_rst) {
    conn_close_wait();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("RST_ABORT");
}

TEST(close_wait_recv_eof) {
    conn_close_wait();
    uint8_t b[4];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 4, F.now), 0);
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 4, F.now), 0);
}

TEST_MAIN()
