/* test_ecn.c - Explicit Congestion Notification on the wire (RFC 3168 §6.1,
 * RFC 9293 SHLD-8): the ECN-setup SYN and SYN-ACK, ECT(0) on new data only,
 * the receiver's ECE until CWR, and the sender's one cut per window. */
#include <string.h>

#include "fixture.h"
#include "tcp/tcp_cc.h"

enum { ECE = TW_TH_ECE, CWR = TW_TH_CWR };
#define ECT0 0x02
#define CE 0x03

/* A peer segment with the given IP TOS (its ECN codepoint). */
static tw_tcp_result send_tos(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                              uint8_t tos) {
    static uint8_t data[1460];
    for (uint32_t i = 0; i < len; i++) data[i] = fx_byte(seq + i);
    tw_tcp_seg s = fx_mkseg(flags, seq, ack, data, len, FX_WND);
    s.ip_tos = tos;
    return send_seg_raw(&s);
}

/* Active open with cfg.ecn = `mode`; the peer's SYN-ACK carries `synack`
 * (ECE/CWR bits). Ends ESTABLISHED, output cleared. Returns our SYN flags. */
static uint8_t active_open(uint8_t mode, uint8_t synack) {
    fx_opts o = fx_defaults();
    o.cfg.ecn = mode;
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_closed();
    ASSERT_EQ(tw_tcp_connect(&F.c, tw_seq(FX_ISS), F.now), 0);
    run_output();
    expect_segs(1);
    uint8_t syn = F.out[0].flags;
    ASSERT_EQ(F.out[0].ip_tos & 3, 0); /* a SYN is never ECT */
    F.now += FX_RTT;
    send_seg_mss(SYN | ACK | synack, FX_PEER_ISS, FX_ISS + 1, FX_WND, 1460);
    expect_segs(1);
    expect_seg(0, ACK, FX_ISS + 1, FX_PEER_ISS + 1, 0);
    expect_state(TW_ESTABLISHED);
    fx_settle();
    return syn;
}

/* Passive open; the peer's SYN carries `syn` (ECE/CWR bits). Returns our
 * SYN-ACK's flags; ends ESTABLISHED. */
static uint8_t passive_open(uint8_t mode, uint8_t syn) {
    fx_opts o = fx_defaults();
    o.cfg.ecn = mode;
    o.cfg.delack_enabled = false;
    fx_next(&o);
    conn_listen();
    send_seg_mss(SYN | syn, FX_PEER_ISS, 0, FX_WND, 1460);
    expect_segs(1);
    uint8_t sa = F.out[0].flags;
    ASSERT_EQ(F.out[0].ip_tos & 3, 0);
    F.now += FX_RTT;
    send_seg(ACK, FX_PEER_ISS + 1, FX_ISS + 1, NULL, 0, FX_WND);
    expect_state(TW_ESTABLISHED);
    fx_settle();
    return sa;
}

TEST(ecn_active_open_asks_and_takes_an_ecn_setup_syn_ack) {
    ASSERT_EQ(active_open(TW_TCP_ECN_ON, ECE), SYN | ECE | CWR);
    ASSERT_TRUE(F.c.flags & TW_TF_ECN);
    /* New data goes ECT(0). */
    user_send(FX_ISS + 1, 100);
    run_output();
    expect_segs(1);
    expect_seg(0, ACK | PSH, FX_ISS + 1, FX_PEER_ISS + 1, 100);
    ASSERT_EQ(F.out[0].ip_tos & 3, ECT0);
}

TEST(ecn_not_in_use_without_an_ecn_setup_syn_ack) {
    /* No ECE, or ECE with CWR (not an ECN-setup SYN-ACK, §6.1.1): no ECN,
     * and data goes Not-ECT. */
    static const uint8_t answers[2] = {0, ECE | CWR};
    for (int i = 0; i < 2; i++) {
        active_open(TW_TCP_ECN_ON, answers[i]);
        ASSERT_FALSE(F.c.flags & TW_TF_ECN);
        user_send(FX_ISS + 1, 10);
        run_output();
        expect_segs(1);
        ASSERT_EQ(F.out[0].ip_tos & 3, 0);
    }
}

TEST(ecn_passive_default_does_not_ask_and_ignores_syn_ack_ece) {
    ASSERT_EQ(active_open(TW_TCP_ECN_PASSIVE, ECE), SYN);
    ASSERT_FALSE(F.c.flags & TW_TF_ECN);
}

TEST(ecn_passive_open_accepts_an_ecn_setup_syn) {
    ASSERT_EQ(passive_open(TW_TCP_ECN_PASSIVE, ECE | CWR), SYN | ACK | ECE);
    ASSERT_TRUE(F.c.flags & TW_TF_ECN);
    /* A SYN with only one of the two bits asks for nothing; OFF declines. */
    ASSERT_EQ(passive_open(TW_TCP_ECN_PASSIVE, ECE), SYN | ACK);
    ASSERT_FALSE(F.c.flags & TW_TF_ECN);
    ASSERT_EQ(passive_open(TW_TCP_ECN_OFF, ECE | CWR), SYN | ACK);
    ASSERT_FALSE(F.c.flags & TW_TF_ECN);
}

TEST(ecn_receiver_echoes_ce_until_cwr) {
    passive_open(TW_TCP_ECN_ON, ECE | CWR);
    uint32_t p = FX_PEER_ISS + 1;
    /* Not-ECT and ECT data: plain ACKs (delayed ACK is off here). */
    send_tos(ACK, p, FX_ISS + 1, 100, ECT0);
    expect_segs(1);
    expect_seg(0, ACK, FX_ISS + 1, p + 100, 0);
    p += 100;
    /* CE: the ACK carries ECE, and so does every ACK after it... */
    send_tos(ACK, p, FX_ISS + 1, 100, CE);
    expect_seg(0, ACK | ECE, FX_ISS + 1, p + 100, 0);
    ASSERT_EQ(F.out[0].ip_tos & 3, 0); /* a pure ACK is Not-ECT */
    p += 100;
    send_tos(ACK, p, FX_ISS + 1, 100, ECT0);
    expect_seg(0, ACK | ECE, FX_ISS + 1, p + 100, 0);
    p += 100;
    /* ...and our data segments too, until the peer's CWR. */
    user_send(FX_ISS + 1, 10);
    run_output();
    expect_seg(0, ACK | PSH | ECE, FX_ISS + 1, p, 10);
    ASSERT_EQ(F.out[0].ip_tos & 3, ECT0);
    send_tos(ACK | CWR, p, FX_ISS + 11, 100, ECT0);
    expect_seg(0, ACK, FX_ISS + 11, p + 100, 0);
    p += 100;
    /* A CWR segment that is itself CE starts a new echo. */
    send_tos(ACK | CWR, p, FX_ISS + 11, 100, CE);
    expect_seg(0, ACK | ECE, FX_ISS + 11, p + 100, 0);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CE_IN], 2);
}

TEST(ecn_ce_ignored_when_not_negotiated) {
    passive_open(TW_TCP_ECN_PASSIVE, 0);
    send_tos(ACK, FX_PEER_ISS + 1, FX_ISS + 1, 100, CE);
    expect_segs(1);
    expect_seg(0, ACK, FX_ISS + 1, FX_PEER_ISS + 101, 0);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CE_IN], 0);
}

TEST(ecn_sender_halves_cwnd_once_per_window_and_sends_cwr) {
    active_open(TW_TCP_ECN_ON, ECE);
    uint32_t q = FX_ISS + 1, mss = F.c.smss;
    /* Ten full segments in flight (the initial window). */
    user_send(q, 10 * mss);
    run_output();
    expect_segs(10);
    for (int i = 0; i < 10; i++) ASSERT_EQ(F.out[i].ip_tos & 3, ECT0);
    uint32_t cwnd0 = F.c.cwnd;
    ASSERT_EQ(cwnd0, 10 * mss);
    /* The first ACK echoes a CE: ssthresh = cwnd = FlightSize / 2, no
     * retransmission, and cwnd does not grow for this ACK. */
    F.now += FX_RTT;
    send_seg(ACK | ECE, FX_PEER_ISS + 1, q + mss, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.ssthresh, 5 * mss);
    ASSERT_EQ(F.c.cwnd, 5 * mss);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CWND_CUT], 1);
    ASSERT_U64_EQ(F.counters[TW_C_TCP_RETRANS], 0);
    /* More echoes from the same window: no second cut, no growth. */
    send_seg(ACK | ECE, FX_PEER_ISS + 1, q + 2 * mss, NULL, 0, FX_WND);
    send_seg(ACK | ECE, FX_PEER_ISS + 1, q + 3 * mss, NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 5 * mss);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CWND_CUT], 1);
    /* The flight drops below cwnd: the next new data segment carries
     * CWR, once. */
    send_seg(ACK, FX_PEER_ISS + 1, q + 8 * mss, NULL, 0, FX_WND);
    expect_silence();
    user_send(q + 10 * mss, 2 * mss);
    run_output();
    expect_segs(2);
    expect_seg(0, ACK | CWR, q + 10 * mss, FX_PEER_ISS + 1, mss);
    expect_seg(1, ACK | PSH, q + 11 * mss, FX_PEER_ISS + 1, mss);
    ASSERT_EQ(F.out[1].ip_tos & 3, ECT0);
    /* An echo for data sent before the cut: no cut. Once everything sent
     * at the cut is acknowledged, a new echo cuts again. */
    send_seg(ACK | ECE, FX_PEER_ISS + 1, q + 10 * mss, NULL, 0, FX_WND);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CWND_CUT], 1);
    uint32_t before = F.c.cwnd;
    send_seg(ACK | ECE, FX_PEER_ISS + 1, q + 11 * mss, NULL, 0, FX_WND);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CWND_CUT], 2);
    ASSERT_CMP(F.c.cwnd, <, before);
}

TEST(ecn_retransmission_and_probe_are_not_ect) {
    active_open(TW_TCP_ECN_ON, ECE);
    user_send(FX_ISS + 1, 100);
    run_output();
    ASSERT_EQ(F.out[0].ip_tos & 3, ECT0);
    advance_to_deadline(); /* the RTO: the same 100 bytes again */
    expect_segs(1);
    expect_seg(0, ACK | PSH, FX_ISS + 1, FX_PEER_ISS + 1, 100);
    ASSERT_EQ(F.out[0].ip_tos & 3, 0);
    /* After the RTO's cut the first new data carries CWR (§6.1.2). */
    send_seg(ACK, FX_PEER_ISS + 1, FX_ISS + 101, NULL, 0, FX_WND);
    user_send(FX_ISS + 101, 10);
    run_output();
    expect_seg(0, ACK | PSH | CWR, FX_ISS + 101, FX_PEER_ISS + 1, 10);
    ASSERT_EQ(F.out[0].ip_tos & 3, ECT0);
    /* A zero-window probe is Not-ECT (§6.1.6). */
    send_seg(ACK, FX_PEER_ISS + 1, FX_ISS + 111, NULL, 0, 0);
    user_send(FX_ISS + 111, 10);
    run_output();
    advance_to_deadline(); /* the persist timer */
    expect_segs(1);
    ASSERT_EQ(F.out[0].len, 1);
    ASSERT_EQ(F.out[0].ip_tos & 3, 0);
}

TEST_MAIN()
