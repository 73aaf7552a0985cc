/* test_fin_wait_1.c - FIN_WAIT_1 (RFC 9293 §3.10.7.4): the user called
 * shutdown(), our FIN 1001 is out and unacknowledged (SND.NXT 1002); the
 * peer is at 5001 and has sent nothing. */
#include "fixture.h"

TEST(fin_wait_1_fixture_path) {
    conn_fin_wait_1();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,FIN_WAIT_1:USER_SHUTDOWN");
    expect_deadline_in(TW_SEC(1)); /* the FIN's retransmission */
}

TEST(fin_wait_1_syn_challenge_ack) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(SYN, 5001, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_1);
    expect_states("");
    expect_counters("CHALLENGE_ACK");
}

TEST(fin_wait_1_ack_of_fin_fin_wait_2) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_TIME_NEVER); /* not orphaned: no FIN_WAIT_2 timer */
    expect_counters("");
}

TEST(fin_wait_1_ack_duplicate_ignored) {
    conn_fin_wait_1();
    tw_time_t rexmt = F.c.t_rexmt;
    tw_tcp_result r = send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_state(TW_FIN_WAIT_1);
    ASSERT_U64_EQ(F.c.t_rexmt, rexmt);
    expect_counters("");
}

TEST(fin_wait_1_ack_too_new_acked) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(ACK, 5001, 1003, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_1);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(fin_wait_1_fin_closing) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_states("CLOSING:RCV_FIN"); /* simultaneous close */
    expect_deadline_in(TW_SEC(1));    /* our FIN is still timed */
}

TEST(fin_wait_1_fin_ack_of_fin_time_wait) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_states("TIME_WAIT:RCV_FIN_ACK"); /* one move, not FIN_WAIT_2 then TIME_WAIT */
    expect_deadline_in(TW_SEC(60));
    expect_counters("");
    ASSERT_EQ(F.counters[TW_C_TW_ENTER], 1);
}

TEST(fin_wait_1_data_fin_ack_of_fin_time_wait) {
    conn_fin_wait_1();
    tw_tcp_result r = send_data(FIN | ACK | PSH, 5001, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5012, 0);
    expect_states("TIME_WAIT:RCV_FIN_ACK");
    expect_recv(5001, 10);
}

TEST(fin_wait_1_fin_beyond_gap_taken_when_gap_fills) {
    conn_fin_wait_1();
    tw_tcp_result r = send_data(FIN | ACK, 5011, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0); /* out of order: duplicate ACK at once */
    expect_state(TW_FIN_WAIT_1);
    expect_states("");
    r = send_data(ACK, 5001, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5022, 0);
    expect_states("CLOSING:RCV_FIN");
    expect_recv(5001, 20);
    expect_counters("ACK_NOW_OOO");
}

TEST(fin_wait_1_fin_ack_of_fin_beyond_gap_fin_wait_2) {
    conn_fin_wait_1();
    /* Our FIN is acknowledged but the peer's FIN cannot be taken yet. */
    tw_tcp_result r = send_data(FIN | ACK, 5011, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_TIME_NEVER); /* nothing left to retransmit */
    r = send_data(ACK, 5001, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5022, 0);
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN,TIME_WAIT:RCV_FIN");
    expect_recv(5001, 20);
}

TEST(fin_wait_1_bare_fin_beyond_gap_acked_at_once) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(FIN | ACK, 5011, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0); /* RFC 5681 §4.2: out-of-order -> immediate ACK */
    expect_state(TW_FIN_WAIT_1);
    expect_counters("ACK_NOW_OOO");
    r = send_data(ACK, 5001, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5012, 0);
    expect_states("TIME_WAIT:RCV_FIN_ACK");
}

TEST(fin_wait_1_rst_exact_closed_reset) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNRESET);
    expect_deadline_in(TW_TIME_NEVER);
    expect_counters("RST_RECEIVED");
}

TEST(fin_wait_1_rst_in_window_challenge_ack) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(RST, 5101, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5001, 0);
    expect_state(TW_FIN_WAIT_1);
    expect_counters("CHALLENGE_ACK");
}

TEST(fin_wait_1_rst_out_of_window_dropped) {
    conn_fin_wait_1();
    tw_tcp_result r = send_seg(RST, 5001 + 100000, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_FIN_WAIT_1);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
}

TEST(fin_wait_1_data_in_window_delivered) {
    conn_fin_wait_1();
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence(); /* half-close: the peer may still send; ACK delayed */
    expect_recv(5001, 100);
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5101, 0);
    expect_state(TW_FIN_WAIT_1);
}

TEST(fin_wait_1_data_after_close_rst) {
    conn_fin_wait_1();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0); /* orphaned: nobody will read */
    ASSERT_EQ(run_output(), 0);
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_DATA_AFTER_CLOSE);
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("CLOSED:RCV_DATA_AFTER_CLOSE");
    expect_counters("DROP_DATA_AFTER_CLOSE,RST_DATA_AFTER_CLOSE");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST(fin_wait_1_timeout_retransmits_fin) {
    conn_fin_wait_1();
    advance(TW_SEC(1));
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    expect_timers("retransmit");
    expect_deadline_in(TW_SEC(2));
    expect_state(TW_FIN_WAIT_1);
    /* The ACK of the retransmitted FIN still moves us on. */
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_silence();
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN");
}

TEST(fin_wait_1_close_orphans_silently) {
    conn_fin_wait_1();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_FIN_WAIT_1);
    expect_states("");
    advance(FX_RTT);
    send_seg(ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_silence();
    expect_states("FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_deadline_in(TW_SEC(60)); /* orphaned FIN_WAIT_2 is bounded */
}

TEST(fin_wait_1_shutdown_again_noop) {
    conn_fin_wait_1();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_FIN_WAIT_1);
    expect_states("");
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
}

TEST(fin_wait_1_abort_rst) {
    conn_fin_wait_1();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("RST_ABORT");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST_MAIN()
