/* sim.c - the simulated network behind sim.h.
 *
 * Each endpoint owns a binary min-heap of the packet copies travelling to it,
 * keyed by (delivery time, global sequence number), so recv() pops in
 * delivery order with ties broken by send order. Packet records and their
 * buffers are recycled through a free list: a long simulation allocates only
 * up to its peak number of packets in flight. */
#include "link/sim.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "tcpwave/tw_errno.h"
#include "util/rng.h"
#include "wire/ipv4.h"

struct sim_pkt {
    uint64_t at;  /* delivery time */
    uint64_t seq; /* global order of scheduling: the tie-breaker */
    uint64_t nth; /* the sender's packet number */
    int from;
    size_t len, cap;
    uint8_t *data;
    struct sim_pkt *next_free;
};

struct sim_ep {
    tw_link link; /* first member: a tw_link * is a struct sim_ep * */
    tw_sim *sim;
    int index;
    uint32_t addr;
    tw_sim_cfg cfg;
    uint64_t sent;       /* packets sent so far (the last nth) */
    uint64_t busy_until; /* the bottleneck (cfg.rate_bps) sends until then */
    /* packets travelling to this endpoint: a min-heap on (at, seq) */
    struct sim_pkt **heap;
    size_t heap_len, heap_cap;
    /* pending drop_nth rules for packets sent by this endpoint */
    uint64_t *drops;
    size_t n_drops, drops_cap;
};

struct tw_sim {
    tw_rng rng;
    struct sim_ep **eps;
    int n_eps, eps_cap;
    uint64_t seq;
    size_t in_flight;
    struct sim_pkt *free_list;
    tw_sim_filter_fn filter;
    void *filter_ctx;
    tw_sim_observer_fn observer;
    void *observer_ctx;
    struct tw_sim_stats stats;
};

/* ------------------------------------------------------------------ helpers */

static uint64_t sat_add(uint64_t a, uint64_t b) {
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint32_t ipv4_dst(const uint8_t *pkt) {
    return (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 |
           (uint32_t)pkt[19];
}

static void emit(tw_sim *s, enum tw_sim_ev ev, int from, int to, uint64_t nth, const uint8_t *pkt,
                 size_t len, uint64_t now) {
    if (s->observer) s->observer(s->observer_ctx, ev, from, to, nth, pkt, len, now);
}

static struct sim_ep *ep_at(const tw_sim *s, int ep) {
    if (!s || ep < 0 || ep >= s->n_eps) return NULL;
    return s->eps[ep];
}

/* One Bernoulli draw that always consumes exactly one random number. */
static bool draw_chance(tw_rng *r, double p) {
    return tw_rng_unit(r) < p;
}

/* ------------------------------------------------------------------ packets */

static struct sim_pkt *pkt_get(tw_sim *s, const uint8_t *data, size_t len) {
    struct sim_pkt *p = s->free_list;
    if (p) {
        s->free_list = p->next_free;
    } else {
        p = calloc(1, sizeof *p);
        if (!p) return NULL;
    }
    if (p->cap < len) {
        uint8_t *nd = realloc(p->data, len);
        if (!nd) {
            p->next_free = s->free_list;
            s->free_list = p;
            return NULL;
        }
        p->data = nd;
        p->cap = len;
    }
    memcpy(p->data, data, len);
    p->len = len;
    p->next_free = NULL;
    return p;
}

static void pkt_put(tw_sim *s, struct sim_pkt *p) {
    p->next_free = s->free_list;
    s->free_list = p;
}

/* ------------------------------------------------------------------ heap */

static bool pkt_before(const struct sim_pkt *a, const struct sim_pkt *b) {
    return a->at != b->at ? a->at < b->at : a->seq < b->seq;
}

static int heap_reserve(struct sim_ep *e, size_t extra) {
    if (e->heap_len + extra <= e->heap_cap) return 0;
    size_t cap = e->heap_cap ? e->heap_cap : 16;
    while (cap < e->heap_len + extra) cap *= 2;
    struct sim_pkt **nh = realloc(e->heap, cap * sizeof *nh);
    if (!nh) return -TW_ENOMEM;
    e->heap = nh;
    e->heap_cap = cap;
    return 0;
}

/* Caller has reserved room. */
static void heap_push(struct sim_ep *e, struct sim_pkt *p) {
    size_t i = e->heap_len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!pkt_before(p, e->heap[parent])) break;
        e->heap[i] = e->heap[parent];
        i = parent;
    }
    e->heap[i] = p;
}

static struct sim_pkt *heap_pop(struct sim_ep *e) {
    struct sim_pkt *top = e->heap[0];
    struct sim_pkt *last = e->heap[--e->heap_len];
    size_t n = e->heap_len, i = 0;
    if (n == 0) return top;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pkt_before(e->heap[c + 1], e->heap[c])) c++;
        if (!pkt_before(e->heap[c], last)) break;
        e->heap[i] = e->heap[c];
        i = c;
    }
    e->heap[i] = last;
    return top;
}

/* ------------------------------------------------------------------ link ops */

static bool take_drop_rule(struct sim_ep *e, uint64_t nth) {
    for (size_t i = 0; i < e->n_drops; i++) {
        if (e->drops[i] == nth) {
            e->drops[i] = e->drops[--e->n_drops];
            return true;
        }
    }
    return false;
}

/* The bottleneck of an endpoint (cfg.rate_bps, see sim.h): false when the
 * queue is full (drop); else the time the packet's last bit leaves and
 * whether the queue it found asks for a CE mark. */
static bool bottleneck(struct sim_ep *src, size_t len, uint64_t now, uint64_t *depart, bool *mark) {
    const tw_sim_cfg *c = &src->cfg;
    if (c->rate_bps == 0) return true;
    uint64_t start = src->busy_until > now ? src->busy_until : now;
    double ns_per_byte = 8e9 / (double)c->rate_bps;
    uint64_t queued = (uint64_t)((double)(start - now) / ns_per_byte); /* bytes ahead of it */
    if (c->queue_bytes && queued + len > c->queue_bytes) return false;
    *mark = c->ce_queue_bytes && queued >= c->ce_queue_bytes;
    src->busy_until = sat_add(start, (uint64_t)((double)len * ns_per_byte + 0.5));
    *depart = src->busy_until;
    return true;
}

static int sim_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    struct sim_ep *src = (struct sim_ep *)l;
    tw_sim *s = src->sim;
    if (!pkt || len == 0) return -TW_EINVAL;

    uint64_t nth = ++src->sent;
    s->stats.sent++;

    /* The random draws, always all of them and in this order (see sim.h). */
    const tw_sim_cfg *c = &src->cfg;
    bool lose = false, corrupt = false, dup = false, reorder = false;
    uint64_t flip_bit = 0, jitter = 0;
    if (c->loss > 0) lose = draw_chance(&s->rng, c->loss);
    if (c->corrupt > 0) {
        corrupt = draw_chance(&s->rng, c->corrupt);
        flip_bit = tw_rng_below(&s->rng, (uint64_t)len * 8u);
    }
    if (c->dup > 0) dup = draw_chance(&s->rng, c->dup);
    if (c->reorder > 0) reorder = draw_chance(&s->rng, c->reorder);
    if (c->jitter_ns > 0) jitter = tw_rng_range(&s->rng, 0, c->jitter_ns);
    bool ce = c->ce > 0 && draw_chance(&s->rng, c->ce); /* last: older patterns stay as they were */

    int to = len >= 20 ? tw_sim_find_endpoint(s, ipv4_dst(pkt)) : -1;
    emit(s, TW_SIM_SENT, src->index, to, nth, pkt, len, now);
    if (to < 0) {
        s->stats.unroutable++;
        emit(s, TW_SIM_UNROUTABLE, src->index, to, nth, pkt, len, now);
        return 0;
    }
    if (take_drop_rule(src, nth) ||
        (s->filter && s->filter(s->filter_ctx, src->index, nth, pkt, len, now))) {
        s->stats.rule_dropped++;
        emit(s, TW_SIM_DROPPED_RULE, src->index, to, nth, pkt, len, now);
        return 0;
    }
    uint64_t depart = now;
    bool mark_q = false;
    if (!bottleneck(src, len, now, &depart, &mark_q)) {
        s->stats.queue_dropped++;
        emit(s, TW_SIM_DROPPED_QUEUE, src->index, to, nth, pkt, len, now);
        return 0;
    }
    if (lose) {
        s->stats.lost++;
        emit(s, TW_SIM_DROPPED_LOSS, src->index, to, nth, pkt, len, now);
        return 0;
    }

    struct sim_ep *dst = s->eps[to];
    if (heap_reserve(dst, dup ? 2 : 1) != 0) return -TW_ENOMEM;
    struct sim_pkt *p = pkt_get(s, pkt, len);
    if (!p) return -TW_ENOMEM;
    struct sim_pkt *p2 = NULL;
    if (dup) {
        p2 = pkt_get(s, pkt, len);
        if (!p2) {
            pkt_put(s, p);
            return -TW_ENOMEM;
        }
    }

    uint64_t at = sat_add(depart, c->delay_ns);
    if ((ce || mark_q) && tw_ipv4_mark_ce(p->data, len)) { /* Not-ECT packets pass unmarked */
        s->stats.ce_marked++;
        emit(s, TW_SIM_CE_MARKED, src->index, to, nth, p->data, len, now);
    }
    if (corrupt) {
        p->data[flip_bit / 8] ^= (uint8_t)(1u << (flip_bit % 8));
        s->stats.corrupted++;
        emit(s, TW_SIM_CORRUPTED, src->index, to, nth, p->data, len, now);
    }
    if (dup) {
        memcpy(p2->data, p->data, len);
        s->stats.duplicated++;
        emit(s, TW_SIM_DUPLICATED, src->index, to, nth, p->data, len, now);
    }
    if (reorder) {
        at = sat_add(at, c->reorder_extra_ns);
        s->stats.reordered++;
        emit(s, TW_SIM_REORDERED, src->index, to, nth, p->data, len, now);
    }
    at = sat_add(at, jitter);
    if (at == UINT64_MAX) at = UINT64_MAX - 1; /* UINT64_MAX means "nothing pending" */

    p->at = at;
    p->seq = s->seq++;
    p->nth = nth;
    p->from = src->index;
    heap_push(dst, p);
    s->in_flight++;
    if (p2) {
        p2->at = at;
        p2->seq = s->seq++;
        p2->nth = nth;
        p2->from = src->index;
        heap_push(dst, p2);
        s->in_flight++;
    }
    return 0;
}

static int sim_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    struct sim_ep *e = (struct sim_ep *)l;
    tw_sim *s = e->sim;
    if (!buf || cap == 0) return -TW_EINVAL;
    if (e->heap_len == 0 || e->heap[0]->at > now) return 0;
    struct sim_pkt *p = heap_pop(e);
    s->in_flight--;
    s->stats.delivered++;
    /* Like a datagram socket, a too-small buffer truncates the packet. */
    size_t n = p->len < cap ? p->len : cap;
    if (n > (size_t)INT_MAX) n = (size_t)INT_MAX;
    memcpy(buf, p->data, n);
    emit(s, TW_SIM_DELIVERED, p->from, e->index, p->nth, p->data, p->len, p->at);
    pkt_put(s, p);
    return (int)n;
}

static uint64_t sim_next_arrival(tw_link *l) {
    struct sim_ep *e = (struct sim_ep *)l;
    return e->heap_len ? e->heap[0]->at : UINT64_MAX;
}

static int sim_poll_fd(tw_link *l) {
    (void)l;
    return -1;
}

static void sim_close(tw_link *l) {
    (void)l; /* the sim owns everything; tw_sim_free() releases it */
}

static const struct tw_link_ops sim_ops = {
    .send = sim_send,
    .recv = sim_recv,
    .next_arrival = sim_next_arrival,
    .poll_fd = sim_poll_fd,
    .close = sim_close,
};

/* ------------------------------------------------------------------ public */

tw_sim *tw_sim_new(uint64_t seed) {
    tw_sim *s = calloc(1, sizeof *s);
    if (!s) return NULL;
    tw_rng_seed(&s->rng, seed);
    return s;
}

void tw_sim_free(tw_sim *s) {
    if (!s) return;
    for (int i = 0; i < s->n_eps; i++) {
        struct sim_ep *e = s->eps[i];
        for (size_t k = 0; k < e->heap_len; k++) {
            free(e->heap[k]->data);
            free(e->heap[k]);
        }
        free(e->heap);
        free(e->drops);
        free(e);
    }
    free(s->eps);
    while (s->free_list) {
        struct sim_pkt *p = s->free_list;
        s->free_list = p->next_free;
        free(p->data);
        free(p);
    }
    free(s);
}

int tw_sim_add_endpoint(tw_sim *s, uint32_t ipv4_addr, const tw_sim_cfg *cfg) {
    if (!s) return -TW_EINVAL;
    if (tw_sim_find_endpoint(s, ipv4_addr) >= 0) return -TW_EADDRINUSE;
    if (s->n_eps == s->eps_cap) {
        int cap = s->eps_cap ? s->eps_cap * 2 : 4;
        struct sim_ep **ne = realloc(s->eps, (size_t)cap * sizeof *ne);
        if (!ne) return -TW_ENOMEM;
        s->eps = ne;
        s->eps_cap = cap;
    }
    struct sim_ep *e = calloc(1, sizeof *e);
    if (!e) return -TW_ENOMEM;
    e->link.ops = &sim_ops;
    e->sim = s;
    e->index = s->n_eps;
    e->addr = ipv4_addr;
    if (cfg) e->cfg = *cfg;
    s->eps[s->n_eps++] = e;
    return e->index;
}

tw_link *tw_sim_link(tw_sim *s, int ep) {
    struct sim_ep *e = ep_at(s, ep);
    return e ? &e->link : NULL;
}

void tw_sim_set_cfg(tw_sim *s, int ep, const tw_sim_cfg *cfg) {
    struct sim_ep *e = ep_at(s, ep);
    if (!e) return;
    if (cfg) {
        e->cfg = *cfg;
    } else {
        memset(&e->cfg, 0, sizeof e->cfg);
    }
}

tw_sim_cfg tw_sim_get_cfg(const tw_sim *s, int ep) {
    struct sim_ep *e = ep_at(s, ep);
    tw_sim_cfg zero = {0};
    return e ? e->cfg : zero;
}

int tw_sim_endpoint_count(const tw_sim *s) {
    return s ? s->n_eps : 0;
}

uint32_t tw_sim_endpoint_addr(const tw_sim *s, int ep) {
    struct sim_ep *e = ep_at(s, ep);
    return e ? e->addr : 0;
}

int tw_sim_find_endpoint(const tw_sim *s, uint32_t ipv4_addr) {
    if (!s) return -1;
    for (int i = 0; i < s->n_eps; i++)
        if (s->eps[i]->addr == ipv4_addr) return i;
    return -1;
}

uint64_t tw_sim_sent_count(const tw_sim *s, int ep) {
    struct sim_ep *e = ep_at(s, ep);
    return e ? e->sent : 0;
}

void tw_sim_drop_nth(tw_sim *s, int from_ep, uint64_t n) {
    struct sim_ep *e = ep_at(s, from_ep);
    if (!e || n == 0 || n <= e->sent) return;
    for (size_t i = 0; i < e->n_drops; i++)
        if (e->drops[i] == n) return;
    if (e->n_drops == e->drops_cap) {
        size_t cap = e->drops_cap ? e->drops_cap * 2 : 8;
        uint64_t *nd = realloc(e->drops, cap * sizeof *nd);
        if (!nd) return;
        e->drops = nd;
        e->drops_cap = cap;
    }
    e->drops[e->n_drops++] = n;
}

void tw_sim_set_filter(tw_sim *s, tw_sim_filter_fn fn, void *ctx) {
    if (!s) return;
    s->filter = fn;
    s->filter_ctx = fn ? ctx : NULL;
}

void tw_sim_set_observer(tw_sim *s, tw_sim_observer_fn fn, void *ctx) {
    if (!s) return;
    s->observer = fn;
    s->observer_ctx = fn ? ctx : NULL;
}

const char *tw_sim_ev_name(enum tw_sim_ev ev) {
    switch (ev) {
    case TW_SIM_SENT: return "sent";
    case TW_SIM_DROPPED_LOSS: return "dropped_loss";
    case TW_SIM_DROPPED_RULE: return "dropped_rule";
    case TW_SIM_DUPLICATED: return "duplicated";
    case TW_SIM_CORRUPTED: return "corrupted";
    case TW_SIM_DELIVERED: return "delivered";
    case TW_SIM_UNROUTABLE: return "unroutable";
    case TW_SIM_REORDERED: return "reordered";
    case TW_SIM_CE_MARKED: return "ce_marked";
    case TW_SIM_DROPPED_QUEUE: return "dropped_queue";
    }
    return "?";
}

uint64_t tw_sim_next_arrival(const tw_sim *s) {
    uint64_t best = UINT64_MAX;
    if (!s) return best;
    for (int i = 0; i < s->n_eps; i++) {
        const struct sim_ep *e = s->eps[i];
        if (e->heap_len && e->heap[0]->at < best) best = e->heap[0]->at;
    }
    return best;
}

void tw_sim_get_stats(const tw_sim *s, struct tw_sim_stats *out) {
    if (!out) return;
    if (!s) {
        memset(out, 0, sizeof *out);
        return;
    }
    *out = s->stats;
}

size_t tw_sim_in_flight(const tw_sim *s) {
    return s ? s->in_flight : 0;
}
