/* conns.c - owns the trace index of conns.h: halves by (host, conn_id),
 * events without a conn_id matched by 4-tuple, and the pairing of halves
 * into connections. Hash tables keep it linear in the trace's length. */
#include <stdlib.h>
#include <string.h>

#include "view/conns.h"

typedef struct map {
    uint64_t *key;
    int *val;
    size_t mask;
} map;

static uint64_t mix(uint64_t x) {
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9u;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebu;
    return x ^ (x >> 31);
}

static int map_init(map *m, size_t n) {
    size_t cap = 64;
    while (cap < 2 * n + 2) cap *= 2;
    m->key = calloc(cap, sizeof *m->key);
    m->val = malloc(cap * sizeof *m->val);
    m->mask = cap - 1;
    if (!m->key || !m->val) return -1;
    memset(m->val, 0xff, cap * sizeof *m->val); /* every int -1: no entry */
    return 0;
}

static void map_free(map *m) {
    free(m->key);
    free(m->val);
}

/* Slot of `key` (keys are never 0 here: callers set a high bit). */
static size_t map_slot(const map *m, uint64_t key) {
    size_t i = (size_t)mix(key) & m->mask;
    while (m->val[i] >= 0 && m->key[i] != key) i = (i + 1) & m->mask;
    return i;
}

static uint64_t half_key(uint16_t host, uint32_t conn) {
    return (1ull << 63) | (uint64_t)host << 32 | conn;
}

/* The 4-tuple without its direction, so both halves of a connection meet. */
static uint64_t tuple_key(uint32_t a, uint16_t ap, uint32_t b, uint16_t bp) {
    uint64_t x = (uint64_t)a << 16 | ap, y = (uint64_t)b << 16 | bp;
    if (x > y) {
        uint64_t t = x;
        x = y;
        y = t;
    }
    return mix(x) ^ (mix(y) * 3u) ^ (1ull << 62) ^ (1ull << 63);
}

static int role_of(const tw_trace_ev *e) {
    bool syn = e->flags & 0x02, ack = e->flags & 0x10;
    switch (e->kind) {
    case TW_EV_STATE:
        if (e->new_state == TW_SYN_SENT) return TW_ROLE_ACTIVE;
        if (e->old_state == TW_LISTEN || e->new_state == TW_SYN_RECEIVED) return TW_ROLE_PASSIVE;
        return TW_ROLE_UNKNOWN;
    case TW_EV_SEG_OUT:
        if (syn) return ack ? TW_ROLE_PASSIVE : TW_ROLE_ACTIVE;
        return TW_ROLE_UNKNOWN;
    case TW_EV_SEG_IN: return syn && !ack ? TW_ROLE_PASSIVE : TW_ROLE_UNKNOWN;
    case TW_EV_USER: return e->cause == TW_CALL_CONNECT ? TW_ROLE_ACTIVE : TW_ROLE_UNKNOWN;
    default: return TW_ROLE_UNKNOWN;
    }
}

static bool has_tuple(const tw_trace_ev *e) {
    return e->rport != 0 && e->lport != 0;
}

static int add_half(tw_vindex *ix, size_t *cap, const tw_vev *e) {
    if (ix->nh == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        tw_vhalf *n = realloc(ix->h, ncap * sizeof *n);
        if (!n) return -1;
        ix->h = n;
        *cap = ncap;
    }
    tw_vhalf *h = &ix->h[ix->nh];
    memset(h, 0, sizeof *h);
    h->host = e->host;
    h->conn_id = e->ev.conn_id;
    memcpy(h->host_name, e->host_name, sizeof h->host_name);
    h->first_t = h->last_t = e->ev.t;
    h->conn = -1;
    h->next = -1;
    return (int)ix->nh++;
}

/* Pass 1: one half per (host, conn_id). */
static int collect_halves(const tw_vev *ev, size_t n, tw_vindex *ix) {
    map m;
    size_t cap = 0;
    if (map_init(&m, n < 1024 ? n : 1024)) {
        map_free(&m);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const tw_trace_ev *e = &ev[i].ev;
        ix->ev_half[i] = -1;
        if (e->conn_id == 0 || e->kind == TW_VEV_LINK_LOST) continue;
        uint64_t k = half_key(ev[i].host, e->conn_id);
        size_t s = map_slot(&m, k);
        if (m.val[s] < 0) {
            int h = add_half(ix, &cap, &ev[i]);
            if (h < 0) {
                rc = -1;
                break;
            }
            if ((ix->nh + 1) * 2 > m.mask + 1) { /* grow: rebuild from the halves */
                map g;
                if (map_init(&g, ix->nh * 2)) {
                    map_free(&g);
                    rc = -1;
                    break;
                }
                for (size_t j = 0; j < ix->nh; j++) {
                    size_t t = map_slot(&g, half_key(ix->h[j].host, ix->h[j].conn_id));
                    g.key[t] = half_key(ix->h[j].host, ix->h[j].conn_id);
                    g.val[t] = (int)j;
                }
                map_free(&m);
                m = g;
            } else {
                m.key[s] = k;
                m.val[s] = h;
            }
        }
        int h = m.val[map_slot(&m, k)];
        tw_vhalf *hf = &ix->h[h];
        ix->ev_half[i] = h;
        if (e->t > hf->last_t) hf->last_t = e->t;
        if (e->t < hf->first_t) hf->first_t = e->t;
        if (!hf->lport && has_tuple(e)) {
            hf->laddr = e->laddr;
            hf->raddr = e->raddr;
            hf->lport = e->lport;
            hf->rport = e->rport;
        }
        if (hf->role == TW_ROLE_UNKNOWN) hf->role = role_of(e);
    }
    map_free(&m);
    return rc;
}

static bool same_tuple(const tw_vhalf *h, const tw_trace_ev *e) {
    return h->laddr == e->laddr && h->lport == e->lport && h->raddr == e->raddr &&
           h->rport == e->rport;
}

static bool mirrored(const tw_vhalf *a, const tw_vhalf *b) {
    return a->laddr == b->raddr && a->lport == b->rport && a->raddr == b->laddr &&
           a->rport == b->lport;
}

/* Chains halves by 4-tuple: head of each chain in `m`, links in .next
 * (latest half first). */
static int chain_tuples(tw_vindex *ix, map *m) {
    if (map_init(m, ix->nh)) return -1;
    for (size_t j = 0; j < ix->nh; j++) {
        tw_vhalf *h = &ix->h[j];
        if (!h->lport) continue;
        uint64_t k = tuple_key(h->laddr, h->lport, h->raddr, h->rport);
        size_t s = map_slot(m, k);
        h->next = m->val[s];
        m->key[s] = k;
        m->val[s] = (int)j;
    }
    return 0;
}

/* Pass 2: events without a conn_id join a half by 4-tuple. */
static void attach_orphans(const tw_vev *ev, size_t n, tw_vindex *ix, const map *m) {
    for (size_t i = 0; i < n; i++) {
        const tw_trace_ev *e = &ev[i].ev;
        if (ix->ev_half[i] >= 0 || !has_tuple(e)) continue;
        size_t s = map_slot(m, tuple_key(e->laddr, e->lport, e->raddr, e->rport));
        for (int j = m->val[s]; j >= 0; j = ix->h[j].next) {
            const tw_vhalf *h = &ix->h[j];
            if (h->host == ev[i].host && same_tuple(h, e) && h->first_t <= e->t) {
                ix->ev_half[i] = j;
                break;
            }
        }
    }
}

static int add_conn(tw_vindex *ix, size_t *cap, int left, int right) {
    if (ix->nc == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        tw_vconn *n = realloc(ix->c, ncap * sizeof *n);
        if (!n) return -1;
        ix->c = n;
        *cap = ncap;
    }
    tw_vconn *c = &ix->c[ix->nc];
    c->half[0] = left;
    c->half[1] = right;
    c->first_t = UINT64_MAX;
    for (int k = 0; k < 2; k++) {
        if (c->half[k] < 0) continue;
        ix->h[c->half[k]].conn = (int)ix->nc;
        if (ix->h[c->half[k]].first_t < c->first_t) c->first_t = ix->h[c->half[k]].first_t;
    }
    ix->nc++;
    return 0;
}

/* Pairs each half with the earliest unpaired mirror half of another host. */
static int pair_halves(tw_vindex *ix, const map *m) {
    size_t cap = 0;
    for (size_t j = 0; j < ix->nh; j++) {
        tw_vhalf *h = &ix->h[j];
        int mate = -1;
        if (h->lport) {
            size_t s = map_slot(m, tuple_key(h->laddr, h->lport, h->raddr, h->rport));
            for (int g = m->val[s]; g >= 0; g = ix->h[g].next) {
                const tw_vhalf *o = &ix->h[g];
                if ((size_t)g >= j || o->host == h->host || !mirrored(o, h) || o->conn < 0)
                    continue;
                const tw_vconn *c = &ix->c[o->conn];
                if (c->half[0] >= 0 && c->half[1] >= 0) continue;
                mate = g; /* the chain runs latest first: keep the earliest */
            }
        }
        if (mate < 0) {
            bool right = h->role == TW_ROLE_PASSIVE;
            if (add_conn(ix, &cap, right ? -1 : (int)j, right ? (int)j : -1)) return -1;
            continue;
        }
        tw_vconn *c = &ix->c[ix->h[mate].conn];
        int a = mate, b = (int)j;
        bool b_left = (h->role == TW_ROLE_ACTIVE && ix->h[a].role != TW_ROLE_ACTIVE) ||
                      (ix->h[a].role == TW_ROLE_PASSIVE && h->role != TW_ROLE_PASSIVE);
        c->half[0] = b_left ? b : a;
        c->half[1] = b_left ? a : b;
        h->conn = ix->h[mate].conn;
        if (h->first_t < c->first_t) c->first_t = h->first_t;
    }
    return 0;
}

/* Groups the events by connection (a counting sort, stable). */
static int group_events(size_t n, tw_vindex *ix) {
    ix->conn_start = calloc(ix->nc + 2, sizeof *ix->conn_start);
    ix->ev_by_conn = malloc((n ? n : 1) * sizeof *ix->ev_by_conn);
    if (!ix->conn_start || !ix->ev_by_conn) return -1;
    for (size_t i = 0; i < n; i++)
        if (ix->ev_half[i] >= 0 && ix->h[ix->ev_half[i]].conn >= 0)
            ix->conn_start[ix->h[ix->ev_half[i]].conn + 2]++;
    for (size_t c = 2; c < ix->nc + 2; c++) ix->conn_start[c] += ix->conn_start[c - 1];
    for (size_t i = 0; i < n; i++)
        if (ix->ev_half[i] >= 0 && ix->h[ix->ev_half[i]].conn >= 0)
            ix->ev_by_conn[ix->conn_start[ix->h[ix->ev_half[i]].conn + 1]++] = i;
    return 0;
}

int tw_vindex_build(const tw_vev *ev, size_t n, tw_vindex *ix) {
    memset(ix, 0, sizeof *ix);
    ix->ev_half = malloc((n ? n : 1) * sizeof *ix->ev_half);
    if (!ix->ev_half) return -1;
    if (collect_halves(ev, n, ix)) {
        tw_vindex_free(ix);
        return -1;
    }
    map m;
    if (chain_tuples(ix, &m)) {
        map_free(&m);
        tw_vindex_free(ix);
        return -1;
    }
    attach_orphans(ev, n, ix, &m);
    int rc = pair_halves(ix, &m);
    map_free(&m);
    if (rc == 0) rc = group_events(n, ix);
    if (rc) tw_vindex_free(ix);
    return rc;
}

void tw_vindex_free(tw_vindex *ix) {
    free(ix->h);
    free(ix->c);
    free(ix->ev_half);
    free(ix->ev_by_conn);
    free(ix->conn_start);
    memset(ix, 0, sizeof *ix);
}

int tw_vindex_side(const tw_vindex *ix, size_t conn, size_t i) {
    int h = ix->ev_half[i];
    if (h < 0 || conn >= ix->nc) return -1;
    if (ix->c[conn].half[0] == h) return 0;
    if (ix->c[conn].half[1] == h) return 1;
    return -1;
}
