/* stack.c - many connections on one address: packet in, segments out.
 *
 * tw_stack_input() checks and parses a packet (wire/), finds its connection
 * by 4-tuple, its TIME_WAIT record, or a listener, and otherwise answers with
 * an RST (RFC 9293 §3.10.7.1). tw_stack_poll() expires TIME_WAIT records,
 * runs connection timers from the timing wheel and sends what user calls
 * queued. After each connection is touched, tw__settle() turns its event bits
 * into socket events, replaces a closed-by-user connection in TIME_WAIT with
 * a compact record, frees dead connections and re-arms the wheel. Trace
 * events are queued and handed to the observer at the end of each step. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "stack/stack.h"

static void conn_emit(void *ctx, const tw_tcp_seg *s, unsigned meta);

/* ---- trace and event queues ---- */

static void trace_push(void *ctx, const tw_trace_ev *ev) {
    tw_stack *st = ctx;
    if (!st->cfg.trace) return;
    if (st->trace_n == st->trace_cap) {
        uint32_t ncap = st->trace_cap ? st->trace_cap * 2 : 256;
        tw_trace_ev *n = realloc(st->trace_q, (size_t)ncap * sizeof *n);
        if (!n) return; /* observation is best effort; the stack goes on */
        st->trace_q = n;
        st->trace_cap = ncap;
    }
    st->trace_q[st->trace_n++] = *ev;
}

static void trace_flush(tw_stack *st) {
    /* Copy out first: the observer may not call in, but be robust anyway. */
    for (uint32_t i = 0; i < st->trace_n; i++) st->cfg.trace(st->cfg.trace_ctx, &st->trace_q[i]);
    st->trace_n = 0;
}

static void trace_seg(tw_stack *st, uint32_t id, tw_state state, tw_ev_kind kind,
                      const tw_tcp_seg *s, unsigned meta, uint16_t reason) {
    if (!st->cfg.trace) return;
    tw_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.t = st->now;
    ev.conn_id = id;
    ev.kind = (uint8_t)kind;
    ev.old_state = ev.new_state = (uint8_t)state;
    ev.reason = reason;
    ev.flags = s->flags;
    /* RFC 3168 §5: the ECN field of the packet, both ways. */
    uint8_t ecn = s->ip_tos & 3u;
    if (ecn) meta |= ecn == 3u ? TW_SEGMETA_CE : TW_SEGMETA_ECT;
    ev.meta = (uint8_t)meta;
    ev.seq = s->seq.v;
    ev.ack = s->ack.v;
    ev.len = s->len;
    ev.wnd = s->wnd;
    bool out = kind == TW_EV_SEG_OUT;
    ev.laddr = out ? s->src_addr : s->dst_addr;
    ev.raddr = out ? s->dst_addr : s->src_addr;
    ev.lport = out ? s->src_port : s->dst_port;
    ev.rport = out ? s->dst_port : s->src_port;
    trace_push(st, &ev);
}

void tw__trace_user(tw_stack *st, const tw_tcp_conn *c, tw_user_call call, uint32_t len) {
    if (!st->cfg.trace) return;
    tw_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.t = st->now;
    ev.conn_id = c ? c->id : 0;
    ev.kind = TW_EV_USER;
    ev.cause = (uint8_t)call;
    ev.len = len;
    if (c) {
        ev.old_state = ev.new_state = (uint8_t)c->state;
        ev.laddr = c->laddr;
        ev.raddr = c->raddr;
        ev.lport = c->lport;
        ev.rport = c->rport;
    }
    trace_push(st, &ev);
}

/* The queued event of handle `sock`, or NULL. A socket entry remembers the
 * queue number of the latest event queued for its index (ev_seq), so this
 * is O(1): that event is still queued when fewer than ev_n events were
 * taken since, and it is this handle's when the generation matches
 * (alloc_sock marks a new handle's entry as having none). Should it belong
 * to another handle of the same index, which the stack never causes (it
 * queues nothing for closed handles), the queue is scanned as it always was. */
static tw_event *queued_event(tw_stack *st, int sock) {
    uint32_t idx = (uint32_t)sock & 0xffffu;
    if (sock < 0 || idx >= st->nsocks) return NULL;
    uint32_t k = st->socks[idx].ev_seq - st->ev_popped;
    if (k >= st->ev_n) return NULL; /* taken already, and so is any older one */
    tw_event *e = &st->ev_q[(st->ev_head + k) % st->ev_cap];
    if (e->sock == sock) return e;
    for (k = 0; k < st->ev_n; k++) {
        e = &st->ev_q[(st->ev_head + k) % st->ev_cap];
        if (e->sock == sock) return e;
    }
    return NULL;
}

/* One queued event per socket: a new one is merged (bits OR-ed, the latest
 * error kept) into the socket's queued event, which keeps its place. */
void tw__queue_event(tw_stack *st, int sock, uint32_t what, int err) {
    tw_event *q = queued_event(st, sock);
    if (q) {
        q->what |= what;
        if (err) q->err = err;
        return;
    }
    if (st->ev_n == st->ev_cap) {
        uint32_t ncap = st->ev_cap ? st->ev_cap * 2 : 64;
        tw_event *n = malloc((size_t)ncap * sizeof *n);
        if (!n) return;
        for (uint32_t k = 0; k < st->ev_n; k++) n[k] = st->ev_q[(st->ev_head + k) % st->ev_cap];
        free(st->ev_q);
        st->ev_q = n;
        st->ev_cap = ncap;
        st->ev_head = 0;
    }
    tw_event *e = &st->ev_q[(st->ev_head + st->ev_n) % st->ev_cap];
    e->sock = sock;
    e->what = what;
    e->err = err;
    uint32_t idx = (uint32_t)sock & 0xffffu;
    if (sock >= 0 && idx < st->nsocks) st->socks[idx].ev_seq = st->ev_popped + st->ev_n;
    st->ev_n++;
}

int tw_next_event(tw_stack *st, tw_event *ev) {
    if (st->ev_n == 0) return 0;
    *ev = st->ev_q[st->ev_head];
    st->ev_head = (st->ev_head + 1) % st->ev_cap;
    st->ev_n--;
    st->ev_popped++;
    return 1;
}

/* ---- construction ---- */

/* The 128-bit SipHash key behind ISNs, table hashing and timestamp offsets,
 * and the generator for ephemeral ports: from getrandom() for
 * TW_SEED_RANDOM (RFC 6528 §3: a secret the outside cannot guess), else
 * expanded from the seed so a run can be repeated exactly. */
static int seed_stack(tw_stack *st, uint64_t seed) {
    if (seed == TW_SEED_RANDOM) {
        uint8_t buf[24];
        size_t got = 0;
        while (got < sizeof buf) {
            ssize_t n = getrandom(buf + got, sizeof buf - got, 0);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return -1;
            got += (size_t)n;
        }
        memcpy(st->key, buf, 16);
        memcpy(&seed, buf + 16, 8);
        seed |= 1; /* any non-zero generator seed */
        tw_rng_seed(&st->rng, seed);
        return 0;
    }
    tw_rng_seed(&st->rng, seed);
    for (int i = 0; i < 16; i += 8) {
        uint64_t r = tw_rng_next(&st->rng);
        memcpy(st->key + i, &r, 8);
    }
    return 0;
}

void tw_stack_cfg_default(tw_stack_cfg *cfg) {
    tw_tcp_cfg t;
    tw_tcp_cfg_default(&t);
    memset(cfg, 0, sizeof *cfg);
    cfg->seed = TW_SEED_RANDOM;
    cfg->mss = t.mss;
    cfg->msl = t.msl;
    cfg->rto_initial = t.rto_initial;
    cfg->rto_min = t.rto_min;
    cfg->rto_max = t.rto_max;
    cfg->delack = t.delack;
    cfg->fin_wait_2_timeout = t.fin_wait_2_timeout;
    cfg->syn_retries = t.syn_retries;
    cfg->data_retries = t.data_retries;
    cfg->r1 = t.r1;
    cfg->ttl = t.ttl;
    cfg->tos = t.tos;
    cfg->delack_enabled = t.delack_enabled;
    cfg->delack_fin = t.delack_fin;
    cfg->delack_synack = t.delack_synack;
    cfg->nagle = t.nagle;
    cfg->rcvbuf = t.rcvbuf;
    cfg->sndbuf = t.sndbuf;
    cfg->ws = t.ws;
    cfg->timestamps = t.timestamps;
    cfg->sack = t.sack;
    cfg->ecn = t.ecn;
    cfg->cc = t.cc;
    cfg->hystart = t.hystart;
    cfg->max_conns = 4096;
    cfg->max_time_wait = 262144;
    cfg->ephemeral_lo = 32768;
    cfg->ephemeral_hi = 60999;
    cfg->syn_cookies = true;
}

static int check_cfg(const tw_stack_cfg *c) {
    if (c->mss < 64 || c->rcvbuf < 1 || c->sndbuf < 1 || c->max_conns == 0 ||
        c->max_conns > (1u << 24))
        return -TW_EINVAL;
    if (c->ephemeral_lo == 0 || c->ephemeral_lo > c->ephemeral_hi) return -TW_EINVAL;
    if (c->delack >= 500000000ull) return -TW_EINVAL; /* RFC 9293 MUST-40: < 0.5 s */
    if (c->rto_min == 0 || c->rto_min > c->rto_max || c->rto_initial == 0) return -TW_EINVAL;
    if (c->msl == 0) return -TW_EINVAL;
    if (c->ecn > TW_ECN_PASSIVE || c->cc > TW_CC_CUBIC) return -TW_EINVAL;
    return 0;
}

int tw_stack_new(const tw_stack_cfg *cfg, tw_link *link, tw_stack **out) {
    int rc = check_cfg(cfg);
    if (rc) return rc;
    tw_stack *st = calloc(1, sizeof *st);
    if (!st) return -TW_ENOMEM;
    st->cfg = *cfg;
    st->link = link;
    tw_tcp_cfg *t = &st->tcp;
    tw_tcp_cfg_default(t);
    t->mss = cfg->mss;
    t->msl = cfg->msl;
    t->rto_initial = cfg->rto_initial;
    t->rto_min = cfg->rto_min;
    t->rto_max = cfg->rto_max;
    t->delack = cfg->delack;
    t->fin_wait_2_timeout = cfg->fin_wait_2_timeout;
    t->syn_retries = cfg->syn_retries;
    t->data_retries = cfg->data_retries;
    t->r1 = cfg->r1;
    t->ttl = cfg->ttl ? cfg->ttl : 64; /* 0 would be dropped at the first router */
    t->tos = cfg->tos & 0xfc;          /* the two ECN bits stay 0: not ECN-capable */
    t->delack_enabled = cfg->delack_enabled;
    t->delack_fin = cfg->delack_fin;
    t->delack_synack = cfg->delack_synack;
    t->nagle = cfg->nagle;
    t->rcvbuf = cfg->rcvbuf;
    t->sndbuf = cfg->sndbuf;
    t->ws = cfg->ws;
    t->timestamps = cfg->timestamps;
    t->sack = cfg->sack;
    t->ecn = cfg->ecn;
    t->cc = cfg->cc;
    t->hystart = cfg->hystart;
    /* Without an observer the connections build no trace events at all. */
    st->env.trace = cfg->trace ? trace_push : NULL;
    st->env.trace_ctx = st;
    st->env.counters = st->counters;
    st->tx = (tw_tcp_tx){conn_emit, st, st->scratch, sizeof st->scratch};
    if (seed_stack(st, cfg->seed) != 0) {
        tw_stack_free(st);
        return -TW_EAGAIN; /* no random source */
    }
    st->next_conn_id = 1;
    st->slot_free = TW_NIL;
    st->dirty_head = TW_NIL;
    tw_wheel_init(&st->wheel, 0);
    if (tw__table_init(st) != 0) goto fail;
    *out = st;
    return 0;
fail:
    tw_stack_free(st);
    return -TW_ENOMEM;
}

void tw_stack_free(tw_stack *st) {
    if (!st) return;
    for (uint32_t i = 0; i < st->slot_hwm; i++) free(tw__slot(st, i)->mem);
    for (uint32_t i = 0; i < st->nmem_free; i++) free(st->mem_free[i]);
    for (uint32_t i = 0; i < st->nchunks; i++) free(st->chunks[i]);
    free(st->chunks);
    free(st->mem_free);
    tw__table_free(st);
    free(st->listeners);
    free(st->socks);
    free(st->sockset);
    free(st->sock_free);
    free(st->trace_q);
    free(st->ev_q);
    free(st);
}

/* ---- slots ---- */

/* tw__slot_new() clears hash and hnext, leaves the connection to
 * tw_tcp_init() and clears the rest from timer on: nothing else may sit in
 * between. */
_Static_assert(offsetof(tw_slot, c) == 2 * sizeof(uint32_t) &&
                   offsetof(tw_slot, timer) == offsetof(tw_slot, c) + sizeof(tw_tcp_conn),
               "tw_slot: only hash, hnext and c may precede timer");
_Static_assert(offsetof(tw_slot, in_use) > offsetof(tw_slot, idx) &&
                   offsetof(tw_slot, dirty) > offsetof(tw_slot, idx) &&
                   offsetof(tw_slot, mem) > offsetof(tw_slot, idx),
               "tw_slot: a new chunk clears the fields from idx on, which must hold these");
/* Slots are addressed as chunk[i % TW_SLOT_CHUNK] on every lookup: a
 * power-of-two size makes that a shift (the range bounds in tcp.h and
 * assembler.h are chosen to fill it; perf-ir counts the difference). */
_Static_assert(sizeof(void *) != 8 || sizeof(tw_slot) == 2048, "tw_slot: 2 KB on 64-bit hosts");

tw_slot *tw__slot_new(tw_stack *st) {
    if (st->nlive >= st->cfg.max_conns) return NULL;
    if (st->slot_free == TW_NIL) {
        /* Not calloc: clearing 512 KB for a stack that may only ever hold
         * a few connections was a tenth of the instructions of a fuzz_stack
         * execution. A slot's own fields are cleared here, so a free slot
         * reads as such (in_use 0, no buffer, not dirty); the rest is
         * cleared when the slot is handed out below. */
        tw_slot *chunk = malloc(TW_SLOT_CHUNK * sizeof *chunk);
        tw_slot **nc = realloc(st->chunks, (size_t)(st->nchunks + 1) * sizeof *nc);
        if (!chunk || !nc) {
            free(chunk);
            if (nc) st->chunks = nc;
            return NULL;
        }
        st->chunks = nc;
        st->chunks[st->nchunks++] = chunk;
        for (uint32_t k = TW_SLOT_CHUNK; k-- > 0;) {
            uint32_t idx = st->nslots + k;
            memset(&chunk[k].idx, 0, sizeof *chunk - offsetof(tw_slot, idx));
            chunk[k].idx = idx;
            chunk[k].hnext = st->slot_free;
            st->slot_free = idx;
        }
        st->nslots += TW_SLOT_CHUNK;
    }
    tw_slot *s = tw__slot(st, st->slot_free);
    uint8_t *mem = s->mem;
    if (!mem && st->nmem_free) mem = st->mem_free[--st->nmem_free];
    if (!mem) mem = malloc((size_t)st->cfg.sndbuf + st->cfg.rcvbuf);
    if (!mem) return NULL;
    st->slot_free = s->hnext;
    uint32_t idx = s->idx;
    if (idx >= st->slot_hwm) st->slot_hwm = idx + 1;
    /* A released slot may still sit in the dirty list of this step: keep its
     * link so the list stays whole (the new connection just gets an extra
     * output pass). */
    uint8_t dirty = s->dirty;
    uint32_t dirty_next = s->dirty_next;
    /* Clear the slot's own fields only: tw_tcp_init() below zeroes the
     * connection inside it, and clearing that twice cost ~90 instructions
     * per connection. */
    s->hash = 0;
    memset(&s->timer, 0, sizeof *s - offsetof(tw_slot, timer));
    s->idx = idx;
    s->mem = mem;
    s->in_use = 1;
    s->hnext = s->acc_next = TW_NIL;
    s->tw_susp = TW_NIL;
    s->dirty = dirty;
    s->dirty_next = dirty ? dirty_next : TW_NIL;
    s->sock = s->listener = -1;
    tw_wheel_entry_init(&s->timer);
    tw_tcp_init(&s->c, &st->tcp, &st->env, st->next_conn_id++, mem, mem + st->cfg.sndbuf, st->now);
    st->nlive++;
    return s;
}

void tw__slot_release(tw_stack *st, tw_slot *s) {
    tw__table_remove_slot(st, s);
    if (s->tw_susp != TW_NIL) {
        /* A child that reopened a TIME_WAIT 4-tuple died before ESTABLISHED
         * (the peer reset our SYN-ACK: its SYN was an old duplicate, or it
         * never answered): the 4-tuple goes back to TIME_WAIT for what is
         * left of its 2MSL (RFC 1122 §4.2.2.13, RFC 9293 MAY-2 (2)). */
        tw__tw_resume(st, s->tw_susp);
        s->tw_susp = TW_NIL;
        st->counters[TW_C_TW_REUSE_UNDONE]++;
    }
    tw_wheel_cancel(&st->wheel, &s->timer);
    if (s->listener >= 0) {
        tw_listener *l = &st->listeners[s->listener];
        if (l->pending) l->pending--;
        /* unlink from the accept queue if it was there */
        uint32_t *p = &l->acc_head, prev = TW_NIL;
        while (*p != TW_NIL) {
            if (*p == s->idx) {
                *p = s->acc_next;
                if (l->acc_tail == s->idx) l->acc_tail = prev;
                break;
            }
            prev = *p;
            p = &tw__slot(st, *p)->acc_next;
        }
    }
    /* Keep the buffer block for the next connection (no malloc per connection). */
    if (st->nmem_free == st->cap_mem_free) {
        uint32_t ncap = st->cap_mem_free ? st->cap_mem_free * 2 : 16;
        uint8_t **n = realloc(st->mem_free, (size_t)ncap * sizeof *n);
        if (n) {
            st->mem_free = n;
            st->cap_mem_free = ncap;
        }
    }
    if (st->nmem_free < st->cap_mem_free) {
        st->mem_free[st->nmem_free++] = s->mem;
        s->mem = NULL;
    }
    s->in_use = 0;
    s->hnext = st->slot_free;
    st->slot_free = s->idx;
    st->nlive--;
}

void tw__mark_dirty(tw_stack *st, tw_slot *s) {
    if (s->dirty) return;
    s->dirty = 1;
    s->dirty_next = st->dirty_head;
    st->dirty_head = s->idx;
}

/* RFC 6528: ISN = M + F(4-tuple, secret), M a 4 µs clock. F is the high half
 * of the 4-tuple's tw__tuple_hash (SipHash-2-4), the value the table lookup
 * or port choice for this connection has just computed. */
tw_seq_t tw__isn(const tw_stack *st, uint64_t tuple_hash) {
    return tw_seq((uint32_t)(st->now / 4000u) + (uint32_t)(tuple_hash >> 32));
}

/* ---- output ---- */

static void send_seg(tw_stack *st, uint32_t id, tw_state state, const tw_tcp_seg *s,
                     unsigned meta) {
    int n = tw_packet_emit(s, st->ip_id++, st->txbuf, sizeof st->txbuf);
    if (n < 0) return;
    trace_seg(st, id, state, TW_EV_SEG_OUT, s, meta, 0);
    st->counters[TW_C_IP_OUT]++;
    if (st->link) st->link->ops->send(st->link, st->txbuf, (size_t)n, st->now);
}

static void conn_emit(void *ctx, const tw_tcp_seg *s, unsigned meta) {
    tw_stack *st = ctx;
    send_seg(st, st->tx_conn->id, st->tx_conn->state, s, meta);
}

/* The segment sink is built once per stack (st->tx, made in tw_stack_new):
 * output runs about ten times per connection lifecycle. tx_conn names the
 * connection being output; it is restored afterwards so that a nested
 * output (a link delivering synchronously) would still be right. */
static void output(tw_stack *st, tw_slot *s) {
    tw_tcp_conn *outer = st->tx_conn;
    st->tx_conn = &s->c;
    tw_tcp_output(&s->c, st->now, &st->tx);
    st->tx_conn = outer;
}

static void send_rst_for(tw_stack *st, const tw_tcp_seg *in, uint16_t reason, uint32_t id) {
    tw_tcp_seg rst;
    if (!tw_tcp_make_rst(in, &rst)) return; /* never answer an RST with an RST */
    rst.ip_ttl = st->tcp.ttl;
    rst.ip_tos = st->tcp.tos;
    (void)reason;
    st->counters[TW_C_TCP_OUT]++;
    send_seg(st, id, TW_CLOSED, &rst, 0);
}

/* ---- settling a connection after it was touched ---- */

static void to_time_wait_record(tw_stack *st, tw_slot *s) {
    tw_tcp_conn *c = &s->c;
    uint32_t hash = s->hash;
    tw__table_remove_slot(st, s);
    if (tw__tw_insert(st, c, hash) == TW_NIL) {
        /* No room for another record: end TIME_WAIT early, and say so
         * (a counter and its own cause, not a 2MSL expiry). */
        st->counters[TW_C_TW_OVERFLOW]++;
        tw__tcp_enter_closed(c, TW_CAUSE_TW_OVERFLOW, 0, st->now);
    }
    tw__slot_release(st, s);
}

/* The child that reopened a TIME_WAIT 4-tuple got past SYN_RECEIVED: the new
 * incarnation is real, so the old one's TIME_WAIT ends here. */
static void end_reopened_record(tw_stack *st, tw_slot *s) {
    const tw_twrec *r = &st->tw[s->tw_susp];
    tw__trace_state(&st->env, r->id, TW_TIME_WAIT, TW_CLOSED, TW_CAUSE_TW_REUSE, st->now,
                    st->cfg.addr, r->lport, r->raddr, r->rport);
    st->counters[TW_C_CONN_CLOSED]++;
    tw__tw_remove(st, s->tw_susp); /* clears s->tw_susp */
}

void tw__settle(tw_stack *st, tw_slot *s) {
    tw_tcp_conn *c = &s->c;
    uint8_t ev = c->events;
    c->events = 0;
    if (s->sock >= 0 && ev) {
        uint32_t what = 0;
        if (ev & TW_CEV_READABLE) what |= TW_EVT_READABLE;
        if (ev & TW_CEV_WRITABLE) what |= TW_EVT_WRITABLE;
        if (ev & TW_CEV_CONNECTED) what |= TW_EVT_CONNECTED;
        if (ev & TW_CEV_CLOSED) what |= TW_EVT_CLOSED;
        if (ev & TW_CEV_URGENT) what |= TW_EVT_URGENT;
        if (ev & TW_CEV_SOFT_ERROR) what |= TW_EVT_SOFT_ERROR;
        int err = (ev & TW_CEV_CLOSED) ? c->err : (ev & TW_CEV_SOFT_ERROR) ? c->soft_err : 0;
        tw__queue_event(st, s->sock, what, err);
    }
    if (s->listener >= 0 && !s->accept_ready && c->state >= TW_ESTABLISHED &&
        c->state != TW_CLOSED) {
        /* A passive connection completed its handshake: queue it for accept. */
        tw_listener *l = &st->listeners[s->listener];
        s->accept_ready = 1;
        s->acc_next = TW_NIL;
        if (l->acc_tail != TW_NIL)
            tw__slot(st, l->acc_tail)->acc_next = s->idx;
        else
            l->acc_head = s->idx;
        l->acc_tail = s->idx;
        tw__queue_event(st, l->sock, TW_EVT_ACCEPTABLE, 0);
    }
    if (s->tw_susp != TW_NIL && c->state != TW_SYN_RECEIVED && c->state != TW_CLOSED)
        end_reopened_record(st, s);
    bool orphan = s->sock < 0 && (s->listener < 0 || c->state == TW_CLOSED);
    if (c->state == TW_TIME_WAIT && orphan && !(c->flags & TW_TF_ACK_NOW)) {
        to_time_wait_record(st, s);
        return;
    }
    if (tw_tcp_is_dead(c)) {
        tw__table_remove_slot(st, s);
        tw_wheel_cancel(&st->wheel, &s->timer);
        if (orphan) tw__slot_release(st, s);
        return;
    }
    tw_time_t d = tw_tcp_next_deadline(c);
    if (d == TW_TIME_NEVER)
        tw_wheel_cancel(&st->wheel, &s->timer);
    else if (!tw_wheel_armed(&s->timer) || s->timer.expiry != d)
        tw_wheel_arm(&st->wheel, &s->timer, d);
}

/* ---- input ---- */

static tw_slot *slot_from_entry(tw_stack *st, uint32_t e) {
    return (e == TW_NIL || (e & TW_TWBIT)) ? NULL : tw__slot(st, e);
}

static void conn_input(tw_stack *st, tw_slot *s, const tw_tcp_seg *seg) {
    tw_tcp_conn *c = &s->c;
    trace_seg(st, c->id, c->state, TW_EV_SEG_IN, seg, 0, 0);
    st->counters[TW_C_TCP_IN]++;
    tw_tcp_result r = tw_tcp_input(c, st->now, seg);
    if (r.action != TW_ACT_ACCEPT && r.reason)
        trace_seg(st, c->id, c->state, TW_EV_DROP, seg, 0, r.reason);
    if (r.action == TW_ACT_DROP_WITH_RST) send_rst_for(st, seg, r.reason, c->id);
    if (st->defer_output)
        tw__mark_dirty(st, s); /* sent by the next poll, one ACK for the batch (MUST-59) */
    else
        output(st, s);
    tw__settle(st, s);
}

/* A SYN reopening a TIME_WAIT 4-tuple (RFC 9293 §3.10.7.4 MAY-2) starts the
 * new incarnation's sequence space above everything the old one sent, as
 * RFC 1122 §4.2.2.13 asks of the ISN, so no old duplicate of ours can fall
 * into the peer's new window (the clock-driven ISN of RFC 6528 is not enough
 * when the old connection sent faster than 4 µs per byte). */
static tw_seq_t reuse_iss(tw_seq_t isn, uint32_t old_snd_nxt) {
    tw_seq_t floor_ = tw_seq(old_snd_nxt);
    return tw_seq_gt(isn, floor_) ? isn : tw_seq_add(floor_, 65536u);
}

/* True when listener li can take one more connection. TIME_WAIT may end
 * early only for a new incarnation that really starts (RFC 1122 §4.2.2.13):
 * with a full backlog or pool the old 4-tuple keeps its TIME_WAIT. */
static bool listener_has_room(const tw_stack *st, uint32_t li) {
    const tw_listener *l = &st->listeners[li];
    return l->pending < l->backlog && st->nlive < st->cfg.max_conns;
}

/* A segment for a TIME_WAIT record. Returns true when the SYN should go on to
 * listener *li (the 4-tuple was reopened; *iss_floor is then the old SND.NXT).
 * The record then stays, suspended by listener_input(), until the new
 * incarnation is ESTABLISHED (tw__settle ends it) or dies first
 * (tw__slot_release puts it back). */
static bool tw_record_input(tw_stack *st, uint32_t i, const tw_tcp_seg *seg, uint32_t *li,
                            uint32_t *iss_floor) {
    tw_twrec *r = &st->tw[i];
    tw_tcp_tw tw = {.snd_nxt = tw_seq(r->snd_nxt),
                    .rcv_nxt = tw_seq(r->rcv_nxt),
                    .wnd = r->wnd,
                    .ts = (r->flags & TW_RF_TS) != 0,
                    .ts_offset = (r->flags & TW_RF_TS) ? tw_tcp_ts_offset_from(r->hash) : 0,
                    .ts_recent = r->ts_recent};
    trace_seg(st, r->id, TW_TIME_WAIT, TW_EV_SEG_IN, seg, 0, 0);
    uint16_t reason = 0;
    tw_tw_verdict v = tw_tcp_tw_input(&tw, seg, &reason);
    if (v == TW_TWV_REUSE &&
        (!tw__port_listening(st, seg->dst_port, li) || !listener_has_room(st, *li))) {
        /* Nobody listens on the port (a client-side record), or the listener
         * is full: the SYN cannot open anything, so the record stays and
         * answers it like any other SYN in TIME_WAIT, with a challenge ACK
         * (RFC 5961 §4). */
        v = TW_TWV_ACK;
        reason = TW_C_CHALLENGE_ACK;
    }
    if (reason) st->counters[reason]++;
    tw_tcp_seg ack;
    switch (v) {
    case TW_TWV_REACK:
        tw__tw_restart(st, i, st->now + 2 * st->cfg.msl);
        /* Echo the retransmitted FIN's TSval (RFC 7323 §4.3: it is at
         * Last.ACK.sent, so it updates TS.Recent). */
        if (tw.ts && seg->opt.has_ts && (int32_t)(seg->opt.tsval - tw.ts_recent) > 0)
            r->ts_recent = tw.ts_recent = seg->opt.tsval;
        /* fall through */
    case TW_TWV_ACK:
        /* Answered, not taken: traced as a drop with its reason, as for a
         * full connection (conn_input). */
        if (v == TW_TWV_ACK) trace_seg(st, r->id, TW_TIME_WAIT, TW_EV_DROP, seg, 0, reason);
        tw_tcp_tw_ack(&tw, st->cfg.addr, r->lport, r->raddr, r->rport, st->now, &ack);
        ack.ip_ttl = st->tcp.ttl; /* a record keeps no per-socket TTL/TOS */
        ack.ip_tos = st->tcp.tos;
        st->counters[TW_C_TCP_OUT]++;
        send_seg(st, r->id, TW_TIME_WAIT, &ack, TW_SEGMETA_TW);
        return false;
    case TW_TWV_REUSE: *iss_floor = r->snd_nxt; return true;
    case TW_TWV_DROP:
    default: trace_seg(st, r->id, TW_TIME_WAIT, TW_EV_DROP, seg, 0, reason); return false;
    }
}

/* A connection still in TIME_WAIT because its socket is open answers like a
 * record (tcp_timewait.c), except that reopening its 4-tuple needs the stack:
 * a new SYN above RCV.NXT with a listener on the port (RFC 9293 §3.10.7.4
 * MAY-2) ends this incarnation (its socket gets CLOSED, no error) and returns
 * true with *li and *iss_floor set, as tw_record_input() does. */
static bool conn_time_wait_reuse(tw_stack *st, tw_slot *s, const tw_tcp_seg *seg, uint32_t *li,
                                 uint32_t *iss_floor) {
    tw_tcp_conn *c = &s->c;
    tw_tcp_tw tw = {.snd_nxt = c->snd_max,
                    .rcv_nxt = c->rcv_nxt,
                    .ts = (c->xopts & TW_XO_TS) != 0,
                    .ts_recent = c->ts_recent};
    uint16_t reason = 0;
    if (c->state != TW_TIME_WAIT || tw_tcp_tw_input(&tw, seg, &reason) != TW_TWV_REUSE ||
        !tw__port_listening(st, seg->dst_port, li) || !listener_has_room(st, *li))
        return false;
    trace_seg(st, c->id, c->state, TW_EV_SEG_IN, seg, 0, 0);
    st->counters[TW_C_TW_REUSE]++;
    *iss_floor = c->snd_max.v;
    tw__tcp_enter_closed(c, TW_CAUSE_TW_REUSE, 0, st->now);
    tw__settle(st, s); /* out of the table: the 4-tuple is free for the new one */
    return true;
}

/* An ACK for listener li with no connection may return a SYN cookie
 * (syncookie.c). True when it was taken here: the connection it stands for
 * made and handed the ACK, or the ACK dropped (accept queue or pool full). */
static bool cookie_ack_input(tw_stack *st, uint32_t li, const tw_tcp_seg *seg, uint64_t hash) {
    uint16_t reason;
    tw_slot *s = tw__cookie_ack(st, li, seg, hash, &reason);
    if (s) {
        conn_input(st, s, seg);
        return true;
    }
    if (!reason) return false;
    st->counters[reason]++;
    trace_seg(st, 0, TW_LISTEN, TW_EV_DROP, seg, 0, reason);
    return true;
}

/* A segment for listener li (RFC 9293 §3.10.7.2). iss_floor: NULL, or the
 * SND.NXT of the TIME_WAIT incarnation this SYN reopens; rec: that
 * incarnation's record, or TW_NIL. hash: the segment's 4-tuple hash
 * (tw__tuple_hash), from the lookup that found no connection. */
static void listener_input(tw_stack *st, uint32_t li, const tw_tcp_seg *seg,
                           const uint32_t *iss_floor, uint32_t rec, uint64_t hash) {
    tw_listener *l = &st->listeners[li];
    uint8_t f = seg->flags;
    if ((f & TW_TH_RST) || !(f & TW_TH_SYN) || (f & TW_TH_ACK)) {
        if (cookie_ack_input(st, li, seg, hash)) return;
        /* RFC 9293 §3.10.7.2: RST ignored, ACK answered with RST. */
        uint16_t reason =
            (f & TW_TH_ACK) && !(f & TW_TH_RST) ? TW_C_RST_BAD_ACK : TW_C_DROP_LISTEN_NOT_SYN;
        st->counters[reason]++;
        trace_seg(st, 0, TW_LISTEN, TW_EV_DROP, seg, 0, reason);
        if (reason == TW_C_RST_BAD_ACK) send_rst_for(st, seg, reason, 0);
        return;
    }
    tw_slot *s = l->pending >= l->backlog ? NULL : tw__slot_new(st);
    if (!s) {
        /* No room for the SYN: a SYN cookie answers it, keeping nothing. */
        tw_tcp_seg synack;
        if (tw__cookie_synack(st, li, seg, hash, &synack)) {
            synack.ip_ttl = st->tcp.ttl;
            synack.ip_tos = st->tcp.tos;
            trace_seg(st, 0, TW_LISTEN, TW_EV_SEG_IN, seg, 0, 0);
            st->counters[TW_C_TCP_IN]++;
            st->counters[TW_C_TCP_OUT]++;
            send_seg(st, 0, TW_LISTEN, &synack, 0);
            return;
        }
        uint16_t reason =
            l->pending >= l->backlog ? TW_C_DROP_LISTEN_OVERFLOW : TW_C_DROP_NO_MEMORY;
        st->counters[reason]++;
        trace_seg(st, 0, TW_LISTEN, TW_EV_DROP, seg, 0, reason);
        return;
    }
    tw_tcp_conn *c = &s->c;
    tw_tcp_set_tuple(c, st->cfg.addr, seg->dst_port, seg->src_addr, seg->src_port);
    tw_seq_t iss = tw__isn(st, hash);
    if (iss_floor) iss = reuse_iss(iss, *iss_floor);
    tw_tcp_listen(c, iss, st->now);
    c->ts_offset = tw_tcp_ts_offset_from((uint32_t)hash); /* see tw_twrec */
    /* A child starts with its listener's socket options (as on BSD). */
    const tw_tcp_settings *ls = tw__sock_settings(st, l->sock);
    if (ls) tw_tcp_settings_apply(c, ls, st->now);
    s->listener = (int32_t)li;
    l->pending++;
    st->counters[TW_C_CONN_PASSIVE_OPEN]++;
    if (rec != TW_NIL) { /* the record makes way for the child (TW_RF_SUSP) */
        tw__tw_suspend(st, rec, s->idx);
        s->tw_susp = rec;
    }
    tw__table_insert_slot(st, s, (uint32_t)hash);
    conn_input(st, s, seg);
}

/* RFC 1122 §3.2.1.3 (and §4.2.3.10 for TCP): a source address of 0, a
 * multicast group, the reserved class E or the limited broadcast is no host
 * to talk to (nor to send an RST to). Same rule as icmp.c. */
static bool bad_source(uint32_t src) {
    return src == 0 || (src >> 28) >= 0xe;
}

/* RFC 9293 §3.10.7.4 (MUST-58, MUST-59): a driver holding several packets
 * feeds them all before any ACK goes out; the connections they touch are
 * output by the next tw_stack_poll(), once each. */
int tw_stack_input_deferred(tw_stack *st, uint64_t now, const uint8_t *pkt, size_t len) {
    st->defer_output = 1;
    int rc = tw_stack_input(st, now, pkt, len);
    st->defer_output = 0;
    return rc;
}

int tw_stack_input(tw_stack *st, uint64_t now, const uint8_t *pkt, size_t len) {
    /* A monotonic clock, as in tw_stack_poll(): an older timestamp (a packet
     * stamped before the latest poll) does not move time back. */
    if (now > st->now) st->now = now;
    st->counters[TW_C_IP_IN]++;
    tw_tcp_seg seg;
    int rc = tw_packet_parse(pkt, len, &seg);
    if (rc == TW_C_DROP_IP_PROTO) { /* protocol 1: ICMP (stack/icmp.c) */
        rc = tw__icmp_input(st, pkt, len);
        if (rc == 0) {
            trace_flush(st);
            return 0;
        }
    }
    if (rc == 0 && seg.dst_addr != st->cfg.addr) rc = TW_C_DROP_IP_NOT_US;
    if (rc == 0 && bad_source(seg.src_addr)) rc = TW_C_DROP_IP_BAD_SRC;
    if (rc != 0) {
        st->counters[rc]++;
        if (st->cfg.trace) {
            tw_trace_ev ev;
            memset(&ev, 0, sizeof ev);
            ev.t = st->now;
            ev.kind = TW_EV_DROP;
            ev.reason = (uint16_t)rc;
            trace_push(st, &ev);
            trace_flush(st);
        }
        return rc;
    }
    /* tw__tuple_hash(), memoised: segments of a connection come in runs. */
    uint64_t h = tw_hash_tuple_memo(&st->in_memo, st->key, st->cfg.addr, seg.dst_port, seg.src_addr,
                                    seg.src_port);
    uint32_t e = tw__table_find(st, (uint32_t)h, seg.src_addr, seg.dst_port, seg.src_port);
    tw_slot *s = slot_from_entry(st, e);
    uint32_t li, floor_;
    if (s) {
        if (conn_time_wait_reuse(st, s, &seg, &li, &floor_))
            listener_input(st, li, &seg, &floor_, TW_NIL, h);
        else
            conn_input(st, s, &seg);
    } else if (e != TW_NIL) {
        if (tw_record_input(st, e & ~TW_TWBIT, &seg, &li, &floor_))
            listener_input(st, li, &seg, &floor_, e & ~TW_TWBIT, h);
    } else if (tw__port_listening(st, seg.dst_port, &li)) {
        listener_input(st, li, &seg, NULL, TW_NIL, h);
    } else {
        /* RFC 9293 §3.10.7.1: no connection; RST unless the segment is one. */
        st->counters[TW_C_DROP_NO_SOCKET]++;
        trace_seg(st, 0, TW_CLOSED, TW_EV_DROP, &seg, 0, TW_C_DROP_NO_SOCKET);
        if (!(seg.flags & TW_TH_RST)) {
            st->counters[TW_C_RST_CLOSED_PORT]++;
            send_rst_for(st, &seg, TW_C_RST_CLOSED_PORT, 0);
        }
        rc = TW_C_DROP_NO_SOCKET;
    }
    trace_flush(st);
    return rc;
}

/* ---- timers and queued output ---- */

static void expire_time_wait(tw_stack *st) {
    bool expired = false;
    while (st->tw_head != TW_NIL && st->tw[st->tw_head].expiry <= st->now) {
        uint32_t i = st->tw_head;
        tw_twrec *r = &st->tw[i];
        tw__trace_state(&st->env, r->id, TW_TIME_WAIT, TW_CLOSED, TW_CAUSE_TIMEOUT_2MSL, r->expiry,
                        st->cfg.addr, r->lport, r->raddr, r->rport);
        st->counters[TW_C_TW_EXPIRE]++;
        st->counters[TW_C_CONN_CLOSED]++;
        tw__tw_remove(st, i);
        expired = true;
    }
    if (expired) tw__tw_prefetch(st);
}

int tw_stack_poll(tw_stack *st, uint64_t now) {
    if (now > st->now) st->now = now;
    uint64_t before = st->counters[TW_C_TCP_OUT];
    expire_time_wait(st);
    tw_wheel_entry *e;
    while ((e = tw_wheel_pop_due(&st->wheel, st->now)) != NULL) {
        tw_slot *s = (tw_slot *)((char *)e - offsetof(tw_slot, timer));
        tw_tcp_timer(&s->c, st->now);
        output(st, s);
        tw__settle(st, s);
    }
    while (st->dirty_head != TW_NIL) {
        tw_slot *s = tw__slot(st, st->dirty_head);
        st->dirty_head = s->dirty_next;
        s->dirty = 0;
        if (!s->in_use) continue;
        output(st, s);
        tw__settle(st, s);
    }
    trace_flush(st);
    return (int)(st->counters[TW_C_TCP_OUT] - before);
}

uint64_t tw_stack_next_deadline(tw_stack *st) {
    if (st->dirty_head != TW_NIL) return st->now;
    uint64_t t = tw_wheel_next(&st->wheel);
    if (st->tw_head != TW_NIL && st->tw[st->tw_head].expiry < t) t = st->tw[st->tw_head].expiry;
    return t;
}

uint64_t tw_stack_now(const tw_stack *st) {
    return st->now;
}
const uint64_t *tw_stack_counters(const tw_stack *st) {
    return st->counters;
}
size_t tw_stack_conn_count(const tw_stack *st) {
    return st->nlive;
}
size_t tw_stack_time_wait_count(const tw_stack *st) {
    return st->tw_count - st->tw_nsusp;
}

size_t tw_stack_time_wait_record_size(void) {
    /* the record plus two 4-byte bucket heads: the bucket array doubles
     * past load 0.5 (table.c), so a full table has two per entry */
    return sizeof(tw_twrec) + 2 * sizeof(uint32_t);
}
