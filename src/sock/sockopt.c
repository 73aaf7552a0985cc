/* sockopt.c - socket options with their BSD meanings (tw_setsockopt,
 * tw_getsockopt) and tw_tcp_info_get, a TCP_INFO for a connection.
 *
 * Every option is a per-connection setting (tw_tcp_settings, tcp_settings.c)
 * whose default comes from the stack's configuration. On a socket with a
 * connection the option acts on it at once. A new socket or a listener has
 * no connection yet: the value is kept in the stack's sockset table and
 * handed to every child the listener accepts (stack.c listener_input), as
 * BSD children inherit their listener's options, and meant for the
 * connection tw_connect opens (tw__sockopt_on_connect, below: sock.c does
 * not call it yet).
 *
 * Ring sizes (SO_RCVBUF / SO_SNDBUF) are per socket, but the stack gives
 * each connection one block of tw_stack_cfg.rcvbuf + sndbuf bytes, so a
 * socket may only shrink its rings; larger values are cut to the stack's
 * sizes (as Linux cuts to rmem_max). They can change only before the
 * connection has sent or received anything: the window scale offered on the
 * SYN is sized to the receive ring. */
#include <stdlib.h>
#include <string.h>

#include "stack/stack.h"

/* For tw_connect (sock.c): the connection just made for socket `s` starts
 * with the options set on it before. sock.c does not call it yet; the one
 * line it needs, right after tw_tcp_set_tuple() in tw_connect, is
 *     tw__sockopt_on_connect(st, s, &c->c);
 * until then options set on a new socket stay with the socket. */
void tw__sockopt_on_connect(tw_stack *st, int s, tw_tcp_conn *c) {
    const tw_tcp_settings *ss = tw__sock_settings(st, s);
    if (ss) tw_tcp_settings_apply(c, ss, st->now);
}

/* Handles are (generation << 16) | index, as made by sock.c. */
static tw_sockent *sock_entry(tw_stack *st, int h) {
    if (h < 0) return NULL;
    uint32_t idx = (uint32_t)h & 0xffffu;
    uint16_t gen = (uint16_t)(((uint32_t)h >> 16) & 0x7fff);
    if (idx >= st->nsocks) return NULL;
    tw_sockent *e = &st->socks[idx];
    if (e->kind == TW_SK_FREE || (e->gen & 0x7fff) != gen) return NULL;
    return e;
}

/* The settings a new socket or listener holds, created from the defaults on
 * first use; NULL when out of memory. */
static tw_sockset *sockset_of(tw_stack *st, int h) {
    uint32_t i = (uint32_t)h & 0xffffu;
    if (i >= st->nsockset) {
        uint32_t n = st->nsockset ? st->nsockset : 16;
        while (n <= i) n *= 2;
        tw_sockset *ns = realloc(st->sockset, (size_t)n * sizeof *ns);
        if (!ns) return NULL;
        for (uint32_t k = st->nsockset; k < n; k++) ns[k].handle = -1;
        st->sockset = ns;
        st->nsockset = n;
    }
    tw_sockset *e = &st->sockset[i];
    if (e->handle != h) { /* never set, or left by a closed handle */
        e->handle = h;
        tw_tcp_settings_default(&e->s, &st->tcp);
    }
    return e;
}

static int get_int(const void *val, size_t len, int *out) {
    if (!val || len < sizeof(int)) return -TW_EINVAL;
    memcpy(out, val, sizeof(int));
    return 0;
}

static int put_int(void *val, size_t *len, int v) {
    if (!val || !len || *len < sizeof(int)) return -TW_EINVAL;
    memcpy(val, &v, sizeof(int));
    *len = sizeof(int);
    return 0;
}

/* Seconds for KEEPIDLE / KEEPINTVL: 1 .. 32767, as Linux accepts. */
static int keep_secs(int v, tw_time_t *out) {
    if (v < 1 || v > 32767) return -TW_EINVAL;
    *out = TW_SEC((uint64_t)v);
    return 0;
}

/* Changes `s` as option `opt` = `val` says. Ring sizes are checked by the
 * caller against the connection. */
static int set_one(tw_stack *st, tw_tcp_settings *s, int opt, const void *val, size_t len) {
    int v = 0;
    if (opt == TW_SO_LINGER) {
        tw_linger l;
        if (!val || len < sizeof l) return -TW_EINVAL;
        memcpy(&l, val, sizeof l);
        if (l.l_linger < 0) l.l_linger = 0;
        if (l.l_linger > 65535) l.l_linger = 65535;
        s->bits = (uint8_t)(l.l_onoff ? s->bits | TW_SET_LINGER : s->bits & ~TW_SET_LINGER);
        s->linger_s = (uint16_t)l.l_linger;
        return 0;
    }
    if (get_int(val, len, &v)) return -TW_EINVAL;
    uint8_t bit = 0;
    switch (opt) {
    case TW_SO_KEEPALIVE: bit = TW_SET_KEEPALIVE; break;
    case TW_SO_REUSEADDR: bit = TW_SET_REUSEADDR; break;
    case TW_TCP_NODELAY: bit = TW_SET_NODELAY; break;
    case TW_TCP_DELACK_FIN: bit = TW_SET_DELACK_FIN; break;
    case TW_TCP_DELACK_SYNACK: bit = TW_SET_DELACK_SYNACK; break;
    case TW_SO_SOFT_ERRORS: bit = TW_SET_QUIET_ERRORS, v = !v; break; /* stored inverted */
    case TW_SO_RCVBUF:
    case TW_SO_SNDBUF: {
        if (v <= 0) return -TW_EINVAL;
        uint32_t max = opt == TW_SO_RCVBUF ? st->tcp.rcvbuf : st->tcp.sndbuf;
        uint32_t b = (uint32_t)v > max ? max : (uint32_t)v;
        if (opt == TW_SO_RCVBUF)
            s->rcvbuf = b;
        else
            s->sndbuf = b;
        return 0;
    }
    case TW_IP_TTL:
        if (v < 1 || v > 255) return -TW_EINVAL;
        s->ttl = (uint8_t)v;
        return 0;
    case TW_IP_TOS:
        if (v < 0 || v > 255) return -TW_EINVAL;
        s->tos = (uint8_t)(v & 0xfc); /* Diffserv as given, not ECN-capable */
        return 0;
    case TW_TCP_KEEPIDLE: return keep_secs(v, &s->ka_idle);
    case TW_TCP_KEEPINTVL: return keep_secs(v, &s->ka_intvl);
    case TW_TCP_KEEPCNT:
        if (v < 1 || v > 255) return -TW_EINVAL;
        s->ka_cnt = (uint8_t)v;
        return 0;
    case TW_TCP_LINGER2:
        s->fw2_timeout = v > 0 ? TW_SEC((uint64_t)v) : v == 0 ? st->tcp.fin_wait_2_timeout : 0;
        return 0;
    case TW_TCP_USER_TIMEOUT: {
        unsigned u;
        memcpy(&u, val, sizeof u);
        s->user_timeout = TW_MS((uint64_t)u);
        return 0;
    }
    default: return -TW_ENOPROTOOPT;
    }
    s->bits = (uint8_t)(v ? s->bits | bit : s->bits & ~bit);
    return 0;
}

static int get_one(const tw_tcp_settings *s, int opt, void *val, size_t *len) {
    switch (opt) {
    case TW_SO_LINGER: {
        tw_linger l = {(s->bits & TW_SET_LINGER) ? 1 : 0, s->linger_s};
        if (!val || !len || *len < sizeof l) return -TW_EINVAL;
        memcpy(val, &l, sizeof l);
        *len = sizeof l;
        return 0;
    }
    case TW_SO_KEEPALIVE: return put_int(val, len, !!(s->bits & TW_SET_KEEPALIVE));
    case TW_SO_REUSEADDR: return put_int(val, len, !!(s->bits & TW_SET_REUSEADDR));
    case TW_TCP_NODELAY: return put_int(val, len, !!(s->bits & TW_SET_NODELAY));
    case TW_TCP_DELACK_FIN: return put_int(val, len, !!(s->bits & TW_SET_DELACK_FIN));
    case TW_TCP_DELACK_SYNACK: return put_int(val, len, !!(s->bits & TW_SET_DELACK_SYNACK));
    case TW_SO_SOFT_ERRORS: return put_int(val, len, !(s->bits & TW_SET_QUIET_ERRORS));
    case TW_IP_TTL: return put_int(val, len, s->ttl);
    case TW_IP_TOS: return put_int(val, len, s->tos);
    case TW_SO_RCVBUF: return put_int(val, len, (int)s->rcvbuf);
    case TW_SO_SNDBUF: return put_int(val, len, (int)s->sndbuf);
    case TW_TCP_KEEPIDLE: return put_int(val, len, (int)(s->ka_idle / TW_SEC(1)));
    case TW_TCP_KEEPINTVL: return put_int(val, len, (int)(s->ka_intvl / TW_SEC(1)));
    case TW_TCP_KEEPCNT: return put_int(val, len, s->ka_cnt);
    case TW_TCP_LINGER2:
        return put_int(val, len, s->fw2_timeout ? (int)(s->fw2_timeout / TW_SEC(1)) : -1);
    case TW_TCP_USER_TIMEOUT: return put_int(val, len, (int)(s->user_timeout / TW_MS(1)));
    default: return -TW_ENOPROTOOPT;
    }
}

/* SO_REUSEADDR belongs to the socket, not to a connection: it is kept in
 * the sockset entry whatever the socket's kind. */
static int set_reuseaddr(tw_stack *st, int s, const void *val, size_t len) {
    int v;
    if (get_int(val, len, &v)) return -TW_EINVAL;
    tw_sockset *ss = sockset_of(st, s);
    if (!ss) return -TW_ENOMEM;
    ss->s.bits = (uint8_t)(v ? ss->s.bits | TW_SET_REUSEADDR : ss->s.bits & ~TW_SET_REUSEADDR);
    return 0;
}

int tw_setsockopt(tw_stack *st, int s, int opt, const void *val, size_t len) {
    tw_sockent *e = sock_entry(st, s);
    if (!e) return -TW_EBADF;
    if (opt == TW_SO_REUSEADDR) return set_reuseaddr(st, s, val, len);
    if (e->kind != TW_SK_CONN) {
        tw_sockset *ss = sockset_of(st, s);
        if (!ss) return -TW_ENOMEM;
        tw_tcp_settings next = ss->s;
        int rc = set_one(st, &next, opt, val, len);
        if (rc) return rc;
        ss->s = next;
        /* tw_connect copies the socket's nodelay flag itself. */
        if (opt == TW_TCP_NODELAY) e->nodelay = (next.bits & TW_SET_NODELAY) != 0;
        return 0;
    }
    tw_slot *sl = tw__slot(st, e->ref);
    tw_tcp_conn *c = &sl->c;
    tw_tcp_settings next;
    tw_tcp_settings_get(c, &next);
    int rc = set_one(st, &next, opt, val, len);
    if (rc) return rc;
    if (tw_tcp_settings_apply(c, &next, st->now) != 0) return -TW_EINVAL; /* rings in use */
    if (opt == TW_TCP_NODELAY) e->nodelay = (next.bits & TW_SET_NODELAY) != 0;
    tw__mark_dirty(st, sl); /* new deadlines go to the wheel at the next poll */
    return 0;
}

int tw_getsockopt(tw_stack *st, int s, int opt, void *val, size_t *len) {
    tw_sockent *e = sock_entry(st, s);
    if (!e) return -TW_EBADF;
    tw_tcp_settings cur;
    const tw_tcp_settings *pend = tw__sock_settings(st, s);
    if (e->kind == TW_SK_CONN)
        tw_tcp_settings_get(&tw__slot(st, e->ref)->c, &cur);
    else if (pend)
        cur = *pend;
    else
        tw_tcp_settings_default(&cur, &st->tcp);
    if (e->kind != TW_SK_CONN && e->nodelay) cur.bits |= TW_SET_NODELAY; /* tw_set_nodelay */
    cur.bits =
        (uint8_t)((cur.bits & ~TW_SET_REUSEADDR) | (pend ? pend->bits & TW_SET_REUSEADDR : 0));
    return get_one(&cur, opt, val, len);
}

int tw_tcp_info_get(tw_stack *st, int s, tw_tcp_info *info) {
    tw_sockent *e = sock_entry(st, s);
    if (!e) return -TW_EBADF;
    memset(info, 0, sizeof *info);
    info->state = e->kind == TW_SK_LISTENER ? TW_LISTEN : TW_CLOSED;
    if (e->kind != TW_SK_CONN) return 0;
    const tw_tcp_conn *c = &tw__slot(st, e->ref)->c;
    info->state = c->state;
    if (c->xopts & TW_XO_WS) info->options |= TW_TI_OPT_WSCALE;
    if (c->xopts & TW_XO_TS) info->options |= TW_TI_OPT_TIMESTAMPS;
    if (c->xopts & TW_XO_SACK) info->options |= TW_TI_OPT_SACK;
    info->snd_wscale = c->snd_wscale;
    info->rcv_wscale = c->rcv_wscale;
    info->snd_mss = c->snd_mss;
    info->smss = c->smss;
    info->rcv_mss = c->cfg->mss;
    info->rtt = c->srtt;
    info->rttvar = c->rttvar;
    info->rto = c->rto;
    info->bytes_in_flight = (uint32_t)tw_seq_diff(c->snd_max, c->snd_una);
    info->snd_wnd = c->snd_wnd;
    int32_t adv = tw_seq_diff(c->rcv_adv, c->rcv_nxt);
    info->rcv_wnd = adv > 0 ? (uint32_t)adv : 0;
    info->unacked_backoffs = c->rexmt_count;
    info->total_retrans = c->total_retrans;
    info->keepalive_probes = c->ka_probes;
    info->cwnd = c->cwnd;
    info->ssthresh = c->ssthresh;
    info->fast_retrans = c->fast_retrans;
    info->in_recovery = (c->ccf & TW_CCF_RECOVERY) != 0;
    return 0;
}
