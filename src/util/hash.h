/* hash.h - keyed hashing for the connection table: SipHash-2-4 under a
 * per-stack 128-bit secret.
 *
 * The 4-tuple of an incoming segment is chosen by the remote peer; with an
 * unkeyed hash a peer could aim thousands of connections at one bucket.
 * SipHash with a random secret makes bucket choice unpredictable to peers. */
#ifndef TW_UTIL_HASH_H
#define TW_UTIL_HASH_H

#include <stddef.h>
#include <stdint.h>

/* SipHash-2-4 of `len` bytes at `data` under the 16-byte key (key bytes are
 * read as two little-endian 64-bit words, as in the paper). */
uint64_t tw_siphash(const uint8_t key[16], const void *data, size_t len);

/* SipHash-1-3 (one compression and three finalization rounds): faster and
 * still keyed; same byte conventions as tw_siphash. */
uint64_t tw_siphash13(const uint8_t key[16], const void *data, size_t len);

/* Hash of a connection 4-tuple (values in host byte order). Equals
 * tw_siphash() of the 12 bytes laddr, lport, raddr, rport, each stored
 * little-endian, but computed directly on two words without a byte loop. */
uint64_t tw_hash_tuple(const uint8_t key[16], uint32_t laddr, uint16_t lport,
                       uint32_t raddr, uint16_t rport);

#endif
