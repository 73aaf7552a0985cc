/* rng.c - xoshiro256** (Blackman & Vigna, "Scrambled linear pseudorandom
 * number generators", 2018) with its state filled by splitmix64 (Steele, Lea
 * & Flood, "Fast splittable pseudorandom number generators", 2014), as the
 * xoshiro authors recommend. Written from the published descriptions. */
#include "util/rng.h"

static inline uint64_t rotl64(uint64_t x, unsigned k) {
    return (x << k) | (x >> (64u - k));
}

/* One splitmix64 step: advance the Weyl sequence, then mix. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void tw_rng_seed(tw_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
    /* splitmix64 is a bijection of distinct inputs, so the four words can
     * never all be zero; keep the guard anyway since all-zero is absorbing. */
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

uint64_t tw_rng_next(tw_rng *r) {
    uint64_t *s = r->s;
    uint64_t out = rotl64(s[1] * 5u, 7) * 9u;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl64(s[3], 45);
    return out;
}

uint32_t tw_rng_u32(tw_rng *r) {
    return (uint32_t)(tw_rng_next(r) >> 32);
}

uint64_t tw_rng_below(tw_rng *r, uint64_t n) {
    if (n == 0) return 0;
    /* Reject the lowest (2^64 mod n) values so that the accepted range is a
     * whole multiple of n; (0 - n) % n == 2^64 mod n in unsigned arithmetic. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t x = tw_rng_next(r);
        if (x >= threshold) return x % n;
    }
}

uint64_t tw_rng_range(tw_rng *r, uint64_t lo, uint64_t hi) {
    if (hi <= lo) return lo;
    uint64_t span = hi - lo;
    if (span == UINT64_MAX) return tw_rng_next(r);
    return lo + tw_rng_below(r, span + 1);
}

double tw_rng_unit(tw_rng *r) {
    return (double)(tw_rng_next(r) >> 11) * (1.0 / 9007199254740992.0); /* 2^-53 */
}

bool tw_rng_chance(tw_rng *r, double p) {
    if (!(p > 0.0)) return false; /* also catches NaN */
    if (p >= 1.0) return true;
    return tw_rng_unit(r) < p;
}
