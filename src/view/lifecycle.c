/* lifecycle.c - owns the per-connection fold of lifecycle.h: state path,
 * dwell times, segment counts and the close reason, and their text. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "view/lifecycle.h"

void tw_lc_init(tw_lc *lc) {
    memset(lc, 0, sizeof *lc);
}

void tw_lc_free(tw_lc *lc) {
    free(lc->h);
    memset(lc, 0, sizeof *lc);
}

/* Latest-first linear search: the connections a trace talks about at any
 * moment are few and recent. */
static tw_lc_half *find(const tw_lc *lc, uint16_t host, uint32_t conn_id) {
    for (size_t i = lc->n; i-- > 0;)
        if (lc->h[i].host == host && lc->h[i].conn_id == conn_id) return &lc->h[i];
    return NULL;
}

const tw_lc_half *tw_lc_find(const tw_lc *lc, uint16_t host, uint32_t conn_id) {
    return find(lc, host, conn_id);
}

static tw_lc_half *add(tw_lc *lc, uint16_t host, uint32_t conn_id, uint64_t t) {
    if (lc->n == lc->cap) {
        size_t ncap = lc->cap ? lc->cap * 2 : 16;
        tw_lc_half *n = realloc(lc->h, ncap * sizeof *n);
        if (!n) return NULL;
        lc->h = n;
        lc->cap = ncap;
    }
    tw_lc_half *h = &lc->h[lc->n++];
    memset(h, 0, sizeof *h);
    h->host = host;
    h->conn_id = conn_id;
    h->first_t = h->end_t = t;
    return h;
}

static void push_path(tw_lc_half *h, uint8_t s) {
    if (h->npath < TW_LC_PATH_MAX)
        h->path[h->npath++] = s;
    else
        h->path_cut = true;
}

static void decide(tw_lc_half *h, uint8_t from, uint8_t cause) {
    h->reason_state = from;
    h->reason_cause = cause;
    switch (cause) {
    case TW_CAUSE_USER_ABORT: h->reason = TW_CR_ABORT_SENT; break;
    case TW_CAUSE_USER_CLOSE_UNREAD: h->reason = TW_CR_UNREAD_RST; break;
    case TW_CAUSE_RCV_DATA_AFTER_CLOSE: h->reason = TW_CR_DATA_AFTER_CLOSE; break;
    case TW_CAUSE_RCV_RST: h->reason = TW_CR_RESET_RECEIVED; break;
    case TW_CAUSE_TIMEOUT_RETRANSMIT:
    case TW_CAUSE_TIMEOUT_KEEPALIVE:
    case TW_CAUSE_TIMEOUT_USER: h->reason = TW_CR_TIMEOUT; break;
    case TW_CAUSE_TIMEOUT_FIN_WAIT_2: h->reason = TW_CR_FW2_TIMEOUT; break;
    case TW_CAUSE_TIMEOUT_2MSL:
    case TW_CAUSE_TW_OVERFLOW:
        h->reason = h->closing_seen ? TW_CR_SIMULTANEOUS : TW_CR_ACTIVE;
        break;
    case TW_CAUSE_TW_REUSE:
        h->reason = h->closing_seen ? TW_CR_SIMULTANEOUS : TW_CR_ACTIVE_REUSED;
        break;
    case TW_CAUSE_RCV_ACK_OF_FIN:
        h->reason = from == TW_LAST_ACK ? TW_CR_PASSIVE : TW_CR_OTHER;
        break;
    default: h->reason = TW_CR_OTHER; break;
    }
}

static void on_state(tw_lc_half *h, const tw_trace_ev *v) {
    if (!h->started) {
        h->started = true;
        h->state = v->old_state;
        h->since = v->t;
        push_path(h, v->old_state);
    }
    if (h->state < TW_STATE__COUNT && v->t >= h->since) h->dwell[h->state] += v->t - h->since;
    h->state = v->new_state;
    h->since = v->t;
    push_path(h, v->new_state);
    if (v->new_state == TW_CLOSING) h->closing_seen = true;
    if (v->old_state == TW_FIN_WAIT_1 && v->new_state == TW_TIME_WAIT) h->merged_fin_ack = true;
    if (v->new_state == TW_CLOSED) {
        decide(h, v->old_state, v->cause);
        h->end_t = v->t;
    } else {
        h->reason = TW_CR_OPEN;
        h->reason_state = v->new_state;
    }
}

int tw_lc_feed(tw_lc *lc, const tw_vev *e) {
    const tw_trace_ev *v = &e->ev;
    if (v->conn_id == 0 || v->kind == TW_VEV_LINK_LOST) return 0;
    tw_lc_half *h = find(lc, e->host, v->conn_id);
    if (!h && !(h = add(lc, e->host, v->conn_id, v->t))) return -1;
    if (h->reason == TW_CR_OPEN && v->t > h->end_t) h->end_t = v->t;
    switch (v->kind) {
    case TW_EV_STATE: on_state(h, v); break;
    case TW_EV_SEG_OUT:
        h->segs_out++;
        if (v->meta & TW_SEGMETA_RETRANS) h->retrans++;
        break;
    case TW_EV_SEG_IN: h->segs_in++; break;
    case TW_EV_DROP: h->drops++; break;
    default: break;
    }
    return 0;
}

const char *tw_close_reason_name(int r) {
    static const char *const names[TW_CR__COUNT] = {
        "still open",
        "active close",
        "active close (TIME_WAIT reused)",
        "passive close",
        "simultaneous close",
        "abort sent",
        "RST on close with unread data",
        "RST for data after close",
        "reset received",
        "timeout",
        "FIN_WAIT_2 timeout",
        "closed",
    };
    return r >= 0 && r < TW_CR__COUNT ? names[r] : "?";
}

const char *tw_lc_reason_text(const tw_lc_half *h, char *buf, size_t cap) {
    const char *st = tw_state_name(h->reason_state);
    switch (h->reason) {
    case TW_CR_OPEN:
        if (!h->started)
            snprintf(buf, cap, "no state change in the trace");
        else
            snprintf(buf, cap, "still open: in %s at the end of the trace", st);
        break;
    case TW_CR_ACTIVE:
        snprintf(buf, cap, "active close: sent the first FIN, held TIME_WAIT for 2MSL");
        break;
    case TW_CR_ACTIVE_REUSED:
        snprintf(buf, cap,
                 "active close: sent the first FIN; TIME_WAIT ended early by a new SYN (reuse)");
        break;
    case TW_CR_PASSIVE:
        snprintf(buf, cap, "passive close: the peer's FIN came first (CLOSE_WAIT, LAST_ACK)");
        break;
    case TW_CR_SIMULTANEOUS:
        snprintf(buf, cap, "simultaneous close: FINs crossed (CLOSING), then TIME_WAIT");
        break;
    case TW_CR_ABORT_SENT: snprintf(buf, cap, "abort sent: RST from %s, no TIME_WAIT", st); break;
    case TW_CR_UNREAD_RST:
        snprintf(buf, cap, "abort sent: closed in %s with unread data, RST instead of FIN", st);
        break;
    case TW_CR_DATA_AFTER_CLOSE:
        snprintf(buf, cap, "abort sent: data arrived after close in %s, RST", st);
        break;
    case TW_CR_RESET_RECEIVED: snprintf(buf, cap, "reset received in %s", st); break;
    case TW_CR_TIMEOUT:
        snprintf(buf, cap, "timeout in state %s: %s", st, tw_cause_desc(h->reason_cause));
        break;
    case TW_CR_FW2_TIMEOUT: snprintf(buf, cap, "timeout in state %s: FIN_WAIT_2 timer", st); break;
    default: snprintf(buf, cap, "closed in %s (%s)", st, tw_cause_desc(h->reason_cause)); break;
    }
    return buf;
}

static bool is_active(int r) {
    return r == TW_CR_ACTIVE || r == TW_CR_ACTIVE_REUSED;
}
static bool is_abort(int r) {
    return r == TW_CR_ABORT_SENT || r == TW_CR_UNREAD_RST || r == TW_CR_DATA_AFTER_CLOSE;
}

const char *tw_lc_conn_text(const tw_lc_half *l, const tw_lc_half *r, const char *ln,
                            const char *rn, char *buf, size_t cap) {
    char one[160];
    if (!l || !r) {
        const tw_lc_half *h = l ? l : r;
        if (!h)
            snprintf(buf, cap, "no events");
        else
            snprintf(buf, cap, "%s: %s", l ? ln : rn, tw_lc_reason_text(h, one, sizeof one));
        return buf;
    }
    const tw_lc_half *side[2] = {l, r};
    const char *name[2] = {ln, rn};
    for (int k = 0; k < 2; k++) {
        const tw_lc_half *a = side[k], *b = side[1 - k];
        if (is_active(a->reason) && b->reason == TW_CR_PASSIVE) {
            snprintf(buf, cap, "%s, %s closed first",
                     a->merged_fin_ack ? "three-way close (FIN+ACK merged)" : "four-way close",
                     name[k]);
            return buf;
        }
        if (is_abort(a->reason)) {
            snprintf(buf, cap, "%s reset the connection (%s); %s: %s", name[k],
                     tw_close_reason_name(a->reason), name[1 - k], tw_close_reason_name(b->reason));
            return buf;
        }
    }
    if (l->reason == TW_CR_SIMULTANEOUS && r->reason == TW_CR_SIMULTANEOUS) {
        snprintf(buf, cap, "simultaneous close: both sent FIN before receiving the other's");
        return buf;
    }
    snprintf(buf, cap, "%s: %s; %s: %s", ln, tw_close_reason_name(l->reason), rn,
             tw_close_reason_name(r->reason));
    return buf;
}

const char *tw_lc_dur(uint64_t ns, char *buf, size_t cap) {
    if (ns < 1000u)
        snprintf(buf, cap, "%" PRIu64 " ns", ns);
    else if (ns < 1000000u)
        snprintf(buf, cap, "%" PRIu64 ".%03" PRIu64 " us", ns / 1000u, ns % 1000u);
    else if (ns < 1000000000u)
        snprintf(buf, cap, "%" PRIu64 ".%03" PRIu64 " ms", ns / 1000000u, (ns / 1000u) % 1000u);
    else
        snprintf(buf, cap, "%" PRIu64 ".%06" PRIu64 " s", ns / 1000000000u,
                 (ns / 1000u) % 1000000u);
    return buf;
}

static void format_dwell(tw_sbuf *out, const tw_lc_half *h) {
    bool done[TW_STATE__COUNT] = {false};
    char d[40];
    int printed = 0;
    for (int i = 1; i < h->npath; i++) { /* path[0] is where the trace found it */
        uint8_t s = h->path[i];
        if (s >= TW_STATE__COUNT || s == TW_CLOSED || done[s]) continue;
        done[s] = true;
        uint64_t ns = h->dwell[s];
        bool open = h->reason == TW_CR_OPEN && s == h->state;
        if (open) ns += h->end_t >= h->since ? h->end_t - h->since : 0;
        tw_sbuf_printf(out, "%s%s %s%s", printed++ ? ", " : "", tw_state_name(s),
                       tw_lc_dur(ns, d, sizeof d), open ? "+ (open)" : "");
    }
    if (h->path_cut) tw_sbuf_puts(out, ", ...");
    if (!printed) tw_sbuf_puts(out, "(no state change)");
}

void tw_lc_format(tw_sbuf *out, const char *indent, const tw_lc_half *h[2],
                  const char *const label[2], const char *const name[2]) {
    char buf[256];
    tw_sbuf_printf(out, "%sclose: %s\n", indent,
                   tw_lc_conn_text(h[0], h[1], name[0], name[1], buf, sizeof buf));
    for (int k = 0; k < 2; k++) {
        if (!h[k]) continue;
        tw_sbuf_printf(out, "%s  %s: %s\n", indent, label[k],
                       tw_lc_reason_text(h[k], buf, sizeof buf));
        tw_sbuf_printf(out, "%s    dwell: ", indent);
        format_dwell(out, h[k]);
        tw_sbuf_printf(out,
                       "\n%s    segments: %" PRIu32 " sent (%" PRIu32 " retransmitted), %" PRIu32
                       " received, %" PRIu32 " dropped\n",
                       indent, h[k]->segs_out, h[k]->retrans, h[k]->segs_in, h[k]->drops);
    }
}
