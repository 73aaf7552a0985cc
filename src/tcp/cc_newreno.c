/* cc_newreno.c - NewReno congestion control: slow start and congestion
 * avoidance (RFC 5681 §3.1), fast retransmit and fast recovery (RFC 5681
 * §3.2) with NewReno's partial acknowledgments (RFC 6582 §3.2), the initial
 * window of RFC 6928, and the restart window after idle (RFC 5681 §4.1).
 *
 * All sizes are bytes, SMSS is conn->smss (the payload of a full segment,
 * timestamps already taken out). The sending side (tcp_output.c) keeps
 * SND.NXT - SND.UNA within min(cwnd, SND.WND), plus up to two segments
 * for the first two duplicate ACKs (Limited Transmit, RFC 3042, which RFC
 * 5681 §3.2 step 1 says SHOULD be used); it retransmits the first
 * unacknowledged segment when TW_CCF_REXMT is set. Choices:
 * - congestion avoidance counts bytes: cwnd grows by SMSS each time a
 *   cwnd's worth of bytes has been acknowledged (the way §3.1 recommends);
 * - slow start adds min(N, SMSS) per ACK of N new bytes (equation 2);
 * - after a full ACK, cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS),
 *   option (1) of RFC 6582 §3.2 step 3, which avoids a burst;
 * - `recover` starts one below ISS rather than at ISS (RFC 6582 step 1), so
 *   that duplicate ACKs for ISS+1, the loss of the very first data segment,
 *   still "cover more than recover" and trigger a fast retransmit;
 * - the retransmission timer restarts on every ACK of new data (RFC 6298
 *   §5.3), partial ACKs included: the "Slow-but-Steady" variant RFC 6582 §4
 *   allows. */
#include "tcp/tcp.h"
#include "tcp/cc_hystart.h"

static uint32_t flight_size(const tw_tcp_conn *c) {
    return (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
}

/* RFC 5681 equation 4: ssthresh = max(FlightSize / 2, 2 * SMSS). */
static uint32_t half_flight(tw_tcp_conn *c, uint32_t flight) {
    uint32_t h = flight / 2, two = 2u * c->smss;
    return h > two ? h : two;
}

/* A congestion event: the algorithm's cut; HyStart++ watches only the first
 * slow start (RFC 9406 §4.3), so it ends here. */
static uint32_t cut(tw_tcp_conn *c, uint32_t flight) {
    c->hs.phase = TW_HS_OFF;
    return c->cc->cut(c, flight);
}

static void grow(tw_tcp_conn *c, uint32_t by) {
    c->cwnd = c->cwnd + by > (1u << 30) ? (1u << 30) : c->cwnd + by;
}

void tw__cc_reno_init(tw_tcp_conn *c) {
    /* RFC 5681 §3.1: after a lost SYN or SYN-ACK the initial window is one
     * segment; otherwise RFC 6928's. */
    c->cwnd = (c->flags & TW_TF_SYN_RETRIED) ? c->smss : tw_cc_initial_window(c->smss);
    c->ssthresh = TW_CC_SSTHRESH_INF;
    c->cc_acked = 0;
    c->dupacks = 0;
    c->ccf = 0;
    c->recover = tw_seq_add(c->iss, (uint32_t)-1);
    tw__hs_init(c);
}

void tw__cc_reno_ack(tw_tcp_conn *c, uint32_t acked, uint32_t flight, tw_time_t now) {
    (void)flight;
    (void)now;
    c->dupacks = 0;
    if (c->ccf & TW_CCF_RECOVERY) {
        if (tw_seq_gt(c->snd_una, c->recover)) {
            /* Full ACK (RFC 6582 step 3): everything up to and including
             * recover is acknowledged; leave fast recovery, deflated. */
            uint32_t fs = flight_size(c);
            uint32_t w = (fs > c->smss ? fs : c->smss) + c->smss;
            c->cwnd = w < c->ssthresh ? w : c->ssthresh;
            c->ccf &= (uint8_t)~TW_CCF_RECOVERY;
            c->cc_acked = 0;
            return;
        }
        /* Partial ACK (step 4): the next hole is lost too. Retransmit it,
         * deflate cwnd by the bytes acknowledged, add one SMSS back if at
         * least that much was, stay in fast recovery. */
        c->ccf |= TW_CCF_REXMT;
        c->cwnd = c->cwnd > acked ? c->cwnd - acked : 0;
        if (acked >= c->smss) grow(c, c->smss);
        if (c->cwnd < c->smss) c->cwnd = c->smss;
        return;
    }
    if (c->cwnd < c->ssthresh) {
        grow(c, tw__hs_increase(c, acked)); /* slow start: equation 2, HyStart++ */
        return;
    }
    c->cc_acked += acked; /* congestion avoidance: one SMSS per cwnd acknowledged */
    if (c->cc_acked >= c->cwnd) {
        c->cc_acked -= c->cwnd;
        grow(c, c->smss);
    }
}

void tw__cc_reno_dupack(tw_tcp_conn *c) {
    if (c->ccf & TW_CCF_RECOVERY) {
        grow(c, c->smss); /* RFC 5681 §3.2 step 4: a segment has left the network */
        return;
    }
    if (c->dupacks < 255) c->dupacks++;
    if (c->dupacks != 3) return; /* steps 1-2: Limited Transmit only */
    /* RFC 6582 step 2: only if the ACK covers more than recover, so
     * duplicate ACKs caused by retransmissions of one window (after a
     * timeout or an earlier recovery) do not cut cwnd again. */
    tw_seq_t covered = tw_seq_add(c->snd_una, (uint32_t)-1);
    if (!tw_seq_gt(covered, c->recover)) return;
    c->ssthresh = cut(c, flight_size(c));              /* step 2 */
    c->recover = tw_seq_add(c->snd_max, (uint32_t)-1); /* highest sequence number sent */
    c->cwnd = c->ssthresh + 3u * c->smss;              /* step 3: the three that left */
    c->ccf |= TW_CCF_RECOVERY | TW_CCF_REXMT;          /* step 3: retransmit the lost one */
    c->cc_acked = 0;
    c->fast_retrans++;
    tw__tcp_count(c, TW_C_TCP_FAST_RETRANS);
    tw__tcp_ecn_cwnd_cut(c); /* RFC 3168 §6.1.2: CWR after any cut */
}

void tw__cc_reno_rto(tw_tcp_conn *c, bool first) {
    if (first) c->ssthresh = cut(c, flight_size(c)); /* equation 4 */
    c->cwnd = c->smss;                               /* LW: one segment */
    /* RFC 6582 §3.2 step 4 (timeouts): remember the highest sequence number
     * sent and leave fast recovery. */
    c->recover = tw_seq_add(c->snd_max, (uint32_t)-1);
    c->ccf &= (uint8_t) ~(TW_CCF_RECOVERY | TW_CCF_REXMT);
    c->dupacks = 0;
    c->cc_acked = 0;
}

/* RFC 6675 §5 step 4.2: ssthresh = cwnd = FlightSize / 2, with RFC 5681
 * equation 4's floor of two segments. No inflation follows: pipe, not cwnd,
 * accounts for the segments that left the network (tcp_sack.c). */
void tw__cc_reno_sack_recovery(tw_tcp_conn *c, uint32_t flight) {
    c->ssthresh = cut(c, flight);
    c->cwnd = c->ssthresh;
    c->cc_acked = 0;
}

void tw__cc_reno_idle(tw_tcp_conn *c) {
    /* RFC 5681 §4.1: cwnd = min(RW, cwnd) with RW = the initial window. */
    uint32_t rw = tw_cc_initial_window(c->smss);
    if (c->cwnd > rw) c->cwnd = rw;
}

/* RFC 3168 §6.1.2: halve cwnd and set ssthresh as for a loss (RFC 5681
 * eq. 4), the same cut as SACK recovery's, without its retransmissions. */
void tw__cc_reno_ecn(tw_tcp_conn *c, uint32_t flight) {
    tw__cc_reno_sack_recovery(c, flight);
}

const tw_tcp_cc_ops tw_cc_newreno = {
    "newreno",       tw__cc_reno_init, tw__cc_reno_ack,           tw__cc_reno_dupack,
    tw__cc_reno_rto, tw__cc_reno_idle, tw__cc_reno_sack_recovery, tw__cc_reno_ecn,
    half_flight,
};
