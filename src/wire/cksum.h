/* cksum.h - the Internet checksum (RFC 1071) with 64-bit accumulation.
 *
 * Summing 32 bits at a time into a 64-bit accumulator defers carries, so the
 * loop runs at memory speed instead of one 16-bit add per step. */
#ifndef TW_WIRE_CKSUM_H
#define TW_WIRE_CKSUM_H

#include <stddef.h>
#include <stdint.h>

/* Adds `len` bytes at `p` (any alignment, any length) to a running sum.
 * Data are summed as big-endian 16-bit words; an odd trailing byte is padded.
 * Chained calls must pass even lengths for all but the last chunk. */
uint64_t tw_cksum_add(uint64_t acc, const void *p, size_t len);
/* Folds a running sum to 16 bits and complements it: the value to store. */
uint16_t tw_cksum_fin(uint64_t acc);
/* The running sum of the TCP/UDP pseudo-header (RFC 9293 §3.1): addresses in
 * host order, protocol number, and the transport length. */
uint64_t tw_cksum_pseudo(uint32_t src, uint32_t dst, uint8_t proto, uint16_t len);

#endif
