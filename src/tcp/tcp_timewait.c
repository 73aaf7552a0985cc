/* tcp_timewait.c - what an endpoint in TIME_WAIT does with a segment.
 *
 * Shared by a full connection sitting in TIME_WAIT and by the stack's compact
 * TIME_WAIT records, so both answer identically:
 * - RST: ignored (RFC 1337 "TIME-WAIT assassination" fix; RFC 9293 §3.10.7.4
 *   lets TIME_WAIT ignore it).
 * - a retransmission of the peer's FIN (our final ACK was lost): ACK it again
 *   and restart the 2MSL timer (RFC 9293 §3.10.7.4, eighth step).
 * - a SYN whose sequence number is above RCV.NXT: the 4-tuple may be reopened
 *   (RFC 9293 MAY-2 / RFC 1122 §4.2.2.13; RFC 6191 adds timestamps later).
 * - any other SYN: challenge ACK (RFC 5961 §4).
 * - no ACK bit: dropped; an ACK of data never sent: ACK (fifth step).
 * - an unacceptable segment: ACK (RFC 9293 §3.10.7.4 first step).
 * - an acceptable duplicate ACK: silently dropped. */
#include <string.h>

#include "tcp/tcp.h"

tw_tw_verdict tw_tcp_tw_input(const tw_tcp_tw *tw, const tw_tcp_seg *seg, uint16_t *reason) {
    uint8_t f = seg->flags;
    if (f & TW_TH_RST) {
        *reason = TW_C_TW_RST_IGNORED;
        return TW_TWV_DROP;
    }
    if ((f & TW_TH_SYN) && !(f & TW_TH_ACK)) {
        if (tw_seq_gt(seg->seq, tw->rcv_nxt)) {
            *reason = TW_C_TW_REUSE;
            return TW_TWV_REUSE;
        }
        *reason = TW_C_CHALLENGE_ACK;
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
                   uint16_t rport, tw_tcp_seg *out) {
    memset(out, 0, sizeof *out);
    out->src_addr = laddr;
    out->dst_addr = raddr;
    out->src_port = lport;
    out->dst_port = rport;
    out->seq = tw->snd_nxt;
    out->ack = tw->rcv_nxt;
    out->flags = TW_TH_ACK;
    out->wnd = tw->wnd;
}
