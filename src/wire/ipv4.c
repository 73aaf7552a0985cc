/* ipv4.c - owns IPv4 header validation, parsing and emission (RFC 791).
 *
 * Validation happens once, in tw_ipv4_view_init(); everything after it may
 * read the header without bounds checks. Options are accepted and skipped
 * (RFC 1122 §3.2.1.8 says unknown options must be ignored); fragments are
 * reported so the caller can drop them, since tcpwave does no reassembly. */
#include "wire/ipv4.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/cksum.h"

/* RFC 791 §3.1 field layout. */
#define IP_OFF_VER_IHL 0
#define IP_OFF_TOS 1
#define IP_OFF_TOTLEN 2
#define IP_OFF_ID 4
#define IP_OFF_FRAG 6
#define IP_OFF_TTL 8
#define IP_OFF_PROTO 9
#define IP_OFF_CKSUM 10
#define IP_OFF_SRC 12
#define IP_OFF_DST 16

#define IP_FLAG_DF 0x4000
#define IP_FLAG_MF 0x2000
#define IP_FRAG_OFF_MASK 0x1fff

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rd32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void wr16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void wr32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int tw_ipv4_view_init(tw_ipv4_view *v, const uint8_t *buf, size_t len) {
    if (len < TW_IPV4_HDR_LEN) return TW_C_DROP_IP_SHORT;
    if ((buf[IP_OFF_VER_IHL] >> 4) != 4) return TW_C_DROP_IP_VERSION;

    size_t hdr_len = (size_t)(buf[IP_OFF_VER_IHL] & 0x0f) * 4;
    if (hdr_len < TW_IPV4_HDR_LEN || hdr_len > len) return TW_C_DROP_IP_IHL;

    /* The captured length may exceed the total length (Ethernet pads short
     * frames to 60 bytes), never the other way round. */
    size_t total = rd16(buf + IP_OFF_TOTLEN);
    if (total < hdr_len || total > len) return TW_C_DROP_IP_TOTLEN;

    /* RFC 791 §3.1: the checksum covers the header only, options included;
     * summing it with the stored checksum in place yields 0 when it is right. */
    uint64_t acc = hdr_len == TW_IPV4_HDR_LEN ? tw_cksum_add20(0, buf) : tw_cksum_add(0, buf, hdr_len);
    if (tw_cksum_fin(acc) != 0) return TW_C_DROP_IP_CKSUM;

    v->buf = buf;
    v->len = total;
    v->hdr_len = hdr_len;
    return 0;
}

int tw_ipv4_parse(const tw_ipv4_view *v, tw_ipv4_hdr *h) {
    const uint8_t *b = v->buf;
    h->tos = b[IP_OFF_TOS];
    h->total_len = (uint16_t)v->len;
    h->id = rd16(b + IP_OFF_ID);
    h->frag = rd16(b + IP_OFF_FRAG);
    h->ttl = b[IP_OFF_TTL];
    h->proto = b[IP_OFF_PROTO];
    h->src = rd32(b + IP_OFF_SRC);
    h->dst = rd32(b + IP_OFF_DST);
    h->hdr_len = (uint16_t)v->hdr_len;
    h->payload = b + v->hdr_len;
    h->payload_len = v->len - v->hdr_len;

    /* A packet is a fragment if more follow (MF) or it is not the first
     * (offset != 0); an unfragmented packet has both clear (RFC 791 §2.3). */
    if ((h->frag & IP_FLAG_MF) || (h->frag & IP_FRAG_OFF_MASK)) return TW_C_DROP_IP_FRAG;
    return 0;
}

int tw_ipv4_emit(const tw_ipv4_hdr *h, uint8_t *buf, size_t cap) {
    if (cap < TW_IPV4_HDR_LEN) return -TW_EINVAL;

    buf[IP_OFF_VER_IHL] = 0x45; /* version 4, IHL 5: no options */
    buf[IP_OFF_TOS] = h->tos;
    wr16(buf + IP_OFF_TOTLEN, h->total_len);
    wr16(buf + IP_OFF_ID, h->id);
    /* DF: TCP sizes segments by MSS/PMTU itself and must not be fragmented
     * (RFC 1191 path MTU discovery relies on DF being set). */
    wr16(buf + IP_OFF_FRAG, IP_FLAG_DF);
    buf[IP_OFF_TTL] = h->ttl;
    buf[IP_OFF_PROTO] = h->proto;
    wr16(buf + IP_OFF_CKSUM, 0);
    wr32(buf + IP_OFF_SRC, h->src);
    wr32(buf + IP_OFF_DST, h->dst);
    wr16(buf + IP_OFF_CKSUM, tw_cksum_fin(tw_cksum_add20(0, buf)));
    return TW_IPV4_HDR_LEN;
}
