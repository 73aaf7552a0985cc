/* tcp_timer.c - TIMEOUTS (RFC 9293 §3.10.8) and the retransmission timer's
 * arithmetic (RFC 6298).
 *
 * A connection keeps seven absolute deadlines: retransmit, delayed ACK,
 * persist, 2MSL, FIN_WAIT_2, keep-alive and user timeout (tcp_keep.c). tw_tcp_next_deadline() gives
 * the earliest, so the stack keeps one timing-wheel entry per connection; tw_tcp_timer() runs every
 * deadline that has passed. */
#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"
#include "util/attr.h"

/* Out of fuzzing coverage (util/attr.h): a minimum over seven times, which
 * the stack checker also asks of every connection after each step; traced,
 * its compares were 4% of fuzz_stack's time and told the fuzzer nothing. */
TW_NO_COVERAGE tw_time_t tw_tcp_next_deadline(const tw_tcp_conn *c) {
    tw_time_t t = c->t_rexmt;
    if (c->t_delack < t) t = c->t_delack;
    if (c->t_persist < t) t = c->t_persist;
    if (c->t_2msl < t) t = c->t_2msl;
    if (c->t_fw2 < t) t = c->t_fw2;
    if (c->t_keep < t) t = c->t_keep;
    if (c->t_user < t) t = c->t_user;
    return t;
}

/* RTO with exponential backoff (RFC 6298 §5.5), capped at rto_max. */
tw_time_t tw__tcp_backoff_rto(const tw_tcp_conn *c) {
    tw_time_t r = c->rto;
    for (unsigned i = 0; i < c->rexmt_count && r < c->cfg->rto_max; i++) r *= 2;
    return r > c->cfg->rto_max ? c->cfg->rto_max : r;
}

tw_time_t tw__tcp_persist_backoff(const tw_tcp_conn *c) {
    tw_time_t t = c->rto << (c->persist_shift < 10 ? c->persist_shift : 10);
    return t > c->cfg->rto_max ? c->cfg->rto_max : t;
}

void tw__tcp_arm_rexmt(tw_tcp_conn *c, tw_time_t now) {
    c->t_rexmt = now + tw__tcp_backoff_rto(c);
    /* The user timeout runs from the first unacknowledged send (tcp_keep.c). */
    if (c->user_timeout && c->t_user == TW_TIME_NEVER) c->t_user = now + c->user_timeout;
}

/* RFC 6298 §2.2/2.3 with G = 1 ms (our clock granularity for the estimator);
 * §2.4 rounds up to rto_min, §2.5 caps at rto_max. With k > 1 samples
 * expected per RTT (timestamps, RFC 7323 Appendix G) the gains are
 * alpha/k and beta/k, so a window's worth of samples weighs as one. */
void tw__tcp_rtt_sample_k(tw_tcp_conn *c, tw_time_t r, uint32_t n) {
    tw_time_t e = n == 0 ? 1 : n > 1024 ? 1024 : n; /* ExpectedSamples */
    c->hs_rtt = r; /* HyStart++ takes it at this ACK (cc_hystart.c) */
    if (c->srtt == 0 && c->rttvar == 0) {
        c->srtt = r;
        c->rttvar = r / 2;
    } else {
        tw_time_t d = c->srtt > r ? c->srtt - r : r - c->srtt;
        c->rttvar = ((4 * e - 1) * c->rttvar + d) / (4 * e);
        c->srtt = ((8 * e - 1) * c->srtt + r) / (8 * e);
    }
    tw_time_t k = 4 * c->rttvar;
    if (k < TW_MS(1)) k = TW_MS(1);
    tw_time_t rto = c->srtt + k;
    if (rto < c->cfg->rto_min) rto = c->cfg->rto_min;
    if (rto > c->cfg->rto_max) rto = c->cfg->rto_max;
    c->rto = rto;
}

void tw__tcp_rtt_sample(tw_tcp_conn *c, tw_time_t r) {
    tw__tcp_rtt_sample_k(c, r, 1);
}

static bool probe_limit_reached(tw_tcp_conn *c);

static void retransmit_timeout(tw_tcp_conn *c, tw_time_t now) {
    bool syn_phase = c->state == TW_SYN_SENT || c->state == TW_SYN_RECEIVED;
    unsigned limit = syn_phase ? c->cfg->syn_retries : c->cfg->data_retries;
    tw__tcp_trace_timer(c, TW_TIMER_RETRANSMIT, now);
    tw__tcp_count(c, TW_C_RTO_FIRED);
    if (!syn_phase && c->snd_wnd == 0 && tw_ring_len(&c->sndbuf) > 0) {
        /* The peer has closed its window: what is outstanding cannot be
         * taken, so this is not loss. Go back to SND.UNA and let the persist
         * timer probe (output arms it once no retransmission timer runs):
         * a peer that keeps answering is never given up on (RFC 9293
         * §3.8.6.1, MUST-37); unanswered probes still end it. The expiry
         * itself counts as one (any ACK resets the count): go-back-N skips
         * what the peer SACKed, so when that is all the data, our FIN goes
         * out again at every expiry and no probe is ever sent; a peer that
         * answers none of those is gone (MUST-20). */
        if (probe_limit_reached(c)) {
            tw__tcp_count(c, TW_C_CONN_TIMEDOUT);
            tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_RETRANSMIT, TW_ETIMEDOUT, now);
            return;
        }
        c->snd_nxt = c->snd_una;
        c->flags |= TW_TF_RETRANSMITTING;
        c->rtt_timing = false;
        return;
    }
    if (!syn_phase && c->snd_wnd == 0) {
        /* Only our FIN is outstanding, and the peer keeps its window closed:
         * the FIN takes a sequence number, so it cannot be taken either, and
         * its retransmission is the zero-window probe. As for data, a peer
         * that answers is never given up on (MUST-37); one that stops
         * answering, or that holds an orphan's window closed for as many
         * probes as data_retries (RFC 6429), ends it. Backed off like the
         * persist timer, without counting toward R2. */
        if (c->persist_shift < 16) c->persist_shift++;
        if (probe_limit_reached(c)) {
            tw__tcp_count(c, TW_C_CONN_TIMEDOUT);
            tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_RETRANSMIT, TW_ETIMEDOUT, now);
            return;
        }
        c->snd_nxt = c->snd_una;
        c->flags |= TW_TF_RETRANSMITTING;
        c->rtt_timing = false;
        c->t_rexmt = now + tw__tcp_persist_backoff(c);
        return;
    }
    if (c->rexmt_count >= limit) {
        /* R2 reached (RFC 9293 §3.8.3, MUST-20): give up on the connection. */
        tw__tcp_count(c, TW_C_CONN_TIMEDOUT);
        tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_RETRANSMIT, TW_ETIMEDOUT, now);
        return;
    }
    /* RFC 5681 §3.1: one segment, ssthresh cut on the first expiry only. */
    if (!syn_phase) {
        c->cc->rto(c, c->rexmt_count == 0);
        if (c->rexmt_count == 0) tw__tcp_ecn_cwnd_cut(c); /* RFC 3168 §6.1.2 */
        tw__tcp_sack_rto(c); /* RFC 6675 §5.1: the scoreboard goes, recovery ends */
    }
    c->rexmt_count++;
    /* R1 (RFC 9293 §3.8.3, SHLD-9; the same for SYNs, MUST-22): tell the
     * user the path may be failing; the connection goes on until R2. */
    if (c->rexmt_count == c->cfg->r1) tw_tcp_soft_error(c, TW_ETIMEDOUT);
    /* Go back to the oldest unacknowledged octet (RFC 6298 §5.4); Karn's rule:
     * no RTT sample from anything retransmitted. */
    if (syn_phase) {
        c->snd_nxt = c->iss;
        c->flags |= TW_TF_SYN_RETRIED;
    } else {
        c->snd_nxt = c->snd_una;
        c->flags |= TW_TF_RETRANSMITTING;
    }
    c->rtt_timing = false;
    tw__tcp_arm_rexmt(c, now);
}

/* A peer that ACKs our zero-window probes keeps the connection open for as
 * long as it likes (RFC 9293 §3.8.6.1, RFC 1122 §4.2.2.17); one that answers
 * none of them is gone, like a peer that ACKs no retransmission (R2, MUST-20).
 * A connection the user has closed may also not be held for ever by a peer
 * that answers but never opens its window (RFC 6429). */
static bool probe_limit_reached(tw_tcp_conn *c) {
    if (c->probes_unanswered < 255) c->probes_unanswered++;
    if (c->probes_unanswered > c->cfg->data_retries) return true;
    return (c->flags & TW_TF_ORPHAN) && c->persist_shift > c->cfg->data_retries;
}

void tw_tcp_timer(tw_tcp_conn *c, tw_time_t now) {
    if (c->t_user <= now) { /* first: an abort makes a retransmission pointless */
        tw__tcp_user_timeout(c, now);
        if (c->state == TW_CLOSED) return;
    }
    if (c->t_keep <= now) {
        tw__tcp_keep_timeout(c, now);
        if (c->state == TW_CLOSED) return;
    }
    if (c->t_delack <= now) {
        c->t_delack = TW_TIME_NEVER;
        if (c->flags & TW_TF_DELACK) {
            tw__tcp_trace_timer(c, TW_TIMER_DELACK, now);
            tw__tcp_count(c, TW_C_DELACK_SENT);
            c->flags |= TW_TF_ACK_NOW;
        }
    }
    if (c->t_rexmt <= now) {
        c->t_rexmt = TW_TIME_NEVER;
        retransmit_timeout(c, now);
        if (c->state == TW_CLOSED) return;
    }
    if (c->t_persist <= now) {
        c->t_persist = TW_TIME_NEVER;
        tw__tcp_trace_timer(c, TW_TIMER_PERSIST, now);
        /* A closed window gets a one-byte probe (RFC 9293 §3.8.6.1); an
         * open one too small for Nagle/SWS avoidance gets what fits, the
         * sender's SWS override timeout (RFC 1122 §4.2.3.4). */
        c->flags |= c->snd_wnd == 0 ? TW_TF_FORCE_PROBE : TW_TF_SWS_OVERRIDE;
        if (c->persist_shift < 16) c->persist_shift++;
        if (c->snd_wnd == 0 && probe_limit_reached(c)) {
            tw__tcp_count(c, TW_C_CONN_TIMEDOUT);
            tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_RETRANSMIT, TW_ETIMEDOUT, now);
            return;
        }
    }
    if (c->t_2msl <= now) {
        c->t_2msl = TW_TIME_NEVER;
        if (c->state == TW_TIME_WAIT) {
            tw__tcp_trace_timer(c, TW_TIMER_2MSL, now);
            tw__tcp_count(c, TW_C_TW_EXPIRE);
            tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_2MSL, 0, now);
            return;
        }
    }
    if (c->t_fw2 <= now) {
        c->t_fw2 = TW_TIME_NEVER;
        if (c->state == TW_FIN_WAIT_2) {
            tw__tcp_trace_timer(c, TW_TIMER_FIN_WAIT_2, now);
            tw__tcp_count(c, TW_C_FW2_TIMEOUT);
            tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_FIN_WAIT_2, 0, now);
        }
    }
}
