/* table.c - the 4-tuple table, compact TIME_WAIT records and ports.
 *
 * One chained hash table (keyed SipHash under a per-stack secret, so a remote
 * peer cannot aim at one bucket) holds both full connections and TIME_WAIT
 * records; chains link 32-bit indices, and the top bit tells a record from a
 * slot. Records live in one growable array and form a FIFO by expiry: 2MSL is
 * the same for every record, so expiring is popping the head, in O(1).
 * Ephemeral ports are chosen as in RFC 6056 §3.3.4 (Algorithm 4: a hashed
 * offset per destination plus a per-destination counter) and skip any
 * 4-tuple still in the table, TIME_WAIT included, so a new connection never
 * lands on an old one's 4-tuple. Ports held by sockets are a bitmap and
 * listeners are found by port in a paged map: both O(1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "util/bigmem.h"
#include "util/hash.h"

/* SipHash-2-4 of the 4-tuple under the stack's secret. One value serves the
 * table (low 32 bits) and the RFC 6528 ISN (high 32 bits): the ISN needs a
 * strong keyed PRF, and computing it once per connection for both is cheaper
 * than a weaker table hash plus a separate ISN hash (see docs/performance.md). */
uint64_t tw__tuple_hash(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport) {
    return tw_hash_tuple(st->key, st->cfg.addr, lport, raddr, rport);
}

static inline uint32_t bucket_of(const tw_stack *st, uint32_t hash) {
    return hash & (st->nbuckets - 1);
}

/* The bucket array starts small and doubles whenever the table holds more
 * than half as many entries as buckets (up to TW_MAX_BUCKETS), instead of
 * being sized for max_conns + max_time_wait up front: a stack that holds few
 * entries keeps its buckets in cache (a server with a few live connections
 * but room for 10^6 TIME_WAIT records used to touch a random line of an 8 MB
 * array per new connection). The stored hashes make the rehash cheap. */
#define TW_MIN_BUCKETS 1024u
#define TW_MAX_BUCKETS (1u << 22)

/* n empty buckets. */
static uint32_t *alloc_buckets(uint32_t n) {
    uint32_t *b = malloc((size_t)n * sizeof *b);
    tw_bigmem_hint(b, (size_t)n * sizeof *b); /* before the memset touches it */
    if (b) memset(b, 0xff, (size_t)n * sizeof *b);
    return b;
}

int tw__table_init(tw_stack *st) {
    if (!(st->buckets = alloc_buckets(TW_MIN_BUCKETS))) return -TW_ENOMEM;
    st->nbuckets = TW_MIN_BUCKETS;
    st->tw_free = st->tw_head = st->tw_tail = st->warm_bucket = TW_NIL;
    return 0;
}

void tw__table_free(tw_stack *st) {
    for (unsigned i = 0; i < 256; i++) free(st->lmap[i]);
    free(st->buckets);
    free(st->tw);
    st->buckets = NULL;
    st->tw = NULL;
}

/* The stored hash first: a different hash settles it without the 4-tuple. */
static bool entry_matches(const tw_stack *st, uint32_t e, uint32_t hash, uint32_t raddr,
                          uint16_t lport, uint16_t rport) {
    if (e & TW_TWBIT) {
        const tw_twrec *r = &st->tw[e & ~TW_TWBIT];
        return r->hash == hash && r->raddr == raddr && r->lport == lport && r->rport == rport;
    }
    const tw_slot *s = tw__slot(st, e);
    return s->hash == hash && s->c.raddr == raddr && s->c.lport == lport && s->c.rport == rport;
}

static uint32_t *next_of(tw_stack *st, uint32_t e) {
    if (e & TW_TWBIT) return &st->tw[e & ~TW_TWBIT].hnext;
    return &tw__slot(st, e)->hnext;
}

/* hash: the low 32 bits of tw__tuple_hash(raddr, lport, rport). */
uint32_t tw__table_find(const tw_stack *st, uint32_t hash, uint32_t raddr, uint16_t lport,
                        uint16_t rport) {
    uint32_t e = st->buckets[bucket_of(st, hash)];
    while (e != TW_NIL) {
        if (entry_matches(st, e, hash, raddr, lport, rport)) return e;
        e = *next_of((tw_stack *)st, e);
    }
    return TW_NIL;
}

uint32_t tw__table_lookup(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport) {
    uint32_t h = (uint32_t)tw__tuple_hash(st, raddr, lport, rport);
    return tw__table_find(st, h, raddr, lport, rport);
}

static uint32_t hash_of(const tw_stack *st, uint32_t e) {
    return (e & TW_TWBIT) ? st->tw[e & ~TW_TWBIT].hash : tw__slot(st, e)->hash;
}

/* Doubles the bucket array and moves every entry by its stored hash. Without
 * memory the table keeps its size: chains get longer, nothing breaks. Kept
 * out of line so that the insert stays a few instructions. */
__attribute__((noinline, cold)) static void grow_buckets(tw_stack *st) {
    if (st->nbuckets >= TW_MAX_BUCKETS) return;
    uint32_t n = st->nbuckets * 2, *nb = alloc_buckets(n);
    if (!nb) return;
    for (uint32_t b = 0; b < st->nbuckets; b++) {
        uint32_t e = st->buckets[b];
        while (e != TW_NIL) {
            uint32_t next = *next_of(st, e), nb_i = hash_of(st, e) & (n - 1);
            *next_of(st, e) = nb[nb_i];
            nb[nb_i] = e;
            e = next;
        }
    }
    free(st->buckets);
    st->buckets = nb;
    st->nbuckets = n;
}

static inline void insert_entry(tw_stack *st, uint32_t e, uint32_t hash) {
    if (++st->nhashed > st->nbuckets / 2) grow_buckets(st);
    uint32_t b = bucket_of(st, hash);
    *next_of(st, e) = st->buckets[b];
    st->buckets[b] = e;
}

static void remove_entry(tw_stack *st, uint32_t e, uint32_t hash) {
    uint32_t *p = &st->buckets[bucket_of(st, hash)];
    while (*p != TW_NIL) {
        if (*p == e) {
            *p = *next_of(st, e);
            *next_of(st, e) = TW_NIL;
            st->nhashed--;
            return;
        }
        p = next_of(st, *p);
    }
}

/* hash: the low 32 bits of the slot's tw__tuple_hash (already computed by
 * whoever looked the 4-tuple up), kept for the remove. */
void tw__table_insert_slot(tw_stack *st, tw_slot *s, uint32_t hash) {
    if (s->in_hash) return;
    s->hash = hash;
    insert_entry(st, s->idx, hash);
    s->in_hash = 1;
}

void tw__table_remove_slot(tw_stack *st, tw_slot *s) {
    if (!s->in_hash) return;
    remove_entry(st, s->idx, s->hash);
    s->in_hash = 0;
}

static void fifo_unlink(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    if (r->fprev != TW_NIL)
        st->tw[r->fprev].fnext = r->fnext;
    else
        st->tw_head = r->fnext;
    if (r->fnext != TW_NIL)
        st->tw[r->fnext].fprev = r->fprev;
    else
        st->tw_tail = r->fprev;
    r->fprev = r->fnext = TW_NIL;
}

/* Links record i into the FIFO after the last record expiring no later than
 * it. Records made when TIME_WAIT begins, and restarted ones (now + 2MSL),
 * always go to the tail in O(1). A connection that spent part of its
 * TIME_WAIT as a full connection (its socket was still open) becomes a
 * record with an older expiry and walks back from the tail to its place, so
 * expiring stays "pop the head" and each record still ends exactly 2MSL after
 * its TIME_WAIT began (RFC 9293 §3.10.7.4). */
static void fifo_insert(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    uint32_t prev = st->tw_tail;
    while (prev != TW_NIL && st->tw[prev].expiry > r->expiry) prev = st->tw[prev].fprev;
    uint32_t next = prev != TW_NIL ? st->tw[prev].fnext : st->tw_head;
    r->fprev = prev;
    r->fnext = next;
    if (prev != TW_NIL)
        st->tw[prev].fnext = i;
    else
        st->tw_head = i;
    if (next != TW_NIL)
        st->tw[next].fprev = i;
    else
        st->tw_tail = i;
}

/* Takes a record from the free list, growing the array by doubling (indices,
 * not pointers, refer to records, so moving them is safe). */
static uint32_t tw_alloc(tw_stack *st) {
    if (st->tw_free == TW_NIL) {
        if (st->tw_cap >= st->cfg.max_time_wait) return TW_NIL;
        uint32_t ncap = st->tw_cap ? st->tw_cap * 2 : 256;
        if (ncap > st->cfg.max_time_wait) ncap = st->cfg.max_time_wait;
        size_t bytes = (size_t)ncap * sizeof(tw_twrec);
        tw_twrec *n;
        if (bytes < TW_BIGMEM_MIN) {
            n = realloc(st->tw, bytes);
        } else {
            /* A fresh block marked for huge pages before the copy touches
             * it (realloc would move the old 4 KB pages as they are). */
            n = malloc(bytes);
            tw_bigmem_hint(n, bytes);
            if (n && st->tw) memcpy(n, st->tw, (size_t)st->tw_cap * sizeof(tw_twrec));
            if (n) free(st->tw);
        }
        if (!n) return TW_NIL;
        st->tw = n;
        for (uint32_t k = ncap; k-- > st->tw_cap;) { /* lowest index popped first */
            st->tw[k].live = 0;
            st->tw[k].fnext = st->tw_free;
            st->tw_free = k;
        }
        st->tw_cap = ncap;
    }
    uint32_t i = st->tw_free;
    st->tw_free = st->tw[i].fnext;
    return i;
}

uint32_t tw__tw_insert(tw_stack *st, const tw_tcp_conn *c, uint32_t hash) {
    uint32_t i = tw_alloc(st);
    if (i == TW_NIL) return TW_NIL;
    tw_twrec *r = &st->tw[i];
    memset(r, 0, sizeof *r);
    r->expiry = c->t_2msl;
    r->raddr = c->raddr;
    r->lport = c->lport;
    r->rport = c->rport;
    r->snd_nxt = c->snd_max.v;
    r->rcv_nxt = c->rcv_nxt.v;
    r->id = c->id;
    r->wnd = (uint16_t)tw__tcp_rcv_window(c);
    r->live = 1;
    r->flags = (c->xopts & TW_XO_TS) ? TW_RF_TS : 0;
    r->ts_recent = c->ts_recent;
    r->hnext = TW_NIL;
    r->hash = hash;
    insert_entry(st, i | TW_TWBIT, hash);
    fifo_insert(st, i);
    st->tw_count++;
    return i;
}

void tw__tw_remove(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    if (r->flags & TW_RF_SUSP) {
        /* Out of the table already; the child no longer has a record to
         * return to. */
        tw__slot(st, r->hnext)->tw_susp = TW_NIL;
        st->tw_nsusp--;
    } else {
        remove_entry(st, i | TW_TWBIT, r->hash);
    }
    fifo_unlink(st, i);
    r->live = 0;
    r->fnext = st->tw_free;
    st->tw_free = i;
    st->tw_count--;
}

void tw__tw_suspend(tw_stack *st, uint32_t i, uint32_t slot) {
    tw_twrec *r = &st->tw[i];
    remove_entry(st, i | TW_TWBIT, r->hash);
    r->flags |= TW_RF_SUSP;
    r->hnext = slot;
    st->tw_nsusp++;
}

void tw__tw_resume(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    r->flags &= (uint8_t)~TW_RF_SUSP;
    r->hnext = TW_NIL;
    st->tw_nsusp--;
    insert_entry(st, i | TW_TWBIT, r->hash);
}

#if defined(__GNUC__)
#define TW_PREFETCH(p) __builtin_prefetch(p)
#else
#define TW_PREFETCH(p) ((void)(p))
#endif

/* With 10^6 records the expiring one, its bucket and the chain ahead of it
 * are long out of cache (and of the TLB). They are known in advance (FIFO
 * order), so each expiry warms the next ones as a pipeline, one step per
 * record: the third record's line, the second's bucket, the first chain
 * entry in front of the next record (the bucket read was warmed by the
 * previous step). Only reads and prefetches: nothing changes. */
void tw__tw_prefetch(const tw_stack *st) {
    uint32_t h1 = st->tw_head;
    if (h1 == TW_NIL) return;
    const tw_twrec *r1 = &st->tw[h1];
    uint32_t e = st->buckets[bucket_of(st, r1->hash)];
    if (e != (h1 | TW_TWBIT) && e != TW_NIL) TW_PREFETCH(next_of((tw_stack *)st, e));
    uint32_t h2 = r1->fnext;
    if (h2 == TW_NIL) return;
    TW_PREFETCH(&st->buckets[bucket_of(st, st->tw[h2].hash)]);
    if (st->tw[h2].fnext != TW_NIL) TW_PREFETCH(&st->tw[st->tw[h2].fnext]);
}

void tw__tw_restart(tw_stack *st, uint32_t i, uint64_t expiry) {
    /* Same 2MSL for all, so the restarted record belongs at the tail. */
    st->tw[i].expiry = expiry;
    fifo_unlink(st, i);
    fifo_insert(st, i);
}

/* ---- ports ---- */

bool tw__port_listening(const tw_stack *st, uint16_t port, uint32_t *li) {
    const uint32_t *page = st->lmap[port >> 8];
    uint32_t v = page ? page[port & 0xffu] : 0;
    if (v == 0) return false;
    if (li) *li = v - 1;
    return true;
}

/* Records listener li for its port; fails only when a map page cannot be
 * had (nothing changed then). */
int tw__listener_map(tw_stack *st, uint16_t port, uint32_t li) {
    uint32_t **page = &st->lmap[port >> 8];
    if (!*page && !(*page = calloc(256, sizeof **page))) return -TW_ENOMEM;
    (*page)[port & 0xffu] = li + 1;
    return 0;
}

void tw__listener_unmap(tw_stack *st, uint16_t port) {
    if (st->lmap[port >> 8]) st->lmap[port >> 8][port & 0xffu] = 0;
}

bool tw__port_used(const tw_stack *st, uint16_t port) {
    return (st->port_used[port >> 6] >> (port & 63u)) & 1u;
}

void tw__port_hold(tw_stack *st, uint16_t port) {
    if (port) st->port_used[port >> 6] |= (uint64_t)1 << (port & 63u);
}

void tw__port_drop(tw_stack *st, uint16_t port) {
    if (port) st->port_used[port >> 6] &= ~((uint64_t)1 << (port & 63u));
}

/* The memo of destination raddr:rport, (re)made on a miss. Indexed by a
 * cheap mix: destinations are chosen by local applications, and a clash
 * only costs a recomputation. */
static tw_destc *dest_entry(tw_stack *st, uint32_t raddr, uint16_t rport) {
    uint32_t i = ((raddr * 0x9e3779b1u) ^ (rport * 0x85ebca6bu)) >> 24;
    tw_destc *d = &st->destc[i % TW_DESTC];
    if (!d->valid || d->raddr != raddr || d->rport != rport) {
        d->f = tw_hash_tuple(st->key, st->cfg.addr, 0, raddr, rport);
        d->raddr = raddr;
        d->rport = rport;
        d->valid = 1;
        d->next_valid = 0;
    }
    return d;
}

static uint16_t candidate(const tw_stack *st, uint64_t f, uint32_t ctr) {
    uint32_t lo = st->cfg.ephemeral_lo, n = st->cfg.ephemeral_hi - lo + 1u;
    return (uint16_t)(lo + ((uint32_t)f + ctr) % n);
}

/* With 10^6 TIME_WAIT records the candidate's bucket (and, often, a record
 * chained there) is a cache and TLB miss, the main cost of a connect. The
 * next candidate of a destination is known once a port is taken, so its
 * 4-tuple hash is computed then (the next connect to it takes that value
 * instead of hashing again) and its bucket prefetched; the next connect,
 * to any destination, prefetches that bucket's first entry (warm_chain). */
static void warm_next(tw_stack *st, tw_destc *d, uint32_t ctr) {
    uint16_t p = candidate(st, d->f, ctr);
    d->next_hash = tw__tuple_hash(st, d->raddr, p, d->rport);
    d->next_ctr = ctr;
    d->next_valid = 1;
    st->warm_bucket = bucket_of(st, (uint32_t)d->next_hash);
    TW_PREFETCH(&st->buckets[st->warm_bucket]);
}

static void warm_chain(tw_stack *st) {
    if (st->warm_bucket < st->nbuckets && st->buckets[st->warm_bucket] != TW_NIL)
        TW_PREFETCH(next_of(st, st->buckets[st->warm_bucket]));
    st->warm_bucket = TW_NIL;
}

/* RFC 6056 §3.3.4 (Algorithm 4, double-hash): port = lo + (F(dest) +
 * counter[G(dest)]) mod n, the counter moving on by one at every try. So
 * successive connections to one destination take successive ports: the next
 * candidate is the port used longest ago, which TIME_WAIT's FIFO expiry has
 * already freed, instead of a random one that is likely still held (at 90%
 * of the range in TIME_WAIT a random start needed ~27 probes). F and G are
 * the low and high halves of one keyed SipHash of the destination, so
 * neither is predictable off-host. A counter starts at a random value on
 * first use; that makes a stack's first connection to a destination take
 * the port the former random-start probe took. Every candidate is still
 * checked: no socket holds the port (listeners included) and its 4-tuple is
 * neither live nor in TIME_WAIT. */
int tw__pick_port(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t *out, uint64_t *hash) {
    uint32_t n = st->cfg.ephemeral_hi - st->cfg.ephemeral_lo + 1u;
    tw_destc *d = dest_entry(st, raddr, rport);
    uint32_t g = (uint32_t)(d->f >> 32) % TW_PORT_CTRS;
    uint32_t *ctr = &st->port_ctr[g];
    uint64_t bit = (uint64_t)1 << (g & 63u);
    if (!(st->port_ctr_set[g >> 6] & bit)) {
        *ctr = (uint32_t)tw_rng_below(&st->rng, n);
        st->port_ctr_set[g >> 6] |= bit;
    }
    warm_chain(st);
    for (uint32_t k = 0; k < n; k++) {
        uint32_t c = (*ctr)++;
        uint16_t p = candidate(st, d->f, c);
        if (tw__port_used(st, p)) continue; /* held by a socket (listeners too) */
        uint64_t h =
            d->next_valid && d->next_ctr == c ? d->next_hash : tw__tuple_hash(st, raddr, p, rport);
        if (tw__table_find(st, (uint32_t)h, raddr, p, rport) != TW_NIL)
            continue; /* live or TIME_WAIT */
        *out = p;
        *hash = h;
        warm_next(st, d, *ctr);
        return 0;
    }
    d->next_valid = 0;
    return -TW_EADDRNOTAVAIL;
}

/* ---- axioms (stack.h), checked by tests after every step ---- */

static void check_fail(const char *what, uint32_t a, uint32_t b) {
    fprintf(stderr, "tw__stack_check: %s (%u, %u)\n", what, a, b);
    abort();
}

/* First bucket from b on that holds an entry, or n. Most buckets are empty:
 * sixteen (one cache line) are tested at once with an AND the compiler
 * vectorizes (the fuzzer runs the checker after every step). The group is
 * read through a pointer: indexed as bk[b + k] with 32-bit b, the loads
 * could wrap around and stayed scalar. */
TW_CHECKER static uint32_t next_used_bucket(const uint32_t *bk, uint32_t b, uint32_t n) {
    for (; b < n && (b & 15u); b++)
        if (bk[b] != TW_NIL) return b;
    for (; b + 16 <= n; b += 16) {
        const uint32_t *g = bk + b;
        uint32_t all = TW_NIL;
        for (int k = 0; k < 16; k++) all &= g[k];
        if (all != TW_NIL) break;
    }
    for (; b < n; b++)
        if (bk[b] != TW_NIL) return b;
    return n;
}

/* A table entry's 4-tuple, stored hash and chain link, read by the checker
 * itself (not through the table code it checks, whose compares a fuzz
 * build would also trace: 8% of fuzz_stack's time) after checking that e
 * is in range and live. */
typedef struct ck_entry {
    uint32_t raddr, hash, next;
    uint16_t lport, rport;
    bool tw;
} ck_entry;

TW_CHECKER static ck_entry ck_read(const tw_stack *st, uint32_t e, uint32_t b) {
    if (e & TW_TWBIT) {
        if ((e & ~TW_TWBIT) >= st->tw_cap) check_fail("record index out of range", e, b);
        const tw_twrec *r = &st->tw[e & ~TW_TWBIT];
        if (!r->live) check_fail("dead record in table", e, b);
        return (ck_entry){r->raddr, r->hash, r->hnext, r->lport, r->rport, true};
    }
    if (e >= st->slot_hwm) check_fail("slot index out of range", e, b);
    const tw_slot *s = tw__slot(st, e);
    if (!s->in_use || !s->in_hash) check_fail("stale slot in table", e, b);
    return (ck_entry){s->c.raddr, s->hash, s->hnext, s->c.lport, s->c.rport, false};
}

/* Every table entry is live, in the bucket its 4-tuple hashes to, and the
 * first of its chain with that 4-tuple (so no two entries share one, and a
 * lookup, which returns the first match, finds it). Returns the slot
 * entries seen. */
TW_CHECKER static uint32_t check_table(const tw_stack *st) {
    uint32_t seen_tw = 0, seen_slots = 0;
    for (uint32_t b = 0; (b = next_used_bucket(st->buckets, b, st->nbuckets)) < st->nbuckets; b++) {
        for (uint32_t e = st->buckets[b]; e != TW_NIL;) {
            ck_entry k = ck_read(st, e, b);
            seen_tw += k.tw;
            seen_slots += !k.tw;
            if (seen_tw + seen_slots > st->nhashed) check_fail("more entries than hashed", e, b);
            if ((uint32_t)tw__tuple_hash(st, k.raddr, k.lport, k.rport) != k.hash)
                check_fail("stored hash is not the 4-tuple's", e, b);
            if (bucket_of(st, k.hash) != b) check_fail("entry in the wrong bucket", e, b);
            for (uint32_t f = st->buckets[b]; f != e;) {
                ck_entry o = ck_read(st, f, b);
                if (o.raddr == k.raddr && o.lport == k.lport && o.rport == k.rport)
                    check_fail("4-tuple shared", e, b);
                f = o.next;
            }
            e = k.next;
        }
    }
    if (seen_tw + st->tw_nsusp != st->tw_count)
        check_fail("TIME_WAIT count mismatch", seen_tw + st->tw_nsusp, st->tw_count);
    if (seen_tw + seen_slots != st->nhashed)
        check_fail("table entry count", seen_tw + seen_slots, st->nhashed);
    return seen_slots;
}

/* The expiry FIFO holds exactly the live records, doubly linked, in order. */
TW_CHECKER static void check_fifo(const tw_stack *st) {
    uint64_t last = 0;
    uint32_t n = 0, prev = TW_NIL, nsusp = 0;
    for (uint32_t i = st->tw_head; i != TW_NIL; prev = i, i = st->tw[i].fnext, n++) {
        const tw_twrec *r = &st->tw[i];
        if (n > st->tw_count || !r->live) check_fail("FIFO holds a dead record", i, n);
        if (r->fprev != prev) check_fail("FIFO back link", i, prev);
        if (r->expiry < last) check_fail("FIFO out of order", i, n);
        last = r->expiry;
        if (r->flags & TW_RF_SUSP) { /* held by a live SYN_RECEIVED child pointing back */
            if (r->hnext >= st->slot_hwm)
                check_fail("suspended record's child out of range", i, r->hnext);
            const tw_slot *s = tw__slot(st, r->hnext);
            if (!s->in_use || s->tw_susp != i || s->c.state != TW_SYN_RECEIVED)
                check_fail("suspended record's child", i, r->hnext);
            nsusp++;
        }
    }
    if (prev != st->tw_tail) check_fail("FIFO tail", prev, st->tw_tail);
    if (n != st->tw_count) check_fail("FIFO length mismatch", n, st->tw_count);
    if (nsusp != st->tw_nsusp) check_fail("suspended record count", nsusp, st->tw_nsusp);
}

/* Slots: live count, table membership of every open connection, the wheel
 * entry armed exactly at the connection's deadline (for slots with no
 * output pending: a user call may have moved a deadline since), sockets and
 * listeners pointing back. */
TW_CHECKER static void check_slots(const tw_stack *st, uint32_t slots_in_table) {
    uint32_t live = 0, hashed = 0;
    /* Slots from slot_hwm on were never handed out: a live one there would
     * also break the live count below (nlive counts every hand-out). */
    if (st->slot_hwm > st->nslots) check_fail("slot high-water mark", st->slot_hwm, st->nslots);
    for (uint32_t i = 0; i < st->slot_hwm; i++) {
        const tw_slot *s = tw__slot(st, i);
        if (!s->in_use) continue;
        live++;
        hashed += s->in_hash;
        const tw_tcp_conn *c = &s->c;
        if (c->state != TW_CLOSED && !s->in_hash)
            check_fail("open connection not in table", i, c->state);
        if (!s->dirty) {
            tw_time_t d = tw_tcp_next_deadline(c);
            bool armed = tw_wheel_armed(&s->timer);
            if (armed != (d != TW_TIME_NEVER) || (armed && s->timer.expiry != d))
                check_fail("wheel entry does not match the deadline", i, armed);
        }
        if (s->sock >= 0) {
            uint32_t k = (uint32_t)s->sock & 0xffffu;
            if (k >= st->nsocks || st->socks[k].kind != TW_SK_CONN || st->socks[k].ref != i)
                check_fail("slot's socket does not point back", i, k);
        }
        if (s->listener >= 0 &&
            ((uint32_t)s->listener >= st->nlisteners || !st->listeners[s->listener].in_use))
            check_fail("slot's listener is gone", i, (uint32_t)s->listener);
        if (s->tw_susp != TW_NIL &&
            (s->tw_susp >= st->tw_cap || !(st->tw[s->tw_susp].flags & TW_RF_SUSP) ||
             st->tw[s->tw_susp].hnext != i))
            check_fail("child's suspended record does not point back", i, s->tw_susp);
    }
    if (live != st->nlive) check_fail("live slot count", live, st->nlive);
    if (hashed != slots_in_table) check_fail("slots in table", hashed, slots_in_table);
    for (uint32_t li = 0; li < st->nlisteners; li++) {
        const tw_listener *l = &st->listeners[li];
        if (!l->in_use) continue;
        uint32_t children = 0;
        for (uint32_t i = 0; i < st->slot_hwm; i++) {
            const tw_slot *s = tw__slot(st, i);
            children += s->in_use && s->listener == (int32_t)li;
        }
        if (children != l->pending) check_fail("listener pending count", children, l->pending);
        for (uint32_t i = l->acc_head; i != TW_NIL; i = tw__slot(st, i)->acc_next) {
            const tw_slot *s = tw__slot(st, i);
            if (!s->in_use || s->listener != (int32_t)li || !s->accept_ready)
                check_fail("accept queue holds a stranger", i, li);
        }
    }
}

/* The port bitmap is exactly the ports held by sockets (one socket per
 * port), the listener map exactly the live listeners, and the free-socket
 * bitmap exactly the free socket entries. */
TW_CHECKER static void check_ports(const tw_stack *st) {
    uint32_t held = 0, bits = 0, listening = 0, mapped = 0;
    for (uint32_t i = 0; i < st->nsocks; i++) {
        const tw_sockent *e = &st->socks[i];
        bool free_bit = (st->sock_free[i >> 6] >> (i & 63u)) & 1u;
        if (free_bit != (e->kind == TW_SK_FREE)) check_fail("free-socket bitmap", i, free_bit);
        if (((st->sock_sum[i >> 12] >> ((i >> 6) & 63u)) & 1u) != (st->sock_free[i >> 6] != 0))
            check_fail("free-socket summary", i, 0);
        if (e->kind == TW_SK_FREE || e->port == 0) continue;
        held++;
        if (!tw__port_used(st, e->port)) check_fail("held port not in the bitmap", i, e->port);
    }
    for (uint32_t w = 0; w < 65536 / 64; w += 16) { /* mostly zero: skip 16 words at once */
        uint64_t any = 0;
        for (uint32_t k = 0; k < 16; k++) any |= st->port_used[w + k];
        if (!any) continue;
        for (uint32_t k = 0; k < 16; k++)
            bits += (uint32_t)__builtin_popcountll(st->port_used[w + k]);
    }
    if (bits != held) check_fail("port bitmap holds ports no socket holds", bits, held);
    for (uint32_t li = 0; li < st->nlisteners; li++) {
        const tw_listener *l = &st->listeners[li];
        if (!l->in_use) continue;
        listening++;
        uint32_t got;
        if (!tw__port_listening(st, l->port, &got) || got != li)
            check_fail("listener map", li, l->port);
        if (!tw__port_used(st, l->port)) check_fail("listening port not held", li, l->port);
    }
    /* Pages of the listener map exist only where a port was ever listened
     * on: 32 page pointers are tested at once (an OR the compiler
     * vectorizes; in groups of 8 it stayed scalar), then a page's 256 entries
     * counted in one vectorized pass. */
    for (uint32_t pg = 0; pg < 256; pg += 32) {
        const uint32_t *const *grp = (const uint32_t *const *)st->lmap + pg;
        uintptr_t any = 0;
        for (int k = 0; k < 32; k++) any |= (uintptr_t)grp[k];
        if (!any) continue;
        for (uint32_t q = pg; q < pg + 32; q++) {
            const uint32_t *page = st->lmap[q];
            if (!page) continue;
            uint32_t inpage = 0;
            for (int k = 0; k < 256; k++) inpage += page[k] != 0;
            mapped += inpage;
        }
    }
    if (mapped != listening) check_fail("listener map holds stale ports", mapped, listening);
}

TW_CHECKER void tw__stack_check(const tw_stack *st) {
    uint32_t slots = check_table(st);
    check_fifo(st);
    check_slots(st, slots);
    check_ports(st);
}
