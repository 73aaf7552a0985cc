/* test_tcp_opt.c - unit tests for wire/tcp_opt.c: every option-parsing rule
 * with its exact return code, the emitted byte layouts, and emit->parse
 * round trips over all option combinations. */
#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/tcp_hdr.h"

#define OPT_OK(bytes, o) tw_tcp_opts_parse(bytes, sizeof bytes, o)

TEST(opt_empty_and_nops) {
    tw_tcp_opts o;
    memset(&o, 0xee, sizeof o);
    ASSERT_EQ(tw_tcp_opts_parse(NULL, 0, &o), 0);
    ASSERT_FALSE(o.has_mss || o.has_ws || o.sack_ok || o.has_ts);
    ASSERT_EQ(o.nsack, 0);
    static const uint8_t nops[] = {1, 1, 1, 1, 1, 1, 1, 1};
    ASSERT_EQ(OPT_OK(nops, &o), 0);
    ASSERT_FALSE(o.has_mss || o.has_ws || o.sack_ok || o.has_ts);
}

TEST(opt_eol_ends_parsing) {
    tw_tcp_opts o;
    /* After EOL comes garbage (a zero-length MSS) that must not be read. */
    static const uint8_t b[] = {2, 4, 0x05, 0xb4, 0, 2, 0, 0xff};
    ASSERT_EQ(OPT_OK(b, &o), 0);
    ASSERT_TRUE(o.has_mss);
    ASSERT_EQ(o.mss, 1460);
    static const uint8_t only_eol[] = {0, 3, 3, 9};
    ASSERT_EQ(OPT_OK(only_eol, &o), 0);
    ASSERT_FALSE(o.has_ws);
}

TEST(opt_length_zero_and_one) {
    tw_tcp_opts o;
    static const uint8_t mss0[] = {2, 0, 0, 0};
    static const uint8_t mss1[] = {2, 1, 0, 0};
    static const uint8_t unk0[] = {30, 0, 1, 1};
    static const uint8_t unk1[] = {30, 1, 1, 1};
    static const uint8_t after_nop[] = {1, 1, 99, 0};
    ASSERT_EQ(OPT_OK(mss0, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(mss1, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(unk0, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(unk1, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(after_nop, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_missing_length_byte) {
    tw_tcp_opts o;
    static const uint8_t b[] = {1, 1, 1, 2}; /* MSS kind in the last byte */
    ASSERT_EQ(OPT_OK(b, &o), TW_C_DROP_TCP_OPT);
    static const uint8_t u[] = {77};
    ASSERT_EQ(OPT_OK(u, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_runs_past_area) {
    tw_tcp_opts o;
    static const uint8_t mss[] = {1, 2, 4, 0x05}; /* MSS needs 4, 3 left */
    ASSERT_EQ(OPT_OK(mss, &o), TW_C_DROP_TCP_OPT);
    static const uint8_t unk[] = {30, 10, 0, 0, 0, 0, 0, 0}; /* 10 > 8 */
    ASSERT_EQ(OPT_OK(unk, &o), TW_C_DROP_TCP_OPT);
    static const uint8_t ts[] = {1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0}; /* 9 left */
    ASSERT_EQ(OPT_OK(ts, &o), TW_C_DROP_TCP_OPT);
    static const uint8_t exact[] = {30, 8, 0, 0, 0, 0, 0, 0}; /* ends exactly */
    ASSERT_EQ(OPT_OK(exact, &o), 0);
}

TEST(opt_unknown_kinds_skipped) {
    tw_tcp_opts o;
    static const uint8_t b[] = {30,  4, 0xde, 0xad,        /* MPTCP-ish, skipped */
                                254, 2,                    /* experimental, empty */
                                6,   6, 1,    2,    3, 4,  /* obsolete echo */
                                2,   4, 0x05, 0xb4,        /* MSS 1460 */
                                253, 3, 0x2,  1,    1, 1}; /* experiment containing "2" */
    ASSERT_EQ(OPT_OK(b, &o), 0);
    ASSERT_TRUE(o.has_mss);
    ASSERT_EQ(o.mss, 1460);
    ASSERT_FALSE(o.has_ws || o.sack_ok || o.has_ts);
}

TEST(opt_mss) {
    tw_tcp_opts o;
    static const uint8_t ok[] = {2, 4, 0xff, 0xff};
    ASSERT_EQ(OPT_OK(ok, &o), 0);
    ASSERT_TRUE(o.has_mss);
    ASSERT_EQ(o.mss, 0xffff);
    static const uint8_t l3[] = {2, 3, 0x05, 1};
    static const uint8_t l5[] = {2, 5, 0x05, 0xb4, 0, 1, 1, 1};
    static const uint8_t l2[] = {2, 2, 1, 1};
    ASSERT_EQ(OPT_OK(l3, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l5, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l2, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_ws) {
    tw_tcp_opts o;
    static const uint8_t ws7[] = {1, 3, 3, 7};
    ASSERT_EQ(OPT_OK(ws7, &o), 0);
    ASSERT_TRUE(o.has_ws);
    ASSERT_EQ(o.ws, 7);
    static const uint8_t ws0[] = {1, 3, 3, 0};
    ASSERT_EQ(OPT_OK(ws0, &o), 0);
    ASSERT_TRUE(o.has_ws);
    ASSERT_EQ(o.ws, 0);
    static const uint8_t ws14[] = {1, 3, 3, 14};
    ASSERT_EQ(OPT_OK(ws14, &o), 0);
    ASSERT_EQ(o.ws, 14);
    static const uint8_t ws15[] = {1, 3, 3, 15};
    ASSERT_EQ(OPT_OK(ws15, &o), 0);
    ASSERT_EQ(o.ws, 14); /* RFC 7323 §2.3 clamp */
    static const uint8_t ws255[] = {1, 3, 3, 255};
    ASSERT_EQ(OPT_OK(ws255, &o), 0);
    ASSERT_EQ(o.ws, 14);
    static const uint8_t l2[] = {3, 2, 1, 1};
    static const uint8_t l4[] = {3, 4, 7, 0};
    ASSERT_EQ(OPT_OK(l2, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l4, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_sack_ok) {
    tw_tcp_opts o;
    static const uint8_t ok[] = {1, 1, 4, 2};
    ASSERT_EQ(OPT_OK(ok, &o), 0);
    ASSERT_TRUE(o.sack_ok);
    static const uint8_t l3[] = {4, 3, 0, 1};
    static const uint8_t l4[] = {4, 4, 0, 0};
    ASSERT_EQ(OPT_OK(l3, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l4, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_ts) {
    tw_tcp_opts o;
    static const uint8_t ok[] = {1, 1, 8, 10, 0x01, 0x02, 0x03, 0x04, 0xfa, 0xfb, 0xfc, 0xfd};
    ASSERT_EQ(OPT_OK(ok, &o), 0);
    ASSERT_TRUE(o.has_ts);
    ASSERT_EQ(o.tsval, 0x01020304u);
    ASSERT_EQ(o.tsecr, 0xfafbfcfdu);
    static const uint8_t l8[] = {8, 8, 0, 0, 0, 1, 0, 0, 1, 1, 1, 1};
    static const uint8_t l9[] = {8, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1};
    static const uint8_t l11[] = {8, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 1};
    ASSERT_EQ(OPT_OK(l8, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l9, &o), TW_C_DROP_TCP_OPT);
    ASSERT_EQ(OPT_OK(l11, &o), TW_C_DROP_TCP_OPT);
}

TEST(opt_sack_blocks) {
    tw_tcp_opts o;
    uint8_t b[44];
    memset(b, 0, sizeof b);
    /* n = 1..4 are accepted, blocks read in order. */
    for (int n = 1; n <= 4; n++) {
        b[0] = 5;
        b[1] = (uint8_t)(2 + 8 * n);
        for (int i = 0; i < n; i++) {
            b[2 + 8 * i + 3] = (uint8_t)(10 * i + 1); /* left  = 10i+1 */
            b[2 + 8 * i + 7] = (uint8_t)(10 * i + 5); /* right = 10i+5 */
        }
        tw_test_context("n=%d", n);
        ASSERT_EQ(tw_tcp_opts_parse(b, (size_t)(2 + 8 * n), &o), 0);
        ASSERT_EQ(o.nsack, n);
        for (int i = 0; i < n; i++) {
            ASSERT_EQ(o.sack[i].left, 10 * i + 1);
            ASSERT_EQ(o.sack[i].right, 10 * i + 5);
        }
    }
    /* Bad lengths: no block, partial blocks, five blocks. */
    static const uint8_t bad_lens[] = {2, 3, 9, 11, 17, 33, 35, 42};
    for (size_t k = 0; k < sizeof bad_lens; k++) {
        b[0] = 5;
        b[1] = bad_lens[k];
        tw_test_context("len=%u", bad_lens[k]);
        ASSERT_EQ(tw_tcp_opts_parse(b, sizeof b, &o), TW_C_DROP_TCP_OPT);
    }
}

TEST(opt_linux_syn) {
    /* A typical Linux SYN: MSS, SACK_OK, TS, NOP, WS. */
    static const uint8_t b[] = {2,    4,    0x05, 0xb4, 4, 2, 8, 10, 0x00, 0x0b,
                                0xa9, 0x8c, 0,    0,    0, 0, 1, 3,  3,    7};
    tw_tcp_opts o;
    ASSERT_EQ(OPT_OK(b, &o), 0);
    ASSERT_TRUE(o.has_mss && o.has_ws && o.sack_ok && o.has_ts);
    ASSERT_EQ(o.mss, 1460);
    ASSERT_EQ(o.ws, 7);
    ASSERT_EQ(o.tsval, 0x000ba98cu);
    ASSERT_EQ(o.tsecr, 0);
    ASSERT_EQ(o.nsack, 0);
}

TEST(opt_emit_layouts) {
    uint8_t b[40];
    tw_tcp_opts o;

    memset(&o, 0, sizeof o);
    ASSERT_EQ(tw_tcp_opts_emit_len(&o), 0);
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, 0), 0);

    o.has_ts = true;
    o.tsval = 0x11223344u;
    o.tsecr = 0x55667788u;
    static const uint8_t ts[] = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 12);
    ASSERT_MEMEQ(b, ts, 12);

    o.sack_ok = true;
    static const uint8_t sts[] = {4, 2, 8, 10, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 12);
    ASSERT_MEMEQ(b, sts, 12);

    memset(&o, 0, sizeof o);
    o.sack_ok = true;
    static const uint8_t sok[] = {1, 1, 4, 2};
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 4);
    ASSERT_MEMEQ(b, sok, 4);

    memset(&o, 0, sizeof o);
    o.has_mss = true;
    o.mss = 1460;
    o.has_ws = true;
    o.ws = 20; /* clamped on the way out too */
    static const uint8_t mw[] = {2, 4, 0x05, 0xb4, 1, 3, 3, 14};
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 8);
    ASSERT_MEMEQ(b, mw, 8);

    memset(&o, 0, sizeof o);
    o.nsack = 1;
    o.sack[0].left = 0x01020304u;
    o.sack[0].right = 0x05060708u;
    static const uint8_t sk[] = {1, 1, 5, 10, 1, 2, 3, 4, 5, 6, 7, 8};
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 12);
    ASSERT_MEMEQ(b, sk, 12);
}

TEST(opt_emit_full_syn_order) {
    tw_tcp_opts o = {.has_mss = true,
                     .has_ws = true,
                     .sack_ok = true,
                     .has_ts = true,
                     .mss = 536,
                     .ws = 2,
                     .tsval = 1,
                     .tsecr = 0};
    static const uint8_t want[] = {2, 4,  0x02, 0x18, 1, 3, 3, 2, 4, 2,
                                   8, 10, 0,    0,    0, 1, 0, 0, 0, 0};
    uint8_t b[40];
    ASSERT_EQ(tw_tcp_opts_emit_len(&o), 20);
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, sizeof b), 20);
    ASSERT_MEMEQ(b, want, 20);
}

TEST(opt_emit_sack_blocks_limited_by_room) {
    tw_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.nsack = 4;
    ASSERT_EQ(tw_tcp_opts_emit_nsack(&o), 4);
    ASSERT_EQ(tw_tcp_opts_emit_len(&o), 36);
    o.has_ts = true;
    ASSERT_EQ(tw_tcp_opts_emit_nsack(&o), 3); /* RFC 2018 §3: 3 with TS */
    ASSERT_EQ(tw_tcp_opts_emit_len(&o), 40);
    o.has_mss = o.has_ws = true;
    ASSERT_EQ(tw_tcp_opts_emit_nsack(&o), 2);
    ASSERT_EQ(tw_tcp_opts_emit_len(&o), 40);
    o.nsack = 9; /* out of range count: at most 4, then room */
    o.has_mss = o.has_ws = o.has_ts = false;
    ASSERT_EQ(tw_tcp_opts_emit_nsack(&o), 4);
}

TEST(opt_emit_cap_too_small) {
    tw_tcp_opts o = {.has_mss = true, .mss = 1, .has_ts = true};
    uint8_t b[40];
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, 15), -TW_EINVAL);
    ASSERT_EQ(tw_tcp_opts_emit(&o, b, 16), 16);
}

/* Compares what an emit->parse round trip must preserve. */
static void check_opts_equal(const tw_tcp_opts *a, const tw_tcp_opts *b, unsigned nsack) {
    ASSERT_EQ(a->has_mss, b->has_mss);
    if (a->has_mss) ASSERT_EQ(a->mss, b->mss);
    ASSERT_EQ(a->has_ws, b->has_ws);
    if (a->has_ws) ASSERT_EQ(a->ws, b->ws);
    ASSERT_EQ(a->sack_ok, b->sack_ok);
    ASSERT_EQ(a->has_ts, b->has_ts);
    if (a->has_ts) {
        ASSERT_EQ(a->tsval, b->tsval);
        ASSERT_EQ(a->tsecr, b->tsecr);
    }
    ASSERT_EQ(b->nsack, nsack);
    for (unsigned i = 0; i < nsack; i++) {
        ASSERT_EQ(a->sack[i].left, b->sack[i].left);
        ASSERT_EQ(a->sack[i].right, b->sack[i].right);
    }
}

TEST(opt_round_trip_all_combinations) {
    for (unsigned mask = 0; mask < 16; mask++) {
        for (unsigned ns = 0; ns <= TW_TCP_MAX_SACK; ns++) {
            tw_tcp_opts o, p;
            memset(&o, 0, sizeof o);
            o.has_mss = mask & 1;
            o.has_ws = (mask >> 1) & 1;
            o.sack_ok = (mask >> 2) & 1;
            o.has_ts = (mask >> 3) & 1;
            o.mss = o.has_mss ? (uint16_t)(1000 + mask) : 0;
            o.ws = o.has_ws ? (uint8_t)(mask % (TW_TCP_MAX_WS + 1)) : 0;
            o.tsval = o.has_ts ? 0xfffffff0u + ns : 0;
            o.tsecr = o.has_ts ? 0x80000000u | mask : 0;
            o.nsack = (uint8_t)ns;
            for (unsigned i = 0; i < ns; i++) {
                o.sack[i].left = 0xfffffff0u + 100 * i;
                o.sack[i].right = o.sack[i].left + 50;
            }
            uint8_t b[40];
            tw_test_context("mask=%u nsack=%u", mask, ns);
            int n = tw_tcp_opts_emit(&o, b, sizeof b);
            ASSERT_EQ(n, (int)tw_tcp_opts_emit_len(&o));
            ASSERT_EQ(n % 4, 0);
            ASSERT_CMP(n, <=, 40);
            ASSERT_EQ(tw_tcp_opts_parse(b, (size_t)n, &p), 0);
            check_opts_equal(&o, &p, tw_tcp_opts_emit_nsack(&o));
        }
    }
}

TEST_MAIN()
