/* test_stack.c - a stack on the wire: raw packets in through tw_stack_input(),
 * what it sends caught on a capture link. Segments for no connection (RFC
 * 9293 §3.10.7.1), malformed packets, foreign addresses and listeners
 * (§3.10.7.2). */
#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/time.h"

/* ---------------------------------------------------------------- ISN secret */

/* The ISN of a SYN to SX_PEER:80 from local port 40000 sent by a new stack
 * created with `seed`: the send-only link keeps the last packet's SEQ. */
typedef struct isn_link {
    tw_link link;
    uint32_t seq;
    int n;
} isn_link;

static int isn_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    isn_link *k = (isn_link *)l;
    tw_tcp_seg seg;
    if (tw_packet_parse(pkt, len, &seg) == 0 && (seg.flags & TW_TH_SYN)) {
        k->seq = seg.seq.v;
        k->n++;
    }
    return 0;
}
static const struct tw_link_ops isn_ops = TW_LINK_SEND_ONLY(isn_send);

static uint32_t first_isn(uint64_t seed) {
    isn_link k = {{&isn_ops}, 0, 0};
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.addr = SX_ADDR;
    cfg.seed = seed;
    tw_stack *st;
    ASSERT_EQ(tw_stack_new(&cfg, &k.link, &st), 0);
    int s = tw_socket(st);
    ASSERT_EQ(tw_bind(st, s, 40000), 0);
    ASSERT_EQ(tw_connect(st, s, SX_PEER, 80), 0);
    tw_stack_poll(st, SX_T0);
    ASSERT_EQ(k.n, 1);
    tw_stack_free(st);
    return k.seq;
}

TEST(isn_secret_random_by_default_fixed_by_a_seed) {
    /* RFC 9293 MUST-9 / RFC 6528: by default the secret comes from the
     * system (TW_SEED_RANDOM), so two stacks give the same 4-tuple different
     * ISNs (equal by chance with odds 2^-32, twice in a row 2^-64). A seed
     * makes the secret, and so the ISN, reproducible. */
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    ASSERT_U64_EQ(cfg.seed, TW_SEED_RANDOM);
    uint32_t a = first_isn(TW_SEED_RANDOM), b = first_isn(TW_SEED_RANDOM);
    uint32_t c = first_isn(TW_SEED_RANDOM);
    ASSERT_TRUE(a != b || b != c);
    ASSERT_EQ(first_isn(7), first_isn(7));
    ASSERT_NE(first_isn(7), first_isn(8));
}

/* ---------------------------------------------------------------- closed port */

TEST(closed_port_syn_gets_rst_ack) {
    /* §3.10.7.1, no ACK bit: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, and
     * SEG.LEN counts the SYN. */
    sx x;
    sx_init(&x, NULL);
    sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + 1, &s), TW_C_DROP_NO_SOCKET);
    ASSERT_EQ(sx_nsent(&x), 1);
    const sx_pkt *p = sx_sent(&x, 0);
    SX_EXPECT(p, TW_TH_RST | TW_TH_ACK, 0, 1001, 0);
    ASSERT_EQ(p->seg.src_addr, SX_ADDR);
    ASSERT_EQ(p->seg.dst_addr, SX_PEER);
    ASSERT_EQ(p->seg.src_port, 81);
    ASSERT_EQ(p->seg.dst_port, 40000);
    ASSERT_U64_EQ(p->t, SX_T0 + 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_NO_SOCKET], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_CLOSED_PORT], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TCP_OUT], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_IP_OUT], 1);
    sx_free(&x);
}

TEST(closed_port_fin_with_data_no_ack_counts_data_and_fin) {
    sx x;
    sx_init(&x, NULL);
    uint8_t data[10] = {0};
    sx_seg s = sx_mk(40000, 81, TW_TH_FIN, 0xfffffffau, 0);
    s.data = data;
    s.len = sizeof data;
    ASSERT_EQ(sx_input(&x, SX_T0 + 1, &s), TW_C_DROP_NO_SOCKET);
    ASSERT_EQ(sx_nsent(&x), 1);
    /* wraps: 0xfffffffa + 10 + 1 */
    SX_EXPECT(sx_sent(&x, 0), TW_TH_RST | TW_TH_ACK, 0, 5, 0);
    sx_free(&x);
}

TEST(closed_port_ack_gets_rst_at_seg_ack) {
    /* §3.10.7.1, ACK bit on: <SEQ=SEG.ACK><CTL=RST>, no ACK. */
    sx x;
    sx_init(&x, NULL);
    uint8_t data[100] = {0};
    sx_seg s = sx_mk(40001, 82, TW_TH_ACK | TW_TH_PSH, 5000, 777777);
    s.data = data;
    s.len = sizeof data;
    ASSERT_EQ(sx_input(&x, SX_T0 + 1, &s), TW_C_DROP_NO_SOCKET);
    ASSERT_EQ(sx_nsent(&x), 1);
    const sx_pkt *p = sx_sent(&x, 0);
    SX_EXPECT(p, TW_TH_RST, 777777, 0, 0);
    ASSERT_EQ(p->seg.ack.v, 0);
    ASSERT_EQ(p->seg.dst_port, 40001);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_CLOSED_PORT], 1);
    sx_free(&x);
}

TEST(closed_port_rst_is_not_answered) {
    sx x;
    sx_init(&x, NULL);
    sx_seg a = sx_mk(40000, 81, TW_TH_RST, 1, 0);
    sx_seg b = sx_mk(40000, 81, TW_TH_RST | TW_TH_ACK, 1, 2);
    ASSERT_EQ(sx_input(&x, SX_T0 + 1, &a), TW_C_DROP_NO_SOCKET);
    ASSERT_EQ(sx_input(&x, SX_T0 + 2, &b), TW_C_DROP_NO_SOCKET);
    ASSERT_EQ(sx_nsent(&x), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_NO_SOCKET], 2);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_CLOSED_PORT], 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TCP_OUT], 0);
    ASSERT_EQ(sx_count_ev(&x, TW_EV_DROP), 2);
    sx_free(&x);
}

/* ---------------------------------------------------------------- malformed */

static void expect_silent_drop(const uint8_t *pkt, size_t len, int reason) {
    sx x;
    sx_init(&x, NULL);
    ASSERT_EQ(sx_input_raw(&x, SX_T0 + 1, pkt, len), reason);
    sx_poll(&x, SX_T0 + 2);
    ASSERT_EQ(sx_nsent(&x), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[reason], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_IP_IN], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TCP_IN], 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_CLOSED_PORT], 0);
    ASSERT_EQ(sx_count_ev(&x, TW_EV_DROP), 1);
    ASSERT_EQ(x.ev[0].reason, reason);
    sx_free(&x);
}

TEST(bad_tcp_checksum_dropped_silently) {
    uint8_t buf[128];
    sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1, 0);
    size_t n = sx_build(&s, buf, sizeof buf);
    buf[20 + 16] ^= 0x01; /* TCP checksum */
    expect_silent_drop(buf, n, TW_C_DROP_TCP_CKSUM);
    n = sx_build(&s, buf, sizeof buf);
    buf[20 + 4] ^= 0x80; /* a flipped sequence bit: caught by the checksum */
    expect_silent_drop(buf, n, TW_C_DROP_TCP_CKSUM);
}

TEST(bad_ip_header_dropped_silently) {
    uint8_t buf[128];
    sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1, 0);
    size_t n = sx_build(&s, buf, sizeof buf);
    buf[10] ^= 0x10; /* IP header checksum */
    expect_silent_drop(buf, n, TW_C_DROP_IP_CKSUM);
    n = sx_build(&s, buf, sizeof buf);
    buf[0] = 0x65; /* version 6 */
    expect_silent_drop(buf, n, TW_C_DROP_IP_VERSION);
    n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, 19, TW_C_DROP_IP_SHORT);
    n = sx_build(&s, buf, sizeof buf);
    buf[0] = 0x44; /* IHL 16 bytes */
    expect_silent_drop(buf, n, TW_C_DROP_IP_IHL);
    n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, n - 1, TW_C_DROP_IP_TOTLEN); /* truncated */
}

TEST(tcp_header_errors_dropped_silently) {
    uint8_t buf[128];
    sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1, 0);
    s.sport = 0; /* emitted fine, rejected on input */
    size_t n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, n, TW_C_DROP_TCP_PORT0);
    s = sx_mk(40000, 81, TW_TH_SYN | TW_TH_FIN, 1, 0);
    n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, n, TW_C_DROP_TCP_FLAGS);
    s = sx_mk(40000, 81, TW_TH_PSH, 1, 0);
    n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, n, TW_C_DROP_TCP_FLAGS);
}

TEST(packet_for_another_address_dropped) {
    uint8_t buf[128];
    sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1, 0);
    s.dst = SX_ADDR + 7;
    size_t n = sx_build(&s, buf, sizeof buf);
    expect_silent_drop(buf, n, TW_C_DROP_IP_NOT_US);
}

TEST(syn_to_broadcast_or_multicast_dropped_silently) {
    /* RFC 9293 MUST-57: a SYN addressed to a broadcast or multicast address
     * is discarded without an answer (the port is closed, so the same SYN
     * to the stack's own address would get an RST). */
    static const uint32_t dst[] = {0xffffffffu, 0xe0000001u /* 224.0.0.1 */,
                                   (SX_ADDR & 0xffffff00u) | 0xffu /* the /24's broadcast */};
    for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++) {
        uint8_t buf[128];
        sx_seg s = sx_mk(40000, 80, TW_TH_SYN, 1, 0);
        s.dst = dst[i];
        size_t n = sx_build(&s, buf, sizeof buf);
        tw_test_context("dst=%08x", dst[i]);
        expect_silent_drop(buf, n, TW_C_DROP_IP_NOT_US);
    }
}

TEST(packet_from_broadcast_multicast_or_zero_source_dropped) {
    /* RFC 1122 §3.2.1.3 / §4.2.3.10: such a source cannot be a TCP peer, and
     * no RST may be sent to it. */
    static const uint32_t bad[] = {0u, 0xffffffffu, 0xe0000001u /* 224.0.0.1 */,
                                   0xefffffffu /* 239.255.255.255 */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t buf[128];
        sx_seg s = sx_mk(40000, 81, TW_TH_SYN, 1, 0);
        s.src = bad[i];
        size_t n = sx_build(&s, buf, sizeof buf);
        tw_test_context("src=%08x", bad[i]);
        expect_silent_drop(buf, n, TW_C_DROP_IP_BAD_SRC);
    }
}

/* ---------------------------------------------------------------- listeners */

TEST(listener_syn_gets_syn_ack_and_handshake_completes) {
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 5000, 0);
    syn.mss = 1000;
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.ack.v, 5001);
    ASSERT_EQ(sa->seg.src_port, 80);
    ASSERT_EQ(sa->seg.dst_port, 40000);
    ASSERT_TRUE(sa->seg.opt.has_mss);
    ASSERT_EQ(sa->seg.opt.mss, 1460);
    ASSERT_EQ(sa->seg.wnd, 65535);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_EQ(tw_accept(x.st, l, NULL, NULL), -TW_EAGAIN); /* not yet established */
    uint32_t iss = sa->seg.seq.v;
    sx_seg ack = sx_mk(40000, 80, TW_TH_ACK, 5001, iss + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &ack), 0);
    tw_event ev;
    ASSERT_EQ(tw_next_event(x.st, &ev), 1);
    ASSERT_EQ(ev.sock, l);
    ASSERT_EQ(ev.what, TW_EVT_ACCEPTABLE);
    uint32_t ra;
    uint16_t rp;
    int c = tw_accept(x.st, l, &ra, &rp);
    ASSERT_CMP(c, >=, 0);
    ASSERT_EQ(ra, SX_PEER);
    ASSERT_EQ(rp, 40000);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_EQ(info.state, TW_ESTABLISHED);
    ASSERT_EQ(info.snd_mss, 1000);
    ASSERT_EQ(info.iss, iss);
    ASSERT_EQ(info.irs, 5000);
    ASSERT_EQ(sx_nsent(&x), 1); /* nothing else on the wire */
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CONN_PASSIVE_OPEN], 1);
    sx_free(&x);
}

TEST(listener_retransmitted_syn_gets_same_syn_ack) {
    sx x;
    sx_init(&x, NULL);
    sx_listen(&x, 80, 4);
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 5000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &syn), 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(500), &syn), 0);
    ASSERT_EQ(sx_nsent(&x), 2);
    SX_EXPECT(sx_sent(&x, 1), TW_TH_SYN | TW_TH_ACK, sx_sent(&x, 0)->seg.seq.v, 5001, 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    sx_free(&x);
}

TEST(ack_to_listener_gets_rst) {
    /* §3.10.7.2: an ACK in LISTEN is answered <SEQ=SEG.ACK><CTL=RST>. */
    sx x;
    sx_init(&x, NULL);
    sx_listen(&x, 80, 4);
    sx_seg a = sx_mk(40000, 80, TW_TH_ACK, 5000, 123456);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(1), &a), 0);
    ASSERT_EQ(sx_nsent(&x), 1);
    SX_EXPECT(sx_sent(&x, 0), TW_TH_RST, 123456, 0, 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_BAD_ACK], 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    /* An RST to a listener is ignored; a FIN without ACK is dropped. */
    sx_seg r = sx_mk(40000, 80, TW_TH_RST, 5000, 0);
    sx_seg f = sx_mk(40000, 80, TW_TH_FIN, 5000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &r), 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(3), &f), 0);
    ASSERT_EQ(sx_nsent(&x), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_LISTEN_NOT_SYN], 2);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    sx_free(&x);
}

TEST(listener_backlog_full_drops_syn) {
    /* With SYN cookies off (on, the third SYN gets a cookie SYN-ACK:
     * tests/stack/test_syncookie.c). */
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.syn_cookies = false;
    sx x;
    sx_init(&x, &cfg);
    int l = sx_listen(&x, 80, 2);
    for (uint16_t p = 0; p < 3; p++) {
        sx_seg syn = sx_mk((uint16_t)(40000 + p), 80, TW_TH_SYN, 5000u * p, 0);
        sx_input(&x, SX_T0 + TW_MS(1 + p), &syn);
    }
    ASSERT_EQ(sx_nsent(&x), 2);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_LISTEN_OVERFLOW], 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    /* Completing and accepting one frees a backlog place. */
    sx_seg ack = sx_mk(40000, 80, TW_TH_ACK, 1, sx_sent(&x, 0)->seg.seq.v + 1);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(10), &ack), 0);
    ASSERT_CMP(tw_accept(x.st, l, NULL, NULL), >=, 0);
    sx_seg syn = sx_mk(40009, 80, TW_TH_SYN, 9, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(11), &syn), 0);
    ASSERT_EQ(sx_nsent(&x), 3);
    ASSERT_EQ(sx_sent(&x, 2)->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_LISTEN_OVERFLOW], 1);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(closing_listener_resets_unaccepted_children) {
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 5000, 0);
    sx_input(&x, SX_T0 + TW_MS(1), &syn);
    uint32_t iss = sx_take(&x, &cur)->seg.seq.v;
    sx_seg ack = sx_mk(40000, 80, TW_TH_ACK, 5001, iss + 1);
    sx_input(&x, SX_T0 + TW_MS(2), &ack);
    ASSERT_EQ(tw_close(x.st, l), 0);
    sx_poll(&x, SX_T0 + TW_MS(3));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, iss + 1, 0, 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    /* The port is closed now. */
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(4), &syn), TW_C_DROP_NO_SOCKET);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST | TW_TH_ACK, 0, 5001, 0);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(rst_in_syn_received_frees_child_listener_stays) {
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 1);
    size_t cur = 0;
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 5000, 0);
    sx_input(&x, SX_T0 + TW_MS(1), &syn);
    sx_take(&x, &cur);
    sx_seg rst = sx_mk(40000, 80, TW_TH_RST, 5001, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(2), &rst), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    tw_event ev;
    ASSERT_EQ(tw_next_event(x.st, &ev), 0);
    /* The backlog place is free again. */
    sx_seg syn2 = sx_mk(40001, 80, TW_TH_SYN, 7000, 0);
    ASSERT_EQ(sx_input(&x, SX_T0 + TW_MS(3), &syn2), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_SYN | TW_TH_ACK, sx_sent(&x, 1)->seg.seq.v, 7001, 0);
    ASSERT_EQ(tw_accept(x.st, l, NULL, NULL), -TW_EAGAIN);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(clock_never_moves_back) {
    /* Time is a monotonic clock: a packet handed in with an older timestamp
     * than the latest poll must not move the stack's clock (or its traces,
     * or deadlines computed from it) backwards. */
    sx x;
    sx_init(&x, NULL);
    sx_listen(&x, 80, 4);
    tw_stack_poll(x.st, SX_T0 + TW_SEC(10));
    uint8_t buf[128];
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 1, 0);
    size_t n = sx_build(&syn, buf, sizeof buf);
    ASSERT_EQ(tw_stack_input(x.st, SX_T0 + TW_SEC(5), buf, n), 0);
    ASSERT_U64_EQ(tw_stack_now(x.st), SX_T0 + TW_SEC(10));
    ASSERT_U64_EQ(sx_sent(&x, 0)->t, SX_T0 + TW_SEC(10));
    /* The SYN-ACK retransmission is one RTO after it was sent. */
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), SX_T0 + TW_SEC(11));
    for (size_t i = 0; i < x.nev; i++) ASSERT_CMP(x.ev[i].t, <=, SX_T0 + TW_SEC(10));
    for (size_t i = 1; i < x.nev; i++) ASSERT_CMP(x.ev[i].t, >=, x.ev[i - 1].t);
    sx_free(&x);
}

TEST(trace_shows_the_ecn_field_both_ways) {
    /* An ECN-setup SYN (RFC 3168 §6.1.1) is accepted by default; then the
     * trace marks the ECN field of each segment: ECT on our new data, CE
     * on a marked arrival, nothing on Not-ECT ones. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN | TW_TH_ECE | TW_TH_CWR, 100, 0);
    syn.mss = 1460;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &syn), 0);
    ASSERT_EQ(sx_sent(&x, 0)->seg.flags, TW_TH_SYN | TW_TH_ACK | TW_TH_ECE);
    uint32_t iss = sx_sent(&x, 0)->seg.seq.v;
    sx_seg ack = sx_mk(40000, 80, TW_TH_ACK, 101, iss + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &ack), 0);
    sx_poll(&x, x.now);
    int c = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(c, >=, 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_TRUE(info.ecn);
    sx_seg d = sx_mk(40000, 80, TW_TH_ACK | TW_TH_PSH, 101, iss + 1);
    d.data = "ce";
    d.len = 2;
    d.tos = 0x03;
    size_t ev0 = x.nev;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &d), 0);
    ASSERT_EQ(tw_send(x.st, c, "ok", 2), 2);
    sx_poll(&x, x.now + TW_MS(1));
    int in_ce = 0, out_ect = 0, other = 0;
    for (size_t i = ev0; i < x.nev; i++) {
        const tw_trace_ev *e = &x.ev[i];
        if (e->kind == TW_EV_SEG_IN && e->len == 2)
            in_ce += e->meta == TW_SEGMETA_CE;
        else if (e->kind == TW_EV_SEG_OUT && e->len == 2)
            out_ect += e->meta == TW_SEGMETA_ECT && (e->flags & TW_TH_ECE);
        else if (e->kind == TW_EV_SEG_IN || e->kind == TW_EV_SEG_OUT)
            other += e->meta != 0;
    }
    ASSERT_EQ(in_ce, 1);
    ASSERT_EQ(out_ect, 1); /* our data: ECT(0), with ECE echoing the CE */
    ASSERT_EQ(other, 0);
    sx_free(&x);
}

TEST_MAIN()
