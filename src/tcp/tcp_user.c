/* tcp_user.c - USER CALLS (RFC 9293 §3.10.1-§3.10.6): OPEN, SEND, RECEIVE,
 * CLOSE (with shutdown as its half), ABORT.
 *
 * None of these sends anything itself: they change state and set flags, and
 * the stack calls tw_tcp_output() afterwards. */
#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"

static void start_seq(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now) {
    c->iss = iss;
    c->snd_una = c->snd_nxt = c->snd_max = iss;
    c->snd_wl2 = iss;
    tw__tcp_ts_init(c, iss, now); /* the RFC 7323 timestamp offset */
}

int tw_tcp_connect(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now) {
    if (c->state != TW_CLOSED) return -TW_EISCONN;
    start_seq(c, iss, now);
    tw_tcp_set_state(c, TW_SYN_SENT, TW_CAUSE_USER_CONNECT, now);
    return 0;
}

int tw_tcp_listen(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now) {
    if (c->state != TW_CLOSED) return -TW_EISCONN;
    start_seq(c, iss, now);
    /* The connection starts life as a copy of its listener, already in
     * LISTEN: this is its initial state, not a move, so nothing is traced
     * (the listener's own CLOSED -> LISTEN was traced by tw_listen). */
    c->state = TW_LISTEN;
    c->state_since = now;
    return 0;
}

int tw_tcp_send(tw_tcp_conn *c, const void *buf, uint32_t n, tw_time_t now) {
    (void)now;
    /* After shutdown(WR) or close, writing is EPIPE in every later state,
     * CLOSED included, unless the connection failed with an error. */
    if ((c->flags & TW_TF_FIN_QUEUED) && !c->err) return -TW_EPIPE;
    switch (c->state) {
    case TW_SYN_SENT:
    case TW_SYN_RECEIVED:
    case TW_ESTABLISHED:
    case TW_CLOSE_WAIT: break; /* §3.10.2: queue (sent once synchronized) */
    case TW_CLOSED: return c->err ? -c->err : -TW_ENOTCONN;
    case TW_LISTEN: return -TW_ENOTCONN;
    default: return -TW_EPIPE; /* "connection closing" */
    }
    if (c->flags & TW_TF_FIN_QUEUED) return -TW_EPIPE;
    if (n == 0) return 0;
    uint32_t w = tw_ring_write(&c->sndbuf, buf, n);
    return w ? (int)w : -TW_EAGAIN;
}

/* SEND with the URGENT flag (RFC 9293 §3.10.2): SND.UP moves to the end of
 * the data queued, which stays in line; output marks every segment below
 * it (tcp_output.c mark_urgent). */
int tw_tcp_send_urgent(tw_tcp_conn *c, const void *buf, uint32_t n, tw_time_t now) {
    int rc = tw_tcp_send(c, buf, n, now);
    if (rc > 0) {
        c->snd_up = tw_seq_add(tw__tcp_snd_data_start(c), tw_ring_len(&c->sndbuf));
        c->flags |= TW_TF_URG_SND;
    }
    return rc;
}

/* Sequence number of the next octet the application will read. */
static tw_seq_t read_seq(const tw_tcp_conn *c) {
    uint32_t fin = (c->flags & TW_TF_RCVD_FIN) ? 1u : 0u;
    return tw_seq_add(c->rcv_nxt, (uint32_t) - (tw_ring_len(&c->rcvbuf) + fin));
}

uint32_t tw_tcp_urgent_pending(const tw_tcp_conn *c) {
    if (!(c->flags & TW_TF_URG_RCV)) return 0;
    int32_t d = tw_seq_diff(c->rcv_up, read_seq(c));
    return d > 0 ? (uint32_t)d : 0;
}

/* Step 6 of RFC 9293 §3.10.7.4 (the URG bit), for the states that still
 * receive data: RCV.UP <- max(RCV.UP, SEG.SEQ + SEG.UP), and the user is
 * told once per run of urgent data, when the pointer moves ahead of what it
 * has read while no urgent data was pending (MUST-32). */
void tw__tcp_urg_input(tw_tcp_conn *c, const tw_tcp_seg *seg) {
    if (c->state != TW_ESTABLISHED && c->state != TW_FIN_WAIT_1 && c->state != TW_FIN_WAIT_2)
        return;                /* the peer's FIN came first: ignored, as the RFC says */
    if (seg->urp == 0) return; /* points at SEG.SEQ itself: no urgent octet (RFC 6093 §3) */
    tw_seq_t up = tw_seq_add(seg->seq, seg->urp);
    uint32_t pending = tw_tcp_urgent_pending(c);
    if (!tw_seq_gt(up, tw_seq_add(read_seq(c), pending))) return; /* nothing new */
    c->rcv_up = up;
    c->flags |= TW_TF_URG_RCV;
    tw__tcp_count(c, TW_C_URG_IN);
    if (!pending) c->events |= TW_CEV_URGENT;
}

int tw_tcp_recv(tw_tcp_conn *c, void *buf, uint32_t n, tw_time_t now) {
    (void)now;
    if (tw_ring_len(&c->rcvbuf) > 0) {
        if (n == 0) return 0;
        int got = (int)tw_ring_read(&c->rcvbuf, buf, n);
        /* Read past the mark: the run of urgent data is over. */
        if ((c->flags & TW_TF_URG_RCV) && !tw_tcp_urgent_pending(c))
            c->flags &= ~(uint32_t)TW_TF_URG_RCV;
        return got;
    }
    if (c->flags & TW_TF_RCVD_FIN) return 0; /* end of stream */
    if (c->state == TW_CLOSED) return c->err ? -c->err : 0;
    if (c->state == TW_LISTEN) return -TW_ENOTCONN;
    return -TW_EAGAIN;
}

/* Queues our FIN after the data (RFC 9293 §3.10.4) and makes the move the
 * RFC gives for CLOSE in this state. */
static int queue_fin(tw_tcp_conn *c, tw_cause cause, tw_time_t now) {
    if (c->flags & TW_TF_FIN_QUEUED) return 0;
    switch (c->state) {
    case TW_SYN_RECEIVED:
        /* §3.10.4: queued until ESTABLISHED (became_established moves on). */
        c->flags |= TW_TF_FIN_QUEUED;
        c->fin_seq = tw_seq_add(tw__tcp_snd_data_start(c), tw_ring_len(&c->sndbuf));
        return 0;
    case TW_ESTABLISHED:
        c->flags |= TW_TF_FIN_QUEUED;
        c->fin_seq = tw_seq_add(tw__tcp_snd_data_start(c), tw_ring_len(&c->sndbuf));
        tw_tcp_set_state(c, TW_FIN_WAIT_1, cause, now);
        return 0;
    case TW_CLOSE_WAIT:
        c->flags |= TW_TF_FIN_QUEUED;
        c->fin_seq = tw_seq_add(tw__tcp_snd_data_start(c), tw_ring_len(&c->sndbuf));
        tw_tcp_set_state(c, TW_LAST_ACK, cause, now);
        return 0;
    default: return 0;
    }
}

int tw_tcp_shutdown(tw_tcp_conn *c, tw_time_t now) {
    switch (c->state) {
    case TW_CLOSED:
    case TW_LISTEN:
    case TW_SYN_SENT: return -TW_ENOTCONN;
    default: return queue_fin(c, TW_CAUSE_USER_SHUTDOWN, now);
    }
}

int tw_tcp_abort(tw_tcp_conn *c, tw_time_t now) {
    switch (c->state) {
    case TW_SYN_RECEIVED:
    case TW_ESTABLISHED:
    case TW_FIN_WAIT_1:
    case TW_FIN_WAIT_2:
    case TW_CLOSE_WAIT:
        /* §3.10.5: send <SEQ=SND.NXT><CTL=RST>, then CLOSED. */
        c->flags |= TW_TF_SEND_RST;
        tw__tcp_count(c, TW_C_RST_ABORT);
        break;
    default: /* LISTEN, SYN_SENT, CLOSING, LAST_ACK, TIME_WAIT: no RST */ break;
    }
    c->flags |= TW_TF_ORPHAN;
    tw__tcp_enter_closed(c, TW_CAUSE_USER_ABORT, 0, now);
    return 0;
}

int tw_tcp_close(tw_tcp_conn *c, tw_time_t now) {
    /* SO_LINGER on with a zero time: close() is an abort (RST, no TIME_WAIT). */
    if ((c->uflags & TW_UF_LINGER) && c->linger_s == 0) return tw_tcp_abort(c, now);
    switch (c->state) {
    case TW_CLOSED: c->flags |= TW_TF_ORPHAN; return 0;
    case TW_LISTEN:
    case TW_SYN_SENT:
        c->flags |= TW_TF_ORPHAN;
        tw__tcp_enter_closed(c, TW_CAUSE_USER_CLOSE, 0, now);
        return 0;
    default: break;
    }
    bool sync = c->state != TW_TIME_WAIT && c->state != TW_CLOSING && c->state != TW_LAST_ACK;
    if (sync && tw_ring_len(&c->rcvbuf) > 0) {
        /* RFC 9293 §3.10.4 / SHLD-3 (RFC 2525 §2.17): closing with unread
         * data is an abort, so the peer learns the data was lost. */
        c->flags |= TW_TF_SEND_RST | TW_TF_ORPHAN;
        tw__tcp_count(c, TW_C_RST_UNREAD_DATA);
        tw__tcp_enter_closed(c, TW_CAUSE_USER_CLOSE_UNREAD, 0, now);
        return 0;
    }
    c->flags |= TW_TF_ORPHAN;
    queue_fin(c, TW_CAUSE_USER_CLOSE, now);
    if (c->state == TW_FIN_WAIT_2 && c->fw2_timeout && c->t_fw2 == TW_TIME_NEVER)
        c->t_fw2 = now + c->fw2_timeout;
    return 0;
}
