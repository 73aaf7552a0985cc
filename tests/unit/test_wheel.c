/* test_wheel.c - tw_wheel: hand-written cases (exact next, cancel, re-arm,
 * past expiries, far-future overflow, count) and long random runs checked
 * against a brute-force model, with the wheel's invariants (wheel.h W1-W6,
 * W6's min cache included) verified structurally along the way. */
#include "test.h"
#include "util/rng.h"
#include "util/wheel.h"

/* ---- structural invariant check ---------------------------------------- */

static size_t check_list(const tw_wheel_list *l, uint32_t where) {
    size_t n = 0;
    const tw_wheel_entry *prev = NULL;
    for (const tw_wheel_entry *e = l->head; e; prev = e, e = e->next) {
        ASSERT_TRUE(e->prev == prev);
        ASSERT_EQ(e->where, where);
        n++;
    }
    ASSERT_TRUE(l->tail == prev);
    return n;
}

/* The smaller of m and every expiry on l. */
static tw_time_t list_min(const tw_wheel_list *l, tw_time_t m) {
    for (const tw_wheel_entry *e = l->head; e; e = e->next)
        if (e->expiry < m) m = e->expiry;
    return m;
}

static void check_wheel(tw_wheel *w) {
    size_t total = check_list(&w->due, TW_WHEEL_DUE);
    for (const tw_wheel_entry *e = w->due.head; e; e = e->next)
        ASSERT_TRUE(e->expiry <= w->now); /* W2 */
    total += check_list(&w->overflow, TW_WHEEL_OVERFLOW);
    for (const tw_wheel_entry *e = w->overflow.head; e; e = e->next) {
        ASSERT_TRUE(e->expiry > w->now); /* W4 */
        ASSERT_TRUE((e->expiry ^ w->now) >> (TW_WHEEL_BITS * TW_WHEEL_LEVELS) != 0);
    }
    for (unsigned L = 0; L < TW_WHEEL_LEVELS; L++) {
        for (unsigned s = 0; s < TW_WHEEL_SLOTS; s++) {
            const tw_wheel_list *l = &w->slot[L][s];
            size_t n = check_list(l, TW_WHEEL_SLOT0 + L * TW_WHEEL_SLOTS + s);
            ASSERT_EQ((w->occ[L] >> s) & 1, n > 0); /* W5 */
            total += n;
            for (const tw_wheel_entry *e = l->head; e; e = e->next) {
                uint64_t diff = e->expiry ^ w->now; /* W3 */
                ASSERT_TRUE(e->expiry > w->now);
                ASSERT_EQ((63 - __builtin_clzll(diff)) / TW_WHEEL_BITS, L);
                ASSERT_EQ((e->expiry >> (L * TW_WHEEL_BITS)) & (TW_WHEEL_SLOTS - 1), s);
            }
        }
    }
    ASSERT_EQ(total, w->count); /* W6 */
    if (w->min_valid) {         /* W6: a valid cache holds the exact minimum */
        tw_time_t m = list_min(&w->due, list_min(&w->overflow, TW_TIME_NEVER));
        for (unsigned L = 0; L < TW_WHEEL_LEVELS; L++)
            for (unsigned s = 0; s < TW_WHEEL_SLOTS; s++) m = list_min(&w->slot[L][s], m);
        ASSERT_U64_EQ(w->min_cache, m);
    }
}

/* ---- hand-written cases ------------------------------------------------- */

TEST(wheel_empty) {
    tw_wheel w;
    tw_wheel_init(&w, 1000);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_TIME_NEVER);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(100)) == NULL);
    ASSERT_EQ(tw_wheel_count(&w), 0);
    ASSERT_U64_EQ(tw_wheel_now(&w), TW_SEC(100));
    check_wheel(&w);
}

TEST(wheel_time_helpers) {
    ASSERT_U64_EQ(TW_US(3), 3000);
    ASSERT_U64_EQ(TW_MS(3), 3000000);
    ASSERT_U64_EQ(TW_SEC(3), 3000000000ull);
    ASSERT_U64_EQ(TW_SEC(5000000000ull), 5000000000ull * 1000000000ull);
}

TEST(wheel_exact_next_after_arms) {
    tw_wheel w;
    tw_wheel_init(&w, TW_MS(5));
    tw_wheel_entry e[6];
    for (int i = 0; i < 6; i++) tw_wheel_entry_init(&e[i]);
    tw_time_t at[6] = {TW_SEC(60) + 17, TW_MS(200) + 3, TW_MS(200) + 1,
                       TW_MS(7) + 999,  TW_MS(5) + 1,   TW_SEC(3600)};
    tw_time_t want[6] = {TW_SEC(60) + 17, TW_MS(200) + 3, TW_MS(200) + 1,
                         TW_MS(7) + 999,  TW_MS(5) + 1,   TW_MS(5) + 1};
    for (int i = 0; i < 6; i++) {
        tw_wheel_arm(&w, &e[i], at[i]);
        ASSERT_U64_EQ(tw_wheel_next(&w), want[i]);
        check_wheel(&w);
    }
    /* Not due a nanosecond early; due exactly on time. */
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(5)) == NULL);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(5) + 1) == &e[4]);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(5) + 1) == NULL);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(7) + 999);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(7) + 998) == NULL);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(7) + 999);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(7) + 999) == &e[3]);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(200) + 1);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(200) + 2) == &e[2]);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(200) + 2) == NULL);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(200) + 3);
    check_wheel(&w);
    ASSERT_EQ(tw_wheel_count(&w), 3);
}

TEST(wheel_cancel_unarmed_is_noop) {
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_wheel_entry a, b;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_cancel(&w, &a);
    ASSERT_FALSE(tw_wheel_armed(&a));
    tw_wheel_arm(&w, &b, 50);
    tw_wheel_cancel(&w, &a);
    ASSERT_EQ(tw_wheel_count(&w), 1);
    tw_wheel_cancel(&w, &b);
    tw_wheel_cancel(&w, &b);
    ASSERT_FALSE(tw_wheel_armed(&b));
    ASSERT_EQ(tw_wheel_count(&w), 0);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_TIME_NEVER);
    ASSERT_TRUE(tw_wheel_pop_due(&w, 100) == NULL);
    check_wheel(&w);
}

TEST(wheel_rearm_moves) {
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_wheel_entry a, b;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_arm(&w, &a, TW_MS(10));
    tw_wheel_arm(&w, &b, TW_MS(20));
    tw_wheel_arm(&w, &a, TW_MS(30)); /* later: b is now first */
    ASSERT_EQ(tw_wheel_count(&w), 2);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(20));
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(25)) == &b);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(25)) == NULL);
    tw_wheel_arm(&w, &a, TW_MS(26)); /* earlier again */
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_MS(26));
    tw_wheel_arm(&w, &a, TW_MS(26)); /* same time: still one entry */
    ASSERT_EQ(tw_wheel_count(&w), 1);
    check_wheel(&w);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(26)) == &a);
    ASSERT_FALSE(tw_wheel_armed(&a));
    /* Re-arming a due (not yet popped) entry into the future un-dues it. */
    tw_wheel_arm(&w, &a, TW_MS(27));
    tw_wheel_advance(&w, TW_MS(28));
    tw_wheel_arm(&w, &a, TW_MS(40));
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(39)) == NULL);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_MS(40)) == &a);
}

/* tw_wheel_arm() moves an armed entry without a detach: the cached minimum
 * must follow when the moved entry held it, shared it, or undercuts it. */
TEST(wheel_rearm_keeps_min_exact) {
    tw_wheel w;
    tw_wheel_init(&w, TW_SEC(30));
    tw_wheel_entry a, b, c;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_entry_init(&c);
    tw_wheel_arm(&w, &a, TW_SEC(31));
    tw_wheel_arm(&w, &a, TW_SEC(30) + TW_MS(200)); /* the only entry, moved earlier */
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(30) + TW_MS(200));
    tw_wheel_arm(&w, &a, TW_SEC(31)); /* and later */
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(31));
    tw_wheel_arm(&w, &b, TW_SEC(31)); /* b shares the minimum */
    check_wheel(&w);
    tw_wheel_arm(&w, &a, TW_SEC(32)); /* a leaves it: b still holds it */
    check_wheel(&w);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(31));
    tw_wheel_arm(&w, &b, TW_SEC(33)); /* the minimum moves up to a */
    check_wheel(&w);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(32));
    tw_wheel_arm(&w, &c, TW_SEC(40));
    tw_wheel_arm(&w, &c, TW_SEC(30) + 5); /* a later entry undercuts the minimum */
    check_wheel(&w);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(30) + 5);
    tw_wheel_arm(&w, &c, TW_SEC(29)); /* into the past: due at once */
    check_wheel(&w);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(29));
    tw_wheel_arm(&w, &c, TW_SEC(34)); /* out of due again */
    check_wheel(&w);
    ASSERT_U64_EQ(tw_wheel_next(&w), TW_SEC(32));
    ASSERT_EQ(tw_wheel_count(&w), 3);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(32)) == &a);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(32)) == NULL);
    check_wheel(&w);
}

TEST(wheel_past_expiry_due_at_once) {
    tw_wheel w;
    tw_wheel_init(&w, TW_SEC(10));
    tw_wheel_entry a, b, c;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_entry_init(&c);
    tw_wheel_arm(&w, &a, 5);
    tw_wheel_arm(&w, &b, TW_SEC(10)); /* == now is due too */
    tw_wheel_arm(&w, &c, 0);
    ASSERT_U64_EQ(tw_wheel_next(&w), 0);
    check_wheel(&w);
    tw_wheel_entry *p1 = tw_wheel_pop_due(&w, TW_SEC(10));
    tw_wheel_entry *p2 = tw_wheel_pop_due(&w, TW_SEC(10));
    tw_wheel_entry *p3 = tw_wheel_pop_due(&w, TW_SEC(10));
    ASSERT_TRUE(p1 && p2 && p3);
    ASSERT_TRUE(p1 != p2 && p2 != p3 && p1 != p3);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(10)) == NULL);
}

TEST(wheel_clock_going_back) {
    /* pop_due with a now earlier than the wheel's time returns only entries
     * due by that earlier now. */
    tw_wheel w;
    tw_wheel_init(&w, 100);
    tw_wheel_entry a, b;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_arm(&w, &a, 90);
    tw_wheel_arm(&w, &b, 50);
    ASSERT_TRUE(tw_wheel_pop_due(&w, 60) == &b);
    ASSERT_TRUE(tw_wheel_pop_due(&w, 60) == NULL);
    ASSERT_U64_EQ(tw_wheel_now(&w), 100);
    ASSERT_TRUE(tw_wheel_pop_due(&w, 95) == &a);
}

TEST(wheel_far_future_overflow) {
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_wheel_entry a, b, c;
    tw_wheel_entry_init(&a);
    tw_wheel_entry_init(&b);
    tw_wheel_entry_init(&c);
    tw_time_t span = (tw_time_t)1 << (TW_WHEEL_BITS * TW_WHEEL_LEVELS);
    tw_wheel_arm(&w, &a, span + 12345); /* just beyond the top level */
    tw_wheel_arm(&w, &b, 5 * span + 7); /* far beyond */
    tw_wheel_arm(&w, &c, TW_TIME_NEVER - 1);
    ASSERT_EQ(a.where, TW_WHEEL_OVERFLOW);
    ASSERT_EQ(b.where, TW_WHEEL_OVERFLOW);
    ASSERT_U64_EQ(tw_wheel_next(&w), span + 12345);
    check_wheel(&w);
    /* Step toward it: it comes back from overflow into the levels. */
    ASSERT_TRUE(tw_wheel_pop_due(&w, span) == NULL);
    ASSERT_TRUE(a.where >= TW_WHEEL_SLOT0);
    check_wheel(&w);
    ASSERT_TRUE(tw_wheel_pop_due(&w, span + 12344) == NULL);
    ASSERT_TRUE(tw_wheel_pop_due(&w, span + 12345) == &a);
    ASSERT_U64_EQ(tw_wheel_next(&w), 5 * span + 7);
    /* One huge jump past b. */
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_TIME_NEVER - 2) == &b);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_TIME_NEVER - 2) == NULL);
    check_wheel(&w);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_TIME_NEVER) == &c);
    ASSERT_EQ(tw_wheel_count(&w), 0);
}

TEST(wheel_count) {
    tw_wheel w;
    tw_wheel_init(&w, 0);
    tw_wheel_entry e[100];
    for (int i = 0; i < 100; i++) {
        tw_wheel_entry_init(&e[i]);
        tw_wheel_arm(&w, &e[i], (tw_time_t)(i + 1) * TW_MS(3));
    }
    ASSERT_EQ(tw_wheel_count(&w), 100);
    for (int i = 0; i < 100; i += 2) tw_wheel_cancel(&w, &e[i]);
    ASSERT_EQ(tw_wheel_count(&w), 50);
    for (int i = 1; i < 100; i += 2) tw_wheel_arm(&w, &e[i], TW_SEC(1)); /* re-arm */
    ASSERT_EQ(tw_wheel_count(&w), 50);
    int popped = 0;
    while (tw_wheel_pop_due(&w, TW_SEC(1))) popped++;
    ASSERT_EQ(popped, 50);
    ASSERT_EQ(tw_wheel_count(&w), 0);
    check_wheel(&w);
}

TEST(wheel_due_order_follows_slots) {
    /* Entries made due by one jump come out level by level, slot by slot.
     * With one entry per slot (expiry s << 6L) that is exactly by expiry,
     * whatever order they were armed in. */
    tw_wheel w;
    tw_wheel_init(&w, 0);
    enum { N = 5 * 63 };
    tw_wheel_entry e[N];
    for (int i = 0; i < N; i++) tw_wheel_entry_init(&e[i]);
    for (int j = 0; j < N; j++) {
        int i = (j * 97) % N; /* 97 is coprime with 315: a permutation */
        tw_time_t x = (tw_time_t)(i % 63 + 1) << (TW_WHEEL_BITS * (i / 63));
        tw_wheel_arm(&w, &e[i], x);
    }
    check_wheel(&w);
    for (int i = 0; i < N; i++) ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(1000)) == &e[i]);
    ASSERT_TRUE(tw_wheel_pop_due(&w, TW_SEC(1000)) == NULL);
}

/* ---- random runs against a brute-force model ---------------------------- */

#define NENT 256

struct model {
    bool armed[NENT];
    tw_time_t exp[NENT];
};

static tw_time_t model_min(const struct model *m) {
    tw_time_t best = TW_TIME_NEVER;
    for (int i = 0; i < NENT; i++)
        if (m->armed[i] && m->exp[i] < best) best = m->exp[i];
    return best;
}

static tw_time_t sat_add(tw_time_t a, tw_time_t b) {
    return a > TW_TIME_NEVER - b ? TW_TIME_NEVER : a + b;
}

/* A random delay: none, nanoseconds, around a millisecond, seconds, a
 * minute, beyond the wheel's span, or anything at all. */
static tw_time_t random_delay(tw_rng *g) {
    switch (tw_rng_below(g, 10)) {
    case 0: return 0;
    case 1: return tw_rng_below(g, 64);
    case 2: return tw_rng_below(g, 5000);
    case 3: return tw_rng_below(g, TW_MS(3));
    case 4: return tw_rng_below(g, TW_MS(250));
    case 5: return tw_rng_below(g, TW_SEC(5));
    case 6: return TW_SEC(60) + tw_rng_below(g, 3);
    case 7: return tw_rng_below(g, (tw_time_t)1 << 50);
    case 8: return tw_rng_below(g, (tw_time_t)1 << 56);
    default: return tw_rng_next(g) >> tw_rng_below(g, 64);
    }
}

struct run_stats {
    long pops, arms, cancels, advances;
    uint64_t trace;
};

static void wheel_random_run(uint64_t seed, tw_time_t start, int ops, struct run_stats *st) {
    tw_rng g;
    tw_rng_seed(&g, seed);
    static tw_wheel w;
    static tw_wheel_entry e[NENT];
    static struct model m;
    tw_wheel_init(&w, start);
    memset(&m, 0, sizeof m);
    for (int i = 0; i < NENT; i++) tw_wheel_entry_init(&e[i]);
    tw_time_t now = start;
    tw_test_context("seed=%llu start=%llu", (unsigned long long)seed, (unsigned long long)start);
    for (int op = 0; op < ops; op++) {
        uint64_t kind = tw_rng_below(&g, 100);
        int i = (int)tw_rng_below(&g, NENT);
        if (kind < 45) { /* arm or re-arm, occasionally into the past */
            tw_time_t x = sat_add(now, random_delay(&g));
            if (tw_rng_chance(&g, 0.05)) x = now - (now < 1000 ? now : tw_rng_below(&g, 1000));
            tw_wheel_arm(&w, &e[i], x);
            m.armed[i] = true;
            m.exp[i] = x;
            st->arms++;
        } else if (kind < 65) {
            tw_wheel_cancel(&w, &e[i]);
            m.armed[i] = false;
            st->cancels++;
        } else if (kind < 70) {
            /* Jump straight to the next deadline, as an event loop would. */
            tw_time_t nx = tw_wheel_next(&w);
            if (nx != TW_TIME_NEVER && nx > now) now = nx;
        } else if (kind < 72) {
            /* A clock reading from the past: only entries due by then. */
            tw_time_t back = now - (now < TW_MS(1) ? now : tw_rng_below(&g, TW_MS(1)));
            tw_wheel_entry *p = tw_wheel_pop_due(&w, back);
            if (p) {
                int k = (int)(p - e);
                ASSERT_TRUE(m.armed[k] && m.exp[k] <= back);
                m.armed[k] = false;
                st->pops++;
            }
        } else if (kind < 90) {
            now = sat_add(now, random_delay(&g));
            st->advances++;
        }
        /* Pop due entries: all of them usually, sometimes only a few. */
        int limit = tw_rng_chance(&g, 0.2) ? (int)tw_rng_below(&g, 3) : NENT + 1;
        tw_wheel_entry *p = NULL;
        int n = 0;
        while (n < limit && (p = tw_wheel_pop_due(&w, now)) != NULL) {
            int k = (int)(p - e);
            ASSERT_TRUE(k >= 0 && k < NENT);
            ASSERT_TRUE(m.armed[k]);
            ASSERT_TRUE(m.exp[k] <= now);
            ASSERT_FALSE(tw_wheel_armed(p));
            m.armed[k] = false;
            st->pops++;
            st->trace = st->trace * 1000003u + (uint64_t)k;
            n++;
        }
        if (n < limit) {
            /* Nothing left due: every model entry is in the future. */
            for (int k = 0; k < NENT; k++) ASSERT_FALSE(m.armed[k] && m.exp[k] <= now);
        }
        ASSERT_U64_EQ(tw_wheel_next(&w), model_min(&m));
        size_t cnt = 0;
        for (int k = 0; k < NENT; k++) {
            cnt += m.armed[k];
            ASSERT_EQ(tw_wheel_armed(&e[k]), m.armed[k]);
        }
        ASSERT_EQ(tw_wheel_count(&w), cnt);
        if (op % 97 == 0) check_wheel(&w);
    }
    check_wheel(&w);
}

TEST(wheel_random_vs_model_100k) {
    struct run_stats st = {0};
    wheel_random_run(1, 0, 100000, &st);
    ASSERT_CMP(st.pops, >, 10000);
    ASSERT_CMP(st.cancels, >, 10000);
}

TEST(wheel_random_vs_model_many_seeds) {
    /* Start times at zero, just below level and overflow boundaries, and
     * at random points, so cascades and overflow re-placement all occur. */
    tw_time_t span = (tw_time_t)1 << (TW_WHEEL_BITS * TW_WHEEL_LEVELS);
    for (uint64_t seed = 2; seed < 42; seed++) {
        struct run_stats st = {0};
        tw_rng g;
        tw_rng_seed(&g, seed * 7919);
        tw_time_t start;
        switch (seed % 4) {
        case 0: start = 0; break;
        case 1: start = span - 1 - tw_rng_below(&g, 100); break;
        case 2: start = ((tw_time_t)1 << (6 * (1 + tw_rng_below(&g, 7)))) - 1; break;
        default: start = tw_rng_next(&g) >> 4; break;
        }
        wheel_random_run(seed, start, 10000, &st);
    }
}

TEST(wheel_random_is_deterministic) {
    struct run_stats a = {0}, b = {0};
    wheel_random_run(77, 12345, 20000, &a);
    wheel_random_run(77, 12345, 20000, &b);
    ASSERT_U64_EQ(a.trace, b.trace);
    ASSERT_EQ(a.pops, b.pops);
}

TEST_MAIN()
