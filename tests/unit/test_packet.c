/* test_packet.c - unit tests for tw_packet_emit/tw_packet_parse: whole
 * IPv4 + TCP packets, round trips with every option, and the drop reasons
 * that only exist at packet level (protocol, fragment, nested lengths). */
#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

static void fix_ip_cksum(uint8_t *p) {
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    p[10] = p[11] = 0;
    uint16_t c = tw_cksum_fin(tw_cksum_add(0, p, hl));
    p[10] = (uint8_t)(c >> 8);
    p[11] = (uint8_t)c;
}

/* A segment carrying every option and a payload. */
static tw_tcp_seg full_seg(void) {
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_addr = 0x0a000001u;
    s.dst_addr = 0x0a000002u;
    s.src_port = 40000;
    s.dst_port = 443;
    s.seq = tw_seq(0xfffffff0u);
    s.ack = tw_seq(0x00000010u);
    s.flags = TW_TH_ACK | TW_TH_PSH;
    s.wnd = 1024;
    s.opt.has_mss = true;
    s.opt.mss = 1400;
    s.opt.has_ws = true;
    s.opt.ws = 9;
    s.opt.sack_ok = true;
    s.opt.has_ts = true;
    s.opt.tsval = 0xdeadbeefu;
    s.opt.tsecr = 0x01234567u;
    s.opt.nsack = 2;
    s.opt.sack[0].left = 100;
    s.opt.sack[0].right = 200;
    s.opt.sack[1].left = 300;
    s.opt.sack[1].right = 400;
    s.payload = (const uint8_t *)"GET / HTTP/1.0\r\n\r\n";
    s.len = 18;
    return s;
}

TEST(packet_round_trip_all_options) {
    tw_tcp_seg s = full_seg(), r;
    uint8_t b[256];
    int n = tw_packet_emit(&s, 0x4242, b, sizeof b);
    ASSERT_EQ(n, 20 + 60 + 18);
    /* IP header as documented: version/IHL, DF, TTL 64, TCP, id. */
    ASSERT_EQ(b[0], 0x45);
    ASSERT_EQ(b[2] << 8 | b[3], n);
    ASSERT_EQ(b[4] << 8 | b[5], 0x4242);
    ASSERT_EQ(b[6], 0x40);
    ASSERT_EQ(b[8], 64);
    ASSERT_EQ(b[9], TW_IPPROTO_TCP);

    memset(&r, 0, sizeof r);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), 0);
    ASSERT_EQ(r.src_addr, s.src_addr);
    ASSERT_EQ(r.dst_addr, s.dst_addr);
    ASSERT_EQ(r.src_port, s.src_port);
    ASSERT_EQ(r.dst_port, s.dst_port);
    ASSERT_EQ(r.seq.v, s.seq.v);
    ASSERT_EQ(r.ack.v, s.ack.v);
    ASSERT_EQ(r.flags, s.flags);
    ASSERT_EQ(r.wnd, s.wnd);
    ASSERT_EQ(r.urp, s.urp);
    ASSERT_EQ(r.opt.mss, 1400);
    ASSERT_EQ(r.opt.ws, 9);
    ASSERT_TRUE(r.opt.has_mss && r.opt.has_ws && r.opt.sack_ok && r.opt.has_ts);
    ASSERT_EQ(r.opt.tsval, 0xdeadbeefu);
    ASSERT_EQ(r.opt.tsecr, 0x01234567u);
    ASSERT_EQ(r.opt.nsack, 2);
    ASSERT_EQ(r.opt.sack[1].right, 400);
    ASSERT_EQ(r.len, 18);
    ASSERT_TRUE(r.payload == b + 80);
    ASSERT_MEMEQ(r.payload, s.payload, 18);
}

TEST(packet_round_trip_each_kind) {
    /* SYN, SYN-ACK, bare ACK, FIN|ACK, RST: the segments a connection sends. */
    const uint8_t kinds[] = {TW_TH_SYN, TW_TH_SYN | TW_TH_ACK, TW_TH_ACK, TW_TH_FIN | TW_TH_ACK,
                             TW_TH_RST};
    for (size_t k = 0; k < sizeof kinds; k++) {
        tw_tcp_seg s = full_seg(), r;
        s.flags = kinds[k];
        s.len = k % 2 ? 0 : s.len;
        s.opt.nsack = (uint8_t)k % 3;
        uint8_t b[256];
        tw_test_context("flags=%#x", kinds[k]);
        int n = tw_packet_emit(&s, (uint16_t)k, b, sizeof b);
        ASSERT_CMP(n, >, 40);
        ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), 0);
        ASSERT_EQ(r.flags, kinds[k]);
        ASSERT_EQ(r.len, s.len);
        ASSERT_EQ(r.opt.nsack, s.opt.nsack);
    }
}

TEST(packet_link_padding) {
    tw_tcp_seg s = full_seg(), r;
    s.len = 0;
    s.opt = (tw_tcp_opts){0};
    uint8_t b[64];
    memset(b, 0x55, sizeof b);
    int n = tw_packet_emit(&s, 1, b, sizeof b);
    ASSERT_EQ(n, 40);
    /* Padded to a 60-byte minimum Ethernet payload: the pad is not TCP data. */
    ASSERT_EQ(tw_packet_parse(b, 60, &r), 0);
    ASSERT_EQ(r.len, 0);
}

TEST(packet_not_tcp) {
    tw_tcp_seg s = full_seg(), r;
    uint8_t b[256];
    int n = tw_packet_emit(&s, 1, b, sizeof b);
    b[9] = TW_IPPROTO_ICMP;
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_IP_PROTO);
    b[9] = 17;
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_IP_PROTO);
}

TEST(packet_fragment) {
    tw_tcp_seg s = full_seg(), r;
    uint8_t b[256];
    int n = tw_packet_emit(&s, 1, b, sizeof b);
    b[6] = 0x20; /* MF */
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_IP_FRAG);
    b[6] = 0x00;
    b[7] = 0x10; /* offset 16 * 8 */
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_IP_FRAG);
}

TEST(packet_ip_errors_propagate) {
    tw_tcp_seg s = full_seg(), r;
    uint8_t b[256];
    int n = tw_packet_emit(&s, 1, b, sizeof b);
    ASSERT_EQ(tw_packet_parse(b, 10, &r), TW_C_DROP_IP_SHORT);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n - 1, &r), TW_C_DROP_IP_TOTLEN);
    b[10] ^= 1;
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_IP_CKSUM);
}

TEST(packet_tcp_errors_propagate) {
    tw_tcp_seg s = full_seg(), r;
    uint8_t b[256];
    int n = tw_packet_emit(&s, 1, b, sizeof b);
    /* Shrink the IP total length so the TCP part is 19 bytes. */
    b[2] = 0;
    b[3] = 39;
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_SHORT);
    /* 40 bytes of TCP: the 60-byte data offset is past the segment. */
    b[3] = 60;
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_DOFF);
    /* Corrupt a payload byte. */
    n = tw_packet_emit(&s, 1, b, sizeof b);
    b[n - 1] ^= 0x20;
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_CKSUM);
    /* The IP source address is part of the TCP pseudo-header. */
    n = tw_packet_emit(&s, 1, b, sizeof b);
    b[15] ^= 1;
    fix_ip_cksum(b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_CKSUM);
    /* Port 0 and impossible flags survive emit and are caught by parse. */
    s.src_port = 0;
    n = tw_packet_emit(&s, 1, b, sizeof b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_PORT0);
    s.src_port = 1;
    s.flags = TW_TH_SYN | TW_TH_FIN;
    n = tw_packet_emit(&s, 1, b, sizeof b);
    ASSERT_EQ(tw_packet_parse(b, (size_t)n, &r), TW_C_DROP_TCP_FLAGS);
}

TEST(packet_emit_too_small) {
    tw_tcp_seg s = full_seg();
    uint8_t b[256];
    ASSERT_EQ(tw_packet_emit(&s, 1, b, 0), -TW_EINVAL);
    ASSERT_EQ(tw_packet_emit(&s, 1, b, 19), -TW_EINVAL);
    ASSERT_EQ(tw_packet_emit(&s, 1, b, 20), -TW_EINVAL);
    ASSERT_EQ(tw_packet_emit(&s, 1, b, 20 + 60 + 17), -TW_EINVAL);
    ASSERT_EQ(tw_packet_emit(&s, 1, b, 20 + 60 + 18), 98);
    /* Fits as a TCP segment but not inside a 65535-byte IPv4 packet. */
    size_t cap = 65536 + 64;
    uint8_t *big = calloc(1, cap);
    ASSERT_TRUE(big != NULL);
    s.opt = (tw_tcp_opts){0};
    s.payload = big;
    s.len = 65535 - 20 - 20 + 1;
    int n1 = tw_packet_emit(&s, 1, big, cap);
    s.len = 65535 - 20 - 20;
    int n2 = tw_packet_emit(&s, 1, big, cap);
    free(big);
    ASSERT_EQ(n1, -TW_EINVAL);
    ASSERT_EQ(n2, 65535);
}

TEST_MAIN()
