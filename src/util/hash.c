/* hash.c - SipHash (Aumasson & Bernstein, "SipHash: a fast short-input PRF",
 * 2012), written from the paper's description: four 64-bit state words
 * initialised from the key and the constants "somepseudorandomlygeneratedbytes",
 * c compression SipRounds per 8-byte little-endian message word, a final word
 * holding the length byte, then d finalization rounds after v2 ^= 0xff. */
#include "util/hash.h"

/* The round helpers work on a state through a pointer. Inlined, its words
 * live in registers; a sanitizer build would keep them out of line and test
 * each word's alignment on every access, compares that fuzzers then trace
 * (5% of fuzz_stack's time went to those of tw_hash_tuple). */
#if defined(__GNUC__)
#define SIP_INLINE static inline __attribute__((always_inline))
#else
#define SIP_INLINE static inline
#endif

SIP_INLINE uint64_t rotl64(uint64_t x, unsigned k) {
    return (x << k) | (x >> (64u - k));
}

/* Little-endian load of 8 bytes, independent of host byte order. */
SIP_INLINE uint64_t load_le64(const uint8_t *p) {
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

typedef struct sip_state {
    uint64_t v0, v1, v2, v3;
} sip_state;

SIP_INLINE void sip_round(sip_state *s) {
    s->v0 += s->v1;
    s->v1 = rotl64(s->v1, 13);
    s->v1 ^= s->v0;
    s->v0 = rotl64(s->v0, 32);
    s->v2 += s->v3;
    s->v3 = rotl64(s->v3, 16);
    s->v3 ^= s->v2;
    s->v0 += s->v3;
    s->v3 = rotl64(s->v3, 21);
    s->v3 ^= s->v0;
    s->v2 += s->v1;
    s->v1 = rotl64(s->v1, 17);
    s->v1 ^= s->v2;
    s->v2 = rotl64(s->v2, 32);
}

SIP_INLINE void sip_init(sip_state *s, const uint8_t key[16]) {
    uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
    s->v0 = k0 ^ 0x736f6d6570736575ull;
    s->v1 = k1 ^ 0x646f72616e646f6dull;
    s->v2 = k0 ^ 0x6c7967656e657261ull;
    s->v3 = k1 ^ 0x7465646279746573ull;
}

SIP_INLINE void sip_compress(sip_state *s, uint64_t m, int c_rounds) {
    s->v3 ^= m;
    for (int i = 0; i < c_rounds; i++) sip_round(s);
    s->v0 ^= m;
}

SIP_INLINE uint64_t sip_finish(sip_state *s, int d_rounds) {
    s->v2 ^= 0xff;
    for (int i = 0; i < d_rounds; i++) sip_round(s);
    return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

static uint64_t siphash_cd(const uint8_t key[16], const void *data, size_t len, int c_rounds,
                           int d_rounds) {
    const uint8_t *p = data;
    sip_state s;
    sip_init(&s, key);
    size_t whole = len & ~(size_t)7;
    for (size_t i = 0; i < whole; i += 8) sip_compress(&s, load_le64(p + i), c_rounds);
    /* Last word: the 0-7 remaining bytes, little-endian, with len mod 256 in
     * the top byte. */
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < (len & 7); i++) last |= (uint64_t)p[whole + i] << (8 * i);
    sip_compress(&s, last, c_rounds);
    return sip_finish(&s, d_rounds);
}

uint64_t tw_siphash(const uint8_t key[16], const void *data, size_t len) {
    return siphash_cd(key, data, len, 2, 4);
}

uint64_t tw_siphash13(const uint8_t key[16], const void *data, size_t len) {
    return siphash_cd(key, data, len, 1, 3);
}

uint64_t tw_hash_tuple(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport) {
    /* Bytes 0-7: laddr (4), lport (2), low half of raddr (2).
     * Bytes 8-11: high half of raddr (2), rport (2); length 12 on top.
     * The rounds are written out: this runs several times per segment. */
    uint64_t m0 = (uint64_t)laddr | (uint64_t)lport << 32 | (uint64_t)(raddr & 0xffffu) << 48;
    uint64_t m1 = (uint64_t)(raddr >> 16) | (uint64_t)rport << 16 | (uint64_t)12 << 56;
    sip_state s;
    sip_init(&s, key);
    s.v3 ^= m0;
    sip_round(&s);
    sip_round(&s);
    s.v0 ^= m0;
    s.v3 ^= m1;
    sip_round(&s);
    sip_round(&s);
    s.v0 ^= m1;
    s.v2 ^= 0xff;
    sip_round(&s);
    sip_round(&s);
    sip_round(&s);
    sip_round(&s);
    return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}
