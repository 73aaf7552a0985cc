/* ring.h - fixed-capacity byte ring buffer on caller-supplied memory; the
 * storage behind each TCP socket's send and receive buffers.
 *
 * Stored bytes are [head, head+len) modulo cap. For reassembly the receive
 * path may also write into the free area beyond the stored bytes
 * (tw_ring_write_at) and later make a prefix of it part of the stored data
 * (tw_ring_commit) once the gap before it is filled. No allocation; the ring
 * never owns `buf`. */
#ifndef TW_UTIL_RING_H
#define TW_UTIL_RING_H

#include <stdint.h>

typedef struct tw_ring {
    uint8_t *buf;
    uint32_t cap, head, len;
} tw_ring;

/* Use `cap` bytes at `mem` as an empty ring (cap may be any size, 0 too). */
void tw_ring_init(tw_ring *r, uint8_t *mem, uint32_t cap);
/* Bytes that can still be written (cap - len). */
uint32_t tw_ring_free(const tw_ring *r);
/* Bytes stored. */
uint32_t tw_ring_len(const tw_ring *r);
/* Append up to tw_ring_free() bytes of `p`; returns the number appended. */
uint32_t tw_ring_write(tw_ring *r, const void *p, uint32_t n);
/* Copy out and consume up to n stored bytes; returns the number read. */
uint32_t tw_ring_read(tw_ring *r, void *p, uint32_t n);
/* Copy up to n stored bytes starting `off` bytes into the stored data,
 * without consuming; returns the number copied (0 if off >= len). */
uint32_t tw_ring_peek(const tw_ring *r, uint32_t off, void *p, uint32_t n);
/* Drop up to n bytes from the front (e.g. data the peer has acknowledged). */
void tw_ring_discard(tw_ring *r, uint32_t n);
/* Write into the free area `off` bytes past the end of the stored data,
 * leaving len unchanged; clipped to the free space, returns bytes written
 * (0 if off >= free). Earlier out-of-order writes there are overwritten. */
uint32_t tw_ring_write_at(tw_ring *r, uint32_t off, const void *p, uint32_t n);
/* Make the first n bytes of the free area (written with tw_ring_write_at at
 * offsets 0..n) stored data; n is clipped to the free space. */
void tw_ring_commit(tw_ring *r, uint32_t n);

#endif
