/* test_cksum.c - unit tests for wire/cksum.c: known-answer vectors, equality
 * with a naive 16-bit RFC 1071 reference at every length and alignment,
 * chaining, and the RFC 9293 §3.1 pseudo-header. */
#include "test.h"

#include "wire/cksum.h"

/* The textbook algorithm (RFC 1071 §4.1): 16-bit big-endian words, end-around
 * carry after every add, odd byte padded with a zero low byte. */
static uint16_t naive_cksum(const uint8_t *p, size_t len) {
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < len; i += 2) {
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
        sum = (sum & 0xffff) + (sum >> 16);
    }
    if (len & 1) {
        sum += (uint32_t)p[len - 1] << 8;
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t)~sum;
}

/* xorshift32: a deterministic stream for test data, state owned by the test. */
static uint32_t xs32(uint32_t *s) {
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return *s = x;
}

static uint16_t cksum(const void *p, size_t len) {
    return tw_cksum_fin(tw_cksum_add(0, p, len));
}

TEST(cksum_rfc1071_example) {
    /* RFC 1071 §3 worked example: the one's-complement sum is 0xddf2. */
    static const uint8_t v[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    ASSERT_EQ(cksum(v, sizeof v), (uint16_t)~0xddf2);
    ASSERT_EQ(cksum(v, sizeof v), 0x220d);
    ASSERT_EQ(naive_cksum(v, sizeof v), 0x220d);
}

TEST(cksum_ipv4_header_vector) {
    /* A well-known IPv4 header whose checksum field holds 0xb861. */
    uint8_t h[] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
                   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};
    ASSERT_EQ(cksum(h, sizeof h), 0xb861);
    h[10] = 0xb8;
    h[11] = 0x61;
    ASSERT_EQ(cksum(h, sizeof h), 0); /* verifying: the sum with it is ~0 */
}

TEST(cksum_edge_values) {
    uint8_t zeros[64] = {0}, ones[64];
    memset(ones, 0xff, sizeof ones);
    ASSERT_EQ(cksum(NULL, 0), 0xffff);
    ASSERT_EQ(cksum(zeros, sizeof zeros), 0xffff);
    ASSERT_EQ(cksum(ones, sizeof ones), 0x0000);
    ASSERT_EQ(cksum(ones, 1), (uint16_t)~0xff00);
    static const uint8_t one_byte[] = {0xab};
    ASSERT_EQ(cksum(one_byte, 1), (uint16_t)~0xab00);
    static const uint8_t three[] = {0x12, 0x34, 0x56};
    ASSERT_EQ(cksum(three, 3), (uint16_t) ~(0x1234 + 0x5600));
}

TEST(cksum_matches_naive_all_lengths_and_alignments) {
    uint8_t buf[256 + 16];
    uint32_t seed = 0x1234567u;
    for (int round = 0; round < 20; round++) {
        for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)xs32(&seed);
        if (round == 1) memset(buf, 0xff, sizeof buf); /* maximal carries */
        for (size_t off = 0; off < 16; off++) {
            for (size_t len = 0; len <= 200; len++) {
                tw_test_context("round=%d off=%zu len=%zu", round, off, len);
                ASSERT_EQ(cksum(buf + off, len), naive_cksum(buf + off, len));
            }
        }
    }
}

TEST(cksum_chained_even_chunks_equal_single_call) {
    uint8_t buf[300];
    uint32_t seed = 99;
    for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)xs32(&seed);
    for (size_t len = 0; len <= sizeof buf; len += 3) {
        uint16_t want = naive_cksum(buf, len);
        /* Split at every even point: this covers splits at 2 mod 4, where the
         * second chunk's 32-bit words straddle the first chunk's. */
        for (size_t cut = 0; cut <= len; cut += 2) {
            tw_test_context("len=%zu cut=%zu", len, cut);
            uint64_t acc = tw_cksum_add(0, buf, cut);
            acc = tw_cksum_add(acc, buf + cut, len - cut);
            ASSERT_EQ(tw_cksum_fin(acc), want);
        }
    }
}

TEST(cksum_large_buffer_no_overflow) {
    size_t n = 1u << 20;
    uint8_t *p = malloc(n + 1);
    ASSERT_TRUE(p != NULL);
    memset(p, 0xff, n + 1);
    ASSERT_EQ(cksum(p + 1, n), naive_cksum(p + 1, n));
    uint32_t seed = 7;
    for (size_t i = 0; i < n + 1; i++) p[i] = (uint8_t)xs32(&seed);
    ASSERT_EQ(cksum(p, n + 1), naive_cksum(p, n + 1));
    /* A huge incoming accumulator must still fold correctly: 2^64 - 6 is
     * congruent to 0xfffa mod 2^16 - 1 (2^16 == 1, so 2^64 == 1). */
    ASSERT_EQ(tw_cksum_fin(tw_cksum_add(UINT64_MAX - 5, p, 64)),
              tw_cksum_fin(tw_cksum_add(0xfffa, p, 64)));
    free(p);
}

TEST(cksum_pseudo_matches_bytes) {
    /* RFC 9293 §3.1 pseudo-header as 12 bytes, followed by a short segment. */
    uint32_t src = 0xc0a80001u, dst = 0x0a000002u;
    uint8_t seg[] = {0x30, 0x39, 0x00, 0x50, 1, 2, 3, 4, 5,   6,   7,  8,
                     0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0, 'h', 'i', '!'};
    uint8_t all[12 + sizeof seg];
    all[0] = 0xc0;
    all[1] = 0xa8;
    all[2] = 0x00;
    all[3] = 0x01;
    all[4] = 0x0a;
    all[5] = 0x00;
    all[6] = 0x00;
    all[7] = 0x02;
    all[8] = 0;
    all[9] = 6;
    all[10] = 0;
    all[11] = sizeof seg;
    memcpy(all + 12, seg, sizeof seg);
    uint64_t acc = tw_cksum_pseudo(src, dst, 6, sizeof seg);
    ASSERT_EQ(tw_cksum_fin(tw_cksum_add(acc, seg, sizeof seg)), naive_cksum(all, sizeof all));
    ASSERT_EQ(tw_cksum_fin(acc), naive_cksum(all, 12));
    /* Extremes: all-ones addresses and maximal length. */
    acc = tw_cksum_pseudo(0xffffffffu, 0xffffffffu, 0xff, 0xffff);
    uint8_t ext[12] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0xff, 0xff, 0xff};
    ASSERT_EQ(tw_cksum_fin(acc), naive_cksum(ext, sizeof ext));
}

TEST_MAIN()
