/* test_badinput.c - two items of the bad-input checklist (issue 8) that no
 * per-state file covers, each with its exact answer:
 *
 * - an urgent pointer past the data: urgent data is kept in line (RFC 6093
 *   §4), so the pointer only moves RCV.UP (tests/tcp/test_urgent.c has the
 *   rest): the bytes are delivered once, in line, and nothing is held back
 *   or read past the segment, whatever the pointer says;
 * - a retransmitted FIN whose sequence number changed: the peer's FIN was
 *   taken at s = 5001 (RCV.NXT 5002), then a FIN arrives at s + k or s - k.
 *   The state never changes and nothing is delivered; the answer is an ACK
 *   of RCV.NXT 5002, as the acceptability test and the FIN step decide
 *   (RFC 9293 §3.10.7.4 first and eighth steps), per state below.
 *
 * Numbering as in fixture.h: we are at SND.NXT 1001, the peer at 5001. */
#include <string.h>

#include "fixture.h"

TEST(badinput_urgent_pointer_past_data_delivered_once_in_line) {
    conn_established();
    /* 10 bytes, urgent pointer 1000 bytes on: far past the data. RCV.UP
     * moves to 6001 (urgent data may go on in later segments) and the user
     * is told once; the bytes are delivered once, in line. */
    tw_tcp_result r = send_urg(5001, 10, 1000);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_silence(); /* an ordinary delayed ACK */
    expect_counters("");
    ASSERT_TRUE(F.c.events & TW_CEV_URGENT);
    ASSERT_EQ(F.c.rcv_up.v, 6001u);
    ASSERT_EQ(F.c.rcv_nxt.v, 5011);
    ASSERT_EQ(tw_tcp_readable(&F.c), 10);
    expect_recv(5001, 10); /* in line, all ten: no byte taken out as "urgent" */
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 990u);
    /* The same segment again: old, answered with an ACK, not delivered again,
     * and its URG not looked at (the acceptability test comes first). */
    F.c.events = 0;
    r = send_urg(5001, 10, 1000);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5011, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    ASSERT_EQ(F.c.events & TW_CEV_URGENT, 0);
    /* The largest pointer, and a pointer on a segment with no data at all:
     * RCV.UP moves on within the same run, so no second signal. */
    r = send_urg(5011, 5, 0xffff);
    expect_result(r, TW_ACT_ACCEPT, 0);
    expect_recv(5011, 5);
    r = send_urg(5016, 0, 0xffff);
    expect_result(r, TW_ACT_ACCEPT, 0);
    ASSERT_EQ(F.c.events & TW_CEV_URGENT, 0);
    ASSERT_EQ(F.c.rcv_up.v, 5016u + 0xffffu);
    ASSERT_EQ(tw_tcp_urgent_pending(&F.c), 0xffffu);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    ASSERT_EQ(F.c.rcv_nxt.v, 5016);
    expect_state(TW_ESTABLISHED);
    expect_states("");
    /* The ACK still owed for the 15 bytes goes out as usual. */
    advance(TW_MS(200));
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5016, 0);
}

TEST(badinput_urgent_pointer_past_data_in_close_wait_data_dropped) {
    /* After the peer's FIN, URG data is data after the FIN like any other. */
    conn_close_wait();
    tw_tcp_result r = send_urg(5002, 10, 1000);
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5002, 0);
    ASSERT_EQ(tw_tcp_readable(&F.c), 0);
    expect_state(TW_CLOSE_WAIT);
}

/* ---- a retransmitted FIN whose sequence number changed ---- */

typedef struct fin_case {
    int32_t k;    /* the FIN comes at 5001 + k (the first one was at 5001) */
    uint32_t len; /* payload before the FIN */
    tw_tcp_action act;
    int reason;
} fin_case;

/* Sends each case's FIN|ACK (acknowledging `ack`) to a fresh connection
 * made by `setup`, and checks: the exact action and counter, one ACK
 * <SEQ=snd><ACK=5002>, no state move, nothing to read but end of stream. */
static void run_fin_cases(void (*setup)(void), tw_state st, uint32_t ack, uint32_t snd,
                          const fin_case *cases, size_t n) {
    for (size_t i = 0; i < n; i++) {
        setup();
        tw_time_t deadline = tw_tcp_next_deadline(&F.c);
        uint32_t seq = (uint32_t)(5001 + cases[i].k);
        tw_tcp_result r = cases[i].len ? send_data(FIN | ACK, seq, ack, cases[i].len, FX_WND)
                                       : send_seg(FIN | ACK, seq, ack, NULL, 0, FX_WND);
        tw_test_context("state %s, FIN at 5001%+d with %u bytes", tw_state_name(st),
                        (int)cases[i].k, cases[i].len);
        expect_result(r, cases[i].act, cases[i].reason);
        expect_segs(1);
        expect_seg(0, ACK, snd, 5002, 0);
        expect_state(st);
        expect_states("");
        ASSERT_EQ(F.c.rcv_nxt.v, 5002);
        ASSERT_EQ(tw_tcp_readable(&F.c), 0);
        uint8_t b;
        ASSERT_EQ(tw_tcp_recv(&F.c, &b, 1, F.now), 0); /* still just end of stream */
        /* No timer moved: no 2MSL restart in TIME_WAIT, no new retransmission. */
        ASSERT_U64_EQ(tw_tcp_next_deadline(&F.c), deadline);
    }
}

/* CLOSE_WAIT, LAST_ACK, CLOSING: a FIN above RCV.NXT but inside the
 * window passes the acceptability test and reaches the FIN step, which
 * keeps the state (eighth step) and repeats the ACK; it is not counted as a
 * drop. Below RCV.NXT or past the window it is unacceptable: ACK,
 * DROP_UNACCEPTABLE. Data carried with it is data after the FIN. */
static const fin_case synchronized_cases[] = {
    {+1, 0, TW_ACT_ACCEPT, 0},
    {+100, 0, TW_ACT_ACCEPT, 0},
    {0, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE}, /* the same FIN, at s */
    {-100, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE},
    {+70000, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE}, /* past the window */
    {+100, 10, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
    {-100, 10, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE},
};

TEST(badinput_fin_seq_changed_close_wait) {
    run_fin_cases(conn_close_wait, TW_CLOSE_WAIT, 1001, 1001, synchronized_cases,
                  sizeof synchronized_cases / sizeof *synchronized_cases);
}

TEST(badinput_fin_seq_changed_last_ack) {
    /* The FIN does not acknowledge ours (ACK 1001): LAST_ACK stays. */
    run_fin_cases(conn_last_ack, TW_LAST_ACK, 1001, 1002, synchronized_cases,
                  sizeof synchronized_cases / sizeof *synchronized_cases);
}

TEST(badinput_fin_seq_changed_closing) {
    run_fin_cases(conn_closing, TW_CLOSING, 1001, 1002, synchronized_cases,
                  sizeof synchronized_cases / sizeof *synchronized_cases);
}

/* TIME_WAIT (tcp_timewait.c, shared with the compact records): only the
 * FIN at exactly s is a retransmission (re-ACKed, 2MSL restarted,
 * TW_FIN_REACK, tests/tcp/test_time_wait.c); a FIN anywhere else is
 * answered with an ACK and counted DROP_DATA_AFTER_FIN, and 2MSL runs on. */
static const fin_case time_wait_cases[] = {
    {+1, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
    {+100, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
    {-100, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
    {+70000, 0, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
    {+100, 10, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN},
};

TEST(badinput_fin_seq_changed_time_wait) {
    run_fin_cases(conn_time_wait, TW_TIME_WAIT, 1002, 1002, time_wait_cases,
                  sizeof time_wait_cases / sizeof *time_wait_cases);
}

TEST_MAIN()
