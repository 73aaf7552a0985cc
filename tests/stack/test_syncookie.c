/* test_syncookie.c - SYN cookies on the wire (RFC 4987 §3.6,
 * src/stack/syncookie.c): a listener whose backlog is full answers a SYN
 * with a SYN-ACK whose ISN is the documented cookie and keeps no state; an
 * ACK returning a live cookie opens an ESTABLISHED connection that carries
 * data and closes normally; a forged, altered or stale cookie gets
 * <SEQ=SEG.ACK><CTL=RST> (RFC 9293 §3.10.7.2); a full accept queue drops a
 * valid one; with cfg.syn_cookies off the SYN is dropped as before; cookies
 * depend only on the seed and the clock. Last, a bounded SYN flood: 10^5
 * SYNs from random sources, memory measured from the allocator, while
 * legitimate clients connect. */
#include <malloc.h>

#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/hash.h"
#include "util/rng.h"
#include "util/time.h"

#define TICK TW_SEC(64) /* the cookie clock (syncookie.c) */

/* ---- the cookie, recomputed from its documented layout ---- */

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* ISN = F + (MAC27 << 5 | (T mod 4) << 3 | m) for the peer SX_PEER:sport -> :80. */
static uint32_t expected_cookie(const sx *x, uint16_t sport, uint32_t peer_isn, uint64_t now,
                                unsigned m) {
    uint64_t tick = now / TICK;
    uint8_t b[24];
    put32(b, 0x6b6f6f63u ^ m);
    put32(b + 4, SX_ADDR);
    put32(b + 8, SX_PEER);
    put32(b + 12, (uint32_t)80 << 16 | sport);
    put32(b + 16, peer_isn);
    put32(b + 20, (uint32_t)tick);
    uint32_t mac = (uint32_t)(tw_siphash(x->st->key, b, sizeof b) >> 37);
    uint32_t f = (uint32_t)(tw__tuple_hash(x->st, SX_PEER, 80, sport) >> 32);
    return f + (mac << 5 | (uint32_t)(tick & 3) << 3 | m);
}

/* A SYN offering everything: MSS, window scale 7, SACK-permitted, timestamps. */
static sx_seg full_syn(uint16_t sport, uint32_t isn, uint16_t mss, tw_tcp_opts *o) {
    memset(o, 0, sizeof *o);
    o->has_mss = mss != 0;
    o->mss = mss;
    o->has_ws = true;
    o->ws = 7;
    o->sack_ok = true;
    o->has_ts = true;
    o->tsval = 777;
    sx_seg s = sx_mk(sport, 80, TW_TH_SYN, isn, 0);
    s.opt = o;
    return s;
}

/* Listener on :80 with backlog 1, filled by a half-open connection from
 * port 40000 (its SYN-ACK taken from the capture). */
static int full_listener(sx *x, size_t *cur) {
    int l = sx_listen(x, 80, 1);
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 100, 0);
    ASSERT_EQ(sx_input(x, SX_T0, &syn), 0);
    SX_EXPECT(sx_take(x, cur), TW_TH_SYN | TW_TH_ACK, sx_sent(x, 0)->seg.seq.v, 101, 0);
    ASSERT_EQ(tw_stack_conn_count(x->st), 1);
    return l;
}

static const tw_trace_ev *find_state_ev(const sx *x, int from, int to) {
    for (size_t i = 0; i < x->nev; i++)
        if (x->ev[i].kind == TW_EV_STATE && x->ev[i].old_state == from && x->ev[i].new_state == to)
            return &x->ev[i];
    return NULL;
}

TEST(syncookie_full_listener_answers_with_cookie_syn_ack) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    full_listener(&x, &cur);
    size_t nev = x.nev;
    tw_tcp_opts o;
    sx_seg syn = full_syn(40001, 5000, 1460, &o);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    const sx_pkt *p = sx_take(&x, &cur);
    uint32_t cookie = expected_cookie(&x, 40001, 5000, SX_T0 + TW_MS(1), 7);
    SX_EXPECT(p, TW_TH_SYN | TW_TH_ACK, cookie, 5001, 0);
    ASSERT_EQ(p->seg.src_port, 80);
    ASSERT_EQ(p->seg.dst_port, 40001);
    ASSERT_EQ(p->seg.wnd, 65535);
    /* Only our MSS: no window scale, SACK-permitted or timestamps, which the
     * cookie could not bring back (RFC 7323 §2.2, §3.2; RFC 2018 §2). */
    ASSERT_TRUE(p->seg.opt.has_mss);
    ASSERT_EQ(p->seg.opt.mss, 1460);
    ASSERT_FALSE(p->seg.opt.has_ws);
    ASSERT_FALSE(p->seg.opt.sack_ok);
    ASSERT_FALSE(p->seg.opt.has_ts);
    /* Nothing kept: no connection, no state move; the SYN is not a drop. */
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_LISTEN_OVERFLOW], 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CONN_PASSIVE_OPEN], 1);
    for (size_t i = nev; i < x.nev; i++) {
        ASSERT_NE(x.ev[i].kind, TW_EV_STATE);
        ASSERT_NE(x.ev[i].kind, TW_EV_DROP);
        ASSERT_EQ(x.ev[i].conn_id, 0);
    }
    /* The same SYN again in the same tick: the same cookie. Another ISN:
     * another cookie. The MSS index is the largest table entry not above
     * the peer's MSS: none means 536 (index 2), 1452 gives 1440 (6). */
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &syn), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_SYN | TW_TH_ACK, cookie, 5001, 0);
    sx_seg other = full_syn(40001, 6000, 0, &o);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(3), &other), 0);
    p = sx_take(&x, &cur);
    ASSERT_NE(p->seg.seq.v, cookie);
    SX_EXPECT(p, TW_TH_SYN | TW_TH_ACK, expected_cookie(&x, 40001, 6000, x.now, 2), 6001, 0);
    sx_seg pppoe = sx_mk(40002, 80, TW_TH_SYN, 7000, 0);
    pppoe.mss = 1452;
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(4), &pppoe), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_SYN | TW_TH_ACK, expected_cookie(&x, 40002, 7000, x.now, 6),
              7001, 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 4);
    ASSERT_EQ(sx_nsent(&x), cur);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_ack_opens_established_connection_that_carries_data_and_closes) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int l = full_listener(&x, &cur);
    tw_tcp_opts o;
    sx_seg syn = full_syn(40001, 5000, 1452, &o);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    uint32_t iss = sx_take(&x, &cur)->seg.seq.v;
    /* The third segment carries data: the connection is made from the
     * cookie and the ACK processed as in SYN_RECEIVED. */
    sx_seg ack = sx_mk(40001, 80, TW_TH_ACK | TW_TH_PSH, 5001, iss + 1);
    ack.data = "hello";
    ack.len = 5;
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &ack), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CONN_PASSIVE_OPEN], 2);
    const tw_trace_ev *e = find_state_ev(&x, TW_LISTEN, TW_SYN_RECEIVED);
    ASSERT_TRUE(e != NULL); /* the half-open one from port 40000 */
    e = NULL;
    for (size_t i = 0; i < x.nev; i++)
        if (x.ev[i].kind == TW_EV_STATE && x.ev[i].cause == TW_CAUSE_SYN_COOKIE) e = &x.ev[i];
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->old_state, TW_LISTEN);
    ASSERT_EQ(e->new_state, TW_SYN_RECEIVED);
    ASSERT_EQ(e->rport, 40001);
    ASSERT_U64_EQ(e->t, SX_T0 + TW_MS(2));
    ASSERT_U64_EQ(sx_state_time(&x, TW_SYN_RECEIVED, TW_ESTABLISHED, 0), SX_T0 + TW_MS(2));

    /* Accepted like any child; the MSS came back from the cookie (1452
     * rounded down to 1440); no option beyond it is in use. */
    int s = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(s, >=, 0);
    tw_tcp_info ti;
    ASSERT_EQ(tw_tcp_info_get(x.st, s, &ti), 0);
    ASSERT_EQ(ti.state, TW_ESTABLISHED);
    ASSERT_EQ(ti.snd_mss, 1440);
    ASSERT_EQ(ti.options, 0);
    tw_sock_info si;
    ASSERT_EQ(tw_sock_info_get(x.st, s, &si), 0);
    ASSERT_EQ(si.iss, iss);
    ASSERT_EQ(si.irs, 5000);
    char buf[16];
    ASSERT_EQ(tw_recv(x.st, s, buf, sizeof buf), 5);
    ASSERT_MEMEQ(buf, "hello", 5);
    /* The answer, at ISS + 1, acknowledging the 5 bytes. */
    ASSERT_EQ(tw_send(x.st, s, "world", 5), 5);
    sx_poll(&x, SX_T0 + TW_MS(3));
    const sx_pkt *p = sx_take(&x, &cur);
    SX_EXPECT(p, TW_TH_ACK | TW_TH_PSH, iss + 1, 5006, 5);
    ASSERT_MEMEQ(p->payload, "world", 5);
    ASSERT_FALSE(p->seg.opt.has_ts);
    /* The peer closes first; the server closes; the last ACK ends it. */
    sx_seg fin = sx_mk(40001, 80, TW_TH_FIN | TW_TH_ACK, 5006, iss + 6);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(4), &fin), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, iss + 6, 5007, 0);
    ASSERT_EQ(tw_recv(x.st, s, buf, sizeof buf), 0);
    ASSERT_EQ(tw_close(x.st, s), 0);
    sx_poll(&x, SX_T0 + TW_MS(5));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, iss + 6, 5007, 0);
    sx_seg last = sx_mk(40001, 80, TW_TH_ACK, 5007, iss + 7);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(6), &last), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_state_time(&x, TW_LAST_ACK, TW_CLOSED, 0), SX_T0 + TW_MS(6));
    ASSERT_EQ(sx_nsent(&x), cur);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_forged_or_altered_ack_gets_rst) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    full_listener(&x, &cur);
    sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    syn.mss = 1460;
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    uint32_t iss = sx_take(&x, &cur)->seg.seq.v;
    /* RFC 9293 §3.10.7.2: an ACK to a LISTEN port with no connection is
     * answered <SEQ=SEG.ACK><CTL=RST>; so is one whose cookie fails. */
    static const struct {
        uint16_t sport;
        uint32_t seq;
    } bad[] = {
        {40001, 5001}, /* forged: any ACK number */
        {40001, 5001}, /* the cookie with its MAC changed */
        {40001, 5001}, /* the cookie with its MSS index changed */
        {40001, 5002}, /* the cookie, but another peer ISN than the SYN's */
        {40003, 5001}, /* the cookie, from another 4-tuple */
    };
    uint32_t acks[5] = {0x12345678u, iss + 1 + 32, iss + 1 - 1, iss + 1, iss + 1};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        sx_seg ack = sx_mk(bad[i].sport, 80, TW_TH_ACK, bad[i].seq, acks[i]);
        ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2 + i), &ack), 0);
        const sx_pkt *p = sx_take(&x, &cur);
        SX_EXPECT(p, TW_TH_RST, acks[i], 0, 0);
        ASSERT_EQ(p->seg.dst_port, bad[i].sport);
    }
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_REJECTED], 5);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_BAD_ACK], 5);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 0);
    /* The genuine one still works afterwards. */
    sx_seg good = sx_mk(40001, 80, TW_TH_ACK, 5001, iss + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(10), &good), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    ASSERT_EQ(sx_nsent(&x), cur); /* the handshake's ACK needs no answer */
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_lives_one_to_two_ticks_then_is_stale) {
    /* SX_T0 = 1000 s lies in tick 15 (960 s .. 1024 s): a cookie made then
     * is good through tick 16 (until 1088 s) and stale from tick 17. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    full_listener(&x, &cur);
    sx_seg syn_a = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    sx_seg syn_b = sx_mk(40002, 80, TW_TH_SYN, 6000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0, &syn_a), 0);
    uint32_t ca = sx_take(&x, &cur)->seg.seq.v;
    ASSERT_EQ(sx_input(&x, SX_T0, &syn_b), 0);
    uint32_t cb = sx_take(&x, &cur)->seg.seq.v;
    /* Keep the listener sending cookies (the half-open child would time
     * out: its SYN-ACK retransmissions go to the capture). */
    sx_run_until(&x, TW_SEC(1088) - 1);
    cur = sx_nsent(&x);
    sx_seg keep = sx_mk(40009, 80, TW_TH_SYN, 1, 0);
    ASSERT_EQ(sx_input(&x, TW_SEC(1088) - 1, &keep), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 3);
    sx_take(&x, &cur);
    sx_seg ack_a = sx_mk(40001, 80, TW_TH_ACK, 5001, ca + 1);
    ASSERT_EQ(sx_input(&x, TW_SEC(1088) - 1, &ack_a), 0); /* tick 16: good */
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_seg ack_b = sx_mk(40002, 80, TW_TH_ACK, 6001, cb + 1);
    ASSERT_EQ(sx_input(&x, TW_SEC(1088), &ack_b), 0); /* tick 17: stale */
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, cb + 1, 0, 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_REJECTED], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_ack_to_listener_without_cookies_is_not_checked) {
    /* No cookie sent in the last two ticks: an ACK cannot return a live
     * one; it gets the RST of RFC 9293 §3.10.7.2 and costs no hash. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    full_listener(&x, &cur);
    sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0, &syn), 0);
    uint32_t c = sx_take(&x, &cur)->seg.seq.v;
    sx_seg ack = sx_mk(40001, 80, TW_TH_ACK, 5001, c + 1);
    ASSERT_EQ(sx_input(&x, TW_SEC(1088), &ack), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, c + 1, 0, 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_REJECTED], 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_BAD_ACK], 1);
    sx_free(&x);
}

TEST(syncookie_valid_ack_dropped_while_accept_queue_full) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int l = sx_listen(&x, 80, 1);
    /* A completed, not yet accepted connection fills the accept queue. */
    sx_seg syn0 = sx_mk(40000, 80, TW_TH_SYN, 100, 0);
    ASSERT_EQ(sx_input(&x, SX_T0, &syn0), 0);
    uint32_t iss0 = sx_take(&x, &cur)->seg.seq.v;
    sx_seg ack0 = sx_mk(40000, 80, TW_TH_ACK, 101, iss0 + 1);
    ASSERT_EQ(sx_input(&x, SX_T0, &ack0), 0);
    sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    uint32_t c = sx_take(&x, &cur)->seg.seq.v;
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 1);
    sx_seg ack = sx_mk(40001, 80, TW_TH_ACK, 5001, c + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &ack), 0);
    ASSERT_EQ(sx_nsent(&x), cur); /* dropped: no RST, the peer may retry */
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_SYNCOOKIE_ACCEPT_FULL], 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    /* Once the application accepts, the peer's next segment (here its data)
     * returns the same cookie and gets in. */
    ASSERT_CMP(tw_accept(x.st, l, NULL, NULL), >=, 0);
    ack.data = "x";
    ack.len = 1;
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(3), &ack), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    int s = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(s, >=, 0);
    char b;
    ASSERT_EQ(tw_recv(x.st, s, &b, 1), 1);
    ASSERT_EQ(b, 'x');
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_pool_full_sends_cookie_and_drops_ack_until_room) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.max_conns = 1;
    sx x;
    sx_init(&x, &cfg);
    size_t cur = 0;
    sx_listen(&x, 80, 8);
    sx_seg syn0 = sx_mk(40000, 80, TW_TH_SYN, 100, 0);
    ASSERT_EQ(sx_input(&x, SX_T0, &syn0), 0);
    sx_take(&x, &cur);
    sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    uint32_t c = sx_take(&x, &cur)->seg.seq.v;
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_NO_MEMORY], 0);
    sx_seg ack = sx_mk(40001, 80, TW_TH_ACK, 5001, c + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &ack), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_NO_MEMORY], 1);
    ASSERT_EQ(sx_nsent(&x), cur);
    /* The first one goes away (RST): room for the cookie's connection. */
    sx_seg rst = sx_mk(40000, 80, TW_TH_RST, 101, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(3), &rst), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(4), &ack), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 1);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(syncookie_off_drops_syn_and_resets_cookie_ack) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    sx on;
    sx_init(&on, &cfg);
    size_t con = 0;
    full_listener(&on, &con);
    sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
    ASSERT_EQ(sx_input(&on, SX_T0 + TW_MS(1), &syn), 0);
    uint32_t c = sx_take(&on, &con)->seg.seq.v;

    cfg.syn_cookies = false; /* same seed: the same cookie would be valid */
    sx x;
    sx_init(&x, &cfg);
    size_t cur = 0;
    full_listener(&x, &cur);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_LISTEN_OVERFLOW], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_SENT], 0);
    sx_seg ack = sx_mk(40001, 80, TW_TH_ACK, 5001, c + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &ack), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, c + 1, 0, 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_SYNCOOKIE_ACCEPTED], 0);
    sx_free(&x);
    sx_free(&on);
}

TEST(syncookie_depends_only_on_seed_tuple_and_clock) {
    uint32_t got[3];
    for (int run = 0; run < 3; run++) {
        tw_stack_cfg cfg;
        tw_stack_cfg_default(&cfg);
        cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
        cfg.seed = run == 2 ? 99 : 7;
        sx x;
        sx_init(&x, &cfg);
        size_t cur = 0;
        full_listener(&x, &cur);
        sx_seg syn = sx_mk(40001, 80, TW_TH_SYN, 5000, 0);
        ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
        got[run] = sx_take(&x, &cur)->seg.seq.v;
        ASSERT_EQ(got[run], expected_cookie(&x, 40001, 5000, x.now, 2));
        sx_free(&x);
    }
    ASSERT_EQ(got[0], got[1]);
    ASSERT_NE(got[0], got[2]);
}

/* ---- a bounded SYN flood ---- */

/* Bytes the allocator has handed out and not taken back (not sizeof). */
#if defined(__SANITIZE_ADDRESS__)
#define TW_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TW_ASAN 1
#endif
#endif
#ifdef TW_ASAN
/* From the sanitizer runtime (sanitizer/allocator_interface.h, which not
 * every toolchain installs). */
size_t __sanitizer_get_current_allocated_bytes(void);
static size_t heap_used(void) {
    return __sanitizer_get_current_allocated_bytes();
}
#else
static size_t heap_used(void) {
    struct mallinfo2 m = mallinfo2();
    return m.uordblks + m.hblkhd;
}
#endif

#define FL_SERVER 0xC6130001u /* 198.19.0.1: outside the flood's sources */
#define FL_CLIENT 0xC6130002u /* 198.19.0.2: the legitimate clients' stack */
#define FL_QCAP 256u

typedef struct fl_q {
    uint8_t pkt[FL_QCAP][1600];
    uint32_t len[FL_QCAP];
    uint32_t head, n;
} fl_q;

typedef struct fl_link {
    tw_link link;
    fl_q *to;
    uint64_t *discarded; /* packets to flood sources (server side only) */
} fl_link;

static int fl_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    fl_link *fl = (fl_link *)l;
    uint32_t dst =
        (uint32_t)pkt[16] << 24 | (uint32_t)pkt[17] << 16 | (uint32_t)pkt[18] << 8 | pkt[19];
    if (fl->discarded && dst != FL_CLIENT) {
        (*fl->discarded)++;
        return 0;
    }
    if (fl->to->n == FL_QCAP || len > sizeof fl->to->pkt[0]) abort();
    uint32_t i = (fl->to->head + fl->to->n++) % FL_QCAP;
    memcpy(fl->to->pkt[i], pkt, len);
    fl->to->len[i] = (uint32_t)len;
    return 0;
}
static const struct tw_link_ops fl_ops = TW_LINK_SEND_ONLY(fl_send);

typedef struct flood {
    tw_stack *srv, *cli;
    fl_q *to_srv, *to_cli;
    fl_link lsrv, lcli;
    uint64_t now, discarded;
    int lsock;
    uint32_t legit_done;
} flood;

static void fl_pump(flood *f) {
    for (int round = 0; round < 1000; round++) {
        tw_stack_poll(f->srv, f->now);
        tw_stack_poll(f->cli, f->now);
        if (!f->to_srv->n && !f->to_cli->n) return;
        while (f->to_srv->n) {
            uint32_t i = f->to_srv->head;
            f->to_srv->head = (i + 1) % FL_QCAP;
            f->to_srv->n--;
            tw_stack_input(f->srv, f->now, f->to_srv->pkt[i], f->to_srv->len[i]);
        }
        while (f->to_cli->n) {
            uint32_t i = f->to_cli->head;
            f->to_cli->head = (i + 1) % FL_QCAP;
            f->to_cli->n--;
            tw_stack_input(f->cli, f->now, f->to_cli->pkt[i], f->to_cli->len[i]);
        }
    }
    FAIL("flood: the two stacks did not settle");
}

/* One legitimate client: connect, send a request, read the answer, both
 * close. Returns when it is done (all at the current virtual time: the link
 * has no delay). */
static void fl_legit(flood *f, uint32_t k) {
    int c = tw_socket(f->cli);
    ASSERT_CMP(c, >=, 0);
    ASSERT_EQ(tw_connect(f->cli, c, FL_SERVER, 80), 0);
    fl_pump(f);
    int s = tw_accept(f->srv, f->lsock, NULL, NULL);
    if (s < 0) FAIL("legitimate client %u was not accepted", k);
    char req[32], got[32];
    int n = snprintf(req, sizeof req, "request %u", k);
    ASSERT_EQ(tw_send(f->cli, c, req, (size_t)n), n);
    fl_pump(f);
    ASSERT_EQ(tw_recv(f->srv, s, got, sizeof got), n);
    ASSERT_EQ(tw_send(f->srv, s, got, (size_t)n), n);
    ASSERT_EQ(tw_close(f->srv, s), 0);
    fl_pump(f);
    ASSERT_EQ(tw_recv(f->cli, c, got, sizeof got), n);
    ASSERT_MEMEQ(got, req, (size_t)n);
    ASSERT_EQ(tw_recv(f->cli, c, got, sizeof got), 0);
    ASSERT_EQ(tw_close(f->cli, c), 0);
    fl_pump(f);
    f->legit_done++;
}

/* One SYN from a random source in 198.18.0.0/15 with a random port and ISN. */
static void fl_syn(flood *f, tw_rng *r) {
    uint64_t v = tw_rng_next(r);
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_addr = 0xC6120000u | (uint32_t)(v & 0x1ffffu);
    s.dst_addr = FL_SERVER;
    s.src_port = (uint16_t)(1024 + (v >> 17) % 64511);
    s.dst_port = 80;
    s.seq = tw_seq((uint32_t)(v >> 32));
    s.flags = TW_TH_SYN;
    s.wnd = 65535;
    s.opt.has_mss = true;
    s.opt.mss = 1460;
    uint8_t buf[128];
    int n = tw_packet_emit(&s, 1, buf, sizeof buf);
    ASSERT_CMP(n, >, 0);
    tw_stack_input(f->srv, f->now, buf, (size_t)n);
}

TEST(synflood_100k_syns_memory_bounded_legitimate_clients_connect) {
    enum { SYNS = 100000, LEGIT_EVERY = 1000, BACKLOG = 64 };
    size_t base = heap_used();
    flood *f = calloc(1, sizeof *f);
    f->to_srv = calloc(1, sizeof *f->to_srv);
    f->to_cli = calloc(1, sizeof *f->to_cli);
    f->lsrv = (fl_link){{&fl_ops}, f->to_cli, &f->discarded};
    f->lcli = (fl_link){{&fl_ops}, f->to_srv, NULL};
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.rcvbuf = cfg.sndbuf = 16384;
    cfg.addr = FL_SERVER;
    ASSERT_EQ(tw_stack_new(&cfg, &f->lsrv.link, &f->srv), 0);
    cfg.addr = FL_CLIENT;
    cfg.seed = 2;
    ASSERT_EQ(tw_stack_new(&cfg, &f->lcli.link, &f->cli), 0);
    f->now = TW_SEC(1);
    f->lsock = tw_socket(f->srv);
    ASSERT_EQ(tw_bind(f->srv, f->lsock, 80), 0);
    ASSERT_EQ(tw_listen(f->srv, f->lsock, BACKLOG), 0);
    fl_pump(f);
    size_t before = heap_used();
    tw_rng r;
    tw_rng_seed(&r, 12345);
    size_t at_10k = 0, peak = 0;
    for (uint32_t i = 1; i <= SYNS; i++) {
        f->now += TW_US(10); /* 100,000 SYNs per second of virtual time */
        fl_syn(f, &r);
        if (i % LEGIT_EVERY == 0)
            fl_legit(f, i / LEGIT_EVERY);
        else if (i % 64 == 0)
            fl_pump(f);
        size_t h = heap_used();
        if (h > peak) peak = h;
        if (i == 10000) at_10k = peak;
    }
    const uint64_t *k = tw_stack_counters(f->srv);
    /* Every legitimate client connected, every one through a cookie (the
     * backlog stayed full of the flood's half-open connections). */
    ASSERT_EQ(f->legit_done, SYNS / LEGIT_EVERY);
    ASSERT_U64_EQ(k[TW_C_SYNCOOKIE_ACCEPTED], SYNS / LEGIT_EVERY);
    ASSERT_U64_EQ(k[TW_C_SYNCOOKIE_SENT], SYNS - BACKLOG + SYNS / LEGIT_EVERY);
    ASSERT_U64_EQ(k[TW_C_DROP_LISTEN_OVERFLOW], 0);
    ASSERT_U64_EQ(k[TW_C_SYNCOOKIE_REJECTED], 0);
    /* Memory: the flood's own share is BACKLOG half-open connections; from
     * 10^4 to 10^5 SYNs it does not grow at all (a byte per SYN would show
     * as 90 KB); the whole stays under 4 MB. */
    printf("# heap: base %zu, before flood %zu, at 10^4 SYNs %zu, peak %zu (+%zu)\n", base, before,
           at_10k, peak, peak - before);
    ASSERT_CMP(peak - at_10k, <, 16384);
    ASSERT_CMP(peak - before, <, 4u << 20);
    tw__stack_check(f->srv);
    tw_stack_free(f->srv);
    tw_stack_free(f->cli);
    free(f->to_srv);
    free(f->to_cli);
    free(f);
}

TEST_MAIN()
