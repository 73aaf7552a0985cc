/* icmp.c - owns ICMP message validation, parsing and emission (RFC 792) and
 * the parsing of the datagram an ICMP error quotes.
 *
 * The checksum covers the whole ICMP message (RFC 792, "Checksum"), with no
 * pseudo-header. A quote is not a whole packet: its IPv4 total length names
 * the original datagram, of which only the header and the first 8 bytes of
 * payload are guaranteed to be present (RFC 792; RFC 1812 §4.3.2.3 lets
 * routers quote more), so it is checked by hand rather than with
 * tw_ipv4_view_init(). */
#include "wire/icmp.h"

#include <string.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>

#include "wire/bytes.h"
#include "wire/cksum.h"
#include "wire/ipv4.h"

int tw_icmp_parse(const uint8_t *buf, size_t len, tw_icmp_msg *m) {
    if (len < TW_ICMP_HDR_LEN) return TW_C_DROP_ICMP_BAD;
    /* Summing the message with its checksum in place yields 0 when it is right. */
    if (tw_cksum_fin(tw_cksum_add(0, buf, len)) != 0) return TW_C_DROP_ICMP_BAD;
    m->type = buf[0];
    m->code = buf[1];
    m->id = tw_rd16(buf + 4);
    m->seq = tw_rd16(buf + 6);
    m->data = buf + TW_ICMP_HDR_LEN;
    m->data_len = len - TW_ICMP_HDR_LEN;
    return 0;
}

int tw_icmp_quote_parse(const tw_icmp_msg *m, tw_icmp_quote *q) {
    const uint8_t *p = m->data;
    if (m->data_len < TW_IPV4_HDR_LEN + 8) return TW_C_DROP_ICMP_BAD;
    if ((p[0] >> 4) != 4) return TW_C_DROP_ICMP_BAD;
    size_t hl = (size_t)(p[0] & 0x0f) * 4;
    if (hl < TW_IPV4_HDR_LEN || m->data_len < hl + 8) return TW_C_DROP_ICMP_BAD;
    q->proto = p[9];
    q->src = tw_rd32(p + 12);
    q->dst = tw_rd32(p + 16);
    /* The first 8 bytes of a TCP header: ports, then the sequence number. */
    q->sport = tw_rd16(p + hl);
    q->dport = tw_rd16(p + hl + 2);
    q->seq = tw_rd32(p + hl + 4);
    return 0;
}

size_t tw_icmp_emit_len(const tw_icmp_msg *m) {
    return TW_ICMP_HDR_LEN + m->data_len;
}

int tw_icmp_emit(const tw_icmp_msg *m, uint8_t *buf, size_t cap) {
    size_t n = tw_icmp_emit_len(m);
    if (n > cap || n > 65535u - TW_IPV4_HDR_LEN) return -TW_EINVAL;
    /* memmove: the data may already sit at buf + 8 (an echo answered in place). */
    if (m->data_len && m->data != buf + TW_ICMP_HDR_LEN)
        memmove(buf + TW_ICMP_HDR_LEN, m->data, m->data_len);
    buf[0] = m->type;
    buf[1] = m->code;
    tw_wr16(buf + 2, 0);
    tw_wr16(buf + 4, m->id);
    tw_wr16(buf + 6, m->seq);
    tw_wr16(buf + 2, tw_cksum_fin(tw_cksum_add(0, buf, n)));
    return (int)n;
}
