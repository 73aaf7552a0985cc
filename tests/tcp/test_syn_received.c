/* test_syn_received.c - SYN_RECEIVED after a passive open (RFC 9293
 * §3.10.7.4): the peer's SYN 5000 is in, our SYN-ACK 1000 is out. */
#include "fixture.h"

TEST(syn_received_fixture_path) {
    conn_syn_received();
    expect_history("SYN_RECEIVED:RCV_SYN");
    expect_deadline_in(TW_SEC(1));
}

TEST(syn_received_ack_established) {
    conn_syn_received();
    advance(FX_RTT);
    tw_tcp_result r = send_seg(ACK, 5001, 1001, NULL, 0, 20000);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("ESTABLISHED:RCV_ACK");
    ASSERT_TRUE(F.c.events & TW_CEV_CONNECTED);
    ASSERT_EQ(F.c.snd_wnd, 20000);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(syn_received_ack_of_iss_rst) {
    conn_syn_received();
    tw_tcp_result r = send_seg(ACK, 5001, 1000, NULL, 0, FX_WND); /* not SND.UNA < SEG.ACK */
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 1000, 0, 0);
    expect_state(TW_SYN_RECEIVED);
    expect_counters("RST_BAD_ACK");
}

TEST(syn_received_ack_too_new_rst) {
    conn_syn_received();
    tw_tcp_result r = send_seg(ACK, 5001, 1005, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 1005, 0, 0);
    expect_state(TW_SYN_RECEIVED);
}

TEST(syn_received_syn_retransmitted_resends_syn_ack) {
    conn_syn_received();
    advance(TW_MS(300));
    tw_tcp_result r = send_seg_mss(SYN, 5000, 0, FX_WND, 1460);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    expect_state(TW_SYN_RECEIVED);
    expect_states("");
}

TEST(syn_received_syn_other_seq_challenge_ack) {
    conn_syn_received();
    tw_tcp_result r = send_seg(SYN, 5100, 0, NULL, 0, FX_WND); /* in window, not the SYN we know */
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_CHALLENGE);
    expect_state(TW_SYN_RECEIVED);
    expect_counters("CHALLENGE_ACK");
}

TEST(syn_received_rst_exact_closed) {
    conn_syn_received();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, 0); /* passive: back to the listener, no error for anyone */
    expect_counters("RST_RECEIVED");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(syn_received_rst_in_window_challenge_ack) {
    conn_syn_received();
    tw_tcp_result r = send_seg(RST, 5100, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_SYN_RECEIVED);
    expect_counters("CHALLENGE_ACK");
}

TEST(syn_received_rst_out_of_window_dropped) {
    conn_syn_received();
    tw_tcp_result r = send_seg(RST, 5001 + 70000, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_SYN_RECEIVED);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
}

TEST(syn_received_unacceptable_seq_acked) {
    conn_syn_received();
    tw_tcp_result r = send_seg(ACK, 4000, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_SYN_RECEIVED); /* the ACK of an unacceptable segment is not processed */
}

TEST(syn_received_data_without_ack_dropped) {
    conn_syn_received();
    tw_tcp_result r = send_data(PSH, 5001, 0, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_NO_ACK);
    expect_silence();
    expect_state(TW_SYN_RECEIVED);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

TEST(syn_received_ack_with_data_established_and_delivered) {
    conn_syn_received();
    advance(FX_RTT);
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence(); /* delayed ACK */
    expect_states("ESTABLISHED:RCV_ACK");
    expect_recv(5001, 10);
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5011, 0);
}

TEST(syn_received_fin_ack_close_wait) {
    conn_syn_received();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_states("ESTABLISHED:RCV_ACK,CLOSE_WAIT:RCV_FIN");
}

TEST(syn_received_timeout_resends_syn_ack_then_gives_up) {
    conn_syn_received();
    /* 1, 2, 4, 8, 16, 32 s apart, then 60 s (64 capped) twice */
    static const unsigned at[] = {1, 3, 7, 15, 31, 63, 123, 183};
    tw_time_t t0 = F.now;
    for (unsigned i = 0; i < 8; i++) {
        advance(t0 + TW_SEC(at[i]) - F.now);
        expect_segs(1);
        expect_seg(0, SYN | ACK, 1000, 5001, 0);
        ASSERT_U64_EQ(F.out[0].t, t0 + TW_SEC(at[i]));
        expect_state(TW_SYN_RECEIVED);
    }
    /* syn_retries = 8 reached: the next expiry, 60 s later, gives up. */
    expect_deadline_in(TW_SEC(60));
    advance(TW_SEC(60));
    expect_silence();
    expect_states("CLOSED:TIMEOUT_RETRANSMIT");
    ASSERT_EQ(F.c.err, TW_ETIMEDOUT);
    expect_counters("CONN_TIMEDOUT");
}

TEST(syn_received_close_fin_waits_for_established) {
    conn_syn_received();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0); /* §3.10.4: queued until ESTABLISHED */
    expect_state(TW_SYN_RECEIVED);
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
    advance(FX_RTT);
    tw_tcp_result r = send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_states("ESTABLISHED:RCV_ACK,FIN_WAIT_1:USER_CLOSE");
}

TEST(syn_received_shutdown_fin_waits_for_established) {
    conn_syn_received();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_states("ESTABLISHED:RCV_ACK,FIN_WAIT_1:USER_SHUTDOWN"); /* the trace tells which call */
    send_data(ACK | PSH, 5001, 1002, 10, FX_WND); /* not orphaned: data still welcome */
    expect_states("ESTABLISHED:RCV_ACK,FIN_WAIT_1:USER_SHUTDOWN,FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_recv(5001, 10);
}

TEST(syn_received_ack_after_resent_syn_ack_no_rtt_sample) {
    conn_syn_received();
    advance(TW_MS(300));
    send_seg_mss(SYN, 5000, 0, FX_WND, 1460); /* our SYN-ACK goes out a second time */
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    advance(TW_MS(10));
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_states("ESTABLISHED:RCV_ACK");
    ASSERT_U64_EQ(F.c.srtt, 0); /* Karn (MUST-18): which SYN-ACK is acknowledged? */
    ASSERT_U64_EQ(F.c.rto, TW_SEC(1));
}

TEST(syn_received_ack_rtt_sample) {
    conn_syn_received();
    advance(TW_MS(40));
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    ASSERT_U64_EQ(F.c.srtt, TW_MS(40));
    ASSERT_U64_EQ(F.c.rttvar, TW_MS(20));
}

TEST(syn_received_abort_rst) {
    conn_syn_received();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("RST_ABORT");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST_MAIN()
