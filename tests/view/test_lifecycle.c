/* test_lifecycle.c - the close reason and dwell times of each side of each
 * demo scenario, folded from its trace (src/view/lifecycle.h), and the
 * reasons that no scenario reaches (timeouts, reuse, open), from
 * hand-written events. */
#include <stdlib.h>

#include "capture.h"
#include "test.h"
#include "util/time.h"

typedef struct sides {
    tw_vev_list evs;
    tw_lc lc;
    const tw_lc_half *h[2]; /* client, server */
} sides;

static void run(int id, sides *s) {
    tw_vev_list_init(&s->evs);
    tw_lc_init(&s->lc);
    tw_test_context("scenario %s", tw_scn_name(id));
    ASSERT_EQ(capture_scenario(id, 1, 0, &s->evs, NULL), 0);
    for (size_t i = 0; i < s->evs.n; i++) ASSERT_EQ(tw_lc_feed(&s->lc, &s->evs.v[i]), 0);
    tw_vindex ix;
    ASSERT_EQ(tw_vindex_build(s->evs.v, s->evs.n, &ix), 0);
    ASSERT_EQ(ix.nc, 1); /* one connection, both sides traced */
    for (int k = 0; k < 2; k++) {
        int h = ix.c[0].half[k];
        ASSERT_TRUE(h >= 0);
        ASSERT_EQ(ix.h[h].host, k); /* the client (host 0) is the active opener, on the left */
        s->h[k] = tw_lc_find(&s->lc, ix.h[h].host, ix.h[h].conn_id);
        ASSERT_TRUE(s->h[k] != NULL);
    }
    tw_vindex_free(&ix);
}

static void done(sides *s) {
    tw_lc_free(&s->lc);
    tw_vev_list_free(&s->evs);
}

static void expect(int id, int client, int server, const char *conn_text) {
    sides s;
    run(id, &s);
    char buf[256];
    ASSERT_STREQ(tw_close_reason_name(s.h[0]->reason), tw_close_reason_name(client));
    ASSERT_STREQ(tw_close_reason_name(s.h[1]->reason), tw_close_reason_name(server));
    ASSERT_STREQ(tw_lc_conn_text(s.h[0], s.h[1], "client", "server", buf, sizeof buf), conn_text);
    ASSERT_EQ(s.h[0]->state, TW_CLOSED);
    ASSERT_EQ(s.h[1]->state, TW_CLOSED);
    done(&s);
}

TEST(client_close) {
    expect(TW_SCN_CLIENT_CLOSE, TW_CR_ACTIVE, TW_CR_PASSIVE, "four-way close, client closed first");
}
TEST(server_close) {
    expect(TW_SCN_SERVER_CLOSE, TW_CR_PASSIVE, TW_CR_ACTIVE, "four-way close, server closed first");
}
TEST(three_way) {
    expect(TW_SCN_THREE_WAY, TW_CR_ACTIVE, TW_CR_PASSIVE,
           "three-way close (FIN+ACK merged), client closed first");
}
TEST(simultaneous) {
    expect(TW_SCN_SIMULTANEOUS, TW_CR_SIMULTANEOUS, TW_CR_SIMULTANEOUS,
           "simultaneous close: both sent FIN before receiving the other's");
}
TEST(half_close) {
    expect(TW_SCN_HALF_CLOSE, TW_CR_ACTIVE, TW_CR_PASSIVE, "four-way close, client closed first");
}
TEST(lost_final_ack) {
    expect(TW_SCN_LOST_FINAL_ACK, TW_CR_ACTIVE, TW_CR_PASSIVE,
           "four-way close, client closed first");
}
TEST(abort) {
    expect(TW_SCN_ABORT, TW_CR_ABORT_SENT, TW_CR_RESET_RECEIVED,
           "client reset the connection (abort sent); server: reset received");
}
TEST(unread_data) {
    expect(TW_SCN_UNREAD_DATA, TW_CR_UNREAD_RST, TW_CR_RESET_RECEIVED,
           "client reset the connection (RST on close with unread data); server: reset received");
}

TEST(reason_texts_name_the_state) {
    sides s;
    char buf[256];
    run(TW_SCN_ABORT, &s);
    ASSERT_STREQ(tw_lc_reason_text(s.h[0], buf, sizeof buf),
                 "abort sent: RST from ESTABLISHED, no TIME_WAIT");
    ASSERT_STREQ(tw_lc_reason_text(s.h[1], buf, sizeof buf), "reset received in ESTABLISHED");
    done(&s);
}

TEST(dwell_times_of_the_four_way_close) {
    sides s;
    run(TW_SCN_CLIENT_CLOSE, &s);
    const tw_lc_half *c = s.h[0], *v = s.h[1];
    ASSERT_U64_EQ(c->dwell[TW_SYN_SENT], TW_MS(2));
    ASSERT_U64_EQ(c->dwell[TW_FIN_WAIT_1], TW_MS(2));
    ASSERT_U64_EQ(c->dwell[TW_FIN_WAIT_2], TW_MS(50));
    ASSERT_U64_EQ(c->dwell[TW_TIME_WAIT], TW_SEC(60)); /* 2MSL with the default MSL of 30 s */
    ASSERT_U64_EQ(v->dwell[TW_CLOSE_WAIT], TW_MS(50));
    ASSERT_U64_EQ(v->dwell[TW_LAST_ACK], TW_MS(2));
    static const uint8_t path[] = {TW_CLOSED,     TW_SYN_SENT,  TW_ESTABLISHED, TW_FIN_WAIT_1,
                                   TW_FIN_WAIT_2, TW_TIME_WAIT, TW_CLOSED};
    ASSERT_EQ(c->npath, sizeof path);
    ASSERT_MEMEQ(c->path, path, sizeof path);
    ASSERT_EQ(v->path[0], TW_LISTEN); /* the passive side starts from its listener */
    ASSERT_EQ(c->segs_out, 5);
    ASSERT_EQ(v->segs_out, 4);
    done(&s);
}

TEST(lost_final_ack_restarts_time_wait_and_counts_the_retransmission) {
    sides s;
    run(TW_SCN_LOST_FINAL_ACK, &s);
    ASSERT_U64_EQ(s.h[0]->dwell[TW_TIME_WAIT], TW_SEC(61)); /* re-ACK at +1 s restarted 2MSL */
    ASSERT_EQ(s.h[1]->retrans, 1);
    ASSERT_CMP(s.h[1]->dwell[TW_LAST_ACK], >, TW_SEC(1));
    done(&s);
}

/* ---- reasons from hand-written events ---- */

static tw_vev state_ev(uint64_t t, uint32_t conn, int from, int to, int cause) {
    tw_trace_ev e;
    memset(&e, 0, sizeof e);
    e.t = t;
    e.conn_id = conn;
    e.kind = TW_EV_STATE;
    e.old_state = (uint8_t)from;
    e.new_state = (uint8_t)to;
    e.cause = (uint8_t)cause;
    tw_vev v;
    tw_vev_make(&v, 0, "h", &e);
    return v;
}

static const tw_lc_half *fold(tw_lc *lc, const tw_vev *evs, size_t n) {
    tw_lc_init(lc);
    for (size_t i = 0; i < n; i++) ASSERT_EQ(tw_lc_feed(lc, &evs[i]), 0);
    return tw_lc_find(lc, 0, 9);
}

TEST(timeout_in_state_x) {
    tw_vev evs[] = {state_ev(0, 9, TW_CLOSED, TW_SYN_SENT, TW_CAUSE_USER_CONNECT),
                    state_ev(TW_SEC(127), 9, TW_SYN_SENT, TW_CLOSED, TW_CAUSE_TIMEOUT_RETRANSMIT)};
    tw_lc lc;
    const tw_lc_half *h = fold(&lc, evs, 2);
    char buf[200];
    ASSERT_EQ(h->reason, TW_CR_TIMEOUT);
    ASSERT_STREQ(tw_lc_reason_text(h, buf, sizeof buf),
                 "timeout in state SYN_SENT: retransmissions exhausted");
    ASSERT_U64_EQ(h->dwell[TW_SYN_SENT], TW_SEC(127));
    tw_lc_free(&lc);
}

TEST(fin_wait_2_timeout_reuse_and_still_open) {
    char buf[200];
    tw_lc lc;
    tw_vev a[] = {state_ev(0, 9, TW_ESTABLISHED, TW_FIN_WAIT_1, TW_CAUSE_USER_CLOSE),
                  state_ev(10, 9, TW_FIN_WAIT_1, TW_FIN_WAIT_2, TW_CAUSE_RCV_ACK_OF_FIN),
                  state_ev(70, 9, TW_FIN_WAIT_2, TW_CLOSED, TW_CAUSE_TIMEOUT_FIN_WAIT_2)};
    ASSERT_STREQ(tw_lc_reason_text(fold(&lc, a, 3), buf, sizeof buf),
                 "timeout in state FIN_WAIT_2: FIN_WAIT_2 timer");
    tw_lc_free(&lc);
    tw_vev b[] = {state_ev(0, 9, TW_FIN_WAIT_2, TW_TIME_WAIT, TW_CAUSE_RCV_FIN),
                  state_ev(5, 9, TW_TIME_WAIT, TW_CLOSED, TW_CAUSE_TW_REUSE)};
    ASSERT_EQ(fold(&lc, b, 2)->reason, TW_CR_ACTIVE_REUSED);
    tw_lc_free(&lc);
    tw_vev c[] = {state_ev(0, 9, TW_SYN_RECEIVED, TW_ESTABLISHED, TW_CAUSE_RCV_ACK),
                  state_ev(3, 9, TW_ESTABLISHED, TW_CLOSE_WAIT, TW_CAUSE_RCV_FIN)};
    const tw_lc_half *h = fold(&lc, c, 2);
    ASSERT_EQ(h->reason, TW_CR_OPEN);
    ASSERT_STREQ(tw_lc_reason_text(h, buf, sizeof buf),
                 "still open: in CLOSE_WAIT at the end of the trace");
    tw_lc_free(&lc);
}

TEST(events_without_conn_id_are_ignored) {
    tw_vev evs[] = {state_ev(0, 0, TW_CLOSED, TW_LISTEN, TW_CAUSE_USER_LISTEN)};
    tw_lc lc;
    tw_lc_init(&lc);
    ASSERT_EQ(tw_lc_feed(&lc, &evs[0]), 0);
    ASSERT_EQ(lc.n, 0);
    tw_lc_free(&lc);
}

TEST(durations_are_exact) {
    char b[40];
    ASSERT_STREQ(tw_lc_dur(850, b, sizeof b), "850 ns");
    ASSERT_STREQ(tw_lc_dur(1500, b, sizeof b), "1.500 us");
    ASSERT_STREQ(tw_lc_dur(TW_MS(2), b, sizeof b), "2.000 ms");
    ASSERT_STREQ(tw_lc_dur(TW_SEC(60) + TW_US(7), b, sizeof b), "60.000007 s");
}

TEST_MAIN()
