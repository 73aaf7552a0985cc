/* an_conn.c - owns the analyzer's connection table and the per-endpoint
 * close state machines: a hash of 4-tuples to the current incarnation,
 * the rules that start a new incarnation (a SYN that is not a
 * retransmission of the current one's), the effect of each captured segment
 * on its sender and on its receiver (see analyze.h for the marks), and the
 * retirement of records 2MSL after their last packet or at capture end. */
#include <stdlib.h>
#include <string.h>

#include "analyze.h"
#include "wire/seq.h"
#include "wire/tcp_hdr.h"

struct tw_an {
    tw_an_opts o;
    tw_an_conn_fn fn;
    void *ctx;
    tw_an_conn **bucket;
    size_t nbucket, nconn;
    tw_an_conn *all_head, *all_tail; /* in number order */
    uint64_t count, now, last_sweep;
    uint64_t t0; /* the capture's first TCP frame, for relative times */
    bool have_t0;
    tw_an_levs levs;    /* segments of the ladder connection */
    tw_vev_list ladder; /* its events, once it finished */
    bool ladder_done;
    bool oom;
};

void tw_an_opts_default(tw_an_opts *o) {
    memset(o, 0, sizeof *o);
    o->close_wait_ns = 5000000000ull;
    o->msl_ns = 30000000000ull;
    o->zero_wnd_ns = 5000000000ull;
}

int tw_an_new(const tw_an_opts *o, tw_an_conn_fn fn, void *ctx, tw_an **out) {
    tw_an *a = calloc(1, sizeof *a);
    if (!a) return -1;
    a->o = *o;
    a->fn = fn;
    a->ctx = ctx;
    a->nbucket = 256;
    a->bucket = calloc(a->nbucket, sizeof *a->bucket);
    if (!a->bucket) {
        free(a);
        return -1;
    }
    tw_vev_list_init(&a->ladder);
    *out = a;
    return 0;
}

static size_t hash_tuple(uint32_t a1, uint16_t p1, uint32_t a2, uint16_t p2) {
    /* symmetric: both directions of a connection land in one bucket */
    uint64_t x = ((uint64_t)a1 << 16 | p1) ^ ((uint64_t)a2 << 16 | p2);
    x ^= x >> 29;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 32;
    return (size_t)x;
}

static int side_of(const tw_an_conn *c, const tw_an_pkt *p) {
    if (c->s[0].addr == p->src && c->s[0].port == p->sport && c->s[1].addr == p->dst &&
        c->s[1].port == p->dport)
        return 0;
    if (c->s[1].addr == p->src && c->s[1].port == p->sport && c->s[0].addr == p->dst &&
        c->s[0].port == p->dport)
        return 1;
    return -1;
}

static tw_an_conn *lookup(tw_an *a, const tw_an_pkt *p) {
    size_t b = hash_tuple(p->src, p->sport, p->dst, p->dport) & (a->nbucket - 1);
    for (tw_an_conn *c = a->bucket[b]; c; c = c->next_in_bucket)
        if (side_of(c, p) >= 0) return c;
    return NULL;
}

static void unlink_conn(tw_an *a, tw_an_conn *c) {
    size_t b =
        hash_tuple(c->s[0].addr, c->s[0].port, c->s[1].addr, c->s[1].port) & (a->nbucket - 1);
    for (tw_an_conn **pp = &a->bucket[b]; *pp; pp = &(*pp)->next_in_bucket)
        if (*pp == c) {
            *pp = c->next_in_bucket;
            break;
        }
    if (c->prev_all)
        c->prev_all->next_all = c->next_all;
    else
        a->all_head = c->next_all;
    if (c->next_all)
        c->next_all->prev_all = c->prev_all;
    else
        a->all_tail = c->prev_all;
    a->nconn--;
}

static int grow(tw_an *a) {
    size_t n = a->nbucket * 2;
    tw_an_conn **nb = calloc(n, sizeof *nb);
    if (!nb) return -1;
    for (tw_an_conn *c = a->all_head; c; c = c->next_all) {
        size_t b = hash_tuple(c->s[0].addr, c->s[0].port, c->s[1].addr, c->s[1].port) & (n - 1);
        c->next_in_bucket = nb[b];
        nb[b] = c;
    }
    free(a->bucket);
    a->bucket = nb;
    a->nbucket = n;
    return 0;
}

void tw_an_side_push(tw_an_side *s, uint8_t state, uint8_t mark, uint8_t cause, uint64_t t,
                     uint64_t frame, bool by_recv) {
    s->state = state;
    if (s->npath == TW_AN_PATH_MAX) {
        /* keep the first and the latest moves */
        memmove(&s->path[1], &s->path[2], (TW_AN_PATH_MAX - 2) * sizeof s->path[0]);
        s->npath--;
    }
    tw_an_step *st = &s->path[s->npath++];
    memset(st, 0, sizeof *st);
    st->state = state;
    st->mark = mark;
    st->cause = cause;
    st->t = t;
    st->frame = frame;
    st->by_recv = by_recv;
}

static uint64_t tw_end(const tw_an_conn *c, const tw_an_opts *o, int k) {
    const tw_an_side *s = &c->s[k], *peer = &c->s[1 - k];
    uint64_t t = s->path[s->npath - 1].t;
    /* a retransmitted FIN restarts 2MSL */
    if (peer->fin && peer->fin_retrans && c->last_t > t) t = c->last_t;
    return t + 2 * o->msl_ns;
}

/* Hands a record to the caller and frees it. */
static void retire(tw_an *a, tw_an_conn *c, bool capture_end) {
    unlink_conn(a, c);
    c->at_capture_end = capture_end;
    for (int k = 0; k < 2; k++) {
        tw_an_side *s = &c->s[k];
        if (s->state != TW_TIME_WAIT) continue;
        if (c->reused_by_next)
            tw_an_side_push(s, TW_CLOSED, TW_AN_INFERRED, TW_CAUSE_TW_REUSE,
                            c->last_t > s->path[s->npath - 1].t ? c->last_t
                                                                : s->path[s->npath - 1].t,
                            c->next_syn_frame, true);
        else
            tw_an_side_push(s, TW_CLOSED, TW_AN_ASSUMED, TW_CAUSE_TIMEOUT_2MSL, tw_end(c, &a->o, k),
                            c->last_frame, true);
    }
    tw_an_diagnose(c, &a->o);
    if (a->o.ladder_conn == c->no && !a->ladder_done) {
        if (tw_an_ladder_finish(&a->levs, c, &a->ladder)) a->oom = true;
        a->ladder_done = true;
    }
    if (a->fn) a->fn(a->ctx, c);
    free(c);
}

static bool quiet_state(uint8_t s) {
    return s == TW_CLOSED || s == TW_TIME_WAIT || s == TW_LISTEN;
}

/* Retires records that can see no more packets: both ends closed (or in
 * TIME_WAIT) and 2MSL passed since their last packet. */
static void sweep(tw_an *a) {
    for (tw_an_conn *c = a->all_head, *n; c; c = n) {
        n = c->next_all;
        if (quiet_state(c->s[0].state) && quiet_state(c->s[1].state) &&
            a->now > c->last_t + 2 * a->o.msl_ns)
            retire(a, c, false);
    }
}

static tw_an_conn *create(tw_an *a, const tw_an_pkt *p) {
    if (a->nconn + 1 > a->nbucket && grow(a)) return NULL;
    tw_an_conn *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->no = ++a->count;
    c->incarnation = 1;
    c->first_frame = p->frame;
    c->first_t = p->t;
    c->capture_t0 = a->t0;
    c->first_closer = -1;
    /* side 0: the client. A SYN's sender, a SYN+ACK's receiver; mid-stream,
     * the side with the higher port (servers mostly listen on low ones). */
    bool sender_client;
    if ((p->flags & TW_TH_SYN) && !(p->flags & TW_TH_ACK))
        sender_client = true;
    else if (p->flags & TW_TH_SYN)
        sender_client = false;
    else
        sender_client = p->sport > p->dport;
    int cs = sender_client ? 0 : 1;
    c->s[cs].addr = p->src;
    c->s[cs].port = p->sport;
    c->s[1 - cs].addr = p->dst;
    c->s[1 - cs].port = p->dport;
    c->syn_seen = (p->flags & TW_TH_SYN) != 0;
    uint8_t init0 = TW_ESTABLISHED, init1 = TW_ESTABLISHED;
    if (c->syn_seen) {
        init0 = (p->flags & TW_TH_ACK) ? TW_SYN_SENT : TW_CLOSED;
        init1 = TW_LISTEN;
    }
    tw_an_side_push(&c->s[0], init0, TW_AN_ASSUMED, TW_CAUSE_NONE, p->t, p->frame, false);
    tw_an_side_push(&c->s[1], init1, TW_AN_ASSUMED, TW_CAUSE_NONE, p->t, p->frame, false);
    size_t b = hash_tuple(p->src, p->sport, p->dst, p->dport) & (a->nbucket - 1);
    c->next_in_bucket = a->bucket[b];
    a->bucket[b] = c;
    c->prev_all = a->all_tail;
    if (a->all_tail)
        a->all_tail->next_all = c;
    else
        a->all_head = c;
    a->all_tail = c;
    a->nconn++;
    return c;
}

/* A SYN (no ACK) on a known 4-tuple: a new incarnation unless it repeats
 * the current one's SYN. */
static bool new_incarnation(const tw_an_conn *c, int si, const tw_an_pkt *p) {
    if (!(p->flags & TW_TH_SYN) || (p->flags & TW_TH_ACK)) return false;
    const tw_an_side *s = &c->s[si];
    if (s->have_isn && s->isn == p->seq && !s->fin && !s->rst) return false;
    return true;
}

static tw_an_conn *start_incarnation(tw_an *a, tw_an_conn *old, const tw_an_pkt *p) {
    int tw_side = -1;
    for (int k = 0; k < 2; k++)
        if (old->s[k].state == TW_TIME_WAIT) tw_side = k;
    uint32_t tw_addr = tw_side >= 0 ? old->s[tw_side].addr : 0;
    uint16_t tw_port = tw_side >= 0 ? old->s[tw_side].port : 0;
    uint32_t inc = old->incarnation;
    old->reused_by_next = tw_side >= 0;
    old->next_syn_frame = p->frame;
    retire(a, old, false);
    tw_an_conn *c = create(a, p);
    if (!c) return NULL;
    c->incarnation = inc + 1;
    if (tw_side >= 0) {
        c->reuse = TW_AN_REUSE_PENDING;
        c->reuse_side = c->s[0].addr == tw_addr && c->s[0].port == tw_port ? 0 : 1;
        c->reuse_syn_frame = p->frame;
    }
    return c;
}

int tw_an_feed(tw_an *a, const tw_an_pkt *p) {
    if (!a->have_t0) {
        a->have_t0 = true;
        a->t0 = p->t;
    }
    if (p->t > a->now) a->now = p->t;
    if (a->now > a->last_sweep + 1000000000ull) {
        a->last_sweep = a->now;
        sweep(a);
    }
    tw_an_conn *c = lookup(a, p);
    if (c && new_incarnation(c, side_of(c, p), p)) {
        c = start_incarnation(a, c, p);
        if (!c) return -1;
    } else if (!c) {
        c = create(a, p);
        if (!c) return -1;
    }
    c->last_frame = p->frame;
    c->last_t = p->t;
    int si = side_of(c, p);
    if (c->reuse == TW_AN_REUSE_PENDING && si == 1 &&
        !(p->flags & TW_TH_SYN && !(p->flags & TW_TH_ACK))) {
        c->reuse = (p->flags & TW_TH_SYN) ? TW_AN_REUSE_ACCEPTED : TW_AN_REUSE_REFUSED;
        c->reuse_answer_frame = p->frame;
    }
    tw_an_on_send(c, si, p);
    tw_an_on_recv(c, 1 - si, p);
    if (a->o.ladder_conn == c->no && tw_an_ladder_seg(&a->levs, c, si, p)) a->oom = true;
    return a->oom ? -1 : 0;
}

int tw_an_finish(tw_an *a) {
    while (a->all_head) retire(a, a->all_head, true);
    return a->oom ? -1 : 0;
}

uint64_t tw_an_count(const tw_an *a) {
    return a->count;
}

const tw_vev_list *tw_an_ladder_events(const tw_an *a) {
    return a->ladder_done ? &a->ladder : NULL;
}

void tw_an_free(tw_an *a) {
    if (!a) return;
    for (tw_an_conn *c = a->all_head, *n; c; c = n) {
        n = c->next_all;
        free(c);
    }
    free(a->bucket);
    free(a->levs.v);
    tw_vev_list_free(&a->ladder);
    free(a);
}
