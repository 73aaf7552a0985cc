/* assembler.h - bookkeeping for out-of-order TCP data: which byte ranges
 * beyond RCV.NXT have arrived (the bytes themselves sit in the receive ring,
 * written with tw_ring_write_at).
 *
 * Offsets are relative to RCV.NXT, so they are plain uint32_t and need no
 * sequence-space wrap handling. At most TW_ASM_MAX ranges are tracked; a
 * segment that would need more is refused (and dropped by the caller, the
 * peer retransmits), which bounds memory and work per segment.
 *
 * Invariant: r[0..n) is sorted by start, every range is non-empty, and
 * consecutive ranges are separated by a gap of at least one byte
 * (r[i].end < r[i+1].start): overlapping or touching ranges are merged. */
#ifndef TW_UTIL_ASSEMBLER_H
#define TW_UTIL_ASSEMBLER_H

#include <stdbool.h>
#include <stdint.h>

/* 96: a 256 KB window of full segments with every other one lost. */
#define TW_ASM_MAX 96

typedef struct tw_asm {
    uint8_t n;
    struct {
        uint32_t start, end;
    } r[TW_ASM_MAX]; /* [start, end) */
} tw_asm;

/* Start with no ranges. */
void tw_asm_init(tw_asm *a);
/* Record [off, off+len) (end saturates at UINT32_MAX), merging with
 * overlapping or adjacent ranges. Returns 0, or -1 without changing anything
 * if the result would need more than TW_ASM_MAX ranges. len 0 is a no-op. */
int tw_asm_add(tw_asm *a, uint32_t off, uint32_t len);
/* If a range starts at offset 0, remove it and return its length (the caller
 * advances RCV.NXT by that much, then calls tw_asm_shift with it); else 0. */
uint32_t tw_asm_take_front(tw_asm *a);
/* RCV.NXT moved forward by n: subtract n from every offset, dropping ranges
 * that end at or below n and clipping one that straddles it to start at 0. */
void tw_asm_shift(tw_asm *a, uint32_t n);
/* True when no ranges are recorded. */
bool tw_asm_empty(const tw_asm *a);
/* Total bytes covered by the recorded ranges. */
uint32_t tw_asm_bytes(const tw_asm *a);
/* True if every byte of [off, off+len) is covered by one recorded range. */
bool tw_asm_contains(const tw_asm *a, uint32_t off, uint32_t len);

#endif
