/* ipv4.h - IPv4 header: checked view, parsed struct, emit. Stateless.
 *
 * tw_ipv4_view_init() validates every length once (version, IHL, total
 * length, header checksum) so accessors cannot read out of bounds later;
 * tw_ipv4_parse() turns the view into a tw_ipv4_hdr. Errors are positive
 * enum tw_counter values naming the drop reason (DROP_IP_*), 0 on success. */
#ifndef TW_WIRE_IPV4_H
#define TW_WIRE_IPV4_H

#include <stddef.h>
#include <stdint.h>

#define TW_IPV4_HDR_LEN 20
#define TW_IPPROTO_TCP 6
#define TW_IPPROTO_ICMP 1

typedef struct tw_ipv4_view {
    const uint8_t *buf;   /* start of the IPv4 header */
    size_t len;           /* total length from the header (<= captured length) */
    size_t hdr_len;       /* IHL * 4 */
} tw_ipv4_view;

typedef struct tw_ipv4_hdr {
    uint32_t src, dst;    /* host byte order */
    uint8_t proto, ttl, tos;
    uint16_t id;
    uint16_t frag;        /* flags + fragment offset field as on the wire */
    uint16_t hdr_len;     /* bytes, including options */
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

#endif
