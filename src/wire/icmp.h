/* icmp.h - ICMP for IPv4 (RFC 792): checked parse and emit of one message,
 * and the quoted datagram of an error message. Stateless, no allocation.
 *
 * tw_icmp_parse() validates the length and the checksum once; the parsed
 * tw_icmp_msg points into the packet. Errors are positive enum tw_counter
 * values naming the drop reason (DROP_ICMP_BAD), 0 on success. */
#ifndef TW_WIRE_ICMP_H
#define TW_WIRE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define TW_ICMP_HDR_LEN 8

/* RFC 792 message types used by tcpwave. */
enum {
    TW_ICMP_ECHO_REPLY = 0,
    TW_ICMP_DEST_UNREACH = 3,
    TW_ICMP_SOURCE_QUENCH = 4, /* deprecated, RFC 6633 */
    TW_ICMP_ECHO_REQUEST = 8,
    TW_ICMP_TIME_EXCEEDED = 11,
    TW_ICMP_PARAM_PROBLEM = 12,
};

/* Destination Unreachable codes (RFC 792, RFC 1122 §3.2.2.1). */
enum {
    TW_ICMP_UNREACH_NET = 0,
    TW_ICMP_UNREACH_HOST = 1,
    TW_ICMP_UNREACH_PROTO = 2,
    TW_ICMP_UNREACH_PORT = 3,
    TW_ICMP_UNREACH_NEEDFRAG = 4,
    TW_ICMP_UNREACH_SRCFAIL = 5,
};

typedef struct tw_icmp_msg {
    uint8_t type, code;
    /* The 4 bytes after the checksum, as on the wire (big-endian): the
     * identifier and sequence number of an echo; unused (or the next-hop MTU
     * of a "fragmentation needed", RFC 1191) for an error. */
    uint16_t id, seq;
    const uint8_t *data; /* after the 8-byte header: echo data or the quote */
    size_t data_len;
} tw_icmp_msg;

/* What an error message quotes of the datagram that caused it (RFC 792: the
 * IP header and at least the first 8 bytes of its payload, which for TCP are
 * the ports and the sequence number). Addresses in host order. */
typedef struct tw_icmp_quote {
    uint32_t src, dst;
    uint8_t proto;
    uint16_t sport, dport;
    uint32_t seq; /* TCP sequence number (bytes 4..7 of the payload) */
} tw_icmp_quote;

/* Parses `len` bytes of ICMP message (the IPv4 payload) at `buf`: returns 0,
 * or DROP_ICMP_BAD when shorter than 8 bytes or the checksum (RFC 792: over
 * the whole message) is wrong. */
int tw_icmp_parse(const uint8_t *buf, size_t len, tw_icmp_msg *m);
/* Parses the quoted datagram of an error message (dest unreachable, time
 * exceeded, parameter problem, source quench). Returns 0, or DROP_ICMP_BAD if
 * the quote is not an IPv4 header followed by at least 8 bytes. */
int tw_icmp_quote_parse(const tw_icmp_msg *m, tw_icmp_quote *q);
/* Bytes tw_icmp_emit() writes for `m`: 8 + data_len. */
size_t tw_icmp_emit_len(const tw_icmp_msg *m);
/* Writes header + data of `m` with the checksum computed. `m->data` may
 * alias `buf + 8` (the payload is then left in place). Returns the bytes
 * written, or -TW_EINVAL if cap is too small or the message exceeds what fits
 * in one IPv4 packet (65515 bytes). */
int tw_icmp_emit(const tw_icmp_msg *m, uint8_t *buf, size_t cap);

#endif
