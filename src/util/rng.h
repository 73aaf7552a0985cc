/* rng.h - a small deterministic PRNG (xoshiro256** seeded through
 * splitmix64) for everything in tcpwave that needs randomness: initial
 * sequence numbers in tests, simulated loss, ephemeral ports, fuzzing.
 *
 * It is NOT cryptographic. Its point is reproducibility: the same seed always
 * gives the same sequence on every platform, so a failing simulation can be
 * replayed from its seed. */
#ifndef TW_UTIL_RNG_H
#define TW_UTIL_RNG_H

#include <stdbool.h>
#include <stdint.h>

typedef struct tw_rng {
    uint64_t s[4];
} tw_rng;

/* Seed the generator; any 64-bit value (including 0) gives a valid state. */
void tw_rng_seed(tw_rng *r, uint64_t seed);
/* Next 64 uniformly distributed bits. */
uint64_t tw_rng_next(tw_rng *r);
/* Next 32 uniformly distributed bits (the high half of tw_rng_next). */
uint32_t tw_rng_u32(tw_rng *r);
/* Uniform integer in [0, n) without modulo bias; n must be > 0 (n == 0
 * returns 0). */
uint64_t tw_rng_below(tw_rng *r, uint64_t n);
/* Uniform integer in [lo, hi] inclusive (lo <= hi). */
uint64_t tw_rng_range(tw_rng *r, uint64_t lo, uint64_t hi);
/* Uniform double in [0, 1) with 53 random bits. */
double tw_rng_unit(tw_rng *r);
/* True with probability p (p <= 0 never, p >= 1 always). */
bool tw_rng_chance(tw_rng *r, double p);

#endif
