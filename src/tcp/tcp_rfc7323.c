/* tcp_rfc7323.c - RFC 7323 for one connection: the Window Scale option
 * (§2), the Timestamps option (§3) with the TSecr echo rules (§4.3), RTT
 * measurement from TSecr (§4.1) and PAWS (§5).
 *
 * Negotiation: our SYN offers WS (a shift sized to the receive ring) and TS
 * when tw_tcp_cfg.ws / .timestamps are on; a SYN-ACK carries an option only
 * if the peer's SYN did (§2.2, §3.2). An option is in use only when both
 * SYNs carried it. With WS in use, every non-SYN window we send is
 * right-shifted by Rcv.Wind.Shift and every non-SYN window we receive is
 * left-shifted by Snd.Wind.Shift (§2.3; the windows of SYN segments are
 * never scaled). With TS in use, every segment we send carries TSval from a
 * per-connection millisecond clock and TSecr = TS.Recent.
 *
 * Segments that arrive without a TS option once TS is in use are accepted
 * (§3.2 says SHOULD drop), as Linux does: a peer whose middlebox strips the
 * option mid-connection keeps working. */
#include "tcp/tcp.h"

#define TS_OPT_BYTES 12u /* NOP NOP TS: on every segment once TS is in use */
/* §5.5: TS.Recent stops being valid after 24 days without an update (the
 * timestamp clock of a 1 ms-tick peer wraps its sign bit in 24.8 days). */
#define TS_RECENT_LIFETIME TW_SEC(24ull * 24 * 3600)

uint8_t tw__tcp_wscale_for(uint32_t rcvbuf) {
    uint8_t s = 0;
    while (s < TW_TCP_MAX_WS && (rcvbuf >> s) > 65535u) s++;
    return s;
}

/* A bijective 32-bit mixer (xor-shift and odd multipliers). */
static uint32_t mix32(uint32_t x) {
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return x;
}

void tw__tcp_ts_init(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now) {
    /* An RFC 6528 ISS is M + F(4-tuple, secret) with M a 4 µs clock.
     * Taking M back out leaves F, so the offset is as secret as the ISN and
     * the same for every incarnation of a 4-tuple (timestamps keep growing
     * across them, which RFC 6191 relies on). Mixing F keeps ISS - TSval
     * from revealing the clock (RFC 7323 §7: no host clock through TSval). */
    c->ts_offset = mix32(iss.v - (uint32_t)(now / 4000u));
}

uint32_t tw_tcp_tsval(uint32_t offset, tw_time_t now) {
    /* 1 ms per tick, within the 1 ms .. 1 s RFC 7323 §5.4 allows. */
    return (uint32_t)(now / 1000000u) + offset;
}

uint32_t tw_tcp_ts_offset_from(uint32_t keyed) {
    /* The stack passes the low half of the 4-tuple's SipHash (the ISN uses
     * the high half): as secret as the ISN, unrelated to it, the same for
     * every incarnation of the 4-tuple (timestamps keep growing across
     * incarnations, which RFC 6191 relies on), and recomputable by a compact
     * TIME_WAIT record that keeps only that half. */
    return mix32(keyed ^ 0x5bd1e995u);
}

uint32_t tw__tcp_ts_now(const tw_tcp_conn *c, tw_time_t now) {
    return tw_tcp_tsval(c->ts_offset, now);
}

void tw__tcp_syn_options(tw_tcp_conn *c, tw_tcp_seg *s, tw_time_t now) {
    s->opt.has_mss = true;
    s->opt.mss = c->cfg->mss;
    if (c->state == TW_SYN_SENT) {
        /* Active open: offer what the configuration allows. TSecr is zero
         * when the ACK bit is off (§3.2). */
        c->xopts &= (uint8_t) ~(TW_XO_WS_REQ | TW_XO_TS_REQ | TW_XO_SACK_REQ);
        if (c->cfg->ws) {
            c->xopts |= TW_XO_WS_REQ;
            s->opt.has_ws = true;
            s->opt.ws = tw__tcp_wscale_for(c->rcvbuf.cap);
        }
        if (c->cfg->timestamps) {
            c->xopts |= TW_XO_TS_REQ;
            s->opt.has_ts = true;
            s->opt.tsval = tw__tcp_ts_now(c, now);
            s->opt.tsecr = 0;
        }
        if (c->cfg->sack) { /* RFC 2018 §2 (tcp_sack.c) */
            c->xopts |= TW_XO_SACK_REQ;
            s->opt.sack_ok = true;
        }
        return;
    }
    /* SYN-ACK: WS only if the peer's SYN had it (§2.2); the TS option is
     * added by tw__tcp_stamp() as on every segment once TS is in use. */
    if (c->xopts & TW_XO_WS) {
        s->opt.has_ws = true;
        s->opt.ws = c->rcv_wscale;
    }
    s->opt.sack_ok = (c->xopts & TW_XO_SACK) != 0; /* RFC 2018 §2: only if offered */
}

void tw__tcp_take_syn_options(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now) {
    /* A listener's child answers what the configuration allows; after our
     * own SYN (active or simultaneous open) only what we offered counts. */
    bool passive = c->state == TW_LISTEN;
    bool ws = seg->opt.has_ws && (passive ? c->cfg->ws : (c->xopts & TW_XO_WS_REQ) != 0);
    bool ts = seg->opt.has_ts && (passive ? c->cfg->timestamps : (c->xopts & TW_XO_TS_REQ) != 0);
    bool sack = seg->opt.sack_ok && (passive ? c->cfg->sack : (c->xopts & TW_XO_SACK_REQ) != 0);
    c->xopts &= (uint8_t) ~(TW_XO_WS | TW_XO_TS | TW_XO_SACK);
    if (sack) c->xopts |= TW_XO_SACK;
    c->snd_wscale = c->rcv_wscale = 0;
    if (ws) {
        c->xopts |= TW_XO_WS;
        c->snd_wscale = seg->opt.ws; /* the parser already cut shifts above 14 (§2.3) */
        c->rcv_wscale = tw__tcp_wscale_for(c->rcvbuf.cap);
    }
    if (ts) {
        c->xopts |= TW_XO_TS;
        c->ts_recent = seg->opt.tsval;
        c->ts_recent_age = now;
    }
    /* RFC 9293 §3.7.1: the options every segment carries come out of the
     * effective send MSS. */
    uint32_t opt = ts ? TS_OPT_BYTES : 0;
    c->smss = (uint16_t)(c->snd_mss > opt ? c->snd_mss - opt : 1);
}

void tw__tcp_stamp(tw_tcp_conn *c, tw_tcp_seg *s, unsigned meta, tw_time_t now) {
    if (c->xopts & TW_XO_TS) {
        /* §3.2: every segment once TS is in use (and, a SHOULD, RSTs too);
         * §4.3 (3): TSecr is TS.Recent. */
        s->opt.has_ts = true;
        s->opt.tsval = tw__tcp_ts_now(c, now);
        s->opt.tsecr = c->ts_recent;
    }
    /* RFC 2018 §4: SACK blocks on every ACK while out-of-order data is
     * held; a D-SACK (RFC 2883) goes in one ACK only. */
    if ((s->flags & TW_TH_ACK) && tw__tcp_sack_due(c)) {
        tw__tcp_sack_fill(c, s);
        if (c->flags & TW_TF_DSACK) tw__tcp_count(c, TW_C_DSACK_SENT);
        c->flags &= ~(uint32_t)TW_TF_DSACK;
    }
    /* A keep-alive probe's ACK field is never processed by the peer (the
     * probe is below its window): it does not count as an ACK sent. */
    if ((s->flags & TW_TH_ACK) && !(meta & TW_SEGMETA_KEEPALIVE)) c->last_ack_sent = s->ack;
}

/* §5.5: TS.Recent not refreshed for 24 days is no longer a valid reference. */
static bool ts_recent_valid(const tw_tcp_conn *c, tw_time_t now) {
    return now < c->ts_recent_age || now - c->ts_recent_age <= TS_RECENT_LIFETIME;
}

bool tw__tcp_paws_reject(const tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now) {
    /* R1: a TS option, SEG.TSval < TS.Recent (modulo 2^32), TS.Recent valid,
     * and no RST (RSTs are exempt, §5.3 note and §5.2). */
    if (!(c->xopts & TW_XO_TS) || !seg->opt.has_ts || (seg->flags & TW_TH_RST)) return false;
    if ((int32_t)(seg->opt.tsval - c->ts_recent) >= 0) return false;
    return ts_recent_valid(c, now);
}

void tw__tcp_ts_recent_update(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now) {
    /* R3 / §4.3 (2): SEG.TSval >= TS.Recent and SEG.SEQ <= Last.ACK.sent, so
     * with delayed ACKs TS.Recent is the TSval of the earliest segment the
     * next ACK covers, and out-of-order segments never set it. */
    if (!(c->xopts & TW_XO_TS) || !seg->opt.has_ts) return;
    if (tw_seq_gt(seg->seq, c->last_ack_sent)) return;
    if ((int32_t)(seg->opt.tsval - c->ts_recent) < 0 && ts_recent_valid(c, now)) return;
    c->ts_recent = seg->opt.tsval;
    c->ts_recent_age = now;
}

bool tw__tcp_ts_rtt(const tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now, tw_time_t *rtt) {
    /* §4.1: RTT = our clock now - TSecr, taken from ACKs of new data; TSecr
     * is only meaningful with the ACK bit. An echo from the future or from
     * before the connection existed is not one of ours: no sample. */
    if (!(c->xopts & TW_XO_TS) || !seg->opt.has_ts || !(seg->flags & TW_TH_ACK)) return false;
    uint32_t ms = tw__tcp_ts_now(c, now) - seg->opt.tsecr;
    tw_time_t age = now > c->created ? now - c->created : 0;
    if ((int32_t)ms < 0 || (tw_time_t)ms > age / 1000000u + 1) return false;
    *rtt = TW_MS(ms);
    return true;
}
