/* ring.c - the byte ring behind socket buffers. Every copy is split in at
 * most two memcpy calls at the wrap point; positions are computed in 64 bits
 * so a capacity near 2^32 cannot overflow. */
#include "util/ring.h"

#include <string.h>

static inline uint32_t min_u32(uint32_t a, uint32_t b) {
    return a < b ? a : b;
}

/* Physical index of logical offset `off` (0 <= off <= cap) from head. */
static inline uint32_t ring_pos(const tw_ring *r, uint32_t off) {
    uint64_t pos = (uint64_t)r->head + off;
    if (pos >= r->cap) pos -= r->cap;
    return (uint32_t)pos;
}

/* Copy n bytes in at logical offset `off` from head (caller checked room). */
static void copy_in(tw_ring *r, uint32_t off, const uint8_t *src, uint32_t n) {
    if (n == 0) return;
    uint32_t pos = ring_pos(r, off);
    uint32_t first = min_u32(n, r->cap - pos);
    memcpy(r->buf + pos, src, first);
    if (n > first) memcpy(r->buf, src + first, n - first);
}

/* Copy n bytes out from logical offset `off` from head (caller checked). */
static void copy_out(const tw_ring *r, uint32_t off, uint8_t *dst, uint32_t n) {
    if (n == 0) return;
    uint32_t pos = ring_pos(r, off);
    uint32_t first = min_u32(n, r->cap - pos);
    memcpy(dst, r->buf + pos, first);
    if (n > first) memcpy(dst + first, r->buf, n - first);
}

void tw_ring_init(tw_ring *r, uint8_t *mem, uint32_t cap) {
    r->buf = mem;
    r->cap = mem ? cap : 0;
    r->head = 0;
    r->len = 0;
}

uint32_t tw_ring_free(const tw_ring *r) {
    return r->cap - r->len;
}

uint32_t tw_ring_len(const tw_ring *r) {
    return r->len;
}

uint32_t tw_ring_write(tw_ring *r, const void *p, uint32_t n) {
    n = min_u32(n, tw_ring_free(r));
    copy_in(r, r->len, p, n);
    r->len += n;
    return n;
}

uint32_t tw_ring_peek(const tw_ring *r, uint32_t off, void *p, uint32_t n) {
    if (off >= r->len) return 0;
    n = min_u32(n, r->len - off);
    copy_out(r, off, p, n);
    return n;
}

void tw_ring_discard(tw_ring *r, uint32_t n) {
    n = min_u32(n, r->len);
    r->head = ring_pos(r, n);
    r->len -= n;
    /* head is deliberately not reset to 0 when the ring empties: bytes put
     * in the free area by tw_ring_write_at must keep their position. */
}

uint32_t tw_ring_read(tw_ring *r, void *p, uint32_t n) {
    n = tw_ring_peek(r, 0, p, n);
    tw_ring_discard(r, n);
    return n;
}

uint32_t tw_ring_write_at(tw_ring *r, uint32_t off, const void *p, uint32_t n) {
    uint32_t room = tw_ring_free(r);
    if (off >= room) return 0;
    n = min_u32(n, room - off);
    copy_in(r, r->len + off, p, n);
    return n;
}

void tw_ring_commit(tw_ring *r, uint32_t n) {
    r->len += min_u32(n, tw_ring_free(r));
}
