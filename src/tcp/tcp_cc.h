/* tcp_cc.h - congestion control behind a small table of operations, so an
 * algorithm can be swapped (RFC 9293 MAY-18) without touching input or
 * output. The connection keeps the state every algorithm needs (cwnd,
 * ssthresh, the duplicate-ACK count, `recover`, the recovery bit); input
 * and the timers call the operations below, and output sends what they
 * ask for (TW_CCF_REXMT) and never more than min(cwnd, the peer's window)
 * beyond SND.UNA (RFC 5681 §3.1).
 *
 * cc_newreno.c is the default algorithm: slow start and congestion avoidance
 * (RFC 5681 §3.1), fast retransmit and fast recovery (§3.2) with the NewReno
 * modification (RFC 6582), the initial window of RFC 6928 and the restart
 * window after idle (RFC 5681 §4.1). cc_cubic.c is CUBIC (RFC 9438): the same
 * loss recovery (it reuses NewReno's operations), its own window growth in
 * congestion avoidance and its own cut (`cut`).
 *
 * When SACK is in use, loss recovery is RFC 6675's (tcp_sack.c): it decides
 * when recovery starts and ends and what to send, by pipe rather than by
 * inflating cwnd, and asks congestion control only for the reduced window
 * (sack_recovery); cwnd is left alone during that recovery. */
#ifndef TW_TCP_TCP_CC_H
#define TW_TCP_TCP_CC_H

#include <stdbool.h>
#include <stdint.h>

#include "util/time.h"

struct tw_tcp_conn;

/* ssthresh before the first loss: "arbitrarily high" (RFC 5681 §3.1). */
#define TW_CC_SSTHRESH_INF 0x7fffffffu

/* conn->ccf bits. */
enum {
    TW_CCF_RECOVERY = 1, /* in fast recovery (RFC 5681 §3.2 / RFC 6582) */
    TW_CCF_REXMT = 2,    /* retransmit the first unacknowledged segment at the next output */
    TW_CCF_SACK = 4,     /* the recovery is RFC 6675's (with TW_CCF_RECOVERY) */
    TW_CCF_PIPE = 8,     /* new data goes while cwnd - pipe >= SMSS (RFC 6675 §5 steps 3, C) */
};

typedef struct tw_tcp_cc_ops {
    const char *name;
    /* The connection is synchronized: the initial window and ssthresh. */
    void (*init)(struct tw_tcp_conn *c);
    /* An ACK moved SND.UNA forward by `acked` bytes (SND.UNA is already the
     * new value) at time `now`; `flight` was SND.MAX - SND.UNA before it. */
    void (*ack)(struct tw_tcp_conn *c, uint32_t acked, uint32_t flight, tw_time_t now);
    /* A duplicate ACK as RFC 5681 §2 defines it. */
    void (*dupack)(struct tw_tcp_conn *c);
    /* The retransmission timer expired; `first`: for the first time for
     * this segment (ssthresh is cut only then, RFC 5681 eq. 4). */
    void (*rto)(struct tw_tcp_conn *c, bool first);
    /* About to send after no data was sent for more than an RTO (§4.1). */
    void (*idle)(struct tw_tcp_conn *c);
    /* SACK-based loss recovery starts (RFC 6675 §5 step 4.2): set ssthresh
     * and cwnd for it; `flight` is SND.MAX - SND.UNA. */
    void (*sack_recovery)(struct tw_tcp_conn *c, uint32_t flight);
    /* An ECN-Echo (RFC 3168 §6.1.2): react as to a loss, once per window,
     * but retransmit nothing; `flight` is SND.MAX - SND.UNA. */
    void (*ecn)(struct tw_tcp_conn *c, uint32_t flight);
    /* A congestion event (the third duplicate ACK, SACK recovery, the first
     * RTO of a segment, an ECN-Echo): returns the new ssthresh and notes
     * what the algorithm needs; `flight` is SND.MAX - SND.UNA. The
     * operations above call it, so an algorithm that reuses them changes
     * the cut here alone. */
    uint32_t (*cut)(struct tw_tcp_conn *c, uint32_t flight);
} tw_tcp_cc_ops;

extern const tw_tcp_cc_ops tw_cc_newreno;
extern const tw_tcp_cc_ops tw_cc_cubic;

/* NewReno's operations, shared with CUBIC (cc_newreno.c). */
void tw__cc_reno_init(struct tw_tcp_conn *c);
void tw__cc_reno_ack(struct tw_tcp_conn *c, uint32_t acked, uint32_t flight, tw_time_t now);
void tw__cc_reno_dupack(struct tw_tcp_conn *c);
void tw__cc_reno_rto(struct tw_tcp_conn *c, bool first);
void tw__cc_reno_idle(struct tw_tcp_conn *c);
void tw__cc_reno_sack_recovery(struct tw_tcp_conn *c, uint32_t flight);
void tw__cc_reno_ecn(struct tw_tcp_conn *c, uint32_t flight);

/* RFC 6928: IW = min(10*MSS, max(2*MSS, 14600)). */
static inline uint32_t tw_cc_initial_window(uint32_t smss) {
    uint32_t two = 2u * smss, ten = 10u * smss;
    uint32_t w = two > 14600u ? two : 14600u;
    return w < ten ? w : ten;
}

#endif
