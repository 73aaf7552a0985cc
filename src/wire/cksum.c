/* cksum.c - owns the Internet checksum (RFC 1071) and the TCP pseudo-header
 * sum (RFC 9293 §3.1).
 *
 * The one's-complement sum of 16-bit words is computed by adding 32-bit
 * big-endian words into a 64-bit accumulator and folding at the end. This is
 * exact because 2^16 == 1 (mod 2^16 - 1): a 32-bit word hi:lo contributes
 * hi*2^16 + lo == hi + lo, which is what the 16-bit sum would have added, and
 * the carries that RFC 1071 §1 "end-around" adds are recovered by the fold
 * (RFC 1071 §2(B), deferred carries). On little-endian hosts with a 128-bit
 * integer a faster path sums native 64-bit words instead (explained below);
 * both give the same value modulo 2^16 - 1, so tw_cksum_fin() agrees. */
#include "wire/cksum.h"

#include <string.h>

#include "util/attr.h"

#if defined(__SIZEOF_INT128__) && defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&   \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define TW_CKSUM_NATIVE 1
#endif

#ifndef TW_CKSUM_NATIVE
/* Loads 4 bytes at any alignment as a big-endian word. memcpy keeps the load
 * free of alignment and aliasing UB; compilers turn it into one load. */
static inline uint32_t load_be32(const uint8_t *p) {
#if defined(__BYTE_ORDER__) && defined(__ORDER_LITTLE_ENDIAN__) &&                                 \
    __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return __builtin_bswap32(w);
#elif defined(__BYTE_ORDER__) && defined(__ORDER_BIG_ENDIAN__) &&                                  \
    __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    uint32_t w;
    memcpy(&w, p, sizeof w);
    return w;
#else
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
#endif
}
#endif

/* Reduces the accumulator below 2^33 without changing its value mod 2^16-1
 * (2^32 == 1 as well), so the caller may keep adding to it. */
static inline uint64_t fold32(uint64_t acc) {
    return (acc & 0xffffffffu) + (acc >> 32);
}

/* Each 32-byte step adds less than 2^35; after this many steps the sum is
 * still below 2^59 + 2^33, far from overflowing the 64-bit accumulator. */
#define CKSUM_BATCH ((size_t)1 << 24)

#ifdef TW_CKSUM_NATIVE
/* Fast path for little-endian hosts (RFC 1071 §2(B), byte order
 * independence): sum the data as native 64-bit words, counting the carries
 * out of the 64-bit sum apart (one add and one add-with-carry per 8 bytes),
 * then convert to the big-endian domain by a multiplication by 256. Why
 * that is exact: a little-endian load of bytes d0 d1 ... weighs byte k by
 * 2^(8k), and 2^16 == 1 (mod 2^16 - 1), so the native sum is congruent to
 * the sum of the byte-swapped 16-bit words; swapping the bytes of a 16-bit
 * word multiplies it by 256 (mod 2^16 - 1), and 256 * 256 == 1, so 256 times
 * the native sum is congruent to the big-endian sum. 2^64 == 1 as well, so
 * each carry out of the 64-bit sum counts 1. Chunks start at an even offset
 * (see cksum.h), so byte parity is preserved. */
static inline uint64_t load_le64(const uint8_t *p) {
    uint64_t w;
    memcpy(&w, p, sizeof w);
    return w;
}

/* The carry comes from the overflow builtin rather than a compare: the same
 * add-with-carry code, and no compare for a fuzz build to trace per word. */
#define ADD_CARRY(s, c, w)                                                                         \
    do {                                                                                           \
        (c) += __builtin_add_overflow((s), (w), &(s));                                             \
    } while (0)

TW_NO_COVERAGE uint64_t tw_cksum_add(uint64_t acc, const void *data, size_t len) {
    const uint8_t *p = data;
    uint64_t s = 0, c = 0;
    for (; len >= 32; len -= 32, p += 32) {
        ADD_CARRY(s, c, load_le64(p));
        ADD_CARRY(s, c, load_le64(p + 8));
        ADD_CARRY(s, c, load_le64(p + 16));
        ADD_CARRY(s, c, load_le64(p + 24));
    }
    for (; len >= 8; len -= 8, p += 8) ADD_CARRY(s, c, load_le64(p));
    if (len) {
        /* 1..7 trailing bytes, zero-padded: byte k weighs 2^(8k) as above, so
         * an odd last byte is the high byte of a zero-padded big-endian word. */
        uint64_t t = 0;
        unsigned sh = 0;
        if (len & 4) {
            uint32_t x;
            memcpy(&x, p, 4);
            t = x;
            p += 4;
            sh = 32;
        }
        if (len & 2) {
            uint16_t x;
            memcpy(&x, p, 2);
            t |= (uint64_t)x << sh;
            p += 2;
            sh += 16;
        }
        if (len & 1) t |= (uint64_t)*p << sh;
        ADD_CARRY(s, c, t);
    }
    /* s + c (c < 2^61): once more with the carry counted, then below 2^33. */
    s += c;
    s += s < c;
    s = fold32(fold32(s));
    return fold32(acc) + (s << 8); /* < 2^34 + 2^41: room to chain */
}
#else
TW_NO_COVERAGE uint64_t tw_cksum_add(uint64_t acc, const void *data, size_t len) {
    const uint8_t *p = data;
    acc = fold32(acc);

    size_t blocks = len / 32;
    while (blocks) {
        size_t batch = blocks < CKSUM_BATCH ? blocks : CKSUM_BATCH;
        blocks -= batch;
        for (; batch; batch--, p += 32) {
            /* Two independent chains let the adds overlap in the pipeline. */
            uint64_t a =
                (uint64_t)load_be32(p) + load_be32(p + 4) + load_be32(p + 8) + load_be32(p + 12);
            uint64_t b = (uint64_t)load_be32(p + 16) + load_be32(p + 20) + load_be32(p + 24) +
                         load_be32(p + 28);
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
#endif

/* tw_cksum_fin() and tw_cksum_pseudo() are inline in cksum.h. */
