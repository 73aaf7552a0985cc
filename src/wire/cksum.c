/* cksum.c - owns the Internet checksum (RFC 1071) and the TCP pseudo-header
 * sum (RFC 9293 §3.1).
 *
 * The one's-complement sum of 16-bit words is computed by adding 32-bit
 * big-endian words into a 64-bit accumulator and folding at the end. This is
 * exact because 2^16 == 1 (mod 2^16 - 1): a 32-bit word hi:lo contributes
 * hi*2^16 + lo == hi + lo, which is what the 16-bit sum would have added, and
 * the carries that RFC 1071 §1 "end-around" adds are recovered by the fold
 * (RFC 1071 §2(B), deferred carries). */
#include "wire/cksum.h"

#include <string.h>

/* Loads 4 bytes at any alignment as a big-endian word. memcpy keeps the load
 * free of alignment and aliasing UB; compilers turn it into one load. */
static inline uint32_t load_be32(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return __builtin_bswap32(w);
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) && \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
#else
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
#endif
}

/* Reduces the accumulator below 2^33 without changing its value mod 2^16-1
 * (2^32 == 1 as well), so the caller may keep adding to it. */
static inline uint64_t fold32(uint64_t acc) {
    return (acc & 0xffffffffu) + (acc >> 32);
}

/* Each 32-byte step adds less than 2^35; after this many steps the sum is
 * still below 2^59 + 2^33, far from overflowing the 64-bit accumulator. */
#define CKSUM_BATCH ((size_t)1 << 24)

uint64_t tw_cksum_add(uint64_t acc, const void *data, size_t len) {
    const uint8_t *p = data;
    acc = fold32(acc);

    size_t blocks = len / 32;
    while (blocks) {
        size_t batch = blocks < CKSUM_BATCH ? blocks : CKSUM_BATCH;
        blocks -= batch;
        for (; batch; batch--, p += 32) {
            /* Two independent chains let the adds overlap in the pipeline. */
            uint64_t a = (uint64_t)load_be32(p) + load_be32(p + 4) +
                         load_be32(p + 8) + load_be32(p + 12);
            uint64_t b = (uint64_t)load_be32(p + 16) + load_be32(p + 20) +
                         load_be32(p + 24) + load_be32(p + 28);
            acc += a + b;
        }
        acc = fold32(acc);
    }
    len %= 32;

    for (; len >= 4; len -= 4, p += 4) acc += load_be32(p);

    if (len) {
        /* 1..3 trailing bytes: zero-pad to a word. A single odd byte lands in
         * the high half of a 16-bit word, the padding RFC 1071 §4.1 uses. */
        uint8_t tail[4] = {0, 0, 0, 0};
        memcpy(tail, p, len);
        acc += load_be32(tail);
    }
    return acc;
}

uint16_t tw_cksum_fin(uint64_t acc) {
    /* Fold carries back in until 16 bits remain (RFC 1071 §4.1 "fold 32-bit
     * sum to 16 bits"); each step keeps the value mod 2^16-1. */
    while (acc >> 16) acc = (acc & 0xffffu) + (acc >> 16);
    return (uint16_t)~acc;
}

uint64_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len) {
    /* RFC 9293 §3.1: source address, destination address, a zero byte, the
     * protocol, and the TCP length (header + data). The zero byte and the
     * protocol form one 16-bit word 0x00PP. 32-bit addresses can be added
     * whole, as explained at the top of this file. */
    return (uint64_t)src + dst + proto + len;
}
