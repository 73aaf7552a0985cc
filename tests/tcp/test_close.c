/* test_close.c - the user-call side of closing (RFC 9293 §3.10.4 CLOSE,
 * §3.10.5 ABORT): half-close, close with unread data, abort in every state,
 * send after shutdown, end of stream, and the three-way close that
 * cfg.delack_fin enables versus the four-way close. */
#include "fixture.h"

TEST(close_shutdown_half_close_receives_in_fin_wait_1_and_2) {
    conn_established();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND); /* FIN_WAIT_1: still receiving */
    expect_silence();
    expect_recv(5001, 100);
    send_data(ACK | PSH, 5101, 1002, 100, FX_WND); /* acks our FIN */
    expect_states("FIN_WAIT_1:USER_SHUTDOWN,FIN_WAIT_2:RCV_ACK_OF_FIN");
    expect_silence(); /* 200 bytes unacknowledged, below 2*MSS: the ACK is delayed */
    send_data(ACK | PSH, 5201, 1002, 100, FX_WND); /* FIN_WAIT_2: still receiving */
    expect_silence();
    expect_recv(5101, 200);
    send_seg(FIN | ACK, 5301, 1002, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5302, 0);
    expect_states("FIN_WAIT_1:USER_SHUTDOWN,FIN_WAIT_2:RCV_ACK_OF_FIN,TIME_WAIT:RCV_FIN");
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), 0);
}

TEST(close_with_unread_data_rst) {
    conn_established();
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_silence();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0); /* no ACK bit: <SEQ=SND.MAX><CTL=RST> */
    expect_states("CLOSED:USER_CLOSE_UNREAD");
    expect_counters("RST_UNREAD_DATA");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    ASSERT_EQ(run_output(), 0);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(close_with_unread_data_rst_at_snd_max) {
    conn_established();
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND); /* acks nothing of ours */
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1101, 0, 0);
    expect_states("CLOSED:USER_CLOSE_UNREAD");
}

TEST(close_after_reading_everything_is_graceful) {
    conn_established();
    send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_recv(5001, 100);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5101, 0); /* carries the delayed ACK too */
    expect_states("FIN_WAIT_1:USER_CLOSE");
    expect_counters("");
}

TEST(close_data_after_close_rst) {
    conn_established();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1002, 10, FX_WND); /* acks our FIN too */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_DATA_AFTER_CLOSE);
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_states("FIN_WAIT_1:USER_CLOSE,CLOSED:RCV_DATA_AFTER_CLOSE");
    expect_counters("DROP_DATA_AFTER_CLOSE,RST_DATA_AFTER_CLOSE");
}

TEST(close_pending_data_then_fin) {
    conn_established();
    ASSERT_EQ(user_send(1001, 3000), 3000);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 1460);
    expect_seg(1, ACK, 2461, 5001, 1460);
    expect_seg(2, FIN | ACK | PSH, 3921, 5001, 80); /* the FIN follows the last byte */
    expect_payload(2);
    expect_states("FIN_WAIT_1:USER_CLOSE");
    send_seg(ACK, 5001, 4002, NULL, 0, FX_WND);
    expect_states("FIN_WAIT_1:USER_CLOSE,FIN_WAIT_2:RCV_ACK_OF_FIN");
}

/* ---------------------------------------------------------------- abort */

typedef struct abort_case {
    const char *name;
    void (*setup)(void);
    int rst_seq; /* -1: no RST */
} abort_case;

TEST(close_abort_rst_in_each_synchronized_state) {
    static const abort_case cases[] = {
        {"SYN_RECEIVED", conn_syn_received, 1001}, {"ESTABLISHED", conn_established, 1001},
        {"FIN_WAIT_1", conn_fin_wait_1, 1002},     {"FIN_WAIT_2", conn_fin_wait_2, 1002},
        {"CLOSE_WAIT", conn_close_wait, 1001},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_test_context("abort in %s", cases[i].name);
        cases[i].setup();
        ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
        run_output();
        expect_segs(1);
        expect_seg(0, RST, (uint32_t)cases[i].rst_seq, 0, 0);
        expect_states("CLOSED:USER_ABORT");
        expect_counters("RST_ABORT");
        ASSERT_EQ(F.c.err, 0);
        ASSERT_TRUE(tw_tcp_is_dead(&F.c));
        expect_deadline_in(TW_TIME_NEVER);
        ASSERT_EQ(run_output(), 0);
    }
}

TEST(close_abort_no_rst_outside_synchronized_data_states) {
    static const abort_case cases[] = {
        {"LISTEN", conn_listen, -1},       {"SYN_SENT", conn_syn_sent, -1},
        {"CLOSING", conn_closing, -1},     {"LAST_ACK", conn_last_ack, -1},
        {"TIME_WAIT", conn_time_wait, -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_test_context("abort in %s", cases[i].name);
        cases[i].setup();
        ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
        ASSERT_EQ(run_output(), 0);
        expect_states("CLOSED:USER_ABORT");
        expect_counters("");
        ASSERT_TRUE(tw_tcp_is_dead(&F.c));
        expect_deadline_in(TW_TIME_NEVER);
    }
}

TEST(close_abort_in_closed_is_quiet) {
    conn_established();
    send_seg(RST, 5001, 0, NULL, 0, 0);
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNRESET);
}

/* ---------------------------------------------------------------- send / recv */

TEST(close_send_after_shutdown_epipe) {
    conn_established();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
    ASSERT_EQ(tw_tcp_writable(&F.c), 0);
    conn_close_wait();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
    conn_syn_received();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_send(&F.c, "x", 1, F.now), -TW_EPIPE);
    ASSERT_EQ(run_output(), 0);
}

TEST(close_recv_returns_0_at_eof) {
    conn_established();
    send_data(FIN | ACK | PSH, 5001, 1001, 30, FX_WND);
    expect_recv(5001, 10);
    expect_recv(5011, 20);
    uint8_t b[8];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, sizeof b, F.now), 0);
    ASSERT_EQ(tw_tcp_recv(&F.c, b, sizeof b, F.now), 0);
}

TEST(close_recv_eagain_before_eof) {
    conn_established();
    uint8_t b[8];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, sizeof b, F.now), -TW_EAGAIN);
    send_data(FIN | ACK, 5011, 1001, 10, FX_WND); /* FIN beyond a gap: not EOF yet */
    ASSERT_EQ(tw_tcp_recv(&F.c, b, sizeof b, F.now), -TW_EAGAIN);
    expect_state(TW_ESTABLISHED);
}

/* ---------------------------------------------------------------- three-way vs four-way */

TEST(close_three_way_with_delack_fin) {
    fx_opts o = fx_defaults();
    o.cfg.delack_fin = true;
    fx_next(&o);
    conn_established();
    send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_silence(); /* the ACK of the FIN waits for the application */
    expect_states("CLOSE_WAIT:RCV_FIN");
    advance(TW_MS(50));
    expect_silence();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0); /* ACK and FIN in one segment */
    send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_silence();
    expect_states("CLOSE_WAIT:RCV_FIN,LAST_ACK:USER_CLOSE,CLOSED:RCV_ACK_OF_FIN");
    ASSERT_EQ(F.counters[TW_C_DELACK_SENT], 0);
}

TEST(close_delack_fin_without_close_acks_at_200ms) {
    fx_opts o = fx_defaults();
    o.cfg.delack_fin = true;
    fx_next(&o);
    conn_established();
    send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_silence();
    advance(TW_MS(200) - 1);
    expect_silence();
    advance(1);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0);
}

TEST(close_four_way_without_delack_fin) {
    conn_established();
    send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0); /* default: the FIN is ACKed at once */
    advance(TW_MS(50));
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5002, 0);
    send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_states("CLOSE_WAIT:RCV_FIN,LAST_ACK:USER_CLOSE,CLOSED:RCV_ACK_OF_FIN");
}

TEST(close_delack_fin_needs_delack_enabled) {
    fx_opts o = fx_defaults();
    o.cfg.delack_fin = true;
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_established();
    send_seg(FIN | ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
}

TEST(close_twice_is_harmless) {
    conn_established();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("FIN_WAIT_1:USER_CLOSE");
}

TEST_MAIN()
