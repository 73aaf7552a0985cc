/* an_seg.c - owns what one captured segment means for each endpoint's
 * close state machine: on its sender (a SYN, FIN or RST it sent proves its
 * state: observed) and on its receiver (the state the segment moves it to:
 * inferred, upgraded to observed once the receiver ACKs it). Also the
 * bookkeeping the diagnoses read: FIN retransmissions and changes, data
 * after a FIN, RSTs and the window. A FIN retransmitted after its ACK was
 * captured proves the ACK was lost past the capture point, so the move that
 * ACK caused is taken back; likewise a FIN its receiver's ACK shows outside
 * the window. Each side's advertised receive window is followed to tell an
 * RST with unread data from an abort, and its probes behind a zero window. */
#include <string.h>

#include "analyze.h"
#include "wire/seq.h"
#include "wire/tcp_hdr.h"

static bool ge(uint32_t a, uint32_t b) {
    return tw_seq_ge(tw_seq(a), tw_seq(b));
}
static bool gt(uint32_t a, uint32_t b) {
    return tw_seq_gt(tw_seq(a), tw_seq(b));
}

/* The move just pushed becomes observed once the side sends ack >= v. */
static void need(tw_an_side *s, uint32_t v) {
    tw_an_step *st = &s->path[s->npath - 1];
    st->need = true;
    st->need_ack = v;
}

static void pop(tw_an_side *s) {
    if (s->npath > 1) {
        s->npath--;
        s->state = s->path[s->npath - 1].state;
    }
}

static void push(tw_an_side *s, uint8_t state, uint8_t mark, uint8_t cause, const tw_an_pkt *p,
                 bool by_recv) {
    tw_an_side_push(s, state, mark, cause, p->t, p->frame, by_recv);
}

static void upgrade(tw_an_side *s, uint32_t ack) {
    for (int k = 0; k < s->npath; k++) {
        tw_an_step *st = &s->path[k];
        if (st->need && ge(ack, st->need_ack)) {
            st->need = false;
            st->mark = TW_AN_OBSERVED;
        }
    }
}

static bool open_state(uint8_t st) {
    return st == TW_ESTABLISHED || st == TW_SYN_RECEIVED || st == TW_CLOSE_WAIT;
}

/* The shift of a side's window fields: its own scale when both SYNs were
 * seen and both offered one (RFC 7323 §2.2), else 0 (known: false when the
 * handshake was not captured, so the fields cannot be read as bytes). */
static unsigned wnd_shift(const tw_an_side *s, const tw_an_side *peer, bool *known) {
    *known = s->have_isn && peer->have_isn;
    return *known && s->ws >= 0 && peer->ws >= 0 ? (unsigned)s->ws : 0;
}

/* Its receive window, from an ACK it sent (not a SYN: unscaled, nor an
 * RST: Linux frees the unread data before it sends the reset, so that
 * window says nothing). Kept: the largest window, the ACK at the last time
 * the window stood there, and whether a window update (same ACK, larger
 * window: its application made room) followed the last new ACK. */
static void note_window(tw_an_side *s, const tw_an_side *peer, const tw_an_pkt *p) {
    bool known;
    unsigned shift = wnd_shift(s, peer, &known);
    uint32_t bytes = (uint32_t)p->wnd << shift;
    bool new_ack = !s->have_ack || gt(p->ack, s->ack_max);
    if (new_ack) {
        s->ack_max = p->ack;
        s->reopened = false;
    } else if (s->have_ack && p->wnd > s->last_wnd) {
        s->reopened = true;
        s->reopen_frame = p->frame;
    }
    if (bytes >= s->wnd_bytes_max) {
        s->wnd_bytes_max = bytes;
        s->full_ack = p->ack;
    }
    s->have_ack = true;
    s->last_wnd = p->wnd;
    s->last_ack_frame = p->frame;
}

/* What the peer's data says about an RST this side sent (RFC 9293 §3.10.4:
 * a close with data still unread SHLD send an RST, RFC 2525 §2.17; with
 * nothing unread a close sends a FIN, so an RST is an abort).
 *   unread:  it ACKed the peer's data while its window fell to half its
 *            largest or less, and the window never came back before the
 *            RST. A receiver that reads makes room again; stacks announce
 *            it once the window has fallen that far (RFC 9293 §3.8.6.2.2
 *            SWS avoidance: at least min(MSS, half the buffer) of room;
 *            Linux: a window at or below half its clamp that would double).
 *            The ratio holds whatever the window scale.
 *   abort:   the peer sent no data, or every byte was ACKed and a window
 *            update after the last of them gave the room back.
 *   unknown: bytes never ACKed, or a window that neither fell that far nor
 *            reopened (big buffers hide small unread amounts). */
static void rst_verdict(tw_an_side *s, const tw_an_side *peer, const tw_an_pkt *p) {
    bool known;
    unsigned shift = wnd_shift(s, peer, &known);
    uint32_t ack = s->ack_max;
    bool have_ack = s->have_ack;
    if ((p->flags & TW_TH_ACK) && (!have_ack || gt(p->ack, ack))) {
        ack = p->ack;
        have_ack = true;
    }
    /* the peer's data ends at its FIN, or at the most it sent */
    uint32_t data_end = peer->fin ? peer->fin_seq : peer->snd_max;
    bool peer_data = peer->bytes > 0;
    uint32_t acked = have_ack && gt(ack, data_end) ? data_end : ack;
    s->rst_pending = !peer_data            ? 0
                     : !have_ack           ? (uint32_t)peer->bytes
                     : gt(data_end, acked) ? data_end - acked
                                           : 0;
    uint32_t last = (uint32_t)s->last_wnd << shift;
    uint32_t since_full = s->have_ack && gt(acked, s->full_ack) ? acked - s->full_ack : 0;
    bool shrunk = s->have_ack && s->wnd_bytes_max > 0 && !s->reopened &&
                  last <= s->wnd_bytes_max / 2 && since_full > 0;
    /* the bytes it holds: at least what the window lost, at most what it ACKed */
    uint32_t lost = s->wnd_bytes_max - last;
    s->rst_held = shrunk ? (lost < since_full ? lost : since_full) : 0;
    s->rst_wnd_from = s->wnd_bytes_max;
    s->rst_wnd_to = last;
    s->rst_bytes_known = known;
    bool none = !peer_data || (s->rst_pending == 0 && s->reopened);
    s->rst_verdict = peer_data && shrunk ? TW_AN_RST_UNREAD
                     : none              ? TW_AN_RST_ABORT
                                         : TW_AN_RST_UNKNOWN;
    s->rst_unread = s->rst_verdict == TW_AN_RST_UNREAD;
}

static void send_rst(tw_an_side *s, const tw_an_side *peer, const tw_an_pkt *p) {
    if (s->state == TW_CLOSED || s->state == TW_LISTEN || s->state == TW_TIME_WAIT || s->rst)
        return;
    s->rst = true;
    s->rst_state = s->state;
    s->rst_frame = p->frame;
    s->rst_t = p->t;
    rst_verdict(s, peer, p);
    push(s, TW_CLOSED, TW_AN_OBSERVED,
         s->rst_unread ? TW_CAUSE_USER_CLOSE_UNREAD : TW_CAUSE_USER_ABORT, p, false);
}

/* A FIN sent: its first sending moves the sender; later ones count. */
static void send_fin(tw_an_side *s, tw_an_side *peer, const tw_an_pkt *p, uint32_t fin_seq,
                     bool first_ack_of_peer_fin) {
    if (s->fin && fin_seq == s->fin_seq) {
        s->fin_retrans++;
        s->fin_last_frame = p->frame;
        if (s->fin_acked) {
            s->fin_retrans_after_ack = true;
            s->fin_acked = false;
            if (s->npath > 1 && s->path[s->npath - 1].by_fin_ack) pop(s);
        }
        return;
    }
    if (s->fin) {
        if (!s->fin_changed) s->fin_changed_frame = p->frame;
        s->fin_changed = true;
        return;
    }
    s->fin = true;
    s->fin_seq = fin_seq;
    s->fin_frame = s->fin_last_frame = p->frame;
    s->fin_t = p->t;
    s->merged = first_ack_of_peer_fin && s->state == TW_CLOSE_WAIT;
    if (s->state == TW_CLOSE_WAIT && !((p->flags & TW_TH_ACK) && ge(p->ack, peer->fin_seq + 1))) {
        /* Its FIN left before the peer's FIN arrived: the FINs crossed. */
        if (s->path[s->npath - 1].state == TW_CLOSE_WAIT && s->path[s->npath - 1].by_recv) pop(s);
        push(s, TW_FIN_WAIT_1, TW_AN_OBSERVED, TW_CAUSE_USER_CLOSE, p, false);
        push(s, TW_CLOSING, TW_AN_INFERRED, TW_CAUSE_RCV_FIN, p, true);
        need(s, peer->fin_seq + 1);
    } else if (s->state == TW_CLOSE_WAIT) {
        push(s, TW_LAST_ACK, TW_AN_OBSERVED, TW_CAUSE_USER_CLOSE, p, false);
    } else if (s->state == TW_ESTABLISHED || s->state == TW_SYN_RECEIVED) {
        push(s, TW_FIN_WAIT_1, TW_AN_OBSERVED, TW_CAUSE_USER_CLOSE, p, false);
    }
}

/* The peer's FIN moved this side (inferred) when it arrived; an ACK from
 * this side that does not cover the FIN and whose window ends at or before
 * it shows the FIN was outside the window, so not accepted (RFC 9293
 * §3.10.7.4: a segment beyond the window is dropped and ACKed). The move is
 * taken back, and a retransmission of the FIN may make it again. */
static void refuse_peer_fin(tw_an_side *s, tw_an_side *peer, const tw_an_pkt *p) {
    if (!peer->fin || (p->flags & (TW_TH_SYN | TW_TH_RST)) || ge(p->ack, peer->fin_seq + 1)) return;
    bool known;
    unsigned shift = wnd_shift(s, peer, &known);
    if (gt(p->ack + ((uint32_t)p->wnd << shift), peer->fin_seq)) return;
    tw_an_step *st = &s->path[s->npath - 1];
    if (s->npath > 1 && st->by_recv && st->need && st->cause != TW_CAUSE_RCV_ACK_OF_FIN &&
        (st->state == TW_CLOSE_WAIT || st->state == TW_CLOSING || st->state == TW_TIME_WAIT)) {
        pop(s);
        peer->fin_refused = true;
    }
}

void tw_an_on_send(tw_an_conn *c, int si, const tw_an_pkt *p) {
    tw_an_side *s = &c->s[si], *peer = &c->s[1 - si];
    uint8_t f = p->flags;
    s->pkts++;
    uint8_t ecn = p->tos & 3u;
    s->ect += ecn == 1u || ecn == 2u;
    s->ce += ecn == 3u;
    if (f & TW_TH_SYN)
        s->syn_ecn = f & (TW_TH_ECE | TW_TH_CWR);
    else {
        s->ece += (f & TW_TH_ECE) != 0;
        s->cwr += (f & TW_TH_CWR) != 0;
    }
    if (f & TW_TH_SYN) {
        if (!s->have_isn) {
            s->have_isn = true;
            s->isn = p->seq;
            s->ws = p->ws;
            s->mss = p->mss;
        }
        if (!(f & TW_TH_ACK) && s->state == TW_CLOSED)
            push(s, TW_SYN_SENT, TW_AN_OBSERVED, TW_CAUSE_USER_CONNECT, p, false);
        if ((f & TW_TH_ACK) && s->state == TW_LISTEN)
            push(s, TW_SYN_RECEIVED, TW_AN_OBSERVED, TW_CAUSE_RCV_SYN, p, false);
    }
    bool first_ack_of_peer_fin = false;
    if (f & TW_TH_ACK) {
        upgrade(s, p->ack);
        refuse_peer_fin(s, peer, p);
        if (peer->fin && ge(p->ack, peer->fin_seq + 1) && !s->acked_peer_fin) {
            s->acked_peer_fin = true;
            first_ack_of_peer_fin = true;
        }
    }
    uint32_t end = p->seq + p->len + ((f & TW_TH_SYN) ? 1u : 0u);
    if (p->len > 0 && !(f & TW_TH_RST)) {
        bool fresh = !s->have_snd || gt(end, s->snd_max);
        uint32_t new_bytes = fresh && s->have_snd ? end - s->snd_max : p->len;
        if (new_bytes > p->len) new_bytes = p->len;
        if (fresh) {
            s->bytes += new_bytes;
            s->last_data_frame = p->frame;
            s->last_data_t = p->t;
            if (peer->fin) {
                if (!s->data_after_peer_fin) s->data_after_peer_fin_frame = p->frame;
                s->data_after_peer_fin += new_bytes;
            }
            if (s->fin && gt(end, s->fin_seq)) {
                if (!s->data_after_fin) s->data_after_fin_frame = p->frame;
                s->data_after_fin += new_bytes;
            }
        }
    }
    if (!s->have_snd || gt(end, s->snd_max)) s->snd_max = end;
    s->have_snd = true;
    if (f & TW_TH_RST) {
        send_rst(s, peer, p);
        return;
    }
    /* Data, a FIN, or an empty segment below what the peer ACKed (a
     * zero-window probe, SEG.SEQ = SND.UNA - 1 in Linux and BSD) while the
     * peer's window is zero; a plain ACK at SND.UNA is not one. */
    if (peer->zero_wnd && p->frame > peer->zero_wnd_frame &&
        (p->len > 0 || (f & TW_TH_FIN) || (peer->have_ack && p->seq != peer->ack_max))) {
        s->zw_probes++;
        s->zw_probe_frame = p->frame;
    }
    if (f & TW_TH_FIN) send_fin(s, peer, p, end, first_ack_of_peer_fin);
    if ((f & TW_TH_ACK) && !(f & TW_TH_SYN)) note_window(s, peer, p);
    s->wnd = p->wnd;
    if (p->wnd > s->wnd_max && !(f & TW_TH_SYN)) s->wnd_max = p->wnd; /* SYN windows are unscaled */
    if (p->wnd == 0 && !s->zero_wnd && !(f & TW_TH_SYN)) {
        s->zero_wnd = true;
        s->zero_wnd_frame = p->frame;
        s->zero_wnd_t = p->t;
    } else if (p->wnd != 0) {
        s->zero_wnd = false;
    }
}

static void recv_rst(tw_an_side *r, const tw_an_pkt *p) {
    if (r->state == TW_TIME_WAIT) {
        if (!r->rst_in_tw) r->rst_in_tw_frame = p->frame;
        r->rst_in_tw = true;
        push(r, TW_CLOSED, TW_AN_INFERRED, TW_CAUSE_RCV_RST, p, true);
    } else if (r->state != TW_CLOSED && r->state != TW_LISTEN) {
        push(r, TW_CLOSED, TW_AN_INFERRED, TW_CAUSE_RCV_RST, p, true);
    }
}

void tw_an_on_recv(tw_an_conn *c, int ri, const tw_an_pkt *p) {
    tw_an_side *r = &c->s[ri], *s = &c->s[1 - ri];
    uint8_t f = p->flags;
    if (f & TW_TH_RST) {
        recv_rst(r, p);
        return;
    }
    if ((f & TW_TH_SYN) && !(f & TW_TH_ACK) && r->state == TW_LISTEN) {
        push(r, TW_SYN_RECEIVED, TW_AN_INFERRED, TW_CAUSE_RCV_SYN, p, true);
        need(r, p->seq + 1);
        return;
    }
    if ((f & TW_TH_SYN) && (f & TW_TH_ACK) && r->state == TW_SYN_SENT) {
        push(r, TW_ESTABLISHED, TW_AN_INFERRED, TW_CAUSE_RCV_SYN_ACK, p, true);
        need(r, p->seq + 1);
    } else if ((f & TW_TH_ACK) && r->state == TW_SYN_RECEIVED && r->have_isn &&
               ge(p->ack, r->isn + 1)) {
        push(r, TW_ESTABLISHED, TW_AN_INFERRED, TW_CAUSE_RCV_ACK, p, true);
    }
    bool acks_fin = r->fin && (f & TW_TH_ACK) && ge(p->ack, r->fin_seq + 1);
    bool acked_now = acks_fin && !r->fin_acked;
    if (acked_now) {
        r->fin_acked = true;
        if (!r->fin_ack_frame) r->fin_ack_frame = p->frame; /* the first ACK: the lost one */
    }
    bool new_fin = (f & TW_TH_FIN) && s->fin && (s->fin_frame == p->frame || s->fin_refused);
    if (new_fin) s->fin_refused = false;
    uint32_t fin_next = s->fin_seq + 1;
    switch (r->state) {
    case TW_FIN_WAIT_1:
        if (new_fin && acks_fin) {
            push(r, TW_TIME_WAIT, TW_AN_INFERRED, TW_CAUSE_RCV_FIN_ACK, p, true);
            need(r, fin_next);
        } else if (new_fin) {
            push(r, TW_CLOSING, TW_AN_INFERRED, TW_CAUSE_RCV_FIN, p, true);
            need(r, fin_next);
        } else if (acked_now) {
            push(r, TW_FIN_WAIT_2, TW_AN_INFERRED, TW_CAUSE_RCV_ACK_OF_FIN, p, true);
            r->path[r->npath - 1].by_fin_ack = true;
        }
        break;
    case TW_FIN_WAIT_2:
        if (new_fin) {
            push(r, TW_TIME_WAIT, TW_AN_INFERRED, TW_CAUSE_RCV_FIN, p, true);
            need(r, fin_next);
        }
        break;
    case TW_CLOSING:
    case TW_LAST_ACK:
        if (acked_now) {
            push(r, r->state == TW_CLOSING ? TW_TIME_WAIT : TW_CLOSED, TW_AN_INFERRED,
                 TW_CAUSE_RCV_ACK_OF_FIN, p, true);
            r->path[r->npath - 1].by_fin_ack = true;
        }
        break;
    default:
        if (new_fin && open_state(r->state) && r->state != TW_CLOSE_WAIT) {
            push(r, TW_CLOSE_WAIT, TW_AN_INFERRED, TW_CAUSE_RCV_FIN, p, true);
            need(r, fin_next);
        }
        break;
    }
}
