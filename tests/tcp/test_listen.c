/* test_listen.c - LISTEN (RFC 9293 §3.10.7.2): a connection created for an
 * incoming SYN starts in LISTEN and handles the SYN like any segment. */
#include "fixture.h"

TEST(listen_fixture_is_untraced_and_quiet) {
    conn_listen();
    expect_history(""); /* the initial LISTEN is a copy of the listener: no move */
    ASSERT_EQ(run_output(), 0);
    expect_silence();
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(listen_syn_sends_syn_ack) {
    conn_listen();
    tw_tcp_result r = send_seg_mss(SYN, 5000, 0, 8000, 1460);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_TRUE(F.out[0].has_mss);
    ASSERT_EQ(F.out[0].mss, 1460);
    ASSERT_EQ(F.out[0].wnd, 65535);
    expect_states("SYN_RECEIVED:RCV_SYN");
    expect_counters("");
    ASSERT_EQ(F.c.snd_wnd, 8000);
    ASSERT_EQ(F.c.snd_mss, 1460);
    expect_deadline_in(TW_SEC(1)); /* SYN-ACK retransmission, RFC 6298 §2.1 */
}

TEST(listen_syn_without_mss_uses_536) {
    conn_listen();
    send_seg_mss(SYN, 5000, 0, FX_WND, -1);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_EQ(F.c.snd_mss, 536); /* RFC 9293 MUST-15 */
}

TEST(listen_syn_with_data_acks_only_syn) {
    conn_listen();
    tw_tcp_result r = send_data(SYN, 5000, 0, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0); /* the data is not queued */
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_states("SYN_RECEIVED:RCV_SYN");
}

TEST(listen_ack_rst) {
    conn_listen();
    tw_tcp_result r = send_seg(ACK, 5001, 1234, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 1234, 0, 0); /* <SEQ=SEG.ACK><CTL=RST> */
    expect_state(TW_LISTEN);
    expect_states("");
    expect_counters("RST_BAD_ACK");
}

TEST(listen_syn_ack_rst) {
    conn_listen();
    tw_tcp_result r = send_seg(SYN | ACK, 5000, 777, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 777, 0, 0);
    expect_state(TW_LISTEN);
}

TEST(listen_rst_dropped_silently) {
    conn_listen();
    tw_tcp_result r = send_seg(RST, 5000, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN);
    expect_silence();
    expect_state(TW_LISTEN);
    expect_counters("DROP_LISTEN_NOT_SYN");
}

TEST(listen_rst_ack_not_answered) {
    conn_listen();
    tw_tcp_result r = send_seg(RST | ACK, 5000, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN); /* never RST an RST */
    expect_silence();
    expect_state(TW_LISTEN);
}

TEST(listen_fin_dropped_silently) {
    conn_listen();
    tw_tcp_result r = send_seg(FIN, 5000, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN);
    expect_silence();
    expect_state(TW_LISTEN);
}

TEST(listen_data_without_ack_dropped_silently) {
    conn_listen();
    tw_tcp_result r = send_data(PSH, 5001, 0, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN);
    expect_silence();
    expect_state(TW_LISTEN);
}

TEST(listen_close_closed_silently) {
    conn_listen();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("CLOSED:USER_CLOSE");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    expect_counters("");
}

TEST(listen_abort_no_rst) {
    conn_listen();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("CLOSED:USER_ABORT");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    expect_counters("");
}

TEST(listen_user_calls_not_connected) {
    conn_listen();
    uint8_t b[4] = {1, 2, 3, 4};
    ASSERT_EQ(tw_tcp_send(&F.c, b, 4, F.now), -TW_ENOTCONN);
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 4, F.now), -TW_ENOTCONN);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), -TW_ENOTCONN);
    ASSERT_EQ(tw_tcp_connect(&F.c, tw_seq(1), F.now), -TW_EISCONN);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_LISTEN);
    expect_states("");
}

TEST_MAIN()
