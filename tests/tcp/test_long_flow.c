/* test_long_flow.c - a connection that sends more than 2^31 bytes without a
 * loss or a congestion mark. Its loss and ECN decisions compare SND.UNA with
 * marks a loss or a cut left behind (recover, RFC 6582 / RFC 6675's
 * RecoveryPoint, and the end of the window ECN last cut), and sequence
 * space orders only numbers less than 2^31 apart: the first loss after that
 * must still be fast-retransmitted, and the first echo must still cut cwnd,
 * as at the start. Each test moves 2 GB + 16 MB through the connection, a
 * window at a time, every window acknowledged at once. */
#include <string.h>

#include "fixture.h"

#define MSS 1460u
#define PAST_WRAP ((1ull << 31) + (16ull << 20))

static uint8_t zeros[65536];

/* Sends and has acknowledged `total` more bytes. Ends with nothing in
 * flight, output cleared. */
static void pump(uint64_t total) {
    uint64_t done = 0;
    while (done < total) {
        uint64_t left = total - done;
        uint32_t want = left < sizeof zeros ? (uint32_t)left : (uint32_t)sizeof zeros;
        int n = tw_tcp_send(&F.c, zeros, want, F.now);
        ASSERT_CMP(n, >, 0);
        run_output();
        uint32_t from = F.c.snd_una.v;
        send_seg(ACK, FX_PEER_ISS + 1, F.c.snd_max.v, NULL, 0, FX_WND);
        done += (uint32_t)(F.c.snd_una.v - from);
        /* The ACK may have let the rest go out: acknowledge it too. */
        while (F.c.snd_una.v != F.c.snd_max.v) {
            from = F.c.snd_una.v;
            send_seg(ACK, FX_PEER_ISS + 1, F.c.snd_max.v, NULL, 0, FX_WND);
            done += (uint32_t)(F.c.snd_una.v - from);
        }
    }
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 0);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
    ASSERT_CMP((int32_t)(F.c.snd_una.v - FX_ISS), <, 0); /* ISS now looks ahead of SND.UNA */
}

/* Ten new full segments from SND.UNA, all sent now; returns the first's SEQ. */
static uint32_t flight_of_ten(void) {
    uint32_t base = F.c.snd_una.v;
    ASSERT_EQ(tw_tcp_send(&F.c, zeros, 10 * MSS, F.now), (int)(10 * MSS));
    run_output();
    expect_segs(10);
    ASSERT_EQ(F.out[0].seq, base);
    return base;
}

TEST(long_flow_sack_fast_retransmit_after_2gb) {
    fx_opts o = fx_defaults();
    o.peer_sack = true;
    fx_next(&o);
    conn_established();
    ASSERT_EQ(F.c.smss, MSS);
    pump(PAST_WRAP);
    uint32_t b = flight_of_ten(); /* the first segment is lost */
    SACK_ACK(b, b + MSS, b + 2 * MSS);
    SACK_ACK(b, b + MSS, b + 3 * MSS);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    SACK_ACK(b, b + MSS, b + 4 * MSS);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1);
    ASSERT_CMP(F.nout, >=, 1);
    expect_seg(0, ACK, b, FX_PEER_ISS + 1, MSS);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
}

TEST(long_flow_newreno_fast_retransmit_after_2gb) {
    conn_established(); /* no SACK: NewReno, RFC 6582 */
    ASSERT_EQ(F.c.smss, MSS);
    pump(PAST_WRAP);
    uint32_t b = flight_of_ten();
    send_seg(ACK, FX_PEER_ISS + 1, b, NULL, 0, FX_WND);
    send_seg(ACK, FX_PEER_ISS + 1, b, NULL, 0, FX_WND);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 0);
    send_seg(ACK, FX_PEER_ISS + 1, b, NULL, 0, FX_WND); /* the third */
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1);
    ASSERT_CMP(F.nout, >=, 1);
    expect_seg(0, ACK, b, FX_PEER_ISS + 1, MSS);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
}

TEST(long_flow_ecn_echo_cuts_cwnd_after_2gb) {
    fx_opts o = fx_defaults();
    o.cfg.ecn = TW_TCP_ECN_ON;
    fx_next(&o);
    conn_closed();
    ASSERT_EQ(tw_tcp_connect(&F.c, tw_seq(FX_ISS), F.now), 0);
    run_output();
    F.now += FX_RTT;
    send_seg_mss(SYN | ACK | TW_TH_ECE, FX_PEER_ISS, FX_ISS + 1, FX_WND, (int)MSS);
    expect_state(TW_ESTABLISHED);
    ASSERT_TRUE(F.c.flags & TW_TF_ECN);
    fx_settle();
    pump(PAST_WRAP);
    uint32_t b = flight_of_ten();
    uint32_t cwnd = F.c.cwnd;
    send_seg(ACK | TW_TH_ECE, FX_PEER_ISS + 1, b + MSS, NULL, 0, FX_WND);
    ASSERT_U64_EQ(F.counters[TW_C_ECN_CWND_CUT], 1);
    ASSERT_CMP(F.c.cwnd, <, cwnd);
}

TEST_MAIN()
