/* test_sockopt.c - socket options with their BSD meanings through a stack
 * (src/sock/sockopt.c): defaults, errors, options acting on a connection at
 * once, children inheriting their listener's options, SO_LINGER 0 as an
 * abort, TCP_LINGER2, the three-way close switch, the deferred handshake ACK
 * (between two stacks), TCP_USER_TIMEOUT,
 * SO_KEEPALIVE with its times, ring sizes and the window scale they set,
 * tw_tcp_info_get, and the stack-wide RFC 7323 switches. */
#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/time.h"

static int set_int(sx *x, int s, int opt, int v) {
    return tw_setsockopt(x->st, s, opt, &v, sizeof v);
}

static int get_int(sx *x, int s, int opt) {
    int v = -12345;
    size_t len = sizeof v;
    int rc = tw_getsockopt(x->st, s, opt, &v, &len);
    if (rc) FAIL("tw_getsockopt(%d): %d", opt, rc);
    ASSERT_EQ(len, sizeof v);
    return v;
}

/* The error of the CLOSED event of `sock` among the queued events, or -1. */
static int closed_err(sx *x, int sock) {
    tw_event ev;
    int err = -1;
    while (tw_next_event(x->st, &ev))
        if (ev.sock == sock && (ev.what & TW_EVT_CLOSED)) err = ev.err;
    return err;
}

TEST(sockopt_defaults_on_a_new_socket) {
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    ASSERT_EQ(get_int(&x, s, TW_SO_KEEPALIVE), 0); /* RFC 9293 MUST-25 */
    ASSERT_EQ(get_int(&x, s, TW_TCP_KEEPIDLE), 7200);
    ASSERT_EQ(get_int(&x, s, TW_TCP_KEEPINTVL), 75);
    ASSERT_EQ(get_int(&x, s, TW_TCP_KEEPCNT), 9);
    ASSERT_EQ(get_int(&x, s, TW_SO_RCVBUF), 65535);
    ASSERT_EQ(get_int(&x, s, TW_SO_SNDBUF), 65535);
    ASSERT_EQ(get_int(&x, s, TW_TCP_NODELAY), 0);
    ASSERT_EQ(get_int(&x, s, TW_TCP_USER_TIMEOUT), 0);
    ASSERT_EQ(get_int(&x, s, TW_TCP_LINGER2), 60);
    ASSERT_EQ(get_int(&x, s, TW_TCP_DELACK_FIN), 0);
    ASSERT_EQ(get_int(&x, s, TW_TCP_DELACK_SYNACK), 0);
    ASSERT_EQ(get_int(&x, s, TW_SO_REUSEADDR), 0);
    tw_linger l = {7, 7};
    size_t len = sizeof l;
    ASSERT_EQ(tw_getsockopt(x.st, s, TW_SO_LINGER, &l, &len), 0);
    ASSERT_EQ(l.l_onoff, 0);
    ASSERT_EQ(l.l_linger, 0);
    sx_free(&x);
}

TEST(sockopt_errors) {
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    int v = 1;
    size_t len = sizeof v;
    ASSERT_EQ(tw_setsockopt(x.st, s, 999, &v, sizeof v), -TW_ENOPROTOOPT);
    ASSERT_EQ(tw_getsockopt(x.st, s, 999, &v, &len), -TW_ENOPROTOOPT);
    ASSERT_EQ(tw_setsockopt(x.st, s, TW_SO_KEEPALIVE, &v, 1), -TW_EINVAL);
    ASSERT_EQ(tw_setsockopt(x.st, s, TW_SO_KEEPALIVE, NULL, sizeof v), -TW_EINVAL);
    ASSERT_EQ(tw_setsockopt(x.st, s, TW_SO_LINGER, &v, sizeof v), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, s, TW_TCP_KEEPIDLE, 0), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, s, TW_TCP_KEEPINTVL, 32768), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, s, TW_TCP_KEEPCNT, 256), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, s, TW_SO_RCVBUF, 0), -TW_EINVAL);
    len = 1;
    ASSERT_EQ(tw_getsockopt(x.st, s, TW_TCP_KEEPCNT, &v, &len), -TW_EINVAL);
    ASSERT_EQ(get_int(&x, s, TW_TCP_KEEPCNT), 9); /* nothing changed */
    tw_close(x.st, s);
    len = sizeof v;
    ASSERT_EQ(tw_setsockopt(x.st, s, TW_SO_KEEPALIVE, &v, sizeof v), -TW_EBADF);
    ASSERT_EQ(tw_getsockopt(x.st, s, TW_SO_KEEPALIVE, &v, &len), -TW_EBADF);
    tw_tcp_info ti;
    ASSERT_EQ(tw_tcp_info_get(x.st, s, &ti), -TW_EBADF);
    sx_free(&x);
}

TEST(sockopt_new_socket_keeps_values_and_a_closed_handle_forgets_them) {
    sx x;
    sx_init(&x, NULL);
    int s = tw_socket(x.st);
    ASSERT_EQ(set_int(&x, s, TW_SO_KEEPALIVE, 1), 0);
    ASSERT_EQ(set_int(&x, s, TW_TCP_KEEPCNT, 3), 0);
    ASSERT_EQ(set_int(&x, s, TW_SO_REUSEADDR, 1), 0);
    ASSERT_EQ(set_int(&x, s, TW_TCP_USER_TIMEOUT, 1500), 0);
    ASSERT_EQ(set_int(&x, s, TW_TCP_LINGER2, -1), 0);
    ASSERT_EQ(get_int(&x, s, TW_SO_KEEPALIVE), 1);
    ASSERT_EQ(get_int(&x, s, TW_TCP_KEEPCNT), 3);
    ASSERT_EQ(get_int(&x, s, TW_SO_REUSEADDR), 1);
    ASSERT_EQ(get_int(&x, s, TW_TCP_USER_TIMEOUT), 1500);
    ASSERT_EQ(get_int(&x, s, TW_TCP_LINGER2), -1); /* no FIN_WAIT_2 timeout */
    ASSERT_EQ(tw_bind(x.st, s, 8080), 0);
    tw_close(x.st, s);
    int s2 = tw_socket(x.st); /* the same index, a new handle */
    ASSERT_EQ((uint32_t)s2 & 0xffffu, (uint32_t)s & 0xffffu);
    ASSERT_EQ(get_int(&x, s2, TW_SO_KEEPALIVE), 0);
    ASSERT_EQ(get_int(&x, s2, TW_TCP_KEEPCNT), 9);
    ASSERT_EQ(get_int(&x, s2, TW_SO_REUSEADDR), 0);
    sx_free(&x);
}

TEST(sockopt_children_inherit_keepalive_and_give_up) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int l = sx_listen(&x, 80, 4);
    ASSERT_EQ(set_int(&x, l, TW_SO_KEEPALIVE, 1), 0);
    ASSERT_EQ(set_int(&x, l, TW_TCP_KEEPIDLE, 10), 0);
    ASSERT_EQ(set_int(&x, l, TW_TCP_KEEPINTVL, 1), 0);
    ASSERT_EQ(set_int(&x, l, TW_TCP_KEEPCNT, 2), 0);
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 5555, 7000, &cur);
    uint64_t t0 = x.now; /* ESTABLISHED: the idle time starts */
    ASSERT_EQ(get_int(&x, c.sock, TW_SO_KEEPALIVE), 1);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_KEEPIDLE), 10);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_KEEPCNT), 2);
    sx_run_until(&x, t0 + TW_SEC(10) - 1);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_run_until(&x, t0 + TW_SEC(11));
    const sx_pkt *p = sx_take(&x, &cur);
    SX_EXPECT(p, TW_TH_ACK, c.snd - 1, c.rcv, 0); /* SEQ = SND.NXT - 1, no data */
    ASSERT_U64_EQ(p->t, t0 + TW_SEC(10));
    p = sx_take(&x, &cur);
    SX_EXPECT(p, TW_TH_ACK, c.snd - 1, c.rcv, 0);
    ASSERT_U64_EQ(p->t, t0 + TW_SEC(11));
    ASSERT_EQ(sx_ctr(&x)[TW_C_KEEPALIVE_PROBE], 2);
    sx_run_until(&x, t0 + TW_SEC(12));
    ASSERT_EQ(sx_nsent(&x), cur); /* given up without an RST */
    ASSERT_EQ(closed_err(&x, c.sock), TW_ETIMEDOUT);
    ASSERT_EQ(sx_ctr(&x)[TW_C_CONN_KEEPALIVE_TIMEDOUT], 1);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(sockopt_ip_ttl_and_tos) {
    /* RFC 9293 MUST-49 (TTL), MUST-48 and SHLD-21/22 (Diffserv, also during
     * the connection). The stack's own segments use tw_stack_cfg.ttl/tos. */
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.ttl = 32;
    cfg.tos = 0x11; /* ECN bits dropped: 0x10 */
    sx x;
    sx_init(&x, &cfg);
    int n = tw_socket(x.st);
    ASSERT_EQ(get_int(&x, n, TW_IP_TTL), 32);
    ASSERT_EQ(get_int(&x, n, TW_IP_TOS), 0x10);
    ASSERT_EQ(set_int(&x, n, TW_IP_TTL, 0), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, n, TW_IP_TTL, 256), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, n, TW_IP_TOS, -1), -TW_EINVAL);
    ASSERT_EQ(set_int(&x, n, TW_IP_TOS, 256), -TW_EINVAL);
    /* A closed port's RST: the stack's values. */
    sx_seg syn = sx_mk(40000, 81, TW_TH_SYN, 1000, 0);
    sx_input(&x, x.now, &syn);
    ASSERT_EQ(sx_nsent(&x), 1);
    ASSERT_EQ(sx_sent(&x, 0)->seg.ip_ttl, 32);
    ASSERT_EQ(sx_sent(&x, 0)->seg.ip_tos, 0x10);
    /* A listener's values reach its children from the SYN-ACK on. */
    int l = sx_listen(&x, 80, 4);
    ASSERT_EQ(set_int(&x, l, TW_IP_TTL, 9), 0);
    ASSERT_EQ(set_int(&x, l, TW_IP_TOS, 0x2b), 0);
    ASSERT_EQ(get_int(&x, l, TW_IP_TOS), 0x28);
    size_t cur = sx_nsent(&x);
    size_t first = cur;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 5555, 7000, &cur);
    ASSERT_EQ(get_int(&x, c.sock, TW_IP_TTL), 9);
    ASSERT_CMP(sx_nsent(&x), >, first);
    for (size_t i = first; i < sx_nsent(&x); i++) {
        tw_test_context("packet %zu", i);
        ASSERT_EQ(sx_sent(&x, i)->seg.ip_ttl, 9);
        ASSERT_EQ(sx_sent(&x, i)->seg.ip_tos, 0x28);
    }
    /* Changed on the connection: the next segment carries the new values. */
    ASSERT_EQ(set_int(&x, c.sock, TW_IP_TTL, 200), 0);
    ASSERT_EQ(set_int(&x, c.sock, TW_IP_TOS, 0xb8), 0); /* DSCP EF */
    ASSERT_EQ(tw_send(x.st, c.sock, "x", 1), 1);
    sx_poll(&x, x.now);
    const sx_pkt *p = sx_take(&x, &cur);
    ASSERT_EQ(p->seg.len, 1u);
    ASSERT_EQ(p->seg.ip_ttl, 200);
    ASSERT_EQ(p->seg.ip_tos, 0xb8);
    /* MAY-9: the peer's Diffserv field is passed up, segment by segment. */
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, c.sock, &info), 0);
    ASSERT_EQ(info.tos_in, 0);
    sx_seg d = sx_mk(5555, 80, TW_TH_ACK, c.rcv, c.snd + 1);
    d.data = "y";
    d.len = 1;
    d.tos = 0x68; /* AF31 */
    ASSERT_EQ(sx_input(&x, x.now, &d), 0);
    ASSERT_EQ(tw_sock_info_get(x.st, c.sock, &info), 0);
    ASSERT_EQ(info.tos_in, 0x68);
    sx_free(&x);
}

TEST(sockopt_keepalive_on_a_connection_acts_at_once) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_KEEPIDLE, 30), 0);
    ASSERT_EQ(set_int(&x, c.sock, TW_SO_KEEPALIVE, 1), 0);
    uint64_t t0 = x.now;
    sx_poll(&x, x.now);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t0 + TW_SEC(30));
    /* Setting another option leaves the idle time alone. */
    sx_poll(&x, t0 + TW_SEC(5));
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_NODELAY, 1), 0);
    sx_poll(&x, x.now);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t0 + TW_SEC(30));
    ASSERT_EQ(set_int(&x, c.sock, TW_SO_KEEPALIVE, 0), 0);
    sx_poll(&x, x.now);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), UINT64_MAX);
    sx_free(&x);
}

TEST(sockopt_linger_zero_close_is_abort) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int l = sx_listen(&x, 80, 4);
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 5555, 7000, &cur);
    tw_linger lg = {1, 0};
    ASSERT_EQ(tw_setsockopt(x.st, c.sock, TW_SO_LINGER, &lg, sizeof lg), 0);
    tw_linger back;
    size_t len = sizeof back;
    ASSERT_EQ(tw_getsockopt(x.st, c.sock, TW_SO_LINGER, &back, &len), 0);
    ASSERT_EQ(back.l_onoff, 1);
    ASSERT_EQ(back.l_linger, 0);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_RST, c.snd, 0, 0);
    ASSERT_EQ(sx_ctr(&x)[TW_C_RST_ABORT], 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    sx_free(&x);
}

TEST(sockopt_linger_nonzero_close_is_graceful) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    tw_linger lg = {1, 5};
    ASSERT_EQ(tw_setsockopt(x.st, c.sock, TW_SO_LINGER, &lg, sizeof lg), 0);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, c.snd, c.rcv, 0);
    sx_free(&x);
}

TEST(sockopt_linger2_bounds_orphaned_fin_wait_2) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_LINGER2, 5), 0);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_LINGER2), 5);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, c.snd, c.rcv, 0);
    sx_seg ack = sx_mk(80, c.lport, TW_TH_ACK, c.rcv, c.snd + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &ack), 0);
    uint64_t t_fw2 = x.now;
    ASSERT_EQ(sx_state_time(&x, TW_FIN_WAIT_1, TW_FIN_WAIT_2, 0), t_fw2);
    sx_run_until(&x, t_fw2 + TW_SEC(5) - 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    sx_run_until(&x, t_fw2 + TW_SEC(5));
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(sx_ctr(&x)[TW_C_FW2_TIMEOUT], 1);
    sx_free(&x);
}

TEST(sockopt_delack_fin_makes_the_three_way_close) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int l = sx_listen(&x, 80, 4);
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 5555, 7000, &cur);
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_DELACK_FIN, 1), 0);
    sx_seg fin = sx_mk(5555, 80, TW_TH_FIN | TW_TH_ACK, c.rcv, c.snd);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &fin), 0);
    ASSERT_EQ(sx_nsent(&x), cur); /* the ACK of the FIN waits */
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now + TW_MS(10));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, c.snd, c.rcv + 1, 0);
    sx_free(&x);
}

TEST(sockopt_user_timeout_aborts_with_etimedout) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_USER_TIMEOUT, 3000), 0);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_USER_TIMEOUT), 3000);
    ASSERT_EQ(tw_send(x.st, c.sock, "0123456789", 10), 10);
    sx_poll(&x, x.now);
    uint64_t t0 = x.now;
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK | TW_TH_PSH, c.snd, c.rcv, 10);
    sx_run_until(&x, t0 + TW_SEC(3) - 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    sx_run_until(&x, t0 + TW_SEC(3));
    ASSERT_EQ(closed_err(&x, c.sock), TW_ETIMEDOUT);
    ASSERT_EQ(sx_ctr(&x)[TW_C_CONN_USER_TIMEDOUT], 1);
    char b[4];
    ASSERT_EQ(tw_recv(x.st, c.sock, b, 4), -TW_ETIMEDOUT);
    sx_free(&x);
}

TEST(sockopt_nodelay_on_a_connection) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_NODELAY, 1), 0);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_NODELAY), 1);
    ASSERT_EQ(tw_send(x.st, c.sock, "ab", 2), 2);
    sx_poll(&x, x.now);
    ASSERT_EQ(tw_send(x.st, c.sock, "cd", 2), 2);
    sx_poll(&x, x.now);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK | TW_TH_PSH, c.snd, c.rcv, 2);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK | TW_TH_PSH, c.snd + 2, c.rcv, 2); /* not held */
    ASSERT_EQ(set_int(&x, c.sock, TW_TCP_NODELAY, 0), 0);
    ASSERT_EQ(get_int(&x, c.sock, TW_TCP_NODELAY), 0);
    sx_free(&x);
}

/* ---------------------------------------------------------------- rings */

TEST(sockopt_rcvbuf_on_listener_sizes_the_window_scale) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.rcvbuf = 1u << 20;
    sx x;
    sx_init(&x, &cfg);
    size_t cur = 0;
    int l = sx_listen(&x, 80, 4);
    ASSERT_EQ(set_int(&x, l, TW_SO_RCVBUF, 1 << 30), 0);
    ASSERT_EQ(get_int(&x, l, TW_SO_RCVBUF), 1 << 20); /* cut to the stack's ring memory */
    ASSERT_EQ(set_int(&x, l, TW_SO_RCVBUF, 100000), 0);
    tw_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.has_mss = true;
    o.mss = 1460;
    o.has_ws = true;
    o.ws = 7;
    o.has_ts = true;
    o.tsval = 42;
    sx_seg syn = sx_mk(5555, 80, TW_TH_SYN, 7000, 0);
    syn.opt = &o;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &syn), 0);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_TRUE(sa->seg.opt.has_ws);
    ASSERT_EQ(sa->seg.opt.ws, 1); /* 100000 bytes need a shift of 1 */
    ASSERT_EQ(sa->seg.wnd, 65535);
    ASSERT_TRUE(sa->seg.opt.has_ts);
    ASSERT_EQ(sa->seg.opt.tsecr, 42);
    tw_tcp_opts ts;
    memset(&ts, 0, sizeof ts);
    ts.has_ts = true;
    ts.tsval = 52;
    ts.tsecr = sa->seg.opt.tsval;
    sx_seg ack = sx_mk(5555, 80, TW_TH_ACK, 7001, sa->seg.seq.v + 1);
    ack.opt = &ts;
    ack.wnd = 1000;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(4), &ack), 0);
    int s = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(s, >=, 0);
    ASSERT_EQ(get_int(&x, s, TW_SO_RCVBUF), 100000);
    ASSERT_EQ(set_int(&x, s, TW_SO_RCVBUF, 5000), -TW_EINVAL); /* too late */
    tw_tcp_info ti;
    ASSERT_EQ(tw_tcp_info_get(x.st, s, &ti), 0);
    ASSERT_EQ(ti.state, TW_ESTABLISHED);
    ASSERT_EQ(ti.options, TW_TI_OPT_WSCALE | TW_TI_OPT_TIMESTAMPS);
    ASSERT_EQ(ti.snd_wscale, 7);
    ASSERT_EQ(ti.rcv_wscale, 1);
    ASSERT_EQ(ti.snd_mss, 1460);
    ASSERT_EQ(ti.smss, 1448);
    ASSERT_EQ(ti.rcv_mss, 1460);
    ASSERT_EQ(ti.snd_wnd, 128000); /* 1000 << 7 */
    ASSERT_U64_EQ(ti.rtt, TW_MS(4));
    ASSERT_EQ(ti.bytes_in_flight, 0);
    sx_free(&x);
}

TEST(sockopt_rings_after_connect_until_the_syn_leaves) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    ASSERT_EQ(set_int(&x, s, TW_SO_RCVBUF, 1000), 0); /* the SYN has not left yet */
    ASSERT_EQ(set_int(&x, s, TW_SO_SNDBUF, 500), 0);
    sx_poll(&x, x.now);
    const sx_pkt *syn = sx_take(&x, &cur);
    ASSERT_EQ(syn->seg.flags, TW_TH_SYN);
    ASSERT_EQ(syn->seg.wnd, 1000);
    ASSERT_EQ(syn->seg.opt.ws, 0);
    ASSERT_EQ(set_int(&x, s, TW_SO_RCVBUF, 2000), -TW_EINVAL);
    ASSERT_EQ(get_int(&x, s, TW_SO_RCVBUF), 1000);
    ASSERT_EQ(get_int(&x, s, TW_SO_SNDBUF), 500);
    static char big[800];
    ASSERT_EQ(tw_send(x.st, s, big, sizeof big), 500); /* the ring holds 500 */
    sx_free(&x);
}

/* ---------------------------------------------------------------- tcp_info */

TEST(tcp_info_counts_retransmissions_and_flight) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 1000, &cur);
    tw_tcp_info ti;
    ASSERT_EQ(tw_tcp_info_get(x.st, c.sock, &ti), 0);
    ASSERT_EQ(ti.options, 0); /* sx's SYN-ACK carries the MSS only */
    ASSERT_EQ(ti.smss, 1460);
    ASSERT_EQ(tw_send(x.st, c.sock, "0123456789", 10), 10);
    sx_poll(&x, x.now);
    uint64_t t0 = x.now;
    ASSERT_EQ(tw_tcp_info_get(x.st, c.sock, &ti), 0);
    ASSERT_EQ(ti.bytes_in_flight, 10);
    ASSERT_EQ(ti.total_retrans, 0);
    sx_run_until(&x, t0 + TW_SEC(1));
    ASSERT_EQ(tw_tcp_info_get(x.st, c.sock, &ti), 0);
    ASSERT_EQ(ti.total_retrans, 1);
    ASSERT_EQ(ti.unacked_backoffs, 1);
    ASSERT_U64_EQ(ti.rto, TW_SEC(1)); /* the backoff is applied when arming */
    int l = sx_listen(&x, 81, 1);
    ASSERT_EQ(tw_tcp_info_get(x.st, l, &ti), 0);
    ASSERT_EQ(ti.state, TW_LISTEN);
    sx_free(&x);
}

/* ---------------------------------------------------------------- stack switches */

TEST(stack_cfg_rfc7323_and_sack_switches) {
    sx x;
    sx_init(&x, NULL); /* defaults: both offered */
    size_t cur = 0;
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    sx_poll(&x, x.now);
    const sx_pkt *syn = sx_take(&x, &cur);
    ASSERT_TRUE(syn->seg.opt.has_mss);
    ASSERT_TRUE(syn->seg.opt.has_ws);
    ASSERT_TRUE(syn->seg.opt.has_ts);
    ASSERT_EQ(syn->seg.opt.tsecr, 0);
    ASSERT_TRUE(syn->seg.opt.sack_ok);
    sx_free(&x);

    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    ASSERT_TRUE(cfg.ws && cfg.timestamps && cfg.sack);
    cfg.ws = false;
    cfg.timestamps = false;
    cfg.sack = false;
    sx_init(&x, &cfg);
    cur = 0;
    s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    sx_poll(&x, x.now);
    syn = sx_take(&x, &cur);
    ASSERT_TRUE(syn->seg.opt.has_mss);
    ASSERT_FALSE(syn->seg.opt.has_ws);
    ASSERT_FALSE(syn->seg.opt.has_ts);
    ASSERT_FALSE(syn->seg.opt.sack_ok);
    sx_free(&x);
}

/* ---- the deferred handshake ACK (TW_TCP_DELACK_SYNACK), between two stacks ----
 * Each sx stack is SX_ADDR and talks to SX_PEER, so a packet one sends is
 * handed to the other with the addresses swapped. */

/* Feeds every packet `from` sent since *cur to `to`, 1 ms later; returns how many. */
static int relay(sx *from, size_t *cur, sx *to) {
    int n = 0;
    while (*cur < sx_nsent(from)) {
        const sx_pkt *p = sx_take(from, cur);
        tw_tcp_seg seg = p->seg;
        seg.src_addr = SX_PEER;
        seg.dst_addr = SX_ADDR;
        uint8_t buf[2048];
        int len = tw_packet_emit(&seg, 9, buf, sizeof buf);
        ASSERT_CMP(len, >, 0);
        uint64_t t = (from->now > to->now ? from->now : to->now) + TW_MS(1);
        ASSERT_EQ(sx_input_raw(to, t, buf, (size_t)len), 0);
        n++;
    }
    return n;
}

/* The events of `sock` queued on `x`, OR-ed. */
static uint32_t events_of(sx *x, int sock) {
    tw_event ev;
    uint32_t what = 0;
    while (tw_next_event(x->st, &ev))
        if (ev.sock == sock) what |= ev.what;
    return what;
}

/* Client a connects to server b and writes a 64-byte request when CONNECTED
 * arrives; returns the segments a sent after the SYN-ACK, the first of them
 * in *first. The server must hold the request, accepted, either way. */
static int handshake_then_request(bool defer, sx_pkt *first) {
    sx a, b;
    sx_init(&a, NULL);
    sx_init(&b, NULL);
    size_t ca = 0, cb = 0;
    int l = sx_listen(&b, 80, 4);
    int s = tw_socket(a.st);
    ASSERT_EQ(tw_connect(a.st, s, SX_PEER, 80), 0);
    if (defer) ASSERT_EQ(set_int(&a, s, TW_TCP_DELACK_SYNACK, 1), 0);
    ASSERT_EQ(get_int(&a, s, TW_TCP_DELACK_SYNACK), defer ? 1 : 0);
    sx_poll(&a, a.now);
    ASSERT_EQ(sx_sent(&a, 0)->seg.flags, TW_TH_SYN);
    ASSERT_EQ(relay(&a, &ca, &b), 1); /* SYN */
    ASSERT_EQ(sx_sent(&b, 0)->seg.flags, TW_TH_SYN | TW_TH_ACK);
    uint32_t iss = sx_sent(&a, 0)->seg.seq.v, irs = sx_sent(&b, 0)->seg.seq.v;
    size_t after_synack = sx_nsent(&a);
    ASSERT_EQ(relay(&b, &cb, &a), 1); /* SYN-ACK */
    ASSERT_TRUE(events_of(&a, s) & TW_EVT_CONNECTED);
    uint8_t req[64];
    memset(req, 'q', sizeof req);
    ASSERT_EQ(tw_send(a.st, s, req, sizeof req), 64);
    sx_poll(&a, a.now);
    int sent = (int)(sx_nsent(&a) - after_synack);
    ASSERT_CMP(sent, >=, 1);
    *first = *sx_sent(&a, after_synack);
    /* The last segment is the request, with the handshake's ACK field. */
    SX_EXPECT(sx_sent(&a, sx_nsent(&a) - 1), TW_TH_ACK | TW_TH_PSH, iss + 1, irs + 1, 64);
    ASSERT_EQ(relay(&a, &ca, &b), sent);
    /* The server: established by whichever segment came first, the request
     * accepted with it, and its own ACK of it delayed (nothing sent). */
    ASSERT_CMP(sx_state_time(&b, TW_SYN_RECEIVED, TW_ESTABLISHED, 0), !=, UINT64_MAX);
    ASSERT_EQ(sx_nsent(&b), cb);
    sx_poll(&b, b.now);
    ASSERT_TRUE(events_of(&b, l) & TW_EVT_ACCEPTABLE);
    int c = tw_accept(b.st, l, NULL, NULL);
    ASSERT_CMP(c, >=, 0);
    ASSERT_TRUE(events_of(&b, c) & TW_EVT_READABLE);
    uint8_t got[128];
    ASSERT_EQ(tw_recv(b.st, c, got, sizeof got), 64);
    ASSERT_EQ(memcmp(got, req, 64), 0);
    ASSERT_EQ(sx_ctr(&a)[TW_C_DELACK_SENT], 0);
    sx_free(&a);
    sx_free(&b);
    return sent;
}

TEST(sockopt_delack_synack_off_acks_then_sends_the_request) {
    sx_pkt first;
    ASSERT_EQ(handshake_then_request(false, &first), 2);
    ASSERT_EQ(first.seg.flags, TW_TH_ACK); /* the handshake ACK went alone */
    ASSERT_EQ(first.seg.len, 0);
}

TEST(sockopt_delack_synack_request_completes_the_handshake) {
    sx_pkt first;
    ASSERT_EQ(handshake_then_request(true, &first), 1); /* one segment fewer */
    ASSERT_EQ(first.seg.flags, TW_TH_ACK | TW_TH_PSH);
    ASSERT_EQ(first.seg.len, 64);
}

TEST(sockopt_delack_synack_acks_after_the_delack_timer) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    ASSERT_EQ(set_int(&x, s, TW_TCP_DELACK_SYNACK, 1), 0);
    sx_poll(&x, x.now);
    const sx_pkt *syn = sx_take(&x, &cur);
    uint32_t snd = syn->seg.seq.v + 1;
    uint16_t lport = syn->seg.src_port;
    sx_seg sa = sx_mk(80, lport, TW_TH_SYN | TW_TH_ACK, 7000, snd);
    sa.mss = 1460;
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &sa), 0);
    uint64_t t0 = x.now;
    ASSERT_EQ(sx_nsent(&x), cur); /* the ACK waits */
    ASSERT_EQ(tw_stack_next_deadline(x.st), t0 + TW_MS(200));
    sx_run_until(&x, t0 + TW_MS(200) - 1);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_run_until(&x, t0 + TW_MS(200));
    const sx_pkt *ack = sx_take(&x, &cur);
    SX_EXPECT(ack, TW_TH_ACK, snd, 7001, 0);
    ASSERT_EQ(ack->t, t0 + TW_MS(200));
    ASSERT_EQ(sx_ctr(&x)[TW_C_DELACK_SENT], 1);
    sx_free(&x);
}

TEST(sockopt_delack_synack_default_from_the_stack_cfg) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    ASSERT_FALSE(cfg.delack_synack);
    cfg.delack_synack = true;
    sx x;
    sx_init(&x, &cfg);
    int s = tw_socket(x.st);
    ASSERT_EQ(get_int(&x, s, TW_TCP_DELACK_SYNACK), 1);
    size_t cur = 0;
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), 0);
    ASSERT_EQ(get_int(&x, s, TW_TCP_DELACK_SYNACK), 1);
    sx_poll(&x, x.now);
    const sx_pkt *syn = sx_take(&x, &cur);
    sx_seg sa = sx_mk(80, syn->seg.src_port, TW_TH_SYN | TW_TH_ACK, 7000, syn->seg.seq.v + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &sa), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_EQ(set_int(&x, s, TW_TCP_DELACK_SYNACK, 0), 0);
    ASSERT_EQ(get_int(&x, s, TW_TCP_DELACK_SYNACK), 0);
    sx_free(&x);
}

TEST_MAIN()
