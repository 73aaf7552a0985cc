/* syncookie.c - SYN cookies (RFC 4987 §3.6) for a listener that cannot take
 * another SYN.
 *
 * When a SYN finds its listener's backlog full (or the connection pool
 * exhausted), the stack still answers it: with a SYN-ACK whose ISN is a
 * cookie, keeping nothing at all. An ACK that later arrives for a 4-tuple
 * with no connection and returns a valid cookie (SEG.ACK - 1) rebuilds the
 * connection that SYN would have made. A flood of SYNs from forged sources
 * then costs one hash and one SYN-ACK each, and no memory.
 *
 * The cookie (tcpwave's own layout). With
 *   F  the high half of the 4-tuple's keyed hash (tw__tuple_hash): the
 *      RFC 6528 offset an ordinary ISN uses too;
 *   T  the cookie clock: the stack's time in 64 s ticks;
 *   m  the index in mss_table[] of the largest entry not above the peer's
 *      MSS (536 when its SYN had no MSS option, RFC 9293 MUST-15);
 *   M  SipHash-2-4 under the stack's secret of the 24 bytes
 *      "cook"^m, laddr, raddr, lport:rport, the peer's ISN, T (low 32 bits),
 * the ISN is
 *   F + (M[63:37] << 5 | (T mod 4) << 3 | m)
 * 27 bits of MAC, 2 of clock, 3 of MSS index. To check an ACK, F is taken
 * back out of SEG.ACK - 1; the clock bits pick the one tick among now and
 * now - 1 they match (so a cookie lives 64 to 128 s, and an older one is
 * stale); the MAC is recomputed with SEG.SEQ - 1 as the peer's ISN. The MAC
 * binds the clock and the MSS index, so neither can be altered, and a blind
 * guess succeeds with probability 2^-27 per ACK. F keeps the MSS index and
 * clock bits from showing in the clear.
 *
 * What a cookie does not carry: window scaling, SACK-permitted and
 * timestamps. The cookie SYN-ACK offers none of them (RFC 7323 §2.2, §3.2
 * and RFC 2018 §2 let a SYN-ACK leave them out, and the peer then uses
 * none), so a cookie connection has a window of at most 64 KB, no SACK and
 * no PAWS. The peer's MSS is rounded down to a table entry. Data on the
 * SYN is not kept (as on the ordinary path), and the SYN-ACK is never
 * retransmitted: if it is lost, the peer's retransmitted SYN gets a new
 * cookie.
 *
 * Which ACKs are checked: only those to a listener that sent a cookie in
 * the last two ticks (no live cookie can exist otherwise, so an ACK flood at
 * a quiet listener costs no hash); every other ACK to a listener gets its
 * RST as RFC 9293 §3.10.7.2 says, and so does an ACK whose cookie fails
 * (counted as SYNCOOKIE_REJECTED): <SEQ=SEG.ACK><CTL=RST>. */
#include <string.h>

#include "stack/stack.h"
#include "util/hash.h"

#define COOKIE_TICK TW_SEC(64)
#define COOKIE_MAC_BITS 27u

/* Common MSS values, ascending: 1460 Ethernet, 1440/1400/1360 tunnels and
 * PPPoE, 1220 IPv6-minimum paths, 536 the default, 48 the floor the stack
 * raises any smaller MSS to (tcp_input.c). Rounding down never sends more
 * than the peer asked for. */
static const uint16_t mss_table[8] = {48, 256, 536, 1220, 1360, 1400, 1440, 1460};

static uint64_t cookie_tick(uint64_t now) {
    return now / COOKIE_TICK;
}

static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* The 27-bit MAC of a cookie. `seg` is the SYN or the ACK (both come from
 * the peer, so their address and port fields mean the same). */
static uint32_t cookie_mac(const tw_stack *st, const tw_tcp_seg *seg, uint32_t peer_isn,
                           uint64_t tick, unsigned m) {
    uint8_t b[24];
    put32(b, 0x6b6f6f63u ^ m); /* "cook": apart from the 12-byte 4-tuple hashes */
    put32(b + 4, seg->dst_addr);
    put32(b + 8, seg->src_addr);
    put32(b + 12, (uint32_t)seg->dst_port << 16 | seg->src_port);
    put32(b + 16, peer_isn);
    put32(b + 20, (uint32_t)tick);
    return (uint32_t)(tw_siphash(st->key, b, sizeof b) >> (64u - COOKIE_MAC_BITS));
}

static unsigned mss_index(const tw_tcp_seg *syn) {
    uint32_t mss = syn->opt.has_mss ? syn->opt.mss : 536u;
    unsigned m = 0;
    while (m + 1 < sizeof mss_table / sizeof *mss_table && mss_table[m + 1] <= mss) m++;
    return m;
}

/* True when `ack` returns a live cookie of ours; *m is then its MSS index. */
static bool cookie_check(const tw_stack *st, const tw_tcp_seg *ack, uint64_t hash, uint64_t tick,
                         unsigned *m) {
    uint32_t v = ack->ack.v - 1u - (uint32_t)(hash >> 32);
    uint32_t tbits = (v >> 3) & 3u;
    *m = v & 7u;
    if ((tick & 3u) != tbits) {
        if (tick == 0 || ((tick - 1) & 3u) != tbits) return false; /* older than a tick: stale */
        tick--;
    }
    return (v >> 5) == cookie_mac(st, ack, ack->seq.v - 1u, tick, *m);
}

/* The window of the cookie SYN-ACK: what the rebuilt connection will
 * believe it offered, its receive ring (the listener's SO_RCVBUF if set),
 * unscaled, so at most 65535. */
static uint16_t cookie_window(const tw_stack *st, const tw_listener *l) {
    uint32_t rcvbuf = st->cfg.rcvbuf;
    const tw_tcp_settings *ls = tw__sock_settings(st, l->sock);
    if (ls && ls->rcvbuf < rcvbuf) rcvbuf = ls->rcvbuf;
    return (uint16_t)(rcvbuf < 65535u ? rcvbuf : 65535u);
}

bool tw__cookie_synack(tw_stack *st, uint32_t li, const tw_tcp_seg *syn, uint64_t hash,
                       tw_tcp_seg *out) {
    if (!st->cfg.syn_cookies) return false;
    tw_listener *l = &st->listeners[li];
    uint64_t tick = cookie_tick(st->now);
    unsigned m = mss_index(syn);
    uint32_t mac = cookie_mac(st, syn, syn->seq.v, tick, m);
    memset(out, 0, sizeof *out);
    out->src_addr = syn->dst_addr;
    out->dst_addr = syn->src_addr;
    out->src_port = syn->dst_port;
    out->dst_port = syn->src_port;
    out->seq = tw_seq((uint32_t)(hash >> 32) + (mac << 5 | (uint32_t)(tick & 3u) << 3 | m));
    out->ack = tw_seq_add(syn->seq, 1);
    out->flags = TW_TH_SYN | TW_TH_ACK;
    out->wnd = cookie_window(st, l);
    out->opt.has_mss = true;
    out->opt.mss = st->tcp.mss;
    l->cookie_tick = tick + 1;
    st->counters[TW_C_SYNCOOKIE_SENT]++;
    return true;
}

/* Children of l that completed their handshake and wait for tw_accept(),
 * counted up to `limit` (the walk is bounded by the backlog). */
static uint32_t accept_queue_len(const tw_stack *st, const tw_listener *l, uint32_t limit) {
    uint32_t n = 0;
    for (uint32_t i = l->acc_head; i != TW_NIL && n < limit; i = tw__slot(st, i)->acc_next) n++;
    return n;
}

static void discard(void *ctx, const tw_tcp_seg *s, unsigned meta) {
    (void)ctx, (void)s, (void)meta;
}

/* Makes slot s the connection listener li would have made for the SYN the
 * cookie in `ack` answered, as it was just after sending its SYN-ACK:
 * SYN_RECEIVED, ISS = SEG.ACK - 1, IRS = SEG.SEQ - 1, the peer's MSS from
 * the cookie and no other option. The SYN is replayed through the ordinary
 * LISTEN handler and the SYN-ACK through the ordinary output (sent nowhere),
 * both silently: what the trace shows is the one move LISTEN -> SYN_RECEIVED
 * with the cause SYN_COOKIE. */
static void rebuild(tw_stack *st, tw_slot *s, uint32_t li, const tw_tcp_seg *ack, uint16_t mss,
                    uint64_t hash) {
    tw_listener *l = &st->listeners[li];
    tw_tcp_conn *c = &s->c;
    tw_tcp_set_tuple(c, st->cfg.addr, ack->dst_port, ack->src_addr, ack->src_port);
    tw_tcp_listen(c, tw_seq(ack->ack.v - 1u), st->now);
    const tw_tcp_settings *ls = tw__sock_settings(st, l->sock);
    if (ls) tw_tcp_settings_apply(c, ls, st->now);
    s->listener = (int32_t)li;
    l->pending++;
    st->counters[TW_C_CONN_PASSIVE_OPEN]++;
    tw__table_insert_slot(st, s, (uint32_t)hash);

    tw_tcp_seg syn;
    memset(&syn, 0, sizeof syn);
    syn.src_addr = ack->src_addr;
    syn.dst_addr = ack->dst_addr;
    syn.src_port = ack->src_port;
    syn.dst_port = ack->dst_port;
    syn.seq = tw_seq(ack->seq.v - 1u);
    syn.flags = TW_TH_SYN;
    syn.wnd = ack->wnd;
    syn.opt.has_mss = true;
    syn.opt.mss = mss;
    uint64_t unseen[TW_C__COUNT] = {0};
    tw_tcp_env quiet = {NULL, NULL, unseen};
    c->env = &quiet;
    tw_tcp_input(c, st->now, &syn);
    tw_tcp_tx tx = {discard, NULL, st->scratch, sizeof st->scratch};
    tw_tcp_output(c, st->now, &tx);
    c->env = &st->env;
    /* When the SYN-ACK left is known only to the tick: no RTT sample from
     * the handshake (as after a retransmitted SYN-ACK, RFC 6298 §3 Karn). */
    c->rtt_timing = false;
    tw__trace_state(&st->env, c->id, TW_LISTEN, TW_SYN_RECEIVED, TW_CAUSE_SYN_COOKIE, st->now,
                    c->laddr, c->lport, c->raddr, c->rport);
}

tw_slot *tw__cookie_ack(tw_stack *st, uint32_t li, const tw_tcp_seg *ack, uint64_t hash,
                        uint16_t *reason) {
    *reason = 0;
    const tw_listener *l = &st->listeners[li];
    uint64_t tick = cookie_tick(st->now);
    if (!st->cfg.syn_cookies || (ack->flags & (TW_TH_SYN | TW_TH_RST)) || !(ack->flags & TW_TH_ACK))
        return NULL;
    if (l->cookie_tick == 0 || tick > l->cookie_tick) return NULL; /* no cookie out that can live */
    unsigned m;
    if (!cookie_check(st, ack, hash, tick, &m)) {
        st->counters[TW_C_SYNCOOKIE_REJECTED]++;
        return NULL;
    }
    /* RFC 4987 §3.6 leaves the accept queue's bound in force: the peer
     * believes it is connected, and its next segment (data, or the ACK
     * repeated) returns the same cookie while it lives. */
    if (accept_queue_len(st, l, l->backlog) >= l->backlog) {
        *reason = TW_C_DROP_SYNCOOKIE_ACCEPT_FULL;
        return NULL;
    }
    tw_slot *s = tw__slot_new(st);
    if (!s) {
        *reason = TW_C_DROP_NO_MEMORY;
        return NULL;
    }
    rebuild(st, s, li, ack, mss_table[m], hash);
    st->counters[TW_C_SYNCOOKIE_ACCEPTED]++;
    return s;
}
