/* an_ladder.c - owns turning one captured connection into trace events, so
 * src/view draws its ladder and lifecycle exactly as for tcpwave's own
 * traces: each packet is a SEG_OUT on its sender and a SEG_IN on its
 * receiver at the capture time, each inferred move a STATE event (the
 * sender's moves before its segment, the receiver's after it). The client
 * is host 0, the server host 1; both use conn id 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "wire/tcp_hdr.h"

static int push_lev(tw_an_levs *l, const tw_an_lev *e) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        tw_an_lev *v = realloc(l->v, cap * sizeof *v);
        if (!v) return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = *e;
    return 0;
}

static void base(tw_vev *v, const tw_an_conn *c, int host, int kind, uint64_t t) {
    memset(v, 0, sizeof *v);
    v->host = (uint16_t)host;
    snprintf(v->host_name, sizeof v->host_name, "%s", host == 0 ? "client" : "server");
    v->ev.t = t;
    v->ev.conn_id = 1;
    v->ev.kind = (uint8_t)kind;
    v->ev.laddr = c->s[host].addr;
    v->ev.lport = c->s[host].port;
    v->ev.raddr = c->s[1 - host].addr;
    v->ev.rport = c->s[1 - host].port;
}

int tw_an_ladder_seg(tw_an_levs *l, const tw_an_conn *c, int from, const tw_an_pkt *p) {
    tw_an_lev e;
    memset(&e, 0, sizeof e);
    e.frame = p->frame;
    for (int k = 0; k < 2; k++) {
        int host = k == 0 ? from : 1 - from;
        e.stage = k == 0 ? 1 : 2;
        base(&e.v, c, host, k == 0 ? TW_EV_SEG_OUT : TW_EV_SEG_IN, p->t);
        e.v.ev.flags = p->flags;
        e.v.ev.seq = p->seq;
        e.v.ev.ack = p->ack;
        e.v.ev.len = p->len;
        e.v.ev.wnd = p->wnd;
        if ((p->flags & TW_TH_FIN) && c->s[from].fin && c->s[from].fin_frame != p->frame &&
            p->seq + p->len + 1 == c->s[from].fin_seq + 1)
            e.v.ev.meta = TW_SEGMETA_RETRANS;
        if (push_lev(l, &e)) return -1;
    }
    return 0;
}

static int cmp_lev(const void *x, const void *y) {
    const tw_an_lev *a = x, *b = y;
    if (a->v.ev.t != b->v.ev.t) return a->v.ev.t < b->v.ev.t ? -1 : 1;
    if (a->frame != b->frame) return a->frame < b->frame ? -1 : 1;
    return a->stage - b->stage;
}

int tw_an_ladder_finish(tw_an_levs *l, const tw_an_conn *c, tw_vev_list *out) {
    for (int h = 0; h < 2; h++) {
        const tw_an_side *s = &c->s[h];
        for (int k = 1; k < s->npath; k++) {
            tw_an_lev e;
            memset(&e, 0, sizeof e);
            e.frame = s->path[k].frame;
            e.stage = s->path[k].by_recv ? 3 : 0;
            base(&e.v, c, h, TW_EV_STATE, s->path[k].t);
            e.v.ev.old_state = s->path[k - 1].state;
            e.v.ev.new_state = s->path[k].state;
            e.v.ev.cause = s->path[k].cause;
            if (push_lev(l, &e)) return -1;
        }
    }
    qsort(l->v, l->n, sizeof l->v[0], cmp_lev);
    uint8_t cur[2] = {c->s[0].path[0].state, c->s[1].path[0].state};
    for (size_t i = 0; i < l->n; i++) {
        tw_vev *v = &l->v[i].v;
        if (v->ev.kind == TW_EV_STATE) {
            cur[v->host] = v->ev.new_state;
            continue;
        }
        v->ev.old_state = v->ev.new_state = cur[v->host];
    }
    for (size_t i = 0; i < l->n; i++)
        if (tw_vev_list_push(out, &l->v[i].v)) return -1;
    l->n = 0;
    return 0;
}
