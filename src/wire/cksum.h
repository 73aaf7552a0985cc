/* cksum.h - the Internet checksum (RFC 1071) with 64-bit accumulation.
 *
 * Summing 32 bits at a time into a 64-bit accumulator defers carries, so the
 * loop runs at memory speed instead of one 16-bit add per step. */
#ifndef TW_WIRE_CKSUM_H
#define TW_WIRE_CKSUM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Adds `len` bytes at `p` (any alignment, any length) to a running sum.
 * Data are summed as big-endian 16-bit words; an odd trailing byte is padded.
 * Chained calls must pass even lengths for all but the last chunk. */
uint64_t tw_cksum_add(uint64_t acc, const void *p, size_t len);
/* Folds a running sum to 16 bits and complements it: the value to store.
 * Inline: it runs on every header in and out. Each fold keeps the value mod
 * 2^16 - 1 (RFC 1071 §4.1 "fold 32-bit sum to 16 bits"). */
static inline uint16_t tw_cksum_fin(uint64_t acc) {
    /* Two one's-complement additions, each with its end-around carry (RFC
     * 1071 §1): the halves of the 64-bit sum, then of the 32-bit result.
     * The same value as folding repeatedly until nothing carries, which is
     * what the shifts-and-masks form would take five steps to reach. */
    uint32_t hi = (uint32_t)(acc >> 32);
    uint32_t s = (uint32_t)acc + hi;
    s += s < hi;
    uint16_t h16 = (uint16_t)(s >> 16);
    uint16_t r = (uint16_t)((uint16_t)s + h16);
    r = (uint16_t)(r + (r < h16));
    return (uint16_t)~r;
}
/* The running sum of the TCP/UDP pseudo-header (RFC 9293 §3.1): addresses in
 * host order, protocol number, and the transport length. The zero byte and
 * the protocol form one 16-bit word 0x00PP; 32-bit addresses can be added
 * whole (2^16 == 1 mod 2^16 - 1, see cksum.c). Inline, like tw_cksum_fin. */
static inline uint64_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
    return (uint64_t)src + dst + proto + len;
}

/* tw_cksum_add(acc, p, 20), inlined: the 20 bytes of an IPv4 header without
 * options, summed on every packet in and out. On little-endian hosts the
 * five native 32-bit words are summed and the result is multiplied by 256
 * (the byte swap, modulo 2^16 - 1; see cksum.c); the value differs from
 * tw_cksum_add's but is congruent, which is all tw_cksum_fin needs. */
static inline uint64_t tw_cksum_add20(uint64_t acc, const uint8_t *p) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t a, b;
    uint32_t c;
    memcpy(&a, p, 8);
    memcpy(&b, p + 8, 8);
    memcpy(&c, p + 16, 4);
    uint64_t s = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + c; /* < 2^35 */
    s = (s & 0xffffffffu) + (s >> 32);                                              /* < 2^33 */
    return (acc & 0xffffffffu) + (acc >> 32) + (s << 8);
#else
    return tw_cksum_add(acc, p, 20);
#endif
}

#endif
