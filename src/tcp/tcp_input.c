/* tcp_input.c - SEGMENT ARRIVES (RFC 9293 §3.10.7) for one connection.
 *
 * tw_tcp_input() dispatches on the state: LISTEN (§3.10.7.2), SYN_SENT
 * (§3.10.7.3), TIME_WAIT (tcp_timewait.c) and the synchronized states
 * (§3.10.7.4), which follow the RFC's steps in order: sequence check, RST,
 * SYN, ACK, text, FIN. Each path ends in a named action (accept, drop, drop
 * after ACK, drop with RST) with a counter naming the reason. Replies are not
 * sent here: flags are set and tw_tcp_output() sends what is owed. */
#include <string.h>

#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"

static tw_tcp_result accept_(void) {
    tw_tcp_result r = {TW_ACT_ACCEPT, 0};
    return r;
}

static tw_tcp_result drop(const tw_tcp_conn *c, tw_tcp_action a, int reason) {
    tw_tcp_result r = {a, (uint16_t)reason};
    if (reason) tw__tcp_count(c, reason);
    return r;
}

/* Immediate ACK owed (unacceptable segment, out-of-order data, ...). */
static void ack_now(tw_tcp_conn *c) {
    c->flags |= TW_TF_ACK_NOW;
}

/* A delayed ACK owed: output leaves it to the timer (cfg->delack after the
 * first segment it covers) or to the next segment we send anyway. */
static void schedule_delack(tw_tcp_conn *c, tw_time_t now) {
    c->flags |= TW_TF_DELACK;
    if (c->t_delack == TW_TIME_NEVER) c->t_delack = now + c->cfg->delack;
}

/* RFC 5961 challenge ACK: <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>. At most
 * cfg->challenge_ack_limit are sent per second and per connection (RFC 5961
 * §7): a per-connection budget, unlike a global one, tells an off-path
 * attacker nothing about other connections (CVE-2016-5696). */
static void challenge_ack(tw_tcp_conn *c, tw_time_t now) {
    unsigned limit = c->cfg->challenge_ack_limit;
    if (limit) {
        if (c->chal_count == 0 || now - c->chal_since >= TW_SEC(1)) {
            c->chal_since = now;
            c->chal_count = 0;
        }
        if (c->chal_count >= limit) {
            tw__tcp_count(c, TW_C_CHALLENGE_ACK_LIMITED);
            return;
        }
        c->chal_count++;
    }
    c->flags |= TW_TF_ACK_NOW | TW_TF_CHALLENGE;
    tw__tcp_count(c, TW_C_CHALLENGE_ACK);
}

/* A segment whose only answer is a challenge ACK (RFC 5961 §3.2 RST, §4.2
 * SYN): dropped with CHALLENGE_ACK as its reason, counted once. */
static tw_tcp_result drop_with_challenge(tw_tcp_conn *c, tw_time_t now) {
    challenge_ack(c, now);
    tw_tcp_result r = {TW_ACT_DROP_AFTER_ACK, TW_C_CHALLENGE_ACK};
    return r;
}

/* An ACK for in-order data: delayed (RFC 9293 §3.8.6.3, SHLD-18/19) unless two
 * full-sized segments' worth is unacknowledged, then at once. */
static void schedule_ack(tw_tcp_conn *c, uint32_t bytes, tw_time_t now) {
    if (!c->cfg->delack_enabled) {
        ack_now(c);
        return;
    }
    c->unacked_segs += bytes;
    if (c->unacked_segs >= 2u * c->smss) {
        ack_now(c);
        return;
    }
    schedule_delack(c, now);
}

/* MSS option of a SYN (RFC 9293 §3.7.1): the send MSS is the smaller of the
 * peer's and ours; without the option the peer gets 536 (MUST-15). A tiny or
 * zero MSS is raised to 48 bytes so one byte per segment cannot be forced.
 * Window scale and timestamps follow (RFC 7323, tcp_rfc7323.c). */
static void take_syn_options(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now) {
    uint32_t mss = seg->opt.has_mss ? seg->opt.mss : 536u;
    if (mss < 48) mss = 48;
    if (mss > c->cfg->mss) mss = c->cfg->mss;
    c->snd_mss = (uint16_t)mss;
    tw__tcp_take_syn_options(c, seg, now);
}

/* Records the peer's ISN: RCV.NXT = SEG.SEQ + 1, IRS = SEG.SEQ. */
static void take_peer_syn(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now) {
    c->irs = seg->seq;
    c->rcv_nxt = tw_seq_add(seg->seq, 1);
    c->last_ack_sent = c->rcv_nxt;
    c->rcv_adv = c->rcv_nxt; /* nothing promised yet */
    take_syn_options(c, seg, now);
    /* RFC 3168 §6.1.1: only a SYN with ECE or CWR can set ECN up. */
    if (seg->flags & (TW_TH_ECE | TW_TH_CWR))
        tw__tcp_ecn_syn_in(c, seg);
    else
        c->flags &= ~(uint32_t)(TW_TF_ECN | TW_TF_ECE_SEND | TW_TF_CWR_SEND);
    c->rcv_tos = seg->ip_tos;
    /* What our SYN-ACK or ACK will offer: a SYN's window is never scaled. */
    uint32_t wnd = tw__tcp_rcv_wnd(c);
    c->rcv_adv = tw_seq_add(c->rcv_nxt, wnd < 65535u ? wnd : 65535u);
}

static void take_window(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    /* RFC 7323 §2.3: SND.WND = SEG.WND << Snd.Wind.Shift, except on a SYN. */
    c->snd_wnd = (seg->flags & TW_TH_SYN) ? seg->wnd : (uint32_t)seg->wnd << c->snd_wscale;
    if (c->snd_wnd > c->max_snd_wnd) c->max_snd_wnd = c->snd_wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    if (c->snd_wnd > 0) {
        c->t_persist = TW_TIME_NEVER;
        c->persist_shift = 0;
    }
}

static void became_established(tw_tcp_conn *c, tw_cause cause, tw_time_t now) {
    tw_tcp_set_state(c, TW_ESTABLISHED, cause, now);
    c->events |= TW_CEV_CONNECTED | TW_CEV_WRITABLE;
    /* RFC 6298 §5.7: after a retransmitted SYN, data starts with RTO >= 3 s. */
    if ((c->flags & TW_TF_SYN_RETRIED) && c->rto < TW_SEC(3)) c->rto = TW_SEC(3);
    c->rexmt_count = 0;
    c->t_user = TW_TIME_NEVER; /* the SYN is acknowledged */
    c->cc->init(c);            /* the initial window, from the negotiated SMSS */
    if (c->uflags & TW_UF_KEEPALIVE) tw__tcp_keep_heard(c, now);
    /* A close issued in SYN_RECEIVED was queued until now (RFC 9293 §3.10.4);
     * close() orphans the connection, shutdown() does not. */
    if (c->flags & TW_TF_FIN_QUEUED)
        tw_tcp_set_state(c, TW_FIN_WAIT_1,
                         (c->flags & TW_TF_ORPHAN) ? TW_CAUSE_USER_CLOSE : TW_CAUSE_USER_SHUTDOWN,
                         now);
}

/* RFC 9293 §3.10.7.2: a SYN opens the connection; an ACK is answered with
 * RST; an RST is ignored. */
static tw_tcp_result listen_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    if (seg->flags & TW_TH_RST) return drop(c, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN);
    if (seg->flags & TW_TH_ACK) return drop(c, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    if (!(seg->flags & TW_TH_SYN)) return drop(c, TW_ACT_DROP, TW_C_DROP_LISTEN_NOT_SYN);
    c->flags |= TW_TF_PASSIVE;
    take_peer_syn(c, seg, now);
    c->snd_wnd = seg->wnd;
    c->max_snd_wnd = seg->wnd;
    c->snd_wl1 = seg->seq;
    c->snd_wl2 = seg->ack;
    /* Data carried on the SYN is not queued: it is left unacknowledged and the
     * peer will send it again once the connection is synchronized. */
    tw_tcp_set_state(c, TW_SYN_RECEIVED, TW_CAUSE_RCV_SYN, now);
    return accept_();
}

/* RFC 9293 §3.10.7.3 has the ACK of a SYN-ACK formed and sent at once, and
 * lets "data or controls that were queued for transmission" ride on it. With
 * TW_UF_DELACK_SYNACK (TW_TCP_DELACK_SYNACK) the ACK becomes a delayed ACK
 * instead (RFC 1122 §4.2.3.2, RFC 9293 §3.8.6.3: at most cfg->delack, which
 * is under 0.5 s), so the request an application writes when it learns of
 * the connection carries it: one segment fewer per connection, as Linux does
 * when a write is pending or in its interactive (pingpong) mode, and as
 * lwIP's applications get by writing from their connected callback. When
 * nothing is written in time the timer sends the ACK alone. Not when the
 * SYN-ACK carried data or a FIN (not taken in SYN_SENT: an immediate ACK
 * tells the peer to send them again) or a zero window (our data could not
 * go, and the ACK would wait for nothing). */
static bool defer_synack_ack(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    return (c->uflags & TW_UF_DELACK_SYNACK) && c->cfg->delack_enabled && seg->len == 0 &&
           !(seg->flags & TW_TH_FIN) && c->snd_wnd != 0;
}

/* RFC 9293 §3.10.7.3, SYN_SENT. */
static tw_tcp_result syn_sent_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    bool has_ack = seg->flags & TW_TH_ACK;
    if (has_ack && (tw_seq_le(seg->ack, c->iss) || tw_seq_gt(seg->ack, c->snd_max))) {
        if (seg->flags & TW_TH_RST) return drop(c, TW_ACT_DROP, TW_C_DROP_SYN_SENT_BAD_ACK);
        return drop(c, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
    }
    if (seg->flags & TW_TH_RST) {
        /* Only an RST that acknowledges our SYN resets (RFC 5961 §3 note). */
        if (!has_ack) return drop(c, TW_ACT_DROP, TW_C_DROP_SYN_SENT_BAD_ACK);
        tw__tcp_count(c, TW_C_RST_RECEIVED);
        tw__tcp_enter_closed(c, TW_CAUSE_RCV_RST, TW_ECONNREFUSED, now);
        return accept_();
    }
    if (!(seg->flags & TW_TH_SYN)) return drop(c, TW_ACT_DROP, TW_C_DROP_SYN_SENT_NO_SYN);

    take_peer_syn(c, seg, now);
    if (has_ack) {
        c->snd_una = seg->ack;
        if (c->rtt_timing && tw_seq_gt(seg->ack, c->rtt_seq)) {
            tw__tcp_rtt_sample(c, now - c->rtt_start);
            c->rtt_timing = false;
        }
        c->t_rexmt = TW_TIME_NEVER;
        take_window(c, seg);
        c->max_snd_wnd = c->snd_wnd;
        if (defer_synack_ack(c, seg))
            schedule_delack(c, now);
        else
            ack_now(c);
        became_established(c, TW_CAUSE_RCV_SYN_ACK, now);
        return accept_();
    }
    /* Simultaneous open (MUST-10): SYN without ACK -> SYN_RECEIVED, and our
     * SYN is sent again with an ACK: <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>. */
    c->snd_wnd = seg->wnd;
    c->max_snd_wnd = seg->wnd;
    c->snd_wl1 = seg->seq;
    c->snd_nxt = c->iss;
    c->t_rexmt = TW_TIME_NEVER;
    c->rtt_timing = false;
    tw_tcp_set_state(c, TW_SYN_RECEIVED, TW_CAUSE_RCV_SYN, now);
    return accept_();
}

/* The acceptability test of RFC 9293 §3.10.7.4 (four cases). One
 * widening, as in BSD and Linux: a segment of length zero (not an RST)
 * exactly at the right edge, RCV.NXT + RCV.WND, is acceptable too. A sender that filled
 * our window sends its bare ACKs at its SND.MAX, which is that edge; while
 * a hole keeps RCV.NXT below it, the strict test would drop every such ACK
 * unread, and two such senders would never learn each other's ACKs. */
static bool acceptable(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    uint32_t seglen = tw_seg_seqlen(seg);
    int32_t w = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    uint32_t wnd = w > 0 ? (uint32_t)w : 0;
    tw_seq_t end = tw_seq_add(c->rcv_nxt, wnd);
    if (seglen == 0) {
        if (wnd == 0) return tw_seq_eq(seg->seq, c->rcv_nxt);
        return tw_seq_in(seg->seq, c->rcv_nxt, end) ||
               (tw_seq_eq(seg->seq, end) &&
                !(seg->flags & TW_TH_RST)); /* RSTs: strict (RFC 5961 §3) */
    }
    if (wnd == 0) return false;
    tw_seq_t last = tw_seq_add(seg->seq, seglen - 1);
    return tw_seq_in(seg->seq, c->rcv_nxt, end) || tw_seq_in(last, c->rcv_nxt, end);
}

/* A trimmed view of the segment: only the part inside the receive window. */
typedef struct trimmed {
    tw_seq_t seq;
    const uint8_t *data;
    uint32_t len;
    bool syn, fin;
} trimmed;

static void trim_to_window(const tw_tcp_conn *c, const tw_tcp_seg *seg, trimmed *t) {
    t->seq = seg->seq;
    t->data = seg->payload;
    t->len = seg->len;
    t->syn = seg->flags & TW_TH_SYN;
    t->fin = seg->flags & TW_TH_FIN;
    if (t->syn) { /* the SYN occupies seg->seq; data starts after it */
        t->syn = false;
        t->seq = tw_seq_add(t->seq, 1);
    }
    int32_t before = tw_seq_diff(c->rcv_nxt, t->seq);
    if (before > 0) { /* already received bytes at the front */
        uint32_t cut = (uint32_t)before < t->len ? (uint32_t)before : t->len;
        t->data += cut;
        t->len -= cut;
        t->seq = tw_seq_add(t->seq, cut);
        if ((uint32_t)before > cut) t->fin = false; /* the FIN itself is old too */
    }
    int32_t w = tw_seq_diff(c->rcv_adv, t->seq);
    uint32_t room = w > 0 ? (uint32_t)w : 0;
    if (t->len > room) { /* past the right edge: cut, and the FIN with it */
        t->len = room;
        t->fin = false;
    }
}

/* Step 2 (RFC 9293 §3.10.7.4 with RFC 5961 §3): an RST resets only when its
 * sequence number is exactly RCV.NXT; otherwise a challenge ACK. */
static tw_tcp_result rst_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    if (!tw_seq_eq(seg->seq, c->rcv_nxt)) return drop_with_challenge(c, now);
    tw__tcp_count(c, TW_C_RST_RECEIVED);
    int err = 0;
    switch (c->state) {
    case TW_SYN_RECEIVED: /* passive: the listener stays; active: refused */
        err = (c->flags & TW_TF_PASSIVE) ? 0 : TW_ECONNREFUSED;
        break;
    case TW_ESTABLISHED:
    case TW_FIN_WAIT_1:
    case TW_FIN_WAIT_2:
    case TW_CLOSE_WAIT: err = TW_ECONNRESET; break;
    default: /* CLOSING, LAST_ACK: just close */ break;
    }
    tw__tcp_enter_closed(c, TW_CAUSE_RCV_RST, err, now);
    return accept_();
}

static bool our_fin_acked(const tw_tcp_conn *c) {
    return (c->flags & TW_TF_FIN_QUEUED) && tw_seq_gt(c->snd_una, c->fin_seq);
}

/* RFC 5681 §2: a duplicate ACK acknowledges nothing new while data is
 * outstanding, carries no data, no SYN or FIN, and leaves the window as it
 * was. Not while the window is closed: answers to zero-window probes repeat
 * the ACK too, and say nothing about loss. */
static bool is_dupack(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    if (seg->len || (seg->flags & (TW_TH_SYN | TW_TH_FIN))) return false;
    if (!tw_seq_eq(seg->ack, c->snd_una) || tw_seq_eq(c->snd_una, c->snd_max)) return false;
    return c->snd_wnd != 0 && ((uint32_t)seg->wnd << c->snd_wscale) == c->snd_wnd;
}

/* An ACK of new data (SEG.ACK > SND.UNA): release acknowledged data, take
 * an RTT sample, restart or stop the retransmission timer. `flight` is
 * SND.MAX - SND.UNA before it; congestion control is told by the caller. */
/* recover (RFC 6582, RFC 6675's RecoveryPoint) and the ECN cut mark are
 * compared with SND.UNA in sequence space, which orders only numbers less
 * than 2^31 apart: left where a loss or a cut put them, after 2 GB sent
 * without another they would look ahead of SND.UNA again, and fast
 * retransmit (or ECN's cut) would wait for an RTO. Outside recovery, once
 * SND.UNA has passed them, they follow it at a distance that answers every
 * test the same: SND.UNA - 1 > recover and SND.UNA > ecn_recover. */
static void marks_follow_una(tw_tcp_conn *c) {
    if (c->ccf & TW_CCF_RECOVERY) return;
    tw_seq_t r = tw_seq_add(c->snd_una, (uint32_t)-2), e = tw_seq_add(c->snd_una, (uint32_t)-1);
    if (tw_seq_lt(c->recover, r)) c->recover = r;
    if (tw_seq_lt(c->ecn_recover, e)) c->ecn_recover = e;
}

static void ack_new_data(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg, uint32_t flight) {
    tw_seq_t start = tw__tcp_snd_data_start(c);
    int32_t covered = tw_seq_diff(seg->ack, start);
    uint32_t buffered = tw_ring_len(&c->sndbuf);
    uint32_t n = covered > 0 ? ((uint32_t)covered < buffered ? (uint32_t)covered : buffered) : 0;
    tw_ring_discard(&c->sndbuf, n);
    c->snd_una = seg->ack;
    if (tw_seq_lt(c->snd_nxt, c->snd_una)) c->snd_nxt = c->snd_una;
    if ((c->flags & TW_TF_URG_SND) && !tw_seq_lt(c->snd_una, c->snd_up))
        c->flags &= ~(uint32_t)TW_TF_URG_SND; /* the urgent data is delivered */
    tw_time_t rtt;
    if (tw__tcp_ts_rtt(c, seg, now, &rtt)) {
        /* RFC 7323 §4.1: with timestamps every ACK of new data is a
         * sample, retransmitted or not (no Karn ambiguity); Appendix G
         * weighs each by the samples expected per RTT. */
        uint32_t per = 2u * c->smss;
        tw__tcp_rtt_sample_k(c, rtt, flight > per ? (flight + per - 1) / per : 1);
        c->rtt_timing = false;
    } else if (c->rtt_timing && tw_seq_gt(seg->ack, c->rtt_seq)) {
        tw__tcp_rtt_sample(c, now - c->rtt_start);
        c->rtt_timing = false;
    } else if (c->rexmt_count) {
        /* Karn (RFC 6298 §5.5 and §3): without a new sample the
         * backed-off RTO stays in force; only the retry count restarts. */
        c->rto = tw__tcp_backoff_rto(c);
    }
    c->rexmt_count = 0;
    c->t_user = TW_TIME_NEVER; /* progress: the user timeout starts again */
    /* RFC 6298 §5.2/5.3: stop when all is acked, else restart. */
    if (tw_seq_eq(c->snd_una, c->snd_max))
        c->t_rexmt = TW_TIME_NEVER;
    else
        tw__tcp_arm_rexmt(c, now);
    if (n) c->events |= TW_CEV_WRITABLE;
}

/* Step 5 for the synchronized states: SND.UNA, the send window, RTT, the
 * retransmission timer, and the FIN_WAIT_1/CLOSING/LAST_ACK moves. Returns
 * true when processing goes on to the text and FIN steps. */
static bool ack_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg, tw_tcp_result *res) {
    if (tw_seq_gt(seg->ack, c->snd_max)) { /* acks something never sent */
        ack_now(c);
        *res = drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_NEW);
        return false;
    }
    if (tw_seq_lt(seg->ack, tw_seq_add(c->snd_una, (uint32_t)-c->max_snd_wnd)) &&
        tw_seq_lt(seg->ack, c->snd_una)) { /* RFC 5961 §5: too old */
        challenge_ack(c, now);
        *res = drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_ACK_TOO_OLD);
        return false;
    }
    bool dup = is_dupack(c, seg); /* before the window update below */
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    uint32_t acked = 0, cwnd_before = c->cwnd;
    if (tw_seq_gt(seg->ack, c->snd_una)) {
        acked = (uint32_t)tw_seq_diff(seg->ack, c->snd_una);
        ack_new_data(c, now, seg, flight);
    }
    /* SACK blocks, a scoreboard or a pipe-governed send: RFC 6675 decides
     * (tcp_sack.c); otherwise congestion control alone (NewReno). */
    if (tw__tcp_sack_path(c, seg))
        tw__tcp_sack_ack(c, seg, acked, flight, dup, now);
    else if (acked)
        c->cc->ack(c, acked, flight, now);
    else if (dup)
        c->cc->dupack(c);
    if (c->flags & TW_TF_ECN) {
        /* RFC 3168 §6.1.2: an ECN-Echo ACK does not grow cwnd; it may cut it. */
        if ((seg->flags & TW_TH_ECE) && c->cwnd > cwnd_before) c->cwnd = cwnd_before;
        tw__tcp_ecn_ack(c, seg, flight);
    }
    if (acked) marks_follow_una(c);
    c->probes_unanswered = 0; /* the peer is alive: it answered */
    /* Send window update (RFC 9293 §3.10.7.4): only from an ACK with
     * SND.UNA =< SEG.ACK (SND.UNA has moved to SEG.ACK above if it was
     * new). An older ACK, even on a later SEG.SEQ, offers a window whose
     * right edge may lie below what the peer already allowed. Then the
     * SND.WL1/SND.WL2 rule, or an ACK that moved SND.UNA: no segment the
     * peer sent before it can carry a newer window, and without this a
     * segment with an old SEG.SEQ (a retransmission, or one overlapping
     * RCV.NXT from the left) that acks new data left SND.WND to count from
     * the new SND.UNA, past every edge the peer offered. Both found by
     * fuzz_stack. */
    if (!tw_seq_lt(seg->ack, c->snd_una) &&
        (acked || tw_seq_lt(c->snd_wl1, seg->seq) ||
         (tw_seq_eq(c->snd_wl1, seg->seq) && tw_seq_le(c->snd_wl2, seg->ack)))) {
        tw_seq_t wl1 = c->snd_wl1;
        take_window(c, seg);
        /* SND.WL1 never moves back: a segment sent between the two with
         * the same ACK may carry an older window. */
        if (tw_seq_lt(seg->seq, wl1)) c->snd_wl1 = wl1;
    }

    switch (c->state) {
    case TW_FIN_WAIT_1:
        /* The move to FIN_WAIT_2 is made after the FIN step (sync_input):
         * when this segment's FIN is taken we go straight to TIME_WAIT, so
         * the trace shows one move for the merged FIN+ACK. */
        break;
    case TW_CLOSING:
        if (our_fin_acked(c)) {
            tw__tcp_enter_time_wait(c, TW_CAUSE_RCV_ACK_OF_FIN, now);
            *res = accept_();
            return false;
        }
        break;
    case TW_LAST_ACK:
        if (our_fin_acked(c)) {
            tw__tcp_enter_closed(c, TW_CAUSE_RCV_ACK_OF_FIN, 0, now);
            *res = accept_();
            return false;
        }
        break;
    default: break;
    }
    return true;
}

/* FIN_WAIT_1 whose FIN is acknowledged: RFC 9293 §3.10.7.4 fifth step. An
 * orphaned connection may not wait for the peer's FIN for ever. */
static void enter_fin_wait_2(tw_tcp_conn *c, tw_time_t now) {
    tw_tcp_set_state(c, TW_FIN_WAIT_2, TW_CAUSE_RCV_ACK_OF_FIN, now);
    if ((c->flags & TW_TF_ORPHAN) && c->fw2_timeout) c->t_fw2 = now + c->fw2_timeout;
}

/* Takes the peer's FIN at RCV.NXT: the FIN step of RFC 9293 §3.10.7.4. */
static void take_fin(tw_tcp_conn *c, tw_time_t now) {
    c->rcv_nxt = tw_seq_add(c->rcv_nxt, 1);
    c->flags |= TW_TF_RCVD_FIN;
    c->flags &= ~(uint32_t)TW_TF_PEER_FIN_OOO;
    c->events |= TW_CEV_READABLE;
    switch (c->state) {
    case TW_SYN_RECEIVED:
    case TW_ESTABLISHED:
        tw_tcp_set_state(c, TW_CLOSE_WAIT, TW_CAUSE_RCV_FIN, now);
        /* The switch between the four-way and the three-way close: a delayed
         * ACK lets the application's close put our FIN on the same segment. */
        if ((c->uflags & TW_UF_DELACK_FIN) && c->cfg->delack_enabled) {
            schedule_delack(c, now);
        } else {
            ack_now(c);
        }
        break;
    case TW_FIN_WAIT_1:
        ack_now(c);
        if (our_fin_acked(c))
            tw__tcp_enter_time_wait(c, TW_CAUSE_RCV_FIN_ACK, now);
        else
            tw_tcp_set_state(c, TW_CLOSING, TW_CAUSE_RCV_FIN, now); /* simultaneous close */
        break;
    case TW_FIN_WAIT_2:
        ack_now(c);
        tw__tcp_enter_time_wait(c, TW_CAUSE_RCV_FIN, now);
        break;
    default: ack_now(c); break;
    }
}

/* RFC 2883 §4: data of a segment at or below RCV.NXT was received before:
 * report it as a D-SACK block. Only within the largest window we can offer
 * behind RCV.NXT, so an old or forged sequence number is never echoed. */
static void note_dup_data(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    if (!seg->len || !(c->xopts & TW_XO_SACK) || (seg->flags & TW_TH_RST)) return;
    tw_seq_t l = (seg->flags & TW_TH_SYN) ? tw_seq_add(seg->seq, 1) : seg->seq;
    int32_t below = tw_seq_diff(c->rcv_nxt, l);
    if (below <= 0 || (uint32_t)below > (65535u << c->rcv_wscale)) return;
    tw__tcp_dsack_note(c, l, tw_seq_min(tw_seq_add(l, seg->len), c->rcv_nxt));
}

/* Step 7: in-order data goes to the receive ring, out-of-order data into the
 * ring's free area with its range recorded, and a gap being filled is ACKed
 * at once (RFC 9293 §3.10.7.4 and RFC 5681 §4.2). */
static void data_input(tw_tcp_conn *c, tw_time_t now, const trimmed *t) {
    int32_t off = tw_seq_diff(t->seq, c->rcv_nxt);
    if (off > 0) {
        tw__tcp_dsack_held(c, (uint32_t)off, t->len); /* a repeat of held data (RFC 2883) */
        uint32_t w = tw_ring_write_at(&c->rcvbuf, (uint32_t)off, t->data, t->len);
        if (w < t->len || tw_asm_add(&c->ooo, (uint32_t)off, w) < 0)
            tw__tcp_count(c, TW_C_DROP_OOO_FULL);
        else
            tw__tcp_sack_note(c, t->seq); /* the first SACK block of our ACK */
        tw__tcp_count(c, TW_C_ACK_NOW_OOO);
        ack_now(c);
        return;
    }
    bool had_gap = !tw_asm_empty(&c->ooo);
    uint32_t n = tw_ring_write_at(&c->rcvbuf, 0, t->data, t->len);
    tw_ring_commit(&c->rcvbuf, n);
    c->rcv_nxt = tw_seq_add(c->rcv_nxt, n);
    tw_asm_shift(&c->ooo, n);
    uint32_t more = tw_asm_take_front(&c->ooo);
    if (more) {
        tw_ring_commit(&c->rcvbuf, more);
        c->rcv_nxt = tw_seq_add(c->rcv_nxt, more);
        tw_asm_shift(&c->ooo, more);
    }
    c->env->counters[TW_C_TCP_DATA_IN_BYTES] += n + more;
    c->events |= TW_CEV_READABLE;
    if (had_gap)
        ack_now(c);
    else
        schedule_ack(c, n, now);
}

/* Steps 6-8 (text and FIN) for ESTABLISHED and the closing states. */
static tw_tcp_result text_and_fin(tw_tcp_conn *c, tw_time_t now, const trimmed *t) {
    bool can_receive =
        c->state == TW_ESTABLISHED || c->state == TW_FIN_WAIT_1 || c->state == TW_FIN_WAIT_2;
    if (t->len > 0) {
        if (!can_receive) {
            /* The peer already sent its FIN: data past it is a violation. */
            ack_now(c);
            return drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_DATA_AFTER_FIN);
        }
        if (c->flags & TW_TF_ORPHAN) {
            /* RFC 1122 §4.2.2.13 / RFC 9293 §3.10.4: nobody will read this. */
            c->flags |= TW_TF_SEND_RST;
            tw__tcp_count(c, TW_C_RST_DATA_AFTER_CLOSE);
            tw__tcp_enter_closed(c, TW_CAUSE_RCV_DATA_AFTER_CLOSE, 0, now);
            return drop(c, TW_ACT_DROP, TW_C_DROP_DATA_AFTER_CLOSE);
        }
        data_input(c, now, t);
    }
    if (t->fin) {
        tw_seq_t fin_seq = tw_seq_add(t->seq, t->len);
        if (c->flags & TW_TF_RCVD_FIN) {
            ack_now(c); /* a duplicate: repeat our ACK */
        } else if (tw_seq_eq(fin_seq, c->rcv_nxt)) {
            take_fin(c, now);
        } else if (tw_seq_gt(fin_seq, c->rcv_nxt)) {
            /* FIN beyond a gap: remember it; the connection must not close
             * before the missing data has arrived. Like out-of-order data it
             * gets an immediate duplicate ACK (RFC 5681 §4.2); data_input
             * already did so when the segment carried data. */
            c->flags |= TW_TF_PEER_FIN_OOO;
            c->peer_fin_seq = fin_seq;
            if (t->len == 0) {
                tw__tcp_count(c, TW_C_ACK_NOW_OOO);
                ack_now(c);
            }
        }
    }
    if ((c->flags & TW_TF_PEER_FIN_OOO) && !(c->flags & TW_TF_RCVD_FIN) &&
        tw_seq_eq(c->peer_fin_seq, c->rcv_nxt))
        take_fin(c, now);
    return accept_();
}

/* With RCV.WND zero no segment carrying data is acceptable, "but special
 * allowance should be made to accept valid ACKs" (RFC 9293 §3.10.7.4): a
 * segment at exactly RCV.NXT still has its ACK field processed, so a peer
 * probing our closed window keeps learning what we have received of its
 * data, and our FIN can still be acknowledged. */
static bool zero_window_ack(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    return tw_seq_diff(c->rcv_adv, c->rcv_nxt) <= 0 && tw_seq_eq(seg->seq, c->rcv_nxt) &&
           (seg->flags & TW_TH_ACK) && !(seg->flags & TW_TH_SYN) && c->state != TW_SYN_RECEIVED;
}

static tw_tcp_result zero_window_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    tw_tcp_result res = accept_();
    ack_now(c); /* repeat our (zero) window: the text was not taken */
    tw__tcp_ts_recent_update(c, seg, now);
    if (!ack_input(c, now, seg, &res)) return res;
    /* MUST-66: URG is processed even with the window closed. */
    if (seg->flags & TW_TH_URG) tw__tcp_urg_input(c, seg);
    if (c->state == TW_FIN_WAIT_1 && our_fin_acked(c)) enter_fin_wait_2(c, now);
    return drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
}

/* RFC 9293 §3.10.7.4 for SYN_RECEIVED and every later state but TIME_WAIT. */
static tw_tcp_result sync_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    /* A retransmitted SYN in SYN_RECEIVED means our SYN-ACK was lost: send it
     * again. The ACK will not say which copy it answers: no RTT sample from
     * it (Karn, RFC 9293 MUST-18). */
    if (c->state == TW_SYN_RECEIVED && (seg->flags & TW_TH_SYN) && !(seg->flags & TW_TH_ACK) &&
        tw_seq_eq(seg->seq, c->irs)) {
        c->snd_nxt = c->iss;
        c->rtt_timing = false;
        return accept_();
    }
    /* PAWS (RFC 7323 §5.3 R1), before the sequence number check: an old
     * duplicate is answered with an ACK and dropped. RSTs are exempt. */
    if (tw__tcp_paws_reject(c, seg, now)) {
        ack_now(c);
        return drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_PAWS);
    }
    /* Step 1: sequence number check. */
    if (!acceptable(c, seg)) {
        if (seg->flags & TW_TH_RST) return drop(c, TW_ACT_DROP, TW_C_DROP_RST_OUT_OF_WINDOW);
        if (zero_window_ack(c, seg)) return zero_window_input(c, now, seg);
        note_dup_data(c, seg);
        ack_now(c);
        return drop(c, TW_ACT_DROP_AFTER_ACK, TW_C_DROP_UNACCEPTABLE);
    }
    tw__tcp_ts_recent_update(c, seg, now); /* R3 */
    c->rcv_tos = seg->ip_tos;              /* Diffserv and ECN, for the application (MAY-9) */
    /* Step 2: RST. */
    if (seg->flags & TW_TH_RST) return rst_input(c, now, seg);
    /* Step 4: SYN in a synchronized state: RFC 9293 §3.10.7.4 defers to RFC 5961 §4. */
    if (seg->flags & TW_TH_SYN) return drop_with_challenge(c, now);
    /* Step 5: ACK. */
    if (!(seg->flags & TW_TH_ACK)) return drop(c, TW_ACT_DROP, TW_C_DROP_NO_ACK);
    if (c->flags & TW_TF_ECN) tw__tcp_ecn_input(c, seg); /* CE and CWR (RFC 3168 §6.1.3) */
    if (c->state == TW_SYN_RECEIVED) {
        if (!tw_seq_gt(seg->ack, c->snd_una) || tw_seq_gt(seg->ack, c->snd_max))
            return drop(c, TW_ACT_DROP_WITH_RST, TW_C_RST_BAD_ACK);
        c->snd_una = seg->ack;
        /* Our SYN-ACK may be waiting to go again (SND.NXT put back to ISS by
         * a repeated SYN or a simultaneous open, with output deferred to the
         * end of a batch): the peer has our SYN, so it is not resent, but
         * the peer's SYN may never have been acknowledged (simultaneous
         * open): a plain ACK goes instead. */
        if (tw_seq_lt(c->snd_nxt, c->snd_una)) {
            c->snd_nxt = c->snd_una;
            ack_now(c);
        }
        c->t_rexmt = TW_TIME_NEVER;
        if (c->rtt_timing && tw_seq_gt(seg->ack, c->rtt_seq)) {
            tw__tcp_rtt_sample(c, now - c->rtt_start);
            c->rtt_timing = false;
        }
        take_window(c, seg);
        became_established(c, TW_CAUSE_RCV_ACK, now);
    }
    tw_tcp_result res = accept_();
    if (!ack_input(c, now, seg, &res)) return res;
    if (seg->flags & TW_TH_URG) tw__tcp_urg_input(c, seg); /* step 6 */
    note_dup_data(c, seg);                                 /* a front part already received */
    trimmed t;
    trim_to_window(c, seg, &t);
    res = text_and_fin(c, now, &t);
    /* Our FIN is acknowledged and the peer's FIN was not taken (none, or
     * beyond a gap): FIN_WAIT_2 (RFC 9293 §3.10.7.4 fifth step). */
    if (c->state == TW_FIN_WAIT_1 && our_fin_acked(c)) enter_fin_wait_2(c, now);
    return res;
}

/* The TIME_WAIT handler shared with the stack's compact records. */
static tw_tcp_result time_wait_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    tw_tcp_tw tw = {.snd_nxt = c->snd_nxt,
                    .rcv_nxt = c->rcv_nxt,
                    .wnd = (uint16_t)tw__tcp_rcv_window(c),
                    .ts = (c->xopts & TW_XO_TS) != 0,
                    .ts_offset = c->ts_offset,
                    .ts_recent = c->ts_recent};
    uint16_t reason = 0;
    switch (tw_tcp_tw_input(&tw, seg, &reason)) {
    case TW_TWV_REACK:
        c->t_2msl = now + 2 * c->cfg->msl;
        tw__tcp_ts_recent_update(c, seg, now); /* echo the retransmitted FIN's TSval */
        tw__tcp_count(c, reason);
        ack_now(c);
        return accept_();
    case TW_TWV_ACK: ack_now(c); return drop(c, TW_ACT_DROP_AFTER_ACK, reason);
    case TW_TWV_REUSE:
        /* The stack reopens the 4-tuple from its compact records; a
         * connection the user still holds cannot be reused, so the SYN gets
         * the challenge ACK of RFC 5961 §4 and 2MSL runs on. */
        return drop_with_challenge(c, now);
    case TW_TWV_DROP:
    default: return drop(c, TW_ACT_DROP, reason);
    }
}

tw_tcp_result tw_tcp_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg) {
    switch (c->state) {
    case TW_CLOSED: return drop(c, TW_ACT_DROP_WITH_RST, TW_C_RST_CLOSED_PORT); /* §3.10.7.1 */
    case TW_LISTEN: return listen_input(c, now, seg);
    case TW_SYN_SENT: return syn_sent_input(c, now, seg);
    case TW_TIME_WAIT: return time_wait_input(c, now, seg);
    default: {
        tw_tcp_result r = sync_input(c, now, seg);
        /* Any segment shows the peer is there: the keep-alive idle time
         * starts again (RFC 9293 §3.8.4, MUST-26). */
        if (c->uflags & TW_UF_KEEPALIVE) tw__tcp_keep_heard(c, now);
        return r;
    }
    }
}
