/* sock.c - the socket-like API over a stack: small integer handles carrying a
 * generation count (so a call on a closed handle fails with -TW_EBADF instead
 * of touching a reused slot), BSD-shaped calls, and per-socket options.
 *
 * Calls act at the stack's current time (that of the latest input or poll)
 * and mark the connection dirty; what they cause is sent at the next
 * tw_stack_poll(), so the wire sees it inside a step, never from a callback. */
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"

#define GEN_SHIFT 16
#define IDX_MASK 0xffffu

static int make_handle(uint32_t idx, uint16_t gen) {
    return (int)(((uint32_t)(gen & 0x7fff) << GEN_SHIFT) | idx);
}

static tw_sockent *lookup(tw_stack *st, int h) {
    if (h < 0) return NULL;
    uint32_t idx = (uint32_t)h & IDX_MASK;
    uint16_t gen = (uint16_t)(((uint32_t)h >> GEN_SHIFT) & 0x7fff);
    if (idx >= st->nsocks) return NULL;
    tw_sockent *e = &st->socks[idx];
    if (e->kind == TW_SK_FREE || (e->gen & 0x7fff) != gen) return NULL;
    return e;
}

static tw_slot *conn_of(tw_stack *st, int h) {
    tw_sockent *e = lookup(st, h);
    if (!e || e->kind != TW_SK_CONN) return NULL;
    return tw__slot(st, e->ref);
}

/* Free socket indices are bits (sock_free) with a summary bit per word
 * (sock_sum), so the lowest free index, the one a scan from 0 would find, is
 * two find-first-set steps away however many sockets there are. */
static void mark_free(tw_stack *st, uint32_t i) {
    st->sock_free[i >> 6] |= (uint64_t)1 << (i & 63u);
    st->sock_sum[i >> 12] |= (uint64_t)1 << ((i >> 6) & 63u);
}

static void mark_taken(tw_stack *st, uint32_t i) {
    st->sock_free[i >> 6] &= ~((uint64_t)1 << (i & 63u));
    if (st->sock_free[i >> 6] == 0) st->sock_sum[i >> 12] &= ~((uint64_t)1 << ((i >> 6) & 63u));
}

static uint32_t lowest_free(const tw_stack *st) {
    for (uint32_t k = 0; k < TW_MAX_SOCKS / 4096; k++) {
        if (!st->sock_sum[k]) continue;
        uint32_t w = k * 64 + (uint32_t)__builtin_ctzll(st->sock_sum[k]);
        return w * 64 + (uint32_t)__builtin_ctzll(st->sock_free[w]);
    }
    return TW_NIL;
}

static void release(tw_stack *st, tw_sockent *e) {
    tw__port_drop(st, e->port);
    e->kind = TW_SK_FREE;
    e->gen++;
    e->port = 0;
    mark_free(st, (uint32_t)(e - st->socks));
}

/* Doubles the socket table (at most TW_MAX_SOCKS entries), all new ones free. */
static int grow_socks(tw_stack *st) {
    if (st->nsocks >= TW_MAX_SOCKS) return -TW_ENOMEM;
    uint32_t n = st->nsocks ? st->nsocks * 2 : 16;
    if (n > TW_MAX_SOCKS) n = TW_MAX_SOCKS;
    uint32_t words = (n + 63) / 64, old_words = (st->nsocks + 63) / 64;
    uint64_t *nf = realloc(st->sock_free, (size_t)words * sizeof *nf);
    if (!nf) return -TW_ENOMEM;
    memset(nf + old_words, 0, (size_t)(words - old_words) * sizeof *nf);
    st->sock_free = nf;
    tw_sockent *ns = realloc(st->socks, (size_t)n * sizeof *ns);
    if (!ns) return -TW_ENOMEM;
    memset(ns + st->nsocks, 0, (size_t)(n - st->nsocks) * sizeof *ns);
    st->socks = ns;
    for (uint32_t i = st->nsocks; i < n; i++) mark_free(st, i);
    st->nsocks = n;
    return 0;
}

static int alloc_sock(tw_stack *st) {
    uint32_t i = lowest_free(st);
    if (i == TW_NIL) {
        int rc = grow_socks(st);
        if (rc) return rc;
        i = lowest_free(st);
    }
    tw_sockent *e = &st->socks[i];
    mark_taken(st, i);
    e->kind = TW_SK_NEW;
    e->nodelay = 0;
    e->ev_seq = st->ev_popped - 1; /* a new handle has no queued event */
    return make_handle(i, e->gen);
}

int tw_socket(tw_stack *st) {
    return alloc_sock(st);
}

size_t tw_stack_sock_count(const tw_stack *st) {
    size_t n = 0;
    for (uint32_t i = 0; i < st->nsocks; i++) n += st->socks[i].kind != TW_SK_FREE;
    return n;
}

int tw_bind(tw_stack *st, int s, uint16_t port) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    if (e->kind != TW_SK_NEW || e->port) return -TW_EINVAL;
    if (port && tw__port_used(st, port)) return -TW_EADDRINUSE;
    e->port = port;
    tw__port_hold(st, port);
    return 0;
}

int tw_listen(tw_stack *st, int s, int backlog) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    if (e->kind != TW_SK_NEW || e->port == 0) return -TW_EINVAL;
    uint32_t li = st->nlisteners;
    for (uint32_t i = 0; i < st->nlisteners; i++)
        if (!st->listeners[i].in_use) {
            li = i;
            break;
        }
    if (li == st->nlisteners) {
        tw_listener *nl = realloc(st->listeners, (size_t)(st->nlisteners + 1) * sizeof *nl);
        if (!nl) return -TW_ENOMEM;
        st->listeners = nl;
        st->listeners[li].in_use = 0;
        st->nlisteners++;
    }
    if (tw__listener_map(st, e->port, li)) return -TW_ENOMEM;
    tw_listener *l = &st->listeners[li];
    memset(l, 0, sizeof *l);
    l->in_use = 1;
    l->port = e->port;
    l->sock = s;
    l->backlog = backlog > 0 ? (uint32_t)backlog : 1;
    l->acc_head = l->acc_tail = TW_NIL;
    e->kind = TW_SK_LISTENER;
    e->ref = li;
    tw__trace_user(st, NULL, TW_CALL_LISTEN, e->port);
    tw__trace_state(&st->env, 0, TW_CLOSED, TW_LISTEN, TW_CAUSE_USER_LISTEN, st->now, st->cfg.addr,
                    e->port, 0, 0);
    return 0;
}

int tw_accept(tw_stack *st, int s, uint32_t *raddr, uint16_t *rport) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    if (e->kind != TW_SK_LISTENER) return -TW_EINVAL;
    tw_listener *l = &st->listeners[e->ref];
    if (l->acc_head == TW_NIL) return -TW_EAGAIN;
    int h = alloc_sock(st);
    if (h < 0) return h;
    l = &st->listeners[lookup(st, s)->ref]; /* socks may have moved; listeners did not */
    tw_slot *c = tw__slot(st, l->acc_head);
    l->acc_head = c->acc_next;
    if (l->acc_head == TW_NIL) l->acc_tail = TW_NIL;
    if (l->pending) l->pending--;
    c->listener = -1;
    c->acc_next = TW_NIL;
    c->sock = h;
    tw_sockent *ne = lookup(st, h);
    ne->kind = TW_SK_CONN;
    ne->ref = c->idx;
    ne->port = 0;
    if (raddr) *raddr = c->c.raddr;
    if (rport) *rport = c->c.rport;
    /* Whatever happened before accept (data, FIN, RST) is reported now. */
    uint32_t what = TW_EVT_WRITABLE;
    if (tw_tcp_readable(&c->c) || (c->c.flags & TW_TF_RCVD_FIN)) what |= TW_EVT_READABLE;
    if (c->c.state == TW_CLOSED) what |= TW_EVT_CLOSED;
    /* MUST-32: urgent data that came before accept is told now, or never. */
    if (tw_tcp_urgent_pending(&c->c) > 0) what |= TW_EVT_URGENT;
    tw__queue_event(st, h, what, c->c.err);
    tw__mark_dirty(st, c);
    return h;
}

/* RFC 9293 MUST-46: no active open to a broadcast or multicast address.
 * Also refused: 0.0.0.0/8 ("this network", never a destination: RFC 1122
 * §3.2.1.3) and 240.0.0.0/4 (reserved, holding 255.255.255.255). With no
 * netmask the stack cannot know a subnet's directed broadcast. */
static bool unicast_destination(uint32_t a) {
    uint32_t top = a >> 24;
    return top != 0 && top < 224;
}

int tw_connect(tw_stack *st, int s, uint32_t raddr, uint16_t rport) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    if (e->kind == TW_SK_CONN) return -TW_EISCONN;
    if (e->kind != TW_SK_NEW || rport == 0 || !unicast_destination(raddr)) return -TW_EINVAL;
    uint16_t lport = e->port;
    uint64_t hash; /* the 4-tuple's, for the table and the ISN */
    if (lport == 0) {
        int rc = tw__pick_port(st, raddr, rport, &lport, &hash);
        if (rc) return rc;
    } else {
        hash = tw__tuple_hash(st, raddr, lport, rport);
        if (tw__table_find(st, (uint32_t)hash, raddr, lport, rport) != TW_NIL)
            return -TW_EADDRINUSE; /* that 4-tuple is live or in TIME_WAIT */
    }
    tw_slot *c = tw__slot_new(st);
    if (!c) return -TW_ENOMEM;
    e = lookup(st, s);
    tw_tcp_set_tuple(&c->c, st->cfg.addr, lport, raddr, rport);
    tw__sockopt_on_connect(st, s, &c->c); /* options set before connect */
    if (e->nodelay) c->c.flags |= TW_TF_NODELAY;
    tw__trace_user(st, &c->c, TW_CALL_CONNECT, 0);
    tw_tcp_connect(&c->c, tw__isn(st, hash), st->now);
    /* The TSval offset from the other half of the hash, so a TIME_WAIT
     * record can recompute it (stack.h, tw_twrec). */
    c->c.ts_offset = tw_tcp_ts_offset_from((uint32_t)hash);
    st->counters[TW_C_CONN_ACTIVE_OPEN]++;
    tw__table_insert_slot(st, c, (uint32_t)hash);
    /* The first segment back (the SYN-ACK) finds its hash in the memo. */
    tw_tuple_memo_put(&st->in_memo, lport, raddr, rport, hash);
    c->sock = s;
    e->kind = TW_SK_CONN;
    e->ref = c->idx;
    e->port = lport;
    tw__port_hold(st, lport);
    tw__mark_dirty(st, c);
    return 0;
}

int tw_send(tw_stack *st, int s, const void *buf, size_t len) {
    tw_slot *c = conn_of(st, s);
    if (!c) return lookup(st, s) ? -TW_ENOTCONN : -TW_EBADF;
    uint32_t n = len > 0x7fffffff ? 0x7fffffff : (uint32_t)len;
    int rc = tw_tcp_send(&c->c, buf, n, st->now);
    if (rc > 0) {
        tw__trace_user(st, &c->c, TW_CALL_SEND, (uint32_t)rc);
        tw__mark_dirty(st, c);
    }
    return rc;
}

int tw_send_urgent(tw_stack *st, int s, const void *buf, size_t len) {
    tw_slot *c = conn_of(st, s);
    if (!c) return lookup(st, s) ? -TW_ENOTCONN : -TW_EBADF;
    uint32_t n = len > 0x7fffffff ? 0x7fffffff : (uint32_t)len;
    int rc = tw_tcp_send_urgent(&c->c, buf, n, st->now);
    if (rc > 0) {
        tw__trace_user(st, &c->c, TW_CALL_SEND, (uint32_t)rc);
        tw__mark_dirty(st, c);
    }
    return rc;
}

int tw_recv(tw_stack *st, int s, void *buf, size_t len) {
    tw_slot *c = conn_of(st, s);
    if (!c) return lookup(st, s) ? -TW_ENOTCONN : -TW_EBADF;
    uint32_t n = len > 0x7fffffff ? 0x7fffffff : (uint32_t)len;
    int rc = tw_tcp_recv(&c->c, buf, n, st->now);
    if (rc > 0) {
        tw__trace_user(st, &c->c, TW_CALL_RECV, (uint32_t)rc);
        tw__mark_dirty(st, c); /* the window may have opened */
    }
    return rc;
}

int tw_shutdown(tw_stack *st, int s, int how) {
    tw_slot *c = conn_of(st, s);
    if (!c) return lookup(st, s) ? -TW_ENOTCONN : -TW_EBADF;
    if (how < TW_SHUT_RD || how > TW_SHUT_RDWR) return -TW_EINVAL;
    if (how & TW_SHUT_RD) c->c.flags |= TW_TF_SHUT_RD;
    int rc = 0;
    if (how & TW_SHUT_WR) {
        tw__trace_user(st, &c->c, TW_CALL_SHUTDOWN, 0);
        rc = tw_tcp_shutdown(&c->c, st->now);
    }
    tw__mark_dirty(st, c);
    return rc;
}

static int close_listener(tw_stack *st, tw_sockent *e) {
    tw_listener *l = &st->listeners[e->ref];
    /* Children never accepted are aborted, as the application will never see them. */
    for (uint32_t i = 0; i < st->slot_hwm; i++) {
        tw_slot *c = tw__slot(st, i);
        if (c->in_use && c->listener == (int32_t)e->ref) {
            c->listener = -1;
            tw_tcp_abort(&c->c, st->now);
            tw__mark_dirty(st, c);
        }
    }
    l->in_use = 0;
    l->acc_head = l->acc_tail = TW_NIL;
    tw__listener_unmap(st, l->port);
    /* RFC 9293 §3.10.4: CLOSE in LISTEN -> CLOSED; traced like the listen
     * that opened it, so a trace shows every state a port went through. */
    tw__trace_user(st, NULL, TW_CALL_CLOSE, l->port);
    tw__trace_state(&st->env, 0, TW_LISTEN, TW_CLOSED, TW_CAUSE_USER_CLOSE, st->now, st->cfg.addr,
                    l->port, 0, 0);
    release(st, e);
    return 0;
}

static int close_common(tw_stack *st, int s, bool abort_) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    if (e->kind == TW_SK_LISTENER) return close_listener(st, e);
    if (e->kind == TW_SK_NEW) {
        release(st, e);
        return 0;
    }
    tw_slot *c = tw__slot(st, e->ref);
    tw__trace_user(st, &c->c, abort_ ? TW_CALL_ABORT : TW_CALL_CLOSE, 0);
    if (abort_)
        tw_tcp_abort(&c->c, st->now);
    else
        tw_tcp_close(&c->c, st->now);
    c->sock = -1;
    release(st, e);
    tw__mark_dirty(st, c);
    return 0;
}

int tw_close(tw_stack *st, int s) {
    return close_common(st, s, false);
}
int tw_abort(tw_stack *st, int s) {
    return close_common(st, s, true);
}

int tw_set_nodelay(tw_stack *st, int s, bool on) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    e->nodelay = on;
    if (e->kind == TW_SK_CONN) {
        tw_slot *c = tw__slot(st, e->ref);
        if (on)
            c->c.flags |= TW_TF_NODELAY;
        else
            c->c.flags &= ~(uint32_t)TW_TF_NODELAY;
        tw__mark_dirty(st, c);
    }
    return 0;
}

int tw_sock_info_get(tw_stack *st, int s, tw_sock_info *info) {
    tw_sockent *e = lookup(st, s);
    if (!e) return -TW_EBADF;
    memset(info, 0, sizeof *info);
    if (e->kind == TW_SK_LISTENER) {
        info->state = TW_LISTEN;
        info->laddr = st->cfg.addr;
        info->lport = e->port;
        return 0;
    }
    if (e->kind != TW_SK_CONN) {
        info->state = TW_CLOSED;
        info->lport = e->port;
        return 0;
    }
    const tw_tcp_conn *c = &tw__slot(st, e->ref)->c;
    info->state = c->state;
    info->conn_id = c->id;
    info->laddr = c->laddr;
    info->raddr = c->raddr;
    info->lport = c->lport;
    info->rport = c->rport;
    info->snd_una = c->snd_una.v;
    info->snd_nxt = c->snd_nxt.v;
    info->rcv_nxt = c->rcv_nxt.v;
    info->iss = c->iss.v;
    info->irs = c->irs.v;
    info->snd_wnd = c->snd_wnd;
    info->snd_mss = c->snd_mss;
    info->srtt = c->srtt;
    info->rttvar = c->rttvar;
    info->rto = c->rto;
    info->retransmits = c->rexmt_count;
    info->unread = tw_ring_len(&c->rcvbuf);
    info->unsent = tw_ring_len(&c->sndbuf);
    info->urgent = tw_tcp_urgent_pending(c);
    info->soft_err = c->soft_err;
    info->ecn = (c->flags & TW_TF_ECN) != 0;
    info->tos_in = c->rcv_tos;
    info->err = c->err;
    return 0;
}
