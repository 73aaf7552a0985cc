/* seq.h - 32-bit TCP sequence numbers as a distinct type with wrapping
 * comparisons (RFC 9293 §3.4: all arithmetic is modulo 2^32).
 *
 * Wrapping the value in a struct means a sequence number cannot be mixed with
 * a length or a window by accident: the compiler rejects `seq + len`. */
#ifndef TW_WIRE_SEQ_H
#define TW_WIRE_SEQ_H

#include <stdint.h>
#include <stdbool.h>

typedef struct tw_seq {
    uint32_t v;
} tw_seq_t;

static inline tw_seq_t tw_seq(uint32_t v) {
    tw_seq_t s = {v};
    return s;
}
/* a + n, modulo 2^32. */
static inline tw_seq_t tw_seq_add(tw_seq_t a, uint32_t n) {
    return tw_seq(a.v + n);
}
/* Signed distance b - a, valid while |b - a| < 2^31. */
static inline int32_t tw_seq_diff(tw_seq_t b, tw_seq_t a) {
    return (int32_t)(b.v - a.v);
}
static inline bool tw_seq_eq(tw_seq_t a, tw_seq_t b) {
    return a.v == b.v;
}
static inline bool tw_seq_lt(tw_seq_t a, tw_seq_t b) {
    return (int32_t)(a.v - b.v) < 0;
}
static inline bool tw_seq_le(tw_seq_t a, tw_seq_t b) {
    return (int32_t)(a.v - b.v) <= 0;
}
static inline bool tw_seq_gt(tw_seq_t a, tw_seq_t b) {
    return (int32_t)(a.v - b.v) > 0;
}
static inline bool tw_seq_ge(tw_seq_t a, tw_seq_t b) {
    return (int32_t)(a.v - b.v) >= 0;
}
/* lo <= s < hi, the half-open window test used by RFC 9293 §3.10.7.4. */
static inline bool tw_seq_in(tw_seq_t s, tw_seq_t lo, tw_seq_t hi) {
    return tw_seq_le(lo, s) && tw_seq_lt(s, hi);
}
static inline tw_seq_t tw_seq_max(tw_seq_t a, tw_seq_t b) {
    return tw_seq_gt(a, b) ? a : b;
}
static inline tw_seq_t tw_seq_min(tw_seq_t a, tw_seq_t b) {
    return tw_seq_lt(a, b) ? a : b;
}

#endif
