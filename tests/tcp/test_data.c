/* test_data.c - data transfer in ESTABLISHED: Nagle (RFC 9293 §3.7.4), MSS
 * negotiation (§3.7.1), send and receive windows with SWS avoidance
 * (§3.8.6), out-of-order and duplicate data, trimming to the window, and
 * sequence numbers wrapping around 2^32 (§3.4). */
#include "fixture.h"

static void nodelay(void) {
    F.c.flags |= TW_TF_NODELAY; /* as tw_set_nodelay() does */
}

/* ---------------------------------------------------------------- Nagle */

TEST(data_nagle_holds_small_segment_until_acked) {
    conn_established();
    ASSERT_EQ(user_send(1001, 100), 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 100); /* nothing in flight: goes at once */
    ASSERT_EQ(user_send(1101, 100), 100);
    ASSERT_EQ(run_output(), 0); /* small, and data unacknowledged: held */
    advance(FX_RTT);
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 100);
    expect_payload(0);
}

TEST(data_nagle_full_segments_go_small_tail_waits) {
    conn_established();
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    user_send(1101, 2000);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK, 1101, 5001, 1460); /* full-sized: not held */
    send_seg(ACK, 5001, 1101, NULL, 0, FX_WND);
    expect_silence(); /* 1460 bytes still in flight */
    send_seg(ACK, 5001, 2561, NULL, 0, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 2561, 5001, 540);
    expect_payload(0);
}

TEST(data_nodelay_sends_small_segments_at_once) {
    conn_established();
    nodelay();
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    user_send(1101, 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1101, 5001, 100);
}

TEST(data_cfg_nagle_off_means_nodelay) {
    fx_opts o = fx_defaults();
    o.cfg.nagle = false;
    fx_next(&o);
    conn_established();
    ASSERT_TRUE(F.c.flags & TW_TF_NODELAY);
    user_send(1001, 10);
    run_output();
    user_send(1011, 10);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1011, 5001, 10);
}

TEST(data_nagle_shutdown_flushes_tail_with_fin) {
    conn_established();
    user_send(1001, 100);
    run_output();
    user_send(1101, 100);
    ASSERT_EQ(run_output(), 0);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK | PSH, 1101, 5001, 100);
    expect_states("FIN_WAIT_1:USER_SHUTDOWN");
}

/* ---------------------------------------------------------------- MSS */

static void established_with_peer_mss(int mss) {
    fx_opts o = fx_defaults();
    o.peer_mss = mss;
    fx_next(&o);
    conn_established();
    nodelay();
}

TEST(data_mss_peer_smaller_used) {
    established_with_peer_mss(536);
    ASSERT_EQ(F.c.snd_mss, 536);
    user_send(1001, 1000);
    run_output();
    expect_segs(2);
    expect_seg(0, ACK, 1001, 5001, 536);
    expect_seg(1, ACK | PSH, 1537, 5001, 464);
    expect_payload(0);
    expect_payload(1);
}

TEST(data_mss_absent_536) {
    established_with_peer_mss(-1);
    ASSERT_EQ(F.c.snd_mss, 536);
    user_send(1001, 1200);
    run_output();
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 536);
    expect_seg(1, ACK, 1537, 5001, 536);
    expect_seg(2, ACK | PSH, 2073, 5001, 128);
}

TEST(data_mss_tiny_clamped_to_48) {
    established_with_peer_mss(10);
    ASSERT_EQ(F.c.snd_mss, 48);
    user_send(1001, 100);
    run_output();
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 48);
    expect_seg(1, ACK, 1049, 5001, 48);
    expect_seg(2, ACK | PSH, 1097, 5001, 4);
}

TEST(data_mss_zero_clamped_to_48) {
    established_with_peer_mss(0);
    ASSERT_EQ(F.c.snd_mss, 48);
}

TEST(data_mss_peer_larger_uses_ours) {
    established_with_peer_mss(9000);
    ASSERT_EQ(F.c.snd_mss, 1460);
    user_send(1001, 3000);
    run_output();
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 1460);
    expect_seg(1, ACK, 2461, 5001, 1460);
    expect_seg(2, ACK | PSH, 3921, 5001, 80);
}

TEST(data_mss_option_only_on_syn) {
    conn_established();
    user_send(1001, 10);
    run_output();
    ASSERT_FALSE(F.out[0].has_mss);
}

/* ---------------------------------------------------------------- send window */

TEST(data_send_window_limits_flight) {
    fx_opts o = fx_defaults();
    o.peer_wnd = 1000;
    fx_next(&o);
    conn_established();
    user_send(1001, 2500);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 1000); /* half the max window: sent despite Nagle */
    send_seg(ACK, 5001, 2001, NULL, 0, 1000);
    expect_segs(1);
    expect_seg(0, ACK, 2001, 5001, 1000);
    send_seg(ACK, 5001, 2501, NULL, 0, 1000); /* half acked: 500 usable */
    expect_segs(1);
    expect_seg(0, ACK | PSH, 3001, 5001, 500);
    expect_payload(0);
}

TEST(data_send_window_update_from_pure_ack) {
    fx_opts o = fx_defaults();
    o.peer_wnd = 0;
    fx_next(&o);
    conn_established();
    user_send(1001, 100);
    ASSERT_EQ(run_output(), 0);
    send_seg(ACK, 5001, 1001, NULL, 0, 4000); /* window update */
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    ASSERT_EQ(F.c.snd_wnd, 4000);
}

TEST(data_small_window_sws_override_timer_sends_what_fits) {
    /* Window 4000 with MSS 1460: after all is acked the peer offers 1080
     * bytes, below the sender's SWS threshold. Nothing is in flight, so if
     * the peer's later window update were lost the data would wait for ever:
     * the override timeout (RFC 1122 §4.2.3.4) sends what fits after one RTO. */
    fx_opts o = fx_defaults();
    o.peer_wnd = 4000;
    fx_next(&o);
    conn_established();
    user_send(1001, 10000);
    run_output();
    expect_segs(2);
    expect_seg(0, ACK, 1001, 5001, 1460);
    expect_seg(1, ACK, 2461, 5001, 1460);
    send_seg(ACK, 5001, 3921, NULL, 0, 1080);
    expect_silence(); /* held back: 1080 < MSS and < half the largest window */
    ASSERT_U64_EQ(tw_tcp_next_deadline(&F.c), F.now + F.c.rto);
    advance(F.c.rto);
    expect_segs(1);
    expect_seg(0, ACK, 3921, 5001, 1080);
    expect_payload(0);
    expect_timers("persist");
}

TEST(data_send_old_window_update_ignored) {
    conn_established();
    send_data(ACK, 5001, 1001, 10, 3000); /* SND.WL1 = 5001 */
    ASSERT_EQ(F.c.snd_wnd, 3000);
    send_seg(ACK, 5000, 1001, NULL, 0, 100); /* older segment: unacceptable anyway */
    ASSERT_EQ(F.c.snd_wnd, 3000);
}

TEST(data_send_buffer_full_eagain) {
    fx_opts o = fx_defaults();
    o.cfg.sndbuf = 1000;
    fx_next(&o);
    conn_established();
    ASSERT_EQ(user_send(1001, 1500), 1000);
    ASSERT_EQ(user_send(2001, 1), -TW_EAGAIN);
    ASSERT_EQ(tw_tcp_writable(&F.c), 0);
}

/* ---------------------------------------------------------------- receive window */

TEST(data_receive_window_advertised_never_shrinks) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 4000; /* SWS threshold min(4000/2, 1460) = 1460 */
    fx_next(&o);
    conn_established();
    send_data(ACK, 5001, 1001, 1000, FX_WND);
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 6001, 0);
    ASSERT_EQ(F.out[0].wnd, 3000); /* right edge 9001 */
    expect_recv(5001, 500);
    ASSERT_EQ(run_output(), 0); /* 500 freed < 1460: no window update */
    send_data(ACK, 6001, 1001, 3000, FX_WND);
    expect_segs(1); /* 3000 >= 2 * MSS: ACK now */
    expect_seg(0, ACK, 1001, 9001, 0);
    ASSERT_EQ(F.out[0].wnd, 0); /* 500 free, below the SWS threshold: edge stays 9001 */
    expect_recv(5501, 900);
    ASSERT_EQ(run_output(), 0); /* 1400 free: still below the threshold */
    expect_recv(6401, 100);
    run_output();
    expect_segs(1); /* 1500 free >= 1460: window update */
    expect_seg(0, ACK, 1001, 9001, 0);
    ASSERT_EQ(F.out[0].wnd, 1500);
}

TEST(data_receive_window_edge_monotonic_while_filling) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 3000; /* SWS threshold min(1500, 1460) = 1460 */
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_established();
    uint32_t seq = 5001;
    for (int i = 0; i < 4; i++) {
        send_data(ACK, seq, 1001, 500, FX_WND);
        seq += 500;
        expect_segs(1);
        expect_seg(0, ACK, 1001, seq, 0);
        ASSERT_EQ(F.out[0].ack + F.out[0].wnd, 5001 + 3000); /* the edge stays put */
        if (i == 0) { /* 500 read: the edge could move by 500 only, so it does not */
            expect_recv(5001, 500);
            ASSERT_EQ(run_output(), 0);
        }
    }
    /* 1000 left of the window, below the threshold: reading 1500 (edge +2000)
     * is worth a window update. */
    expect_recv(5501, 1500);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK, 1001, 7001, 0);
    ASSERT_EQ(F.out[0].wnd, 3000);
    for (int i = 0; i < 2; i++) {
        send_data(ACK, seq, 1001, 500, FX_WND);
        seq += 500;
        expect_seg(0, ACK, 1001, seq, 0);
        ASSERT_EQ(F.out[0].ack + F.out[0].wnd, 7001 + 3000);
    }
}

TEST(data_beyond_window_trimmed) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1000;
    fx_next(&o);
    conn_established();
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 1400, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 1000); /* bytes past the window are cut */
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 6001, 0);
    ASSERT_EQ(F.out[0].wnd, 0);
    r = send_data(ACK, 6001, 1001, 10, FX_WND); /* zero window: unacceptable */
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_seg(0, ACK, 1001, 6001, 0);
    expect_recv(5001, 1000);
}

TEST(data_fin_beyond_window_not_taken) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1000;
    fx_next(&o);
    conn_established();
    send_data(FIN | ACK | PSH, 5001, 1001, 1400, FX_WND);
    expect_state(TW_ESTABLISHED); /* the FIN was cut off with the tail */
    ASSERT_EQ(tw_tcp_readable(&F.c), 1000);
}

/* ---------------------------------------------------------------- reordering, duplicates */

TEST(data_out_of_order_buffered_then_delivered_with_ack_now) {
    conn_established();
    tw_tcp_result r = send_data(ACK, 5011, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0); /* duplicate ACK at once */
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_EAGAIN);
    r = send_data(ACK, 5001, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5021, 0); /* the gap filled: ACK at once */
    expect_recv(5001, 20);
    expect_counters("ACK_NOW_OOO");
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(data_out_of_order_several_holes) {
    conn_established();
    send_data(ACK, 5041, 1001, 10, FX_WND);
    expect_seg(0, ACK, 1001, 5001, 0);
    send_data(ACK, 5021, 1001, 10, FX_WND);
    expect_seg(0, ACK, 1001, 5001, 0);
    send_data(ACK, 5001, 1001, 20, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5031, 0);
    send_data(ACK, 5031, 1001, 10, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5051, 0);
    expect_recv(5001, 50);
    expect_counters("ACK_NOW_OOO=2");
}

TEST(data_out_of_order_many_holes_held_up_to_the_bound) {
    /* A drop-tail queue that overflows in slow start loses every few
     * segments of a window: the receiver holds TW_ASM_MAX (96) separate
     * ranges, each ACKed at once; a range beyond that is dropped and
     * counted (the bound on work and memory per segment); filling the holes
     * delivers everything once and in order. */
    conn_established();
    for (uint32_t i = 0; i < TW_ASM_MAX; i++) {
        expect_result(send_data(ACK, 5011 + 20 * i, 1001, 10, FX_WND), TW_ACT_ACCEPT, 0);
        expect_segs(1);
        expect_seg(0, ACK, 1001, 5001, 0);
    }
    ASSERT_EQ(F.c.ooo.n, TW_ASM_MAX);
    send_data(ACK, 5011 + 20 * TW_ASM_MAX, 1001, 10, FX_WND); /* one range more */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.c.ooo.n, TW_ASM_MAX);
    char want[64];
    snprintf(want, sizeof want, "ACK_NOW_OOO=%d,DROP_OOO_FULL", TW_ASM_MAX + 1);
    expect_counters(want);
    for (uint32_t i = 0; i < TW_ASM_MAX; i++) {
        send_data(ACK, 5001 + 20 * i, 1001, 10, FX_WND); /* the hole below range i */
        expect_segs(1);
        expect_seg(0, ACK, 1001, 5021 + 20 * i, 0);
    }
    ASSERT_EQ(F.c.ooo.n, 0);
    expect_recv(5001, 20 * TW_ASM_MAX);
}

TEST(data_duplicate_reacked) {
    conn_established();
    send_data(ACK, 5001, 1001, 10, FX_WND);
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 5011, 0);
    tw_tcp_result r = send_data(ACK, 5001, 1001, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5011, 0);
    expect_recv(5001, 10);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

TEST(data_partial_overlap_front_trimmed) {
    conn_established();
    send_data(ACK, 5001, 1001, 10, FX_WND);
    tw_tcp_result r = send_data(ACK, 5001, 1001, 30, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_recv(5001, 30);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

/* ---------------------------------------------------------------- wrap-around */

TEST(data_sequence_numbers_wrap_around) {
    fx_opts o = fx_defaults();
    o.iss = 0xFFFFFFF0u;
    o.peer_iss = 0xFFFFFF00u;
    fx_next(&o);
    conn_established();
    nodelay();
    /* Sending: 100 bytes from 0xFFFFFFF1 end at 0x55. */
    ASSERT_EQ(user_send(0xFFFFFFF1u, 100), 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 0xFFFFFFF1u, 0xFFFFFF01u, 100);
    expect_payload(0);
    send_seg(ACK, 0xFFFFFF01u, 0x55, NULL, 0, FX_WND);
    expect_silence();
    ASSERT_EQ(tw_tcp_writable(&F.c), 65535); /* all acknowledged */
    expect_deadline_in(TW_TIME_NEVER);
    /* Receiving across the wrap, second half first. */
    send_data(ACK, 0xFFFFFFC9u, 0x55, 200, FX_WND); /* ends at 0x91 */
    expect_seg(0, ACK, 0x55, 0xFFFFFF01u, 0);
    send_data(ACK, 0xFFFFFF01u, 0x55, 200, FX_WND);
    expect_segs(1);
    expect_seg(0, ACK, 0x55, 0x91, 0);
    expect_recv(0xFFFFFF01u, 400);
    /* Close across the wrap too. */
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 0x55, 0x91, 0);
    send_seg(FIN | ACK, 0x91, 0x56, NULL, 0, FX_WND);
    expect_seg(0, ACK, 0x56, 0x92, 0);
    expect_states("FIN_WAIT_1:USER_CLOSE,TIME_WAIT:RCV_FIN_ACK");
}

TEST(data_iss_at_2_pow_32_minus_1) {
    fx_opts o = fx_defaults();
    o.iss = 0xFFFFFFFFu;
    o.peer_iss = 0xFFFFFFFFu;
    fx_next(&o);
    conn_established(); /* the SYNs take 0xFFFFFFFF; data starts at 0 */
    user_send(0, 10);
    run_output();
    expect_seg(0, ACK | PSH, 0, 0, 10);
    send_data(ACK, 0, 10, 10, FX_WND);
    expect_recv(0, 10);
    ASSERT_EQ(tw_tcp_writable(&F.c), 65535);
}

TEST_MAIN()
