/* tcp_timewait.c - what an endpoint in TIME_WAIT does with a segment.
 *
 * Shared by a full connection sitting in TIME_WAIT and by the stack's compact
 * TIME_WAIT records, so both answer identically:
 * - RST: ignored (RFC 1337 "TIME-WAIT assassination" fix; RFC 9293 §3.10.7.4
 *   lets TIME_WAIT ignore it).
 * - a SYN may reopen the 4-tuple (RFC 9293 MAY-2 / RFC 1122 §4.2.2.13) by the
 *   rules of RFC 6191 §2: when the old incarnation used timestamps and the SYN
 *   carries one, its TSval must be above TS.Recent (or equal, with a sequence
 *   number above RCV.NXT); otherwise its sequence number must be above
 *   RCV.NXT. Any other SYN gets a challenge ACK (RFC 5961 §4, RFC 9293
 *   §3.10.7.4) where RFC 6191 says "silently drop": the later RFC 9293 asks
 *   for the ACK, which reveals nothing the peer does not know and lets a peer
 *   that lost state learn where the old connection stands.
 * - PAWS (RFC 7323 §5.3 R1): a non-RST segment whose TSval is below
 *   TS.Recent is an old duplicate: ACK, drop.
 * - a retransmission of the peer's FIN (our final ACK was lost): ACK it again
 *   and restart the 2MSL timer (RFC 9293 §3.10.7.4, eighth step).
 * - no ACK bit: dropped; an ACK of data never sent: ACK (fifth step).
 * - an unacceptable segment: ACK (RFC 9293 §3.10.7.4 first step).
 * - an acceptable duplicate ACK: silently dropped. */
#include <string.h>

#include "tcp/tcp.h"

/* RFC 6191 §2: may this SYN (no ACK) open a new incarnation? */
static bool syn_may_reopen(const tw_tcp_tw *tw, const tw_tcp_seg *seg) {
    if (tw->ts && seg->opt.has_ts) {
        int32_t d = (int32_t)(seg->opt.tsval - tw->ts_recent);
        return d > 0 || (d == 0 && tw_seq_gt(seg->seq, tw->rcv_nxt));
    }
    return tw_seq_gt(seg->seq, tw->rcv_nxt);
}

tw_tw_verdict tw_tcp_tw_input(const tw_tcp_tw *tw, const tw_tcp_seg *seg, uint16_t *reason) {
    uint8_t f = seg->flags;
    if (f & TW_TH_RST) {
        *reason = TW_C_TW_RST_IGNORED;
        return TW_TWV_DROP;
    }
    if ((f & TW_TH_SYN) && !(f & TW_TH_ACK)) {
        if (syn_may_reopen(tw, seg)) {
            *reason = TW_C_TW_REUSE;
            return TW_TWV_REUSE;
        }
        *reason = TW_C_CHALLENGE_ACK;
        return TW_TWV_ACK;
    }
    /* RFC 7323 §5.3 R1 (TS.Recent cannot be 24 days old within 2MSL). */
    if (tw->ts && seg->opt.has_ts && (int32_t)(seg->opt.tsval - tw->ts_recent) < 0) {
        *reason = TW_C_DROP_PAWS;
        return TW_TWV_ACK;
    }
    if (f & TW_TH_SYN) {
        *reason = TW_C_CHALLENGE_ACK;
        return TW_TWV_ACK;
    }
    /* Fifth step: a segment without ACK is dropped, FIN or not. */
    if (!(f & TW_TH_ACK)) {
        *reason = TW_C_DROP_NO_ACK;
        return TW_TWV_DROP;
    }
    /* An ACK of something never sent is answered with an ACK (fifth step,
     * RFC 5961 §5), before anything else is made of the segment. */
    if (tw_seq_gt(seg->ack, tw->snd_nxt)) {
        *reason = TW_C_DROP_ACK_TOO_NEW;
        return TW_TWV_ACK;
    }
    if ((f & TW_TH_FIN) && tw_seq_eq(tw_seq_add(seg->seq, tw_seg_seqlen(seg)), tw->rcv_nxt)) {
        *reason = TW_C_TW_FIN_REACK;
        return TW_TWV_REACK;
    }
    if (seg->len == 0 && !(f & TW_TH_FIN) && tw_seq_eq(seg->seq, tw->rcv_nxt)) {
        *reason = TW_C_DROP_TW_SEGMENT;
        return TW_TWV_DROP;
    }
    /* Data or a FIN beyond the peer's FIN, or an old segment: both are
     * unacceptable here, and the answer to an unacceptable segment is an ACK. */
    *reason = (f & TW_TH_FIN) || seg->len ? TW_C_DROP_DATA_AFTER_FIN : TW_C_DROP_UNACCEPTABLE;
    return TW_TWV_ACK;
}

void tw_tcp_tw_ack(const tw_tcp_tw *tw, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport, tw_time_t now, tw_tcp_seg *out) {
    memset(out, 0, sizeof *out);
    out->src_addr = laddr;
    out->dst_addr = raddr;
    out->src_port = lport;
    out->dst_port = rport;
    out->seq = tw->snd_nxt;
    out->ack = tw->rcv_nxt;
    out->flags = TW_TH_ACK;
    out->wnd = tw->wnd;
    if (tw->ts) { /* RFC 7323 §3.2: every segment once TS is in use */
        out->opt.has_ts = true;
        out->opt.tsval = tw_tcp_tsval(tw->ts_offset, now);
        out->opt.tsecr = tw->ts_recent;
    }
}
