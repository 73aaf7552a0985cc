/* test_hash.c - SipHash-2-4 against the official test vectors (key 00..0f,
 * messages 00 01 .. of length 0..63, from the SipHash paper's reference
 * data), and tw_hash_tuple against the generic function. */
#include "test.h"
#include "util/hash.h"
#include "util/rng.h"

static const uint8_t KEY[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

static const uint64_t SIP24_VECTORS[64] = {
    0x726fdb47dd0e0e31ull, 0x74f839c593dc67fdull, 0x0d6c8009d9a94f5aull, 0x85676696d7fb7e2dull,
    0xcf2794e0277187b7ull, 0x18765564cd99a68dull, 0xcbc9466e58fee3ceull, 0xab0200f58b01d137ull,
    0x93f5f5799a932462ull, 0x9e0082df0ba9e4b0ull, 0x7a5dbbc594ddb9f3ull, 0xf4b32f46226bada7ull,
    0x751e8fbc860ee5fbull, 0x14ea5627c0843d90ull, 0xf723ca908e7af2eeull, 0xa129ca6149be45e5ull,
    0x3f2acc7f57c29bdbull, 0x699ae9f52cbe4794ull, 0x4bc1b3f0968dd39cull, 0xbb6dc91da77961bdull,
    0xbed65cf21aa2ee98ull, 0xd0f2cbb02e3b67c7ull, 0x93536795e3a33e88ull, 0xa80c038ccd5ccec8ull,
    0xb8ad50c6f649af94ull, 0xbce192de8a85b8eaull, 0x17d835b85bbb15f3ull, 0x2f2e6163076bcfadull,
    0xde4daaaca71dc9a5ull, 0xa6a2506687956571ull, 0xad87a3535c49ef28ull, 0x32d892fad841c342ull,
    0x7127512f72f27cceull, 0xa7f32346f95978e3ull, 0x12e0b01abb051238ull, 0x15e034d40fa197aeull,
    0x314dffbe0815a3b4ull, 0x027990f029623981ull, 0xcadcd4e59ef40c4dull, 0x9abfd8766a33735cull,
    0x0e3ea96b5304a7d0ull, 0xad0c42d6fc585992ull, 0x187306c89bc215a9ull, 0xd4a60abcf3792b95ull,
    0xf935451de4f21df2ull, 0xa9538f0419755787ull, 0xdb9acddff56ca510ull, 0xd06c98cd5c0975ebull,
    0xe612a3cb9ecba951ull, 0xc766e62cfcadaf96ull, 0xee64435a9752fe72ull, 0xa192d576b245165aull,
    0x0a8787bf8ecb74b2ull, 0x81b3e73d20b49b6full, 0x7fa8220ba3b2eceaull, 0x245731c13ca42499ull,
    0xb78dbfaf3a8d83bdull, 0xea1ad565322a1a0bull, 0x60e61c23a3795013ull, 0x6606d7e446282b93ull,
    0x6ca4ecb15c5f91e1ull, 0x9f626da15c9625f3ull, 0xe51b38608ef25f57ull, 0x958a324ceb064572ull,
};

TEST(siphash24_paper_vector_15_bytes) {
    uint8_t msg[15];
    for (int i = 0; i < 15; i++) msg[i] = (uint8_t)i;
    ASSERT_U64_EQ(tw_siphash(KEY, msg, sizeof msg), 0xa129ca6149be45e5ull);
}

TEST(siphash24_all_reference_vectors) {
    uint8_t msg[64];
    for (int i = 0; i < 64; i++) msg[i] = (uint8_t)i;
    for (int len = 0; len < 64; len++) {
        tw_test_context("len=%d", len);
        ASSERT_U64_EQ(tw_siphash(KEY, msg, (size_t)len), SIP24_VECTORS[len]);
    }
}

TEST(siphash_unaligned_input) {
    /* The same bytes at every alignment hash the same. */
    uint8_t buf[80];
    for (int shift = 0; shift < 8; shift++) {
        for (int i = 0; i < 64; i++) buf[shift + i] = (uint8_t)i;
        ASSERT_U64_EQ(tw_siphash(KEY, buf + shift, 40), SIP24_VECTORS[40]);
    }
}

TEST(siphash_key_and_variant_sensitivity) {
    uint8_t msg[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    uint8_t key2[16];
    memcpy(key2, KEY, 16);
    uint64_t base = tw_siphash(KEY, msg, 12);
    for (int bit = 0; bit < 128; bit++) {
        key2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        ASSERT_TRUE(tw_siphash(key2, msg, 12) != base);
        key2[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    uint64_t h13 = tw_siphash13(KEY, msg, 12);
    ASSERT_TRUE(h13 != base);
    ASSERT_U64_EQ(tw_siphash13(KEY, msg, 12), h13);
    ASSERT_TRUE(tw_siphash13(key2, msg, 11) != h13);
}

/* The byte layout tw_hash_tuple documents. */
static uint64_t tuple_by_bytes(const uint8_t key[16], uint32_t la, uint16_t lp, uint32_t ra,
                               uint16_t rp) {
    uint8_t b[12] = {
        (uint8_t)la,         (uint8_t)(la >> 8),  (uint8_t)(la >> 16), (uint8_t)(la >> 24),
        (uint8_t)lp,         (uint8_t)(lp >> 8),  (uint8_t)ra,         (uint8_t)(ra >> 8),
        (uint8_t)(ra >> 16), (uint8_t)(ra >> 24), (uint8_t)rp,         (uint8_t)(rp >> 8),
    };
    return tw_siphash(key, b, sizeof b);
}

TEST(hash_tuple_matches_generic) {
    tw_rng r;
    tw_rng_seed(&r, 2024);
    uint8_t key[16];
    for (int i = 0; i < 10000; i++) {
        for (int k = 0; k < 16; k++) key[k] = (uint8_t)tw_rng_next(&r);
        uint32_t la = tw_rng_u32(&r), ra = tw_rng_u32(&r);
        uint16_t lp = (uint16_t)tw_rng_next(&r), rp = (uint16_t)tw_rng_next(&r);
        ASSERT_U64_EQ(tw_hash_tuple(key, la, lp, ra, rp), tuple_by_bytes(key, la, lp, ra, rp));
    }
    ASSERT_U64_EQ(tw_hash_tuple(KEY, 0x0a000001u, 80, 0x0a000002u, 40000),
                  tuple_by_bytes(KEY, 0x0a000001u, 80, 0x0a000002u, 40000));
}

TEST(hash_tuple_spreads_neighbouring_ports) {
    /* Consecutive remote ports (what a port scanner or a NAT sends) should
     * land in different buckets of a 1024-bucket table most of the time. */
    static uint8_t used[1024];
    memset(used, 0, sizeof used);
    int distinct = 0;
    for (uint32_t p = 0; p < 512; p++) {
        uint64_t h = tw_hash_tuple(KEY, 0xc0a80001u, 443, 0xc0a80002u, (uint16_t)(30000 + p));
        if (!used[h & 1023]) {
            used[h & 1023] = 1;
            distinct++;
        }
    }
    /* Expected distinct buckets for 512 random draws into 1024: ~403. */
    ASSERT_CMP(distinct, >, 360);
    /* Swapping the local and remote halves gives a different hash. */
    ASSERT_TRUE(tw_hash_tuple(KEY, 1, 2, 3, 4) != tw_hash_tuple(KEY, 3, 4, 1, 2));
}

TEST_MAIN()
