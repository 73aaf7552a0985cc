/* test_batch.c - several packets fed before any ACK goes out (RFC 9293
 * §3.10.7.4, MUST-58/MUST-59): tw_stack_input_deferred() holds each
 * connection's output until the next tw_stack_poll(), which answers the whole
 * batch with one ACK. The same packets through tw_stack_input() show the
 * difference: an ACK per packet that owes one at once. */
#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/time.h"

#define MSS 1460 /* the MSS of sx_passive_open()'s SYN */

/* Feeds n segments of `len` bytes at c->rcv + first[i] * len, all at one
 * instant, deferred or not, then polls. Returns the segments sent. */
static size_t feed(sx *x, sx_conn *c, const uint32_t *first, size_t n, uint32_t len, bool deferred,
                   uint8_t last_flags) {
    static char data[MSS];
    size_t before = sx_nsent(x);
    for (size_t i = 0; i < n; i++) {
        uint8_t fl = TW_TH_ACK | (i + 1 == n ? last_flags : 0);
        sx_seg d = sx_mk(40000, 80, fl, c->rcv + first[i] * len, c->snd);
        d.data = data;
        d.len = len;
        int rc = deferred ? sx_input_deferred(x, x->now, &d) : sx_input(x, x->now, &d);
        ASSERT_EQ(rc, 0);
        if (deferred) ASSERT_EQ(sx_nsent(x), before); /* nothing leaves before the poll */
    }
    sx_poll(x, x->now);
    return sx_nsent(x) - before;
}

static void open_conn(sx *x, sx_conn *c, size_t *cur) {
    sx_init(x, NULL);
    int l = sx_listen(x, 80, 4);
    sx_passive_open(x, c, l, 80, 40000, 1000, cur);
}

TEST(batch_of_out_of_order_segments_gets_one_ack) {
    /* Three segments beyond a hole: each owes an immediate duplicate ACK
     * (MAY-13) when fed alone; fed as a batch, one ACK answers them. */
    static const uint32_t at[3] = {1, 2, 3};
    for (int deferred = 0; deferred <= 1; deferred++) {
        sx x;
        sx_conn c;
        size_t cur = 0;
        open_conn(&x, &c, &cur);
        cur = sx_nsent(&x);
        size_t sent = feed(&x, &c, at, 3, 100, deferred, 0);
        ASSERT_EQ(sent, deferred ? 1u : 3u);
        for (size_t i = 0; i < sent; i++) SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
        /* The hole fills: everything is acknowledged at once. */
        static const uint32_t hole[1] = {0};
        ASSERT_EQ(feed(&x, &c, hole, 1, 100, deferred, 0), 1u);
        SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv + 400, 0);
        sx_free(&x);
    }
}

TEST(batch_of_full_segments_gets_one_ack) {
    /* Four full-sized segments in order: fed alone, every second one is
     * acknowledged at once (SHLD-19); as a batch, one ACK covers all four. */
    static const uint32_t at[4] = {0, 1, 2, 3};
    for (int deferred = 0; deferred <= 1; deferred++) {
        sx x;
        sx_conn c;
        size_t cur = 0;
        open_conn(&x, &c, &cur);
        cur = sx_nsent(&x);
        size_t sent = feed(&x, &c, at, 4, MSS, deferred, 0);
        if (deferred) {
            ASSERT_EQ(sent, 1u);
            SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv + 4 * MSS, 0);
        } else {
            ASSERT_EQ(sent, 2u);
            SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv + 2 * MSS, 0);
            SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv + 4 * MSS, 0);
        }
        tw__stack_check(x.st);
        sx_free(&x);
    }
}

TEST(batch_ending_in_fin_gets_one_ack_for_data_and_fin) {
    /* Two full segments, the second with FIN: one ACK for the data and the
     * FIN, and the connection is in CLOSE_WAIT; fed alone, the first
     * segment's data is held for the delayed ACK and the FIN is acknowledged
     * at once, so also one ACK, here covering the same. */
    static const uint32_t at[2] = {0, 1};
    sx x;
    sx_conn c;
    size_t cur = 0;
    open_conn(&x, &c, &cur);
    cur = sx_nsent(&x);
    ASSERT_EQ(feed(&x, &c, at, 2, MSS, true, TW_TH_FIN), 1u);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv + 2 * MSS + 1, 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c.sock, &info), 0);
    ASSERT_EQ(info.state, TW_CLOSE_WAIT);
    sx_free(&x);
}

TEST(deferred_output_is_due_now) {
    /* A deferred ACK is work for the poll: the next deadline is now, so a
     * driver sleeping until tw_stack_next_deadline() cannot forget it. */
    sx x;
    sx_conn c;
    size_t cur = 0;
    open_conn(&x, &c, &cur);
    static char data[100];
    sx_seg d = sx_mk(40000, 80, TW_TH_ACK, c.rcv + 200, c.snd);
    d.data = data;
    d.len = 100;
    size_t before = sx_nsent(&x);
    ASSERT_EQ(sx_input_deferred(&x, x.now + TW_MS(1), &d), 0);
    ASSERT_EQ(sx_nsent(&x), before);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), x.now);
    sx_run_until(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), before + 1);
    sx_free(&x);
}

TEST(deferred_syn_to_listener_answered_at_poll) {
    /* A SYN in a batch: the new child's SYN-ACK also waits for the poll. */
    sx x;
    sx_init(&x, NULL);
    sx_listen(&x, 80, 4);
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 1000, 0);
    ASSERT_EQ(sx_input_deferred(&x, x.now + TW_MS(1), &syn), 0);
    ASSERT_EQ(sx_nsent(&x), 0u);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 1u);
    ASSERT_EQ(sx_sent(&x, 0)->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sx_sent(&x, 0)->seg.ack.v, 1001);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(batch_simultaneous_open_then_ack_sends_no_syn_again) {
    /* SYN_SENT, and the peer's bare SYN (simultaneous open: our SYN is owed
     * again, now with an ACK) and its ACK of our first SYN come in one
     * batch. The ACK says the peer has our SYN: the poll sends one plain
     * ACK of the peer's SYN, never a SYN at ISS after SND.UNA moved past it. */
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 5000), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 1u);
    const sx_pkt *syn = sx_sent(&x, 0);
    uint16_t lport = syn->seg.src_port;
    uint32_t iss = syn->seg.seq.v;
    sx_seg peer_syn = sx_mk(5000, lport, TW_TH_SYN, 7000, 0);
    peer_syn.mss = 1460;
    ASSERT_EQ(sx_input_deferred(&x, x.now + TW_MS(1), &peer_syn), 0);
    sx_seg ack = sx_mk(5000, lport, TW_TH_ACK, 7001, iss + 1);
    ASSERT_EQ(sx_input_deferred(&x, x.now, &ack), 0);
    ASSERT_EQ(sx_nsent(&x), 1u);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 2u);
    SX_EXPECT(sx_sent(&x, 1), TW_TH_ACK, iss + 1, 7001, 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, s, &info), 0);
    ASSERT_EQ(info.state, TW_ESTABLISHED);
    /* Data starts right after the SYN. */
    ASSERT_EQ(tw_send(x.st, s, "hi", 2), 2);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 3u);
    SX_EXPECT(sx_sent(&x, 2), TW_TH_ACK | TW_TH_PSH, iss + 1, 7001, 2);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(batch_repeated_syn_then_ack_completes_without_syn_ack) {
    /* SYN_RECEIVED: a repeated SYN (our SYN-ACK is owed again) and the ACK of
     * the first SYN-ACK in one batch. The handshake completes and the SYN-ACK
     * the peer already acknowledged does not go again: a plain ACK (which
     * the simultaneous open above needs) is all, and data follows the SYN. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 1000, 0);
    syn.mss = 1460;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &syn), 0);
    ASSERT_EQ(sx_nsent(&x), 1u);
    uint32_t iss = sx_sent(&x, 0)->seg.seq.v;
    ASSERT_EQ(sx_input_deferred(&x, x.now + TW_MS(1), &syn), 0);
    sx_seg ack = sx_mk(40000, 80, TW_TH_ACK, 1001, iss + 1);
    ASSERT_EQ(sx_input_deferred(&x, x.now, &ack), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 2u);
    SX_EXPECT(sx_sent(&x, 1), TW_TH_ACK, iss + 1, 1001, 0);
    int c = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(c, >=, 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_EQ(info.state, TW_ESTABLISHED);
    ASSERT_EQ(tw_send(x.st, c, "hi", 2), 2);
    sx_poll(&x, x.now);
    ASSERT_EQ(sx_nsent(&x), 3u);
    SX_EXPECT(sx_sent(&x, 2), TW_TH_ACK | TW_TH_PSH, iss + 1, 1001, 2);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST_MAIN()
