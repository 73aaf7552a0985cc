/* test_established.c - ESTABLISHED (RFC 9293 §3.10.7.4, RFC 5961): we are at
 * SND.NXT 1001, the peer at RCV.NXT 5001, both windows 65535. */
#include "fixture.h"

TEST(established_fixture_path) {
    conn_established();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK");
    expect_deadline_in(TW_TIME_NEVER);
    ASSERT_EQ(F.c.snd_mss, 1460);
}

TEST(established_data_delivered_with_delayed_ack) {
    conn_established();
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    ASSERT_TRUE(F.c.events & TW_CEV_READABLE);
    expect_recv(5001, 100);
    expect_deadline_in(TW_MS(200));
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5101, 0);
    expect_timers("delack");
    expect_state(TW_ESTABLISHED);
}

TEST(established_fin_close_wait) {
    conn_established();
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    expect_states("CLOSE_WAIT:RCV_FIN");
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), 0); /* end of stream */
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(established_data_and_fin_close_wait) {
    conn_established();
    tw_tcp_result r = send_data(FIN | ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5102, 0); /* the FIN is ACKed at once (delack_fin off) */
    expect_states("CLOSE_WAIT:RCV_FIN");
    expect_recv(5001, 100);
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), 0);
}

TEST(established_syn_challenge_ack) {
    conn_established();
    tw_tcp_result r = send_seg(SYN, 5001, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_CHALLENGE);
    expect_state(TW_ESTABLISHED);
    expect_counters("CHALLENGE_ACK");
}

TEST(established_syn_ack_old_unacceptable_ack) {
    conn_established();
    /* The SYN-ACK again (our handshake ACK was lost): SEG.SEQ < RCV.NXT. */
    tw_tcp_result r = send_seg(SYN | ACK, 5000, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_ESTABLISHED);
    expect_counters("DROP_UNACCEPTABLE");
}

TEST(established_rst_exact_closed_reset) {
    conn_established();
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNRESET);
    ASSERT_TRUE(F.c.events & TW_CEV_CLOSED);
    expect_counters("RST_RECEIVED");
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_ECONNRESET);
    ASSERT_EQ(tw_tcp_send(&F.c, b, 1, F.now), -TW_ECONNRESET);
}

TEST(established_rst_in_window_challenge_ack) {
    conn_established();
    tw_tcp_result r = send_seg(RST, 5002, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_ESTABLISHED);
    expect_counters("CHALLENGE_ACK");
}

TEST(established_challenge_acks_limited_per_second) {
    /* RFC 5961 §7: at most 10 challenge ACKs per second on a connection;
     * the rest are counted and not sent, and the budget refills a second
     * after the first one. */
    conn_established();
    tw_time_t t0 = F.now;
    for (int i = 0; i < 15; i++) {
        tw_test_context("RST %d", i + 1);
        tw_tcp_result r = send_seg(RST, 5002 + (uint32_t)i, 0, NULL, 0, 0);
        expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
        if (i < 10) {
            expect_segs(1);
            expect_seg(0, ACK, 1001, 5001, 0);
        } else {
            expect_silence();
        }
        advance(TW_MS(10));
    }
    ASSERT_EQ(F.counters[TW_C_CHALLENGE_ACK], 10);
    ASSERT_EQ(F.counters[TW_C_CHALLENGE_ACK_LIMITED], 5);
    advance(t0 + TW_SEC(1) - F.now);         /* one second after the first */
    send_seg(SYN, 5001, 0, NULL, 0, FX_WND); /* a SYN is challenged too */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_ESTABLISHED);
}

TEST(established_rst_out_of_window_dropped) {
    conn_established();
    tw_tcp_result r = send_seg(RST, 5001 + 65535, 0, NULL, 0, 0); /* first byte past the window */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_ESTABLISHED);
    expect_counters("DROP_RST_OUT_OF_WINDOW");
    r = send_seg(RST, 5000, 0, NULL, 0, 0); /* just below */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    expect_silence();
    expect_state(TW_ESTABLISHED);
}

TEST(established_ack_too_new_acked_and_dropped) {
    conn_established();
    tw_tcp_result r = send_data(ACK, 5001, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0); /* the data was dropped with it */
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_counters("DROP_ACK_TOO_NEW");
}

TEST(established_ack_too_old_challenge_ack) {
    conn_established();
    /* RFC 5961 §5.2: acceptable only from SND.UNA - MAX.SND.WND = 1001 - 65535. */
    tw_tcp_result r = send_data(ACK, 5001, 1001u - 65535u - 1u, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_OLD);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_counters("DROP_ACK_TOO_OLD,CHALLENGE_ACK");
}

TEST(established_ack_old_in_range_ignored) {
    conn_established();
    tw_tcp_result r = send_data(ACK, 5001, 1001u - 65535u, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_recv(5001, 10);
    expect_counters("");
}

/* RFC 9293 §3.10.7.4: the send window is updated only from an ACK with
 * SND.UNA =< SEG.ACK. Here the peer closed its window, then a segment with
 * new data (a later SEG.SEQ, so SND.WL1 < SEG.SEQ) but an old ACK offers
 * 100 octets: its right edge (951 + 100) is below what we hold, and taking
 * it used to send 100 octets past every window the peer ever offered (found
 * by fuzz_stack). The window stays closed; only the data is taken. */
TEST(established_old_ack_does_not_open_window) {
    conn_established();
    send_data(ACK, 5001, 1001, 10, 0); /* window closed, SND.WL1 = 5001 */
    ASSERT_EQ(user_send(1001, 100), 100);
    ASSERT_EQ(run_output(), 0);
    expect_silence();
    tw_tcp_result r = send_data(ACK, 5011, 951, 10, 100);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_recv(5001, 20);
    ASSERT_EQ(F.c.snd_wnd, 0u);
    ASSERT_EQ(run_output(), 0);
    expect_silence(); /* no data, and the ACK of 5021 waits (delayed ACK) */
    /* The same window on a current ACK opens it. */
    r = send_data(ACK, 5021, 1001, 0, 100);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.snd_wnd, 100u);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5021, 100);
    expect_counters("");
}

/* The same section: an ACK that moves SND.UNA updates the window even on a
 * segment whose SEG.SEQ is older than SND.WL1 (here one overlapping RCV.NXT
 * from the left). Otherwise the old SND.WND would count from the new
 * SND.UNA: 2461 + 3000, past the edge 1001 + 3000 the peer offered (found
 * by fuzz_stack; the peer had shrunk its window to 500). */
TEST(established_window_from_ack_of_new_data_with_old_seq) {
    conn_established();
    send_data(ACK, 5001, 1001, 100, 3000);
    send_data(ACK, 5101, 1001, 100, 3000); /* SND.WL1 = 5101, RCV.NXT = 5201 */
    ASSERT_EQ(user_send(1001, 4000), 4000);
    ASSERT_EQ(run_output(), 2); /* 1001..3921; Nagle holds the last 80 */
    ASSERT_EQ(F.c.snd_nxt.v, 1001u + 2920u);
    tw_tcp_result r = send_data(ACK, 5051, 2461, 200, 500);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.snd_wnd, 500u);
    ASSERT_EQ(F.c.snd_wl1.v, 5101u); /* SND.WL1 does not move back */
    ASSERT_EQ(F.c.snd_wl2.v, 2461u);
    run_output();
    for (int i = 0; i < F.nout; i++) ASSERT_EQ(F.out[i].len, 0u);
    ASSERT_EQ(F.c.snd_nxt.v, 1001u + 2920u); /* right edge 2961: nothing more */
    expect_recv(5001, 250);
}

TEST(established_old_data_acked) {
    conn_established();
    tw_tcp_result r = send_data(ACK, 4991, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_counters("DROP_UNACCEPTABLE");
}

TEST(established_segment_without_ack_dropped) {
    conn_established();
    tw_tcp_result r = send_data(PSH, 5001, 0, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_NO_ACK);
    expect_silence();
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_counters("DROP_NO_ACK");
}

TEST(established_send_then_acked) {
    conn_established();
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    expect_payload(0);
    expect_deadline_in(TW_SEC(1));
    advance(FX_RTT);
    tw_tcp_result r = send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    ASSERT_TRUE(F.c.events & TW_CEV_WRITABLE);
    ASSERT_EQ(tw_tcp_writable(&F.c), 65535);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(established_close_fin_wait_1) {
    conn_established();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_states("FIN_WAIT_1:USER_CLOSE");
    expect_deadline_in(TW_SEC(1));
}

TEST(established_shutdown_fin_wait_1) {
    conn_established();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_states("FIN_WAIT_1:USER_SHUTDOWN");
}

TEST(established_abort_rst) {
    conn_established();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("RST_ABORT");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    ASSERT_EQ(run_output(), 0); /* exactly one RST */
}

TEST(established_abort_during_retransmission_rst_at_snd_max) {
    conn_established();
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    advance(TW_SEC(1));
    expect_seg(0, ACK | PSH, 1001, 5001, 100); /* retransmitted */
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1101, 0, 0); /* SND.MAX, never below what the peer may have seen */
}

TEST_MAIN()
