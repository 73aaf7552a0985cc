/* test_rfc7323.c - RFC 7323 on the wire: window scale negotiation and
 * scaling (§2), timestamps on every segment with the TSecr echo rules
 * (§3.2, §4.3), RTT measurement from TSecr (§4.1, Appendix G), PAWS (§5.3)
 * with the 24-day rule (§5.5), and the MSS left for data (RFC 9293 §3.7.1).
 * We are at SND.NXT 1001, the peer at RCV.NXT 5001; the peer's TS clock
 * starts at 100 in these tests. */
#include "fixture.h"

/* Our timestamp clock now: 1 ms ticks from the connection's offset. */
static uint32_t our_ts(void) {
    return F.c.ts_offset + (uint32_t)(F.now / TW_MS(1));
}

/* An active open with the peer offering timestamps (TSval 100) and, when
 * peer_ws >= 0, a window scale option; our receive ring holds rcvbuf. */
static void established_ts(uint32_t rcvbuf, int peer_ws) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = rcvbuf;
    o.peer_ws = peer_ws;
    o.peer_ts = true;
    o.peer_tsval = 100;
    fx_next(&o);
    conn_established();
}

static void expect_ts(int i, uint32_t tsval, uint32_t tsecr) {
    ASSERT_TRUE(i < F.nout);
    ASSERT_TRUE(F.out[i].opt.has_ts);
    ASSERT_EQ(F.out[i].opt.tsval, tsval);
    ASSERT_EQ(F.out[i].opt.tsecr, tsecr);
}

/* ---------------------------------------------------------------- SYN options */

TEST(rfc7323_syn_offers_ws_sized_to_buffer_and_ts) {
    conn_syn_sent(); /* default ring 65535: a shift of 0 covers it */
    /* conn_syn_sent checked MSS; look at the SYN again through a retransmission */
    advance_to_deadline();
    expect_segs(1);
    expect_seg(0, SYN, 1000, 0, 0);
    ASSERT_TRUE(F.out[0].opt.has_mss);
    ASSERT_EQ(F.out[0].opt.mss, 1460);
    ASSERT_TRUE(F.out[0].opt.has_ws);
    ASSERT_EQ(F.out[0].opt.ws, 0);
    expect_ts(0, our_ts(), 0);         /* TSecr is 0 without the ACK bit (§3.2) */
    ASSERT_TRUE(F.out[0].opt.sack_ok); /* RFC 2018 too (test_sack.c) */
    ASSERT_EQ(F.out[0].wnd, 65535);
}

TEST(rfc7323_wscale_sized_to_ring) {
    ASSERT_EQ(tw__tcp_wscale_for(1), 0);
    ASSERT_EQ(tw__tcp_wscale_for(65535), 0);
    ASSERT_EQ(tw__tcp_wscale_for(65536), 1);
    ASSERT_EQ(tw__tcp_wscale_for(131071), 1);
    ASSERT_EQ(tw__tcp_wscale_for(131072), 2);
    ASSERT_EQ(tw__tcp_wscale_for(1u << 20), 5);
    ASSERT_EQ(tw__tcp_wscale_for(1u << 30), 14);
    ASSERT_EQ(tw__tcp_wscale_for(UINT32_MAX), 14); /* §2.3: never above 14 */
}

TEST(rfc7323_large_ring_syn_window_unscaled) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1u << 20;
    fx_next(&o);
    conn_closed();
    ASSERT_EQ(tw_tcp_connect(&F.c, tw_seq(1000), F.now), 0);
    run_output();
    expect_segs(1);
    ASSERT_EQ(F.out[0].opt.ws, 5);
    ASSERT_EQ(F.out[0].wnd, 65535); /* §2.2: a SYN's window is never scaled */
}

TEST(rfc7323_cfg_off_offers_nothing) {
    fx_opts o = fx_defaults();
    o.cfg.ws = false;
    o.cfg.timestamps = false;
    o.peer_ws = 7;
    o.peer_ts = true;
    o.peer_tsval = 100;
    fx_next(&o);
    conn_syn_sent();
    advance_to_deadline();
    ASSERT_FALSE(F.out[0].opt.has_ws);
    ASSERT_FALSE(F.out[0].opt.has_ts);
    /* The SYN-ACK's options count only for what we offered. */
    tw_tcp_opts po = fx_peer_syn_opts();
    send_seg_opt(SYN | ACK, 5000, 1001, NULL, 0, 1000, &po);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_FALSE(F.out[0].opt.has_ts);
    ASSERT_EQ(F.c.snd_wscale, 0);
    ASSERT_EQ(F.c.xopts & (TW_XO_WS | TW_XO_TS), 0);
    send_seg(ACK, 5001, 1001, NULL, 0, 100);
    ASSERT_EQ(F.c.snd_wnd, 100);
    ASSERT_EQ(F.c.smss, 1460);
}

TEST(rfc7323_passive_answers_only_what_was_offered) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1u << 20;
    fx_next(&o);
    conn_syn_received(); /* the peer's SYN has MSS only */
    ASSERT_FALSE(F.out[0].opt.has_ws);
    ASSERT_FALSE(F.out[0].opt.has_ts);
    advance_to_deadline(); /* the SYN-ACK again */
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_FALSE(F.out[0].opt.has_ws);
    ASSERT_FALSE(F.out[0].opt.has_ts);
    ASSERT_EQ(F.out[0].wnd, 65535);
    ASSERT_EQ(F.c.rcv_wscale, 0); /* no scaling: windows stay within 16 bits */
}

TEST(rfc7323_passive_ws_and_ts_negotiated) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1u << 20;
    o.peer_ws = 7;
    o.peer_ts = true;
    o.peer_tsval = 777;
    fx_next(&o);
    conn_listen();
    tw_tcp_opts po = fx_peer_syn_opts();
    send_seg_opt(SYN, 5000, 0, NULL, 0, 1000, &po);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_TRUE(F.out[0].opt.has_ws);
    ASSERT_EQ(F.out[0].opt.ws, 5);
    expect_ts(0, our_ts(), 777);    /* TSecr echoes the SYN's TSval */
    ASSERT_EQ(F.out[0].wnd, 65535); /* unscaled in a SYN-ACK */
    ASSERT_EQ(F.c.snd_wnd, 1000);   /* and the SYN's window is taken unscaled */
    advance(FX_RTT);
    tw_tcp_opts ts = fx_ts(787, F.out[0].opt.tsval);
    send_seg_opt(ACK, 5001, 1001, NULL, 0, 10, &ts);
    expect_state(TW_ESTABLISHED);
    ASSERT_EQ(F.c.snd_wnd, 1280); /* 10 << 7 */
    ASSERT_EQ(F.c.ts_recent, 787);
    ASSERT_EQ(F.c.smss, 1448);
}

/* ---------------------------------------------------------------- scaling */

TEST(rfc7323_ws_active_windows_scaled_both_ways) {
    established_ts(1u << 20, 7);
    /* conn_established took the SYN-ACK's 65535 unscaled. */
    ASSERT_EQ(F.c.snd_wscale, 7);
    ASSERT_EQ(F.c.rcv_wscale, 5);
    /* Our ACK of the SYN-ACK offers the whole megabyte: 1048576 >> 5. */
    advance(FX_RTT);
    send_seg_opt(ACK, 5001, 1001, NULL, 0, 100, NULL);
    ASSERT_EQ(F.c.snd_wnd, 12800); /* §2.3: SEG.WND << Snd.Wind.Shift */
    ASSERT_EQ(tw__tcp_rcv_window(&F.c), 32768);
    ASSERT_EQ(tw_seq_diff(F.c.rcv_adv, F.c.rcv_nxt), 1 << 20);
}

TEST(rfc7323_ws_handshake_ack_carries_scaled_window) {
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1u << 20;
    o.peer_ws = 7;
    fx_next(&o);
    conn_syn_sent();
    advance(FX_RTT);
    tw_tcp_opts po = fx_peer_syn_opts();
    send_seg_opt(SYN | ACK, 5000, 1001, NULL, 0, 65535, &po);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.out[0].wnd, 32768);
    ASSERT_EQ(F.c.snd_wnd, 65535);
    ASSERT_FALSE(F.out[0].opt.has_ts); /* the peer did not offer timestamps */
}

TEST(rfc7323_ws_scaled_window_enforced) {
    /* A 64 KiB ring needs a shift of 1: the window is 65536, one byte more
     * than a 16-bit field could offer. */
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 65536;
    o.peer_ws = 0;
    fx_next(&o);
    conn_established();
    ASSERT_EQ(F.c.rcv_wscale, 1);
    ASSERT_EQ(tw_seq_diff(F.c.rcv_adv, F.c.rcv_nxt), 65536);
    tw_tcp_result r = send_data(ACK, 5001 + 65536, 1001, 1, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.out[0].wnd, 32768);
    r = send_data(ACK, 5001 + 65535, 1001, 1, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0); /* the last byte of the window */
    expect_counters("DROP_UNACCEPTABLE,ACK_NOW_OOO");
}

TEST(rfc7323_ws_rounding_never_shrinks_the_window) {
    established_ts(1u << 20, 7);
    advance(FX_RTT);
    tw_tcp_opts ts = fx_ts(110, our_ts());
    static uint8_t data[100];
    send_seg_opt(ACK | PSH, 5001, 1001, data, 100, 100, &ts);
    expect_silence(); /* delayed ACK */
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5101, 0);
    /* 1048476 bytes free, promised 1048476: 1048476 >> 5 = 32764 would
     * offer 1048448 and pull the right edge left; rounded up instead. */
    ASSERT_EQ(F.out[0].wnd, 32765);
    ASSERT_EQ(tw_seq_diff(F.c.rcv_adv, tw_seq(5001)), 100 + 32765 * 32);
}

TEST(rfc7323_ws_peer_shift_14) {
    fx_opts o = fx_defaults();
    o.peer_ws = 14;
    fx_next(&o);
    conn_established();
    send_seg(ACK, 5001, 1001, NULL, 0, 3);
    ASSERT_EQ(F.c.snd_wnd, 3u << 14);
}

/* ---------------------------------------------------------------- timestamps */

TEST(rfc7323_ts_handshake_and_every_segment) {
    established_ts(65535, -1);
    ASSERT_TRUE(F.c.xopts & TW_XO_TS);
    ASSERT_EQ(F.c.ts_recent, 100);
    ASSERT_EQ(F.c.snd_wscale, 0); /* TS without WS */
    advance(FX_RTT);
    ASSERT_EQ(user_send(1001, 10), 10);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 10);
    expect_ts(0, our_ts(), 100);
    ASSERT_FALSE(F.out[0].opt.has_ws); /* WS only ever on SYNs */
    ASSERT_FALSE(F.out[0].opt.has_mss);
}

TEST(rfc7323_ts_not_sent_unless_both_syns_had_it) {
    conn_established(); /* the peer's SYN-ACK had MSS only */
    ASSERT_EQ(user_send(1001, 10), 10);
    run_output();
    expect_segs(1);
    ASSERT_FALSE(F.out[0].opt.has_ts);
    ASSERT_EQ(F.c.smss, 1460);
}

TEST(rfc7323_ts_offset_secret_part_of_iss_stable_per_tuple) {
    /* RFC 6528 ISS = M + F: incarnations of a 4-tuple share F, so they share
     * the TS offset, while their ISSs differ by the 4 µs clock. */
    tw_tcp_conn a, b;
    tw_seq_t f = tw_seq(0x12345678);
    tw__tcp_ts_init(&a, tw_seq_add(f, 1000), TW_US(4000));
    tw__tcp_ts_init(&b, tw_seq_add(f, 250000), TW_MS(1000));
    ASSERT_EQ(a.ts_offset, b.ts_offset);
    tw__tcp_ts_init(&b, tw_seq_add(f, 1001), TW_US(4000));
    ASSERT_NE(a.ts_offset, b.ts_offset);
}

TEST(rfc7323_tsecr_delayed_ack_echoes_earliest) {
    established_ts(65535, -1);
    advance(FX_RTT);
    /* §4.3: with a delayed ACK, TS.Recent is the TSval of the first segment
     * the ACK covers; the second arrives above Last.ACK.sent. */
    tw_tcp_opts ts = fx_ts(110, our_ts());
    static uint8_t data[1448];
    send_seg_opt(ACK, 5001, 1001, data, 1448, FX_WND, &ts);
    expect_silence();
    ts.tsval = 111;
    send_seg_opt(ACK, 6449, 1001, data, 1448, FX_WND, &ts);
    expect_segs(1); /* two full segments: ACK at once */
    expect_seg(0, ACK, 1001, 7897, 0);
    expect_ts(0, our_ts(), 110);
    ts.tsval = 112;
    send_seg_opt(ACK | PSH, 7897, 1001, data, 100, FX_WND, &ts);
    expect_silence();
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 7997, 0);
    expect_ts(0, our_ts(), 112);
}

TEST(rfc7323_tsecr_out_of_order_not_recorded) {
    established_ts(65535, -1);
    advance(FX_RTT);
    static uint8_t data[1000];
    tw_tcp_opts ts = fx_ts(120, our_ts());
    send_seg_opt(ACK, 6001, 1001, data, 100, FX_WND, &ts);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0); /* duplicate ACK for the gap */
    expect_ts(0, our_ts(), 100);       /* 6001 > Last.ACK.sent: not recorded */
    ts.tsval = 121;
    send_seg_opt(ACK, 5001, 1001, data, 1000, FX_WND, &ts);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 6101, 0);
    expect_ts(0, our_ts(), 121);
}

TEST(rfc7323_ts_recent_wraps_modulo_2_32) {
    fx_opts o = fx_defaults();
    o.peer_ts = true;
    o.peer_tsval = 0xfffffff0u;
    fx_next(&o);
    conn_established();
    tw_tcp_opts ts = fx_ts(5, our_ts()); /* past the wrap: newer */
    tw_tcp_result r = send_seg_opt(ACK | PSH, 5001, 1001, "x", 1, FX_WND, &ts);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.ts_recent, 5);
}

TEST(rfc7323_segment_without_ts_accepted) {
    established_ts(65535, -1);
    tw_tcp_result r = send_data(ACK | PSH, 5001, 1001, 100, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_recv(5001, 100);
    ASSERT_EQ(F.c.ts_recent, 100);
}

TEST(rfc7323_mss_less_timestamp_option) {
    established_ts(65535, -1);
    F.c.flags |= TW_TF_NODELAY;
    ASSERT_EQ(F.c.snd_mss, 1460);
    ASSERT_EQ(F.c.smss, 1448);
    ASSERT_EQ(user_send(1001, 3000), 3000);
    run_output();
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 1448);
    expect_seg(1, ACK, 2449, 5001, 1448);
    expect_seg(2, ACK | PSH, 3897, 5001, 104);
    expect_payload(1);
}

TEST(rfc7323_time_wait_and_rst_carry_ts) {
    established_ts(65535, -1);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_ts(0, our_ts(), 100);
    advance(FX_RTT);
    tw_tcp_opts ts = fx_ts(130, F.out[0].opt.tsval);
    send_seg_opt(FIN | ACK, 5001, 1002, NULL, 0, FX_WND, &ts);
    expect_state(TW_TIME_WAIT);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_ts(0, our_ts(), 130);
    /* The peer's FIN again (our ACK was lost): re-ACKed, echoing its TSval. */
    advance(TW_SEC(1));
    ts.tsval = 1130;
    send_seg_opt(FIN | ACK, 5001, 1002, NULL, 0, FX_WND, &ts);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_ts(0, our_ts(), 1130);
}

TEST(rfc7323_abort_rst_carries_ts) {
    established_ts(65535, -1);
    advance(FX_RTT);
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, RST, 1001, 0, 0);
    expect_ts(0, our_ts(), 100); /* §3.2: SHOULD be sent in an RST */
}

/* ---------------------------------------------------------------- RTT */

TEST(rfc7323_rtt_from_tsecr) {
    established_ts(65535, -1);
    /* The SYN was timed: 10 ms. */
    ASSERT_U64_EQ(F.c.srtt, TW_MS(10));
    ASSERT_U64_EQ(F.c.rttvar, TW_MS(5));
    user_send(1001, 100);
    run_output();
    uint32_t sent_ts = F.out[0].opt.tsval;
    advance(TW_MS(30));
    tw_tcp_opts ts = fx_ts(140, sent_ts);
    send_seg_opt(ACK, 5001, 1101, NULL, 0, FX_WND, &ts);
    /* R = 30 ms, one sample expected per RTT: RFC 6298 gains. */
    ASSERT_U64_EQ(F.c.srtt, TW_US(12500));  /* 7/8 * 10 + 1/8 * 30 */
    ASSERT_U64_EQ(F.c.rttvar, TW_US(8750)); /* 3/4 * 5 + 1/4 * 20 */
}

TEST(rfc7323_rtt_sample_from_retransmission) {
    established_ts(65535, -1);
    user_send(1001, 100);
    run_output();
    advance_to_deadline(); /* RTO: 1 s, the segment again */
    expect_segs(1);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    uint32_t rexmt_ts = F.out[0].opt.tsval;
    advance(TW_MS(20));
    tw_tcp_opts ts = fx_ts(1140, rexmt_ts);
    send_seg_opt(ACK, 5001, 1101, NULL, 0, FX_WND, &ts);
    /* Karn's rule would take no sample; TSecr says which copy was ACKed. */
    ASSERT_U64_EQ(F.c.srtt, TW_US(11250)); /* 7/8 * 10 + 1/8 * 20 */
    ASSERT_EQ(F.c.rexmt_count, 0);
    ASSERT_U64_EQ(F.c.rto, TW_SEC(1)); /* the rto_min floor */
}

TEST(rfc7323_rtt_bogus_tsecr_ignored) {
    established_ts(65535, -1);
    user_send(1001, 100);
    run_output();
    advance(TW_MS(30));
    /* An echo from before the connection existed is no sample; the timed
     * segment (Karn-safe, never retransmitted) still gives one: 30 ms. */
    tw_tcp_opts ts = fx_ts(140, our_ts() - 5000);
    send_seg_opt(ACK, 5001, 1101, NULL, 0, FX_WND, &ts);
    ASSERT_U64_EQ(F.c.srtt, TW_US(12500));
}

TEST(rfc7323_rtt_samples_weighted_by_window) {
    /* Appendix G: with 4 full segments in flight, 2 samples are expected
     * per RTT, so each moves SRTT by 1/16 instead of 1/8. */
    established_ts(65535, -1);
    F.c.flags |= TW_TF_NODELAY;
    user_send(1001, 4 * 1448);
    run_output();
    expect_segs(4);
    uint32_t t0 = F.out[0].opt.tsval;
    advance(TW_MS(42));
    tw_tcp_opts ts = fx_ts(150, t0);
    send_seg_opt(ACK, 5001, 1001 + 1448, NULL, 0, FX_WND, &ts);
    /* flight 5792 before the ACK, 2 * SMSS = 2896: ExpectedSamples = 2 */
    ASSERT_U64_EQ(F.c.srtt, (15 * TW_MS(10) + TW_MS(42)) / 16);
    ASSERT_U64_EQ(F.c.rttvar, (7 * TW_MS(5) + TW_MS(32)) / 8);
}

/* ---------------------------------------------------------------- PAWS */

TEST(rfc7323_paws_old_duplicate_dropped_with_ack) {
    established_ts(65535, -1);
    advance(FX_RTT);
    tw_tcp_opts ts = fx_ts(99, our_ts());
    tw_tcp_result r = send_seg_opt(ACK | PSH, 5001, 1001, "old", 3, FX_WND, &ts);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_PAWS);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_ts(0, our_ts(), 100);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_counters("DROP_PAWS");
    /* An equal TSval is not older: accepted. */
    ts.tsval = 100;
    r = send_seg_opt(ACK | PSH, 5001, 1001, "new", 3, FX_WND, &ts);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 3);
}

TEST(rfc7323_paws_old_ack_dropped) {
    established_ts(65535, -1);
    user_send(1001, 10);
    run_output();
    tw_tcp_opts ts = fx_ts(50, our_ts());
    tw_tcp_result r = send_seg_opt(ACK, 5001, 1011, NULL, 0, FX_WND, &ts);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_PAWS);
    ASSERT_EQ(F.c.snd_una.v, 1001); /* its ACK field was not taken */
}

TEST(rfc7323_paws_rst_exempt) {
    established_ts(65535, -1);
    tw_tcp_opts ts = fx_ts(1, 0);
    tw_tcp_result r = send_seg_opt(RST, 5001, 0, NULL, 0, 0, &ts);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_states("CLOSED:RCV_RST");
}

TEST(rfc7323_paws_ts_recent_invalid_after_24_days) {
    established_ts(65535, -1);
    advance(TW_SEC(24 * 24 * 3600)); /* exactly 24 days: still valid */
    tw_tcp_opts ts = fx_ts(99, our_ts());
    tw_tcp_result r = send_seg_opt(ACK | PSH, 5001, 1001, "x", 1, FX_WND, &ts);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_PAWS);
    advance(TW_SEC(1));
    ts.tsecr = our_ts();
    r = send_seg_opt(ACK | PSH, 5001, 1001, "x", 1, FX_WND, &ts);
    expect_result(r, TW_ACT_ACCEPT, 0); /* §5.5: TS.Recent no longer valid */
    ASSERT_EQ(F.c.ts_recent, 99);
    ASSERT_EQ(tw_tcp_readable(&F.c), 1);
}

TEST_MAIN()
