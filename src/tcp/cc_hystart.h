/* cc_hystart.h - HyStart++ (RFC 9406): the initial slow start ends when the
 * round-trip time starts to grow, before the queue at the bottleneck
 * overflows, rather than at the first loss.
 *
 * Rounds are windows of data: a round ends when SND.UNA passes the SND.NXT
 * noted at its start (windowEnd). Within a round the smallest RTT sample is
 * kept. Once a round has N_RTT_SAMPLE samples and the previous round had
 * some, a minimum that grew by RttThresh = clamp(lastRoundMinRTT / 8, 4 ms,
 * 16 ms) ends slow start for Conservative Slow Start (CSS): growth divided
 * by CSS_GROWTH_DIVISOR, for CSS_ROUNDS rounds, after which ssthresh =
 * cwnd and congestion avoidance begins. A CSS round whose minimum falls
 * back under the one that started CSS was jitter: slow start resumes.
 * Choices: the delay is watched once the window has grown past the
 * initial window's 10 segments (TW_HS_LOW_WINDOW; Linux's HyStart waits
 * for 16): within it an overshoot costs a few packets, and short
 * connections skip the bookkeeping on every ACK; the per-ACK increase keeps RFC 5681's cap of one
 * SMSS (RFC 9406 allows L = 8 without pacing), and HyStart++ runs only in the first slow start
 * (§4.3): any congestion event ends it (cc_newreno.c). RTT samples come from timestamps (one per
 * ACK; without them at most one per round, never N_RTT_SAMPLE, so slow start stays RFC 5681's). */
#ifndef TW_TCP_CC_HYSTART_H
#define TW_TCP_CC_HYSTART_H

#include "tcp/tcp.h"

#define TW_HS_MIN_RTT_THRESH TW_MS(4)
#define TW_HS_MAX_RTT_THRESH TW_MS(16)
#define TW_HS_MIN_RTT_DIVISOR 8
#define TW_HS_N_RTT_SAMPLE 8
#define TW_HS_CSS_GROWTH_DIVISOR 4
#define TW_HS_CSS_ROUNDS 5
#define TW_HS_LOW_WINDOW 10 /* segments: windows up to it are not watched */
/* No RTT (sample, minimum, baseline); a 0 ns sample, possible only on a
 * zero-delay simulated link, counts as none. */
#define TW_HS_NONE 0

/* The state for a new slow start (from the congestion control's init). */
static inline void tw__hs_init(tw_tcp_conn *c) {
    /* The rest of c->hs is zero (TW_HS_NONE): the connection is new and no
     * ACK of data has been counted (init runs at creation and once the
     * handshake is done, tcp_cc.h). */
    c->hs.phase = c->cfg->hystart ? TW_HS_SLOW_START : TW_HS_OFF;
    c->hs.window_end = c->snd_una; /* the first ACK starts a round */
    c->hs_rtt = TW_HS_NONE;        /* the handshake's sample is not slow start's */
}

/* A round ends: its minimum becomes the last one; CSS counts it. Returns
 * true when CSS is over (congestion avoidance from here). */
static inline bool tw__hs_next_round(tw_tcp_conn *c) {
    c->hs.last_min = c->hs.cur_min;
    c->hs.cur_min = TW_HS_NONE;
    c->hs.samples = 0;
    c->hs.window_end = c->snd_nxt;
    return c->hs.phase == TW_HS_CSS && ++c->hs.css_rounds >= TW_HS_CSS_ROUNDS;
}

/* The increase of cwnd for an ACK of `acked` new bytes in slow start; it
 * may end slow start by setting ssthresh. Inline: it runs on every ACK of
 * a short connection (the churn's instruction budget). */
static inline uint32_t tw__hs_increase(tw_tcp_conn *c, uint32_t acked) {
    uint32_t inc = acked < c->smss ? acked : c->smss; /* RFC 5681 equation 2 */
    if (c->hs.phase == TW_HS_OFF || c->cwnd <= TW_HS_LOW_WINDOW * c->smss) return inc;
    if (tw_seq_gt(c->snd_una, c->hs.window_end) && tw__hs_next_round(c)) {
        c->ssthresh = c->cwnd; /* §4.2: TW_HS_CSS_ROUNDS done, congestion avoidance */
        c->hs.phase = TW_HS_OFF;
        return 0;
    }
    if (c->hs_rtt != TW_HS_NONE) { /* the sample this ACK gave */
        if (c->hs.cur_min == TW_HS_NONE || c->hs_rtt < c->hs.cur_min) c->hs.cur_min = c->hs_rtt;
        if (c->hs.samples < 0xffff) c->hs.samples++;
        c->hs_rtt = TW_HS_NONE;
    }
    /* Too few samples in this round to judge: the common case, kept short
     * (short connections never get past it). */
    if (c->hs.samples < TW_HS_N_RTT_SAMPLE)
        return c->hs.phase == TW_HS_CSS ? inc / TW_HS_CSS_GROWTH_DIVISOR : inc;
    bool enough = c->hs.cur_min != TW_HS_NONE && c->hs.last_min != TW_HS_NONE;
    if (c->hs.phase == TW_HS_SLOW_START) {
        tw_time_t t = c->hs.last_min / TW_HS_MIN_RTT_DIVISOR;
        if (t < TW_HS_MIN_RTT_THRESH) t = TW_HS_MIN_RTT_THRESH;
        if (t > TW_HS_MAX_RTT_THRESH) t = TW_HS_MAX_RTT_THRESH;
        if (enough && c->hs.cur_min >= c->hs.last_min + t) {
            c->hs.css_baseline = c->hs.cur_min; /* §4.2: the delay grew: CSS */
            c->hs.phase = TW_HS_CSS;
            c->hs.css_rounds = 0;
            tw__tcp_count(c, TW_C_HYSTART_EXIT);
        }
        return inc;
    }
    if (enough && c->hs.css_baseline != TW_HS_NONE && c->hs.cur_min < c->hs.css_baseline) {
        c->hs.css_baseline = TW_HS_NONE; /* a spurious exit: back to slow start */
        c->hs.phase = TW_HS_SLOW_START;
        return inc;
    }
    return inc / TW_HS_CSS_GROWTH_DIVISOR;
}

#endif
