/* tcp_settings.c - a connection's per-connection settings (the values of
 * socket options) as one tw_tcp_settings value: defaults from the
 * configuration, read back, and applied to a connection. Sockets hold such a
 * value before they have a connection (src/sock/sockopt.c); a connection
 * made by tw_connect or accepted from a listener starts with it. */
#include <tcpwave/tw_errno.h>

#include "tcp/tcp.h"

void tw_tcp_settings_default(tw_tcp_settings *s, const tw_tcp_cfg *cfg) {
    s->bits = 0;
    if (cfg->keepalive) s->bits |= TW_SET_KEEPALIVE;
    if (cfg->delack_fin) s->bits |= TW_SET_DELACK_FIN;
    if (cfg->delack_synack) s->bits |= TW_SET_DELACK_SYNACK;
    if (!cfg->nagle) s->bits |= TW_SET_NODELAY;
    s->ka_cnt = cfg->keepcnt;
    s->ttl = cfg->ttl;
    s->tos = cfg->tos;
    s->linger_s = 0;
    s->rcvbuf = cfg->rcvbuf;
    s->sndbuf = cfg->sndbuf;
    s->ka_idle = cfg->keepidle;
    s->ka_intvl = cfg->keepintvl;
    s->user_timeout = cfg->user_timeout;
    s->fw2_timeout = cfg->fin_wait_2_timeout;
}

void tw_tcp_settings_get(const tw_tcp_conn *c, tw_tcp_settings *s) {
    s->bits = 0;
    if (c->uflags & TW_UF_KEEPALIVE) s->bits |= TW_SET_KEEPALIVE;
    if (c->uflags & TW_UF_DELACK_FIN) s->bits |= TW_SET_DELACK_FIN;
    if (c->uflags & TW_UF_DELACK_SYNACK) s->bits |= TW_SET_DELACK_SYNACK;
    if (c->uflags & TW_UF_LINGER) s->bits |= TW_SET_LINGER;
    if (c->flags & TW_TF_NODELAY) s->bits |= TW_SET_NODELAY;
    if (c->uflags & TW_UF_QUIET_ERRORS) s->bits |= TW_SET_QUIET_ERRORS;
    s->ka_cnt = c->ka_cnt;
    s->ttl = c->ip_ttl;
    s->tos = c->ip_tos;
    s->linger_s = c->linger_s;
    s->rcvbuf = c->rcvbuf.cap;
    s->sndbuf = c->sndbuf.cap;
    s->ka_idle = c->ka_idle;
    s->ka_intvl = c->ka_intvl;
    s->user_timeout = c->user_timeout;
    s->fw2_timeout = c->fw2_timeout;
}

int tw_tcp_set_bufs(tw_tcp_conn *c, uint32_t rcvbuf, uint32_t sndbuf) {
    if (rcvbuf == c->rcvbuf.cap && sndbuf == c->sndbuf.cap) return 0;
    /* Fresh: nothing sent (the SYN still to go), nothing buffered. The
     * window scale we offer is sized to the receive ring when the SYN or
     * SYN-ACK is built, so it follows the new size. */
    bool fresh = c->state == TW_CLOSED || c->state == TW_LISTEN ||
                 (c->state == TW_SYN_SENT && tw_seq_eq(c->snd_max, c->iss));
    if (!fresh || tw_ring_len(&c->sndbuf) || tw_ring_len(&c->rcvbuf)) return -TW_EINVAL;
    if (rcvbuf == 0 || sndbuf == 0) return -TW_EINVAL;
    /* The memory behind each ring is the configured size. */
    if (rcvbuf > c->cfg->rcvbuf) rcvbuf = c->cfg->rcvbuf;
    if (sndbuf > c->cfg->sndbuf) sndbuf = c->cfg->sndbuf;
    tw_ring_init(&c->rcvbuf, c->rcvbuf.buf, rcvbuf);
    tw_ring_init(&c->sndbuf, c->sndbuf.buf, sndbuf);
    return 0;
}

int tw_tcp_settings_apply(tw_tcp_conn *c, const tw_tcp_settings *s, tw_time_t now) {
    /* Timers move only for what changed: setting another option must not
     * restart the keep-alive idle time or the user timeout. */
    bool ka_on = (s->bits & TW_SET_KEEPALIVE) != 0;
    if (ka_on != ((c->uflags & TW_UF_KEEPALIVE) != 0) || s->ka_idle != c->ka_idle ||
        s->ka_intvl != c->ka_intvl || s->ka_cnt != c->ka_cnt)
        tw_tcp_set_keepalive(c, ka_on, s->ka_idle, s->ka_intvl, s->ka_cnt, now);
    if (s->user_timeout != c->user_timeout) tw_tcp_set_user_timeout(c, s->user_timeout, now);
    c->fw2_timeout = s->fw2_timeout;
    c->linger_s = s->linger_s;
    c->ip_ttl = s->ttl;
    c->ip_tos = s->tos;
    c->uflags &=
        (uint8_t) ~(TW_UF_DELACK_FIN | TW_UF_LINGER | TW_UF_DELACK_SYNACK | TW_UF_QUIET_ERRORS);
    if (s->bits & TW_SET_QUIET_ERRORS) c->uflags |= TW_UF_QUIET_ERRORS;
    if (s->bits & TW_SET_DELACK_FIN) c->uflags |= TW_UF_DELACK_FIN;
    if (s->bits & TW_SET_DELACK_SYNACK) c->uflags |= TW_UF_DELACK_SYNACK;
    if (s->bits & TW_SET_LINGER) c->uflags |= TW_UF_LINGER;
    if (s->bits & TW_SET_NODELAY)
        c->flags |= TW_TF_NODELAY;
    else
        c->flags &= ~(uint32_t)TW_TF_NODELAY;
    return tw_tcp_set_bufs(c, s->rcvbuf, s->sndbuf);
}
