/* tcp_keep.c - keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and the
 * user timeout (RFC 9293 §3.10.8 USER TIMEOUT, RFC 5482).
 *
 * Keep-alives are off by default (MUST-25) and set per connection
 * (MUST-24): after `ka_idle` (default 2 h, MUST-27/28) with no segment from
 * the peer and nothing of ours outstanding (MUST-26), a probe
 * <SEQ=SND.NXT-1><ACK=RCV.NXT><CTL=ACK> with no data is sent (SHLD-12; the
 * optional garbage octet of MAY-6 is never sent). The peer sees a sequence
 * number below its window and must answer with an ACK. Any segment from the
 * peer restarts the idle time; `ka_cnt` probes `ka_intvl` apart may go
 * unanswered (one lost probe is not a dead peer, MUST-29), and when the next
 * interval ends without an answer too the connection is aborted with
 * ETIMEDOUT (cause TIMEOUT_KEEPALIVE). Like the R2 give-up of the
 * retransmission timer, the abort sends no RST.
 *
 * User timeout: when data (or a SYN or FIN) stays unacknowledged for
 * `user_timeout`, the connection is aborted with ETIMEDOUT (cause
 * TIMEOUT_USER), without an RST. The deadline starts when something is sent
 * with nothing outstanding (tw__tcp_arm_rexmt) and restarts whenever an ACK
 * makes progress; a zero window is no exception (as Linux's
 * TCP_USER_TIMEOUT: the user asked for a bound on being stuck). */
#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"

/* States where an idle connection is kept alive: the synchronized ones but
 * TIME_WAIT (those with a FIN outstanding wait on their retransmissions). */
static bool keep_state(tw_state s) {
    return s >= TW_ESTABLISHED && s <= TW_FIN_WAIT_2;
}

void tw__tcp_keep_heard(tw_tcp_conn *c, tw_time_t now) {
    c->ka_probes = 0;
    c->uflags &= (uint8_t)~TW_UF_KEEP_PROBE;
    c->t_keep = keep_state(c->state) ? now + c->ka_idle : TW_TIME_NEVER;
}

void tw__tcp_keep_timeout(tw_tcp_conn *c, tw_time_t now) {
    c->t_keep = TW_TIME_NEVER;
    if (!(c->uflags & TW_UF_KEEPALIVE) || !keep_state(c->state)) return;
    tw__tcp_trace_timer(c, TW_TIMER_KEEPALIVE, now);
    /* MUST-26: only with nothing outstanding. Data or a FIN in flight is the
     * retransmission timer's business, a closed window the persist timer's;
     * the idle time starts again. */
    if (!tw_seq_eq(c->snd_una, c->snd_max) || c->t_rexmt != TW_TIME_NEVER ||
        c->t_persist != TW_TIME_NEVER) {
        c->ka_probes = 0;
        c->t_keep = now + c->ka_idle;
        return;
    }
    if (c->ka_probes >= c->ka_cnt) {
        tw__tcp_count(c, TW_C_CONN_KEEPALIVE_TIMEDOUT);
        tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_KEEPALIVE, TW_ETIMEDOUT, now);
        return;
    }
    c->ka_probes++;
    c->uflags |= TW_UF_KEEP_PROBE; /* tw_tcp_output() sends it */
    c->t_keep = now + c->ka_intvl;
}

void tw__tcp_user_timeout(tw_tcp_conn *c, tw_time_t now) {
    c->t_user = TW_TIME_NEVER;
    if (c->user_timeout == 0 || tw_seq_eq(c->snd_una, c->snd_max)) return; /* all acknowledged */
    if (c->state == TW_CLOSED || c->state == TW_LISTEN || c->state == TW_TIME_WAIT) return;
    tw__tcp_trace_timer(c, TW_TIMER_USER, now);
    tw__tcp_count(c, TW_C_CONN_USER_TIMEDOUT);
    tw__tcp_enter_closed(c, TW_CAUSE_TIMEOUT_USER, TW_ETIMEDOUT, now);
}

void tw_tcp_set_keepalive(tw_tcp_conn *c, bool on, tw_time_t idle, tw_time_t intvl, uint8_t cnt,
                          tw_time_t now) {
    if (idle) c->ka_idle = idle;
    if (intvl) c->ka_intvl = intvl;
    if (cnt) c->ka_cnt = cnt;
    if (!on) {
        c->uflags &= (uint8_t) ~(TW_UF_KEEPALIVE | TW_UF_KEEP_PROBE);
        c->t_keep = TW_TIME_NEVER;
        return;
    }
    /* Turned on, or its times changed: the idle time counts from now. */
    c->uflags |= TW_UF_KEEPALIVE;
    tw__tcp_keep_heard(c, now);
}

void tw_tcp_set_user_timeout(tw_tcp_conn *c, tw_time_t ut, tw_time_t now) {
    c->user_timeout = ut;
    bool outstanding =
        !tw_seq_eq(c->snd_una, c->snd_max) && c->state != TW_CLOSED && c->state != TW_TIME_WAIT;
    c->t_user = ut && outstanding ? now + ut : TW_TIME_NEVER;
}
