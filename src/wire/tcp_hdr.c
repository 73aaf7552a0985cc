/* tcp_hdr.c - owns the TCP header (RFC 9293 §3.1): length checks, checksum
 * verification, parsing into tw_tcp_seg, emission, the flag-name formatter,
 * and the whole-packet (IPv4 + TCP) parse/emit helpers.
 *
 * Options live in tcp_opt.c. Nothing here keeps state or allocates. */
#include <string.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

/* RFC 9293 §3.1 field layout. */
#define TCP_OFF_SPORT 0
#define TCP_OFF_DPORT 2
#define TCP_OFF_SEQ 4
#define TCP_OFF_ACK 8
#define TCP_OFF_DOFF 12
#define TCP_OFF_FLAGS 13
#define TCP_OFF_WND 14
#define TCP_OFF_CKSUM 16
#define TCP_OFF_URP 18

#define IP_MAX_LEN 65535u
#define PACKET_TTL 64

int tw_tcp_view_init(tw_tcp_view *v, const uint8_t *buf, size_t len) {
    if (len < TW_TCP_HDR_LEN) return TW_C_DROP_TCP_SHORT;
    /* Data offset counts 32-bit words (RFC 9293 §3.1); the upper nibble of
     * byte 12. The low bits are reserved (and the old NS bit). */
    size_t hdr_len = (size_t)(buf[TCP_OFF_DOFF] >> 4) * 4;
    if (hdr_len < TW_TCP_HDR_LEN || hdr_len > len) return TW_C_DROP_TCP_DOFF;
    v->buf = buf;
    v->len = len;
    v->hdr_len = hdr_len;
    return 0;
}

/* RFC 9293 §3.10.7: a segment cannot both open (SYN) and reset or close,
 * and every legitimate segment carries at least one of SYN/ACK/RST/FIN. */
static bool flags_valid(uint8_t f) {
    if ((f & TW_TH_SYN) && (f & (TW_TH_RST | TW_TH_FIN))) return false;
    return (f & (TW_TH_SYN | TW_TH_ACK | TW_TH_RST | TW_TH_FIN)) != 0;
}

/* The body of tw_tcp_parse(), inline in tw_packet_parse(): every packet in. */
static inline int tcp_parse(const tw_tcp_view *v, uint32_t src, uint32_t dst, tw_tcp_seg *seg) {
    const uint8_t *b = v->buf;

    /* The pseudo-header length field is 16 bits; a longer "segment" cannot
     * have come out of an IPv4 packet and its checksum cannot be right. */
    if (v->len > IP_MAX_LEN) return TW_C_DROP_TCP_CKSUM;
    uint64_t acc = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)v->len);
    if (tw_cksum_fin(tw_cksum_add(acc, b, v->len)) != 0) return TW_C_DROP_TCP_CKSUM;

    int err = tw_tcp_opts_parse(b + TW_TCP_HDR_LEN, v->hdr_len - TW_TCP_HDR_LEN, &seg->opt);
    if (err) return err;

    seg->src_addr = src;
    seg->dst_addr = dst;
    seg->src_port = tw_rd16(b + TCP_OFF_SPORT);
    seg->dst_port = tw_rd16(b + TCP_OFF_DPORT);
    seg->seq = tw_seq(tw_rd32(b + TCP_OFF_SEQ));
    seg->ack = tw_seq(tw_rd32(b + TCP_OFF_ACK));
    seg->flags = b[TCP_OFF_FLAGS];
    seg->wnd = tw_rd16(b + TCP_OFF_WND);
    seg->urp = tw_rd16(b + TCP_OFF_URP);
    seg->payload = b + v->hdr_len;
    seg->len = (uint32_t)(v->len - v->hdr_len);

    /* Port 0 is reserved and never a valid endpoint (RFC 6335 §6). */
    if (seg->src_port == 0 || seg->dst_port == 0) return TW_C_DROP_TCP_PORT0;
    if (!flags_valid(seg->flags)) return TW_C_DROP_TCP_FLAGS;
    return 0;
}

int tw_tcp_parse(const tw_tcp_view *v, uint32_t src, uint32_t dst, tw_tcp_seg *seg) {
    return tcp_parse(v, src, dst, seg);
}

size_t tw_tcp_hdr_emit_len(const tw_tcp_seg *seg) {
    return TW_TCP_HDR_LEN + tw_tcp_opts_emit_len(&seg->opt);
}

int tw_tcp_emit(const tw_tcp_seg *seg, uint8_t *buf, size_t cap) {
    /* The timestamps-only layout, the common case, is sized and written
     * here without the general emitter's two passes (tcp_opt.c). */
    bool ts_only = tw_tcp_opts_ts_only(&seg->opt);
    size_t hdr_len = ts_only ? TW_TCP_HDR_LEN + TW_TCP_OPTS_TS_LEN : tw_tcp_hdr_emit_len(seg);
    size_t total = hdr_len + seg->len;
    if (total > IP_MAX_LEN || cap < total) return -TW_EINVAL;

    /* Payload first, with memmove: a caller may re-emit a segment parsed out
     * of this very buffer, whose payload may sit where the header goes. */
    if (seg->len) memmove(buf + hdr_len, seg->payload, seg->len);

    tw_wr16(buf + TCP_OFF_SPORT, seg->src_port);
    tw_wr16(buf + TCP_OFF_DPORT, seg->dst_port);
    tw_wr32(buf + TCP_OFF_SEQ, seg->seq.v);
    tw_wr32(buf + TCP_OFF_ACK, seg->ack.v);
    buf[TCP_OFF_DOFF] = (uint8_t)((hdr_len / 4) << 4);
    buf[TCP_OFF_FLAGS] = seg->flags;
    tw_wr16(buf + TCP_OFF_WND, seg->wnd);
    tw_wr16(buf + TCP_OFF_CKSUM, 0);
    tw_wr16(buf + TCP_OFF_URP, seg->urp);

    if (ts_only) {
        tw_tcp_opts_emit_ts(&seg->opt, buf + TW_TCP_HDR_LEN);
    } else {
        int olen = tw_tcp_opts_emit(&seg->opt, buf + TW_TCP_HDR_LEN, hdr_len - TW_TCP_HDR_LEN);
        if (olen < 0) return olen; /* cannot happen: sized by emit_len above */
    }

    /* RFC 9293 §3.1: the checksum covers pseudo-header, header and data,
     * computed with the checksum field itself zero. */
    uint64_t acc = tw_cksum_pseudo(seg->src_addr, seg->dst_addr, TW_IPPROTO_TCP, (uint16_t)total);
    tw_wr16(buf + TCP_OFF_CKSUM, tw_cksum_fin(tw_cksum_add(acc, buf, total)));
    return (int)total;
}

const char *tw_tcp_flags_str(uint8_t flags, char *buf, size_t cap) {
    static const char *const names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    if (cap == 0) return buf;
    size_t n = 0;
    buf[0] = '\0';
    /* Append with truncation: copy as many characters as fit, keep the NUL. */
    for (int i = 0; i < 8; i++) {
        if (!(flags & (1u << i))) continue;
        const char *parts[2] = {n ? "|" : "", names[i]};
        for (int k = 0; k < 2; k++)
            for (const char *s = parts[k]; *s && n + 1 < cap; s++) buf[n++] = *s;
        buf[n] = '\0';
    }
    if (flags == 0) {
        const char *s = "none";
        for (; *s && n + 1 < cap; s++) buf[n++] = *s;
        buf[n] = '\0';
    }
    return buf;
}

int tw_packet_emit(const tw_tcp_seg *seg, uint16_t ip_id, uint8_t *buf, size_t cap) {
    if (cap < TW_IPV4_HDR_LEN) return -TW_EINVAL;
    int tcp_len = tw_tcp_emit(seg, buf + TW_IPV4_HDR_LEN, cap - TW_IPV4_HDR_LEN);
    if (tcp_len < 0) return tcp_len;
    size_t total = TW_IPV4_HDR_LEN + (size_t)tcp_len;
    if (total > IP_MAX_LEN) return -TW_EINVAL;

    tw_ipv4_hdr ip = {
        .src = seg->src_addr,
        .dst = seg->dst_addr,
        .proto = TW_IPPROTO_TCP,
        .ttl = seg->ip_ttl ? seg->ip_ttl : PACKET_TTL, /* RFC 1700 default TTL */
        .tos = seg->ip_tos,
        .id = ip_id,
        .total_len = (uint16_t)total,
    };
    tw__ipv4_emit(&ip, buf); /* cap >= 20 was checked above */
    return (int)total;
}

int tw_packet_parse(const uint8_t *pkt, size_t len, tw_tcp_seg *seg) {
    tw_ipv4_view iv;
    tw_ipv4_hdr ip;
    /* The inline bodies of tw_ipv4_view_init/tw_ipv4_parse (ipv4.h) and of
     * tw_tcp_parse: one call per packet, the IPv4 header kept in registers. */
    int err = tw__ipv4_view_init(&iv, pkt, len);
    if (err) return err;
    err = tw__ipv4_parse(&iv, &ip);
    if (err) return err;
    if (ip.proto != TW_IPPROTO_TCP) return TW_C_DROP_IP_PROTO;

    tw_tcp_view tv;
    err = tw_tcp_view_init(&tv, ip.payload, ip.payload_len);
    if (err) return err;
    err = tcp_parse(&tv, ip.src, ip.dst, seg);
    seg->ip_ttl = ip.ttl;
    seg->ip_tos = ip.tos;
    return err;
}
