/* test_assembler.c - tw_asm: merging cases by hand, the TW_ASM_MAX limit,
 * take_front/shift, and random operation sequences checked against a bitmap
 * model of received bytes. */
#include "test.h"
#include "util/assembler.h"
#include "util/rng.h"

static void check_invariant(const tw_asm *a) {
    ASSERT_TRUE(a->n <= TW_ASM_MAX);
    for (int i = 0; i < a->n; i++) {
        ASSERT_TRUE(a->r[i].start < a->r[i].end);
        if (i > 0) ASSERT_TRUE(a->r[i - 1].end < a->r[i].start);
    }
}

TEST(asm_add_and_merge) {
    tw_asm a;
    tw_asm_init(&a);
    ASSERT_TRUE(tw_asm_empty(&a));
    ASSERT_EQ(tw_asm_add(&a, 10, 5), 0); /* [10,15) */
    ASSERT_EQ(tw_asm_add(&a, 20, 5), 0); /* [20,25) */
    ASSERT_EQ(a.n, 2);
    ASSERT_EQ(tw_asm_add(&a, 15, 5), 0); /* touches both: [10,25) */
    ASSERT_EQ(a.n, 1);
    ASSERT_EQ(a.r[0].start, 10);
    ASSERT_EQ(a.r[0].end, 25);
    ASSERT_EQ(tw_asm_add(&a, 12, 3), 0); /* inside: no change */
    ASSERT_EQ(a.n, 1);
    ASSERT_EQ(tw_asm_add(&a, 5, 30), 0); /* covers it: [5,35) */
    ASSERT_EQ(a.n, 1);
    ASSERT_EQ(a.r[0].start, 5);
    ASSERT_EQ(a.r[0].end, 35);
    ASSERT_EQ(tw_asm_add(&a, 0, 2), 0);  /* before, separate */
    ASSERT_EQ(tw_asm_add(&a, 40, 0), 0); /* empty: no-op */
    ASSERT_EQ(a.n, 2);
    ASSERT_EQ(tw_asm_bytes(&a), 32);
    ASSERT_TRUE(tw_asm_contains(&a, 6, 29));
    ASSERT_FALSE(tw_asm_contains(&a, 1, 5));
    check_invariant(&a);
}

TEST(asm_limit_refuses_without_change) {
    tw_asm a;
    tw_asm_init(&a);
    for (uint32_t i = 0; i < TW_ASM_MAX; i++) ASSERT_EQ(tw_asm_add(&a, 10 * i + 1, 2), 0);
    ASSERT_EQ(a.n, TW_ASM_MAX);
    tw_asm before = a;
    ASSERT_EQ(tw_asm_add(&a, 10 * TW_ASM_MAX + 100, 1), -1);
    ASSERT_EQ(tw_asm_add(&a, 5, 1), -1);
    ASSERT_EQ(a.n, before.n); /* only r[0..n) is defined */
    ASSERT_MEMEQ(a.r, before.r, a.n * sizeof a.r[0]);
    /* Adds that merge still work when full. */
    ASSERT_EQ(tw_asm_add(&a, 3, 2), 0); /* touches [1,3) */
    ASSERT_EQ(a.n, TW_ASM_MAX);
    ASSERT_EQ(tw_asm_add(&a, 0, 10 * TW_ASM_MAX), 0);
    ASSERT_EQ(a.n, 1);
}

TEST(asm_take_front_and_shift) {
    tw_asm a;
    tw_asm_init(&a);
    tw_asm_add(&a, 5, 5);   /* [5,10) */
    tw_asm_add(&a, 20, 10); /* [20,30) */
    ASSERT_EQ(tw_asm_take_front(&a), 0);
    /* In-order segment of 7 bytes arrives: RCV.NXT += 7. */
    tw_asm_shift(&a, 7); /* [0,3) [13,23) */
    ASSERT_EQ(a.r[0].start, 0);
    ASSERT_EQ(a.r[0].end, 3);
    ASSERT_EQ(tw_asm_take_front(&a), 3);
    tw_asm_shift(&a, 3); /* [10,20) */
    ASSERT_EQ(a.n, 1);
    ASSERT_EQ(a.r[0].start, 10);
    tw_asm_shift(&a, 25); /* beyond everything */
    ASSERT_TRUE(tw_asm_empty(&a));
    ASSERT_EQ(tw_asm_take_front(&a), 0);
    tw_asm_add(&a, 1, 1);
    tw_asm_shift(&a, 0);
    ASSERT_EQ(a.r[0].start, 1);
}

TEST(asm_saturates_at_top) {
    tw_asm a;
    tw_asm_init(&a);
    ASSERT_EQ(tw_asm_add(&a, UINT32_MAX - 5, 100), 0);
    ASSERT_EQ(a.r[0].end, UINT32_MAX);
    ASSERT_EQ(tw_asm_bytes(&a), 5);
}

/* Bitmap model over a small window. */
#define W (20 * TW_ASM_MAX + 64)
static uint8_t have[W];

static int model_ranges(void) {
    int n = 0;
    for (int i = 0; i < W; i++)
        if (have[i] && (i == 0 || !have[i - 1])) n++;
    return n;
}

static void check_against_model(const tw_asm *a) {
    check_invariant(a);
    int k = 0;
    for (int i = 0; i < a->n; i++) {
        for (; k < (int)a->r[i].start; k++) ASSERT_FALSE(have[k]);
        for (; k < (int)a->r[i].end; k++) ASSERT_TRUE(have[k]);
    }
    for (; k < W; k++) ASSERT_FALSE(have[k]);
}

static int refused, taken; /* coverage of the interesting paths */

static void asm_random_case(uint64_t seed) {
    tw_rng g;
    tw_rng_seed(&g, seed);
    tw_asm a;
    tw_asm_init(&a);
    memset(have, 0, sizeof have);
    tw_test_context("seed=%llu", (unsigned long long)seed);
    for (int step = 0; step < 2000; step++) {
        uint64_t op = tw_rng_below(&g, 10);
        if (op < 7) {
            /* Mostly short pieces, so that the limit is reached in the
             * window; some long ones merge many ranges at once. */
            uint32_t off = (uint32_t)tw_rng_below(&g, 16 * TW_ASM_MAX);
            uint32_t len = (uint32_t)tw_rng_below(&g, tw_rng_below(&g, 8) ? 4 : 40);
            static uint8_t saved[W];
            memcpy(saved, have, W);
            for (uint32_t i = off; i < off + len; i++) have[i] = 1;
            int need = model_ranges();
            int rc = tw_asm_add(&a, off, len);
            if (need > TW_ASM_MAX) {
                ASSERT_EQ(rc, -1);
                refused++;
                memcpy(have, saved, W);
            } else {
                ASSERT_EQ(rc, 0);
            }
        } else if (op < 9) {
            /* In-order data of length n arrives at RCV.NXT. */
            uint32_t n = (uint32_t)tw_rng_below(&g, 8);
            tw_asm_shift(&a, n);
            memmove(have, have + n, W - n);
            memset(have + W - n, 0, n);
        } else {
            uint32_t exp = 0;
            while (have[exp]) exp++;
            ASSERT_EQ(tw_asm_take_front(&a), exp);
            taken += exp > 0;
            memset(have, 0, exp);
            /* The caller then advances RCV.NXT: shift by the taken length. */
            tw_asm_shift(&a, exp);
            memmove(have, have + exp, W - exp);
            memset(have + W - exp, 0, exp);
        }
        check_against_model(&a);
        uint32_t bytes = 0;
        for (int i = 0; i < W; i++) bytes += have[i];
        ASSERT_EQ(tw_asm_bytes(&a), bytes);
        ASSERT_EQ(tw_asm_empty(&a), bytes == 0);
    }
}

TEST(asm_random_ops_vs_bitmap) {
    refused = taken = 0;
    for (uint64_t seed = 1; seed <= 200; seed++) asm_random_case(seed);
    ASSERT_CMP(refused, >, 100);
    ASSERT_CMP(taken, >, 100);
}

TEST_MAIN()
