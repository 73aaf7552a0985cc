/* tcp_state.c - the connection state machine's skeleton: names, the table of
 * legal moves (RFC 9293 §3.3.2, Figure 5, plus the aborts every synchronized
 * state may take), tw_tcp_set_state(), configuration defaults and
 * construction. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"

static const char *const state_names[TW_STATE__COUNT] = {
#define TW_X_STATE(n) #n,
    TW_STATES(TW_X_STATE)
#undef TW_X_STATE
};

static const char *const cause_names[TW_CAUSE__COUNT] = {
#define TW_X_CAUSE(n, d) #n,
    TW_CAUSES(TW_X_CAUSE)
#undef TW_X_CAUSE
};

static const char *const cause_descs[TW_CAUSE__COUNT] = {
#define TW_X_CAUSE(n, d) d,
    TW_CAUSES(TW_X_CAUSE)
#undef TW_X_CAUSE
};

static const char *const timer_names[TW_TIMER__COUNT] = {
    "retransmit", "delack", "persist", "2msl", "fin_wait_2", "keepalive", "user_timeout",
};

static const char *const call_names[TW_CALL__COUNT] = {
    "connect", "listen", "send", "recv", "shutdown", "close", "abort",
};

const char *tw_state_name(int s) {
    return (s >= 0 && s < TW_STATE__COUNT) ? state_names[s] : "?";
}
const char *tw_cause_name(int c) {
    return (c >= 0 && c < TW_CAUSE__COUNT) ? cause_names[c] : "?";
}
const char *tw_cause_desc(int c) {
    return (c >= 0 && c < TW_CAUSE__COUNT) ? cause_descs[c] : "?";
}
const char *tw_timer_name(int k) {
    return (k >= 0 && k < TW_TIMER__COUNT) ? timer_names[k] : "?";
}
const char *tw_call_name(int c) {
    return (c >= 0 && c < TW_CALL__COUNT) ? call_names[c] : "?";
}

#define B(s) (1u << TW_##s)
/* legal[from] = set of states `from` may move to. CLOSED is reachable from
 * every state (RST, abort, timeout). Each row cites the RFC 9293 text. */
static const uint16_t legal[TW_STATE__COUNT] = {
    /* §3.10.1 OPEN: passive -> LISTEN, active -> SYN_SENT */
    [TW_CLOSED] = B(LISTEN) | B(SYN_SENT),
    /* §3.10.7.2: SYN -> SYN_RECEIVED; §3.10.1 SEND in LISTEN -> SYN_SENT; CLOSE */
    [TW_LISTEN] = B(SYN_RECEIVED) | B(SYN_SENT) | B(CLOSED),
    /* §3.10.7.3: SYN+ACK -> ESTABLISHED, bare SYN -> SYN_RECEIVED (simultaneous open) */
    [TW_SYN_SENT] = B(ESTABLISHED) | B(SYN_RECEIVED) | B(CLOSED),
    /* §3.10.7.4: ACK -> ESTABLISHED; §3.10.4 CLOSE -> FIN_WAIT_1 */
    [TW_SYN_RECEIVED] = B(ESTABLISHED) | B(FIN_WAIT_1) | B(CLOSED),
    /* CLOSE -> FIN_WAIT_1; FIN -> CLOSE_WAIT */
    [TW_ESTABLISHED] = B(FIN_WAIT_1) | B(CLOSE_WAIT) | B(CLOSED),
    /* CLOSE -> LAST_ACK */
    [TW_CLOSE_WAIT] = B(LAST_ACK) | B(CLOSED),
    /* ACK of FIN -> FIN_WAIT_2; FIN -> CLOSING; FIN+ACK of FIN -> TIME_WAIT */
    [TW_FIN_WAIT_1] = B(FIN_WAIT_2) | B(CLOSING) | B(TIME_WAIT) | B(CLOSED),
    /* ACK of FIN -> TIME_WAIT */
    [TW_CLOSING] = B(TIME_WAIT) | B(CLOSED),
    /* ACK of FIN -> CLOSED */
    [TW_LAST_ACK] = B(CLOSED),
    /* FIN -> TIME_WAIT; FIN_WAIT_2 timeout -> CLOSED */
    [TW_FIN_WAIT_2] = B(TIME_WAIT) | B(CLOSED),
    /* 2MSL -> CLOSED (also reuse by a new SYN, which ends this incarnation) */
    [TW_TIME_WAIT] = B(CLOSED),
};
#undef B

bool tw_tcp_move_legal(tw_state from, tw_state to) {
    if ((unsigned)from >= TW_STATE__COUNT || (unsigned)to >= TW_STATE__COUNT) return false;
    return (legal[from] >> to) & 1u;
}

void tw__trace_state(const tw_tcp_env *env, uint32_t id, tw_state from, tw_state to, tw_cause cause,
                     tw_time_t now, uint32_t laddr, uint16_t lport, uint32_t raddr,
                     uint16_t rport) {
    if (!env || !env->trace) return;
    tw_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.t = now;
    ev.conn_id = id;
    ev.kind = TW_EV_STATE;
    ev.old_state = (uint8_t)from;
    ev.new_state = (uint8_t)to;
    ev.cause = (uint8_t)cause;
    ev.laddr = laddr;
    ev.raddr = raddr;
    ev.lport = lport;
    ev.rport = rport;
    env->trace(env->trace_ctx, &ev);
}

void tw_tcp_set_state(tw_tcp_conn *c, tw_state to, tw_cause cause, tw_time_t now) {
    if (!tw_tcp_move_legal(c->state, to)) {
        /* An illegal move is a bug in this file's callers, never a peer's doing. */
        fprintf(stderr, "tcpwave: illegal state move %s -> %s (%s) on conn %u\n",
                tw_state_name(c->state), tw_state_name(to), tw_cause_name(cause), c->id);
        abort();
    }
    tw_state from = c->state;
    c->state = to;
    c->state_since = now;
    if (c->env->trace) /* the ten arguments cost a frame even when nobody traces */
        tw__trace_state(c->env, c->id, from, to, cause, now, c->laddr, c->lport, c->raddr,
                        c->rport);
}

void tw__tcp_trace_timer(const tw_tcp_conn *c, tw_timer_kind k, tw_time_t now) {
    if (!c->env->trace) return;
    tw_trace_ev ev;
    memset(&ev, 0, sizeof ev);
    ev.t = now;
    ev.conn_id = c->id;
    ev.kind = TW_EV_TIMER;
    ev.old_state = ev.new_state = (uint8_t)c->state;
    ev.cause = (uint8_t)k;
    ev.laddr = c->laddr;
    ev.raddr = c->raddr;
    ev.lport = c->lport;
    ev.rport = c->rport;
    c->env->trace(c->env->trace_ctx, &ev);
}

void tw_tcp_soft_error(tw_tcp_conn *c, int err) {
    c->soft_err = err;
    if (!(c->uflags & TW_UF_QUIET_ERRORS)) c->events |= TW_CEV_SOFT_ERROR;
}

void tw_tcp_cfg_default(tw_tcp_cfg *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->mss = 1460;
    cfg->msl = TW_SEC(30);
    cfg->rto_initial = TW_SEC(1);
    cfg->rto_min = TW_SEC(1);
    cfg->rto_max = TW_SEC(60);
    cfg->delack = TW_MS(200);
    cfg->fin_wait_2_timeout = TW_SEC(60);
    cfg->syn_retries = 8; /* the last SYN at 183 s: RFC 9293 MUST-23 asks for 3 minutes */
    cfg->r1 = 3;          /* RFC 9293 SHLD-10: at least 3 retransmissions */
    cfg->ttl = 64;
    cfg->tos = 0;
    cfg->data_retries = 15;
    cfg->delack_enabled = true;
    cfg->delack_fin = false;
    cfg->delack_synack = false;
    cfg->nagle = true;
    cfg->challenge_ack_limit = 10;
    cfg->rcvbuf = 65535;
    cfg->sndbuf = 65535;
    cfg->ws = true;
    cfg->timestamps = true;
    cfg->sack = true;
    cfg->ecn = TW_TCP_ECN_PASSIVE; /* as Linux: ECN when the peer asks for it */
    cfg->cc = TW_TCP_CC_NEWRENO;
    cfg->hystart = true;
    cfg->keepalive = false;
    cfg->keepidle = TW_SEC(2 * 3600);
    cfg->keepintvl = TW_SEC(75);
    cfg->keepcnt = 9;
    cfg->user_timeout = 0;
}

void tw_tcp_init(tw_tcp_conn *c, const tw_tcp_cfg *cfg, const tw_tcp_env *env, uint32_t id,
                 uint8_t *sndmem, uint8_t *rcvmem, tw_time_t now) {
    memset(c, 0, offsetof(tw_tcp_conn, ooo)); /* the range lists: only their counts */
    c->state = TW_CLOSED;
    c->id = id;
    c->cfg = cfg;
    c->env = env;
    tw_ring_init(&c->sndbuf, sndmem, cfg->sndbuf);
    tw_ring_init(&c->rcvbuf, rcvmem, cfg->rcvbuf);
    tw_asm_init(&c->ooo);
    c->t_rexmt = c->t_delack = c->t_persist = c->t_2msl = c->t_fw2 = TW_TIME_NEVER;
    c->t_keep = c->t_user = TW_TIME_NEVER;
    c->rto = cfg->rto_initial;
    c->snd_mss = c->smss = 536; /* RFC 9293 MUST-15: the default send MSS is 536 */
    c->cc = cfg->cc == TW_TCP_CC_CUBIC ? &tw_cc_cubic : &tw_cc_newreno;
    c->cc->init(c); /* again once synchronized, with the negotiated SMSS */
    c->created = c->state_since = now;
    if (!cfg->nagle) c->flags |= TW_TF_NODELAY;
    /* Per-connection settings start as the configuration says. */
    if (cfg->keepalive) c->uflags |= TW_UF_KEEPALIVE;
    if (cfg->delack_fin) c->uflags |= TW_UF_DELACK_FIN;
    if (cfg->delack_synack) c->uflags |= TW_UF_DELACK_SYNACK;
    c->ka_idle = cfg->keepidle;
    c->ka_intvl = cfg->keepintvl;
    c->ka_cnt = cfg->keepcnt;
    c->user_timeout = cfg->user_timeout;
    c->fw2_timeout = cfg->fin_wait_2_timeout;
    c->ip_ttl = cfg->ttl;
    c->ip_tos = cfg->tos;
}

void tw_tcp_set_tuple(tw_tcp_conn *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
                      uint16_t rport) {
    c->laddr = laddr;
    c->lport = lport;
    c->raddr = raddr;
    c->rport = rport;
}

void tw__tcp_enter_closed(tw_tcp_conn *c, tw_cause cause, int err, tw_time_t now) {
    if (c->state == TW_CLOSED) return;
    c->close_cause = cause;
    if (err && !c->err) c->err = err;
    c->t_rexmt = c->t_delack = c->t_persist = c->t_2msl = c->t_fw2 = TW_TIME_NEVER;
    c->t_keep = c->t_user = TW_TIME_NEVER;
    c->uflags &= (uint8_t)~TW_UF_KEEP_PROBE;
    c->flags &= ~(uint32_t)(TW_TF_ACK_NOW | TW_TF_DELACK | TW_TF_FORCE_PROBE);
    tw_tcp_set_state(c, TW_CLOSED, cause, now);
    tw__tcp_count(c, TW_C_CONN_CLOSED);
    c->events |= TW_CEV_CLOSED | TW_CEV_READABLE | TW_CEV_WRITABLE;
}

void tw__tcp_enter_time_wait(tw_tcp_conn *c, tw_cause cause, tw_time_t now) {
    /* RFC 9293 §3.10.7.4: all timers but 2MSL are off in TIME_WAIT. */
    c->t_rexmt = c->t_persist = c->t_fw2 = c->t_keep = c->t_user = TW_TIME_NEVER;
    c->t_2msl = now + 2 * c->cfg->msl;
    tw_tcp_set_state(c, TW_TIME_WAIT, cause, now);
    tw__tcp_count(c, TW_C_TW_ENTER);
    c->events |= TW_CEV_READABLE;
}

bool tw_tcp_make_rst(const tw_tcp_seg *in, tw_tcp_seg *out) {
    if (in->flags & TW_TH_RST) return false; /* never answer an RST with an RST */
    memset(out, 0, sizeof *out);
    out->src_addr = in->dst_addr;
    out->dst_addr = in->src_addr;
    out->src_port = in->dst_port;
    out->dst_port = in->src_port;
    if (in->flags & TW_TH_ACK) {
        out->seq = in->ack;
        out->flags = TW_TH_RST;
    } else {
        out->seq = tw_seq(0);
        out->ack = tw_seq_add(in->seq, tw_seg_seqlen(in));
        out->flags = TW_TH_RST | TW_TH_ACK;
    }
    return true;
}

bool tw_tcp_is_dead(const tw_tcp_conn *c) {
    return c->state == TW_CLOSED && !(c->flags & TW_TF_SEND_RST);
}

uint32_t tw_tcp_readable(const tw_tcp_conn *c) {
    return tw_ring_len(&c->rcvbuf);
}

uint32_t tw_tcp_writable(const tw_tcp_conn *c) {
    if (c->flags & TW_TF_FIN_QUEUED) return 0;
    return tw_ring_free(&c->sndbuf);
}
