/* test_sack.c - the receiving side of RFC 2018: SACK-permitted on the SYNs
 * (§2), SACK blocks in the ACKs we send while out-of-order data is held,
 * the block of the latest arrival first and earlier ones repeated (§4), at
 * most three beside timestamps, and data segments shrunk by the blocks they
 * carry. We are at SND.NXT 1001, the peer at RCV.NXT 5001. */
#include "fixture.h"

static void established_sack(bool ts) {
    fx_opts o = fx_defaults();
    o.peer_sack = true;
    o.peer_ts = ts;
    o.peer_tsval = 100;
    fx_next(&o);
    conn_established();
    ASSERT_TRUE(F.c.xopts & TW_XO_SACK);
}

/* Segment i carries exactly the n blocks [l, r) given as l0, r0, l1, r1, ... */
static void expect_sack(int i, unsigned n, const uint32_t *lr) {
    ASSERT_TRUE(i < F.nout);
    ASSERT_EQ(F.out[i].opt.nsack, n);
    for (unsigned k = 0; k < n; k++) {
        ASSERT_EQ(F.out[i].opt.sack[k].left, lr[2 * k]);
        ASSERT_EQ(F.out[i].opt.sack[k].right, lr[2 * k + 1]);
    }
}

TEST(sack_permitted_on_our_syn) {
    conn_syn_sent();
    advance_to_deadline();
    ASSERT_TRUE(F.out[0].opt.sack_ok);
    fx_opts o = fx_defaults();
    o.cfg.sack = false;
    fx_next(&o);
    conn_syn_sent();
    advance_to_deadline();
    ASSERT_FALSE(F.out[0].opt.sack_ok);
}

TEST(sack_permitted_answered_only_when_offered) {
    conn_syn_received(); /* the peer's SYN: MSS only */
    advance_to_deadline();
    expect_seg(0, SYN | ACK, 1000, 5001, 0);
    ASSERT_FALSE(F.out[0].opt.sack_ok);
    fx_opts o = fx_defaults();
    o.peer_sack = true;
    fx_next(&o);
    conn_syn_received();
    advance_to_deadline();
    ASSERT_TRUE(F.out[0].opt.sack_ok);
    ASSERT_TRUE(F.c.xopts & TW_XO_SACK);
}

TEST(sack_blocks_latest_first) {
    established_sack(false);
    send_data(ACK, 6001, 1001, 100, FX_WND);
    expect_seg(0, ACK, 1001, 5001, 0);
    expect_sack(0, 1, (const uint32_t[]){6001, 6101});
    send_data(ACK, 7001, 1001, 100, FX_WND);
    expect_sack(0, 2, (const uint32_t[]){7001, 7101, 6001, 6101});
    send_data(ACK, 6101, 1001, 100, FX_WND); /* grows the first block */
    expect_sack(0, 2, (const uint32_t[]){6001, 6201, 7001, 7101});
    /* The hole before the first block fills: the ACK moves, the other
     * block is still reported. */
    send_data(ACK, 5001, 1001, 1000, FX_WND);
    expect_seg(0, ACK, 1001, 6201, 0);
    expect_sack(0, 1, (const uint32_t[]){7001, 7101});
    send_data(ACK, 6201, 1001, 800, FX_WND);
    expect_seg(0, ACK, 1001, 7101, 0);
    ASSERT_EQ(F.out[0].opt.nsack, 0); /* nothing held out of order */
    expect_recv(5001, 2100);
}

TEST(sack_four_blocks_without_timestamps_three_with) {
    established_sack(false);
    for (uint32_t k = 0; k < 5; k++) send_data(ACK, 6001 + k * 200, 1001, 100, FX_WND);
    expect_sack(0, 4, (const uint32_t[]){6801, 6901, 6601, 6701, 6401, 6501, 6201, 6301});
    established_sack(true);
    tw_tcp_opts ts;
    memset(&ts, 0, sizeof ts);
    ts.has_ts = true;
    ts.tsval = 110;
    static uint8_t data[100];
    for (uint32_t k = 0; k < 5; k++)
        send_seg_opt(ACK, 6001 + k * 200, 1001, data, 100, FX_WND, &ts);
    expect_sack(0, 3, (const uint32_t[]){6801, 6901, 6601, 6701, 6401, 6501});
    ASSERT_TRUE(F.out[0].opt.has_ts);
    ASSERT_EQ(tw_tcp_opts_emit_len(&F.out[0].opt), 40); /* the options area is full */
}

TEST(sack_not_sent_unless_permitted) {
    conn_established(); /* the peer's SYN-ACK had no SACK-permitted */
    send_data(ACK, 6001, 1001, 100, FX_WND);
    expect_seg(0, ACK, 1001, 5001, 0);
    ASSERT_EQ(F.out[0].opt.nsack, 0);
}

TEST(sack_blocks_take_room_from_data) {
    established_sack(true); /* SMSS 1448 */
    tw_tcp_opts ts;
    memset(&ts, 0, sizeof ts);
    ts.has_ts = true;
    ts.tsval = 110;
    static uint8_t data[100];
    send_seg_opt(ACK, 6001, 1001, data, 100, FX_WND, &ts);
    F.c.flags |= TW_TF_NODELAY; /* the tail goes too */
    ASSERT_EQ(user_send(1001, 3000), 3000);
    run_output();
    /* One block: NOP NOP SACK len + 8 bytes, 12 less data per segment. */
    expect_segs(3);
    expect_seg(0, ACK, 1001, 5001, 1436);
    expect_seg(1, ACK, 2437, 5001, 1436);
    expect_seg(2, ACK | PSH, 3873, 5001, 128);
    expect_payload(1);
    for (int i = 0; i < 3; i++) expect_sack(i, 1, (const uint32_t[]){6001, 6101});
}

TEST_MAIN()
