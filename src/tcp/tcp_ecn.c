/* tcp_ecn.c - Explicit Congestion Notification for one connection (RFC 3168
 * §6.1; RFC 9293 SHLD-8).
 *
 * Negotiation (§6.1.1): the active side asks with ECE and CWR on its SYN
 * (tw_tcp_cfg.ecn == TW_TCP_ECN_ON); a side that accepts ECN (ON or PASSIVE)
 * answers such a SYN with ECE alone on its SYN-ACK. Then:
 *  - the sender marks new data ECT(0) in the IP header, never a
 *    retransmission, a pure ACK, a window probe, a SYN or an RST (§6.1.4,
 *    §6.1.5, §6.1.6), and halves cwnd at most once per window when an ACK
 *    carries ECE (§6.1.2), saying so with CWR on the next new data segment;
 *  - the receiver, once a segment arrives marked CE (congestion
 *    experienced), sets ECE on every ACK until a segment with CWR arrives
 *    (§6.1.3). */
#include "tcp/tcp.h"
#include "tcp/tcp_cc.h"

#define ECN_MASK 0x03u /* the two ECN bits of the IPv4 TOS octet (RFC 3168 §5) */
#define ECN_ECT0 0x02u
#define ECN_CE 0x03u

static bool ecn_setup_syn(const tw_tcp_seg *seg) {
    return (seg->flags & (TW_TH_ECE | TW_TH_CWR)) == (TW_TH_ECE | TW_TH_CWR);
}

void tw__tcp_ecn_syn_in(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    c->flags &= ~(uint32_t)(TW_TF_ECN | TW_TF_ECE_SEND | TW_TF_CWR_SEND);
    c->ecn_recover = c->iss;
    if (c->cfg->ecn == TW_TCP_ECN_OFF) return;
    if (c->state == TW_LISTEN) {
        /* A SYN asking for ECN: our SYN-ACK accepts it. */
        if (ecn_setup_syn(seg)) c->flags |= TW_TF_ECN;
    } else if (c->state == TW_SYN_SENT && (seg->flags & TW_TH_ACK)) {
        /* ECE without CWR on the SYN-ACK, and only if we asked (a SYN-ACK
         * with both set is not an ECN-setup SYN-ACK, §6.1.1). A simultaneous
         * open (a bare SYN) leaves ECN off. */
        if (c->cfg->ecn == TW_TCP_ECN_ON && (seg->flags & (TW_TH_ECE | TW_TH_CWR)) == TW_TH_ECE)
            c->flags |= TW_TF_ECN;
    }
}

uint8_t tw__tcp_ecn_syn_flags(const tw_tcp_conn *c) {
    if (c->state == TW_SYN_SENT)
        return c->cfg->ecn == TW_TCP_ECN_ON ? (uint8_t)(TW_TH_ECE | TW_TH_CWR) : 0;
    return (c->flags & TW_TF_ECN) ? (uint8_t)TW_TH_ECE : 0; /* SYN-ACK */
}

void tw__tcp_ecn_input(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    if (!(c->flags & TW_TF_ECN)) return;
    /* CWR first: a CWR segment that is itself marked CE starts a new echo. */
    if (seg->flags & TW_TH_CWR) c->flags &= ~(uint32_t)TW_TF_ECE_SEND;
    if ((seg->ip_tos & ECN_MASK) == ECN_CE) {
        tw__tcp_count(c, TW_C_ECN_CE_IN);
        c->flags |= TW_TF_ECE_SEND;
    }
}

void tw__tcp_ecn_ack(tw_tcp_conn *c, const tw_tcp_seg *seg, uint32_t flight) {
    if (!(c->flags & TW_TF_ECN) || !(seg->flags & TW_TH_ECE) || (seg->flags & TW_TH_SYN)) return;
    /* Once per window of data: not again until everything sent at the last
     * cut is acknowledged, and not during loss recovery, which has cut cwnd
     * for this window already. */
    if ((c->ccf & TW_CCF_RECOVERY) || !tw_seq_gt(c->snd_una, c->ecn_recover)) return;
    c->cc->ecn(c, flight);
    tw__tcp_count(c, TW_C_ECN_CWND_CUT);
    tw__tcp_ecn_cwnd_cut(c);
}

void tw__tcp_ecn_cwnd_cut(tw_tcp_conn *c) {
    if (!(c->flags & TW_TF_ECN)) return;
    c->ecn_recover = c->snd_max;
    c->flags |= TW_TF_CWR_SEND;
}

void tw__tcp_ecn_mark(tw_tcp_conn *c, tw_tcp_seg *s, bool retrans) {
    if (!(c->flags & TW_TF_ECN)) return;
    if (c->flags & TW_TF_ECE_SEND) s->flags |= TW_TH_ECE;
    if (s->len == 0 || retrans) return; /* pure ACKs, FINs and retransmissions: Not-ECT */
    s->ip_tos = (uint8_t)((s->ip_tos & ~ECN_MASK) | ECN_ECT0);
    if (c->flags & TW_TF_CWR_SEND) {
        s->flags |= TW_TH_CWR;
        c->flags &= ~(uint32_t)TW_TF_CWR_SEND;
    }
}
