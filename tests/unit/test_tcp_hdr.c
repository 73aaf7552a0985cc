/* test_tcp_hdr.c - unit tests for wire/tcp_hdr.c: the TCP view and parser
 * (every drop reason with its exact code), emit, and tw_tcp_flags_str. */
#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

#define SRC 0xc0a80001u
#define DST 0x0a000002u

/* Stores the correct checksum of a `len`-byte segment for SRC -> DST. */
static void fix_tcp_cksum(uint8_t *p, size_t len) {
    p[16] = p[17] = 0;
    uint64_t acc = tw_cksum_pseudo(SRC, DST, TW_IPPROTO_TCP, (uint16_t)len);
    uint16_t c = tw_cksum_fin(tw_cksum_add(acc, p, len));
    p[16] = (uint8_t)(c >> 8);
    p[17] = (uint8_t)c;
}

/* Builds 12345 -> 80, seq 0x01020304, ack 0xa0b0c0d0, window 0xfaf0, urp 7,
 * with raw option bytes (a multiple of 4) and a payload; returns the length. */
static size_t make_seg(uint8_t *p, uint8_t flags, const uint8_t *opt, size_t olen,
                       const char *payload) {
    size_t plen = payload ? strlen(payload) : 0;
    memset(p, 0, 20);
    p[0] = 0x30;
    p[1] = 0x39;
    p[2] = 0x00;
    p[3] = 0x50;
    p[4] = 1;
    p[5] = 2;
    p[6] = 3;
    p[7] = 4;
    p[8] = 0xa0;
    p[9] = 0xb0;
    p[10] = 0xc0;
    p[11] = 0xd0;
    p[12] = (uint8_t)(((20 + olen) / 4) << 4);
    p[13] = flags;
    p[14] = 0xfa;
    p[15] = 0xf0;
    p[18] = 0;
    p[19] = 7;
    if (olen) memcpy(p + 20, opt, olen);
    if (plen) memcpy(p + 20 + olen, payload, plen);
    fix_tcp_cksum(p, 20 + olen + plen);
    return 20 + olen + plen;
}

/* view_init + parse in one step, for tests that only want the code. */
static int parse(const uint8_t *p, size_t len, tw_tcp_seg *seg) {
    tw_tcp_view v;
    int err = tw_tcp_view_init(&v, p, len);
    return err ? err : tw_tcp_parse(&v, SRC, DST, seg);
}

TEST(tcp_good_parse) {
    uint8_t p[128];
    static const uint8_t opt[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 7};
    size_t n = make_seg(p, TW_TH_ACK | TW_TH_PSH, opt, sizeof opt, "hello");
    tw_tcp_view v;
    tw_tcp_seg s;
    ASSERT_EQ(tw_tcp_view_init(&v, p, n), 0);
    ASSERT_EQ(v.hdr_len, 28);
    ASSERT_EQ(v.len, n);
    ASSERT_EQ(tw_tcp_parse(&v, SRC, DST, &s), 0);
    ASSERT_EQ(s.src_addr, SRC);
    ASSERT_EQ(s.dst_addr, DST);
    ASSERT_EQ(s.src_port, 12345);
    ASSERT_EQ(s.dst_port, 80);
    ASSERT_EQ(s.seq.v, 0x01020304u);
    ASSERT_EQ(s.ack.v, 0xa0b0c0d0u);
    ASSERT_EQ(s.flags, TW_TH_ACK | TW_TH_PSH);
    ASSERT_EQ(s.wnd, 0xfaf0);
    ASSERT_EQ(s.urp, 7);
    ASSERT_TRUE(s.opt.has_mss && s.opt.has_ws);
    ASSERT_EQ(s.opt.mss, 1460);
    ASSERT_EQ(s.opt.ws, 7);
    ASSERT_EQ(s.len, 5);
    ASSERT_TRUE(s.payload == p + 28); /* points into the buffer */
    ASSERT_MEMEQ(s.payload, "hello", 5);
}

TEST(tcp_short) {
    uint8_t p[64];
    size_t n = make_seg(p, TW_TH_ACK, NULL, 0, NULL);
    tw_tcp_view v;
    ASSERT_EQ(n, 20);
    ASSERT_EQ(tw_tcp_view_init(&v, p, 0), TW_C_DROP_TCP_SHORT);
    ASSERT_EQ(tw_tcp_view_init(&v, p, 19), TW_C_DROP_TCP_SHORT);
    ASSERT_EQ(tw_tcp_view_init(&v, p, 20), 0);
}

TEST(tcp_doff) {
    uint8_t p[64];
    tw_tcp_view v;
    tw_tcp_seg s;
    size_t n = make_seg(p, TW_TH_ACK, NULL, 0, "abcd");
    for (uint8_t d = 0; d < 5; d++) {
        p[12] = (uint8_t)(d << 4);
        tw_test_context("doff=%u", d);
        ASSERT_EQ(tw_tcp_view_init(&v, p, n), TW_C_DROP_TCP_DOFF);
    }
    p[12] = 6 << 4; /* 24 bytes of header in a 24-byte segment: fine */
    ASSERT_EQ(tw_tcp_view_init(&v, p, n), 0);
    ASSERT_EQ(tw_tcp_view_init(&v, p, 23), TW_C_DROP_TCP_DOFF);
    p[12] = 15 << 4; /* 60 bytes > 24 */
    ASSERT_EQ(tw_tcp_view_init(&v, p, n), TW_C_DROP_TCP_DOFF);
    /* Reserved low bits of byte 12 do not change the offset. */
    n = make_seg(p, TW_TH_ACK, NULL, 0, NULL);
    p[12] |= 0x0f;
    fix_tcp_cksum(p, n);
    ASSERT_EQ(tw_tcp_view_init(&v, p, n), 0);
    ASSERT_EQ(v.hdr_len, 20);
    ASSERT_EQ(parse(p, n, &s), 0);
}

TEST(tcp_bad_cksum) {
    uint8_t p[64];
    tw_tcp_view v;
    tw_tcp_seg s;
    size_t n = make_seg(p, TW_TH_ACK, NULL, 0, "payload");
    ASSERT_EQ(parse(p, n, &s), 0);
    p[n - 1] ^= 0x01; /* payload is covered */
    ASSERT_EQ(parse(p, n, &s), TW_C_DROP_TCP_CKSUM);
    p[n - 1] ^= 0x01;
    p[17] ^= 0x80;
    ASSERT_EQ(parse(p, n, &s), TW_C_DROP_TCP_CKSUM);
    p[17] ^= 0x80;
    /* The pseudo-header is covered: another address or length fails. */
    ASSERT_EQ(tw_tcp_view_init(&v, p, n), 0);
    ASSERT_EQ(tw_tcp_parse(&v, SRC + 1, DST, &s), TW_C_DROP_TCP_CKSUM);
    ASSERT_EQ(tw_tcp_parse(&v, SRC, DST ^ 0x01000000u, &s), TW_C_DROP_TCP_CKSUM);
    ASSERT_EQ(tw_tcp_parse(&v, DST, SRC, &s), 0); /* swapped: same sum */
    ASSERT_EQ(parse(p, n - 1, &s), TW_C_DROP_TCP_CKSUM);
}

TEST(tcp_option_errors_through_parse) {
    uint8_t p[128];
    tw_tcp_seg s;
    static const uint8_t len0[] = {30, 0, 1, 1};
    static const uint8_t len1[] = {1, 1, 30, 1};
    static const uint8_t past[] = {1, 1, 8, 10};
    static const uint8_t mss3[] = {2, 3, 1, 0};
    static const uint8_t ws4[] = {3, 4, 1, 1};
    static const uint8_t ts8[] = {8, 8, 0, 0, 0, 0, 0, 0};
    static const uint8_t sack9[] = {5, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_ACK, len0, 4, NULL), &s), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_ACK, len1, 4, NULL), &s), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_ACK, past, 4, "data data data"), &s),
              TW_C_DROP_TCP_OPT); /* must not run into the payload */
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_SYN, mss3, 4, NULL), &s), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_SYN, ws4, 4, NULL), &s), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_ACK, ts8, 8, NULL), &s), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_ACK, sack9, 12, NULL), &s), TW_C_DROP_TCP_OPT);
}

TEST(tcp_options_parsed_through_parse) {
    uint8_t p[128];
    tw_tcp_seg s;
    static const uint8_t opt[] = {30, 3, 0, 1, 3, 3, 15, 1, 1, 8, 10, 0, 0, 0, 9, 0, 0, 0, 8, 0};
    ASSERT_EQ(parse(p, make_seg(p, TW_TH_SYN, opt, sizeof opt, NULL), &s), 0);
    ASSERT_TRUE(s.opt.has_ws);
    ASSERT_EQ(s.opt.ws, 14);
    ASSERT_TRUE(s.opt.has_ts);
    ASSERT_EQ(s.opt.tsval, 9);
    ASSERT_EQ(s.opt.tsecr, 8);
    ASSERT_FALSE(s.opt.has_mss);
    ASSERT_EQ(s.len, 0);
}

TEST(tcp_flags) {
    uint8_t p[64];
    tw_tcp_seg s;
    const struct {
        uint8_t f;
        int want;
    } cases[] = {
        {TW_TH_SYN | TW_TH_FIN, TW_C_DROP_TCP_FLAGS},
        {TW_TH_SYN | TW_TH_RST, TW_C_DROP_TCP_FLAGS},
        {TW_TH_SYN | TW_TH_RST | TW_TH_ACK, TW_C_DROP_TCP_FLAGS},
        {TW_TH_SYN | TW_TH_FIN | TW_TH_ACK | TW_TH_PSH, TW_C_DROP_TCP_FLAGS},
        {0, TW_C_DROP_TCP_FLAGS},
        {TW_TH_PSH, TW_C_DROP_TCP_FLAGS},
        {TW_TH_URG | TW_TH_PSH | TW_TH_ECE | TW_TH_CWR, TW_C_DROP_TCP_FLAGS},
        {TW_TH_SYN, 0},
        {TW_TH_SYN | TW_TH_ACK, 0},
        {TW_TH_SYN | TW_TH_ECE | TW_TH_CWR, 0},
        {TW_TH_ACK, 0},
        {TW_TH_RST, 0},
        {TW_TH_RST | TW_TH_ACK, 0},
        {TW_TH_FIN, 0},
        {TW_TH_FIN | TW_TH_ACK, 0},
        {TW_TH_FIN | TW_TH_RST, 0}, /* odd but not in the rejected set */
        {0xff & ~(TW_TH_SYN), 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tw_test_context("flags=%#x", cases[i].f);
        ASSERT_EQ(parse(p, make_seg(p, cases[i].f, NULL, 0, NULL), &s), cases[i].want);
    }
}

TEST(tcp_port0) {
    uint8_t p[64];
    tw_tcp_seg s;
    size_t n = make_seg(p, TW_TH_SYN, NULL, 0, NULL);
    p[0] = p[1] = 0;
    fix_tcp_cksum(p, n);
    ASSERT_EQ(parse(p, n, &s), TW_C_DROP_TCP_PORT0);
    n = make_seg(p, TW_TH_SYN, NULL, 0, NULL);
    p[2] = p[3] = 0;
    fix_tcp_cksum(p, n);
    ASSERT_EQ(parse(p, n, &s), TW_C_DROP_TCP_PORT0);
    /* Port 0 is reported before bad flags. */
    n = make_seg(p, 0, NULL, 0, NULL);
    p[2] = p[3] = 0;
    fix_tcp_cksum(p, n);
    ASSERT_EQ(parse(p, n, &s), TW_C_DROP_TCP_PORT0);
}

TEST(tcp_emit_known_bytes) {
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_addr = SRC;
    s.dst_addr = DST;
    s.src_port = 12345;
    s.dst_port = 80;
    s.seq = tw_seq(0x01020304u);
    s.ack = tw_seq(0);
    s.flags = TW_TH_SYN;
    s.wnd = 0xffff;
    s.opt.has_mss = true;
    s.opt.mss = 1460;
    uint8_t b[64], want[64];
    static const uint8_t mss[] = {2, 4, 0x05, 0xb4};
    size_t n = make_seg(want, TW_TH_SYN, mss, 4, NULL);
    want[8] = want[9] = want[10] = want[11] = 0; /* ack 0 */
    want[14] = want[15] = 0xff;
    want[19] = 0;
    fix_tcp_cksum(want, n);
    ASSERT_EQ(tw_tcp_hdr_emit_len(&s), 24);
    ASSERT_EQ(tw_tcp_emit(&s, b, sizeof b), 24);
    ASSERT_MEMEQ(b, want, 24);
}

TEST(tcp_emit_cap_too_small) {
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_port = s.dst_port = 1;
    s.flags = TW_TH_ACK;
    s.opt.has_ts = true;
    s.payload = (const uint8_t *)"0123456789";
    s.len = 10;
    uint8_t b[64];
    ASSERT_EQ(tw_tcp_emit(&s, b, 0), -TW_EINVAL);
    ASSERT_EQ(tw_tcp_emit(&s, b, 19), -TW_EINVAL);
    ASSERT_EQ(tw_tcp_emit(&s, b, 41), -TW_EINVAL);
    ASSERT_EQ(tw_tcp_emit(&s, b, 42), 42);
    /* A segment that could not fit in an IPv4 packet is refused. */
    s.len = 65535 - 32 + 1;
    ASSERT_EQ(tw_tcp_emit(&s, b, SIZE_MAX), -TW_EINVAL);
}

TEST(tcp_emit_parse_round_trip) {
    tw_tcp_seg s, r;
    memset(&s, 0, sizeof s);
    s.src_addr = SRC;
    s.dst_addr = DST;
    s.src_port = 65535;
    s.dst_port = 1;
    s.seq = tw_seq(0xfffffffeu);
    s.ack = tw_seq(0x7fffffffu);
    s.flags = TW_TH_ACK | TW_TH_PSH | TW_TH_URG;
    s.wnd = 513;
    s.urp = 3;
    s.opt = (tw_tcp_opts){.has_mss = true,
                          .mss = 9000,
                          .has_ws = true,
                          .ws = 14,
                          .sack_ok = true,
                          .has_ts = true,
                          .tsval = 123,
                          .tsecr = 456,
                          .nsack = 2};
    s.opt.sack[0].left = 10;
    s.opt.sack[0].right = 20;
    s.opt.sack[1].left = 0xfffffff0u;
    s.opt.sack[1].right = 0x10;
    s.payload = (const uint8_t *)"odd-length payload!";
    s.len = 19;
    uint8_t b[128];
    int n = tw_tcp_emit(&s, b, sizeof b);
    ASSERT_EQ(n, 60 + 19);
    ASSERT_EQ(parse(b, (size_t)n, &r), 0);
    ASSERT_EQ(r.src_port, s.src_port);
    ASSERT_EQ(r.dst_port, s.dst_port);
    ASSERT_EQ(r.seq.v, s.seq.v);
    ASSERT_EQ(r.ack.v, s.ack.v);
    ASSERT_EQ(r.flags, s.flags);
    ASSERT_EQ(r.wnd, s.wnd);
    ASSERT_EQ(r.urp, s.urp);
    ASSERT_TRUE(r.opt.has_mss && r.opt.has_ws && r.opt.sack_ok && r.opt.has_ts);
    ASSERT_EQ(r.opt.mss, 9000);
    ASSERT_EQ(r.opt.ws, 14);
    ASSERT_EQ(r.opt.tsval, 123);
    ASSERT_EQ(r.opt.tsecr, 456);
    ASSERT_EQ(r.opt.nsack, 2);
    ASSERT_EQ(r.opt.sack[1].left, 0xfffffff0u);
    ASSERT_EQ(r.opt.sack[1].right, 0x10);
    ASSERT_EQ(r.len, 19);
    ASSERT_MEMEQ(r.payload, s.payload, 19);
}

TEST(tcp_emit_in_place_grows_header) {
    /* Parse a bare segment, add timestamps, emit into the same buffer: the
     * header grows by 12 bytes over the payload's old position. */
    uint8_t p[128];
    tw_tcp_seg s, r;
    size_t n = make_seg(p, TW_TH_ACK, NULL, 0, "0123456789abcdef");
    ASSERT_EQ(parse(p, n, &s), 0);
    s.opt.has_ts = true;
    s.opt.tsval = 77;
    int m = tw_tcp_emit(&s, p, sizeof p);
    ASSERT_EQ(m, (int)n + 12);
    ASSERT_EQ(parse(p, (size_t)m, &r), 0);
    ASSERT_EQ(r.len, 16);
    ASSERT_MEMEQ(r.payload, "0123456789abcdef", 16);
    ASSERT_EQ(r.opt.tsval, 77);
}

TEST(tcp_flags_str) {
    char b[64];
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_SYN | TW_TH_ACK, b, sizeof b), "SYN|ACK");
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_FIN | TW_TH_ACK, b, sizeof b), "FIN|ACK");
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_RST, b, sizeof b), "RST");
    ASSERT_STREQ(tw_tcp_flags_str(0, b, sizeof b), "none");
    ASSERT_STREQ(tw_tcp_flags_str(0xff, b, sizeof b), "FIN|SYN|RST|PSH|ACK|URG|ECE|CWR");
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_PSH | TW_TH_ACK, b, sizeof b), "PSH|ACK");
    /* Truncation keeps a terminated prefix; cap 0 writes nothing. */
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_SYN | TW_TH_ACK, b, 4), "SYN");
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_SYN | TW_TH_ACK, b, 6), "SYN|A");
    ASSERT_STREQ(tw_tcp_flags_str(TW_TH_SYN, b, 1), "");
    ASSERT_STREQ(tw_tcp_flags_str(0, b, 3), "no");
    b[0] = 'x';
    ASSERT_TRUE(tw_tcp_flags_str(TW_TH_SYN, b, 0) == b);
    ASSERT_EQ(b[0], 'x');
}

TEST_MAIN()
