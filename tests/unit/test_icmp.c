/* test_icmp.c - unit tests for wire/icmp.c: parse (lengths, checksum over
 * odd lengths), emit round trips (also in place), and the parsing of the
 * datagram an ICMP error quotes. */
#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

/* An echo request: type 8, id 0x1234, seq 7, `n` data bytes 0xa0, 0xa1, ... */
static size_t make_echo(uint8_t *b, size_t n) {
    memset(b, 0, 8);
    b[0] = TW_ICMP_ECHO_REQUEST;
    b[4] = 0x12;
    b[5] = 0x34;
    b[7] = 7;
    for (size_t i = 0; i < n; i++) b[8 + i] = (uint8_t)(0xa0 + i);
    uint16_t c = tw_cksum_fin(tw_cksum_add(0, b, 8 + n));
    b[2] = (uint8_t)(c >> 8);
    b[3] = (uint8_t)c;
    return 8 + n;
}

TEST(icmp_parse_echo_request) {
    uint8_t b[64];
    size_t n = make_echo(b, 5); /* odd total length: the checksum pads */
    tw_icmp_msg m;
    ASSERT_EQ(tw_icmp_parse(b, n, &m), 0);
    ASSERT_EQ(m.type, TW_ICMP_ECHO_REQUEST);
    ASSERT_EQ(m.code, 0);
    ASSERT_EQ(m.id, 0x1234);
    ASSERT_EQ(m.seq, 7);
    ASSERT_EQ(m.data_len, 5);
    ASSERT_TRUE(m.data == b + 8);
}

TEST(icmp_parse_rejects_short_and_bad_checksum) {
    uint8_t b[64];
    size_t n = make_echo(b, 4);
    tw_icmp_msg m;
    for (size_t k = 0; k < 8; k++) {
        tw_test_context("len=%zu", k);
        ASSERT_EQ(tw_icmp_parse(b, k, &m), TW_C_DROP_ICMP_BAD);
    }
    b[9] ^= 1;
    ASSERT_EQ(tw_icmp_parse(b, n, &m), TW_C_DROP_ICMP_BAD);
    b[9] ^= 1;
    ASSERT_EQ(tw_icmp_parse(b, n - 1, &m), TW_C_DROP_ICMP_BAD); /* truncated */
}

TEST(icmp_emit_round_trip) {
    const uint8_t data[3] = {1, 2, 3};
    tw_icmp_msg m = {TW_ICMP_ECHO_REPLY, 0, 0xbeef, 0x0102, data, sizeof data};
    uint8_t b[32];
    ASSERT_EQ(tw_icmp_emit_len(&m), 11);
    ASSERT_EQ(tw_icmp_emit(&m, b, sizeof b), 11);
    ASSERT_EQ(tw_cksum_fin(tw_cksum_add(0, b, 11)), 0);
    tw_icmp_msg r;
    ASSERT_EQ(tw_icmp_parse(b, 11, &r), 0);
    ASSERT_EQ(r.type, TW_ICMP_ECHO_REPLY);
    ASSERT_EQ(r.id, 0xbeef);
    ASSERT_EQ(r.seq, 0x0102);
    ASSERT_MEMEQ(r.data, data, 3);
    ASSERT_EQ(tw_icmp_emit(&m, b, 10), -TW_EINVAL);
}

TEST(icmp_emit_in_place_turns_request_into_reply) {
    uint8_t b[64];
    size_t n = make_echo(b, 9);
    tw_icmp_msg m;
    ASSERT_EQ(tw_icmp_parse(b, n, &m), 0);
    m.type = TW_ICMP_ECHO_REPLY;
    ASSERT_EQ(tw_icmp_emit(&m, b, sizeof b), (int)n);
    tw_icmp_msg r;
    ASSERT_EQ(tw_icmp_parse(b, n, &r), 0);
    ASSERT_EQ(r.type, TW_ICMP_ECHO_REPLY);
    for (size_t i = 0; i < 9; i++) ASSERT_EQ(r.data[i], 0xa0 + i);
}

/* An error message quoting a 20-byte IPv4 header (+ ihl_extra option bytes)
 * and `tcp` bytes of a TCP header 40000 -> 80, seq 0x01020304. */
static size_t make_error(uint8_t *b, size_t ihl_extra, size_t tcp) {
    memset(b, 0, 128);
    b[0] = TW_ICMP_DEST_UNREACH;
    b[1] = TW_ICMP_UNREACH_PORT;
    uint8_t *q = b + 8;
    q[0] = (uint8_t)(0x40 | (5 + ihl_extra / 4));
    q[9] = TW_IPPROTO_TCP;
    q[12] = 198;
    q[13] = 18;
    q[14] = 0;
    q[15] = 2;
    q[16] = 198;
    q[17] = 18;
    q[18] = 0;
    q[19] = 1;
    uint8_t *t = q + 20 + ihl_extra;
    t[0] = 0x9c;
    t[1] = 0x40; /* 40000 */
    t[2] = 0;
    t[3] = 80;
    t[4] = 1;
    t[5] = 2;
    t[6] = 3;
    t[7] = 4;
    size_t n = 8 + 20 + ihl_extra + tcp;
    uint16_t c = tw_cksum_fin(tw_cksum_add(0, b, n));
    b[2] = (uint8_t)(c >> 8);
    b[3] = (uint8_t)c;
    return n;
}

TEST(icmp_quote_parse) {
    uint8_t b[128];
    for (size_t extra = 0; extra <= 8; extra += 8) {
        tw_test_context("ip options=%zu", extra);
        size_t n = make_error(b, extra, 8);
        tw_icmp_msg m;
        tw_icmp_quote q;
        ASSERT_EQ(tw_icmp_parse(b, n, &m), 0);
        ASSERT_EQ(tw_icmp_quote_parse(&m, &q), 0);
        ASSERT_EQ(q.proto, TW_IPPROTO_TCP);
        ASSERT_U64_EQ(q.src, 0xC6120002u);
        ASSERT_U64_EQ(q.dst, 0xC6120001u);
        ASSERT_EQ(q.sport, 40000);
        ASSERT_EQ(q.dport, 80);
        ASSERT_U64_EQ(q.seq, 0x01020304u);
    }
}

TEST(icmp_quote_too_short_or_not_ipv4) {
    uint8_t b[128];
    tw_icmp_msg m;
    tw_icmp_quote q;
    size_t n = make_error(b, 0, 7); /* one byte of the 8 missing */
    ASSERT_EQ(tw_icmp_parse(b, n, &m), 0);
    ASSERT_EQ(tw_icmp_quote_parse(&m, &q), TW_C_DROP_ICMP_BAD);
    n = make_error(b, 8, 4); /* options push the TCP bytes out */
    ASSERT_EQ(tw_icmp_parse(b, n, &m), 0);
    ASSERT_EQ(tw_icmp_quote_parse(&m, &q), TW_C_DROP_ICMP_BAD);
    n = make_error(b, 0, 8);
    b[8] = 0x65; /* version 6 */
    m.data = b + 8;
    m.data_len = n - 8;
    ASSERT_EQ(tw_icmp_quote_parse(&m, &q), TW_C_DROP_ICMP_BAD);
    b[8] = 0x44; /* IHL 4 < 5 */
    ASSERT_EQ(tw_icmp_quote_parse(&m, &q), TW_C_DROP_ICMP_BAD);
}

TEST_MAIN()
