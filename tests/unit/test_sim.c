/* test_sim.c - the simulated link: timing, ordering, impairments, rules,
 * routing and determinism. */
#include "test.h"

#include "link/sim.h"
#include "tcpwave/tw_errno.h"
#include "wire/cksum.h"

#define ADDR_A 0x0a000001u /* 10.0.0.1 */
#define ADDR_B 0x0a000002u /* 10.0.0.2 */
#define ADDR_C 0x0a000003u /* 10.0.0.3 */
#define MS 1000000ull

/* A fake IPv4 packet: 40 bytes, destination at 16..19, a 32-bit tag at 20..23. */
#define PKT_LEN 40
static void make_pkt(uint8_t *p, uint32_t dst, uint32_t tag) {
    memset(p, 0, PKT_LEN);
    p[0] = 0x45;
    p[16] = (uint8_t)(dst >> 24);
    p[17] = (uint8_t)(dst >> 16);
    p[18] = (uint8_t)(dst >> 8);
    p[19] = (uint8_t)dst;
    p[20] = (uint8_t)(tag >> 24);
    p[21] = (uint8_t)(tag >> 16);
    p[22] = (uint8_t)(tag >> 8);
    p[23] = (uint8_t)tag;
    for (int i = 24; i < PKT_LEN; i++) p[i] = (uint8_t)(tag * 31u + (unsigned)i);
}

static uint32_t pkt_tag(const uint8_t *p) {
    return (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
}

static int send_tag(tw_sim *s, int ep, uint32_t dst, uint32_t tag, uint64_t now) {
    uint8_t p[PKT_LEN];
    make_pkt(p, dst, tag);
    tw_link *l = tw_sim_link(s, ep);
    return l->ops->send(l, p, sizeof p, now);
}

/* Receives one packet for ep at `now`; returns its tag, or -1 if none. */
static long recv_tag(tw_sim *s, int ep, uint64_t now) {
    uint8_t buf[2048];
    tw_link *l = tw_sim_link(s, ep);
    int n = l->ops->recv(l, buf, sizeof buf, now);
    if (n <= 0) return -1;
    return (long)pkt_tag(buf);
}

/* ---------------------------------------------------------------- recorder */

struct event {
    enum tw_sim_ev ev;
    int from, to;
    uint64_t nth, now, hash;
    size_t len;
};

struct recorder {
    struct event *ev;
    size_t n, cap;
};

static uint64_t fnv1a(const uint8_t *p, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void record(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth, const uint8_t *pkt,
                   size_t len, uint64_t now) {
    struct recorder *r = ctx;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
        if (!r->ev) abort();
    }
    struct event e = {ev, from, to, nth, now, fnv1a(pkt, len), len};
    r->ev[r->n++] = e;
}

static size_t count_ev(const struct recorder *r, enum tw_sim_ev ev) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += r->ev[i].ev == ev;
    return n;
}

/* Two endpoints A (index 0) and B (index 1); A's packets get cfg_a. */
static tw_sim *pair(uint64_t seed, const tw_sim_cfg *cfg_a) {
    tw_sim *s = tw_sim_new(seed);
    ASSERT_TRUE(s != NULL);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_A, cfg_a), 0);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_B, NULL), 1);
    return s;
}

/* ---------------------------------------------------------------- tests */

TEST(delivery_at_exactly_send_time_plus_delay) {
    tw_sim_cfg cfg = {.delay_ns = 5 * MS};
    tw_sim *s = pair(1, &cfg);
    tw_link *b = tw_sim_link(s, 1);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 7, 1000), 0);
    ASSERT_EQ(tw_sim_in_flight(s), 1);
    ASSERT_U64_EQ(b->ops->next_arrival(b), 1000 + 5 * MS);
    ASSERT_EQ(recv_tag(s, 1, 1000 + 5 * MS - 1), -1);
    ASSERT_EQ(recv_tag(s, 0, 1000 + 5 * MS), -1); /* not A's packet */
    uint8_t want[PKT_LEN], got[2048];
    make_pkt(want, ADDR_B, 7);
    ASSERT_EQ(b->ops->recv(b, got, sizeof got, 1000 + 5 * MS), PKT_LEN);
    ASSERT_MEMEQ(got, want, PKT_LEN);
    ASSERT_EQ(b->ops->recv(b, got, sizeof got, UINT64_MAX - 1), 0);
    ASSERT_EQ(tw_sim_in_flight(s), 0);
    ASSERT_EQ(b->ops->poll_fd(b), -1);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.sent, 1);
    ASSERT_U64_EQ(st.delivered, 1);
    tw_sim_free(s);
}

TEST(zero_delay_is_deliverable_at_send_time) {
    tw_sim *s = pair(1, NULL);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 1, 42), 0);
    ASSERT_EQ(recv_tag(s, 1, 41), -1);
    ASSERT_EQ(recv_tag(s, 1, 42), 1);
    tw_sim_free(s);
}

TEST(delivery_order_and_ties_by_send_order) {
    tw_sim_cfg cfg = {.delay_ns = 10 * MS};
    tw_sim *s = pair(1, &cfg);
    /* same send time: send order */
    for (uint32_t t = 1; t <= 5; t++) ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
    /* a faster path for later packets overtakes the slow ones */
    tw_sim_cfg fast = {.delay_ns = 1 * MS};
    tw_sim_set_cfg(s, 0, &fast);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 100, 0), 0);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 101, 2 * MS), 0);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 102, 9 * MS), 0); /* due at 10 ms too: after 1..5 */
    ASSERT_EQ(tw_sim_in_flight(s), 8);
    long want[] = {100, 101, 1, 2, 3, 4, 5, 102};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        ASSERT_EQ(recv_tag(s, 1, 1000 * MS), want[i]);
    ASSERT_EQ(recv_tag(s, 1, 1000 * MS), -1);
    /* a later recv time only returns what is due */
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 200, 0), 0);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 201, 5 * MS), 0);
    ASSERT_EQ(recv_tag(s, 1, 3 * MS), 200);
    ASSERT_EQ(recv_tag(s, 1, 3 * MS), -1);
    ASSERT_EQ(recv_tag(s, 1, 6 * MS), 201);
    tw_sim_free(s);
}

TEST(many_packets_come_out_sorted) {
    /* heavy jitter: check the heap against the recorded delivery times */
    tw_sim_cfg cfg = {.delay_ns = 1 * MS, .jitter_ns = 50 * MS};
    tw_sim *s = pair(99, &cfg);
    struct recorder r = {0};
    tw_sim_set_observer(s, record, &r);
    for (uint32_t t = 0; t < 5000; t++)
        ASSERT_EQ(send_tag(s, 0, ADDR_B, t, (uint64_t)t * 10000), 0);
    int got = 0;
    while (recv_tag(s, 1, UINT64_MAX - 1) >= 0) got++;
    ASSERT_EQ(got, 5000);
    uint64_t last_at = 0, last_nth = 0;
    int n_delivered = 0, inversions = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (r.ev[i].ev != TW_SIM_DELIVERED) continue;
        ASSERT_CMP(r.ev[i].now, >=, last_at);
        if (r.ev[i].nth < last_nth) inversions++;
        last_at = r.ev[i].now;
        last_nth = r.ev[i].nth;
        n_delivered++;
    }
    ASSERT_EQ(n_delivered, 5000);
    ASSERT_CMP(inversions, >, 0); /* jitter this large does reorder */
    free(r.ev);
    tw_sim_free(s);
}

TEST(jitter_stays_within_bounds) {
    const uint64_t delay = 2 * MS, jitter = 500000;
    tw_sim_cfg cfg = {.delay_ns = delay, .jitter_ns = jitter};
    tw_sim *s = pair(7, &cfg);
    struct recorder r = {0};
    tw_sim_set_observer(s, record, &r);
    const uint64_t gap = 1000 * MS; /* far apart: delivery i belongs to send i */
    for (uint32_t t = 0; t < 10000; t++) {
        uint64_t now = (uint64_t)t * gap;
        ASSERT_EQ(send_tag(s, 0, ADDR_B, t, now), 0);
        ASSERT_EQ(recv_tag(s, 1, now + gap - 1), (long)t);
    }
    uint64_t lo = UINT64_MAX, hi = 0;
    int n = 0;
    for (size_t i = 0; i < r.n; i++) {
        if (r.ev[i].ev != TW_SIM_DELIVERED) continue;
        uint64_t sent_at = (r.ev[i].nth - 1) * gap;
        uint64_t d = r.ev[i].now - sent_at;
        ASSERT_CMP(d, >=, delay);
        ASSERT_CMP(d, <=, delay + jitter);
        if (d < lo) lo = d;
        if (d > hi) hi = d;
        n++;
    }
    ASSERT_EQ(n, 10000);
    ASSERT_CMP(lo, <, delay + jitter / 100); /* the whole range is used */
    ASSERT_CMP(hi, >, delay + jitter - jitter / 100);
    free(r.ev);
    tw_sim_free(s);
}

TEST(loss_rate_is_roughly_p) {
    tw_sim_cfg cfg = {.delay_ns = 1, .loss = 0.1};
    tw_sim *s = pair(12345, &cfg);
    const int N = 100000;
    int received = 0;
    for (int i = 0; i < N; i++) {
        ASSERT_EQ(send_tag(s, 0, ADDR_B, (uint32_t)i, (uint64_t)i * 10), 0);
        while (recv_tag(s, 1, (uint64_t)i * 10 + 5) >= 0) received++;
    }
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    tw_test_context("lost=%" PRIu64, st.lost);
    ASSERT_U64_EQ(st.sent, (uint64_t)N);
    ASSERT_CMP(st.lost, >=, 9500); /* expected 10000, sd ~95 */
    ASSERT_CMP(st.lost, <=, 10500);
    ASSERT_U64_EQ(st.delivered, (uint64_t)received);
    ASSERT_U64_EQ(st.lost + st.delivered, (uint64_t)N);
    ASSERT_EQ(tw_sim_in_flight(s), 0);
    tw_sim_free(s);
}

TEST(ce_marks_only_ecn_capable_packets_with_a_good_checksum) {
    /* With ce = 1 every ECT(0) or ECT(1) packet arrives CE with its header
     * checksum redone; Not-ECT packets (and CE ones) pass unchanged. */
    tw_sim_cfg cfg = {.delay_ns = 1, .ce = 1.0};
    tw_sim *s = pair(7, &cfg);
    tw_link *a = tw_sim_link(s, 0), *b = tw_sim_link(s, 1);
    static const uint8_t in[4] = {0, 1, 2, 3}, want[4] = {0, 3, 3, 3};
    for (int i = 0; i < 4; i++) {
        uint8_t p[PKT_LEN], got[PKT_LEN];
        make_pkt(p, ADDR_B, (uint32_t)i);
        p[1] = (uint8_t)(0xb8 | in[i]); /* a DSCP that must stay */
        p[2] = 0;
        p[3] = PKT_LEN;
        ASSERT_EQ(a->ops->send(a, p, sizeof p, 10), 0);
        ASSERT_EQ(b->ops->recv(b, got, sizeof got, 20), PKT_LEN);
        ASSERT_EQ(got[1], 0xb8 | want[i]);
        if (want[i] != in[i]) /* a good header checksum sums to zero */
            ASSERT_EQ(tw_cksum_fin(tw_cksum_add(0, got, 20)), 0);
        ASSERT_EQ(memcmp(got + 20, p + 20, PKT_LEN - 20), 0);
    }
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.ce_marked, 2);
    tw_sim_free(s);
}

TEST(bottleneck_queues_drops_at_the_limit_and_marks_ce) {
    /* 8 Mbit/s: a byte takes 1 us, a 40-byte packet 40 us. Five packets at
     * once: they leave 40 us apart after a 1 ms delay; the queue holds 120
     * bytes, the packet itself included, so the fourth (120 bytes ahead of
     * it) and the fifth are dropped; from 40 bytes queued, ECN-capable
     * packets are marked CE. */
    tw_sim_cfg cfg = {
        .delay_ns = 1 * MS, .rate_bps = 8000000, .queue_bytes = 120, .ce_queue_bytes = 40};
    tw_sim *s = pair(3, &cfg);
    tw_link *a = tw_sim_link(s, 0), *b = tw_sim_link(s, 1);
    for (int i = 0; i < 5; i++) {
        uint8_t p[PKT_LEN];
        make_pkt(p, ADDR_B, (uint32_t)i);
        p[1] = 0x02; /* ECT(0) */
        ASSERT_EQ(a->ops->send(a, p, sizeof p, 0), 0);
    }
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.queue_dropped, 2);
    ASSERT_U64_EQ(st.ce_marked, 2); /* the 2nd found 40 bytes queued, the 3rd 80 */
    for (int i = 0; i < 3; i++) {
        uint64_t due = 1 * MS + (uint64_t)(i + 1) * 40000u;
        uint8_t got[PKT_LEN];
        ASSERT_EQ(tw_sim_next_arrival(s), due);
        ASSERT_EQ(b->ops->recv(b, got, sizeof got, due - 1), 0);
        ASSERT_EQ(b->ops->recv(b, got, sizeof got, due), PKT_LEN);
        ASSERT_EQ(pkt_tag(got), (uint32_t)i);
        ASSERT_EQ(got[1] & 3, i == 0 ? 2 : 3);
    }
    /* Once the queue has drained, a packet goes straight through. */
    uint8_t p[PKT_LEN], got[PKT_LEN];
    make_pkt(p, ADDR_B, 9);
    ASSERT_EQ(a->ops->send(a, p, sizeof p, 10 * MS), 0);
    ASSERT_EQ(b->ops->recv(b, got, sizeof got, 11 * MS + 40000), PKT_LEN);
    tw_sim_free(s);
}

/* A scenario using every impairment; returns its event log. */
static struct recorder run_scenario(uint64_t seed) {
    struct recorder r = {0};
    tw_sim *s = tw_sim_new(seed);
    tw_sim_cfg ca = {.delay_ns = 3 * MS,
                     .jitter_ns = 2 * MS,
                     .loss = 0.1,
                     .dup = 0.05,
                     .reorder = 0.1,
                     .corrupt = 0.05,
                     .reorder_extra_ns = 4 * MS};
    tw_sim_cfg cb = {.delay_ns = 1 * MS, .jitter_ns = 1 * MS, .loss = 0.2};
    if (!s || tw_sim_add_endpoint(s, ADDR_A, &ca) != 0 || tw_sim_add_endpoint(s, ADDR_B, &cb) != 1)
        abort();
    tw_sim_set_observer(s, record, &r);
    tw_sim_drop_nth(s, 0, 10);
    for (uint32_t i = 0; i < 2000; i++) {
        uint64_t now = (uint64_t)i * 100000;
        send_tag(s, 0, ADDR_B, i, now);
        if (i % 3 == 0) send_tag(s, 1, ADDR_A, i, now);
        if (i % 500 == 0) send_tag(s, 1, ADDR_C, i, now); /* unroutable */
        while (recv_tag(s, 1, now) >= 0) {
        }
        while (recv_tag(s, 0, now) >= 0) {
        }
    }
    while (recv_tag(s, 1, UINT64_MAX - 1) >= 0) {
    }
    while (recv_tag(s, 0, UINT64_MAX - 1) >= 0) {
    }
    tw_sim_free(s);
    return r;
}

static bool same_log(const struct recorder *a, const struct recorder *b) {
    if (a->n != b->n) return false;
    for (size_t i = 0; i < a->n; i++) {
        const struct event *x = &a->ev[i], *y = &b->ev[i];
        if (x->ev != y->ev || x->from != y->from || x->to != y->to || x->nth != y->nth ||
            x->now != y->now || x->hash != y->hash || x->len != y->len)
            return false;
    }
    return true;
}

TEST(same_seed_gives_identical_events) {
    struct recorder a = run_scenario(2024), b = run_scenario(2024), c = run_scenario(2025);
    ASSERT_CMP(a.n, >, 5000);
    ASSERT_TRUE(count_ev(&a, TW_SIM_DROPPED_LOSS) > 0);
    ASSERT_TRUE(count_ev(&a, TW_SIM_DUPLICATED) > 0);
    ASSERT_TRUE(count_ev(&a, TW_SIM_CORRUPTED) > 0);
    ASSERT_TRUE(count_ev(&a, TW_SIM_REORDERED) > 0);
    ASSERT_EQ(count_ev(&a, TW_SIM_DROPPED_RULE), 1);
    ASSERT_EQ(count_ev(&a, TW_SIM_UNROUTABLE), 4);
    ASSERT_TRUE(same_log(&a, &b));
    ASSERT_FALSE(same_log(&a, &c));
    free(a.ev);
    free(b.ev);
    free(c.ev);
}

TEST(drop_nth_drops_exactly_that_packet) {
    tw_sim_cfg cfg = {.delay_ns = 1000};
    tw_sim *s = pair(1, &cfg);
    struct recorder r = {0};
    tw_sim_set_observer(s, record, &r);
    tw_sim_drop_nth(s, 0, 3);
    tw_sim_drop_nth(s, 0, 5);
    tw_sim_drop_nth(s, 1, 1); /* B's first packet */
    for (uint32_t t = 1; t <= 6; t++) ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
    ASSERT_U64_EQ(tw_sim_sent_count(s, 0), 6);
    long want[] = {1, 2, 4, 6};
    for (size_t i = 0; i < 4; i++) ASSERT_EQ(recv_tag(s, 1, 1000), want[i]);
    ASSERT_EQ(recv_tag(s, 1, 1000), -1);
    ASSERT_EQ(send_tag(s, 1, ADDR_A, 50, 0), 0);
    ASSERT_EQ(send_tag(s, 1, ADDR_A, 51, 0), 0);
    ASSERT_EQ(recv_tag(s, 0, 1000), 51);
    ASSERT_EQ(recv_tag(s, 0, 1000), -1);
    /* a rule for a packet number already passed never fires */
    tw_sim_drop_nth(s, 0, 2);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 7, 0), 0);
    ASSERT_EQ(recv_tag(s, 1, 1000), 7);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.rule_dropped, 3);
    ASSERT_EQ(count_ev(&r, TW_SIM_DROPPED_RULE), 3);
    size_t k = 0;
    uint64_t nths[3];
    for (size_t i = 0; i < r.n; i++)
        if (r.ev[i].ev == TW_SIM_DROPPED_RULE) nths[k++] = r.ev[i].nth;
    ASSERT_U64_EQ(nths[0], 3);
    ASSERT_U64_EQ(nths[1], 5);
    ASSERT_U64_EQ(nths[2], 1);
    free(r.ev);
    tw_sim_free(s);
}

struct filter_ctx {
    int calls;
    uint64_t last_nth;
};

static bool drop_odd_tags(void *ctx, int from_ep, uint64_t nth, const uint8_t *pkt, size_t len,
                          uint64_t now) {
    struct filter_ctx *f = ctx;
    f->calls++;
    f->last_nth = nth;
    (void)now;
    return from_ep == 0 && len == PKT_LEN && (pkt_tag(pkt) & 1);
}

TEST(filter_drops_what_it_returns_true_for) {
    tw_sim *s = pair(1, NULL);
    struct filter_ctx f = {0};
    tw_sim_set_filter(s, drop_odd_tags, &f);
    for (uint32_t t = 0; t < 10; t++) ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
    ASSERT_EQ(send_tag(s, 1, ADDR_A, 1, 0), 0); /* from B: kept */
    ASSERT_EQ(f.calls, 11);
    ASSERT_U64_EQ(f.last_nth, 1);
    for (long t = 0; t < 10; t += 2) ASSERT_EQ(recv_tag(s, 1, 0), t);
    ASSERT_EQ(recv_tag(s, 1, 0), -1);
    ASSERT_EQ(recv_tag(s, 0, 0), 1);
    tw_sim_set_filter(s, NULL, NULL);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 3, 0), 0);
    ASSERT_EQ(recv_tag(s, 1, 0), 3);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.rule_dropped, 5);
    tw_sim_free(s);
}

TEST(duplicates_are_delivered_twice) {
    tw_sim_cfg cfg = {.delay_ns = 1000, .dup = 1.0};
    tw_sim *s = pair(3, &cfg);
    for (uint32_t t = 0; t < 50; t++) ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
    ASSERT_EQ(tw_sim_in_flight(s), 100);
    for (long t = 0; t < 50; t++) {
        ASSERT_EQ(recv_tag(s, 1, 1000), t);
        ASSERT_EQ(recv_tag(s, 1, 1000), t);
    }
    ASSERT_EQ(recv_tag(s, 1, 1000), -1);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.duplicated, 50);
    ASSERT_U64_EQ(st.delivered, 100);
    /* a probability in between duplicates some */
    cfg.dup = 0.3;
    tw_sim_set_cfg(s, 0, &cfg);
    for (uint32_t t = 0; t < 1000; t++) ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
    tw_sim_get_stats(s, &st);
    ASSERT_CMP(st.duplicated - 50, >, 200);
    ASSERT_CMP(st.duplicated - 50, <, 400);
    tw_sim_free(s);
}

static int popcount8(uint8_t x) {
    int n = 0;
    for (; x; x &= (uint8_t)(x - 1)) n++;
    return n;
}

TEST(corruption_flips_exactly_one_bit) {
    tw_sim_cfg cfg = {.corrupt = 1.0};
    tw_sim *s = pair(5, &cfg);
    tw_link *b = tw_sim_link(s, 1);
    int bit_hist[PKT_LEN] = {0};
    for (uint32_t t = 0; t < 2000; t++) {
        uint8_t want[PKT_LEN], got[2048];
        make_pkt(want, ADDR_B, t);
        ASSERT_EQ(send_tag(s, 0, ADDR_B, t, 0), 0);
        ASSERT_EQ(b->ops->recv(b, got, sizeof got, 0), PKT_LEN);
        int flipped = 0;
        for (int i = 0; i < PKT_LEN; i++) {
            int d = popcount8((uint8_t)(got[i] ^ want[i]));
            flipped += d;
            if (d) bit_hist[i]++;
        }
        ASSERT_EQ(flipped, 1);
    }
    for (int i = 0; i < PKT_LEN; i++) ASSERT_CMP(bit_hist[i], >, 0); /* any byte may be hit */
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.corrupted, 2000);
    tw_sim_free(s);
}

TEST(reorder_holds_packets_back) {
    tw_sim_cfg cfg = {.delay_ns = 1 * MS, .reorder = 1.0, .reorder_extra_ns = 5 * MS};
    tw_sim *s = pair(1, &cfg);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 1, 0), 0);
    cfg.reorder = 0;
    tw_sim_set_cfg(s, 0, &cfg);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 2, 1 * MS), 0);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), 2 * MS);
    ASSERT_EQ(recv_tag(s, 1, 5 * MS), 2);
    ASSERT_EQ(recv_tag(s, 1, 6 * MS - 1), -1);
    ASSERT_EQ(recv_tag(s, 1, 6 * MS), 1);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.reordered, 1);
    tw_sim_free(s);
}

TEST(unroutable_packets_are_counted_and_dropped) {
    tw_sim *s = pair(1, NULL);
    struct recorder r = {0};
    tw_sim_set_observer(s, record, &r);
    ASSERT_EQ(send_tag(s, 0, ADDR_C, 1, 0), 0);
    uint8_t tiny[10] = {0x45};
    tw_link *a = tw_sim_link(s, 0);
    ASSERT_EQ(a->ops->send(a, tiny, sizeof tiny, 0), 0);
    ASSERT_EQ(a->ops->send(a, tiny, 0, 0), -TW_EINVAL);
    ASSERT_EQ(tw_sim_in_flight(s), 0);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), UINT64_MAX);
    struct tw_sim_stats st;
    tw_sim_get_stats(s, &st);
    ASSERT_U64_EQ(st.unroutable, 2);
    ASSERT_U64_EQ(st.sent, 2);
    ASSERT_EQ(count_ev(&r, TW_SIM_UNROUTABLE), 2);
    ASSERT_EQ(r.ev[0].ev, TW_SIM_SENT);
    ASSERT_EQ(r.ev[0].to, -1);
    ASSERT_STREQ(tw_sim_ev_name(TW_SIM_UNROUTABLE), "unroutable");
    free(r.ev);
    tw_sim_free(s);
}

TEST(next_arrival_per_link_and_overall) {
    tw_sim_cfg ca = {.delay_ns = 7 * MS}, cb = {.delay_ns = 3 * MS};
    tw_sim *s = tw_sim_new(1);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_A, &ca), 0);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_B, &cb), 1);
    tw_link *a = tw_sim_link(s, 0), *b = tw_sim_link(s, 1);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), UINT64_MAX);
    ASSERT_U64_EQ(a->ops->next_arrival(a), UINT64_MAX);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 1, 0), 0);      /* at 7 ms to B */
    ASSERT_EQ(send_tag(s, 1, ADDR_A, 2, 1 * MS), 0); /* at 4 ms to A */
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 3, 2 * MS), 0); /* at 9 ms to B */
    ASSERT_U64_EQ(tw_sim_next_arrival(s), 4 * MS);
    ASSERT_U64_EQ(a->ops->next_arrival(a), 4 * MS);
    ASSERT_U64_EQ(b->ops->next_arrival(b), 7 * MS);
    ASSERT_EQ(recv_tag(s, 0, tw_sim_next_arrival(s)), 2);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), 7 * MS);
    ASSERT_U64_EQ(a->ops->next_arrival(a), UINT64_MAX);
    ASSERT_EQ(recv_tag(s, 1, tw_sim_next_arrival(s)), 1);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), 9 * MS);
    ASSERT_EQ(recv_tag(s, 1, tw_sim_next_arrival(s)), 3);
    ASSERT_U64_EQ(tw_sim_next_arrival(s), UINT64_MAX);
    tw_sim_free(s);
}

TEST(three_endpoints_route_by_destination) {
    tw_sim *s = tw_sim_new(1);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_A, NULL), 0);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_B, NULL), 1);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_C, NULL), 2);
    ASSERT_EQ(tw_sim_add_endpoint(s, ADDR_B, NULL), -TW_EADDRINUSE);
    ASSERT_EQ(tw_sim_endpoint_count(s), 3);
    ASSERT_EQ(tw_sim_find_endpoint(s, ADDR_C), 2);
    ASSERT_EQ(tw_sim_endpoint_addr(s, 1), ADDR_B);
    ASSERT_TRUE(tw_sim_link(s, 3) == NULL);
    ASSERT_EQ(send_tag(s, 0, ADDR_C, 0xac, 0), 0);
    ASSERT_EQ(send_tag(s, 1, ADDR_C, 0xbc, 0), 0);
    ASSERT_EQ(send_tag(s, 2, ADDR_A, 0xca, 0), 0);
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 0xab, 0), 0);
    ASSERT_EQ(send_tag(s, 2, ADDR_C, 0xcc, 0), 0); /* to itself */
    ASSERT_EQ(recv_tag(s, 0, 0), 0xca);
    ASSERT_EQ(recv_tag(s, 0, 0), -1);
    ASSERT_EQ(recv_tag(s, 1, 0), 0xab);
    ASSERT_EQ(recv_tag(s, 1, 0), -1);
    ASSERT_EQ(recv_tag(s, 2, 0), 0xac);
    ASSERT_EQ(recv_tag(s, 2, 0), 0xbc);
    ASSERT_EQ(recv_tag(s, 2, 0), 0xcc);
    ASSERT_EQ(recv_tag(s, 2, 0), -1);
    tw_sim_free(s);
}

/* Each send consumes the same draws whatever its fate: a drop rule does not
 * change the delivery times of the other packets. */
static void delivery_times(uint64_t *out, int n, bool with_rule) {
    tw_sim_cfg cfg = {.delay_ns = MS, .jitter_ns = MS, .loss = 0.2, .corrupt = 0.1};
    tw_sim *s = pair(77, &cfg);
    struct recorder r = {0};
    tw_sim_set_observer(s, record, &r);
    if (with_rule) tw_sim_drop_nth(s, 0, 5);
    for (int i = 0; i < n; i++) {
        out[i] = 0;
        send_tag(s, 0, ADDR_B, (uint32_t)i, (uint64_t)i * 100 * MS);
    }
    while (recv_tag(s, 1, UINT64_MAX - 1) >= 0) {
    }
    for (size_t i = 0; i < r.n; i++)
        if (r.ev[i].ev == TW_SIM_DELIVERED) out[r.ev[i].nth - 1] = r.ev[i].now;
    free(r.ev);
    tw_sim_free(s);
}

TEST(draws_do_not_shift_when_a_packet_is_dropped) {
    uint64_t plain[50], ruled[50];
    delivery_times(plain, 50, false);
    delivery_times(ruled, 50, true);
    for (int i = 0; i < 50; i++) {
        if (i == 4) {
            ASSERT_U64_EQ(ruled[i], 0);
            continue;
        }
        ASSERT_U64_EQ(ruled[i], plain[i]);
    }
}

TEST(small_buffer_truncates_and_bad_args) {
    tw_sim *s = pair(1, NULL);
    tw_link *b = tw_sim_link(s, 1);
    uint8_t buf[8];
    ASSERT_EQ(send_tag(s, 0, ADDR_B, 1, 0), 0);
    ASSERT_EQ(b->ops->recv(b, NULL, 100, 0), -TW_EINVAL);
    ASSERT_EQ(b->ops->recv(b, buf, sizeof buf, 0), 8);
    ASSERT_EQ(tw_sim_in_flight(s), 0);
    b->ops->close(b); /* no-op: the sim owns the link */
    tw_sim_free(s);
    tw_sim_free(NULL);
}

TEST_MAIN()
