/* test_fin_wait_2.c - FIN_WAIT_2 (RFC 9293 §3.10.7.4): our FIN 1001 is
 * acknowledged (SND.UNA = SND.NXT = 1002); the peer at 5001 may still send
 * data and then its FIN. The fixture used shutdown(), so the socket is open;
 * orphan cases call tw_tcp_close() first. */
#include "fixture.h"

TEST(fin_wait_2_fixture_path) {
    conn_fin_wait_2();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,FIN_WAIT_1:USER_SHUTDOWN,"
                   "FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(fin_wait_2_syn_challenge_ack) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(SYN, 5001, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_2);
    expect_counters("CHALLENGE_ACK");
}

TEST(fin_wait_2_ack_duplicate_ignored) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_state(TW_FIN_WAIT_2);
    expect_states("");
    expect_counters("");
}

TEST(fin_wait_2_ack_too_new_acked) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(ACK, 5001, 1003, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_2);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(fin_wait_2_fin_time_wait) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_states("TIME_WAIT:RCV_FIN");
    expect_deadline_in(TW_SEC(60));
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), 0);
}

TEST(fin_wait_2_old_fin_unacceptable_acked) {
    conn_fin_wait_2();
    /* A FIN below RCV.NXT (sequence space the peer never used) is unacceptable. */
    tw_tcp_result r = send_seg(FIN | ACK, 5000, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_2);
}

TEST(fin_wait_2_rst_exact_closed_reset) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNRESET);
    expect_counters("RST_RECEIVED");
}

TEST(fin_wait_2_rst_in_window_challenge_ack) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(RST | ACK, 5002, 1002, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_2);
    expect_counters("CHALLENGE_ACK");
}

TEST(fin_wait_2_rst_out_of_window_dropped) {
    conn_fin_wait_2();
    tw_tcp_result r = send_seg(RST, 4000, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_FIN_WAIT_2);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
}

TEST(fin_wait_2_data_in_window_delivered) {
    conn_fin_wait_2();
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1002, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_recv(5001, 100);
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5101, 0);
    expect_state(TW_FIN_WAIT_2);
    expect_counters("");
}

TEST(fin_wait_2_data_and_fin_time_wait) {
    conn_fin_wait_2();
    tw_tcp_result r = send_data(FIN | ACK | PSH, 5001, 1002, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5102, 0);
    expect_states("TIME_WAIT:RCV_FIN");
    expect_recv(5001, 100);
}

TEST(fin_wait_2_fin_beyond_gap_waits_for_data) {
    conn_fin_wait_2();
    tw_tcp_result r = send_data(FIN | ACK, 5051, 1002, 50, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_2);
    r = send_data(ACK, 5001, 1002, 50, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5102, 0);
    expect_states("TIME_WAIT:RCV_FIN");
    expect_recv(5001, 100);
}

TEST(fin_wait_2_data_after_close_rst) {
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_DATA_AFTER_CLOSE);
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("CLOSED:RCV_DATA_AFTER_CLOSE");
    expect_counters("DROP_DATA_AFTER_CLOSE,RST_DATA_AFTER_CLOSE");
}

TEST(fin_wait_2_bare_fin_after_close_time_wait) {
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND); /* no data: no RST */
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_states("TIME_WAIT:RCV_FIN");
    expect_deadline_in(TW_SEC(60)); /* 2MSL replaces the FIN_WAIT_2 timer */
}

TEST(fin_wait_2_timeout_only_when_orphaned) {
    conn_fin_wait_2();
    advance(TW_SEC(600));
    expect_silence();
    expect_state(TW_FIN_WAIT_2); /* the application may still read: wait for the FIN */
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_deadline_in(TW_SEC(60));
    advance(TW_SEC(60) - 1);
    expect_state(TW_FIN_WAIT_2);
    advance(1);
    expect_silence();
    expect_states("CLOSED:TIMEOUT_FIN_WAIT_2");
    expect_timers("fin_wait_2");
    expect_counters("FW2_TIMEOUT");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST(fin_wait_2_close_with_unread_data_rst) {
    conn_fin_wait_2();
    send_data(ACK | PSH, 5001, 1002, 10, FX_WND);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("CLOSED:USER_CLOSE_UNREAD");
    expect_counters("RST_UNREAD_DATA");
}

TEST(fin_wait_2_shutdown_noop) {
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_FIN_WAIT_2);
    expect_deadline_in(TW_TIME_NEVER);
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
}

TEST(fin_wait_2_abort_rst) {
    conn_fin_wait_2();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("RST_ABORT");
}

TEST_MAIN()
