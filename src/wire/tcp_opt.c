/* tcp_opt.c - owns TCP option parsing and emission: MSS (RFC 9293 §3.2),
 * window scale and timestamps (RFC 7323), SACK-permitted and SACK blocks
 * (RFC 2018), NOP and EOL.
 *
 * The parser is context-free: it reports what the options area says and
 * leaves "is WS allowed on this segment" to the TCP state machine. */
#include <string.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/bytes.h"
#include "wire/tcp_hdr.h"

#define TCP_MAX_OPT_LEN (TW_TCP_MAX_HDR_LEN - TW_TCP_HDR_LEN) /* 40 */

/* Option sizes on the wire, kind and length bytes included. */
#define OLEN_MSS 4
#define OLEN_WS 3
#define OLEN_SACK_OK 2
#define OLEN_TS 10
#define OLEN_SACK_BASE 2
#define OLEN_SACK_BLOCK 8

/* Records one option whose kind/length framing is already known to be in
 * bounds. A known kind with the wrong length is malformed: RFC 9293 §3.2
 * fixes these sizes, and accepting e.g. a 3-byte MSS would mean guessing. */
static int opt_record(uint8_t kind, const uint8_t *p, size_t olen, tw_tcp_opts *o) {
    switch (kind) {
    case TW_TCPOPT_MSS:
        if (olen != OLEN_MSS) return TW_C_DROP_TCP_OPT;
        o->has_mss = true;
        o->mss = tw_rd16(p + 2);
        return 0;
    case TW_TCPOPT_WS:
        if (olen != OLEN_WS) return TW_C_DROP_TCP_OPT;
        o->has_ws = true;
        /* RFC 7323 §2.3: a shift above 14 is logged and treated as 14. */
        o->ws = p[2] > TW_TCP_MAX_WS ? TW_TCP_MAX_WS : p[2];
        return 0;
    case TW_TCPOPT_SACK_OK:
        if (olen != OLEN_SACK_OK) return TW_C_DROP_TCP_OPT;
        o->sack_ok = true;
        return 0;
    case TW_TCPOPT_TS:
        if (olen != OLEN_TS) return TW_C_DROP_TCP_OPT;
        o->has_ts = true;
        o->tsval = tw_rd32(p + 2);
        o->tsecr = tw_rd32(p + 6);
        return 0;
    case TW_TCPOPT_SACK: {
        /* RFC 2018 §3: length 2 + 8n; 40 bytes of options allow n <= 4. */
        if (olen < OLEN_SACK_BASE + OLEN_SACK_BLOCK ||
            (olen - OLEN_SACK_BASE) % OLEN_SACK_BLOCK != 0)
            return TW_C_DROP_TCP_OPT;
        size_t n = (olen - OLEN_SACK_BASE) / OLEN_SACK_BLOCK;
        if (n > TW_TCP_MAX_SACK) return TW_C_DROP_TCP_OPT;
        o->nsack = (uint8_t)n;
        for (size_t i = 0; i < n; i++) {
            const uint8_t *b = p + OLEN_SACK_BASE + i * OLEN_SACK_BLOCK;
            o->sack[i].left = tw_rd32(b);
            o->sack[i].right = tw_rd32(b + 4);
        }
        return 0;
    }
    default:
        /* RFC 9293 §3.2 MUST-6/MUST-7: ignore options we do not implement,
         * using their length field to step over them. */
        return 0;
    }
}

int tw_tcp_opts_parse(const uint8_t *p, size_t len, tw_tcp_opts *o) {
    memset(o, 0, sizeof *o);
    /* Fast path: NOP, NOP, TS is what every segment after the SYNs carries
     * once timestamps are in use (RFC 7323 Appendix A's layout, which Linux,
     * the BSDs and tcpwave send). One compare of the first four bytes
     * recognizes it; the loop below would record the same values. */
    if (len == TW_TCP_OPTS_TS_LEN && tw_rd32(p) == TW_TCP_OPTS_TS_HEAD) {
        o->has_ts = true;
        o->tsval = tw_rd32(p + 4);
        o->tsecr = tw_rd32(p + 8);
        return 0;
    }
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == TW_TCPOPT_EOL) break; /* the rest is padding */
        if (kind == TW_TCPOPT_NOP) {
            i++;
            continue;
        }
        /* Every other kind has a length byte counting kind and length
         * themselves, so it is at least 2; 0 or 1 would never advance. */
        if (len - i < 2) return TW_C_DROP_TCP_OPT;
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i) return TW_C_DROP_TCP_OPT;
        int err = opt_record(kind, p + i, olen, o);
        if (err) return err;
        i += olen;
    }
    return 0;
}

/* Bytes of everything except SACK blocks: each group is padded with leading
 * NOPs to 4 bytes so 32-bit fields stay aligned (RFC 7323 Appendix A layout). */
static size_t opts_fixed_len(const tw_tcp_opts *o) {
    size_t n = 0;
    if (o->has_mss) n += 4; /* MSS */
    if (o->has_ws) n += 4;  /* NOP WS */
    if (o->has_ts)
        n += 12; /* NOP NOP TS | SACK_OK TS */
    else if (o->sack_ok)
        n += 4; /* NOP NOP SACK_OK */
    return n;
}

unsigned tw_tcp_opts_emit_nsack(const tw_tcp_opts *o) {
    size_t room = TCP_MAX_OPT_LEN - opts_fixed_len(o);
    size_t hdr = 2 + OLEN_SACK_BASE; /* NOP NOP kind len */
    if (o->nsack == 0 || room < hdr + OLEN_SACK_BLOCK) return 0;
    size_t fit = (room - hdr) / OLEN_SACK_BLOCK;
    size_t want = o->nsack > TW_TCP_MAX_SACK ? TW_TCP_MAX_SACK : o->nsack;
    return (unsigned)(want < fit ? want : fit);
}

/* True when nothing is to be emitted (most segments after the SYNs). */
static inline bool opts_none(const tw_tcp_opts *o) {
    return !(o->has_mss | o->has_ws | o->has_ts | o->sack_ok) && o->nsack == 0;
}

size_t tw_tcp_opts_emit_len(const tw_tcp_opts *o) {
    if (tw_tcp_opts_ts_only(o)) return TW_TCP_OPTS_TS_LEN;
    if (opts_none(o)) return 0;
    unsigned n = tw_tcp_opts_emit_nsack(o);
    return opts_fixed_len(o) + (n ? 2 + OLEN_SACK_BASE + n * OLEN_SACK_BLOCK : 0);
}

int tw_tcp_opts_emit(const tw_tcp_opts *o, uint8_t *buf, size_t cap) {
    if (tw_tcp_opts_ts_only(o)) {
        if (cap < TW_TCP_OPTS_TS_LEN) return -TW_EINVAL;
        tw_tcp_opts_emit_ts(o, buf);
        return TW_TCP_OPTS_TS_LEN;
    }
    if (opts_none(o)) return 0;
    size_t total = tw_tcp_opts_emit_len(o);
    if (cap < total) return -TW_EINVAL;
    uint8_t *p = buf;

    if (o->has_mss) {
        p[0] = TW_TCPOPT_MSS;
        p[1] = OLEN_MSS;
        tw_wr16(p + 2, o->mss);
        p += 4;
    }
    if (o->has_ws) {
        p[0] = TW_TCPOPT_NOP;
        p[1] = TW_TCPOPT_WS;
        p[2] = OLEN_WS;
        /* RFC 7323 §2.3: never announce a shift above 14. */
        p[3] = o->ws > TW_TCP_MAX_WS ? TW_TCP_MAX_WS : o->ws;
        p += 4;
    }
    if (o->has_ts) {
        if (o->sack_ok) {
            /* SACK_OK fills the two bytes NOPs would pad (RFC 2018 §2 + RFC
             * 7323 Appendix A); saves 4 bytes on a SYN. */
            p[0] = TW_TCPOPT_SACK_OK;
            p[1] = OLEN_SACK_OK;
        } else {
            p[0] = TW_TCPOPT_NOP;
            p[1] = TW_TCPOPT_NOP;
        }
        p[2] = TW_TCPOPT_TS;
        p[3] = OLEN_TS;
        tw_wr32(p + 4, o->tsval);
        tw_wr32(p + 8, o->tsecr);
        p += 12;
    } else if (o->sack_ok) {
        p[0] = TW_TCPOPT_NOP;
        p[1] = TW_TCPOPT_NOP;
        p[2] = TW_TCPOPT_SACK_OK;
        p[3] = OLEN_SACK_OK;
        p += 4;
    }
    unsigned n = tw_tcp_opts_emit_nsack(o);
    if (n) {
        p[0] = TW_TCPOPT_NOP;
        p[1] = TW_TCPOPT_NOP;
        p[2] = TW_TCPOPT_SACK;
        p[3] = (uint8_t)(OLEN_SACK_BASE + n * OLEN_SACK_BLOCK);
        p += 4;
        for (unsigned i = 0; i < n; i++, p += OLEN_SACK_BLOCK) {
            tw_wr32(p, o->sack[i].left);
            tw_wr32(p + 4, o->sack[i].right);
        }
    }
    return (int)(p - buf);
}
