/* tcp_hdr.h - TCP header and options: checked view, parsed segment, emit.
 * Stateless and allocation-free; a parsed tw_tcp_seg points into the packet.
 *
 * Options (RFC 9293 §3.2, RFC 7323, RFC 2018): MSS, window scale,
 * SACK-permitted, SACK blocks, timestamps, NOP and EOL. Unknown kinds with a
 * sane length are skipped (MUST-6/7); a length of 0 or 1, an option running
 * past the header, or a known option of the wrong size rejects the segment
 * (DROP_TCP_OPT), which is what keeps zero-length options from looping. */
#ifndef TW_WIRE_TCP_HDR_H
#define TW_WIRE_TCP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire/seq.h"

#define TW_TCP_HDR_LEN 20
#define TW_TCP_MAX_HDR_LEN 60

enum {
    TW_TH_FIN = 0x01,
    TW_TH_SYN = 0x02,
    TW_TH_RST = 0x04,
    TW_TH_PSH = 0x08,
    TW_TH_ACK = 0x10,
    TW_TH_URG = 0x20,
    TW_TH_ECE = 0x40,
    TW_TH_CWR = 0x80,
};

enum {
    TW_TCPOPT_EOL = 0,
    TW_TCPOPT_NOP = 1,
    TW_TCPOPT_MSS = 2,     /* len 4 */
    TW_TCPOPT_WS = 3,      /* len 3 */
    TW_TCPOPT_SACK_OK = 4, /* len 2 */
    TW_TCPOPT_SACK = 5,    /* len 2 + 8n, n = 1..4 */
    TW_TCPOPT_TS = 8,      /* len 10 */
};

#define TW_TCP_MAX_SACK 4
#define TW_TCP_MAX_WS 14 /* RFC 7323 §2.3 */

typedef struct tw_tcp_opts {
    bool has_mss, has_ws, sack_ok, has_ts;
    uint16_t mss;
    uint8_t ws; /* as received; values > 14 are clamped to 14 by parse */
    uint32_t tsval, tsecr;
    uint8_t nsack; /* SACK blocks present (0..4) */
    struct {
        uint32_t left, right;
    } sack[TW_TCP_MAX_SACK];
} tw_tcp_opts;

typedef struct tw_tcp_seg {
    uint32_t src_addr, dst_addr; /* host order, from the IP header */
    uint16_t src_port, dst_port;
    tw_seq_t seq, ack;
    uint8_t flags; /* TW_TH_* */
    uint16_t wnd;  /* raw 16-bit window field (unscaled) */
    uint16_t urp;
    uint8_t ip_ttl, ip_tos; /* IPv4 TTL and TOS: set by tw_packet_parse; tw_packet_emit
                               writes them (ip_ttl 0: the default 64) */
    tw_tcp_opts opt;
    const uint8_t *payload; /* points into the packet, or a caller buffer when emitting */
    uint32_t len;           /* payload bytes */
} tw_tcp_seg;

typedef struct tw_tcp_view {
    const uint8_t *buf;
    size_t len;     /* whole segment: header + payload */
    size_t hdr_len; /* data offset * 4 */
} tw_tcp_view;

/* Checks lengths: returns 0, DROP_TCP_SHORT (< 20 bytes) or DROP_TCP_DOFF
 * (data offset < 5 or beyond len). */
int tw_tcp_view_init(tw_tcp_view *v, const uint8_t *buf, size_t len);
/* Verifies the checksum against the pseudo-header (src/dst in host order),
 * parses options and fills `seg`. Returns 0, DROP_TCP_CKSUM, DROP_TCP_OPT,
 * DROP_TCP_PORT0, or DROP_TCP_FLAGS (SYN+RST, SYN+FIN, or no flag among
 * SYN/ACK/RST/FIN; the caller counts it, the RFC lets such segments be dropped). */
int tw_tcp_parse(const tw_tcp_view *v, uint32_t src, uint32_t dst, tw_tcp_seg *seg);
/* Parses only the options area (used by parse; exposed for tests and fuzzing).
 * Returns 0 or DROP_TCP_OPT. */
int tw_tcp_opts_parse(const uint8_t *p, size_t len, tw_tcp_opts *o);
/* Bytes the options of `o` take when emitted (0..40, multiple of 4). */
size_t tw_tcp_opts_emit_len(const tw_tcp_opts *o);
/* SACK blocks tw_tcp_opts_emit() will write: o->nsack (at most 4) cut down
 * to what still fits in the 40-byte options area after the other options
 * (e.g. 3 with timestamps, RFC 2018 §3). */
unsigned tw_tcp_opts_emit_nsack(const tw_tcp_opts *o);
/* Writes the options of `o` in the order documented at tw_tcp_emit(). Returns
 * the bytes written (== tw_tcp_opts_emit_len(o)) or -TW_EINVAL if cap is too
 * small. */
int tw_tcp_opts_emit(const tw_tcp_opts *o, uint8_t *buf, size_t cap);
/* The options of nearly every segment after the handshake once RFC 7323
 * timestamps are in use: NOP, NOP, TS (the layout of RFC 7323 Appendix A),
 * 12 bytes whose first four are 01 01 08 0a. The emitter and the parser
 * take it on a fast path; the result is the same as the general code's. */
#define TW_TCP_OPTS_TS_LEN 12
#define TW_TCP_OPTS_TS_HEAD 0x0101080au
/* True when `o` holds a timestamps option and nothing else. */
static inline bool tw_tcp_opts_ts_only(const tw_tcp_opts *o) {
    return o->has_ts && !(o->has_mss | o->has_ws | o->sack_ok | (o->nsack != 0));
}
/* Writes NOP, NOP, TS(tsval, tsecr) of `o` into the 12 bytes at `p`. */
static inline void tw_tcp_opts_emit_ts(const tw_tcp_opts *o, uint8_t *p) {
    const uint32_t w[3] = {TW_TCP_OPTS_TS_HEAD, o->tsval, o->tsecr};
    for (int i = 0; i < 3; i++) {
        p[4 * i] = (uint8_t)(w[i] >> 24);
        p[4 * i + 1] = (uint8_t)(w[i] >> 16);
        p[4 * i + 2] = (uint8_t)(w[i] >> 8);
        p[4 * i + 3] = (uint8_t)w[i];
    }
}

/* Bytes the header + options of `seg` take when emitted (20..60, multiple of 4). */
size_t tw_tcp_hdr_emit_len(const tw_tcp_seg *seg);
/* Writes header, options and payload of `seg` with the checksum computed from
 * seg->src_addr/dst_addr. Returns bytes written or -TW_EINVAL if cap is too
 * small (or the segment would exceed 65535 bytes). Options emitted in this
 * order: MSS, WS (preceded by NOP), SACK_OK + TS packed as NOP NOP TS or
 * SACK_OK TS (SACK_OK alone as NOP NOP SACK_OK), SACK blocks as NOP NOP SACK;
 * every option group is 4-byte aligned so no trailing padding is needed.
 * SACK blocks that do not fit in 40 bytes are left out (see
 * tw_tcp_opts_emit_nsack). */
int tw_tcp_emit(const tw_tcp_seg *seg, uint8_t *buf, size_t cap);
/* Writes the names of the set flags, '|'-separated in bit order FIN SYN RST
 * PSH ACK URG ECE CWR (e.g. "SYN|ACK", "FIN|ACK"), or "none", into buf,
 * truncated to cap - 1 characters and always NUL-terminated if cap > 0.
 * Returns buf. */
const char *tw_tcp_flags_str(uint8_t flags, char *buf, size_t cap);

/* Builds a whole IPv4 packet carrying `seg` (ttl 64, given IP id) into buf.
 * Returns total bytes or -TW_EINVAL. */
int tw_packet_emit(const tw_tcp_seg *seg, uint16_t ip_id, uint8_t *buf, size_t cap);
/* Checks and parses a whole IPv4+TCP packet; returns 0 or the DROP_* reason.
 * Does not check the destination address. */
int tw_packet_parse(const uint8_t *pkt, size_t len, tw_tcp_seg *seg);

#endif
