/* an_diag.c - owns the verdicts on a finished connection record: its close
 * kind (four-way, three-way, simultaneous, half-close, abort, FIN then RST,
 * unterminated), which side closed first, and the diagnoses, each with the
 * frame numbers that prove it. Reads only the record (analyze.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyze.h"

static const char *side_name(int k) {
    return k == 0 ? "client" : "server";
}

static void add(tw_an_conn *c, int code, const uint64_t *frames, int nframes, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void add(tw_an_conn *c, int code, const uint64_t *frames, int nframes, const char *fmt,
                ...) {
    if (c->ndiag == TW_AN_DIAG_MAX) return;
    tw_an_diag *d = &c->diag[c->ndiag++];
    memset(d, 0, sizeof *d);
    d->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->text, sizeof d->text, fmt, ap);
    va_end(ap);
    /* in frame order, each once, so a reader can step through them */
    for (int k = 0; k < nframes && d->nframes < TW_AN_DIAG_FRAMES; k++) {
        uint64_t f = frames[k];
        int j = d->nframes;
        bool dup = f == 0;
        for (int i = 0; i < d->nframes; i++) dup |= d->frames[i] == f;
        if (dup) continue;
        while (j > 0 && d->frames[j - 1] > f) {
            d->frames[j] = d->frames[j - 1];
            j--;
        }
        d->frames[j] = f;
        d->nframes++;
    }
}

static bool passed(const tw_an_side *s, uint8_t state) {
    for (int k = 0; k < s->npath; k++)
        if (s->path[k].state == state) return true;
    return false;
}

static void decide_kind(tw_an_conn *c) {
    const tw_an_side *a = &c->s[0], *b = &c->s[1];
    uint64_t ev[2];
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k];
        uint64_t f = s->fin ? s->fin_frame : UINT64_MAX;
        if (s->rst && s->rst_frame < f) f = s->rst_frame;
        ev[k] = f;
    }
    c->first_closer = ev[0] == UINT64_MAX && ev[1] == UINT64_MAX ? -1 : ev[0] <= ev[1] ? 0 : 1;
    bool any_fin = a->fin || b->fin, any_rst = a->rst || b->rst;
    if (c->first_closer < 0) {
        c->kind = TW_AK_UNTERMINATED;
        return;
    }
    const tw_an_side *first = &c->s[c->first_closer], *second = &c->s[1 - c->first_closer];
    if (any_rst &&
        (!any_fin || (first->rst && (!first->fin || first->rst_frame < first->fin_frame)))) {
        c->kind = TW_AK_ABORT;
    } else if (any_rst) {
        c->kind = TW_AK_FIN_RST;
    } else if (!(a->fin && b->fin)) {
        c->kind = TW_AK_UNTERMINATED;
    } else if (passed(a, TW_CLOSING) || passed(b, TW_CLOSING)) {
        c->kind = TW_AK_SIMULTANEOUS;
    } else if (second->data_after_peer_fin > 0) {
        c->kind = TW_AK_HALF_CLOSE;
    } else if (second->merged) {
        c->kind = TW_AK_THREE_WAY;
    } else {
        c->kind = TW_AK_FOUR_WAY;
    }
}

static uint64_t dwell_in(const tw_an_conn *c, int k, uint8_t state, uint64_t *from_frame,
                         bool *at_end) {
    const tw_an_side *s = &c->s[k];
    uint64_t total = 0;
    for (int i = 0; i < s->npath; i++) {
        if (s->path[i].state != state) continue;
        if (!total) *from_frame = s->path[i].frame;
        total += tw_an_dwell(c, k, i);
        *at_end = i == s->npath - 1;
    }
    return total;
}

static void diag_close_wait(tw_an_conn *c, const tw_an_opts *o) {
    for (int k = 0; k < 2; k++) {
        uint64_t from = 0;
        bool at_end = false;
        uint64_t d = dwell_in(c, k, TW_CLOSE_WAIT, &from, &at_end);
        if (d < o->close_wait_ns || !d) continue;
        const tw_an_side *s = &c->s[k];
        uint64_t fr[2] = {from, s->fin ? s->fin_frame : s->rst ? s->rst_frame : 0};
        add(c, TW_AD_LONG_CLOSE_WAIT, fr, 2,
            "long CLOSE_WAIT: the %s stayed %.3f s in CLOSE_WAIT (threshold %.3f s)%s: its "
            "application did not close after the peer's FIN",
            side_name(k), (double)d / 1e9, (double)o->close_wait_ns / 1e9,
            at_end ? ", still there at capture end" : "");
    }
}

static void diag_fins(tw_an_conn *c) {
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k];
        if (s->fin_retrans && s->fin_retrans_after_ack) {
            uint64_t fr[3] = {s->fin_frame, s->fin_ack_frame ? s->fin_ack_frame : 0,
                              s->fin_last_frame};
            add(c, TW_AD_FINAL_ACK_LOST, fr, 3,
                "final ACK lost: the %s's FIN was retransmitted %" PRIu32
                " time(s) although the capture saw its ACK: the ACK was lost after the capture "
                "point",
                side_name(k), s->fin_retrans);
        } else if (s->fin_retrans) {
            uint64_t fr[2] = {s->fin_frame, s->fin_last_frame};
            add(c, s->fin_acked ? TW_AD_FINAL_ACK_LOST : TW_AD_FIN_RETRANS, fr, 2,
                "FIN retransmitted %" PRIu32 " time(s) by the %s: %s", s->fin_retrans, side_name(k),
                s->fin_acked ? "its ACK (the final ACK) was lost or late before the capture point"
                             : "never ACKed in the capture");
        }
        if (s->fin_changed) {
            uint64_t fr[2] = {s->fin_frame, s->fin_changed_frame};
            add(c, TW_AD_FIN_SEQ_CHANGED, fr, 2,
                "protocol violation: the %s sent a FIN with another sequence number than its "
                "first FIN",
                side_name(k));
        }
        if (s->data_after_fin) {
            uint64_t fr[2] = {s->fin_frame, s->data_after_fin_frame};
            add(c, TW_AD_DATA_AFTER_FIN, fr, 2,
                "protocol violation: the %s sent %" PRIu64 " new byte(s) beyond its FIN",
                side_name(k), s->data_after_fin);
        }
    }
}

static void diag_kind(tw_an_conn *c) {
    if (c->first_closer < 0) return;
    int f = c->first_closer, g = 1 - f;
    const tw_an_side *a = &c->s[f], *b = &c->s[g];
    if (c->kind == TW_AK_THREE_WAY) {
        uint64_t fr[3] = {a->fin_frame, b->fin_frame, b->fin_ack_frame};
        add(c, TW_AD_THREE_WAY, fr, 3,
            "three-way close: the %s's FIN also carried the first ACK of the %s's FIN",
            side_name(g), side_name(f));
    } else if (c->kind == TW_AK_SIMULTANEOUS) {
        uint64_t fr[2] = {a->fin_frame, b->fin_frame};
        add(c, TW_AD_SIMULTANEOUS, fr, 2,
            "simultaneous close: both FINs were sent before either was received (CLOSING on %s)",
            passed(a, TW_CLOSING) && passed(b, TW_CLOSING) ? "both sides"
            : passed(a, TW_CLOSING)                        ? side_name(f)
                                                           : side_name(g));
    }
    if (b->data_after_peer_fin > 0 && a->fin) {
        uint64_t fr[3] = {a->fin_frame, b->data_after_peer_fin_frame, b->fin ? b->fin_frame : 0};
        add(c, TW_AD_HALF_CLOSE, fr, 3,
            "half-close: the %s sent %" PRIu64 " byte(s) after the %s's FIN%s", side_name(g),
            b->data_after_peer_fin, side_name(f), b->fin ? ", then its own FIN" : "");
    }
}

/* An RST sent from a synchronized state: the verdict of an_seg.c with the
 * frames that carry it (the peer's last data, the ACK that shows the
 * window, the window update, the RST). */
static void diag_rst_close(tw_an_conn *c, int k) {
    const tw_an_side *s = &c->s[k], *p = &c->s[1 - k];
    const char *st = tw_state_name(s->rst_state), *me = side_name(k), *peer = side_name(1 - k);
    const char *unit = s->rst_bytes_known ? "bytes" : "window units (scale not captured)";
    if (s->rst_verdict == TW_AN_RST_UNREAD) {
        uint64_t fr[3] = {p->last_data_frame, s->last_ack_frame, s->rst_frame};
        add(c, TW_AD_UNREAD_RST, fr, 3,
            "RST on close with unread data: the %s reset in %s holding the %s's data: its "
            "window fell from %" PRIu32 " to %" PRIu32 " %s as it ACKed them and never reopened "
            "(RFC 9293 3.10.4)",
            me, st, peer, s->rst_wnd_from, s->rst_wnd_to, unit);
    } else if (s->rst_verdict == TW_AN_RST_ABORT) {
        uint64_t fr[3] = {p->bytes ? p->last_data_frame : 0, p->bytes ? s->reopen_frame : 0,
                          s->rst_frame};
        add(c, TW_AD_ABORT, fr, 3,
            "abortive close (SO_LINGER 0): the %s sent an RST in %s instead of a FIN with "
            "nothing unread: %s",
            me, st,
            p->bytes ? "its window update after the peer's last data gave the room back"
                     : "the peer sent no data");
    } else {
        uint64_t fr[3] = {p->last_data_frame, s->have_ack ? s->last_ack_frame : 0, s->rst_frame};
        if (s->rst_pending)
            add(c, TW_AD_ABORT_OR_UNREAD, fr, 3,
                "RST in %s: abortive close or close with unread data: the %s never ACKed %" PRIu32
                " byte(s) of the %s's data, so the wire cannot tell whether they were read",
                st, me, s->rst_pending, peer);
        else
            add(c, TW_AD_ABORT_OR_UNREAD, fr, 3,
                "RST in %s: abortive close or close with unread data: the %s ACKed the %s's "
                "data but its window (%" PRIu32 " of %" PRIu32 " %s) neither reopened nor fell "
                "to half",
                st, me, peer, s->rst_wnd_to, s->rst_wnd_from, unit);
    }
}

static void diag_rst(tw_an_conn *c) {
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k], *p = &c->s[1 - k];
        if (s->rst) diag_rst_close(c, k);
        if (s->rst_in_tw) {
            uint64_t fr[2] = {p->rst_frame, s->rst_in_tw_frame};
            add(c, TW_AD_RST_IN_TW, fr, 2,
                "RST received in TIME_WAIT by the %s: a stack without RFC 1337 protection ends "
                "TIME_WAIT early (TIME_WAIT assassination hazard)",
                side_name(k));
        }
    }
}

static void diag_reuse(tw_an_conn *c) {
    if (c->reuse != TW_AN_REUSE_NONE) {
        uint64_t fr[2] = {c->reuse_syn_frame, c->reuse_answer_frame};
        add(c, TW_AD_TW_REUSE, fr, 2,
            "4-tuple reused while the %s held TIME_WAIT of incarnation %" PRIu32 ": the new SYN "
            "was %s",
            side_name(c->reuse_side), c->incarnation - 1,
            c->reuse == TW_AN_REUSE_ACCEPTED  ? "accepted (SYN+ACK)"
            : c->reuse == TW_AN_REUSE_REFUSED ? "refused (answered with an ACK or RST)"
                                              : "not answered in the capture");
    }
    if (c->reused_by_next) {
        uint64_t fr[1] = {c->next_syn_frame};
        add(c, TW_AD_TW_REUSE, fr, 1,
            "TIME_WAIT ended by a new SYN on the same 4-tuple (incarnation %" PRIu32 " follows)",
            c->incarnation + 1);
    }
}

/* A sender facing a zero window that never reopened (RFC 9293 §3.8.6.1:
 * it must keep probing, and may stay so for ever). With its FIN sent and
 * not ACKed it is stuck in FIN_WAIT_1. Without a FIN on the wire its probes
 * show data queued, and a close in that state also means FIN_WAIT_1: the
 * FIN waits behind that data, invisible on the wire. */
static void diag_zero_window(tw_an_conn *c, const tw_an_opts *o) {
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k], *p = &c->s[1 - k];
        bool fw1 = s->state == TW_FIN_WAIT_1 && !s->fin_acked;
        bool stuck = fw1 || (!s->fin && !s->rst && s->zw_probes > 0);
        if (!p->zero_wnd || !stuck || c->last_t < p->zero_wnd_t + o->zero_wnd_ns) continue;
        uint64_t fr[4] = {p->zero_wnd_frame, s->fin ? s->fin_frame : 0, s->zw_probe_frame,
                          s->fin ? s->fin_last_frame : 0};
        double secs = (double)(c->last_t - p->zero_wnd_t) / 1e9;
        if (fw1)
            add(c, TW_AD_ZERO_WINDOW, fr, 4,
                "stuck in FIN_WAIT_1 behind a zero window: the %s's FIN is not ACKed while the "
                "%s has offered window 0 for %.3f s; %" PRIu32 " probe(s)/retransmission(s)",
                side_name(k), side_name(1 - k), secs, s->zw_probes);
        else
            add(c, TW_AD_ZERO_WINDOW, fr, 4,
                "sender stuck behind a zero window: the %s has offered window 0 for %.3f s and "
                "the %s probed %" PRIu32 " time(s): data queued; if it closed, it is in "
                "FIN_WAIT_1 with its FIN behind that data (not on the wire)",
                side_name(1 - k), secs, side_name(k), s->zw_probes);
    }
}

static void diag_end(tw_an_conn *c, const tw_an_opts *o) {
    diag_zero_window(c, o);
    if (!c->at_capture_end) return;
    /* TIME_WAIT holders were moved to CLOSED (assumed, 2MSL) by now */
    bool open = false;
    for (int k = 0; k < 2; k++) {
        uint8_t st = c->s[k].state;
        open |= st != TW_CLOSED && st != TW_LISTEN;
    }
    if (open) {
        uint64_t fr[1] = {c->last_frame};
        add(c, TW_AD_UNTERMINATED, fr, 1, "unterminated at capture end: client in %s, server in %s",
            tw_state_name(c->s[0].state), tw_state_name(c->s[1].state));
    }
}

void tw_an_diagnose(tw_an_conn *c, const tw_an_opts *o) {
    c->ndiag = 0;
    decide_kind(c);
    diag_kind(c);
    diag_close_wait(c, o);
    diag_fins(c);
    diag_rst(c);
    diag_reuse(c);
    diag_end(c, o);
}

uint64_t tw_an_dwell(const tw_an_conn *c, int side, int k) {
    const tw_an_side *s = &c->s[side];
    if (k < 0 || k >= s->npath) return 0;
    if (k + 1 < s->npath)
        return s->path[k + 1].t > s->path[k].t ? s->path[k + 1].t - s->path[k].t : 0;
    if (s->path[k].state == TW_CLOSED || s->path[k].state == TW_LISTEN) return 0;
    return c->last_t > s->path[k].t ? c->last_t - s->path[k].t : 0;
}
