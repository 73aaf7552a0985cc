/* ipv4.h - IPv4 header: checked view, parsed struct, emit. Stateless.
 *
 * tw_ipv4_view_init() validates every length once (version, IHL, total
 * length, header checksum) so accessors cannot read out of bounds later;
 * tw_ipv4_parse() turns the view into a tw_ipv4_hdr. Errors are positive
 * enum tw_counter values naming the drop reason (DROP_IP_*), 0 on success. */
#ifndef TW_WIRE_IPV4_H
#define TW_WIRE_IPV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"

#define TW_IPV4_HDR_LEN 20
#define TW_IPPROTO_TCP 6
#define TW_IPPROTO_ICMP 1

typedef struct tw_ipv4_view {
    const uint8_t *buf; /* start of the IPv4 header */
    size_t len;         /* total length from the header (<= captured length) */
    size_t hdr_len;     /* IHL * 4 */
} tw_ipv4_view;

typedef struct tw_ipv4_hdr {
    uint32_t src, dst; /* host byte order */
    uint8_t proto, ttl, tos;
    uint16_t id;
    uint16_t frag;    /* flags + fragment offset field as on the wire */
    uint16_t hdr_len; /* bytes, including options */
    uint16_t total_len;
    const uint8_t *payload; /* points into the packet */
    size_t payload_len;
} tw_ipv4_hdr;

/* Validates `len` bytes of packet at `buf`: returns 0, or DROP_IP_SHORT,
 * DROP_IP_VERSION, DROP_IP_IHL, DROP_IP_TOTLEN, DROP_IP_CKSUM. Trailing bytes
 * beyond the total length (link padding) are allowed and ignored. */
int tw_ipv4_view_init(tw_ipv4_view *v, const uint8_t *buf, size_t len);
/* Fills `h` from a checked view. Returns 0, or DROP_IP_FRAG for a fragment
 * (MF set or offset != 0). The protocol is not checked here. */
int tw_ipv4_parse(const tw_ipv4_view *v, tw_ipv4_hdr *h);
/* Writes a 20-byte header (no options) for `h` (src, dst, proto, ttl, tos, id,
 * total_len; DF set, checksum computed) into buf. Returns 20 or -TW_EINVAL if cap < 20. */
int tw_ipv4_emit(const tw_ipv4_hdr *h, uint8_t *buf, size_t cap);
/* What a congested ECN router does (RFC 3168 §5): an ECN-capable IPv4 packet
 * (ECT(0) or ECT(1)) becomes CE, its header checksum redone. Returns false,
 * leaving the packet alone, when it is not ECN-capable or not IPv4. */
bool tw_ipv4_mark_ce(uint8_t *pkt, size_t len);

/* ---- the bodies of the three calls above, inline ----
 * Every packet in and out goes through them, so tw_packet_parse() and
 * tw_packet_emit() (tcp_hdr.c) inline these and keep the tw_ipv4_hdr in
 * registers; ipv4.c exports the same code under the documented names. */

/* RFC 791 §3.1 field layout. */
enum {
    TW__IP_OFF_VER_IHL = 0,
    TW__IP_OFF_TOS = 1,
    TW__IP_OFF_TOTLEN = 2,
    TW__IP_OFF_ID = 4,
    TW__IP_OFF_FRAG = 6,
    TW__IP_OFF_TTL = 8,
    TW__IP_OFF_PROTO = 9,
    TW__IP_OFF_CKSUM = 10,
    TW__IP_OFF_SRC = 12,
    TW__IP_OFF_DST = 16,
};
#define TW__IP_FLAG_DF 0x4000
#define TW__IP_FLAG_MF 0x2000
#define TW__IP_FRAG_OFF_MASK 0x1fff

static inline uint16_t tw__ip_rd16(const uint8_t *p) {
    return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t tw__ip_rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void tw__ip_wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void tw__ip_wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline int tw__ipv4_view_init(tw_ipv4_view *v, const uint8_t *buf, size_t len) {
    if (len < TW_IPV4_HDR_LEN) return TW_C_DROP_IP_SHORT;
    if ((buf[TW__IP_OFF_VER_IHL] >> 4) != 4) return TW_C_DROP_IP_VERSION;
    size_t hdr_len = (size_t)(buf[TW__IP_OFF_VER_IHL] & 0x0f) * 4;
    if (hdr_len < TW_IPV4_HDR_LEN || hdr_len > len) return TW_C_DROP_IP_IHL;
    /* The captured length may exceed the total length (Ethernet pads short
     * frames to 60 bytes), never the other way round. */
    size_t total = tw__ip_rd16(buf + TW__IP_OFF_TOTLEN);
    if (total < hdr_len || total > len) return TW_C_DROP_IP_TOTLEN;
    /* RFC 791 §3.1: the checksum covers the header only, options included;
     * summing it with the stored checksum in place yields 0 when it is right. */
    uint64_t acc =
        hdr_len == TW_IPV4_HDR_LEN ? tw_cksum_add20(0, buf) : tw_cksum_add(0, buf, hdr_len);
    if (tw_cksum_fin(acc) != 0) return TW_C_DROP_IP_CKSUM;
    v->buf = buf;
    v->len = total;
    v->hdr_len = hdr_len;
    return 0;
}

static inline int tw__ipv4_parse(const tw_ipv4_view *v, tw_ipv4_hdr *h) {
    const uint8_t *b = v->buf;
    h->tos = b[TW__IP_OFF_TOS];
    h->total_len = (uint16_t)v->len;
    h->id = tw__ip_rd16(b + TW__IP_OFF_ID);
    h->frag = tw__ip_rd16(b + TW__IP_OFF_FRAG);
    h->ttl = b[TW__IP_OFF_TTL];
    h->proto = b[TW__IP_OFF_PROTO];
    h->src = tw__ip_rd32(b + TW__IP_OFF_SRC);
    h->dst = tw__ip_rd32(b + TW__IP_OFF_DST);
    h->hdr_len = (uint16_t)v->hdr_len;
    h->payload = b + v->hdr_len;
    h->payload_len = v->len - v->hdr_len;
    /* A packet is a fragment if more follow (MF) or it is not the first
     * (offset != 0); an unfragmented packet has both clear (RFC 791 §2.3). */
    if ((h->frag & TW__IP_FLAG_MF) || (h->frag & TW__IP_FRAG_OFF_MASK)) return TW_C_DROP_IP_FRAG;
    return 0;
}

/* tw_ipv4_emit() without the capacity check (the caller made it). */
static inline void tw__ipv4_emit(const tw_ipv4_hdr *h, uint8_t *buf) {
    buf[TW__IP_OFF_VER_IHL] = 0x45; /* version 4, IHL 5: no options */
    buf[TW__IP_OFF_TOS] = h->tos;
    tw__ip_wr16(buf + TW__IP_OFF_TOTLEN, h->total_len);
    tw__ip_wr16(buf + TW__IP_OFF_ID, h->id);
    /* DF: TCP sizes segments by MSS/PMTU itself and must not be fragmented
     * (RFC 1191 path MTU discovery relies on DF being set). */
    tw__ip_wr16(buf + TW__IP_OFF_FRAG, TW__IP_FLAG_DF);
    buf[TW__IP_OFF_TTL] = h->ttl;
    buf[TW__IP_OFF_PROTO] = h->proto;
    tw__ip_wr16(buf + TW__IP_OFF_CKSUM, 0);
    tw__ip_wr32(buf + TW__IP_OFF_SRC, h->src);
    tw__ip_wr32(buf + TW__IP_OFF_DST, h->dst);
    tw__ip_wr16(buf + TW__IP_OFF_CKSUM, tw_cksum_fin(tw_cksum_add20(0, buf)));
}

#endif
