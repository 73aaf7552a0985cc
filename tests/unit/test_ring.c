/* test_ring.c - tw_ring: basic FIFO behaviour, wrap-around, peeks across the
 * wrap, out-of-order write_at/commit across the wrap, and random operation
 * sequences checked against a simple linear model. */
#include "test.h"
#include "util/ring.h"
#include "util/rng.h"

static void fill_seq(uint8_t *p, uint32_t n, uint8_t first) {
    for (uint32_t i = 0; i < n; i++) p[i] = (uint8_t)(first + i);
}

TEST(ring_empty_and_full) {
    uint8_t mem[8], out[16], in[16];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    ASSERT_EQ(tw_ring_len(&r), 0);
    ASSERT_EQ(tw_ring_free(&r), 8);
    ASSERT_EQ(tw_ring_read(&r, out, 4), 0);
    fill_seq(in, 16, 1);
    ASSERT_EQ(tw_ring_write(&r, in, 16), 8); /* clipped to free space */
    ASSERT_EQ(tw_ring_free(&r), 0);
    ASSERT_EQ(tw_ring_write(&r, in, 1), 0);
    ASSERT_EQ(tw_ring_read(&r, out, 16), 8);
    ASSERT_MEMEQ(out, in, 8);
    ASSERT_EQ(tw_ring_len(&r), 0);
}

TEST(ring_zero_capacity) {
    tw_ring r;
    uint8_t b[4] = {1, 2, 3, 4};
    tw_ring_init(&r, NULL, 0);
    ASSERT_EQ(tw_ring_write(&r, b, 4), 0);
    ASSERT_EQ(tw_ring_write_at(&r, 0, b, 4), 0);
    ASSERT_EQ(tw_ring_read(&r, b, 4), 0);
    tw_ring_commit(&r, 3);
    tw_ring_discard(&r, 3);
    ASSERT_EQ(tw_ring_len(&r), 0);
}

TEST(ring_wrap_around) {
    uint8_t mem[10], in[10], out[10];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    fill_seq(in, 7, 0);
    ASSERT_EQ(tw_ring_write(&r, in, 7), 7);
    ASSERT_EQ(tw_ring_read(&r, out, 5), 5); /* head = 5 */
    fill_seq(in, 8, 100);
    ASSERT_EQ(tw_ring_write(&r, in, 8), 8); /* stored: 5 6 100..107, wraps */
    ASSERT_EQ(tw_ring_len(&r), 10);
    ASSERT_EQ(tw_ring_read(&r, out, 10), 10);
    uint8_t want[10] = {5, 6, 100, 101, 102, 103, 104, 105, 106, 107};
    ASSERT_MEMEQ(out, want, 10);
}

TEST(ring_peek_across_wrap) {
    uint8_t mem[8], in[8], out[8];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    fill_seq(in, 6, 0);
    tw_ring_write(&r, in, 6);
    tw_ring_discard(&r, 5); /* head = 5, stored: 5 */
    fill_seq(in, 7, 6);
    ASSERT_EQ(tw_ring_write(&r, in, 7), 7); /* stored 5..12 across the wrap */
    for (uint32_t off = 0; off < 8; off++) {
        for (uint32_t n = 0; n <= 9; n++) {
            memset(out, 0xee, sizeof out);
            uint32_t got = tw_ring_peek(&r, off, out, n);
            uint32_t exp = n < 8 - off ? n : 8 - off;
            ASSERT_EQ(got, exp);
            for (uint32_t i = 0; i < got; i++) ASSERT_EQ(out[i], 5 + off + i);
        }
    }
    ASSERT_EQ(tw_ring_peek(&r, 8, out, 1), 0);
    ASSERT_EQ(tw_ring_peek(&r, 100, out, 1), 0);
    ASSERT_EQ(tw_ring_len(&r), 8); /* peek consumed nothing */
}

TEST(ring_write_at_commit_across_wrap) {
    uint8_t mem[10], in[10], out[10];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    fill_seq(in, 8, 0);
    tw_ring_write(&r, in, 8);
    tw_ring_discard(&r, 6); /* head = 6, stored: 6 7, free = 8 at [8..10)+[0..6) */
    /* Out-of-order piece at offset 3..6, across the wrap (phys 1..4). */
    uint8_t late[3] = {53, 54, 55};
    ASSERT_EQ(tw_ring_write_at(&r, 3, late, 3), 3);
    ASSERT_EQ(tw_ring_len(&r), 2);
    /* The gap 0..3 arrives; then both are committed. */
    uint8_t early[3] = {50, 51, 52};
    ASSERT_EQ(tw_ring_write_at(&r, 0, early, 3), 3);
    tw_ring_commit(&r, 6);
    ASSERT_EQ(tw_ring_len(&r), 8);
    ASSERT_EQ(tw_ring_read(&r, out, 10), 8);
    uint8_t want[8] = {6, 7, 50, 51, 52, 53, 54, 55};
    ASSERT_MEMEQ(out, want, 8);
}

TEST(ring_write_at_clips_to_free) {
    uint8_t mem[8], in[8];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    fill_seq(in, 8, 0);
    tw_ring_write(&r, in, 3); /* free = 5 */
    ASSERT_EQ(tw_ring_write_at(&r, 2, in, 8), 3);
    ASSERT_EQ(tw_ring_write_at(&r, 5, in, 1), 0);
    ASSERT_EQ(tw_ring_write_at(&r, 4, in, 0), 0);
    tw_ring_commit(&r, 100); /* clipped to free */
    ASSERT_EQ(tw_ring_len(&r), 8);
}

TEST(ring_write_at_survives_emptying_read) {
    /* Out-of-order bytes must stay in place while the application drains
     * every stored byte. */
    uint8_t mem[6], out[6];
    tw_ring r;
    tw_ring_init(&r, mem, sizeof mem);
    uint8_t a[2] = {1, 2}, c[2] = {5, 6}, b[2] = {3, 4};
    tw_ring_write(&r, a, 2);
    tw_ring_write_at(&r, 2, c, 2);
    ASSERT_EQ(tw_ring_read(&r, out, 2), 2);
    ASSERT_EQ(tw_ring_len(&r), 0);
    tw_ring_write_at(&r, 0, b, 2);
    tw_ring_commit(&r, 4);
    ASSERT_EQ(tw_ring_read(&r, out, 6), 4);
    uint8_t want[4] = {3, 4, 5, 6};
    ASSERT_MEMEQ(out, want, 4);
}

/* Model: a linear array of stored bytes followed by the pending free-area
 * bytes (valid where `pend_ok` is set). */
#define MCAP 4096
struct model {
    uint8_t data[2 * MCAP];
    uint8_t pend_ok[2 * MCAP];
    uint32_t len, cap;
};

static void model_discard(struct model *m, uint32_t n) {
    memmove(m->data, m->data + n, 2 * MCAP - n);
    memmove(m->pend_ok, m->pend_ok + n, 2 * MCAP - n);
    memset(m->pend_ok + 2 * MCAP - n, 0, n);
    m->len -= n;
}

static void ring_random_case(uint64_t seed) {
    tw_rng g;
    tw_rng_seed(&g, seed);
    uint32_t cap = 1 + (uint32_t)tw_rng_below(&g, 300);
    static uint8_t mem[MCAP], buf[MCAP], out[MCAP];
    static struct model m;
    memset(&m, 0, sizeof m);
    m.cap = cap;
    tw_ring r;
    tw_ring_init(&r, mem, cap);
    tw_test_context("seed=%llu cap=%u", (unsigned long long)seed, cap);
    for (int step = 0; step < 3000; step++) {
        uint32_t n = (uint32_t)tw_rng_below(&g, cap + 8);
        uint32_t off = (uint32_t)tw_rng_below(&g, cap + 4);
        for (uint32_t i = 0; i < n; i++) buf[i] = (uint8_t)tw_rng_next(&g);
        uint32_t fr = cap - m.len;
        switch (tw_rng_below(&g, 6)) {
        case 0: { /* write */
            uint32_t exp = n < fr ? n : fr;
            ASSERT_EQ(tw_ring_write(&r, buf, n), exp);
            memcpy(m.data + m.len, buf, exp);
            memset(m.pend_ok + m.len, 0, exp); /* overwrote that much of the free area */
            m.len += exp;
            break;
        }
        case 1: { /* read */
            uint32_t exp = n < m.len ? n : m.len;
            ASSERT_EQ(tw_ring_read(&r, out, n), exp);
            ASSERT_MEMEQ(out, m.data, exp);
            model_discard(&m, exp);
            break;
        }
        case 2: { /* peek */
            uint32_t exp = off >= m.len ? 0 : (n < m.len - off ? n : m.len - off);
            ASSERT_EQ(tw_ring_peek(&r, off, out, n), exp);
            ASSERT_MEMEQ(out, m.data + off, exp);
            break;
        }
        case 3: { /* discard */
            uint32_t exp = n < m.len ? n : m.len;
            tw_ring_discard(&r, n);
            model_discard(&m, exp);
            break;
        }
        case 4: { /* write_at */
            uint32_t exp = off >= fr ? 0 : (n < fr - off ? n : fr - off);
            ASSERT_EQ(tw_ring_write_at(&r, off, buf, n), exp);
            memcpy(m.data + m.len + off, buf, exp);
            memset(m.pend_ok + m.len + off, 1, exp);
            break;
        }
        default: { /* commit the longest fully written prefix of the free area */
            uint32_t k = 0;
            while (k < fr && m.pend_ok[m.len + k]) k++;
            tw_ring_commit(&r, k);
            memset(m.pend_ok + m.len, 0, k);
            m.len += k;
            break;
        }
        }
        ASSERT_EQ(tw_ring_len(&r), m.len);
        ASSERT_EQ(tw_ring_free(&r), cap - m.len);
        ASSERT_TRUE(r.head < cap);
    }
    ASSERT_EQ(tw_ring_peek(&r, 0, out, m.len), m.len);
    ASSERT_MEMEQ(out, m.data, m.len);
}

TEST(ring_random_ops_vs_model) {
    for (uint64_t seed = 1; seed <= 60; seed++) ring_random_case(seed);
}

TEST_MAIN()
