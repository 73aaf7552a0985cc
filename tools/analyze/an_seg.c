/* an_seg.c - owns what one captured segment means for each endpoint's
 * close state machine: on its sender (a SYN, FIN or RST it sent proves its
 * state: observed) and on its receiver (the state the segment moves it to:
 * inferred, upgraded to observed once the receiver ACKs it). Also the
 * bookkeeping the diagnoses read: FIN retransmissions and changes, data
 * after a FIN, RSTs and the window. A FIN retransmitted after its ACK was
 * captured proves the ACK was lost past the capture point, so the move that
 * ACK caused is taken back. */
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

static void send_rst(tw_an_side *s, const tw_an_side *peer, const tw_an_pkt *p) {
    if (s->state == TW_CLOSED || s->state == TW_LISTEN || s->state == TW_TIME_WAIT || s->rst)
        return;
    s->rst = true;
    s->rst_state = s->state;
    s->rst_frame = p->frame;
    s->rst_t = p->t;
    /* Unread data: the peer's data came after this side's own last one and
     * the RST (with ACK, so its window means something) offers less window
     * than the side did before: the bytes still sit in its buffer. A bare
     * RST cannot tell this from a linger-0 abort. */
    s->rst_unread = !s->fin && peer->bytes > 0 && peer->last_data_frame > s->last_data_frame &&
                    (p->flags & TW_TH_ACK) && p->wnd > 0 && p->wnd < s->wnd_max;
    push(s, TW_CLOSED, TW_AN_OBSERVED, s->rst_unread ? TW_CAUSE_USER_CLOSE_UNREAD
                                                      : TW_CAUSE_USER_ABORT,
         p, false);
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

void tw_an_on_send(tw_an_conn *c, int si, const tw_an_pkt *p) {
    tw_an_side *s = &c->s[si], *peer = &c->s[1 - si];
    uint8_t f = p->flags;
    s->pkts++;
    if (f & TW_TH_SYN) {
        if (!s->have_isn) {
            s->have_isn = true;
            s->isn = p->seq;
        }
        if (!(f & TW_TH_ACK) && s->state == TW_CLOSED)
            push(s, TW_SYN_SENT, TW_AN_OBSERVED, TW_CAUSE_USER_CONNECT, p, false);
        if ((f & TW_TH_ACK) && s->state == TW_LISTEN)
            push(s, TW_SYN_RECEIVED, TW_AN_OBSERVED, TW_CAUSE_RCV_SYN, p, false);
    }
    bool first_ack_of_peer_fin = false;
    if (f & TW_TH_ACK) {
        upgrade(s, p->ack);
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
    if (f & TW_TH_FIN) send_fin(s, peer, p, end, first_ack_of_peer_fin);
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
    bool new_fin = (f & TW_TH_FIN) && s->fin && s->fin_frame == p->frame;
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
