/* test_seq.c - unit tests for wire/seq.h: modulo-2^32 sequence arithmetic
 * and comparisons (RFC 9293 §3.4), especially across the wrap at 2^32. */
#include "test.h"

#include "wire/seq.h"

TEST(seq_lt_across_wrap) {
    ASSERT_TRUE(tw_seq_lt(tw_seq(0xFFFFFFF0u), tw_seq(0x10)));
    ASSERT_FALSE(tw_seq_lt(tw_seq(0x10), tw_seq(0xFFFFFFF0u)));
    ASSERT_TRUE(tw_seq_gt(tw_seq(0x10), tw_seq(0xFFFFFFF0u)));
    ASSERT_TRUE(tw_seq_lt(tw_seq(0xFFFFFFFFu), tw_seq(0)));
    ASSERT_TRUE(tw_seq_gt(tw_seq(0), tw_seq(0xFFFFFFFFu)));
}

TEST(seq_le_ge_eq) {
    tw_seq_t a = tw_seq(0xFFFFFFFFu), b = tw_seq(0xFFFFFFFFu);
    ASSERT_TRUE(tw_seq_eq(a, b));
    ASSERT_TRUE(tw_seq_le(a, b));
    ASSERT_TRUE(tw_seq_ge(a, b));
    ASSERT_FALSE(tw_seq_lt(a, b));
    ASSERT_FALSE(tw_seq_gt(a, b));
    ASSERT_TRUE(tw_seq_le(a, tw_seq(5)));
    ASSERT_TRUE(tw_seq_ge(tw_seq(5), a));
    ASSERT_FALSE(tw_seq_eq(a, tw_seq(0)));
}

TEST(seq_add_wraps) {
    ASSERT_EQ(tw_seq_add(tw_seq(0xFFFFFFF0u), 0x20).v, 0x10);
    ASSERT_EQ(tw_seq_add(tw_seq(0xFFFFFFFFu), 1).v, 0);
    ASSERT_EQ(tw_seq_add(tw_seq(7), 0).v, 7);
    ASSERT_EQ(tw_seq_add(tw_seq(1), 0xFFFFFFFFu).v, 0); /* + (2^32 - 1) == - 1 */
}

TEST(seq_diff_signed) {
    ASSERT_EQ(tw_seq_diff(tw_seq(0x10), tw_seq(0xFFFFFFF0u)), 0x20);
    ASSERT_EQ(tw_seq_diff(tw_seq(0xFFFFFFF0u), tw_seq(0x10)), -0x20);
    ASSERT_EQ(tw_seq_diff(tw_seq(100), tw_seq(100)), 0);
    ASSERT_EQ(tw_seq_diff(tw_seq(0x7FFFFFFFu), tw_seq(0)), 0x7FFFFFFF);
}

TEST(seq_half_space_boundary) {
    /* Exactly 2^31 apart is undefined in serial arithmetic (RFC 1982 §3.2);
     * the signed-difference test sees INT32_MIN both ways round, so each
     * number is "less" than the other. Pin that so a change is noticed. */
    tw_seq_t a = tw_seq(0), b = tw_seq(0x80000000u);
    ASSERT_TRUE(tw_seq_lt(a, b));
    ASSERT_TRUE(tw_seq_lt(b, a));
    /* Just under half the space is unambiguous. */
    ASSERT_TRUE(tw_seq_lt(tw_seq(0), tw_seq(0x7FFFFFFFu)));
    ASSERT_FALSE(tw_seq_lt(tw_seq(0x7FFFFFFFu), tw_seq(0)));
}

TEST(seq_in_at_wrap) {
    tw_seq_t lo = tw_seq(0xFFFFFFF0u), hi = tw_seq(0x10);
    ASSERT_TRUE(tw_seq_in(lo, lo, hi));  /* lo is inside */
    ASSERT_FALSE(tw_seq_in(hi, lo, hi)); /* hi is not */
    ASSERT_TRUE(tw_seq_in(tw_seq(0xFFFFFFFFu), lo, hi));
    ASSERT_TRUE(tw_seq_in(tw_seq(0), lo, hi));
    ASSERT_TRUE(tw_seq_in(tw_seq(0xF), lo, hi));
    ASSERT_FALSE(tw_seq_in(tw_seq(0xFFFFFFEFu), lo, hi));
    ASSERT_FALSE(tw_seq_in(tw_seq(0x11), lo, hi));
    /* Empty window: nothing is in [x, x). */
    ASSERT_FALSE(tw_seq_in(lo, lo, lo));
}

TEST(seq_min_max_at_wrap) {
    tw_seq_t a = tw_seq(0xFFFFFFF0u), b = tw_seq(0x10);
    ASSERT_EQ(tw_seq_max(a, b).v, 0x10);
    ASSERT_EQ(tw_seq_max(b, a).v, 0x10);
    ASSERT_EQ(tw_seq_min(a, b).v, 0xFFFFFFF0u);
    ASSERT_EQ(tw_seq_min(b, a).v, 0xFFFFFFF0u);
    ASSERT_EQ(tw_seq_max(a, a).v, 0xFFFFFFF0u);
}

TEST(seq_ordering_is_consistent_over_sweep) {
    /* For every base near the wrap and every small offset, a < a+d and
     * a+d > a, and diff recovers d. */
    for (uint32_t base = 0xFFFFFF00u; base != 0x100; base++) {
        for (uint32_t d = 1; d < 64; d += 7) {
            tw_seq_t a = tw_seq(base), b = tw_seq_add(a, d);
            tw_test_context("base=%#x d=%u", base, d);
            ASSERT_TRUE(tw_seq_lt(a, b));
            ASSERT_TRUE(tw_seq_gt(b, a));
            ASSERT_EQ(tw_seq_diff(b, a), (int32_t)d);
            ASSERT_TRUE(tw_seq_in(a, a, b));
            ASSERT_FALSE(tw_seq_in(b, a, b));
        }
    }
}

TEST_MAIN()
