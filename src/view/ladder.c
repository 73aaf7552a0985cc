/* ladder.c - owns building a ladder (see ladder.h): the connection's events
 * in time order, segments matched to their arrivals and losses, and the
 * rows of the layout with their merge rules. Labels: ladder_label.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_stats.h>

#include "view/ladder_priv.h"

#define MATCH_WINDOW 4096 /* segments searched for an arrival's send */

typedef struct builder {
    const tw_vev *ev;
    tw_ladder *l;
    size_t cap_rows, cap_segs;
    size_t *idx;    /* event indices of the connection, in time order */
    int *side;      /* side of each of them */
    bool *lost;     /* SEG_OUT matched by a LINK_LOST */
    bool *consumed; /* LINK_LOST that matched a SEG_OUT */
    size_t nidx;
    size_t pending[2]; /* first segment of each direction that may still arrive */
    bool started[2];
    bool oom;
} builder;

typedef struct tkey {
    uint64_t t;
    size_t i;
} tkey;

static int cmp_tkey(const void *a, const void *b) {
    const tkey *x = a, *y = b;
    if (x->t != y->t) return x->t < y->t ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static bool same_seg(const tw_trace_ev *a, const tw_trace_ev *b) {
    return a->flags == b->flags && a->seq == b->seq && a->ack == b->ack && a->len == b->len &&
           a->wnd == b->wnd;
}

/* The connection's events, stably sorted by time. */
static int collect(builder *b, size_t n, const tw_vindex *ix, size_t conn) {
    size_t first = ix->conn_start[conn], m = ix->conn_start[conn + 1] - first;
    tkey *k = malloc((m ? m : 1) * sizeof *k);
    b->idx = malloc((m ? m : 1) * sizeof *b->idx);
    b->side = malloc((m ? m : 1) * sizeof *b->side);
    b->lost = calloc(m ? m : 1, sizeof *b->lost);
    b->consumed = calloc(m ? m : 1, sizeof *b->consumed);
    if (!k || !b->idx || !b->side || !b->lost || !b->consumed) {
        free(k);
        return -1;
    }
    size_t j = 0;
    for (size_t q = 0; q < m; q++) {
        size_t i = ix->ev_by_conn[first + q];
        if (i < n) k[j++] = (tkey){b->ev[i].ev.t, i};
    }
    qsort(k, j, sizeof *k, cmp_tkey);
    for (size_t q = 0; q < j; q++) {
        b->idx[q] = k[q].i;
        b->side[q] = tw_vindex_side(ix, conn, k[q].i);
    }
    b->nidx = j;
    free(k);
    return 0;
}

/* A loss reported by the link comes before the sender's SEG_OUT of the same
 * instant (the link sees the packet during the step, the trace after it):
 * pair them among the events of that instant. */
static void match_losses(builder *b) {
    for (size_t q = 0; q < b->nidx; q++) {
        const tw_trace_ev *e = &b->ev[b->idx[q]].ev;
        if (e->kind != TW_VEV_LINK_LOST) continue;
        size_t lo = q;
        while (lo > 0 && b->ev[b->idx[lo - 1]].ev.t == e->t) lo--;
        for (size_t j = lo; j < b->nidx && b->ev[b->idx[j]].ev.t == e->t; j++) {
            const tw_trace_ev *o = &b->ev[b->idx[j]].ev;
            if (o->kind == TW_EV_SEG_OUT && b->side[j] == b->side[q] && !b->lost[j] &&
                same_seg(o, e)) {
                b->lost[j] = true;
                b->consumed[q] = true;
                break;
            }
        }
    }
}

static tw_lrow *new_row(builder *b, uint64_t t) {
    tw_ladder *l = b->l;
    if (l->nrows == b->cap_rows) {
        size_t ncap = b->cap_rows ? b->cap_rows * 2 : 64;
        tw_lrow *r = realloc(l->rows, ncap * sizeof *r);
        if (!r) {
            b->oom = true;
            return NULL;
        }
        l->rows = r;
        b->cap_rows = ncap;
    }
    tw_lrow *r = &l->rows[l->nrows++];
    memset(r, 0, sizeof *r);
    r->t = t;
    r->state[0] = r->state[1] = -1;
    r->seg = -1;
    r->note_side = -1;
    return r;
}

/* The last row when it is at time t and nothing on it concerns the other
 * side, so an item of side s may join it; else a new row. */
static tw_lrow *row_for(builder *b, int s, uint64_t t, bool need_no_state) {
    tw_ladder *l = b->l;
    if (l->nrows) {
        tw_lrow *r = &l->rows[l->nrows - 1];
        if (r->t == t && r->seg < 0 && r->note_side < 0 && r->state[1 - s] < 0 &&
            !r->arrival[1 - s] && !(need_no_state && r->state[s] >= 0))
            return r;
    }
    return new_row(b, t);
}

static int new_seg(builder *b, int from, const tw_trace_ev *e) {
    tw_ladder *l = b->l;
    if (l->nsegs == b->cap_segs) {
        size_t ncap = b->cap_segs ? b->cap_segs * 2 : 64;
        tw_lseg *s = realloc(l->segs, ncap * sizeof *s);
        if (!s) {
            b->oom = true;
            return -1;
        }
        l->segs = s;
        b->cap_segs = ncap;
    }
    tw_lseg *s = &l->segs[l->nsegs];
    memset(s, 0, sizeof *s);
    s->from = from;
    s->t_send = s->t_recv = e->t;
    s->flags = e->flags;
    s->seq = e->seq;
    s->ack = e->ack;
    s->len = e->len;
    s->wnd = e->wnd;
    s->send_row = s->recv_row = -1;
    if (e->meta & TW_SEGMETA_RETRANS) s->marks |= TW_LM_RETRANS;
    if (e->meta & TW_SEGMETA_PROBE) s->marks |= TW_LM_PROBE;
    if (e->meta & TW_SEGMETA_CHALLENGE) s->marks |= TW_LM_CHALLENGE;
    if (e->meta & TW_SEGMETA_TW) s->marks |= TW_LM_TW;
    return (int)l->nsegs++;
}

/* A segment drawn from `from` on a row of its own time. */
static int place_seg(builder *b, int from, const tw_trace_ev *e, unsigned marks) {
    int k = new_seg(b, from, e);
    if (k < 0) return -1;
    tw_lrow *r = row_for(b, from, e->t, false);
    if (!r) return -1;
    r->seg = k;
    b->l->segs[k].marks |= marks;
    b->l->segs[k].send_row = (int)(r - b->l->rows);
    return k;
}

/* SEG_IN at side s: the earliest unarrived segment from the other side with
 * the same fields, else a duplicate or a segment of an untraced sender. */
static void on_arrival(builder *b, int s, const tw_trace_ev *e) {
    tw_ladder *l = b->l;
    int dir = 1 - s;
    while (b->pending[dir] < l->nsegs &&
           (l->segs[b->pending[dir]].from != dir || l->segs[b->pending[dir]].recv_row >= 0 ||
            (l->segs[b->pending[dir]].marks & TW_LM_LOST)))
        b->pending[dir]++;
    size_t end =
        b->pending[dir] + MATCH_WINDOW < l->nsegs ? b->pending[dir] + MATCH_WINDOW : l->nsegs;
    for (size_t k = b->pending[dir]; k < end; k++) {
        tw_lseg *g = &l->segs[k];
        if (g->from != dir || g->recv_row >= 0 || (g->marks & TW_LM_LOST) || g->t_send > e->t)
            continue;
        if (g->flags != e->flags || g->seq != e->seq || g->ack != e->ack || g->len != e->len ||
            g->wnd != e->wnd)
            continue;
        tw_lrow *r = row_for(b, s, e->t, true);
        if (!r) return;
        r->arrival[s] = true;
        g->recv_row = (int)(r - l->rows);
        g->t_recv = e->t;
        return;
    }
    unsigned mark = l->traced[dir] ? TW_LM_DUP : TW_LM_NO_SENDER;
    int k = place_seg(b, dir, e, mark);
    if (k >= 0) l->segs[k].recv_row = l->segs[k].send_row;
}

static void note(builder *b, int s, uint64_t t, const char *text) {
    tw_lrow *r = row_for(b, s, t, true); /* after a state: its own row, not read as its cause */
    if (!r) return;
    r->note_side = s;
    snprintf(r->note, sizeof r->note, "%s", text);
}

static void on_timer(builder *b, int s, const tw_trace_ev *e) {
    static const char *const what[TW_TIMER__COUNT] = {
        [TW_TIMER_RETRANSMIT] = "RTO fired",       [TW_TIMER_DELACK] = "delayed-ACK timer",
        [TW_TIMER_PERSIST] = "persist timer",      [TW_TIMER_FIN_WAIT_2] = "FIN_WAIT_2 timer",
        [TW_TIMER_KEEPALIVE] = "keep-alive timer", [TW_TIMER_USER] = "user timeout",
    };
    if (e->cause < TW_TIMER__COUNT && what[e->cause]) note(b, s, e->t, what[e->cause]);
}

static void on_user(builder *b, int s, const tw_trace_ev *e) {
    static const char *const what[TW_CALL__COUNT] = {
        [TW_CALL_CONNECT] = "connect()",   [TW_CALL_LISTEN] = "listen()",
        [TW_CALL_SHUTDOWN] = "shutdown()", [TW_CALL_CLOSE] = "close()",
        [TW_CALL_ABORT] = "abort()",
    };
    if (e->cause < TW_CALL__COUNT && what[e->cause]) note(b, s, e->t, what[e->cause]);
}

static void on_event(builder *b, size_t q) {
    const tw_vev *v = &b->ev[b->idx[q]];
    const tw_trace_ev *e = &v->ev;
    int s = b->side[q];
    if (!b->started[s] && e->conn_id != 0 && e->kind != TW_VEV_LINK_LOST) {
        b->started[s] = true;
        b->l->init_state[s] = e->old_state;
    }
    char buf[64];
    switch (e->kind) {
    case TW_EV_STATE: {
        tw_lrow *r = row_for(b, s, e->t, true);
        if (r) r->state[s] = e->new_state;
        break;
    }
    case TW_EV_SEG_OUT: place_seg(b, s, e, b->lost[q] ? TW_LM_LOST : 0); break;
    case TW_VEV_LINK_LOST:
        if (!b->consumed[q]) place_seg(b, s, e, TW_LM_LOST);
        break;
    case TW_EV_SEG_IN: on_arrival(b, s, e); break;
    case TW_EV_DROP: {
        const char *name = tw_counter_name(e->reason);
        snprintf(buf, sizeof buf, "drop: %s", name ? name : "?");
        note(b, s, e->t, buf);
        break;
    }
    case TW_EV_TIMER: on_timer(b, s, e); break;
    case TW_EV_USER: on_user(b, s, e); break;
    default: break;
    }
}

static void describe_sides(tw_ladder *l, const tw_vindex *ix, size_t conn) {
    const tw_vconn *c = &ix->c[conn];
    for (int k = 0; k < 2; k++) {
        const tw_vhalf *h = c->half[k] >= 0 ? &ix->h[c->half[k]] : NULL;
        const tw_vhalf *o = c->half[1 - k] >= 0 ? &ix->h[c->half[1 - k]] : NULL;
        char a[16];
        l->traced[k] = h != NULL;
        l->init_state[k] = -1;
        if (h && h->host_name[0])
            snprintf(l->name[k], sizeof l->name[k], "%s", h->host_name);
        else if (h)
            snprintf(l->name[k], sizeof l->name[k], "host%u", (unsigned)h->host);
        else
            snprintf(l->name[k], sizeof l->name[k], "peer");
        if (h)
            snprintf(l->addr[k], sizeof l->addr[k], "%s:%u", tw_vev_addr_str(h->laddr, a, sizeof a),
                     (unsigned)h->lport);
        else if (o)
            snprintf(l->addr[k], sizeof l->addr[k], "%s:%u", tw_vev_addr_str(o->raddr, a, sizeof a),
                     (unsigned)o->rport);
    }
}

int tw_ladder_build(const tw_vev *ev, size_t n, const tw_vindex *ix, size_t conn, tw_seqmode mode,
                    tw_ladder *out) {
    memset(out, 0, sizeof *out);
    if (conn >= ix->nc) return -1;
    builder b;
    memset(&b, 0, sizeof b);
    b.ev = ev;
    b.l = out;
    out->conn_no = conn + 1;
    out->mode = mode;
    describe_sides(out, ix, conn);
    int rc = collect(&b, n, ix, conn);
    if (rc == 0) {
        match_losses(&b);
        for (size_t q = 0; q < b.nidx && !b.oom; q++) on_event(&b, q);
        rc = b.oom ? -1 : 0;
    }
    free(b.idx);
    free(b.side);
    free(b.lost);
    free(b.consumed);
    if (rc) {
        tw_ladder_free(out);
        return -1;
    }
    for (size_t k = 0; k < out->nsegs; k++) {
        tw_lseg *s = &out->segs[k];
        if (s->recv_row < 0 && !(s->marks & TW_LM_LOST) && out->traced[1 - s->from])
            s->marks |= TW_LM_NO_ARRIVAL;
    }
    tw_ladder_label(out);
    return 0;
}

void tw_ladder_free(tw_ladder *l) {
    free(l->segs);
    free(l->rows);
    memset(l, 0, sizeof *l);
}

bool tw_ladder_row_visible(const tw_lrow *r) {
    return r->state[0] >= 0 || r->state[1] >= 0 || r->seg >= 0 || r->note_side >= 0;
}
