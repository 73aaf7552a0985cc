/* test_timewait.c - compact TIME_WAIT records on the wire (RFC 9293
 * §3.10.7.4, RFC 1337, RFC 5961 §4, RFC 6191): a closed connection in
 * TIME_WAIT becomes a small record; retransmitted FINs are re-ACKed and
 * restart 2MSL; RSTs are ignored; old SYNs get a challenge ACK; a newer SYN
 * reopens the 4-tuple; the record ends exactly 2MSL after its last restart;
 * ephemeral ports never land on a 4-tuple in TIME_WAIT. */
#include "sx.h"
#include "test.h"

#include "stack/stack.h"
#include "util/time.h"

#define MSL TW_SEC(30)

/* The TIME_WAIT -> CLOSED event of connection `id`, or NULL. */
static const tw_trace_ev *tw_end_ev(const sx *x, uint32_t id) {
    for (size_t i = 0; i < x->nev; i++) {
        const tw_trace_ev *e = &x->ev[i];
        if (e->kind == TW_EV_STATE && e->conn_id == id && e->old_state == TW_TIME_WAIT &&
            e->new_state == TW_CLOSED)
            return e;
    }
    return NULL;
}

static uint32_t conn_id_of(sx *x, int sock) {
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x->st, sock, &info), 0);
    return info.conn_id;
}

TEST(record_replaces_connection_and_is_small) {
    ASSERT_CMP(tw_stack_time_wait_record_size(), <=, 64);
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 9000, &cur);
    uint32_t id = conn_id_of(&x, c.sock);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    uint64_t t = sx_active_close(&x, &c, &cur);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_U64_EQ(sx_state_time(&x, TW_FIN_WAIT_2, TW_TIME_WAIT, 0), t);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_ENTER], 1);
    tw__stack_check(x.st);

    /* One nanosecond early: still there. Exactly 2MSL: gone. */
    sx_run_until(&x, t + 2 * MSL - 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_TRUE(tw_end_ev(&x, id) == NULL);
    sx_run_until(&x, t + 2 * MSL);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    const tw_trace_ev *e = tw_end_ev(&x, id);
    ASSERT_TRUE(e != NULL);
    ASSERT_U64_EQ(e->t, t + 2 * MSL);
    ASSERT_EQ(e->cause, TW_CAUSE_TIMEOUT_2MSL);
    ASSERT_EQ(e->lport, c.lport);
    ASSERT_EQ(e->rport, 80);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_EXPIRE], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CONN_CLOSED], 1);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), UINT64_MAX);
    ASSERT_EQ(sx_nsent(&x), cur); /* nothing sent while waiting */
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(retransmitted_fin_is_reacked_and_restarts_2msl) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 9000, &cur);
    uint32_t id = conn_id_of(&x, c.sock);
    uint64_t t = sx_active_close(&x, &c, &cur);
    uint64_t t1 = t + TW_SEC(10);
    sx_run_until(&x, t1 - 1);
    sx_seg fin = sx_mk(80, c.lport, TW_TH_FIN | TW_TH_ACK, c.rcv - 1, c.snd);
    ASSERT_EQ(sx_input(&x, t1, &fin), 0);
    const sx_pkt *a = sx_take(&x, &cur);
    SX_EXPECT(a, TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_U64_EQ(a->t, t1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_FIN_REACK], 1);
    /* The ACK is traced as sent on behalf of the record. */
    bool traced = false;
    for (size_t i = 0; i < x.nev; i++)
        if (x.ev[i].kind == TW_EV_SEG_OUT && x.ev[i].t == t1 && (x.ev[i].meta & TW_SEGMETA_TW) &&
            x.ev[i].conn_id == id)
            traced = true;
    ASSERT_TRUE(traced);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t1 + 2 * MSL);
    sx_run_until(&x, t + 2 * MSL);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    sx_run_until(&x, t1 + 2 * MSL - 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    sx_run_until(&x, t1 + 2 * MSL);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_U64_EQ(tw_end_ev(&x, id)->t, t1 + 2 * MSL);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_free(&x);
}

TEST(rst_to_record_is_ignored) {
    /* RFC 1337: an RST must not end TIME_WAIT early. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 9000, &cur);
    uint64_t t = sx_active_close(&x, &c, &cur);
    sx_seg r1 = sx_mk(80, c.lport, TW_TH_RST, c.rcv, 0);
    sx_seg r2 = sx_mk(80, c.lport, TW_TH_RST | TW_TH_ACK, c.rcv, c.snd);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(1), &r1), 0);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(2), &r2), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_RST_IGNORED], 2);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(old_syn_to_record_gets_challenge_ack) {
    /* RFC 5961 §4 / RFC 9293 §3.10.7.4: a SYN not above RCV.NXT is answered
     * with <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; the record stays as it was. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    uint64_t t = sx_active_close(&x, &c, &cur);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    uint32_t seqs[] = {c.rcv, c.rcv - 1, c.rcv - 100000};
    for (int i = 0; i < 3; i++) {
        sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, seqs[i], 0);
        ASSERT_EQ(sx_input(&x, t + TW_SEC(1 + i), &syn), 0);
        SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    }
    /* A SYN|ACK is never a new connection request either. */
    sx_seg sa = sx_mk(41000, 80, TW_TH_SYN | TW_TH_ACK, c.rcv + 5000, c.snd);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(5), &sa), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CHALLENGE_ACK], 4);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    ASSERT_EQ(sx_nsent(&x), cur);
    sx_free(&x);
}

TEST(duplicate_ack_to_record_is_dropped_silently) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 9000, &cur);
    uint64_t t = sx_active_close(&x, &c, &cur);
    sx_seg a = sx_mk(80, c.lport, TW_TH_ACK, c.rcv, c.snd);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(1), &a), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_TW_SEGMENT], 1);
    /* Data beyond the peer's FIN: answered with an ACK. */
    uint8_t d[5] = {1, 2, 3, 4, 5};
    a.data = d;
    a.len = sizeof d;
    ASSERT_EQ(sx_input(&x, t + TW_SEC(2), &a), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    sx_free(&x);
}

TEST(new_syn_above_rcv_nxt_reopens_the_4tuple) {
    /* RFC 9293 MAY-2 (RFC 1122 §4.2.2.13): a SYN with a sequence number above
     * RCV.NXT ends TIME_WAIT and opens a new incarnation whose ISS is above
     * the old SND.NXT, so old duplicates cannot be taken for new data. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    uint32_t old_id = conn_id_of(&x, c.sock);
    uint64_t t = sx_active_close(&x, &c, &cur);
    uint64_t t1 = t + TW_SEC(3);
    sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, c.rcv + 100000, 0);
    syn.mss = 1460;
    ASSERT_EQ(sx_input(&x, t1, &syn), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    /* The old incarnation's TIME_WAIT ends when the new one is established
     * (until then an RST would prove the SYN an old duplicate). */
    ASSERT_TRUE(tw_end_ev(&x, old_id) == NULL);
    tw__stack_check(x.st);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.ack.v, c.rcv + 100001);
    ASSERT_TRUE(tw_seq_gt(sa->seg.seq, tw_seq(c.snd)));
    uint32_t iss = sa->seg.seq.v;
    sx_seg ack = sx_mk(41000, 80, TW_TH_ACK, c.rcv + 100001, iss + 1);
    ASSERT_EQ(sx_input(&x, t1 + TW_MS(1), &ack), 0);
    const tw_trace_ev *e = tw_end_ev(&x, old_id);
    ASSERT_TRUE(e != NULL);
    ASSERT_U64_EQ(e->t, t1 + TW_MS(1));
    ASSERT_EQ(e->cause, TW_CAUSE_TW_REUSE);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE_UNDONE], 0);
    int s2 = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(s2, >=, 0);
    tw_sock_info info;
    ASSERT_EQ(tw_sock_info_get(x.st, s2, &info), 0);
    ASSERT_EQ(info.state, TW_ESTABLISHED);
    ASSERT_NE(info.conn_id, old_id);
    ASSERT_EQ(info.rport, 41000);
    /* The old record's expiry no longer fires. */
    sx_run_until(&x, t + 2 * MSL + TW_SEC(1));
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_EXPIRE], 0);
    tw__stack_check(x.st);
    sx_free(&x);
}

/* The stack sends `n` bytes on c; the peer ACKs everything each round. */
static void pump_out(sx *x, sx_conn *c, uint32_t n, size_t *cursor) {
    static uint8_t buf[65536];
    uint32_t sent = 0, start = c->snd;
    for (int round = 0; c->snd - start < n && round < 1000; round++) {
        uint32_t want = n - sent < sizeof buf ? n - sent : (uint32_t)sizeof buf;
        int k = want ? tw_send(x->st, c->sock, buf, want) : 0;
        if (k > 0) sent += (uint32_t)k;
        sx_poll(x, x->now + TW_MS(1));
        while (*cursor < sx_nsent(x)) {
            const sx_pkt *p = sx_take(x, cursor);
            ASSERT_EQ(p->seg.seq.v, c->snd);
            c->snd += p->seg.len;
        }
        sx_seg a = sx_mk(c->rport, c->lport, TW_TH_ACK, c->rcv, c->snd);
        sx_input(x, x->now, &a);
    }
    ASSERT_EQ(sent, n);
    ASSERT_EQ(c->snd - start, n);
}

TEST(reopened_iss_is_above_everything_the_old_incarnation_sent) {
    /* The old incarnation sent 200 KB in a few ms: far more than the 4 µs
     * ISN clock advanced. The new ISS must still be above the old SND.NXT. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    pump_out(&x, &c, 200000, &cur);
    ASSERT_EQ(c.snd - c.iss, 200001);
    uint64_t t = sx_active_close(&x, &c, &cur);
    sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, c.rcv + 1, 0);
    ASSERT_EQ(sx_input(&x, t + TW_MS(1), &syn), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 1);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_TRUE(tw_seq_gt(sa->seg.seq, tw_seq(c.snd)));
    sx_free(&x);
}

TEST(new_syn_reopens_a_full_connection_in_time_wait) {
    /* The same as for a record when TIME_WAIT is held by a connection whose
     * socket is still open: the SYN ends it (the socket gets CLOSED, no
     * error) and the listener opens the new incarnation. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    uint32_t old_id = conn_id_of(&x, c.sock);
    ASSERT_EQ(tw_shutdown(x.st, c.sock, TW_SHUT_WR), 0);
    sx_poll(&x, x.now + TW_MS(1));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, c.snd, c.rcv, 0);
    c.snd++;
    sx_seg fa = sx_mk(41000, 80, TW_TH_FIN | TW_TH_ACK, c.rcv, c.snd);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &fa), 0);
    c.rcv++;
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    tw_event ev;
    while (tw_next_event(x.st, &ev)) {
    }
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, c.rcv + 100000, 0);
    uint64_t t1 = x.now + TW_SEC(2);
    ASSERT_EQ(sx_input(&x, t1, &syn), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 1);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.ack.v, c.rcv + 100001);
    ASSERT_TRUE(tw_seq_gt(sa->seg.seq, tw_seq(c.snd)));
    const tw_trace_ev *e = tw_end_ev(&x, old_id);
    ASSERT_TRUE(e != NULL);
    ASSERT_U64_EQ(e->t, t1);
    ASSERT_EQ(e->cause, TW_CAUSE_TW_REUSE);
    ASSERT_EQ(tw_next_event(x.st, &ev), 1);
    ASSERT_EQ(ev.sock, c.sock);
    ASSERT_TRUE(ev.what & TW_EVT_CLOSED);
    ASSERT_EQ(ev.err, 0);
    tw__stack_check(x.st);
    /* The new incarnation completes and is accepted; the old socket closes. */
    sx_seg ack = sx_mk(41000, 80, TW_TH_ACK, c.rcv + 100001, sa->seg.seq.v + 1);
    ASSERT_EQ(sx_input(&x, t1 + TW_MS(1), &ack), 0);
    int s2 = tw_accept(x.st, l, NULL, NULL);
    ASSERT_CMP(s2, >=, 0);
    ASSERT_EQ(tw_close(x.st, c.sock), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(new_syn_to_record_without_listener_keeps_record) {
    /* A client-side record: no listener owns the port, so the SYN cannot open
     * anything. The record stays and answers as it does any other SYN (RFC
     * 5961 §4 challenge ACK) instead of vanishing behind an RST. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn c;
    sx_active_open(&x, &c, 80, 9000, &cur);
    uint64_t t = sx_active_close(&x, &c, &cur);
    sx_seg syn = sx_mk(80, c.lport, TW_TH_SYN, c.rcv + 5000, 0);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(1), &syn), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_RST_CLOSED_PORT], 0);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(records_expire_in_order_when_sockets_close_late) {
    /* Connection A reaches TIME_WAIT while its socket is still open; B
     * reaches it later with its socket closed (a record at once). When A's
     * socket is closed, A becomes a record that expires BEFORE B's: it must
     * still end exactly 2MSL after it entered TIME_WAIT. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn a, b;
    sx_active_open(&x, &a, 80, 1000, &cur);
    sx_active_open(&x, &b, 81, 2000, &cur);
    uint32_t id_a = conn_id_of(&x, a.sock), id_b = conn_id_of(&x, b.sock);
    /* A: half-close, the peer ACKs and FINs: TIME_WAIT with the socket open. */
    ASSERT_EQ(tw_shutdown(x.st, a.sock, TW_SHUT_WR), 0);
    sx_poll(&x, x.now + TW_MS(1));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, a.snd, a.rcv, 0);
    a.snd++;
    sx_seg fa = sx_mk(80, a.lport, TW_TH_FIN | TW_TH_ACK, a.rcv, a.snd);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &fa), 0);
    a.rcv++;
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, a.snd, a.rcv, 0);
    uint64_t ta = x.now;
    ASSERT_U64_EQ(sx_state_time(&x, TW_FIN_WAIT_1, TW_TIME_WAIT, 0), ta);
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    /* B, one second later: a record at once. */
    x.now += TW_SEC(1);
    uint64_t tb = sx_active_close(&x, &b, &cur);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    tw__stack_check(x.st);
    /* Close A's socket five seconds later. */
    sx_poll(&x, ta + TW_SEC(5));
    ASSERT_EQ(tw_close(x.st, a.sock), 0);
    sx_poll(&x, ta + TW_SEC(5));
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 2);
    tw__stack_check(x.st);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), ta + 2 * MSL);
    sx_run_until(&x, tb + 2 * MSL);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_U64_EQ(tw_end_ev(&x, id_a)->t, ta + 2 * MSL);
    ASSERT_U64_EQ(tw_end_ev(&x, id_b)->t, tb + 2 * MSL);
    sx_free(&x);
}

TEST(full_connection_in_time_wait_restarts_then_becomes_record) {
    /* TIME_WAIT with the socket open is handled by the connection itself; a
     * retransmitted FIN restarts its 2MSL, and the record made at close
     * keeps the restarted expiry. */
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn a;
    sx_active_open(&x, &a, 80, 1000, &cur);
    uint32_t id = conn_id_of(&x, a.sock);
    ASSERT_EQ(tw_shutdown(x.st, a.sock, TW_SHUT_WR), 0);
    sx_poll(&x, x.now + TW_MS(1));
    SX_EXPECT(sx_take(&x, &cur), TW_TH_FIN | TW_TH_ACK, a.snd, a.rcv, 0);
    a.snd++;
    sx_seg fa = sx_mk(80, a.lport, TW_TH_FIN | TW_TH_ACK, a.rcv, a.snd);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &fa), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, a.snd, a.rcv + 1, 0);
    uint64_t t1 = x.now + TW_SEC(20);
    ASSERT_EQ(sx_input(&x, t1, &fa), 0); /* the same FIN again */
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, a.snd, a.rcv + 1, 0);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t1 + 2 * MSL);
    ASSERT_EQ(tw_close(x.st, a.sock), 0);
    sx_poll(&x, t1 + TW_SEC(1));
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t1 + 2 * MSL);
    sx_run_until(&x, t1 + 2 * MSL);
    ASSERT_U64_EQ(tw_end_ev(&x, id)->t, t1 + 2 * MSL);
    sx_free(&x);
}

TEST(full_connection_in_time_wait_expires_with_closed_event) {
    sx x;
    sx_init(&x, NULL);
    size_t cur = 0;
    sx_conn a;
    sx_active_open(&x, &a, 80, 1000, &cur);
    ASSERT_EQ(tw_shutdown(x.st, a.sock, TW_SHUT_WR), 0);
    sx_poll(&x, x.now + TW_MS(1));
    sx_take(&x, &cur);
    sx_seg fa = sx_mk(80, a.lport, TW_TH_FIN | TW_TH_ACK, a.rcv, a.snd + 1);
    ASSERT_EQ(sx_input(&x, x.now + TW_MS(1), &fa), 0);
    uint64_t t = x.now;
    tw_event ev;
    while (tw_next_event(x.st, &ev)) {
    }
    sx_run_until(&x, t + 2 * MSL);
    ASSERT_EQ(tw_next_event(x.st, &ev), 1);
    ASSERT_EQ(ev.sock, a.sock);
    ASSERT_TRUE(ev.what & TW_EVT_CLOSED);
    ASSERT_EQ(ev.err, 0);
    ASSERT_U64_EQ(sx_state_time(&x, TW_TIME_WAIT, TW_CLOSED, 0), t + 2 * MSL);
    ASSERT_EQ(tw_close(x.st, a.sock), 0);
    sx_poll(&x, x.now);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    sx_free(&x);
}

TEST(ephemeral_ports_skip_time_wait_4tuples) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.ephemeral_lo = 50000;
    cfg.ephemeral_hi = 50007;
    sx x;
    sx_init(&x, &cfg);
    size_t cur = 0;
    bool used[8] = {false};
    for (int i = 0; i < 8; i++) {
        sx_conn c;
        sx_active_open(&x, &c, 80, 1000u * (uint32_t)i, &cur);
        ASSERT_CMP(c.lport, >=, 50000);
        ASSERT_CMP(c.lport, <=, 50007);
        ASSERT_FALSE(used[c.lport - 50000]); /* never a port in TIME_WAIT to :80 */
        used[c.lport - 50000] = true;
        sx_active_close(&x, &c, &cur);
    }
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 8);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    int s = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 80), -TW_EADDRNOTAVAIL);
    /* An explicit bind onto a TIME_WAIT 4-tuple is refused too. */
    int sb = tw_socket(x.st);
    ASSERT_EQ(tw_bind(x.st, sb, 50003), 0);
    ASSERT_EQ(tw_connect(x.st, sb, SX_PEER, 80), -TW_EADDRINUSE);
    ASSERT_EQ(tw_close(x.st, sb), 0);
    /* Other destinations are free. */
    ASSERT_EQ(tw_connect(x.st, s, SX_PEER, 81), 0);
    int s2 = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s2, SX_PEER2, 80), 0);
    sx_poll(&x, x.now + TW_MS(1));
    ASSERT_EQ(tw_stack_conn_count(x.st), 2);
    ASSERT_EQ(tw_abort(x.st, s), 0);
    ASSERT_EQ(tw_abort(x.st, s2), 0);
    /* Once the records expire the ports are usable again. */
    sx_run_until(&x, x.now + 2 * MSL + TW_SEC(1));
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    int s3 = tw_socket(x.st);
    ASSERT_EQ(tw_connect(x.st, s3, SX_PEER, 80), 0);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(record_table_full_ends_time_wait_at_once) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    cfg.max_time_wait = 2;
    sx x;
    sx_init(&x, &cfg);
    size_t cur = 0;
    for (int i = 0; i < 3; i++) {
        sx_conn c;
        sx_active_open(&x, &c, (uint16_t)(80 + i), 1000, &cur);
        sx_active_close(&x, &c, &cur);
    }
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 2);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CONN_CLOSED], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_OVERFLOW], 1); /* said, not silent */
    tw__stack_check(x.st);
    sx_free(&x);
}

/* ---- timestamps in records (RFC 7323, RFC 6191) ---- */

/* A peer segment with a TS option (TSval tsval, TSecr tsecr). */
static sx_seg ts_seg(const sx_conn *c, uint8_t flags, uint32_t seq, uint32_t ack, tw_tcp_opts *o,
                     uint32_t tsval, uint32_t tsecr) {
    sx_seg s = sx_mk(c->rport, c->lport, flags, seq, ack);
    memset(o, 0, sizeof *o);
    o->has_ts = true;
    o->tsval = tsval;
    o->tsecr = tsecr;
    if (flags & TW_TH_SYN) {
        o->has_mss = true;
        o->mss = 1460;
    }
    s.opt = o;
    return s;
}

/* The stack's TSval clock offset: TSval - whole ms of the send time. */
static uint32_t ts_offset_of(const sx_pkt *p) {
    ASSERT_TRUE(p->seg.opt.has_ts);
    return p->seg.opt.tsval - (uint32_t)(p->t / 1000000u);
}

/* Peer 41000 -> listener 80 with timestamps; the stack closes first and
 * ends as a compact record. Returns the time TIME_WAIT began; *off is the
 * stack's TSval offset seen on the SYN-ACK; the peer's last TSval is 300. */
static uint64_t ts_conn_to_record(sx *x, sx_conn *c, int l, size_t *cur, uint32_t *off) {
    tw_tcp_opts o;
    memset(c, 0, sizeof *c);
    c->lport = 80;
    c->rport = 41000;
    c->irs = 700000;
    sx_seg syn = ts_seg(c, TW_TH_SYN, 700000, 0, &o, 100, 0);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &syn), 0);
    const sx_pkt *sa = sx_take(x, cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.opt.tsecr, 100);
    *off = ts_offset_of(sa);
    uint32_t their = sa->seg.opt.tsval;
    c->iss = sa->seg.seq.v;
    c->snd = c->iss + 1;
    c->rcv = 700001;
    sx_seg ack = ts_seg(c, TW_TH_ACK, c->rcv, c->snd, &o, 200, their);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &ack), 0);
    c->sock = tw_accept(x->st, l, NULL, NULL);
    ASSERT_CMP(c->sock, >=, 0);
    ASSERT_EQ(tw_close(x->st, c->sock), 0);
    sx_poll(x, x->now + TW_MS(1));
    const sx_pkt *fin = sx_take(x, cur);
    SX_EXPECT(fin, TW_TH_FIN | TW_TH_ACK, c->snd, c->rcv, 0);
    ASSERT_EQ(fin->seg.opt.tsecr, 200);
    c->snd++;
    sx_seg fa = ts_seg(c, TW_TH_FIN | TW_TH_ACK, c->rcv, c->snd, &o, 300, fin->seg.opt.tsval);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &fa), 0);
    c->rcv++;
    const sx_pkt *last = sx_take(x, cur);
    SX_EXPECT(last, TW_TH_ACK, c->snd, c->rcv, 0);
    ASSERT_EQ(last->seg.opt.tsecr, 300);
    ASSERT_EQ(ts_offset_of(last), *off);
    sx_poll(x, x->now);
    ASSERT_EQ(tw_stack_conn_count(x->st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x->st), 1);
    return x->now;
}

TEST(record_acks_carry_timestamps_from_the_same_clock) {
    /* RFC 7323 §3.2: once TS is in use every segment carries it, the
     * record's ACKs included (a peer in LAST_ACK doing PAWS on them must
     * see TSval continue the connection's clock, TSecr = TS.Recent). */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    uint32_t off;
    uint64_t t = ts_conn_to_record(&x, &c, l, &cur, &off);
    tw_tcp_opts o;
    sx_seg fin = ts_seg(&c, TW_TH_FIN | TW_TH_ACK, c.rcv - 1, c.snd, &o, 5300, 0);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(5) + TW_MS(7), &fin), 0);
    const sx_pkt *a = sx_take(&x, &cur);
    SX_EXPECT(a, TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_EQ(a->seg.opt.tsecr, 5300); /* the retransmitted FIN's TSval */
    ASSERT_EQ(ts_offset_of(a), off);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_FIN_REACK], 1);
    /* PAWS: an old copy of the FIN (TSval below TS.Recent) gets an ACK, is
     * counted, and does not restart 2MSL. */
    uint64_t t2 = t + TW_SEC(6);
    fin = ts_seg(&c, TW_TH_FIN | TW_TH_ACK, c.rcv - 1, c.snd, &o, 300, 0);
    ASSERT_EQ(sx_input(&x, t2, &fin), 0);
    a = sx_take(&x, &cur);
    SX_EXPECT(a, TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_EQ(a->seg.opt.tsecr, 5300);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_DROP_PAWS], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_FIN_REACK], 1);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + TW_SEC(5) + TW_MS(7) + 2 * MSL);
    ASSERT_EQ(sx_nsent(&x), cur);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST(record_reopened_by_newer_timestamp_below_rcv_nxt) {
    /* RFC 6191 §2: with timestamps the SYN's TSval decides. A SYN whose
     * sequence number is below RCV.NXT (a peer with a random ISN) reopens
     * the 4-tuple because its TSval is newer; the new incarnation's
     * timestamps continue the old clock (same offset), so they keep growing
     * across incarnations. */
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    uint32_t off;
    uint64_t t = ts_conn_to_record(&x, &c, l, &cur, &off);
    tw_tcp_opts o;
    /* An old duplicate first: sequence number above, TSval older. */
    sx_seg old = ts_seg(&c, TW_TH_SYN, c.rcv + 100000, 0, &o, 250, 0);
    ASSERT_EQ(sx_input(&x, t + TW_SEC(1), &old), 0);
    const sx_pkt *a = sx_take(&x, &cur);
    SX_EXPECT(a, TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_EQ(a->seg.opt.tsecr, 300);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_CHALLENGE_ACK], 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    /* Then the new connection: sequence number far below, TSval newer. */
    uint64_t t1 = t + TW_SEC(2);
    sx_seg syn = ts_seg(&c, TW_TH_SYN, c.rcv - 500000, 0, &o, 2300, 0);
    ASSERT_EQ(sx_input(&x, t1, &syn), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE], 1);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.ack.v, c.rcv - 500000 + 1);
    ASSERT_TRUE(tw_seq_gt(sa->seg.seq, tw_seq(c.snd)));
    ASSERT_EQ(sa->seg.opt.tsecr, 2300);
    ASSERT_EQ(ts_offset_of(sa), off);
    tw__stack_check(x.st);
    sx_free(&x);
}

/* RFC 1122 §4.2.2.13 / RFC 9293 MAY-2 condition (2): a SYN that reopened a
 * TIME_WAIT 4-tuple but proves an old duplicate (the peer resets our
 * SYN-ACK: it never sent that SYN) puts the 4-tuple back in TIME_WAIT with
 * the old timer, and the old incarnation's record answers as before. */
TEST(old_duplicate_syn_returns_the_4tuple_to_time_wait) {
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    uint32_t old_id = conn_id_of(&x, c.sock);
    uint64_t t = sx_active_close(&x, &c, &cur);
    uint64_t t1 = t + TW_SEC(3);
    sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, c.rcv + 100000, 0);
    ASSERT_EQ(sx_input(&x, t1, &syn), 0);
    const sx_pkt *sa = sx_take(&x, &cur);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    tw__stack_check(x.st);
    /* The peer knows nothing of that SYN: <SEQ=SEG.ACK><CTL=RST>. */
    sx_seg rst = sx_mk(41000, 80, TW_TH_RST, c.rcv + 100001, 0);
    ASSERT_EQ(sx_input(&x, t1 + TW_MS(1), &rst), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 1);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE_UNDONE], 1);
    ASSERT_TRUE(tw_end_ev(&x, old_id) == NULL);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t + 2 * MSL);
    tw__stack_check(x.st);
    /* The record is the old incarnation again: its peer's retransmitted FIN
     * is re-ACKed with the old numbers. */
    sx_seg fin = sx_mk(41000, 80, TW_TH_FIN | TW_TH_ACK, c.rcv - 1, c.snd);
    ASSERT_EQ(sx_input(&x, t1 + TW_SEC(1), &fin), 0);
    SX_EXPECT(sx_take(&x, &cur), TW_TH_ACK, c.snd, c.rcv, 0);
    ASSERT_U64_EQ(tw_stack_next_deadline(x.st), t1 + TW_SEC(1) + 2 * MSL);
    sx_run_until(&x, t1 + TW_SEC(1) + 2 * MSL);
    const tw_trace_ev *e = tw_end_ev(&x, old_id);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->cause, TW_CAUSE_TIMEOUT_2MSL);
    ASSERT_U64_EQ(e->t, t1 + TW_SEC(1) + 2 * MSL);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_EQ(sx_nsent(&x), cur);
    tw__stack_check(x.st);
    sx_free(&x);
}

/* The old record's 2MSL may run out while the reopening SYN's child still
 * waits in SYN_RECEIVED: the record ends then (2MSL), and the child dying
 * later has nothing to return to. */
TEST(reopened_record_expires_while_child_waits) {
    sx x;
    sx_init(&x, NULL);
    int l = sx_listen(&x, 80, 4);
    size_t cur = 0;
    sx_conn c;
    sx_passive_open(&x, &c, l, 80, 41000, 700000, &cur);
    uint32_t old_id = conn_id_of(&x, c.sock);
    uint64_t t = sx_active_close(&x, &c, &cur);
    uint64_t t1 = t + 2 * MSL - TW_MS(500);
    sx_seg syn = sx_mk(41000, 80, TW_TH_SYN, c.rcv + 100000, 0);
    ASSERT_EQ(sx_input(&x, t1, &syn), 0);
    ASSERT_EQ(sx_take(&x, &cur)->seg.flags, TW_TH_SYN | TW_TH_ACK);
    sx_run_until(&x, t + 2 * MSL);
    const tw_trace_ev *e = tw_end_ev(&x, old_id);
    ASSERT_TRUE(e != NULL);
    ASSERT_EQ(e->cause, TW_CAUSE_TIMEOUT_2MSL);
    ASSERT_EQ(tw_stack_conn_count(x.st), 1);
    tw__stack_check(x.st);
    sx_seg rst = sx_mk(41000, 80, TW_TH_RST, c.rcv + 100001, 0);
    ASSERT_EQ(sx_input(&x, t + 2 * MSL + TW_MS(1), &rst), 0);
    ASSERT_EQ(tw_stack_conn_count(x.st), 0);
    ASSERT_EQ(tw_stack_time_wait_count(x.st), 0);
    ASSERT_U64_EQ(sx_ctr(&x)[TW_C_TW_REUSE_UNDONE], 0);
    tw__stack_check(x.st);
    sx_free(&x);
}

TEST_MAIN()
