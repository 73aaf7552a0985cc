/* tcp_output.c - what a connection sends, and when (RFC 9293 §3.8, §3.10).
 *
 * tw_tcp_output() looks at the connection and emits every segment that is
 * due: an RST left by an abort, the SYN or SYN-ACK, data within the peer's
 * window (Nagle, §3.7.4), our FIN once all data has gone, pure ACKs owed by
 * input or the delayed-ACK timer, window updates (receiver SWS avoidance,
 * §3.8.6.2.2) and zero-window probes. Every segment carrying data or a FIN
 * arms the retransmission timer (RFC 6298 §5.1), except a zero-window probe,
 * which the persist timer repeats. */
#include <string.h>

#include "tcp/tcp.h"

tw_seq_t tw__tcp_snd_data_start(const tw_tcp_conn *c) {
    /* Until the SYN is acknowledged the first data byte is ISS+1. */
    return tw_seq_eq(c->snd_una, c->iss) ? tw_seq_add(c->iss, 1) : c->snd_una;
}

/* The largest window a 16-bit field can offer: 65535 << Rcv.Wind.Shift
 * (RFC 7323 §2.3; the shift is 0 unless window scaling is in use). */
static uint32_t rcv_wnd_max(const tw_tcp_conn *c) {
    return 65535u << c->rcv_wscale;
}

/* The window we could offer: free receive space, as much as the window
 * field can carry, never shrinking below what was already advertised. */
uint32_t tw__tcp_rcv_wnd(const tw_tcp_conn *c) {
    /* tw_ring_free() read in place: every segment sent asks (advertise) */
    uint32_t free_ = c->rcvbuf.cap - c->rcvbuf.len;
    if (free_ > rcv_wnd_max(c)) free_ = rcv_wnd_max(c);
    int32_t promised = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    if (promised > 0 && (uint32_t)promised > free_) free_ = (uint32_t)promised;
    return free_;
}

uint32_t tw__tcp_rcv_window(const tw_tcp_conn *c) {
    uint32_t w = tw__tcp_rcv_wnd(c) >> c->rcv_wscale;
    return w > 65535u ? 65535u : w;
}

/* Receiver SWS avoidance: the right edge moves only by at least
 * min(RCV.BUFF/2, MSS) (RFC 9293 §3.8.6.2.2, MUST-39). */
static uint32_t sws_threshold(const tw_tcp_conn *c) {
    uint32_t half = c->rcvbuf.cap / 2;
    return half < c->cfg->mss ? half : c->cfg->mss;
}

/* The window field of a segment sent now; moves RCV.ADV (the right edge). A
 * SYN's window is never scaled (RFC 7323 §2.2); any other is right-shifted
 * by Rcv.Wind.Shift (§2.3), rounded up when rounding down would pull the
 * right edge left of what was already promised (SHLD-14). */
static uint16_t advertise(tw_tcp_conn *c, bool syn) {
    uint32_t wnd = tw__tcp_rcv_wnd(c);
    int32_t keep = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    uint32_t promised = keep > 0 ? (uint32_t)keep : 0;
    tw_seq_t edge = tw_seq_add(c->rcv_nxt, wnd);
    int32_t grow = tw_seq_diff(edge, c->rcv_adv);
    if (grow > 0 && (uint32_t)grow < sws_threshold(c)) wnd = promised;
    unsigned shift = syn ? 0 : c->rcv_wscale;
    uint32_t field = wnd >> shift;
    if (shift && (field << shift) < promised) field = (promised + (1u << shift) - 1) >> shift;
    if (field > 65535u) field = 65535u;
    edge = tw_seq_add(c->rcv_nxt, field << shift);
    if (tw_seq_gt(edge, c->rcv_adv)) c->rcv_adv = edge;
    return (uint16_t)field;
}

static bool window_update_due(const tw_tcp_conn *c) {
    /* tw_ring_free() read in place: this runs at every output */
    uint32_t free_ = c->rcvbuf.cap - c->rcvbuf.len;
    if (free_ > rcv_wnd_max(c)) free_ = rcv_wnd_max(c);
    tw_seq_t edge = tw_seq_add(c->rcv_nxt, free_);
    int32_t grow = tw_seq_diff(edge, c->rcv_adv);
    /* Only worth a segment when the window was (nearly) closed and opened by
     * at least the SWS threshold. */
    int32_t left = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    return grow > 0 && (uint32_t)grow >= sws_threshold(c) &&
           (left < 0 || (uint32_t)left < sws_threshold(c));
}

static void fill_hdr(const tw_tcp_conn *c, tw_tcp_seg *s) {
    memset(s, 0, sizeof *s);
    s->src_addr = c->laddr;
    s->dst_addr = c->raddr;
    s->src_port = c->lport;
    s->dst_port = c->rport;
    s->ip_ttl = c->ip_ttl;
    s->ip_tos = c->ip_tos;
}

static void sent_ack(tw_tcp_conn *c) {
    c->flags &= ~(uint32_t)(TW_TF_ACK_NOW | TW_TF_DELACK | TW_TF_CHALLENGE);
    c->t_delack = TW_TIME_NEVER;
    c->unacked_segs = 0;
}

/* RFC 9293 §3.8.5: every segment below SND.UP carries URG with the urgent
 * pointer as an offset from its SEG.SEQ to the octet after the urgent data
 * (MUST-62). Past 65535 the pointer stays at 65535 until the data catches
 * up, so urgent data of any length is marked (MUST-31). */
static void mark_urgent(const tw_tcp_conn *c, tw_tcp_seg *s) {
    if (s->flags & (TW_TH_SYN | TW_TH_RST)) return;
    int32_t d = tw_seq_diff(c->snd_up, s->seq);
    if (d <= 0) return;
    s->flags |= TW_TH_URG;
    s->urp = d > 65535 ? 65535 : (uint16_t)d;
}

static void emit(tw_tcp_conn *c, const tw_tcp_tx *tx, tw_tcp_seg *s, unsigned meta, tw_time_t now) {
    if (c->flags & TW_TF_URG_SND) mark_urgent(c, s);
    tw__tcp_stamp(c, s, meta, now); /* RFC 7323: TS option, Last.ACK.sent */
    tw__tcp_count(c, TW_C_TCP_OUT);
    if (meta & TW_SEGMETA_RETRANS) {
        tw__tcp_count(c, TW_C_TCP_RETRANS);
        c->total_retrans++;
    }
    if (meta & TW_SEGMETA_PROBE) tw__tcp_count(c, TW_C_PERSIST_PROBE);
    tx->emit(tx->ctx, s, meta);
}

/* SYN (SYN_SENT) or SYN-ACK (SYN_RECEIVED) at ISS, with our MSS. */
static int send_syn(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = c->iss;
    s.flags = TW_TH_SYN;
    if (c->cfg->ecn == TW_TCP_ECN_ON || (c->flags & TW_TF_ECN))
        s.flags |= tw__tcp_ecn_syn_flags(c); /* RFC 3168 §6.1.1 */
    if (c->state == TW_SYN_RECEIVED) {
        s.flags |= TW_TH_ACK;
        s.ack = c->rcv_nxt;
    }
    s.wnd = advertise(c, true);
    tw__tcp_syn_options(c, &s, now); /* MSS; WS and TS per RFC 7323 */
    unsigned meta = tw_seq_gt(c->snd_max, c->iss) ? TW_SEGMETA_RETRANS : 0;
    c->snd_nxt = tw_seq_add(c->iss, 1);
    if (tw_seq_gt(c->snd_nxt, c->snd_max)) c->snd_max = c->snd_nxt;
    if (!meta && !c->rtt_timing) { /* Karn: time only first transmissions */
        c->rtt_timing = true;
        c->rtt_seq = c->iss;
        c->rtt_start = now;
    }
    if (c->t_rexmt == TW_TIME_NEVER) tw__tcp_arm_rexmt(c, now);
    if (s.flags & TW_TH_ACK) sent_ack(c);
    emit(c, tx, &s, meta, now);
    return 1;
}

/* True when send_one() would emit nothing because nothing is due at all: no
 * ACK owed, no unsent byte (so no data segment whatever the window or
 * Nagle say), no FIN at SND.NXT to send, no window update. This is the
 * common case (output runs after every input and user call) and the answer
 * is the one send_one()'s full computation gives, minus its window and
 * Nagle arithmetic; when anything may be due, send_one() decides as before. */
static bool nothing_due(const tw_tcp_conn *c) {
    if (c->flags & TW_TF_ACK_NOW) return false;
    if (c->state != TW_SYN_RECEIVED) {
        int32_t off = tw_seq_diff(c->snd_nxt, tw__tcp_snd_data_start(c));
        if ((off > 0 ? (uint32_t)off : 0) < c->sndbuf.len) return false; /* unsent data */
        if ((c->flags & TW_TF_FIN_QUEUED) && tw_seq_eq(c->snd_nxt, c->fin_seq)) return false;
    }
    return !window_update_due(c);
}

/* Payload of a full-sized segment sent now: SMSS, less the SACK blocks it
 * will carry (RFC 2018 §4, tcp_sack.c), so the packet stays within the MSS. */
static uint32_t seg_data_max(const tw_tcp_conn *c) {
    uint32_t sb = tw__tcp_sack_due(c) ? tw__tcp_sack_bytes(c) : 0;
    return c->smss > sb ? c->smss - sb : 1;
}

/* How far beyond SND.UNA data may go: min(cwnd, SND.WND) (RFC 5681 §3.1),
 * cwnd plus one SMSS per duplicate ACK for the first two of them (Limited
 * Transmit, RFC 3042 / RFC 5681 §3.2 step 1). When pipe governs (SACK
 * recovery and SACK Limited Transmit, RFC 6675 §5 steps 3 and C), new data
 * may go beyond SND.NXT only while cwnd - pipe >= SMSS. */
static uint32_t send_window(const tw_tcp_conn *c) {
    uint32_t cw = c->cwnd;
    if ((c->ccf & TW_CCF_PIPE) && tw_seq_eq(c->snd_nxt, c->snd_max)) {
        uint32_t room = c->cwnd > c->pipe ? c->cwnd - c->pipe : 0;
        cw = (uint32_t)tw_seq_diff(c->snd_nxt, c->snd_una) + (room >= c->smss ? room : 0);
    } else if (c->dupacks && c->dupacks < 3 && !(c->ccf & TW_CCF_RECOVERY) &&
               tw_seq_eq(c->snd_nxt, c->snd_max)) { /* new data only (RFC 3042 §2) */
        cw += c->dupacks * c->smss;
    }
    return cw < c->snd_wnd ? cw : c->snd_wnd;
}

/* Where a segment without data or FIN goes. SND.NXT, unless an RTO pulled
 * it back (go-back-N at one segment per cwnd): it can then be below the
 * peer's RCV.NXT, where the peer would drop the ACK unread as an old
 * duplicate, so such an ACK goes at SND.MAX, as BSD sends it, but never
 * past the right edge of the peer's window (as Linux caps it): with the
 * window closed that leaves SND.NXT, the one sequence number a zero
 * window accepts. */
static tw_seq_t bare_ack_seq(const tw_tcp_conn *c) {
    tw_seq_t edge = tw_seq_add(c->snd_una, c->snd_wnd);
    return tw_seq_max(c->snd_nxt, tw_seq_min(c->snd_max, edge));
}

/* Decides the next data/FIN/ACK segment; returns 1 if one was emitted. */
static int send_one(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    if (nothing_due(c)) return 0;
    /* Go-back-N after an RTO skips what the peer SACKed since (RFC 6675
     * §5.1) and stops short of the next SACKed range. */
    uint32_t sack_room = UINT32_MAX;
    if (c->nsb && tw_seq_lt(c->snd_nxt, c->snd_max)) sack_room = tw__tcp_sack_skip(c);
    tw_seq_t start = tw__tcp_snd_data_start(c);
    uint32_t buffered = tw_ring_len(&c->sndbuf);
    int32_t off_s = tw_seq_diff(c->snd_nxt, start);
    uint32_t off = off_s > 0 ? (uint32_t)off_s : 0;
    uint32_t avail = off < buffered ? buffered - off : 0;
    /* SYN_RECEIVED queues data until ESTABLISHED (RFC 9293 §3.10.2). */
    if (c->state == TW_SYN_RECEIVED) avail = 0;
    int32_t usable_s = tw_seq_diff(tw_seq_add(c->snd_una, send_window(c)), c->snd_nxt);
    uint32_t usable = usable_s > 0 ? (uint32_t)usable_s : 0;
    uint32_t len = avail < usable ? avail : usable;
    uint32_t full = seg_data_max(c);
    if (len > full) len = full;
    if (len > tx->scratch_cap) len = tx->scratch_cap;
    if (len > sack_room) len = sack_room;
    unsigned meta = 0;
    bool retrans = tw_seq_lt(c->snd_nxt, c->snd_max);

    /* Nagle (RFC 9293 §3.7.4, SHLD-7): hold a small segment while data is
     * unacknowledged, unless it is all there is and we are closing, or it
     * ends urgent data (pushed at once, as BSD and Linux do). */
    bool closing = (c->flags & TW_TF_FIN_QUEUED) && c->state != TW_SYN_RECEIVED;
    if (len > 0 && len < full && !retrans && !(c->flags & TW_TF_SWS_OVERRIDE)) {
        bool idle = tw_seq_eq(c->snd_una, c->snd_max);
        bool all = len == avail;
        bool push = (c->flags & TW_TF_NODELAY) ||
                    ((c->flags & TW_TF_URG_SND) && tw_seq_gt(c->snd_up, c->snd_nxt));
        bool half_wnd = c->max_snd_wnd && len >= c->max_snd_wnd / 2;
        if (!(all && (idle || push || closing)) && !half_wnd) len = 0;
    }

    bool fin = closing && tw_seq_eq(tw_seq_add(c->snd_nxt, len), c->fin_seq) && len == avail;
    bool win_upd = window_update_due(c);
    bool ack = c->flags & TW_TF_ACK_NOW;
    if (len == 0 && !fin && !ack && !win_upd) return 0;

    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = (len > 0 || fin) ? c->snd_nxt : bare_ack_seq(c);
    s.ack = c->rcv_nxt;
    s.flags = TW_TH_ACK;
    if (len > 0) {
        tw_ring_peek(&c->sndbuf, off, tx->scratch, len);
        s.payload = tx->scratch;
        s.len = len;
        if (len == avail) s.flags |= TW_TH_PSH;
    }
    if (fin) s.flags |= TW_TH_FIN;
    s.wnd = advertise(c, false);
    if (retrans && (len > 0 || fin)) meta |= TW_SEGMETA_RETRANS;
    if (c->flags & TW_TF_CHALLENGE) meta |= TW_SEGMETA_CHALLENGE;
    if (c->flags & TW_TF_ECN) tw__tcp_ecn_mark(c, &s, retrans); /* ECE, CWR, ECT(0) (RFC 3168) */

    uint32_t seqlen = len + (fin ? 1u : 0u);
    c->snd_nxt = tw_seq_add(c->snd_nxt, seqlen);
    if (tw_seq_gt(c->snd_nxt, c->snd_max)) {
        /* Payload never sent before: the FIN is no payload byte (a
         * retransmission can carry old data and a first FIN together). */
        int32_t fresh = tw_seq_diff(tw_seq_add(s.seq, len), c->snd_max);
        if (fresh > (int32_t)len) fresh = (int32_t)len;
        if (fresh > 0) c->env->counters[TW_C_TCP_DATA_OUT_BYTES] += (uint32_t)fresh;
        c->snd_max = c->snd_nxt;
        if (!c->rtt_timing && seqlen && !retrans) {
            c->rtt_timing = true;
            c->rtt_seq = s.seq;
            c->rtt_start = now;
        }
    }
    if (seqlen && c->t_rexmt == TW_TIME_NEVER) {
        if (retrans && len == 0 && c->snd_wnd == 0) {
            /* Our FIN alone again into a closed window, after an RTO whose
             * go-back-N skipped data the peer SACKed: it is the window's
             * probe, so it backs off like one (RFC 9293 §3.8.6.1, SHLD-30);
             * the RTO counts it as unanswered until an ACK comes. */
            if (c->persist_shift < 16) c->persist_shift++;
            c->t_rexmt = now + tw__tcp_persist_backoff(c);
        } else {
            tw__tcp_arm_rexmt(c, now);
        }
    }
    if (seqlen) {
        c->t_persist = TW_TIME_NEVER;
        c->t_last_send = now;
        if (c->ccf & TW_CCF_PIPE) c->pipe += seqlen; /* RFC 6675 §5 (3.3), (C.4) */
    }
    if (!tw_seq_lt(c->snd_nxt, c->snd_max)) c->flags &= ~(uint32_t)TW_TF_RETRANSMITTING;
    sent_ack(c);
    emit(c, tx, &s, meta, now);
    return 1;
}

/* Zero-window probe (RFC 9293 §3.8.6.1, MUST-36): the byte at SND.UNA, sent
 * again at every persist expiry until the peer takes it or opens its window.
 * It leaves SND.NXT alone (the byte goes out in order once the window opens)
 * and arms no retransmission timer: the persist timer keeps backing off, so
 * the connection stays open for as long as the peer answers (MUST-37).
 * SND.MAX covers the byte so that an ACK taking it is acceptable. */
static int send_probe(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    c->flags &= ~(uint32_t)TW_TF_FORCE_PROBE;
    if (c->snd_wnd != 0 || c->state == TW_SYN_RECEIVED || tx->scratch_cap == 0) return 0;
    int32_t off = tw_seq_diff(c->snd_una, tw__tcp_snd_data_start(c));
    if (off < 0 || (uint32_t)off >= tw_ring_len(&c->sndbuf)) return 0;
    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = c->snd_una;
    s.ack = c->rcv_nxt;
    s.flags = TW_TH_ACK;
    tw_ring_peek(&c->sndbuf, (uint32_t)off, tx->scratch, 1);
    s.payload = tx->scratch;
    s.len = 1;
    s.wnd = advertise(c, false);
    tw_seq_t end = tw_seq_add(c->snd_una, 1);
    if (tw_seq_gt(end, c->snd_max)) {
        c->snd_max = end;
        c->env->counters[TW_C_TCP_DATA_OUT_BYTES]++;
    }
    /* The probed byte is outstanding data: it starts the user timeout. */
    if (c->user_timeout && c->t_user == TW_TIME_NEVER) c->t_user = now + c->user_timeout;
    sent_ack(c);
    emit(c, tx, &s, TW_SEGMETA_PROBE, now);
    return 1;
}

/* Zero window with data waiting: arm the persist timer (RFC 9293 §3.8.6.1,
 * SHLD-29/30), backing off like the RTO. Data in flight is left to the
 * retransmission timer, except once an RTO has pulled SND.NXT back to
 * SND.UNA and the zero window let nothing go: retransmitting cannot help
 * then (a window that shrank to zero, MUST-34), so probing takes over. */
static void maybe_arm_persist(tw_tcp_conn *c, tw_time_t now) {
    if (c->t_persist != TW_TIME_NEVER || c->state == TW_SYN_RECEIVED) return;
    if (c->snd_wnd != 0 && c->t_rexmt == TW_TIME_NEVER && !tw_seq_eq(c->snd_una, c->snd_max)) {
        /* Something outstanding, the window open, and no timer: a window
         * that reopened after a zero-window spell while SND.NXT stands past
         * what cwnd allows (SACKed ranges skipped) sends nothing, so only a
         * timer can move it on. RFC 6298 §5.1: the retransmission timer runs
         * while data is outstanding (found by fuzz_stack). */
        tw__tcp_arm_rexmt(c, now);
        return;
    }
    if (tw_ring_len(&c->sndbuf) == 0) return;
    if (c->snd_wnd != 0) {
        /* Open window, nothing in flight, data held back by Nagle or sender
         * SWS avoidance: if the peer's window update is lost nothing would
         * ever move again, so arm the override timeout (RFC 1122 §4.2.3.4,
         * RFC 9293 §3.8.6.2.1). */
        if (c->t_rexmt != TW_TIME_NEVER || !tw_seq_eq(c->snd_una, c->snd_max)) return;
        int32_t off = tw_seq_diff(c->snd_nxt, tw__tcp_snd_data_start(c));
        if (off < 0 || (uint32_t)off >= tw_ring_len(&c->sndbuf)) return;
        c->t_persist = now + c->rto;
        return;
    }
    if (c->t_rexmt != TW_TIME_NEVER) {
        if (!tw_seq_eq(c->snd_nxt, c->snd_una)) return;
        c->t_rexmt = TW_TIME_NEVER;
    }
    c->t_persist = now + tw__tcp_persist_backoff(c);
}

/* Keep-alive probe (RFC 9293 §3.8.4, tcp_keep.c): <SEQ=SND.NXT-1>
 * <ACK=RCV.NXT><CTL=ACK> with no data. The peer drops it as unacceptable
 * after answering with an ACK, so its ACK field settles nothing: an ACK we
 * owe stays owed (no sent_ack()). */
static int send_keepalive(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    c->uflags &= (uint8_t)~TW_UF_KEEP_PROBE;
    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = tw_seq_add(c->snd_nxt, (uint32_t)-1);
    s.ack = c->rcv_nxt;
    s.flags = TW_TH_ACK;
    s.wnd = advertise(c, false);
    tw__tcp_count(c, TW_C_KEEPALIVE_PROBE);
    emit(c, tx, &s, TW_SEGMETA_KEEPALIVE, now);
    return 1;
}

/* Retransmits at most `max` sequence numbers from `seq` (< SND.MAX): old
 * data and, where it reaches it, our FIN, leaving SND.NXT where it is (new
 * data goes on from there as the window allows). Returns the sequence
 * numbers sent, 0 if none. Used by fast retransmit (RFC 5681 §3.2 step 3),
 * NewReno's retransmission on a partial ACK (RFC 6582 §3.2 step 4), both at
 * SND.UNA, and by SACK recovery (RFC 6675 §5, wherever NextSeg says). */
static uint32_t send_rexmt_at(tw_tcp_conn *c, tw_seq_t seq, uint32_t max, tw_time_t now,
                              const tw_tcp_tx *tx) {
    int32_t off_s = tw_seq_diff(seq, tw__tcp_snd_data_start(c));
    uint32_t off = off_s > 0 ? (uint32_t)off_s : 0;
    uint32_t buffered = tw_ring_len(&c->sndbuf);
    uint32_t avail = off < buffered ? buffered - off : 0;
    int32_t sent_s = tw_seq_diff(c->snd_max, seq);
    uint32_t sent = sent_s > 0 ? (uint32_t)sent_s : 0;
    uint32_t len = avail < sent ? avail : sent;
    if (len > max) len = max;
    if (len > seg_data_max(c)) len = seg_data_max(c);
    if (len > tx->scratch_cap) len = tx->scratch_cap;
    tw_seq_t end = tw_seq_add(seq, len);
    bool fin = (c->flags & TW_TF_FIN_QUEUED) && tw_seq_eq(end, c->fin_seq) &&
               tw_seq_gt(c->snd_max, c->fin_seq) && max > len;
    if (len == 0 && !fin) return 0;
    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = seq;
    s.ack = c->rcv_nxt;
    s.flags = TW_TH_ACK | (fin ? TW_TH_FIN : 0) | (len && len == avail ? TW_TH_PSH : 0);
    if (len) {
        tw_ring_peek(&c->sndbuf, off, tx->scratch, len);
        s.payload = tx->scratch;
        s.len = len;
    }
    s.wnd = advertise(c, false);
    /* Karn (RFC 6298 §3): a timed segment sent twice gives no sample. */
    if (c->rtt_timing && tw_seq_lt(c->rtt_seq, tw_seq_add(end, fin ? 1u : 0u)))
        c->rtt_timing = false;
    c->t_last_send = now;
    sent_ack(c);
    emit(c, tx, &s, TW_SEGMETA_RETRANS, now);
    return len + (fin ? 1u : 0u);
}

/* NewReno's retransmission of the first unacknowledged segment. */
static int send_rexmt(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    c->ccf &= (uint8_t)~TW_CCF_REXMT;
    return send_rexmt_at(c, c->snd_una, UINT32_MAX, now, tx) ? 1 : 0;
}

/* One retransmission NextSeg chose by `rule` (RFC 6675 §5 step C.1), with
 * C.2 and C.4: pipe grows by what was sent, HighRxt moves past it, except
 * for the rescue retransmission, after which RescueRxt = RecoveryPoint. */
static int send_next_seg(tw_tcp_conn *c, int rule, tw_time_t now, const tw_tcp_tx *tx) {
    tw_seq_t seq;
    uint32_t len;
    rule = tw__tcp_sack_next_seg(c, rule, &seq, &len);
    if (!rule) return 0;
    uint32_t k = send_rexmt_at(c, seq, len, now, tx);
    if (!k) return 0;
    c->pipe += k;
    if (tw_seq_eq(seq, c->snd_una)) c->una_fence = c->snd_max;
    if (rule == 4) {
        c->rescue_rxt = tw_seq_add(c->recover, 1);
        tw__tcp_count(c, TW_C_SACK_RESCUE);
    } else {
        c->high_rxt = tw_seq_add(seq, k);
    }
    return 1;
}

/* SACK loss recovery's sending (RFC 6675 §5), first part: on entry the
 * segment at HighACK + 1 (step 4.3, up to its hole's end) and SetPipe
 * (4.4); then step (C) with NextSeg rule 1, the lost holes, while cwnd -
 * pipe >= SMSS. Rule 2 (new data) is the send_one() loop that follows, with
 * send_window() measuring by pipe, and rules 3 and 4 come after it
 * (send_sack_rest): the order NextSeg gives, without a second caller of
 * send_one(), which the hot path wants inlined. */
static int send_sack_holes(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    int n = 0;
    if (c->ccf & TW_CCF_REXMT) {
        c->ccf &= (uint8_t)~TW_CCF_REXMT;
        uint32_t max = c->smss;
        if (c->nsb && tw_seq_gt(c->sb[0].start, c->snd_una)) {
            uint32_t hole = (uint32_t)tw_seq_diff(c->sb[0].start, c->snd_una);
            if (hole < max) max = hole;
        }
        uint32_t k = send_rexmt_at(c, c->snd_una, max, now, tx);
        if (k) {
            /* On entry HighRxt = RescueRxt = SND.UNA; again for a lost
             * retransmission (tcp_sack.c), whose holes above stay done. */
            tw_seq_t e = tw_seq_add(c->snd_una, k);
            n++;
            if (tw_seq_gt(e, c->high_rxt)) c->high_rxt = e;
            if (tw_seq_gt(e, c->rescue_rxt)) c->rescue_rxt = e;
            c->una_fence = c->snd_max;
        }
        tw__tcp_sack_set_pipe(c);
    }
    /* Each round raises pipe by at least one; the bound only guards
     * against a bug looping for ever. */
    for (unsigned guard = 0; guard < 1024u && c->cwnd >= c->pipe + c->smss; guard++) {
        if (!send_next_seg(c, 1, now, tx)) break;
        n++;
    }
    return n;
}

/* Second part, after new data had its turn: NextSeg rules 3 (holes not yet
 * deemed lost) and 4 (the rescue retransmission) while cwnd - pipe >= SMSS. */
static int send_sack_rest(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    int n = 0;
    for (unsigned guard = 0; guard < 1024u && c->cwnd >= c->pipe + c->smss; guard++) {
        if (!send_next_seg(c, 3, now, tx)) break;
        n++;
    }
    return n;
}

/* RFC 5681 §4.1: nothing in flight and no data sent for more than an RTO:
 * the ACK clock is gone, start again from the restart window. */
static inline void idle_restart(tw_tcp_conn *c, tw_time_t now) {
    if (tw_seq_eq(c->snd_una, c->snd_max) && c->t_last_send && now - c->t_last_send > c->rto)
        c->cc->idle(c);
}

static int send_rst(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    /* ABORT (RFC 9293 §3.10.5): <SEQ=SND.NXT><CTL=RST>. SND.MAX is used so a
     * retransmission in progress does not put the RST below the peer's
     * window. */
    tw_tcp_seg s;
    fill_hdr(c, &s);
    s.seq = c->snd_max;
    s.flags = TW_TH_RST;
    c->flags &= ~(uint32_t)TW_TF_SEND_RST;
    emit(c, tx, &s, 0, now);
    return 1;
}

int tw_tcp_output(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx) {
    int n = 0;
    switch (c->state) {
    case TW_CLOSED: return (c->flags & TW_TF_SEND_RST) ? send_rst(c, now, tx) : 0;
    case TW_LISTEN: return 0;
    case TW_SYN_SENT:
    case TW_SYN_RECEIVED:
        if (tw_seq_eq(c->snd_nxt, c->iss)) return send_syn(c, now, tx);
        if (c->state == TW_SYN_SENT) return 0;
        break;
    case TW_TIME_WAIT:
        if (c->flags & TW_TF_ACK_NOW) {
            tw_tcp_seg s;
            /* No .ts: emit() stamps the TS option as on every segment. */
            tw_tcp_tw tw = {.snd_nxt = c->snd_nxt,
                            .rcv_nxt = c->rcv_nxt,
                            .wnd = (uint16_t)tw__tcp_rcv_window(c)};
            tw_tcp_tw_ack(&tw, c->laddr, c->lport, c->raddr, c->rport, now, &s);
            sent_ack(c);
            emit(c, tx, &s, 0, now);
            return 1;
        }
        return 0;
    default: break;
    }
    /* Nothing can be due (a third of the calls in a request-reply
     * exchange): no probe, keep-alive, retransmission or ACK asked for, an
     * empty send buffer (no data to send, nothing for the persist timer to
     * guard: maybe_arm_persist() would return at once), no FIN waiting at
     * SND.NXT and no window update. What the full path below does then is
     * the idle restart and the SWS override's end, done here as well. */
    if (!(c->flags & (TW_TF_FORCE_PROBE | TW_TF_ACK_NOW)) && c->sndbuf.len == 0 &&
        !(c->uflags & TW_UF_KEEP_PROBE) && !(c->ccf & (TW_CCF_SACK | TW_CCF_REXMT)) &&
        !((c->flags & TW_TF_FIN_QUEUED) && tw_seq_eq(c->snd_nxt, c->fin_seq)) &&
        !window_update_due(c)) {
        idle_restart(c, now);
        c->flags &= ~(uint32_t)TW_TF_SWS_OVERRIDE;
        return 0;
    }
    if (c->flags & TW_TF_FORCE_PROBE) n += send_probe(c, now, tx);
    if (c->uflags & TW_UF_KEEP_PROBE) n += send_keepalive(c, now, tx);
    if (c->ccf & (TW_CCF_SACK | TW_CCF_REXMT))
        n += (c->ccf & TW_CCF_SACK) ? send_sack_holes(c, now, tx) : send_rexmt(c, now, tx);
    idle_restart(c, now);
    /* Bounded: each round sends at least one byte, a FIN or the only ACK. */
    while (send_one(c, now, tx)) n++;
    if (c->ccf & TW_CCF_SACK) n += send_sack_rest(c, now, tx);
    c->flags &= ~(uint32_t)TW_TF_SWS_OVERRIDE;
    maybe_arm_persist(c, now);
    return n;
}
