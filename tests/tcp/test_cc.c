/* test_cc.c - congestion control (tcp_cc.h, cc_newreno.c) traced exactly:
 * the initial window (RFC 6928, RFC 5681 §3.1), slow start and congestion
 * avoidance (§3.1), Limited Transmit (RFC 3042), fast retransmit on the
 * third duplicate ACK and fast recovery (RFC 5681 §3.2) with NewReno's
 * partial ACKs (RFC 6582), the RTO (cwnd = one segment, ssthresh cut once),
 * the restart window after idle (§4.1), and sending limited by
 * min(cwnd, the peer's window). No timestamps here: SMSS = 1460, so the
 * initial window is 14600 bytes, ten segments. We send from 1001; the peer
 * is at 5001. */
#include "fixture.h"

#define MSS 1460u

/* Segments 0..n-1 of the last step are full-sized and consecutive from seq. */
static void expect_run(int first, int n, uint32_t seq) {
    for (int i = 0; i < n; i++) expect_seg(first + i, ACK, seq + (uint32_t)i * MSS, 5001, MSS);
}

/* A duplicate ACK from the peer: SEG.ACK = SND.UNA, no data, same window. */
static void dupack(uint32_t ack) {
    send_seg(ACK, 5001, ack, NULL, 0, FX_WND);
}

/* Established with `bytes` queued and the first window sent: 10 segments. */
static void flight_of_ten(uint32_t bytes) {
    conn_established();
    ASSERT_EQ(F.c.cwnd, 14600);
    ASSERT_EQ(F.c.ssthresh, TW_CC_SSTHRESH_INF);
    ASSERT_EQ(user_send(1001, bytes), (int)bytes);
    run_output();
    expect_segs(10);
    expect_run(0, 9, 1001);
    expect_seg(9, bytes == 10 * MSS ? ACK | PSH : ACK, 1001 + 9 * MSS, 5001, MSS);
}

TEST(cc_initial_window_rfc6928) {
    ASSERT_EQ(tw_cc_initial_window(536), 5360);   /* 10 segments */
    ASSERT_EQ(tw_cc_initial_window(1448), 14480); /* 10 segments */
    ASSERT_EQ(tw_cc_initial_window(1460), 14600);
    ASSERT_EQ(tw_cc_initial_window(4000), 14600); /* 14600 bytes */
    ASSERT_EQ(tw_cc_initial_window(9000), 18000); /* 2 segments */
    flight_of_ten(30000); /* cwnd, not the 65535-byte window, stops the 11th */
    expect_deadline_in(TW_SEC(1));
}

TEST(cc_initial_window_with_timestamps) {
    fx_opts o = fx_defaults();
    o.peer_ts = true;
    o.peer_tsval = 1;
    fx_next(&o);
    conn_established();
    ASSERT_EQ(F.c.smss, 1448);
    ASSERT_EQ(F.c.cwnd, 14480);
}

TEST(cc_initial_window_one_segment_after_lost_syn) {
    conn_syn_sent();
    advance_to_deadline(); /* the SYN again */
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.c.cwnd, MSS); /* RFC 5681 §3.1 */
    user_send(1001, 5000);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, MSS);
}

TEST(cc_send_limited_by_smaller_of_cwnd_and_window) {
    fx_opts o = fx_defaults();
    o.peer_wnd = 5000;
    fx_next(&o);
    conn_established();
    user_send(1001, 30000);
    run_output();
    expect_segs(3); /* the window, not cwnd (14600): 3 * 1460 <= 5000 */
    expect_run(0, 3, 1001);
    send_seg(ACK, 5001, 1001, NULL, 0, 60000); /* window opens wide */
    expect_segs(7);                            /* now cwnd limits: 10 in flight */
    expect_run(0, 7, 1001 + 3 * MSS);
}

TEST(cc_slow_start_one_smss_per_ack) {
    flight_of_ten(30000);
    advance(FX_RTT);
    send_seg(ACK, 5001, 1001 + MSS, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 14600 + MSS);
    expect_segs(2); /* one for the segment acknowledged, one for the growth */
    expect_run(0, 2, 15601);
    send_seg(ACK, 5001, 1001 + 3 * MSS, NULL, 0, FX_WND); /* two segments at once */
    ASSERT_EQ(F.c.cwnd, 14600 + 2 * MSS);                 /* min(N, SMSS): one more */
    expect_segs(3);
    expect_run(0, 3, 15601 + 2 * MSS);
}

TEST(cc_congestion_avoidance_counts_bytes) {
    flight_of_ten(60000);
    F.c.ssthresh = 14600; /* as after an earlier loss: cwnd == ssthresh avoids */
    for (uint32_t k = 1; k <= 9; k++) {
        send_seg(ACK, 5001, 1001 + k * MSS, NULL, 0, FX_WND);
        ASSERT_EQ(F.c.cwnd, 14600);
        ASSERT_EQ(F.c.cc_acked, k * MSS);
        expect_segs(1); /* ACK clocking: one out per one acknowledged */
    }
    send_seg(ACK, 5001, 1001 + 10 * MSS, NULL, 0, FX_WND); /* a cwnd's worth acknowledged */
    ASSERT_EQ(F.c.cwnd, 14600 + MSS);
    ASSERT_EQ(F.c.cc_acked, 0);
    expect_segs(2);
}

TEST(cc_fast_retransmit_on_third_dupack_and_recovery) {
    flight_of_ten(40000); /* 1001 is lost; the peer got the other nine */
    advance(FX_RTT);
    dupack(1001); /* Limited Transmit: one new segment per early dupack */
    expect_segs(1);
    expect_seg(0, ACK, 15601, 5001, MSS);
    ASSERT_EQ(F.c.dupacks, 1);
    ASSERT_EQ(F.c.cwnd, 14600);
    dupack(1001);
    expect_segs(1);
    expect_seg(0, ACK, 17061, 5001, MSS);
    dupack(1001); /* the third: fast retransmit */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, MSS);
    expect_payload(0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    ASSERT_EQ(F.c.ssthresh, 8760);       /* FlightSize 17520 / 2 */
    ASSERT_EQ(F.c.cwnd, 8760 + 3 * MSS); /* 13140 */
    ASSERT_EQ(F.c.recover.v, 18520);     /* the highest sequence number sent */
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1);
    ASSERT_EQ(F.c.snd_nxt.v, 18521); /* SND.NXT stays */
    /* Each further dupack inflates cwnd by one SMSS; data goes out when
     * SND.UNA + cwnd passes SND.NXT by a full segment (Nagle holds less). */
    static const uint32_t cw[] = {14600, 16060, 17520, 18980, 20440};
    static const int out[] = {0, 0, 0, 1, 1};
    static const uint32_t seq[] = {0, 0, 0, 18521, 19981};
    for (int i = 0; i < 5; i++) {
        dupack(1001);
        ASSERT_EQ(F.c.cwnd, cw[i]);
        expect_segs(out[i]);
        if (out[i]) expect_seg(0, ACK, seq[i], 5001, MSS);
    }
    /* The retransmission arrives: a full ACK, beyond recover. */
    advance(FX_RTT);
    send_seg(ACK, 5001, 18521, NULL, 0, FX_WND);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.c.cwnd, 4380); /* min(ssthresh, max(FlightSize 2920, SMSS) + SMSS) */
    ASSERT_EQ(F.c.dupacks, 0);
    expect_segs(1);
    expect_seg(0, ACK, 21441, 5001, MSS);
    ASSERT_EQ(F.c.fast_retrans, 1);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
}

TEST(cc_newreno_partial_ack_retransmits_next_hole) {
    flight_of_ten(14600); /* 1001 and 3921 are lost */
    advance(FX_RTT);
    dupack(1001);
    dupack(1001);
    expect_silence(); /* no new data to send for Limited Transmit */
    dupack(1001);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, MSS);
    ASSERT_EQ(F.c.ssthresh, 7300);
    ASSERT_EQ(F.c.cwnd, 11680);
    advance(FX_RTT);
    tw_time_t t_partial = F.now;
    send_seg(ACK, 5001, 3921, NULL, 0, FX_WND); /* partial: up to the next hole */
    expect_segs(1);
    expect_seg(0, ACK, 3921, 5001, MSS); /* RFC 6582 step 4: retransmitted at once */
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.c.cwnd, 11680 - 2920 + MSS); /* deflated by 2920, one SMSS back */
    ASSERT_U64_EQ(F.c.t_rexmt, t_partial + F.c.rto);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1); /* not a new fast retransmit */
    advance(FX_RTT);
    send_seg(ACK, 5001, 15601, NULL, 0, FX_WND); /* full ACK */
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.c.cwnd, 2920); /* min(7300, max(0, SMSS) + SMSS) */
    ASSERT_EQ(F.c.ssthresh, 7300);
    expect_deadline_in(TW_TIME_NEVER);
}

TEST(cc_rto_one_segment_ssthresh_cut_once) {
    flight_of_ten(14600);
    tw_time_t t0 = F.now;
    advance(TW_SEC(1));
    expect_segs(1); /* go-back-N at one segment per cwnd */
    expect_seg(0, ACK, 1001, 5001, MSS);
    ASSERT_EQ(F.c.ssthresh, 7300);
    ASSERT_EQ(F.c.cwnd, MSS);
    ASSERT_EQ(F.c.recover.v, 15600);
    advance(TW_SEC(2)); /* the backed-off RTO: the same segment is lost again */
    expect_segs(1);
    ASSERT_U64_EQ(F.out[0].t, t0 + TW_SEC(3));
    ASSERT_EQ(F.c.ssthresh, 7300); /* not cut again for the same segment */
    ASSERT_EQ(F.c.cwnd, MSS);
    send_seg(ACK, 5001, 2461, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 2 * MSS); /* slow start again */
    expect_segs(2);
    expect_seg(0, ACK, 2461, 5001, MSS);
    expect_seg(1, ACK, 3921, 5001, MSS);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    /* Duplicate ACKs for data sent before the timeout do not start a fast
     * retransmit: they do not cover more than recover (RFC 6582 step 2). */
    dupack(2461);
    dupack(2461);
    dupack(2461);
    expect_silence();
    ASSERT_EQ(F.c.dupacks, 3);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.c.cwnd, 2 * MSS);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 0);
}

TEST(cc_restart_window_after_idle) {
    flight_of_ten(14600);
    advance(FX_RTT);
    send_seg(ACK, 5001, 15601, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 14600 + MSS);
    user_send(15601, 23 * MSS);
    run_output();
    expect_segs(11); /* the grown window, at once */
    advance(FX_RTT);
    send_seg(ACK, 5001, 15601 + 11 * MSS, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 14600 + 2 * MSS);
    expect_segs(12);
    advance(FX_RTT);
    send_seg(ACK, 5001, 15601 + 23 * MSS, NULL, 0, FX_WND); /* everything */
    expect_silence();
    ASSERT_EQ(F.c.cwnd, 14600 + 3 * MSS);
    advance(F.c.rto + 1); /* idle for more than an RTO (RFC 5681 §4.1) */
    user_send(15601 + 23 * MSS, 30000);
    run_output();
    ASSERT_EQ(F.c.cwnd, 14600); /* min(RW = IW, cwnd) */
    expect_segs(10);
}

TEST(cc_what_is_not_a_duplicate_ack) {
    flight_of_ten(14600);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND - 1); /* the window changed */
    ASSERT_EQ(F.c.dupacks, 0);
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND - 1); /* carries data */
    ASSERT_EQ(F.c.dupacks, 0);
    send_seg(ACK, 5011, 1001, NULL, 0, FX_WND - 1); /* this one is */
    ASSERT_EQ(F.c.dupacks, 1);
    send_seg(ACK | FIN, 5011, 1001, NULL, 0, FX_WND - 1); /* a FIN */
    ASSERT_EQ(F.c.dupacks, 1);
}

TEST(cc_nothing_outstanding_no_duplicate) {
    conn_established();
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.dupacks, 0); /* RFC 5681 §2 (a): no data outstanding */
    ASSERT_EQ(F.c.cwnd, 14600);
}

TEST(cc_fast_retransmit_of_a_lost_fin) {
    conn_established();
    F.c.flags |= TW_TF_NODELAY;
    user_send(1001, 4 * MSS);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(4);
    expect_seg(3, ACK | PSH | FIN, 1001 + 3 * MSS, 5001, MSS);
    /* The third segment is lost: the peer's ACKs stop at 3921. */
    send_seg(ACK, 5001, 3921, NULL, 0, FX_WND);
    dupack(3921);
    dupack(3921);
    dupack(3921);
    expect_segs(1);
    expect_seg(0, ACK, 3921, 5001, MSS);
    send_seg(ACK, 5001, 5381, NULL, 0, FX_WND); /* partial: the FIN segment is lost too */
    expect_segs(1);
    expect_seg(0, ACK | PSH | FIN, 5381, 5001, MSS);
    send_seg(ACK, 5001, 6842, NULL, 0, FX_WND);
    expect_states("FIN_WAIT_1:USER_SHUTDOWN,FIN_WAIT_2:RCV_ACK_OF_FIN");
}

TEST(cc_bare_ack_goes_at_snd_max_during_go_back_n) {
    flight_of_ten(14600);
    advance(TW_SEC(1)); /* RTO: SND.NXT back to 1001, one segment resent */
    expect_seg(0, ACK, 1001, 5001, MSS);
    ASSERT_EQ(F.c.snd_nxt.v, 2461);
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND);
    advance(TW_MS(200)); /* the delayed ACK of those 10 bytes */
    expect_segs(1);
    /* At SND.MAX: the peer may have received up to 15601, and a bare ACK at
     * SND.NXT (2461) would be below its RCV.NXT, unacceptable, dropped. */
    expect_seg(0, ACK, 15601, 5011, 0);
}

TEST(cc_bare_ack_never_past_a_closed_window) {
    fx_opts o = fx_defaults();
    o.peer_wnd = 0;
    fx_next(&o);
    conn_established();
    user_send(1001, 10);
    run_output();
    advance_to_deadline(); /* the persist timer: a probe of the byte at 1001 */
    expect_segs(1);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_PROBE);
    ASSERT_EQ(F.c.snd_max.v, 1002);
    send_data(ACK | PSH, 5001, 1001, 10, 0); /* data from the peer, window still 0 */
    advance(TW_MS(200));
    /* A zero window accepts only SEQ = RCV.NXT (1001): not SND.MAX. */
    expect_seg(0, ACK, 1001, 5011, 0);
}

TEST(cc_bare_ack_at_the_right_edge_is_taken) {
    /* The other side of it: the peer filled our window and has a hole in
     * it; its bare ACK at its SND.MAX = our RCV.NXT + RCV.WND is taken, as
     * BSD and Linux take it (RFC 9293's strict test would drop it). */
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 4000;
    fx_next(&o);
    conn_established();
    user_send(1001, 100);
    run_output();
    expect_seg(0, ACK | PSH, 1001, 5001, 100);
    send_data(ACK, 6001, 1001, 3000, FX_WND); /* 5001..6000 missing: up to the edge */
    expect_seg(0, ACK, 1101, 5001, 0);
    ASSERT_EQ(tw_seq_diff(F.c.rcv_adv, F.c.rcv_nxt), 4000);
    tw_tcp_result r = send_seg(ACK, 9001, 1101, NULL, 0, FX_WND); /* SEQ = the edge */
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.snd_una.v, 1101);
    r = send_seg(RST, 9001, 0, NULL, 0, 0); /* an RST there stays out of the window */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
    r = send_seg(ACK, 9002, 1101, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
}

TEST_MAIN()
