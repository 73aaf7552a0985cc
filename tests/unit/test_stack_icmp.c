/* test_stack_icmp.c - stack/icmp.c through tw_stack_input(): echo replies
 * (RFC 792 / RFC 1122 §3.2.2.6) and ICMP errors for a connection in SYN_SENT
 * (RFC 9293 §3.9.2.2: soft errors keep it, MUST-56; hard ones abort it,
 * SHLD-26; source quench is discarded, MUST-55; a quoted sequence number
 * outside SND.UNA..SND.NXT is ignored, RFC 5927), with the counters. */
#include "test.h"

#include <tcpwave/tcpwave.h>

#include "wire/cksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

#define US 0xC6120002u   /* 198.18.0.2 */
#define PEER 0xC6120001u /* 198.18.0.1 */

typedef struct cap {
    tw_link link;
    int n;
    uint8_t pkt[8][2048];
    size_t len[8];
} cap;

static int c_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    cap *c = (cap *)l;
    if (c->n < 8 && len <= sizeof c->pkt[0]) {
        memcpy(c->pkt[c->n], pkt, len);
        c->len[c->n++] = len;
    }
    return 0;
}
static const struct tw_link_ops cap_ops = TW_LINK_SEND_ONLY(c_send);

static tw_stack *new_stack(cap *c) {
    memset(c, 0, sizeof *c);
    c->link.ops = &cap_ops;
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.addr = US;
    tw_stack *st;
    ASSERT_EQ(tw_stack_new(&cfg, &c->link, &st), 0);
    return st;
}

/* Wraps an ICMP message in an IPv4 packet src -> dst. */
static size_t ip_wrap(uint8_t *pkt, uint32_t src, uint32_t dst, const tw_icmp_msg *m) {
    int n = tw_icmp_emit(m, pkt + TW_IPV4_HDR_LEN, 2048 - TW_IPV4_HDR_LEN);
    ASSERT_TRUE(n > 0);
    tw_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.src = src;
    h.dst = dst;
    h.proto = TW_IPPROTO_ICMP;
    h.ttl = 64;
    h.total_len = (uint16_t)(TW_IPV4_HDR_LEN + n);
    tw_ipv4_emit(&h, pkt, TW_IPV4_HDR_LEN);
    return (size_t)h.total_len;
}

static const uint64_t *ctr(tw_stack *st) {
    return tw_stack_counters(st);
}

TEST(echo_request_is_answered_with_the_same_data) {
    cap c;
    tw_stack *st = new_stack(&c);
    const uint8_t data[7] = "abcdefg";
    tw_icmp_msg req = {TW_ICMP_ECHO_REQUEST, 0, 0x4242, 9, data, sizeof data};
    uint8_t pkt[2048];
    size_t n = ip_wrap(pkt, PEER, US, &req);
    ASSERT_EQ(tw_stack_input(st, 1000, pkt, n), 0);
    ASSERT_EQ(c.n, 1);
    tw_ipv4_view v;
    tw_ipv4_hdr h;
    ASSERT_EQ(tw_ipv4_view_init(&v, c.pkt[0], c.len[0]), 0); /* IP checksum checked too */
    ASSERT_EQ(tw_ipv4_parse(&v, &h), 0);
    ASSERT_U64_EQ(h.src, US);
    ASSERT_U64_EQ(h.dst, PEER);
    ASSERT_EQ(h.proto, TW_IPPROTO_ICMP);
    tw_icmp_msg rep;
    ASSERT_EQ(tw_icmp_parse(h.payload, h.payload_len, &rep), 0);
    ASSERT_EQ(rep.type, TW_ICMP_ECHO_REPLY);
    ASSERT_EQ(rep.id, 0x4242);
    ASSERT_EQ(rep.seq, 9);
    ASSERT_EQ(rep.data_len, sizeof data);
    ASSERT_MEMEQ(rep.data, data, sizeof data);
    ASSERT_U64_EQ(ctr(st)[TW_C_ICMP_ECHO_REPLIED], 1);
    ASSERT_U64_EQ(ctr(st)[TW_C_ICMP_IN], 1);
    tw_stack_free(st);
}

TEST(echo_not_answered_to_bad_source_or_not_us_or_bad_checksum) {
    cap c;
    tw_stack *st = new_stack(&c);
    tw_icmp_msg req = {TW_ICMP_ECHO_REQUEST, 0, 1, 1, NULL, 0};
    uint8_t pkt[2048];
    size_t n = ip_wrap(pkt, 0xE0000001u, US, &req); /* multicast source */
    ASSERT_EQ(tw_stack_input(st, 1, pkt, n), TW_C_DROP_IP_BAD_SRC);
    n = ip_wrap(pkt, PEER, US + 1, &req);
    ASSERT_EQ(tw_stack_input(st, 2, pkt, n), TW_C_DROP_IP_NOT_US);
    n = ip_wrap(pkt, PEER, US, &req);
    pkt[n - 1] ^= 0x55; /* ICMP checksum now wrong */
    ASSERT_EQ(tw_stack_input(st, 3, pkt, n), TW_C_DROP_ICMP_BAD);
    ASSERT_EQ(c.n, 0);
    ASSERT_U64_EQ(ctr(st)[TW_C_DROP_ICMP_BAD], 1);
    ASSERT_U64_EQ(ctr(st)[TW_C_DROP_IP_BAD_SRC], 1);
    tw_stack_free(st);
}

TEST(other_protocols_still_dropped_as_not_tcp) {
    cap c;
    tw_stack *st = new_stack(&c);
    uint8_t pkt[28];
    tw_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.src = PEER;
    h.dst = US;
    h.proto = 17; /* UDP */
    h.ttl = 64;
    h.total_len = sizeof pkt;
    tw_ipv4_emit(&h, pkt, sizeof pkt);
    memset(pkt + 20, 0, 8);
    ASSERT_EQ(tw_stack_input(st, 1, pkt, sizeof pkt), TW_C_DROP_IP_PROTO);
    ASSERT_EQ(c.n, 0);
    tw_stack_free(st);
}

/* Connects to PEER:80; returns the socket and leaves the SYN in c.pkt[0]. */
static int syn_sent(tw_stack *st, cap *c) {
    int s = tw_socket(st);
    ASSERT_TRUE(s >= 0);
    ASSERT_EQ(tw_connect(st, s, PEER, 80), 0);
    tw_stack_poll(st, 10);
    ASSERT_EQ(c->n, 1);
    return s;
}

/* An ICMP error of type/code quoting c->pkt[0] with its sequence number + delta. */
static size_t error_for_syn(uint8_t *pkt, const cap *c, uint8_t type, uint8_t code,
                            uint32_t delta) {
    uint8_t quote[28];
    memcpy(quote, c->pkt[0], 28);
    uint32_t seq = (uint32_t)quote[24] << 24 | (uint32_t)quote[25] << 16 |
                   (uint32_t)quote[26] << 8 | quote[27];
    seq += delta;
    quote[24] = (uint8_t)(seq >> 24);
    quote[25] = (uint8_t)(seq >> 16);
    quote[26] = (uint8_t)(seq >> 8);
    quote[27] = (uint8_t)seq;
    tw_icmp_msg m = {type, code, 0, 0, quote, sizeof quote};
    return ip_wrap(pkt, PEER, US, &m);
}

static tw_state state_of(tw_stack *st, int s) {
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(st, s, &info), 0);
    return info.state;
}

TEST(hard_error_aborts_syn_sent_with_econnrefused) {
    cap c;
    tw_stack *st = new_stack(&c);
    int s = syn_sent(st, &c);
    uint8_t pkt[2048];
    size_t n = error_for_syn(pkt, &c, TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_PORT, 0);
    ASSERT_EQ(tw_stack_input(st, 20, pkt, n), 0);
    ASSERT_U64_EQ(ctr(st)[TW_C_ICMP_ERR_HARD], 1);
    tw_event ev;
    bool closed = false;
    while (tw_next_event(st, &ev))
        if (ev.sock == s && (ev.what & TW_EVT_CLOSED)) {
            closed = true;
            ASSERT_EQ(ev.err, TW_ECONNREFUSED);
        }
    ASSERT_TRUE(closed);
    ASSERT_EQ(tw_recv(st, s, pkt, 1), -TW_ECONNREFUSED);
    ASSERT_EQ(c.n, 1); /* no RST for an ICMP error */
    tw_close(st, s);
    tw_stack_free(st);
}

TEST(soft_errors_and_quench_keep_the_connection) {
    cap c;
    tw_stack *st = new_stack(&c);
    int s = syn_sent(st, &c);
    uint8_t pkt[2048];
    const uint8_t soft[][2] = {{TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_NET},
                               {TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_HOST},
                               {TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_NEEDFRAG},
                               {TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_SRCFAIL},
                               {TW_ICMP_TIME_EXCEEDED, 0},
                               {TW_ICMP_PARAM_PROBLEM, 0}};
    /* Each is reported (SHLD-25, MUST-47) with the code BSD and Linux use. */
    const int want[] = {TW_ENETUNREACH,  TW_EHOSTUNREACH, TW_EMSGSIZE,
                        TW_EHOSTUNREACH, TW_EHOSTUNREACH, TW_EPROTO};
    tw_event ev;
    while (tw_next_event(st, &ev)) {
    }
    for (size_t k = 0; k < sizeof soft / sizeof soft[0]; k++) {
        tw_test_context("type %u code %u", soft[k][0], soft[k][1]);
        size_t n = error_for_syn(pkt, &c, soft[k][0], soft[k][1], 0);
        ASSERT_EQ(tw_stack_input(st, 20 + k, pkt, n), 0);
        ASSERT_EQ(state_of(st, s), TW_SYN_SENT);
        ASSERT_EQ(tw_next_event(st, &ev), 1);
        ASSERT_EQ(ev.sock, s);
        ASSERT_EQ(ev.what, (uint32_t)TW_EVT_SOFT_ERROR);
        ASSERT_EQ(ev.err, want[k]);
        ASSERT_EQ(tw_next_event(st, &ev), 0);
        tw_sock_info info;
        ASSERT_EQ(tw_sock_info_get(st, s, &info), 0);
        ASSERT_EQ(info.soft_err, want[k]);
    }
    ASSERT_U64_EQ(ctr(st)[TW_C_ICMP_ERR_SOFT], 6);
    size_t n = error_for_syn(pkt, &c, TW_ICMP_SOURCE_QUENCH, 0, 0);
    ASSERT_EQ(tw_stack_input(st, 40, pkt, n), TW_C_DROP_ICMP_IGNORED);
    ASSERT_EQ(state_of(st, s), TW_SYN_SENT);
    tw_close(st, s);
    tw_stack_free(st);
}

TEST(soft_error_reports_can_be_turned_off) {
    /* SHLD-20: with TW_SO_SOFT_ERRORS 0 the error is kept, not signalled. */
    cap c;
    tw_stack *st = new_stack(&c);
    int s = syn_sent(st, &c);
    int off = 0, v = -1;
    size_t vl = sizeof v;
    ASSERT_EQ(tw_getsockopt(st, s, TW_SO_SOFT_ERRORS, &v, &vl), 0);
    ASSERT_EQ(v, 1);
    ASSERT_EQ(tw_setsockopt(st, s, TW_SO_SOFT_ERRORS, &off, sizeof off), 0);
    vl = sizeof v;
    ASSERT_EQ(tw_getsockopt(st, s, TW_SO_SOFT_ERRORS, &v, &vl), 0);
    ASSERT_EQ(v, 0);
    tw_event ev;
    while (tw_next_event(st, &ev)) {
    }
    uint8_t pkt[2048];
    size_t n = error_for_syn(pkt, &c, TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_HOST, 0);
    ASSERT_EQ(tw_stack_input(st, 20, pkt, n), 0);
    ASSERT_EQ(tw_next_event(st, &ev), 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(st, s, &info), 0);
    ASSERT_EQ(info.soft_err, TW_EHOSTUNREACH);
    ASSERT_EQ(info.state, TW_SYN_SENT);
    tw_close(st, s);
    tw_stack_free(st);
}

TEST(r1_retransmissions_reported_as_a_soft_error) {
    /* RFC 9293 §3.8.3: after R1 (3) retransmissions the application is told
     * (SHLD-9, SHLD-10; SYNs alike, MUST-22); the connection goes on to R2. */
    cap c;
    tw_stack *st = new_stack(&c);
    int s = syn_sent(st, &c);
    tw_event ev;
    while (tw_next_event(st, &ev)) {
    }
    uint64_t t = 10;
    for (int k = 1; k <= 4; k++) {
        t = tw_stack_next_deadline(st);
        tw_stack_poll(st, t);
        ASSERT_EQ(c.n, 1 + k); /* the k-th retransmitted SYN */
        int got = tw_next_event(st, &ev);
        tw_test_context("retransmission %d", k);
        if (k == 3) {
            ASSERT_EQ(got, 1);
            ASSERT_EQ(ev.what, (uint32_t)TW_EVT_SOFT_ERROR);
            ASSERT_EQ(ev.err, TW_ETIMEDOUT);
        } else {
            ASSERT_EQ(got, 0);
        }
        ASSERT_EQ(state_of(st, s), TW_SYN_SENT);
    }
    tw_close(st, s);
    tw_stack_free(st);
}

TEST(error_quoting_a_sequence_outside_the_window_is_ignored) {
    cap c;
    tw_stack *st = new_stack(&c);
    int s = syn_sent(st, &c);
    uint8_t pkt[2048];
    const uint32_t deltas[] = {1, 100000, (uint32_t)-1};
    for (size_t k = 0; k < 3; k++) {
        tw_test_context("seq delta %u", deltas[k]);
        size_t n = error_for_syn(pkt, &c, TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_PORT, deltas[k]);
        ASSERT_EQ(tw_stack_input(st, 20, pkt, n), TW_C_DROP_ICMP_NO_CONN);
        ASSERT_EQ(state_of(st, s), TW_SYN_SENT);
    }
    /* the wrong port: no such connection */
    size_t n = error_for_syn(pkt, &c, TW_ICMP_DEST_UNREACH, TW_ICMP_UNREACH_PORT, 0);
    pkt[20 + 8 + 20 + 3] ^= 1; /* quoted destination port */
    pkt[22] = pkt[23] = 0;     /* recompute the ICMP checksum */
    uint16_t x = tw_cksum_fin(tw_cksum_add(0, pkt + 20, n - 20));
    pkt[22] = (uint8_t)(x >> 8);
    pkt[23] = (uint8_t)x;
    ASSERT_EQ(tw_stack_input(st, 21, pkt, n), TW_C_DROP_ICMP_NO_CONN);
    ASSERT_U64_EQ(ctr(st)[TW_C_DROP_ICMP_NO_CONN], 4);
    ASSERT_EQ(state_of(st, s), TW_SYN_SENT);
    tw_close(st, s);
    tw_stack_free(st);
}

TEST_MAIN()
