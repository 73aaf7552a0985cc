/* test_rng.c - tw_rng: splitmix64 seeding against its published outputs,
 * determinism, seed sensitivity and the ranges of the derived draws. */
#include "test.h"
#include "util/rng.h"

TEST(rng_seed_uses_splitmix64) {
    /* splitmix64 started at 0 yields these first outputs (published). */
    tw_rng r;
    tw_rng_seed(&r, 0);
    ASSERT_U64_EQ(r.s[0], 0xe220a8397b1dcdafull);
    ASSERT_U64_EQ(r.s[1], 0x6e789e6aa1b965f4ull);
    ASSERT_U64_EQ(r.s[2], 0x06c45d188009454full);
}

TEST(rng_xoshiro256ss_reference_outputs) {
    /* xoshiro256** from state {1, 2, 3, 4}: the first outputs as published
     * with the algorithm's reference test data. */
    tw_rng r = {{1, 2, 3, 4}};
    ASSERT_U64_EQ(tw_rng_next(&r), 11520u);
    ASSERT_U64_EQ(tw_rng_next(&r), 0u);
    ASSERT_U64_EQ(tw_rng_next(&r), 1509978240u);
    ASSERT_U64_EQ(tw_rng_next(&r), 1215971899390074240ull);
}

TEST(rng_same_seed_same_sequence) {
    tw_rng a, b;
    tw_rng_seed(&a, 42);
    tw_rng_seed(&b, 42);
    for (int i = 0; i < 10000; i++) ASSERT_U64_EQ(tw_rng_next(&a), tw_rng_next(&b));
}

TEST(rng_different_seeds_differ) {
    tw_rng a, b;
    for (uint64_t seed = 0; seed < 64; seed++) {
        tw_rng_seed(&a, seed);
        tw_rng_seed(&b, seed + 1);
        int same = 0;
        for (int i = 0; i < 64; i++) same += tw_rng_next(&a) == tw_rng_next(&b);
        ASSERT_EQ(same, 0);
    }
}

TEST(rng_not_stuck) {
    /* No short cycle and no repeats among the first draws. */
    tw_rng r;
    tw_rng_seed(&r, 7);
    uint64_t first = tw_rng_next(&r), prev = first;
    for (int i = 0; i < 100000; i++) {
        uint64_t x = tw_rng_next(&r);
        ASSERT_TRUE(x != first && x != prev);
        prev = x;
    }
}

TEST(rng_below_range_and_coverage) {
    tw_rng r;
    tw_rng_seed(&r, 1);
    static const uint64_t ns[] = {1, 2, 3, 7, 10, 1000, (1ull << 63) + 1, UINT64_MAX};
    for (size_t k = 0; k < sizeof ns / sizeof ns[0]; k++)
        for (int i = 0; i < 20000; i++) ASSERT_TRUE(tw_rng_below(&r, ns[k]) < ns[k]);
    ASSERT_U64_EQ(tw_rng_below(&r, 1), 0);
    ASSERT_U64_EQ(tw_rng_below(&r, 0), 0);
    /* Every value of a small range appears, roughly uniformly. */
    int hist[10] = {0};
    for (int i = 0; i < 100000; i++) hist[tw_rng_below(&r, 10)]++;
    for (int v = 0; v < 10; v++) {
        ASSERT_CMP(hist[v], >, 9000);
        ASSERT_CMP(hist[v], <, 11000);
    }
}

TEST(rng_below_unbiased_for_awkward_n) {
    /* n = 3 * 2^62: a plain x % n would give [0, 2^62) twice the weight of
     * the rest; with rejection the lower third gets about 1/3. */
    tw_rng r;
    tw_rng_seed(&r, 99);
    uint64_t n = 3ull << 62, third = 1ull << 62;
    int low = 0, total = 90000;
    for (int i = 0; i < total; i++) low += tw_rng_below(&r, n) < third;
    ASSERT_CMP(low, >, 29000);
    ASSERT_CMP(low, <, 31000);
}

TEST(rng_range_inclusive) {
    tw_rng r;
    tw_rng_seed(&r, 3);
    int seen_lo = 0, seen_hi = 0;
    for (int i = 0; i < 10000; i++) {
        uint64_t x = tw_rng_range(&r, 5, 9);
        ASSERT_TRUE(x >= 5 && x <= 9);
        seen_lo |= x == 5;
        seen_hi |= x == 9;
    }
    ASSERT_TRUE(seen_lo && seen_hi);
    ASSERT_U64_EQ(tw_rng_range(&r, 4, 4), 4);
    (void)tw_rng_range(&r, 0, UINT64_MAX);
}

TEST(rng_unit_and_chance) {
    tw_rng r;
    tw_rng_seed(&r, 5);
    double sum = 0;
    for (int i = 0; i < 100000; i++) {
        double u = tw_rng_unit(&r);
        ASSERT_TRUE(u >= 0.0 && u < 1.0);
        sum += u;
    }
    ASSERT_TRUE(sum / 100000 > 0.49 && sum / 100000 < 0.51);
    int hits = 0;
    for (int i = 0; i < 100000; i++) hits += tw_rng_chance(&r, 0.25);
    ASSERT_CMP(hits, >, 24000);
    ASSERT_CMP(hits, <, 26000);
    for (int i = 0; i < 1000; i++) {
        ASSERT_FALSE(tw_rng_chance(&r, 0.0));
        ASSERT_FALSE(tw_rng_chance(&r, -1.0));
        ASSERT_TRUE(tw_rng_chance(&r, 1.0));
        ASSERT_TRUE(tw_rng_chance(&r, 2.0));
    }
}

TEST(rng_u32_is_high_half) {
    tw_rng a, b;
    tw_rng_seed(&a, 11);
    tw_rng_seed(&b, 11);
    for (int i = 0; i < 100; i++) ASSERT_EQ(tw_rng_u32(&a), tw_rng_next(&b) >> 32);
}

TEST_MAIN()
