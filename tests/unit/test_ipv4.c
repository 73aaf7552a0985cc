/* test_ipv4.c - unit tests for wire/ipv4.c: every drop reason of the view
 * and parser with its exact code, options and link padding, and emit. */
#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"
#include "wire/ipv4.h"

/* Recomputes the header checksum over ihl*4 bytes (field at offset 10), so a
 * test can break one field and still pass the checksum. */
static void fix_ip_cksum(uint8_t *p) {
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    p[10] = p[11] = 0;
    uint16_t c = tw_cksum_fin(tw_cksum_add(0, p, hl));
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
}

/* A 20-byte header 192.168.0.1 -> 10.0.0.2, TCP, total length `total`,
 * followed by payload bytes 0,1,2,... up to `total` in a 128-byte buffer. */
static void make_ip(uint8_t *p, uint16_t total) {
    memset(p, 0, 128);
    p[0] = 0x45;
    p[1] = 0x10;
    p[2] = (uint8_t)(total >> 8);
    p[3] = (uint8_t)total;
    p[4] = 0xbe;
    p[5] = 0xef;
    p[6] = 0x40; /* DF */
    p[8] = 63;
    p[9] = TW_IPPROTO_TCP;
    p[12] = 192;
    p[13] = 168;
    p[14] = 0;
    p[15] = 1;
    p[16] = 10;
    p[17] = 0;
    p[18] = 0;
    p[19] = 2;
    for (size_t i = 20; i < 128; i++) p[i] = (uint8_t)(i - 20);
    fix_ip_cksum(p);
}

TEST(ipv4_good_parse) {
    uint8_t p[128];
    make_ip(p, 40);
    tw_ipv4_view v;
    tw_ipv4_hdr h;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    ASSERT_EQ(v.len, 40);
    ASSERT_EQ(v.hdr_len, 20);
    ASSERT_TRUE(v.buf == p);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), 0);
    ASSERT_EQ(h.src, 0xc0a80001u);
    ASSERT_EQ(h.dst, 0x0a000002u);
    ASSERT_EQ(h.proto, TW_IPPROTO_TCP);
    ASSERT_EQ(h.ttl, 63);
    ASSERT_EQ(h.tos, 0x10);
    ASSERT_EQ(h.id, 0xbeef);
    ASSERT_EQ(h.frag, 0x4000);
    ASSERT_EQ(h.hdr_len, 20);
    ASSERT_EQ(h.total_len, 40);
    ASSERT_TRUE(h.payload == p + 20);
    ASSERT_EQ(h.payload_len, 20);
}

TEST(ipv4_short) {
    uint8_t p[128];
    make_ip(p, 20);
    tw_ipv4_view v;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 0), TW_C_DROP_IP_SHORT);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 19), TW_C_DROP_IP_SHORT);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 20), 0); /* header only, no payload */
}

TEST(ipv4_version) {
    uint8_t p[128];
    tw_ipv4_view v;
    make_ip(p, 40);
    p[0] = 0x65; /* IPv6 version nibble, IHL 5 */
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_VERSION);
    p[0] = 0x05;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_VERSION);
}

TEST(ipv4_ihl) {
    uint8_t p[128];
    tw_ipv4_view v;
    make_ip(p, 40);
    p[0] = 0x44; /* IHL 4 = 16 bytes < 20 */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_IHL);
    p[0] = 0x40;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_IHL);
    make_ip(p, 40);
    p[0] = 0x4f; /* IHL 15 = 60 bytes > 40 captured */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_IHL);
    p[0] = 0x46; /* 24 bytes, but only 23 captured */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 23), TW_C_DROP_IP_IHL);
}

TEST(ipv4_options_skipped) {
    uint8_t p[128];
    tw_ipv4_view v;
    tw_ipv4_hdr h;
    make_ip(p, 44);
    p[0] = 0x46; /* 4 bytes of options: NOP NOP NOP EOL */
    p[20] = 1;
    p[21] = 1;
    p[22] = 1;
    p[23] = 0;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 44), 0);
    ASSERT_EQ(v.hdr_len, 24);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), 0);
    ASSERT_EQ(h.hdr_len, 24);
    ASSERT_TRUE(h.payload == p + 24);
    ASSERT_EQ(h.payload_len, 20);
}

TEST(ipv4_totlen) {
    uint8_t p[128];
    tw_ipv4_view v;
    make_ip(p, 19); /* shorter than the header */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_TOTLEN);
    make_ip(p, 0);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_TOTLEN);
    make_ip(p, 41); /* claims more than was captured */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_TOTLEN);
    make_ip(p, 0xffff);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 128), TW_C_DROP_IP_TOTLEN);
    /* IHL 6 with total 22: total < header length. */
    make_ip(p, 22);
    p[0] = 0x46;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_TOTLEN);
}

TEST(ipv4_link_padding_ignored) {
    uint8_t p[128];
    tw_ipv4_view v;
    tw_ipv4_hdr h;
    make_ip(p, 40);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 60), 0); /* 20 bytes of Ethernet padding */
    ASSERT_EQ(v.len, 40);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), 0);
    ASSERT_EQ(h.payload_len, 20);
}

TEST(ipv4_cksum) {
    uint8_t p[128];
    tw_ipv4_view v;
    make_ip(p, 40);
    p[11] ^= 1;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_CKSUM);
    make_ip(p, 40);
    p[8] = 64; /* TTL changed without updating the checksum */
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), TW_C_DROP_IP_CKSUM);
    /* Payload bytes are not covered by the header checksum. */
    make_ip(p, 40);
    p[30] ^= 0xff;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    /* Option bytes are covered. */
    make_ip(p, 44);
    p[0] = 0x46;
    p[20] = 1;
    p[21] = 1;
    p[22] = 1;
    p[23] = 0;
    fix_ip_cksum(p);
    p[22] = 0;
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 44), TW_C_DROP_IP_CKSUM);
}

TEST(ipv4_fragment) {
    uint8_t p[128];
    tw_ipv4_view v;
    tw_ipv4_hdr h;
    make_ip(p, 40);
    p[6] = 0x20; /* MF, offset 0: first fragment */
    p[7] = 0;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), TW_C_DROP_IP_FRAG);
    p[6] = 0x00; /* last fragment: offset 1 (8 bytes) */
    p[7] = 0x01;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), TW_C_DROP_IP_FRAG);
    p[6] = 0x5f; /* DF + highest offset bits */
    p[7] = 0xff;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), TW_C_DROP_IP_FRAG);
    p[6] = 0x00; /* neither DF nor MF, offset 0: not a fragment */
    p[7] = 0x00;
    fix_ip_cksum(p);
    ASSERT_EQ(tw_ipv4_view_init(&v, p, 40), 0);
    ASSERT_EQ(tw_ipv4_parse(&v, &h), 0);
}

TEST(ipv4_emit_too_small) {
    tw_ipv4_hdr h = {.src = 1, .dst = 2, .proto = 6, .ttl = 64, .total_len = 20};
    uint8_t b[20];
    ASSERT_EQ(tw_ipv4_emit(&h, b, 19), -TW_EINVAL);
    ASSERT_EQ(tw_ipv4_emit(&h, b, 0), -TW_EINVAL);
    ASSERT_EQ(tw_ipv4_emit(&h, b, 20), 20);
}

TEST(ipv4_emit_known_bytes) {
    /* Same header as the cksum test vector, but with DF as emit always sets. */
    tw_ipv4_hdr h = {.src = 0xc0a80001u,
                     .dst = 0xc0a800c7u,
                     .proto = 17,
                     .ttl = 64,
                     .tos = 0,
                     .id = 0,
                     .total_len = 0x73,
                     .frag = 0x2001 /* ignored by emit */};
    uint8_t b[32];
    memset(b, 0xaa, sizeof b);
    ASSERT_EQ(tw_ipv4_emit(&h, b, sizeof b), 20);
    static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                                     0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ASSERT_MEMEQ(b, want, 20);
    ASSERT_EQ(b[20], 0xaa); /* nothing written past the header */
}

TEST(ipv4_emit_parse_round_trip) {
    tw_ipv4_hdr h = {.src = 0x01020304u,
                     .dst = 0xfffefdfcu,
                     .proto = 6,
                     .ttl = 255,
                     .tos = 0xb8,
                     .id = 0x1234,
                     .total_len = 28};
    uint8_t b[28] = {0};
    ASSERT_EQ(tw_ipv4_emit(&h, b, sizeof b), 20);
    tw_ipv4_view v;
    tw_ipv4_hdr g;
    ASSERT_EQ(tw_ipv4_view_init(&v, b, sizeof b), 0);
    ASSERT_EQ(tw_ipv4_parse(&v, &g), 0);
    ASSERT_EQ(g.src, h.src);
    ASSERT_EQ(g.dst, h.dst);
    ASSERT_EQ(g.proto, h.proto);
    ASSERT_EQ(g.ttl, h.ttl);
    ASSERT_EQ(g.tos, h.tos);
    ASSERT_EQ(g.id, h.id);
    ASSERT_EQ(g.total_len, 28);
    ASSERT_EQ(g.frag, 0x4000);
    ASSERT_EQ(g.payload_len, 8);
}

TEST_MAIN()
