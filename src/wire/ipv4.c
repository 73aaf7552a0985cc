/* ipv4.c - owns IPv4 header validation, parsing and emission (RFC 791).
 *
 * Validation happens once, in tw_ipv4_view_init(); everything after it may
 * read the header without bounds checks. Options are accepted and skipped
 * (RFC 1122 §3.2.1.8 says unknown options must be ignored); fragments are
 * reported so the caller can drop them, since tcpwave does no reassembly. */
#include "wire/ipv4.h"

#include <tcpwave/tw_errno.h>

/* The bodies are inline in ipv4.h (tw__ipv4_*), shared with the packet
 * helpers of tcp_hdr.c; these are the exported entry points. */

int tw_ipv4_view_init(tw_ipv4_view *v, const uint8_t *buf, size_t len) {
    return tw__ipv4_view_init(v, buf, len);
}

int tw_ipv4_parse(const tw_ipv4_view *v, tw_ipv4_hdr *h) {
    return tw__ipv4_parse(v, h);
}

int tw_ipv4_emit(const tw_ipv4_hdr *h, uint8_t *buf, size_t cap) {
    if (cap < TW_IPV4_HDR_LEN) return -TW_EINVAL;
    tw__ipv4_emit(h, buf);
    return TW_IPV4_HDR_LEN;
}

bool tw_ipv4_mark_ce(uint8_t *pkt, size_t len) {
    if (len < 20 || (pkt[0] >> 4) != 4) return false;
    size_t hl = (size_t)(pkt[0] & 15u) * 4u;
    uint8_t ecn = pkt[1] & 3u;
    if (hl < 20 || hl > len || ecn == 0 || ecn == 3) return false;
    pkt[1] |= 3u;
    pkt[10] = pkt[11] = 0;
    uint16_t ck = tw_cksum_fin(tw_cksum_add(0, pkt, hl));
    pkt[10] = (uint8_t)(ck >> 8);
    pkt[11] = (uint8_t)ck;
    return true;
}
