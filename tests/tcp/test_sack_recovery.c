/* test_sack_recovery.c - the sending side of SACK (tcp_sack.c): received
 * blocks kept in a bounded scoreboard, bogus ones ignored and counted, and
 * RFC 6675 loss recovery traced exactly: the duplicate ACK count, entry on
 * the third duplicate ACK or IsLost(HighACK + 1), NextSeg's retransmissions
 * (holes first, then new data, then the rescue), pipe, cwnd and ssthresh
 * after every ACK, the end of recovery at RecoveryPoint, and the RTO clearing
 * the scoreboard (§5.1). Also D-SACK blocks in our ACKs (RFC 2883) and
 * NewReno unchanged when SACK is not in use.
 *
 * No timestamps: SMSS = 1460, initial window 14600 = ten segments. We send
 * from 1001; S(k) = 1001 + 1460 k is the k-th segment. The peer is at 5001. */
#include <string.h>

#include "fixture.h"

#define MSS 1460u
#define S(k) (1001u + (uint32_t)(k)*MSS)

static void established_sack(void) {
    fx_opts o = fx_defaults();
    o.peer_sack = true;
    fx_next(&o);
    conn_established();
    ASSERT_TRUE(F.c.xopts & TW_XO_SACK);
    ASSERT_EQ(F.c.smss, MSS);
}

/* `bytes` queued and the initial window sent: S(0)..S(9). */
static void flight_of_ten(uint32_t bytes) {
    ASSERT_EQ(user_send(1001, bytes), (int)bytes);
    run_output();
    expect_segs(10);
    for (int i = 0; i < 10; i++) ASSERT_EQ(F.out[i].seq, S(i));
    advance(FX_RTT);
}

/* Segment i of the last step is a full-sized (re)transmission of S(k). */
static void expect_full(int i, uint32_t k, bool retrans) {
    expect_seg(i, ACK, S(k), 5001, MSS);
    expect_payload(i);
    ASSERT_EQ((F.out[i].meta & TW_SEGMETA_RETRANS) != 0, retrans);
}

static void expect_cc(uint32_t cwnd, uint32_t ssthresh, uint32_t pipe) {
    ASSERT_EQ(F.c.cwnd, cwnd);
    ASSERT_EQ(F.c.ssthresh, ssthresh);
    ASSERT_EQ(F.c.pipe, pipe);
}

/* Three non-adjacent segments of one window lost: S(0), S(3), S(6). The
 * peer's ACKs SACK the others as they arrive; each row is one ACK and the
 * exact segments, pipe, cwnd and ssthresh it leads to. */
TEST(sack_recovery_three_losses_in_one_window) {
    established_sack();
    flight_of_ten(30 * MSS);
    const uint32_t INF = TW_CC_SSTHRESH_INF;

    /* Duplicate ACKs 1 and 2: Limited Transmit by pipe (RFC 6675 §5 step
     * 3): pipe = 13140 (all but the SACKed segment), one new segment each. */
    SACK_ACK(S(0), S(1), S(2));
    expect_segs(1);
    expect_full(0, 10, false);
    ASSERT_EQ(F.c.dupacks, 1);
    expect_cc(14600, INF, 14600);
    SACK_ACK(S(0), S(1), S(3));
    expect_segs(1);
    expect_full(0, 11, false);
    ASSERT_EQ(F.c.dupacks, 2);
    expect_cc(14600, INF, 14600);

    /* The third: recovery (§5 step 4). RecoveryPoint = HighData, ssthresh =
     * cwnd = FlightSize / 2 = 17520 / 2, S(0) retransmitted; SetPipe: the
     * lost hole counts once as retransmitted, the hole at S(3) (one range
     * above it) and the 10220 bytes above the highest SACK are in flight. */
    SACK_ACK(S(0), S(4), S(5), S(1), S(3));
    expect_segs(1);
    expect_full(0, 0, true);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_TRUE(F.c.ccf & TW_CCF_SACK);
    ASSERT_EQ(F.c.recover.v, S(12) - 1);
    ASSERT_EQ(F.c.high_rxt.v, S(1));
    expect_cc(8760, 8760, 1460 + 1460 + 10220);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 1);
    ASSERT_EQ(F.counters[TW_C_SACK_RECOVERY], 1);
    ASSERT_EQ(F.c.nsb, 2);

    /* (B) SetPipe on each ACK; (C) sends only once cwnd - pipe >= SMSS. */
    SACK_ACK(S(0), S(4), S(6), S(1), S(3));
    expect_silence();
    expect_cc(8760, 8760, 11680);
    SACK_ACK(S(0), S(7), S(8), S(4), S(6), S(1), S(3)); /* S(3) now lost too */
    expect_silence();
    expect_cc(8760, 8760, 8760);
    SACK_ACK(S(0), S(7), S(9), S(4), S(6), S(1), S(3));
    expect_segs(1); /* NextSeg rule 1: the lost hole at S(3) */
    expect_full(0, 3, true);
    ASSERT_EQ(F.c.high_rxt.v, S(4));
    expect_cc(8760, 8760, 8760);
    SACK_ACK(S(0), S(7), S(10), S(4), S(6), S(1), S(3)); /* S(6) lost: pipe 5840 */
    expect_segs(2); /* rule 1 for S(6), then rule 2: new data */
    expect_full(0, 6, true);
    expect_full(1, 12, false);
    expect_cc(8760, 8760, 8760);
    SACK_ACK(S(0), S(7), S(11), S(4), S(6), S(1), S(3));
    expect_segs(1);
    expect_full(0, 13, false);
    SACK_ACK(S(0), S(7), S(12), S(4), S(6), S(1), S(3));
    expect_segs(1);
    expect_full(0, 14, false);
    expect_cc(8760, 8760, 8760);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 3); /* each lost segment once */

    /* The retransmissions arrive: partial ACKs, recovery goes on. */
    advance(FX_RTT);
    SACK_ACK(S(3), S(4), S(6), S(7), S(12));
    expect_segs(1);
    expect_full(0, 15, false);
    expect_cc(8760, 8760, 8760);
    ASSERT_EQ(F.c.nsb, 2);
    SACK_ACK(S(6), S(7), S(12));
    expect_segs(1);
    expect_full(0, 16, false);
    /* The cumulative ACK passes RecoveryPoint: recovery ends (step A) with
     * cwnd = ssthresh; sending is by cwnd from SND.UNA again. */
    send_seg(ACK, 5001, S(12), NULL, 0, FX_WND);
    ASSERT_FALSE(F.c.ccf & (TW_CCF_RECOVERY | TW_CCF_SACK | TW_CCF_PIPE));
    ASSERT_EQ(F.c.nsb, 0);
    ASSERT_EQ(F.c.cwnd, 8760);
    ASSERT_EQ(F.c.ssthresh, 8760);
    expect_segs(1); /* five in flight (S(12)..S(16)), one more fits */
    expect_full(0, 17, false);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 3);
}

/* The first segment sent in recovery (just past RecoveryPoint) is lost
 * too. Once the cumulative ACK reaches RecoveryPoint + 1 the old recovery
 * is over, every byte sent before it is acknowledged, and the duplicate
 * ACKs that follow report a new loss: a second recovery starts on the
 * third of them (RFC 6675 §5.1: HighACK >= RecoveryPoint), not an RTO. */
TEST(sack_new_loss_right_after_recovery_point_recovers_again) {
    established_sack();
    flight_of_ten(40 * MSS); /* S(0) and, later, S(12) are lost */
    SACK_ACK(S(0), S(1), S(2));
    SACK_ACK(S(0), S(1), S(3));
    SACK_ACK(S(0), S(1), S(4)); /* recovery: S(0) again, RecoveryPoint S(12) - 1 */
    expect_segs(1);
    expect_full(0, 0, true);
    ASSERT_EQ(F.c.recover.v, S(12) - 1);
    for (uint32_t k = 5; k <= 9; k++) SACK_ACK(S(0), S(1), S(k));
    ASSERT_EQ(F.c.snd_max.v, S(14)); /* S(12) and S(13) sent in recovery */
    advance(FX_RTT);
    send_seg(ACK, 5001, S(12), NULL, 0, FX_WND); /* S(0), S(10), S(11) arrived */
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);     /* (A): over */
    ASSERT_EQ(F.c.dupacks, 0);
    SACK_ACK(S(12), S(13), S(14));
    ASSERT_EQ(F.c.dupacks, 1);
    SACK_ACK(S(12), S(13), S(15));
    ASSERT_EQ(F.c.dupacks, 2);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    SACK_ACK(S(12), S(13), S(16));
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY); /* a new recovery, a new RecoveryPoint */
    ASSERT_EQ(F.c.recover.v, F.c.snd_max.v - 1);
    ASSERT_EQ(F.counters[TW_C_TCP_FAST_RETRANS], 2);
    ASSERT_CMP(F.nout, >=, 1);
    expect_full(0, 12, true);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
}

/* The retransmission of S(0) is lost too. RFC 6675 alone would wait for
 * the RTO; once more than two segments sent after that retransmission are
 * SACKed with S(0) still missing, it is sent again (and only then, and
 * once): the cumulative ACK moves on without a timeout. */
TEST(sack_lost_retransmission_at_una_sent_again) {
    established_sack();
    flight_of_ten(40 * MSS);
    SACK_ACK(S(0), S(1), S(2)); /* Limited Transmit: S(10) */
    SACK_ACK(S(0), S(1), S(3)); /* S(11) */
    SACK_ACK(S(0), S(1), S(4)); /* recovery: S(0) again; sent after it: S(12) on */
    expect_segs(1);
    expect_full(0, 0, true);
    ASSERT_EQ(F.c.una_fence.v, S(12));
    for (uint32_t k = 5; k <= 12; k++) SACK_ACK(S(0), S(1), S(k)); /* S(1)..S(11) arrive */
    ASSERT_EQ(F.c.snd_max.v, S(17)); /* S(12)..S(16) sent in recovery */
    ASSERT_EQ(F.counters[TW_C_SACK_RXT_LOST], 0);
    SACK_ACK(S(0), S(1), S(13)); /* one segment sent after the retransmission: not yet */
    SACK_ACK(S(0), S(1), S(14)); /* two: not yet (reordering is allowed that much) */
    ASSERT_EQ(F.counters[TW_C_SACK_RXT_LOST], 0);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 1);
    SACK_ACK(S(0), S(1), S(15)); /* three: the retransmission was lost */
    ASSERT_EQ(F.counters[TW_C_SACK_RXT_LOST], 1);
    expect_segs(2);
    expect_full(0, 0, true);
    expect_full(1, 19, false); /* and new data as pipe allows */
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 2);
    ASSERT_EQ(F.c.una_fence.v, S(19)); /* SND.MAX when it went */
    SACK_ACK(S(0), S(1), S(16));       /* no third copy for the same evidence */
    ASSERT_EQ(F.counters[TW_C_SACK_RXT_LOST], 1);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 2);
    advance(FX_RTT);
    send_seg(ACK, 5001, F.c.snd_max.v, NULL, 0, FX_WND); /* it arrives: all acknowledged */
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
}

/* IsLost(HighACK + 1) starts recovery before the third duplicate ACK: one
 * ACK (the others lost) SACKs three segments above SND.UNA. */
TEST(sack_recovery_on_islost_before_three_dupacks) {
    established_sack();
    flight_of_ten(20 * MSS);
    SACK_ACK(S(0), S(1), S(3)); /* 2920 bytes: not more than 2 SMSS */
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    expect_segs(2); /* Limited Transmit by pipe: two segments have left */
    expect_full(0, 10, false);
    expect_full(1, 11, false);
    established_sack();
    flight_of_ten(20 * MSS);
    SACK_ACK(S(0), S(1), S(4)); /* 4380 bytes above S(0): lost */
    ASSERT_EQ(F.c.dupacks, 1);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    expect_segs(1);
    expect_full(0, 0, true);
    expect_cc(7300, 7300, 1460 + 8760); /* S(0) retransmitted, S(4)..S(9) */
}

/* A loss at the tail and no new data: NextSeg rule 4, the rescue
 * retransmission, repairs it without waiting for the RTO, once. */
TEST(sack_recovery_rescue_retransmission) {
    established_sack();
    flight_of_ten(10 * MSS); /* all the data; S(0) and S(9) are lost */
    SACK_ACK(S(0), S(1), S(2));
    SACK_ACK(S(0), S(1), S(3));
    expect_silence(); /* nothing new to send */
    SACK_ACK(S(0), S(1), S(4));
    expect_segs(1);
    expect_full(0, 0, true);
    expect_cc(7300, 7300, 1460 + 8760);
    for (uint32_t k = 5; k <= 9; k++) {
        SACK_ACK(S(0), S(1), S(k));
        expect_silence(); /* rules 1-3 find nothing, rule 4 waits for HighACK > RescueRxt */
    }
    ASSERT_EQ(F.c.pipe, 1460 + 1460);
    advance(FX_RTT);
    send_seg(ACK, 5001, S(9), NULL, 0, FX_WND); /* S(0) arrived; S(9) is missing */
    expect_segs(1);
    expect_seg(0, ACK | PSH, S(9), 5001, MSS);
    ASSERT_TRUE(F.out[0].meta & TW_SEGMETA_RETRANS);
    ASSERT_EQ(F.counters[TW_C_SACK_RESCUE], 1);
    ASSERT_EQ(F.c.rescue_rxt.v, S(10));
    send_seg(ACK, 5001, S(9), NULL, 0, FX_WND); /* one rescue per recovery */
    expect_silence();
    send_seg(ACK, 5001, S(10), NULL, 0, FX_WND);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.counters[TW_C_RTO_FIRED], 0);
    expect_deadline_in(TW_TIME_NEVER);
}

/* RFC 6675 §5.1: an RTO during recovery ends it, RecoveryPoint = HighData,
 * the scoreboard is cleared; SACK blocks arriving afterwards let the
 * go-back-N retransmission skip what they cover. */
TEST(sack_rto_clears_scoreboard_and_skips_sacked) {
    established_sack();
    flight_of_ten(30 * MSS);
    SACK_ACK(S(0), S(1), S(2));
    SACK_ACK(S(0), S(1), S(3));
    SACK_ACK(S(0), S(4), S(5), S(1), S(3));
    ASSERT_TRUE(F.c.ccf & TW_CCF_SACK);
    ASSERT_EQ(F.c.nsb, 2);
    advance_to_deadline(); /* the RTO: the retransmission of S(0) was lost too */
    expect_timers("retransmit");
    expect_segs(1);
    expect_full(0, 0, true);
    ASSERT_EQ(F.c.nsb, 0);
    ASSERT_FALSE(F.c.ccf & (TW_CCF_RECOVERY | TW_CCF_SACK | TW_CCF_PIPE));
    ASSERT_EQ(F.c.cwnd, MSS);
    ASSERT_EQ(F.c.ssthresh, 8760);       /* RFC 5681 eq. 4 from FlightSize 17520 */
    ASSERT_EQ(F.c.recover.v, S(12) - 1); /* = HighData */
    /* S(0) arrives: everything but S(3) and S(6) is SACKed. No new
     * recovery before RecoveryPoint is acknowledged. */
    SACK_ACK(S(3), S(4), S(6), S(7), S(12));
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_EQ(F.c.cwnd, 2 * MSS);
    expect_segs(1); /* S(3); then S(4)..S(5) are skipped, but cwnd counts from SND.UNA */
    expect_full(0, 3, true);
    ASSERT_EQ(F.c.snd_nxt.v, S(6));
    SACK_ACK(S(6), S(7), S(12));
    expect_segs(1);
    expect_full(0, 6, true);         /* not S(4), S(5): SACKed */
    ASSERT_EQ(F.c.snd_nxt.v, S(12)); /* past the SACKed S(7)..S(11) */
    send_seg(ACK, 5001, S(12), NULL, 0, FX_WND);
    ASSERT_EQ(F.c.cwnd, 4 * MSS);
    expect_segs(4); /* new data again, by cwnd */
    for (int i = 0; i < 4; i++) expect_full(i, 12 + (uint32_t)i, false);
    ASSERT_EQ(F.counters[TW_C_TCP_RETRANS], 4); /* S(0) twice, S(3), S(6) */
}

/* Blocks outside SND.UNA..SND.MAX, empty or reversed are ignored and
 * counted; they are no new information, so no duplicate ACK either. A
 * first block below the ACK is a D-SACK: counted, not taken. */
TEST(sack_bogus_blocks_ignored_and_counted) {
    established_sack();
    flight_of_ten(20 * MSS);
    SACK_ACK(S(0), S(2), S(2)); /* empty */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 1);
    SACK_ACK(S(0), S(5), S(2)); /* reversed */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 2);
    SACK_ACK(S(0), S(1), S(11)); /* beyond SND.MAX = S(10) */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 3);
    SACK_ACK(S(0), S(1), S(1) + 0x7fffffffu); /* huge */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 4);
    SACK_ACK(S(0), S(1), S(2), 100, 600); /* second block far below */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 5);
    SACK_ACK(S(0), S(0) - 500, S(1), S(2), S(3)); /* straddles the ACK */
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 6);
    ASSERT_EQ(F.counters[TW_C_DSACK_RCVD], 0);
    ASSERT_EQ(F.c.nsb, 1); /* the two good blocks, touching: merged */
    ASSERT_EQ(F.c.sb[0].start.v, S(1));
    ASSERT_EQ(F.c.sb[0].end.v, S(3));
    ASSERT_EQ(F.c.dupacks, 2); /* the two ACKs that SACKed new bytes */
    expect_counters("");       /* no segment was dropped for it */
}

/* A D-SACK block (RFC 2883) is counted and does not count as new data. */
TEST(sack_dsack_received_not_taken) {
    established_sack();
    flight_of_ten(20 * MSS);
    send_seg(ACK, 5001, S(2), NULL, 0, FX_WND);
    SACK_ACK(S(2), S(0), S(1));             /* below the ACK: a duplicate of S(0) */
    SACK_ACK(S(2), S(3), S(4), S(3), S(5)); /* inside the second: a duplicate */
    ASSERT_EQ(F.counters[TW_C_DSACK_RCVD], 2);
    ASSERT_EQ(F.counters[TW_C_SACK_BLOCK_BAD], 0);
    ASSERT_EQ(F.c.nsb, 1);
    ASSERT_EQ(F.c.sb[0].start.v, S(3));
    ASSERT_EQ(F.c.sb[0].end.v, S(5));
    ASSERT_EQ(F.c.dupacks, 1);
}

/* Many tiny blocks (SACK Panic style): the scoreboard never holds more
 * than TW_SACK_SB_MAX ranges, keeps the lowest, counts what it let go, and
 * one ACK never makes more than a bounded number of retransmissions. */
TEST(sack_scoreboard_bounded_under_tiny_blocks) {
    established_sack();
    flight_of_ten(20 * MSS);
    unsigned most = 0;
    for (uint32_t a = 0; a < 64; a++) {
        uint32_t b = S(0) + 16 + 64 * a; /* four 1-byte blocks, 16 apart */
        SACK_ACK(S(0), b, b + 1, b + 17, b + 18, b + 33, b + 34, b + 49, b + 50);
        ASSERT_CMP(F.c.nsb, <=, TW_SACK_SB_MAX);
        if ((unsigned)F.nout > most) most = (unsigned)F.nout;
    }
    ASSERT_EQ(F.c.nsb, TW_SACK_SB_MAX);
    ASSERT_EQ(F.c.sb[0].start.v, S(0) + 16);       /* the lowest ranges stay */
    static const uint32_t at[4] = {0, 17, 33, 49}; /* the blocks of one ACK */
    ASSERT_EQ(F.c.sb[TW_SACK_SB_MAX - 1].start.v,
              S(0) + 16 + 64 * ((TW_SACK_SB_MAX - 1) / 4) + at[(TW_SACK_SB_MAX - 1) % 4]);
    ASSERT_EQ(F.counters[TW_C_SACK_SB_FULL], 64 * 4 - TW_SACK_SB_MAX);
    ASSERT_CMP(most, <=, 2 * TW_SACK_SB_MAX + 2);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    send_seg(ACK, 5001, S(10), NULL, 0, FX_WND); /* all acknowledged */
    ASSERT_EQ(F.c.nsb, 0);
    ASSERT_FALSE(F.c.ccf & TW_CCF_RECOVERY);
}

/* ---- NewReno unchanged without SACK information ---- */

static void newreno_third_dupack(bool negotiated, bool blocks) {
    if (negotiated)
        established_sack();
    else
        conn_established();
    flight_of_ten(40000);
    for (int i = 1; i <= 3; i++) {
        if (blocks)
            SACK_ACK(S(0), S(1), S(1 + i));
        else
            send_seg(ACK, 5001, S(0), NULL, 0, FX_WND);
    }
    /* RFC 5681 §3.2 / RFC 6582 exactly as in test_cc.c: ssthresh = 17520 / 2,
     * cwnd inflated by three segments. */
    expect_segs(1);
    expect_full(0, 0, true);
    ASSERT_EQ(F.c.ssthresh, 8760);
    ASSERT_EQ(F.c.cwnd, 8760 + 3 * MSS);
    ASSERT_TRUE(F.c.ccf & TW_CCF_RECOVERY);
    ASSERT_FALSE(F.c.ccf & TW_CCF_SACK);
    ASSERT_EQ(F.c.nsb, 0);
    ASSERT_EQ(F.counters[TW_C_SACK_RECOVERY], 0);
}

TEST(sack_not_negotiated_blocks_ignored_newreno) {
    newreno_third_dupack(false, true);
}

TEST(sack_negotiated_but_no_blocks_newreno) {
    newreno_third_dupack(true, false);
}

/* ---- D-SACK blocks we send (RFC 2883 §4) ---- */

static void expect_blocks(int i, unsigned n, const uint32_t *lr) {
    ASSERT_TRUE(i < F.nout);
    ASSERT_EQ(F.out[i].opt.nsack, n);
    for (unsigned k = 0; k < n; k++) {
        ASSERT_EQ(F.out[i].opt.sack[k].left, lr[2 * k]);
        ASSERT_EQ(F.out[i].opt.sack[k].right, lr[2 * k + 1]);
    }
}

TEST(dsack_duplicate_below_rcv_nxt) {
    established_sack();
    send_data(ACK, 5001, 1001, 100, FX_WND);
    advance_to_deadline(); /* the delayed ACK */
    expect_seg(0, ACK, 1001, 5101, 0);
    ASSERT_EQ(F.out[0].opt.nsack, 0);
    tw_tcp_result r = send_data(ACK, 5001, 1001, 100, FX_WND); /* again: our ACK was lost */
    expect_result(r, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    expect_segs(1);
    expect_seg(0, ACK, 1001, 5101, 0);
    expect_blocks(0, 1, (const uint32_t[]){5001, 5101});
    ASSERT_EQ(F.counters[TW_C_DSACK_SENT], 1);
    /* Reported once: the next ACK carries only the ordinary block. */
    send_data(ACK, 6001, 1001, 100, FX_WND);
    expect_blocks(0, 1, (const uint32_t[]){6001, 6101});
    ASSERT_EQ(F.counters[TW_C_DSACK_SENT], 1);
}

TEST(dsack_duplicate_of_held_data_then_its_block) {
    established_sack();
    send_data(ACK, 6001, 1001, 200, FX_WND);
    expect_blocks(0, 1, (const uint32_t[]){6001, 6201});
    send_data(ACK, 7001, 1001, 100, FX_WND);
    expect_blocks(0, 2, (const uint32_t[]){7001, 7101, 6001, 6201});
    send_data(ACK, 6101, 1001, 100, FX_WND); /* wholly inside the held 6001..6201 */
    expect_blocks(0, 3, (const uint32_t[]){6101, 6201, 6001, 6201, 7001, 7101});
    send_data(ACK, 7051, 1001, 100, FX_WND); /* half repeated: only that half */
    expect_blocks(0, 3, (const uint32_t[]){7051, 7101, 7001, 7151, 6001, 6201});
    ASSERT_EQ(F.counters[TW_C_DSACK_SENT], 2);
}

TEST(dsack_front_of_segment_repeated) {
    established_sack();
    send_data(ACK, 5001, 1001, 100, FX_WND);
    send_data(ACK, 5051, 1001, 100, FX_WND); /* 5051..5101 again, 5101..5151 new */
    ASSERT_TRUE(F.c.flags & TW_TF_DSACK);
    advance_to_deadline(); /* the delayed ACK carries it */
    expect_seg(0, ACK, 1001, 5151, 0);
    expect_blocks(0, 1, (const uint32_t[]){5051, 5101});
    expect_recv(5001, 150);
}

TEST(dsack_not_without_sack) {
    conn_established();
    send_data(ACK, 5001, 1001, 100, FX_WND);
    send_data(ACK, 5001, 1001, 100, FX_WND);
    expect_segs(1);
    ASSERT_EQ(F.out[0].opt.nsack, 0);
    ASSERT_EQ(F.counters[TW_C_DSACK_SENT], 0);
}

/* After an RTO the peer SACKs S(1)..S(3) on a zero window, then opens the
 * window again. Going back to SND.UNA, output skips the SACKed range, so
 * SND.NXT stands at S(4), past what one SMSS of cwnd allows: nothing can
 * be sent. The retransmission timer must still run (RFC 6298 §5.1), or
 * the connection would wait for ever (found by fuzz_stack). */
TEST(sack_window_reopened_past_cwnd_keeps_a_timer) {
    established_sack();
    flight_of_ten(10 * MSS);
    advance_to_deadline(); /* RTO: S(0) again, cwnd one SMSS */
    expect_segs(1);
    expect_full(0, 0, true);
    /* A block from SND.UNA on, which the ACK contradicts; the window closed. */
    send_sack(S(0), 0, 1, (const uint32_t[]){S(0), S(4)});
    ASSERT_EQ(F.c.snd_wnd, 0u);
    for (int i = 0; i < 3; i++) advance_to_deadline(); /* RTO and persist probes */
    send_data(ACK, 5001, S(0), 0, FX_WND);             /* the window opens */
    ASSERT_EQ(F.c.snd_wnd, (uint32_t)FX_WND);
    for (int i = 0; i < F.nout; i++) ASSERT_EQ(F.out[i].len, 0u);
    ASSERT_TRUE(tw_seq_gt(F.c.snd_nxt, tw_seq_add(F.c.snd_una, F.c.cwnd)));
    ASSERT_CMP(tw_tcp_next_deadline(&F.c), !=, TW_TIME_NEVER);
    ASSERT_CMP(F.c.t_rexmt, !=, TW_TIME_NEVER);
    /* It fires: back to SND.UNA, the scoreboard gone (§5.1), S(0) again. */
    advance_to_deadline();
    ASSERT_CMP(F.nout, >=, 1);
    expect_full(0, 0, true);
    ASSERT_EQ(F.c.nsb, 0);
}

TEST_MAIN()
