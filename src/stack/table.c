/* table.c - the 4-tuple table, compact TIME_WAIT records and ports.
 *
 * One chained hash table (keyed SipHash under a per-stack secret, so a remote
 * peer cannot aim at one bucket) holds both full connections and TIME_WAIT
 * records; chains link 32-bit indices, and the top bit tells a record from a
 * slot. Records live in one growable array and form a FIFO by expiry: 2MSL is
 * the same for every record, so expiring is popping the head, in O(1).
 * Ephemeral ports are chosen as in RFC 6056 §3.3.3 (a hashed starting point
 * per destination) and skip any 4-tuple still in the table, TIME_WAIT
 * included, so a new connection never lands on an old one's 4-tuple. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"
#include "util/hash.h"

static uint32_t bucket_of(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport) {
    uint64_t h = tw_hash_tuple(st->key, st->cfg.addr, lport, raddr, rport);
    return (uint32_t)h & (st->nbuckets - 1);
}

int tw__table_init(tw_stack *st) {
    uint32_t want = st->cfg.max_conns + (st->cfg.max_time_wait < (1u << 20) ? st->cfg.max_time_wait : (1u << 20));
    uint32_t n = 1024;
    while (n < want && n < (1u << 22)) n <<= 1;
    st->buckets = malloc((size_t)n * sizeof *st->buckets);
    if (!st->buckets) return -TW_ENOMEM;
    memset(st->buckets, 0xff, (size_t)n * sizeof *st->buckets);
    st->nbuckets = n;
    st->tw_free = st->tw_head = st->tw_tail = TW_NIL;
    return 0;
}

void tw__table_free(tw_stack *st) {
    free(st->buckets);
    free(st->tw);
    st->buckets = NULL;
    st->tw = NULL;
}

static bool entry_matches(const tw_stack *st, uint32_t e, uint32_t raddr, uint16_t lport,
                          uint16_t rport) {
    if (e & TW_TWBIT) {
        const tw_twrec *r = &st->tw[e & ~TW_TWBIT];
        return r->raddr == raddr && r->lport == lport && r->rport == rport;
    }
    const tw_tcp_conn *c = &tw__slot(st, e)->c;
    return c->raddr == raddr && c->lport == lport && c->rport == rport;
}

static uint32_t *next_of(tw_stack *st, uint32_t e) {
    if (e & TW_TWBIT) return &st->tw[e & ~TW_TWBIT].hnext;
    return &tw__slot(st, e)->hnext;
}

uint32_t tw__table_lookup(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport) {
    uint32_t e = st->buckets[bucket_of(st, raddr, lport, rport)];
    while (e != TW_NIL) {
        if (entry_matches(st, e, raddr, lport, rport)) return e;
        e = *next_of((tw_stack *)st, e);
    }
    return TW_NIL;
}

static void insert_entry(tw_stack *st, uint32_t e, uint32_t b) {
    *next_of(st, e) = st->buckets[b];
    st->buckets[b] = e;
}

static void remove_entry(tw_stack *st, uint32_t e, uint32_t b) {
    uint32_t *p = &st->buckets[b];
    while (*p != TW_NIL) {
        if (*p == e) {
            *p = *next_of(st, e);
            *next_of(st, e) = TW_NIL;
            return;
        }
        p = next_of(st, *p);
    }
}

void tw__table_insert_slot(tw_stack *st, tw_slot *s) {
    if (s->in_hash) return;
    insert_entry(st, s->idx, bucket_of(st, s->c.raddr, s->c.lport, s->c.rport));
    s->in_hash = 1;
}

void tw__table_remove_slot(tw_stack *st, tw_slot *s) {
    if (!s->in_hash) return;
    remove_entry(st, s->idx, bucket_of(st, s->c.raddr, s->c.lport, s->c.rport));
    s->in_hash = 0;
}

static void fifo_unlink(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    if (r->fprev != TW_NIL) st->tw[r->fprev].fnext = r->fnext;
    else st->tw_head = r->fnext;
    if (r->fnext != TW_NIL) st->tw[r->fnext].fprev = r->fprev;
    else st->tw_tail = r->fprev;
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
    if (prev != TW_NIL) st->tw[prev].fnext = i;
    else st->tw_head = i;
    if (next != TW_NIL) st->tw[next].fprev = i;
    else st->tw_tail = i;
}

/* Takes a record from the free list, growing the array by doubling (indices,
 * not pointers, refer to records, so moving them is safe). */
static uint32_t tw_alloc(tw_stack *st) {
    if (st->tw_free == TW_NIL) {
        if (st->tw_cap >= st->cfg.max_time_wait) return TW_NIL;
        uint32_t ncap = st->tw_cap ? st->tw_cap * 2 : 256;
        if (ncap > st->cfg.max_time_wait) ncap = st->cfg.max_time_wait;
        tw_twrec *n = realloc(st->tw, (size_t)ncap * sizeof *n);
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

uint32_t tw__tw_insert(tw_stack *st, const tw_tcp_conn *c) {
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
    r->hnext = TW_NIL;
    insert_entry(st, i | TW_TWBIT, bucket_of(st, r->raddr, r->lport, r->rport));
    fifo_insert(st, i);
    st->tw_count++;
    return i;
}

void tw__tw_remove(tw_stack *st, uint32_t i) {
    tw_twrec *r = &st->tw[i];
    remove_entry(st, i | TW_TWBIT, bucket_of(st, r->raddr, r->lport, r->rport));
    fifo_unlink(st, i);
    r->live = 0;
    r->fnext = st->tw_free;
    st->tw_free = i;
    st->tw_count--;
}

void tw__tw_restart(tw_stack *st, uint32_t i, uint64_t expiry) {
    /* Same 2MSL for all, so the restarted record belongs at the tail. */
    st->tw[i].expiry = expiry;
    fifo_unlink(st, i);
    fifo_insert(st, i);
}

bool tw__port_listening(const tw_stack *st, uint16_t port, uint32_t *li) {
    for (uint32_t i = 0; i < st->nlisteners; i++) {
        if (st->listeners[i].in_use && st->listeners[i].port == port) {
            if (li) *li = i;
            return true;
        }
    }
    return false;
}

static bool port_bound(const tw_stack *st, uint16_t port) {
    for (uint32_t i = 0; i < st->nsocks; i++)
        if (st->socks[i].kind != TW_SK_FREE && st->socks[i].port == port) return true;
    return false;
}

int tw__pick_port(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t *out) {
    uint32_t lo = st->cfg.ephemeral_lo, hi = st->cfg.ephemeral_hi;
    uint32_t n = hi - lo + 1;
    uint32_t base = (uint32_t)tw_hash_tuple(st->key, st->cfg.addr, 0, raddr, rport);
    uint32_t start = (uint32_t)tw_rng_below(&st->rng, n);
    for (uint32_t k = 0; k < n; k++) {
        uint16_t p = (uint16_t)(lo + (base + start + k) % n);
        if (tw__table_lookup(st, raddr, p, rport) != TW_NIL) continue; /* live or TIME_WAIT */
        if (tw__port_listening(st, p, NULL) || port_bound(st, p)) continue;
        *out = p;
        return 0;
    }
    return -TW_EADDRNOTAVAIL;
}

/* ---- axioms (stack.h), checked by tests after every step ---- */

static void check_fail(const char *what, uint32_t a, uint32_t b) {
    fprintf(stderr, "tw__stack_check: %s (%u, %u)\n", what, a, b);
    abort();
}

/* Every table entry is live, found again by its own 4-tuple (so no two
 * entries share one: a lookup returns the first match) and in the bucket
 * its 4-tuple hashes to. Returns the slot entries seen. */
static uint32_t check_table(const tw_stack *st) {
    uint32_t seen_tw = 0, seen_slots = 0;
    for (uint32_t b = 0; b < st->nbuckets; b++) {
        for (uint32_t e = st->buckets[b]; e != TW_NIL; e = *next_of((tw_stack *)st, e)) {
            uint32_t raddr;
            uint16_t lport, rport;
            if (e & TW_TWBIT) {
                if ((e & ~TW_TWBIT) >= st->tw_cap) check_fail("record index out of range", e, b);
                const tw_twrec *r = &st->tw[e & ~TW_TWBIT];
                if (!r->live) check_fail("dead record in table", e, b);
                raddr = r->raddr, lport = r->lport, rport = r->rport;
                seen_tw++;
            } else {
                if (e >= st->nslots) check_fail("slot index out of range", e, b);
                const tw_slot *s = tw__slot(st, e);
                if (!s->in_use || !s->in_hash) check_fail("stale slot in table", e, b);
                raddr = s->c.raddr, lport = s->c.lport, rport = s->c.rport;
                seen_slots++;
            }
            if (bucket_of(st, raddr, lport, rport) != b)
                check_fail("entry in the wrong bucket", e, b);
            if (tw__table_lookup(st, raddr, lport, rport) != e) check_fail("4-tuple shared", e, b);
        }
    }
    if (seen_tw != st->tw_count) check_fail("TIME_WAIT count mismatch", seen_tw, st->tw_count);
    return seen_slots;
}

/* The expiry FIFO holds exactly the live records, doubly linked, in order. */
static void check_fifo(const tw_stack *st) {
    uint64_t last = 0;
    uint32_t n = 0, prev = TW_NIL;
    for (uint32_t i = st->tw_head; i != TW_NIL; prev = i, i = st->tw[i].fnext, n++) {
        const tw_twrec *r = &st->tw[i];
        if (n > st->tw_count || !r->live) check_fail("FIFO holds a dead record", i, n);
        if (r->fprev != prev) check_fail("FIFO back link", i, prev);
        if (r->expiry < last) check_fail("FIFO out of order", i, n);
        last = r->expiry;
    }
    if (prev != st->tw_tail) check_fail("FIFO tail", prev, st->tw_tail);
    if (n != st->tw_count) check_fail("FIFO length mismatch", n, st->tw_count);
}

/* Slots: live count, table membership of every open connection, the wheel
 * entry armed exactly at the connection's deadline (for slots with no
 * output pending: a user call may have moved a deadline since), sockets and
 * listeners pointing back. */
static void check_slots(const tw_stack *st, uint32_t slots_in_table) {
    uint32_t live = 0, hashed = 0;
    for (uint32_t i = 0; i < st->nslots; i++) {
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
    }
    if (live != st->nlive) check_fail("live slot count", live, st->nlive);
    if (hashed != slots_in_table) check_fail("slots in table", hashed, slots_in_table);
    for (uint32_t li = 0; li < st->nlisteners; li++) {
        const tw_listener *l = &st->listeners[li];
        if (!l->in_use) continue;
        uint32_t children = 0;
        for (uint32_t i = 0; i < st->nslots; i++) {
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

void tw__stack_check(const tw_stack *st) {
    uint32_t slots = check_table(st);
    check_fifo(st);
    check_slots(st, slots);
}
