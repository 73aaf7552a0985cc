/* test_urgent.c - urgent data (RFC 9293 §3.8.5, §3.10.7.4 sixth step;
 * MUST-30/31/32/33/62/66), kept in line as RFC 6093 §4 recommends. The
 * urgent pointer is an offset from SEG.SEQ to the octet just after the
 * urgent data. Receiving: RCV.UP = max(RCV.UP, SEG.SEQ + SEG.UP), the user
 * is told once per run of urgent data and can ask how far the mark is.
 * Sending: tw_tcp_send_urgent() sets SND.UP to the end of its data, and
 * every segment below SND.UP carries URG.
 *
 * Numbering as in fixture.h: we are at SND.NXT 1001, the peer at 5001. */
#include <string.h>

#include "fixture.h"

static uint8_t rbuf[8192];

static int read_n(uint32_t n) {
    return tw_tcp_recv(&F.c, rbuf, n, F.now);
}

/* ---------------------------------------------------------------- receiving */

TEST(urgent_receive_signalled_once_per_run) {
    conn_established();
    /* 10 bytes, the first 4 urgent: RCV.UP = 5005. */
    tw_tcp_result r = send_urg(5001, 10, 4);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_TRUE(F.c.events & TW_CEV_URGENT);
    ASSERT_TRUE(F.c.events & TW_CEV_READABLE);
    ASSERT_EQ(F.c.rcv_up.v, 5005u);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 4u);
    ASSERT_U64_EQ(F.counters[TW_C_URG_IN], 1);
    ASSERT_EQ(read_n(2), 2);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 2u);
    /* More urgent data before the user caught up: the mark moves, no new signal. */
    F.c.events = 0;
    r = send_urg(5011, 10, 2);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.events & TW_CEV_URGENT, 0);
    ASSERT_EQ(F.c.rcv_up.v, 5013u);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 10u); /* 5003 .. 5012 */
    ASSERT_U64_EQ(F.counters[TW_C_URG_IN], 2);
    /* A pointer behind the mark says nothing new. */
    r = send_urg(5021, 0, 0);
    ASSERT_EQ(F.c.rcv_up.v, 5013u);
    ASSERT_U64_EQ(F.counters[TW_C_URG_IN], 2);
    /* Reading past the mark ends the run; every byte came in line, once. */
    ASSERT_EQ(read_n(100), 18);
    for (uint32_t k = 0; k < 18; k++) ASSERT_EQ(rbuf[k], fx_byte(5003 + k));
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 0u);
    ASSERT_EQ(F.c.flags & TW_TF_URG_RCV, 0u);
    /* The next urgent data is a new run: signalled again. */
    r = send_urg(5021, 5, 5);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_TRUE(F.c.events & TW_CEV_URGENT);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 5u);
    expect_counters("");
}

TEST(urgent_pointer_zero_ignored) {
    conn_established();
    /* SEG.UP 0 points at SEG.SEQ: no octet of the segment is urgent. */
    tw_tcp_result r = send_urg(5001, 10, 0);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.events & TW_CEV_URGENT, 0);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 0u);
    ASSERT_U64_EQ(F.counters[TW_C_URG_IN], 0);
    expect_recv(5001, 10);
}

TEST(urgent_ignored_after_the_peer_fin) {
    /* RFC 9293 §3.10.7.4: in CLOSE_WAIT the URG bit "should not occur" and
     * is ignored. */
    conn_close_wait();
    tw_tcp_result r = send_urg(5002, 0, 10);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.events & TW_CEV_URGENT, 0);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 0u);
    ASSERT_U64_EQ(F.counters[TW_C_URG_IN], 0);
    expect_state(TW_CLOSE_WAIT);
}

TEST(urgent_taken_with_the_window_closed) {
    /* MUST-66: URG is processed even when the receive window is zero. */
    fx_opts o = fx_defaults();
    o.cfg.rcvbuf = 1000;
    fx_next(&o);
    conn_established();
    send_data(ACK | PSH, 5001, 1001, 1000, FX_WND); /* fills the window */
    advance(TW_MS(200));
    expect_seg(0, ACK, 1001, 6001, 0);
    ASSERT_EQ(F.out[0].wnd, 0);
    F.c.events = 0;
    /* 5 bytes at RCV.NXT: no room for them, but the ACK and URG count. */
    tw_tcp_result r = send_urg(6001, 5, 7);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    ASSERT_TRUE(F.c.events & TW_CEV_URGENT);
    ASSERT_EQ(F.c.rcv_up.v, 6008u);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 1007u); /* the 1000 unread, then 7 more */
    ASSERT_EQ(tw_tcp_readable(&F.c), 1000);        /* the 5 bytes were not taken */
    expect_segs(1);
    expect_seg(0, ACK, 1001, 6001, 0);
}

/* ---------------------------------------------------------------- sending */

TEST(urgent_send_marks_every_segment_below_snd_up) {
    conn_established();
    uint8_t b[3000];
    for (uint32_t k = 0; k < sizeof b; k++) b[k] = fx_byte(1001 + k);
    ASSERT_EQ(tw_tcp_send_urgent(&F.c, b, sizeof b, F.now), 3000);
    ASSERT_EQ(F.c.snd_up.v, 4001u);
    ASSERT_EQ(run_output(), 3);
    expect_seg(0, ACK | URG, 1001, 5001, 1460);
    ASSERT_EQ(F.out[0].urp, 3000);
    expect_seg(1, ACK | URG, 2461, 5001, 1460);
    ASSERT_EQ(F.out[1].urp, 1540);
    expect_seg(2, ACK | URG | PSH, 3921, 5001, 80);
    ASSERT_EQ(F.out[2].urp, 80);
    /* Acknowledged past SND.UP: the urgent data is delivered, and later
     * segments are ordinary. */
    send_data(ACK, 5001, 4001, 0, FX_WND);
    ASSERT_EQ(F.c.flags & TW_TF_URG_SND, 0u);
    ASSERT_EQ(user_send(4001, 10), 10);
    ASSERT_EQ(run_output(), 1);
    expect_seg(0, ACK | PSH, 4001, 5001, 10);
    ASSERT_EQ(F.out[0].urp, 0);
}

TEST(urgent_send_is_not_held_by_nagle) {
    conn_established();
    ASSERT_EQ(user_send(1001, 100), 100);
    ASSERT_EQ(run_output(), 1); /* 100 bytes in flight */
    ASSERT_EQ(user_send(1101, 10), 10);
    ASSERT_EQ(run_output(), 0); /* Nagle holds an ordinary small segment */
    uint8_t b[1] = {fx_byte(1111)};
    ASSERT_EQ(tw_tcp_send_urgent(&F.c, b, 1, F.now), 1);
    ASSERT_EQ(run_output(), 1); /* the urgent byte pushes it all out */
    expect_seg(0, ACK | URG | PSH, 1101, 5001, 11);
    ASSERT_EQ(F.out[0].urp, 11);
}

TEST(urgent_pointer_capped_at_65535_for_long_urgent_data) {
    /* MUST-31: urgent data of any length. SND.UP is 70000 octets ahead: the
     * pointer says 65535 until the data catches up, then the exact offset. */
    fx_opts o = fx_defaults();
    o.cfg.sndbuf = 70000;
    fx_next(&o);
    conn_established();
    static uint8_t b[70000];
    for (uint32_t k = 0; k < sizeof b; k++) b[k] = fx_byte(1001 + k);
    ASSERT_EQ(tw_tcp_send_urgent(&F.c, b, sizeof b, F.now), 70000);
    ASSERT_EQ(F.c.snd_up.v, 71001u);
    ASSERT_CMP(run_output(), >, 0);
    expect_seg(0, ACK | URG, 1001, 5001, 1460);
    ASSERT_EQ(F.out[0].urp, 65535); /* 70000 away */
    /* Everything acknowledged up to 6001: 65000 to go, said exactly. */
    send_data(ACK, 5001, 6001, 0, FX_WND);
    int n = F.nout; /* what the ACK let go */
    ASSERT_CMP(n, >, 0);
    for (int i = 0; i < n; i++) {
        uint32_t want = 71001u - F.out[i].seq;
        ASSERT_TRUE(F.out[i].flags & URG);
        ASSERT_EQ(F.out[i].urp, want > 65535 ? 65535 : want);
    }
}

TEST_MAIN()
