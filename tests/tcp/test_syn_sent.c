/* test_syn_sent.c - SYN_SENT (RFC 9293 §3.10.7.3, RFC 5961 §3): our SYN
 * (ISS 1000) is out; the peer's ISS is 5000. */
#include "fixture.h"

TEST(syn_sent_fixture_path) {
    conn_syn_sent();
    expect_history("SYN_SENT:USER_CONNECT");
    expect_deadline_in(TW_SEC(1));
}

TEST(syn_sent_syn_ack_established) {
    conn_syn_sent();
    advance(FX_RTT);
    tw_tcp_result r = send_seg_mss(SYN | ACK, 5000, 1001, 30000, 1460);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.out[0].wnd, 65535);
    expect_states("ESTABLISHED:RCV_SYN_ACK");
    ASSERT_TRUE(F.c.events & TW_CEV_CONNECTED);
    ASSERT_EQ(F.c.snd_wnd, 30000);
    expect_deadline_in(TW_TIME_NEVER); /* nothing in flight */
    expect_counters("");
}

TEST(syn_sent_syn_ack_without_mss_uses_536) {
    conn_syn_sent();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, -1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.c.snd_mss, 536);
}

TEST(syn_sent_syn_ack_acking_iss_rst) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(SYN | ACK, 5000, 1000, NULL, 0, FX_WND); /* SEG.ACK =< ISS */
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 1000, 0, 0);
    expect_state(TW_SYN_SENT);
    expect_states("");
    expect_counters("RST_BAD_ACK");
}

TEST(syn_sent_syn_ack_too_new_rst) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(SYN | ACK, 5000, 1002, NULL, 0, FX_WND); /* > SND.NXT */
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_segs(1);
    expect_seg(0, RST, 1002, 0, 0);
    expect_state(TW_SYN_SENT);
}

TEST(syn_sent_ack_only_bad_ack_rst) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(ACK, 5001, 3000, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    expect_seg(0, RST, 3000, 0, 0);
    expect_state(TW_SYN_SENT);
}

TEST(syn_sent_ack_only_good_ack_dropped) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(ACK, 5001, 1001, NULL, 0, FX_WND); /* neither SYN nor RST */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_SYN_SENT_NO_SYN);
    expect_silence();
    expect_state(TW_SYN_SENT);
    expect_counters("DROP_SYN_SENT_NO_SYN");
}

TEST(syn_sent_rst_ack_closed_refused) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(RST | ACK, 0, 1001, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNREFUSED);
    ASSERT_TRUE(F.c.events & TW_CEV_CLOSED);
    expect_counters("RST_RECEIVED");
    expect_deadline_in(TW_TIME_NEVER);
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_ECONNREFUSED);
}

TEST(syn_sent_rst_without_ack_dropped) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(RST, 5000, 0, NULL, 0, 0); /* RFC 5961 §3: needs the ACK */
    expect_result(r, TW_ACT_DROP, TW_C_DROP_SYN_SENT_BAD_ACK);
    expect_silence();
    expect_state(TW_SYN_SENT);
    expect_counters("DROP_SYN_SENT_BAD_ACK");
}

TEST(syn_sent_rst_bad_ack_dropped) {
    conn_syn_sent();
    tw_tcp_result r = send_seg(RST | ACK, 0, 1005, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_SYN_SENT_BAD_ACK); /* never RST an RST */
    expect_silence();
    expect_state(TW_SYN_SENT);
}

TEST(syn_sent_syn_simultaneous_open) {
    conn_syn_sent();
    advance(FX_RTT);
    tw_tcp_result r = send_seg_mss(SYN, 5000, 0, FX_WND, 1460);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0); /* MUST-10: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> */
    expect_states("SYN_RECEIVED:RCV_SYN");
    advance(FX_RTT);
    r = send_seg(SYN | ACK, 5000, 1001, NULL, 0, FX_WND);
    /* The peer's SYN-ACK: its SYN is old now (SEG.SEQ < RCV.NXT), so the
     * segment is unacceptable and answered with an ACK. */
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    r = send_seg(ACK, 5001, 1001, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("SYN_RECEIVED:RCV_SYN,ESTABLISHED:RCV_ACK");
    ASSERT_EQ(F.c.err, 0);
}

TEST(syn_sent_simultaneous_open_rst_refused) {
    conn_syn_sent();
    send_seg_mss(SYN, 5000, 0, FX_WND, 1460);
    tw_tcp_result r = send_seg(RST, 5001, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence();
    expect_states("SYN_RECEIVED:RCV_SYN,CLOSED:RCV_RST");
    ASSERT_EQ(F.c.err, TW_ECONNREFUSED); /* an active open is refused, not reset */
}

TEST(syn_sent_timeout_retransmits_syn) {
    conn_syn_sent();
    advance(TW_SEC(1) - 1);
    expect_silence();
    advance(1);
    expect_segs(1);
    expect_seg(0, SYN, 1000, 0, 0);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    ASSERT_TRUE(F.out[0].has_mss);
    expect_timers("retransmit");
    expect_deadline_in(TW_SEC(2));
    expect_state(TW_SYN_SENT);
}

TEST(syn_sent_send_queued_until_established) {
    conn_syn_sent();
    ASSERT_EQ(user_send(1001, 100), 100);
    ASSERT_EQ(run_output(), 0); /* the SYN is out; data waits */
    advance(FX_RTT);
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 100); /* the handshake ACK carries the data */
    expect_payload(0);
    expect_deadline_in(TW_SEC(1));
}

TEST(syn_sent_close_closed_silently) {
    conn_syn_sent();
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("CLOSED:USER_CLOSE");
    expect_deadline_in(TW_TIME_NEVER);
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST(syn_sent_abort_no_rst) {
    conn_syn_sent();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0); /* RFC 9293 §3.10.5: no RST before synchronization */
    expect_states("CLOSED:USER_ABORT");
    expect_counters("");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

TEST(syn_sent_shutdown_not_connected) {
    conn_syn_sent();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), -TW_ENOTCONN);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_SYN_SENT);
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), -TW_EAGAIN);
}

/* ---------------------------------------------------------------- deferred handshake ACK */
/* cfg.delack_synack (TW_TCP_DELACK_SYNACK): the ACK of the SYN-ACK is a
 * delayed ACK, so the request the application writes on CONNECTED carries
 * it (RFC 9293 §3.10.7.3 lets queued data ride on that ACK). */

static void syn_sent_deferring(void) {
    fx_opts o = fx_defaults();
    o.cfg.delack_synack = true;
    fx_next(&o);
    conn_syn_sent();
    advance(FX_RTT);
}

TEST(syn_sent_syn_ack_acked_at_once_by_default) {
    conn_syn_sent();
    ASSERT_FALSE(F.o.cfg.delack_synack);
    ASSERT_FALSE(F.c.uflags & TW_UF_DELACK_SYNACK);
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(user_send(1001, 64), 64);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 64); /* the request: a second segment */
}

TEST(syn_sent_delack_synack_request_carries_the_ack) {
    syn_sent_deferring();
    tw_tcp_result r = send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence(); /* the ACK waits for the application */
    expect_states("ESTABLISHED:RCV_SYN_ACK");
    ASSERT_TRUE(F.c.events & TW_CEV_CONNECTED);
    ASSERT_TRUE(F.c.flags & TW_TF_DELACK);
    expect_deadline_in(TW_MS(200)); /* cfg->delack */
    advance(TW_MS(1));
    expect_silence();
    ASSERT_EQ(user_send(1001, 64), 64); /* written on CONNECTED */
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 64); /* ACK of the SYN-ACK and the request */
    expect_payload(0);
    ASSERT_FALSE(F.c.flags & (TW_TF_DELACK | TW_TF_ACK_NOW));
    expect_deadline_in(TW_SEC(1)); /* the RTO of the request; no delayed ACK left */
    advance(TW_SEC(1) - 1);
    expect_silence();
    expect_timers("");
    ASSERT_EQ(F.counters[TW_C_DELACK_SENT], 0);
    expect_counters("");
}

TEST(syn_sent_delack_synack_acks_alone_at_200ms) {
    syn_sent_deferring();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_silence();
    advance(TW_MS(200) - 1);
    expect_silence();
    advance(1);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0); /* nothing written: the ACK alone */
    ASSERT_EQ(F.out[0].t, F.now);
    expect_timers("delack");
    ASSERT_EQ(F.counters[TW_C_DELACK_SENT], 1);
    expect_deadline_in(TW_TIME_NEVER);
    ASSERT_EQ(user_send(1001, 64), 64);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 64);
}

TEST(syn_sent_delack_synack_follows_cfg_delack) {
    fx_opts o = fx_defaults();
    o.cfg.delack_synack = true;
    o.cfg.delack = TW_MS(40);
    fx_next(&o);
    conn_syn_sent();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_silence();
    expect_deadline_in(TW_MS(40));
    advance(TW_MS(40));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
}

TEST(syn_sent_delack_synack_data_queued_before_goes_at_once) {
    syn_sent_deferring();
    ASSERT_EQ(user_send(1001, 100), 100);
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, ACK | PSH, 1001, 5001, 100); /* as without the option */
    expect_payload(0);
    ASSERT_FALSE(F.c.flags & TW_TF_DELACK);
    expect_deadline_in(TW_SEC(1));
}

TEST(syn_sent_delack_synack_shutdown_fin_carries_the_ack) {
    syn_sent_deferring();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_silence();
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, 1001, 5001, 0);
    expect_state(TW_FIN_WAIT_1);
}

TEST(syn_sent_delack_synack_zero_window_acks_at_once) {
    syn_sent_deferring();
    send_seg_mss(SYN | ACK, 5000, 1001, 0, 1460); /* no data could go: do not wait */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_ESTABLISHED);
}

TEST(syn_sent_delack_synack_with_data_acks_at_once) {
    syn_sent_deferring();
    send_data(SYN | ACK, 5000, 1001, 10, FX_WND); /* data on a SYN-ACK is not taken */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_state(TW_ESTABLISHED);
}

TEST(syn_sent_delack_synack_needs_delack_enabled) {
    fx_opts o = fx_defaults();
    o.cfg.delack_synack = true;
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_syn_sent();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5001, 0);
}

TEST(syn_sent_delack_synack_set_on_the_connection) {
    conn_syn_sent(); /* default cfg; the socket option sets the switch after connect */
    tw_tcp_settings s;
    tw_tcp_settings_get(&F.c, &s);
    ASSERT_FALSE(s.bits & TW_SET_DELACK_SYNACK);
    s.bits |= TW_SET_DELACK_SYNACK;
    ASSERT_EQ(tw_tcp_settings_apply(&F.c, &s, F.now), 0);
    tw_tcp_settings_get(&F.c, &s);
    ASSERT_TRUE(s.bits & TW_SET_DELACK_SYNACK);
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_silence();
    expect_deadline_in(TW_MS(200));
}

TEST(syn_sent_delack_synack_simultaneous_open_unchanged) {
    syn_sent_deferring();
    send_seg_mss(SYN, 5000, 0, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, SYN | ACK, 1000, 5001, 0); /* MUST-10 is not a SYN-ACK we receive */
    expect_states("SYN_RECEIVED:RCV_SYN");
}

TEST(syn_sent_delack_synack_peer_data_before_request) {
    syn_sent_deferring();
    send_seg_mss(SYN | ACK, 5000, 1001, FX_WND, 1460);
    expect_silence();
    advance(TW_MS(50));
    send_data(ACK | PSH, 5001, 1001, 10, FX_WND); /* the server speaks first */
    expect_silence(); /* one delayed ACK for both, from the SYN-ACK's time */
    expect_deadline_in(TW_MS(150));
    advance(TW_MS(150));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5011, 0);
    expect_timers("delack");
}

TEST_MAIN()
