/* test_time_wait.c - TIME_WAIT (RFC 9293 §3.10.7.4, RFC 1337, RFC 5961):
 * both FINs are exchanged and acknowledged; SND.NXT 1002, RCV.NXT 5002.
 * The same decisions serve the stack's compact TIME_WAIT records through
 * tw_tcp_tw_input(), which is checked directly at the end. */
#include "fixture.h"

TEST(time_wait_fixture_path) {
    conn_time_wait();
    expect_history("SYN_SENT:USER_CONNECT,ESTABLISHED:RCV_SYN_ACK,FIN_WAIT_1:USER_SHUTDOWN,"
                   "FIN_WAIT_2:RCV_ACK_OF_FIN,TIME_WAIT:RCV_FIN");
    expect_deadline_in(TW_SEC(60)); /* 2 * MSL, MSL = 30 s */
}

TEST(time_wait_fin_retransmitted_reacked_2msl_restarted) {
    conn_time_wait();
    advance(TW_SEC(30));
    tw_tcp_result r = send_seg(FIN | ACK, 5001, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_deadline_in(TW_SEC(60));
    expect_state(TW_TIME_WAIT);
    expect_counters("TW_FIN_REACK");
}

TEST(time_wait_fin_with_data_retransmitted_reacked) {
    conn_time_wait();
    tw_tcp_result r = send_data(FIN | ACK | PSH, 4991, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_counters("TW_FIN_REACK");
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
}

TEST(time_wait_fin_new_beyond_fin_acked_no_restart) {
    conn_time_wait();
    advance(TW_SEC(10));
    tw_tcp_result r = send_seg(FIN | ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_deadline_in(TW_SEC(50));
    expect_counters("DROP_DATA_AFTER_FIN");
}

TEST(time_wait_ack_duplicate_dropped_silently) {
    conn_time_wait();
    tw_tcp_result r = send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_TW_SEGMENT);
    expect_silence();
    expect_deadline_in(TW_SEC(60));
    expect_counters("DROP_TW_SEGMENT");
}

TEST(time_wait_ack_too_new_answered_with_ack) {
    /* RFC 9293 §3.10.7.4 fifth step: an ACK of something not yet sent is
     * answered with an ACK and dropped; 2MSL is not restarted. */
    conn_time_wait();
    tw_tcp_result r = send_seg(ACK, 5002, 1003, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_TIME_WAIT);
    expect_deadline_in(TW_SEC(60));
}

TEST(time_wait_fin_without_ack_dropped) {
    /* Fifth step: "if the ACK bit is off, drop the segment and return",
     * even for what looks like a retransmitted FIN: no re-ACK, no restart. */
    conn_time_wait();
    advance(TW_SEC(10));
    tw_tcp_result r = send_seg(FIN, 5001, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_NO_ACK);
    expect_silence();
    expect_deadline_in(TW_SEC(50));
}

TEST(time_wait_ack_old_seq_acked) {
    conn_time_wait();
    tw_tcp_result r = send_seg(ACK, 5001, 1002, NULL, 0, FX_WND); /* below RCV.NXT */
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_deadline_in(TW_SEC(60));
}

TEST(time_wait_syn_old_challenge_ack) {
    conn_time_wait();
    tw_tcp_result r = send_seg(SYN, 5001, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_TIME_WAIT);
    expect_counters("CHALLENGE_ACK");
}

TEST(time_wait_syn_ack_challenge_ack) {
    conn_time_wait();
    tw_tcp_result r = send_seg(SYN | ACK, 7000, 1002, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_TIME_WAIT);
}

TEST(time_wait_syn_new_challenge_ack_in_bare_conn) {
    conn_time_wait();
    advance(TW_SEC(5));
    /* A SYN above RCV.NXT could reopen the 4-tuple (the stack does that for
     * its records); a connection still held by the user answers it with a
     * challenge ACK and keeps its 2MSL deadline. */
    tw_tcp_result r = send_seg(SYN, 9000, 0, NULL, 0, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    expect_state(TW_TIME_WAIT);
    expect_deadline_in(TW_SEC(55));
    expect_counters("CHALLENGE_ACK");
}

TEST(time_wait_rst_exact_ignored) {
    conn_time_wait();
    tw_tcp_result r = send_seg(RST, 5002, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_TW_RST_IGNORED); /* RFC 1337 */
    expect_silence();
    expect_state(TW_TIME_WAIT);
    expect_deadline_in(TW_SEC(60));
    expect_counters("TW_RST_IGNORED");
}

TEST(time_wait_rst_in_window_ignored) {
    conn_time_wait();
    tw_tcp_result r = send_seg(RST | ACK, 5100, 1002, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_TW_RST_IGNORED);
    expect_silence();
    expect_state(TW_TIME_WAIT);
}

TEST(time_wait_rst_out_of_window_ignored) {
    conn_time_wait();
    tw_tcp_result r = send_seg(RST, 4000, 0, NULL, 0, 0);
    expect_result(r, TW_ACT_DROP, TW_C_TW_RST_IGNORED);
    expect_silence();
    expect_state(TW_TIME_WAIT);
}

TEST(time_wait_data_acked_and_dropped) {
    conn_time_wait();
    tw_tcp_result r = send_data(ACK | PSH, 5002, 1002, 10, FX_WND);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1002, 5002, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_deadline_in(TW_SEC(60));
}

TEST(time_wait_segment_without_ack_dropped) {
    conn_time_wait();
    tw_tcp_result r = send_data(PSH, 5002, 0, 10, FX_WND);
    expect_result(r, TW_ACT_DROP, TW_C_DROP_NO_ACK);
    expect_silence();
}

TEST(time_wait_expires_exactly_at_2msl) {
    conn_time_wait();
    advance(TW_SEC(60) - 1);
    expect_silence();
    expect_state(TW_TIME_WAIT);
    advance(1);
    expect_silence();
    expect_states("CLOSED:TIMEOUT_2MSL");
    expect_timers("2msl");
    ASSERT_EQ(F.counters[TW_C_TW_EXPIRE], 1);
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
    ASSERT_EQ(F.c.err, 0);
}

TEST(time_wait_from_closing_expires_at_2msl) {
    conn_closing();
    send_seg(ACK, 5002, 1002, NULL, 0, FX_WND);
    expect_states("TIME_WAIT:RCV_ACK_OF_FIN");
    advance(TW_SEC(60) - 1);
    expect_state(TW_TIME_WAIT);
    advance(1);
    expect_states("TIME_WAIT:RCV_ACK_OF_FIN,CLOSED:TIMEOUT_2MSL");
}

TEST(time_wait_user_calls) {
    conn_time_wait();
    uint8_t b[1];
    ASSERT_EQ(tw_tcp_recv(&F.c, b, 1, F.now), 0);
    ASSERT_EQ(tw_tcp_send(&F.c, b, 1, F.now), -TW_EPIPE);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_state(TW_TIME_WAIT);
    expect_states("");
    expect_deadline_in(TW_SEC(60));
}

TEST(time_wait_close_with_unread_data_no_rst) {
    conn_fin_wait_2();
    send_data(FIN | ACK | PSH, 5001, 1002, 10, FX_WND);
    expect_seg(0, ACK, 1002, 5012, 0);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0); /* the peer has closed too: nothing to reset */
    expect_states("TIME_WAIT:RCV_FIN");
    expect_counters("");
}

TEST(time_wait_abort_no_rst) {
    conn_time_wait();
    ASSERT_EQ(tw_tcp_abort(&F.c, F.now), 0);
    ASSERT_EQ(run_output(), 0);
    expect_states("CLOSED:USER_ABORT");
    expect_counters("");
    ASSERT_TRUE(tw_tcp_is_dead(&F.c));
}

/* The shared verdicts, as the stack's compact records see them. */
TEST(time_wait_record_verdicts) {
    tw_tcp_tw tw = {.snd_nxt = tw_seq(1002), .rcv_nxt = tw_seq(5002), .wnd = 65535};
    tw_tcp_seg s;
    uint16_t reason;
    memset(&s, 0, sizeof s);

    s.flags = FIN | ACK;
    s.seq = tw_seq(5001);
    s.ack = tw_seq(1002);
    reason = 0;
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REACK);
    ASSERT_EQ(reason, TW_C_TW_FIN_REACK);

    s.flags = SYN;
    s.seq = tw_seq(5003);
    s.ack = tw_seq(0);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REUSE);
    ASSERT_EQ(reason, TW_C_TW_REUSE);

    s.flags = SYN;
    s.seq = tw_seq(5002);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_ACK);
    ASSERT_EQ(reason, TW_C_CHALLENGE_ACK);

    s.flags = RST;
    s.seq = tw_seq(5002);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_DROP);
    ASSERT_EQ(reason, TW_C_TW_RST_IGNORED);

    s.flags = ACK;
    s.seq = tw_seq(5002);
    s.ack = tw_seq(1002);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_DROP);
    ASSERT_EQ(reason, TW_C_DROP_TW_SEGMENT);

    tw_tcp_seg out;
    tw_tcp_tw_ack(&tw, FX_LADDR, FX_LPORT, FX_RADDR, FX_RPORT, TW_SEC(7), &out);
    ASSERT_EQ(out.flags, ACK);
    ASSERT_EQ(out.seq.v, 1002);
    ASSERT_EQ(out.ack.v, 5002);
    ASSERT_EQ(out.wnd, 65535);
    ASSERT_EQ(out.src_port, FX_LPORT);
    ASSERT_EQ(out.dst_addr, FX_RADDR);
    ASSERT_TRUE(!out.opt.has_ts); /* no timestamps in use: no option */
}

/* RFC 6191 §2 with timestamps in use: the SYN's TSval decides, whatever its
 * sequence number; an equal TSval falls back to the sequence number. */
TEST(time_wait_record_rfc6191_timestamps_decide) {
    tw_tcp_tw tw = {.snd_nxt = tw_seq(1002),
                    .rcv_nxt = tw_seq(5002),
                    .wnd = 65535,
                    .ts = true,
                    .ts_offset = 1000,
                    .ts_recent = 700};
    tw_tcp_seg s;
    uint16_t reason = 0;
    memset(&s, 0, sizeof s);
    s.flags = SYN;
    s.opt.has_ts = true;

    s.seq = tw_seq(100); /* below RCV.NXT, but a newer timestamp */
    s.opt.tsval = 701;
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REUSE);
    ASSERT_EQ(reason, TW_C_TW_REUSE);

    s.seq = tw_seq(9000); /* above RCV.NXT, but an old timestamp: old duplicate */
    s.opt.tsval = 699;
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_ACK);
    ASSERT_EQ(reason, TW_C_CHALLENGE_ACK);

    s.opt.tsval = 700; /* equal: the sequence number decides */
    s.seq = tw_seq(5003);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REUSE);
    s.seq = tw_seq(5002);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_ACK);
    ASSERT_EQ(reason, TW_C_CHALLENGE_ACK);

    s.opt.has_ts = false; /* no TS on the SYN: the sequence number decides */
    s.seq = tw_seq(5003);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REUSE);
    s.seq = tw_seq(4000);
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_ACK);
}

/* PAWS in TIME_WAIT (RFC 7323 §5.3 R1): an old timestamp is answered with an
 * ACK and counted; RSTs stay ignored (RFC 1337), PAWS or not; the ACK
 * carries TSval = ms + offset and TSecr = TS.Recent. */
TEST(time_wait_record_paws_and_ts_option) {
    tw_tcp_tw tw = {.snd_nxt = tw_seq(1002),
                    .rcv_nxt = tw_seq(5002),
                    .wnd = 512,
                    .ts = true,
                    .ts_offset = 1000,
                    .ts_recent = 700};
    tw_tcp_seg s;
    uint16_t reason = 0;
    memset(&s, 0, sizeof s);
    s.flags = FIN | ACK;
    s.seq = tw_seq(5001);
    s.ack = tw_seq(1002);
    s.opt.has_ts = true;
    s.opt.tsval = 650; /* an old copy of the FIN */
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_ACK);
    ASSERT_EQ(reason, TW_C_DROP_PAWS);
    s.opt.tsval = 900; /* the retransmitted FIN */
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_REACK);
    s.flags = RST;
    s.opt.tsval = 1;
    ASSERT_EQ(tw_tcp_tw_input(&tw, &s, &reason), TW_TWV_DROP);
    ASSERT_EQ(reason, TW_C_TW_RST_IGNORED);

    tw_tcp_seg out;
    tw_tcp_tw_ack(&tw, FX_LADDR, FX_LPORT, FX_RADDR, FX_RPORT, TW_SEC(7) + TW_MS(3), &out);
    ASSERT_TRUE(out.opt.has_ts);
    ASSERT_EQ(out.opt.tsval, 7003 + 1000);
    ASSERT_EQ(out.opt.tsecr, 700);
}

TEST_MAIN()
