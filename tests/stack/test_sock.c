/* test_sock.c - the socket API over a stack: handles, error codes, events
 * delivered after the step that caused them, and the pending-output list
 * staying intact when connection slots are recycled. */
#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/time.h"

static int next_event(sx *x, tw_event *ev) {
    return tw_next_event(x->st, ev);
}

TEST(stale_handle_after_close_is_ebadf) {
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    ASSERT_CMP(s, >=, 0);
    ASSERT_EQ(tw_close(x.st, s), 0);
    char b[4] = {0};
    tw_sock_info info;
    ASSERT_EQ(tw_close(x.st, s), -TW_EBADF);
    ASSERT_EQ(tw_send(x.st, s, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_recv(x.st, s, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_shutdown(x.st, s, TW_SHUT_WR), -TW_EBADF);
    ASSERT_EQ(tw_bind(x.st, s, 80), -TW_EBADF);
    ASSERT_EQ(tw_listen(x.st, s, 1), -TW_EBADF);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), -TW_EBADF);
    ASSERT_EQ(tw_accept(x.st, s, NULL, NULL), -TW_EBADF);
    ASSERT_EQ(tw_abort(x.st, s), -TW_EBADF);
    ASSERT_EQ(tw_sock_info_get(x.st, s, &info), -TW_EBADF);
    ASSERT_EQ(tw_set_nodelay(x.st, s, true), -TW_EBADF);
    ASSERT_EQ(tw_send(x.st, -1, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_send(x.st, 12345, b, 4), -TW_EBADF);
    /* The slot is reused with a new generation: the old handle stays dead. */
    int s2 = tw_socket(x.st);
    ASSERT_CMP(s2, >=, 0);
    ASSERT_NE(s2, s);
    ASSERT_EQ(tw_send(x.st, s, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_send(x.st, s2, b, 4), -TW_ENOTCONN);
    sx_free(&x);
}

TEST(stale_handle_of_a_connection_is_ebadf) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    char b[4] = {0};
    ASSERT_EQ(tw_send(x.st, c.sock, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_recv(x.st, c.sock, b, 4), -TW_EBADF);
    ASSERT_EQ(tw_close(x.st, c.sock), -TW_EBADF);
    sx_free(&x);
}

TEST(calls_in_the_wrong_state) {
    sx x;
    sx_init(&x, NULL);
    char b[4] = {0};
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_send(x.st, s, b, 4), -TW_ENOTCONN);
    ASSERT_EQ(tw_recv(x.st, s, b, 4), -TW_ENOTCONN);
    ASSERT_EQ(tw_shutdown(x.st, s, TW_SHUT_WR), -TW_ENOTCONN);
    ASSERT_EQ(tw_listen(x.st, s, 4), -TW_EINVAL); /* not bound */
    ASSERT_EQ(tw_accept(x.st, s, NULL, NULL), -TW_EINVAL);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 0), -TW_EINVAL);
    int l = sx_listen(&x, 80, 4);
    ASSERT_EQ(tw_accept(x.st, l, NULL, NULL), -TW_EAGAIN);
    ASSERT_EQ(tw_send(x.st, l, b, 4), -TW_ENOTCONN);
    ASSERT_EQ(tw_connect(x.st, l, SX_PEER, 80), -TW_EINVAL);
    int s2 = tw_socket(x.st);
    ASSERT_EQ(tw_bind(x.st, s2, 80), -TW_EADDRINUSE);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), -TW_EISCONN);
    ASSERT_EQ(tw_shutdown(x.st, s, 0), -TW_EINVAL);
    ASSERT_EQ(tw_recv(x.st, s, b, 4), -TW_EAGAIN);
    /* Nothing is sent until the stack is polled. */
    ASSERT_EQ(sx_nsent(&x), 0);
    ASSERT_EQ(sx_poll(&x, x.now), 1);
    ASSERT_EQ(sx_sent(&x, 0)->seg.flags, TW_TH_SYN);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, l, &info), 0);
    ASSERT_EQ(info.state, TW_LISTEN);
    ASSERT_EQ(info.lport, 80);
    ASSERT_EQ(tw_sock_info_get(x.st, s, &info), 0);
    ASSERT_EQ(info.state, TW_SYN_SENT);
    sx_free(&x);
}

TEST(connect_to_non_unicast_address_refused) {
    /* RFC 9293 MUST-46: an OPEN to a broadcast or multicast address is an
     * error; so are 0.0.0.0/8 and the reserved 240.0.0.0/4. Nothing is
     * sent, no port is taken, and the socket can still connect. */
    static const uint32_t bad[] = {0u,
                                   0x00010203u /* 0.1.2.3 */,
                                   0xe0000001u /* 224.0.0.1 */,
                                   0xefffffffu /* 239.255.255.255 */,
                                   0xf0000001u /* 240.0.0.1 */,
                                   0xffffffffu};
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tw_test_context("raddr=%08x", bad[i]);
        ASSERT_EQ(tw_connect(x.st, s, bad[i], 80), -TW_EINVAL);
    }
    ASSERT_EQ(sx_poll(&x, x.now), 0);
    ASSERT_EQ(x.st->nlive, 0u);
    ASSERT_EQ(tw_connect(x.st, s, 0xdfffffffu /* 223.255.255.255: unicast */, 80), 0);
    ASSERT_EQ(sx_poll(&x, x.now), 1);
    ASSERT_EQ(sx_sent(&x, 0)->seg.flags, TW_TH_SYN);
    sx_free(&x);
}

TEST(events_follow_the_connection_life) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    tw_event ev;
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(next_event(&x, &ev), 0);
    const sx_pkt *syn = sx_take(&x, &cur);
    uint16_t lp = syn->seg.src_port;
    uint32_t iss = syn->seg.seq.v;
    /* SYN-ACK: CONNECTED|WRITABLE, once, after the input step. */
    sx_seg sa = sx_mk(80, lp, TW_TH_SYN | TW_TH_ACK, 5000, iss + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &sa), 0);
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_EQ(ev.sock, s);
    ASSERT_EQ(ev.what, TW_EVT_CONNECTED | TW_EVT_WRITABLE);
    ASSERT_EQ(ev.err, 0);
    ASSERT_EQ(next_event(&x, &ev), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, iss + 1, 5001, 0);
    /* Data: READABLE. */
    sx_seg d = sx_mk(80, lp, TW_TH_ACK | TW_TH_PSH, 5001, iss + 1);
    d.data = "hello";
    d.len = 5;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &d), 0);
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_EQ(ev.what, TW_EVT_READABLE);
    char buf[16];
    ASSERT_EQ(tw_recv(x.st, s, buf, sizeof buf), 5);
    ASSERT_MEMEQ(buf, "hello", 5);
    ASSERT_EQ(tw_recv(x.st, s, buf, sizeof buf), -TW_EAGAIN);
    /* We send; the ACK of it makes WRITABLE. */
    ASSERT_EQ(tw_send(x.st, s, "abc", 3), 3);
    sx_poll(&x, x.now + TW_MS(1));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK | TW_TH_PSH, iss + 1, 5006, 3);
    sx_seg a = sx_mk(80, lp, TW_TH_ACK, 5006, iss + 4);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &a), 0);
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_EQ(ev.what, TW_EVT_WRITABLE);
    /* FIN: READABLE, then recv gives end of stream. */
    sx_seg f = sx_mk(80, lp, TW_TH_ACK | TW_TH_FIN, 5006, iss + 4);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &f), 0);
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_EQ(ev.what, TW_EVT_READABLE);
    ASSERT_EQ(tw_recv(x.st, s, buf, sizeof buf), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, iss + 4, 5007, 0);
    /* RST in CLOSE_WAIT: CLOSED with ECONNRESET. */
    sx_seg r = sx_mk(80, lp, TW_TH_RST, 5007, 0);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &r), 0);
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_TRUE(ev.what & TW_EVT_CLOSED);
    ASSERT_EQ(ev.err, TW_ECONNRESET);
    ASSERT_EQ(tw_send(x.st, s, "x", 1), -TW_ECONNRESET);
    ASSERT_EQ(tw_close(x.st, s), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_free(&x);
}

TEST(connection_refused_event) {
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    sx_poll(&x, x.now);
    const sx_pkt *syn = sx_sent(&x, 0);
    sx_seg r = sx_mk(80, syn->seg.src_port, TW_TH_RST | TW_TH_ACK, 0, syn->seg.seq.v + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &r), 0);
    tw_event ev;
    ASSERT_EQ(next_event(&x, &ev), 1);
    ASSERT_EQ(ev.sock, s);
    ASSERT_TRUE(ev.what & TW_EVT_CLOSED);
    ASSERT_EQ(ev.err, TW_ECONNREFUSED);
    char b[1];
    ASSERT_EQ(tw_recv(x.st, s, b, 1), -TW_ECONNREFUSED);
    ASSERT_EQ(sx_nsent(&x), 1);
    ASSERT_EQ(tw_close(x.st, s), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    sx_free(&x);
}

/* A peer at port 40000 sends SYN to listener l on port 80 and then `d`
 * (SEQ 101, ACK of our SYN filled in), completing the handshake with it;
 * returns the socket accept() gives, after checking the listener's
 * ACCEPTABLE event and that the accepted socket's first event is `want`. */
static int handshake_with_then_accept(sx *x, int l, sx_seg *d, uint32_t want) {
    size_t cur = 0;
    sx_seg syn = sx_mk(40000, 80, TW_TH_SYN, 100, 0);
    sx_input(x, x->now + TW_MS(1), &syn);
    d->seq = 101;
    d->ack = sx_take(x, &cur)->seg.seq.v + 1;
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), d), 0);
    tw_event ev;
    ASSERT_EQ(next_event(x, &ev), 1);
    ASSERT_EQ(ev.sock, l);
    ASSERT_EQ(ev.what, TW_EVT_ACCEPTABLE);
    int c = tw_accept(x->st, l, NULL, NULL);
    ASSERT_CMP(c, >=, 0);
    ASSERT_EQ(next_event(x, &ev), 1);
    ASSERT_EQ(ev.sock, c);
    ASSERT_EQ(ev.what, want);
    return c;
}

TEST(accept_reports_what_happened_before) {
    /* Data and FIN arrive before accept: the accepted socket gets READABLE
     * and WRITABLE at once and reads it all, then end of stream. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    sx_seg d = sx_mk(40000, 80, TW_TH_ACK | TW_TH_FIN, 0, 0);
    d.data = "xyz";
    d.len = 3;
    int c = handshake_with_then_accept(&x, l, &d, TW_EVT_READABLE | TW_EVT_WRITABLE);
    char b[8];
    ASSERT_EQ(tw_recv(x.st, c, b, sizeof b), 3);
    ASSERT_EQ(tw_recv(x.st, c, b, sizeof b), 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_EQ(info.state, TW_CLOSE_WAIT);
    sx_free(&x);
}

TEST(accept_reports_urgent_data_that_came_before) {
    /* Urgent data arrives before accept (RFC 9293 MUST-32: the user is told
     * of it): the accepted socket gets URGENT with READABLE, and the mark
     * sits after the urgent byte. Found by interop/urgent.sh, where the
     * kernel's data and urgent byte could beat serve's accept. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    sx_seg d = sx_mk(40000, 80, TW_TH_ACK | TW_TH_PSH | TW_TH_URG, 0, 0);
    d.data = "abc!";
    d.len = 4;
    d.urp = 4;
    int c =
        handshake_with_then_accept(&x, l, &d, TW_EVT_READABLE | TW_EVT_WRITABLE | TW_EVT_URGENT);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_EQ(info.urgent, 4);
    char b[8];
    ASSERT_EQ(tw_recv(x.st, c, b, sizeof b), 4);
    ASSERT_EQ(tw_sock_info_get(x.st, c, &info), 0);
    ASSERT_EQ(info.urgent, 0);
    sx_free(&x);
}

TEST(pending_output_survives_slot_reuse) {
    /* Y has data queued (pending output) when X, earlier in the pending
     * list, dies and its slot is reused by a new connection before the next
     * poll. Y's data must still leave at that poll, and marking the new
     * connection pending must not loop the list onto itself. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 8);
    size_t cur = 0;
    sx_conn cx, cy;
    sx_passive_open(&x, &cx, l, 80, 40001, 1000, &cur);
    sx_passive_open(&x, &cy, l, 80, 40002, 2000, &cur);
    ASSERT_EQ(tw_send(x.st, cy.sock, "data", 4), 4);
    ASSERT_EQ(tw_abort(x.st, cx.sock), 0);
    /* X's peer speaks before the poll: X answers, dies and is freed. */
    sx_seg a = sx_mk(40001, 80, TW_TH_ACK, cx.rcv, cx.snd);
    sx_input(&x, x.now + TW_MS(1), &a);
    /* A new connection takes X's slot. */
    sx_seg syn = sx_mk(40003, 80, TW_TH_SYN, 3000, 0);
    ASSERT_EQ(sx_input(&x, x.now, &syn), 0);
    size_t before = sx_nsent(&x);
    sx_poll(&x, x.now);
    bool y_sent = false;
    for (size_t i = before; i < sx_nsent(&x); i++) {
        const sx_pkt *p = sx_sent(&x, i);
        if (p->seg.dst_port == 40002 && p->seg.len == 4) y_sent = true;
    }
    ASSERT_TRUE(y_sent);
    /* Complete the new handshake, accept (marks it pending), send, poll. */
    uint32_t iss = 0;
    for (size_t i = 0; i < sx_nsent(&x); i++)
        if (sx_sent(&x, i)->seg.dst_port == 40003) iss = sx_sent(&x, i)->seg.seq.v;
    sx_seg ack = sx_mk(40003, 80, TW_TH_ACK, 3001, iss + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &ack), 0);
    int z = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(z, >=, 0);
    ASSERT_EQ(tw_send(x.st, z, "zz", 2), 2);
    before = sx_nsent(&x);
    sx_poll(&x, x.now + TW_MS(1));
    ASSERT_EQ(sx_nsent(&x), before + 1);
    SX_EXPECT(sx_sent(&x, before), TW_TH_ACK | TW_TH_PSH, iss + 1, 3001, 2);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(close_with_unread_data_sends_rst) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    sx_seg d = sx_mk(80, c.lport, TW_TH_ACK | TW_TH_PSH, c.rcv, c.snd);
    d.data = "unread";
    d.len = 6;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &d), 0);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, c.snd, 0, 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_UNREAD_DATA], 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    sx_free(&x);
}

TEST_MAIN()
