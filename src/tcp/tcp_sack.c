/* tcp_sack.c - selective acknowledgments, both ways: the SACK blocks we
 * send (RFC 2018 §4, with D-SACK, RFC 2883) and the SACK blocks we receive,
 * kept in a scoreboard that drives the conservative loss recovery of RFC
 * 6675.
 *
 * SACK-permitted is offered on our SYN (tw_tcp_cfg.sack) and answered on a
 * SYN-ACK only when the peer's SYN offered it (tcp_rfc7323.c negotiates it
 * with the RFC 7323 options).
 *
 * Receiving side. Once permitted, every ACK we send while the reassembly
 * queue (conn->ooo) holds data carries SACK blocks, one per contiguous
 * block held (§4):
 * - first a D-SACK block when the segment that made us ACK (or one since
 *   the last ACK) repeated sequence numbers we already had (RFC 2883 §4),
 *   followed by the held block containing it, if any;
 * - then the block holding the segment that arrived last, unless that
 *   segment moved the cumulative ACK;
 * - then the blocks of the earlier arrivals, most recent first, so a block
 *   is repeated in several ACKs in case some are lost;
 * - then any other block held; as many as fit in the options area (three
 *   next to the timestamps option, four without, tw_tcp_opts_emit_nsack).
 * A data segment that carries SACK blocks holds that much less data, so the
 * packet stays within the MSS.
 *
 * Sending side. The scoreboard is the set of SACKed ranges above SND.UNA,
 * at most TW_SACK_SB_MAX of them, sorted and merged. A block is taken only
 * if it lies within [SEG.ACK, SND.MAX] and is not empty; anything else is
 * ignored and counted (SACK_BLOCK_BAD), and a block that would need a range
 * beyond the bound is dropped (SACK_SB_FULL): hostile blocks cost at most
 * 4 x TW_SACK_SB_MAX steps per ACK and never memory (the send ring keeps
 * every byte until it is cumulatively acknowledged, so nothing is split or
 * freed by a SACK). On that scoreboard this file implements RFC 6675: IsLost,
 * SetPipe and NextSeg (§4), the duplicate ACK count and the entry into loss
 * recovery on the DupThresh-th duplicate ACK or when IsLost(HighACK + 1)
 * (§5), the steps of recovery (A)-(C) and its end, and the RTO (§5.1).
 * Names map as: HighACK + 1 = SND.UNA, HighData + 1 = SND.MAX, RecoveryPoint
 * = conn->recover (shared with NewReno's "recover"), and HighRxt and
 * RescueRxt are kept as the end (one past the highest sequence number) of
 * the retransmission they record. Choices:
 * - a duplicate ACK is one that SACKs bytes not SACKed before while data is
 *   outstanding (RFC 6675 §2), cumulative or not; an ACK without any SACK
 *   block falls back to RFC 5681's definition;
 * - a segment retransmitted by NextSeg stops at the end of its hole: bytes
 *   the peer has SACKed are not sent again;
 * - after an RTO the scoreboard is cleared (RFC 2018 §5 turns the SACKed
 *   bits off, which RFC 6675 §5.1 keeps), and SACK blocks arriving while
 *   the go-back-N retransmission proceeds let it skip what they cover
 *   (§5.1 SHOULD);
 * - D-SACK blocks we receive are counted and otherwise ignored (RFC 2883 §5
 *   leaves the action to the sender). */
#include <string.h>

#include "tcp/tcp.h"

/* RFC 6675 §2 (and RFC 5681 §3.2): the duplicate ACKs that signal a loss. */
#define DUPTHRESH 3u

/* ------------------------------------------------------------ receiving */

void tw__tcp_sack_note(tw_tcp_conn *c, tw_seq_t seq) {
    if (!(c->xopts & TW_XO_SACK)) return;
    unsigned n = c->nsack_recent < TW_TCP_MAX_SACK ? c->nsack_recent : TW_TCP_MAX_SACK - 1u;
    for (unsigned i = n; i > 0; i--) c->sack_recent[i] = c->sack_recent[i - 1];
    c->sack_recent[0] = seq;
    c->nsack_recent = (uint8_t)(n + 1);
}

void tw__tcp_dsack_note(tw_tcp_conn *c, tw_seq_t left, tw_seq_t right) {
    if (!(c->xopts & TW_XO_SACK) || !tw_seq_lt(left, right)) return;
    /* One D-SACK block per ACK: the latest duplicate wins (§4: each
     * duplicate is reported at most once, in the ACK it triggered). */
    c->dsack_left = left;
    c->dsack_right = right;
    c->flags |= TW_TF_DSACK;
}

void tw__tcp_dsack_held(tw_tcp_conn *c, uint32_t off, uint32_t len) {
    if (!(c->xopts & TW_XO_SACK)) return;
    const tw_asm *a = &c->ooo;
    uint32_t end = off + len;
    for (unsigned i = 0; i < a->n; i++) {
        uint32_t s = off > a->r[i].start ? off : a->r[i].start;
        uint32_t e = end < a->r[i].end ? end : a->r[i].end;
        if (s < e) {
            tw__tcp_dsack_note(c, tw_seq_add(c->rcv_nxt, s), tw_seq_add(c->rcv_nxt, e));
            return;
        }
    }
}

/* Index of the held range containing offset `off` from RCV.NXT, or -1. */
static int range_of(const tw_asm *a, uint32_t off) {
    for (unsigned i = 0; i < a->n; i++)
        if (a->r[i].start <= off && off < a->r[i].end) return (int)i;
    return -1;
}

/* Blocks that fit beside the other options: three next to timestamps. */
static unsigned sack_fit(const tw_tcp_conn *c) {
    return (c->xopts & TW_XO_TS) ? 3u : 4u;
}

static void put_block(const tw_tcp_conn *c, tw_tcp_seg *s, unsigned n, uint32_t start,
                      uint32_t end) {
    s->opt.sack[n].left = tw_seq_add(c->rcv_nxt, start).v;
    s->opt.sack[n].right = tw_seq_add(c->rcv_nxt, end).v;
}

void tw__tcp_sack_fill(const tw_tcp_conn *c, tw_tcp_seg *s) {
    const tw_asm *a = &c->ooo;
    bool used[TW_ASM_MAX] = {false};
    unsigned n = 0, max = sack_fit(c);
    if (c->flags & TW_TF_DSACK) {
        /* RFC 2883 §4: the duplicate first; then the held block it lies in. */
        s->opt.sack[n].left = c->dsack_left.v;
        s->opt.sack[n].right = c->dsack_right.v;
        n++;
        int32_t off = tw_seq_diff(c->dsack_left, c->rcv_nxt);
        int i = off > 0 ? range_of(a, (uint32_t)off) : -1;
        if (i >= 0) {
            used[i] = true;
            put_block(c, s, n++, a->r[i].start, a->r[i].end);
        }
    }
    /* Latest arrivals first; those the cumulative ACK has passed are gone. */
    for (unsigned k = 0; k < c->nsack_recent && n < max; k++) {
        int32_t off = tw_seq_diff(c->sack_recent[k], c->rcv_nxt);
        int i = off > 0 ? range_of(a, (uint32_t)off) : -1;
        if (i < 0 || used[i]) continue;
        used[i] = true;
        put_block(c, s, n++, a->r[i].start, a->r[i].end);
    }
    for (unsigned i = a->n; i-- > 0 && n < max;) { /* the rest, highest first */
        if (used[i]) continue;
        put_block(c, s, n++, a->r[i].start, a->r[i].end);
    }
    s->opt.nsack = (uint8_t)n;
}

uint32_t tw__tcp_sack_bytes(const tw_tcp_conn *c) {
    if (!tw__tcp_sack_due(c)) return 0;
    /* NOP NOP SACK len + 8 per block; what fits beside timestamps (§3). */
    unsigned n = c->ooo.n + ((c->flags & TW_TF_DSACK) ? 1u : 0u);
    if (n > sack_fit(c)) n = sack_fit(c);
    return 4u + 8u * n;
}

/* ------------------------------------------------------------ scoreboard */

static uint32_t range_len(const tw_tcp_conn *c, unsigned i) {
    return (uint32_t)tw_seq_diff(c->sb[i].end, c->sb[i].start);
}

/* SND.UNA moved: ranges it passed are gone, one it cuts starts at it. */
static void sb_trim(tw_tcp_conn *c) {
    unsigned k = 0;
    while (k < c->nsb && tw_seq_le(c->sb[k].end, c->snd_una)) k++;
    if (k) {
        memmove(&c->sb[0], &c->sb[k], (c->nsb - k) * sizeof c->sb[0]);
        c->nsb = (uint8_t)(c->nsb - k);
    }
    if (c->nsb && tw_seq_lt(c->sb[0].start, c->snd_una)) c->sb[0].start = c->snd_una;
}

/* Records [l, r) (SND.UNA <= l < r <= SND.MAX), merging it with ranges it
 * overlaps or touches. Returns true if it SACKed bytes not SACKed before. */
static bool sb_add(tw_tcp_conn *c, tw_seq_t l, tw_seq_t r) {
    unsigned i = 0, n = c->nsb;
    while (i < n && tw_seq_lt(c->sb[i].end, l)) i++; /* ranges wholly below */
    if (i < n && tw_seq_le(c->sb[i].start, l) && tw_seq_ge(c->sb[i].end, r))
        return false; /* nothing new: inside one range */
    unsigned j = i;
    while (j < n && tw_seq_le(c->sb[j].start, r)) { /* ranges it overlaps or touches */
        l = tw_seq_min(l, c->sb[j].start);
        r = tw_seq_max(r, c->sb[j].end);
        j++;
    }
    if (j == i) { /* a new range at i */
        if (n == TW_SACK_SB_MAX) {
            /* Full: keep the lowest ranges, which NextSeg needs first; the
             * highest (or this block, if it is the highest) is let go. */
            tw__tcp_count(c, TW_C_SACK_SB_FULL);
            if (i == n) return false;
            n--;
        }
        memmove(&c->sb[i + 1], &c->sb[i], (n - i) * sizeof c->sb[0]);
        n++;
    } else if (j > i + 1) { /* ranges i..j-1 become one */
        memmove(&c->sb[i + 1], &c->sb[j], (n - j) * sizeof c->sb[0]);
        n -= j - i - 1;
    }
    c->sb[i].start = l;
    c->sb[i].end = r;
    c->nsb = (uint8_t)n;
    return true;
}

/* RFC 2883 §4: a first block at or below the ACK of its own segment, or
 * inside the second block, reports a duplicate, not new data. One below the
 * ACK must start within the largest window the peer offered: a block
 * 2^31 long looks "below" in sequence arithmetic too, and is bogus. */
static bool first_is_dsack(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    tw_seq_t l = tw_seq(seg->opt.sack[0].left), r = tw_seq(seg->opt.sack[0].right);
    if (!tw_seq_lt(l, r)) return false;
    if (tw_seq_le(r, seg->ack)) return (uint32_t)tw_seq_diff(seg->ack, l) <= c->max_snd_wnd;
    if (seg->opt.nsack < 2) return false;
    return tw_seq_ge(l, tw_seq(seg->opt.sack[1].left)) &&
           tw_seq_le(r, tw_seq(seg->opt.sack[1].right));
}

/* Update() (RFC 6675 §4) with the blocks of `seg`; true if any SACKed new
 * bytes. */
static bool sb_update(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    bool fresh = false;
    unsigned n = seg->opt.nsack < TW_TCP_MAX_SACK ? seg->opt.nsack : TW_TCP_MAX_SACK;
    for (unsigned k = 0; k < n; k++) {
        tw_seq_t l = tw_seq(seg->opt.sack[k].left), r = tw_seq(seg->opt.sack[k].right);
        if (k == 0 && first_is_dsack(c, seg)) {
            tw__tcp_count(c, TW_C_DSACK_RCVD);
            continue;
        }
        /* A receiver SACKs only what it holds above its cumulative ACK, and
         * only what we sent (RFC 2018 §3-4): anything else is bogus. */
        if (!tw_seq_lt(l, r) || tw_seq_gt(r, c->snd_max) || tw_seq_lt(l, seg->ack)) {
            tw__tcp_count(c, TW_C_SACK_BLOCK_BAD);
            continue;
        }
        if (tw_seq_le(r, c->snd_una)) continue; /* an old ACK: acknowledged since */
        if (tw_seq_lt(l, c->snd_una)) l = c->snd_una;
        if (sb_add(c, l, r)) fresh = true;
    }
    return fresh;
}

/* SACKed bytes in ranges i.. (the walks below start from the total and
 * subtract as they go up, so that each stays linear in the ranges). */
static uint32_t sacked_from(const tw_tcp_conn *c, unsigned i) {
    uint32_t b = 0;
    for (unsigned k = i; k < c->nsb; k++) b += range_len(c, k);
    return b;
}

/* IsLost() (RFC 6675 §4) for every sequence number of the hole just below
 * range i, with `above` the SACKed bytes of ranges i..: DupThresh
 * discontiguous SACKed ranges above it, or more than (DupThresh - 1) * SMSS
 * SACKed bytes above it. */
static bool hole_lost(const tw_tcp_conn *c, unsigned i, uint32_t above) {
    return c->nsb - i >= DUPTHRESH || above > (DUPTHRESH - 1u) * c->smss;
}

/* IsLost(HighACK + 1). */
static bool una_lost(const tw_tcp_conn *c) {
    return c->nsb && tw_seq_gt(c->sb[0].start, c->snd_una) && hole_lost(c, 0, sacked_from(c, 0));
}

void tw__tcp_sack_set_pipe(tw_tcp_conn *c) {
    /* Every octet from HighACK to HighData not SACKed counts once unless
     * IsLost, and once more if it was retransmitted (at or below HighRxt).
     * IsLost is the same for all octets of a hole, so this walks holes. */
    uint32_t pipe = 0, above = sacked_from(c, 0);
    tw_seq_t s = c->snd_una;
    for (unsigned i = 0; i <= c->nsb; i++) {
        tw_seq_t e = i < c->nsb ? c->sb[i].start : c->snd_max;
        if (tw_seq_lt(s, e)) {
            if (i == c->nsb || !hole_lost(c, i, above)) pipe += (uint32_t)tw_seq_diff(e, s);
            if (tw_seq_lt(s, c->high_rxt))
                pipe += (uint32_t)tw_seq_diff(tw_seq_min(e, c->high_rxt), s);
        }
        if (i < c->nsb) {
            s = tw_seq_max(s, c->sb[i].end);
            above -= range_len(c, i);
        }
    }
    c->pipe = pipe;
}

int tw__tcp_sack_next_seg(const tw_tcp_conn *c, int rule, tw_seq_t *seq, uint32_t *len) {
    /* Rules 1 and 3: the lowest unSACKed sequence number above HighRxt and
     * below the highest SACKed one, lost (1) or not (3). */
    tw_seq_t s = c->snd_una;
    uint32_t above = sacked_from(c, 0);
    for (unsigned i = 0; i < c->nsb; i++) {
        tw_seq_t hs = tw_seq_max(s, c->high_rxt), he = c->sb[i].start;
        if (tw_seq_lt(hs, he) && (rule == 3 || hole_lost(c, i, above))) {
            uint32_t n = (uint32_t)tw_seq_diff(he, hs);
            *seq = hs;
            *len = n < c->smss ? n : c->smss;
            return rule;
        }
        s = tw_seq_max(s, c->sb[i].end);
        above -= range_len(c, i);
    }
    if (rule != 3) return 0;
    /* Rule 4, once per recovery (HighACK > RescueRxt): a segment ending at
     * the highest unSACKed sequence number outstanding, so that losses at
     * the tail of the window are repaired without waiting for the RTO. */
    if (!tw_seq_gt(c->snd_una, c->rescue_rxt)) return 0;
    tw_seq_t top = c->snd_max, lo = c->nsb ? c->sb[c->nsb - 1].end : c->snd_una;
    if (c->nsb && tw_seq_eq(lo, c->snd_max)) { /* the tail is SACKed: the hole below it */
        top = c->sb[c->nsb - 1].start;
        lo = c->nsb > 1 ? c->sb[c->nsb - 2].end : c->snd_una;
    }
    if (!tw_seq_lt(lo, top)) return 0;
    uint32_t n = (uint32_t)tw_seq_diff(top, lo);
    *len = n < c->smss ? n : c->smss;
    *seq = tw_seq_add(top, (uint32_t) - *len);
    return 4;
}

uint32_t tw__tcp_sack_skip(tw_tcp_conn *c) {
    for (unsigned i = 0; i < c->nsb; i++) {
        if (tw_seq_le(c->sb[i].end, c->snd_nxt)) continue;
        if (tw_seq_le(c->sb[i].start, c->snd_nxt)) { /* standing in a SACKed range */
            c->snd_nxt = tw_seq_min(c->sb[i].end, c->snd_max);
            continue;
        }
        return (uint32_t)tw_seq_diff(c->sb[i].start, c->snd_nxt);
    }
    return UINT32_MAX;
}

/* ------------------------------------------------------------ recovery */

/* A retransmission at SND.UNA lost too: RFC 6675 retransmits a hole once
 * per recovery and leaves a lost retransmission to the RTO. Here, as RACK
 * (RFC 8985) reasons by send order: when more than (DupThresh - 1) * SMSS
 * of data sent after the latest retransmission at SND.UNA (at or above
 * una_fence) has been SACKed while SND.UNA is still a hole, that
 * retransmission was lost, barring reordering. Only the hole at SND.UNA is
 * watched (the one that stalls the cumulative ACK); a partial ACK moves the
 * fence to SND.MAX, so the next hole waits for data sent after that. */
static bool rxt_lost(const tw_tcp_conn *c) {
    if (!tw_seq_lt(c->snd_una, c->high_rxt) || c->ccf & TW_CCF_REXMT) return false;
    if (!c->nsb || !tw_seq_gt(c->sb[0].start, c->snd_una)) return false;
    uint32_t above = 0;
    for (unsigned i = c->nsb; i-- > 0 && tw_seq_gt(c->sb[i].end, c->una_fence);) {
        tw_seq_t l = tw_seq_max(c->sb[i].start, c->una_fence);
        above += (uint32_t)tw_seq_diff(c->sb[i].end, l);
    }
    return above > (DUPTHRESH - 1u) * c->smss;
}

/* RFC 6675 §5 step 4: enter loss recovery. The retransmission of HighACK+1
 * (4.3) and step (C) happen at the next output (tcp_output.c). */
static void enter_recovery(tw_tcp_conn *c) {
    uint32_t flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    c->recover = tw_seq_add(c->snd_max, (uint32_t)-1); /* 4.1: RecoveryPoint = HighData */
    c->cc->sack_recovery(c, flight);                   /* 4.2 */
    c->ccf |= TW_CCF_RECOVERY | TW_CCF_SACK | TW_CCF_PIPE | TW_CCF_REXMT;
    c->high_rxt = c->snd_una;
    c->rescue_rxt = c->snd_una;
    c->fast_retrans++;
    tw__tcp_count(c, TW_C_TCP_FAST_RETRANS);
    tw__tcp_count(c, TW_C_SACK_RECOVERY);
    tw__tcp_ecn_cwnd_cut(c); /* RFC 3168 §6.1.2: CWR after any cut */
    tw__tcp_sack_set_pipe(c);
}

void tw__tcp_sack_ack(tw_tcp_conn *c, const tw_tcp_seg *seg, uint32_t acked, uint32_t flight,
                      bool dup, tw_time_t now) {
    if (acked) sb_trim(c);
    bool fresh = seg->opt.nsack && sb_update(c, seg);
    if ((c->ccf & (TW_CCF_RECOVERY | TW_CCF_SACK)) == TW_CCF_RECOVERY) {
        /* A NewReno recovery (started on duplicate ACKs without SACK
         * blocks) runs to its end as RFC 6582 says. */
        if (acked)
            c->cc->ack(c, acked, flight, now);
        else if (dup)
            c->cc->dupack(c);
        return;
    }
    if (c->ccf & TW_CCF_SACK) {
        if (acked) c->una_fence = c->snd_max; /* a partial ACK: the new hole's, at the latest */
        if (tw_seq_gt(c->snd_una, c->recover)) {
            /* (A): RecoveryPoint is acknowledged; recovery ends with cwnd
             * = ssthresh as set on entry. The scoreboard above SND.UNA is
             * kept. */
            c->ccf &= (uint8_t) ~(TW_CCF_RECOVERY | TW_CCF_SACK | TW_CCF_PIPE | TW_CCF_REXMT);
            c->dupacks = 0;
            c->cc_acked = 0;
            return;
        }
        if (rxt_lost(c)) {
            c->ccf |= TW_CCF_REXMT; /* at SND.UNA again, at the next output */
            tw__tcp_count(c, TW_C_SACK_RXT_LOST);
        }
        tw__tcp_sack_set_pipe(c); /* (B); (C) is the next output's */
        return;
    }
    /* Not in recovery. A cumulative ACK resets DupAcks (congestion control
     * does, as it grows cwnd); a duplicate, cumulative or not, counts. */
    if (acked) c->cc->ack(c, acked, flight, now);
    bool outstanding = !tw_seq_eq(c->snd_una, c->snd_max);
    if (outstanding && (fresh || (dup && seg->opt.nsack == 0))) {
        if (c->dupacks < 255) c->dupacks++;
        /* Steps 1-2, once HighACK >= RecoveryPoint: everything sent
         * before the last recovery began is acknowledged, so the hole is
         * in data sent after it, a new loss event (RFC 6675 §5.1 puts the
         * bound there; NewReno's stricter "covers more than recover", RFC
         * 6582 §3.2, would leave the loss of the first segment sent in
         * recovery to the RTO). */
        tw_seq_t high_ack = tw_seq_add(c->snd_una, (uint32_t)-1);
        if ((c->dupacks >= DUPTHRESH || una_lost(c)) && tw_seq_ge(high_ack, c->recover)) {
            enter_recovery(c);
            return;
        }
    }
    if (c->dupacks && outstanding) {
        /* Step 3: Limited Transmit, new data while cwnd - pipe >= SMSS. */
        c->ccf |= TW_CCF_PIPE;
        c->high_rxt = c->snd_una; /* 3.1 */
        tw__tcp_sack_set_pipe(c); /* 3.2 */
    } else {
        c->ccf &= (uint8_t)~TW_CCF_PIPE;
    }
}

void tw__tcp_sack_rto(tw_tcp_conn *c) {
    /* RFC 6675 §5.1: recovery ends (RecoveryPoint = HighData, set by
     * congestion control's rto) and no new one starts before it is
     * acknowledged; RFC 2018 §5: the scoreboard is cleared, the peer may
     * have reneged. */
    c->nsb = 0;
    c->ccf &= (uint8_t) ~(TW_CCF_SACK | TW_CCF_PIPE);
    c->pipe = 0;
}
