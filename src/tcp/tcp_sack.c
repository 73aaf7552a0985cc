/* tcp_sack.c - the receiving side of RFC 2018 selective acknowledgments:
 * SACK blocks in our ACKs while out-of-order data is held.
 *
 * SACK-permitted is offered on our SYN (tw_tcp_cfg.sack) and answered on a
 * SYN-ACK only when the peer's SYN offered it (tcp_rfc7323.c negotiates it
 * with the RFC 7323 options). Once permitted, every ACK we send while the
 * reassembly queue (conn->ooo) holds data carries SACK blocks, one per
 * contiguous block held (§4):
 * - the first block is the one holding the segment that arrived last,
 *   unless that segment moved the cumulative ACK;
 * - then the blocks of the earlier arrivals, most recent first, so a block
 *   is repeated in several ACKs in case some are lost;
 * - then any other block held; as many as fit in the options area (three
 *   next to the timestamps option, four without, tw_tcp_opts_emit_nsack).
 * A data segment that carries SACK blocks holds that much less data, so the
 * packet stays within the MSS. We do not act on SACK blocks the peer sends
 * (no SACK-based loss recovery, RFC 6675): recovery is NewReno's. */
#include "tcp/tcp.h"

void tw__tcp_sack_note(tw_tcp_conn *c, tw_seq_t seq) {
    if (!(c->xopts & TW_XO_SACK)) return;
    unsigned n = c->nsack_recent < TW_TCP_MAX_SACK ? c->nsack_recent : TW_TCP_MAX_SACK - 1u;
    for (unsigned i = n; i > 0; i--) c->sack_recent[i] = c->sack_recent[i - 1];
    c->sack_recent[0] = seq;
    c->nsack_recent = (uint8_t)(n + 1);
}

/* Index of the held range containing offset `off` from RCV.NXT, or -1. */
static int range_of(const tw_asm *a, uint32_t off) {
    for (unsigned i = 0; i < a->n; i++)
        if (a->r[i].start <= off && off < a->r[i].end) return (int)i;
    return -1;
}

/* Blocks that fit beside the other options: three next to timestamps. */
static unsigned sack_fit(const tw_tcp_conn *c) { return (c->xopts & TW_XO_TS) ? 3u : 4u; }

void tw__tcp_sack_fill(const tw_tcp_conn *c, tw_tcp_seg *s) {
    const tw_asm *a = &c->ooo;
    bool used[TW_ASM_MAX] = {false};
    unsigned n = 0, max = sack_fit(c);
    /* Latest arrivals first; those the cumulative ACK has passed are gone. */
    for (unsigned k = 0; k < c->nsack_recent && n < max; k++) {
        int32_t off = tw_seq_diff(c->sack_recent[k], c->rcv_nxt);
        int i = off > 0 ? range_of(a, (uint32_t)off) : -1;
        if (i < 0 || used[i]) continue;
        used[i] = true;
        s->opt.sack[n].left = tw_seq_add(c->rcv_nxt, a->r[i].start).v;
        s->opt.sack[n].right = tw_seq_add(c->rcv_nxt, a->r[i].end).v;
        n++;
    }
    for (unsigned i = a->n; i-- > 0 && n < max;) { /* the rest, highest first */
        if (used[i]) continue;
        s->opt.sack[n].left = tw_seq_add(c->rcv_nxt, a->r[i].start).v;
        s->opt.sack[n].right = tw_seq_add(c->rcv_nxt, a->r[i].end).v;
        n++;
    }
    s->opt.nsack = (uint8_t)n;
}

uint32_t tw__tcp_sack_bytes(const tw_tcp_conn *c) {
    if (!(c->xopts & TW_XO_SACK) || tw_asm_empty(&c->ooo)) return 0;
    /* NOP NOP SACK len + 8 per block; what fits beside timestamps (§3). */
    unsigned n = c->ooo.n < sack_fit(c) ? c->ooo.n : sack_fit(c);
    return 4u + 8u * n;
}
