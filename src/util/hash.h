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
uint64_t tw_hash_tuple(const uint8_t key[16], uint32_t laddr, uint16_t lport, uint32_t raddr,
                       uint16_t rport);

/* A one-entry memo of tw_hash_tuple() for one key and local address: the
 * 4-tuple last hashed and its value. Segments of one connection tend to
 * arrive in runs (a request, then its FIN; a window of data segments or of
 * ACKs), so the lookup of the next segment often repeats the last 4-tuple;
 * 4.4BSD's tcp_input kept a one-entry cache of the last PCB for the same
 * reason. Only the keyed hash is kept, a pure function of the 4-tuple: the
 * table lookup itself is still made, so nothing here can go stale. A zero
 * memo is empty (a zero hash is simply computed again each time). */
typedef struct tw_tuple_memo {
    uint64_t tuple; /* raddr << 32 | lport << 16 | rport */
    uint64_t hash;  /* its tw_hash_tuple(), 0 = none */
} tw_tuple_memo;

/* tw_hash_tuple(key, laddr, lport, raddr, rport) through the memo `m`,
 * which must only ever be used with this key and laddr. */
static inline uint64_t tw_hash_tuple_memo(tw_tuple_memo *m, const uint8_t key[16], uint32_t laddr,
                                          uint16_t lport, uint32_t raddr, uint16_t rport) {
    uint64_t t = (uint64_t)raddr << 32 | (uint64_t)lport << 16 | rport;
    if (m->tuple == t && m->hash != 0) return m->hash;
    m->tuple = t;
    m->hash = tw_hash_tuple(key, laddr, lport, raddr, rport);
    return m->hash;
}

/* Puts into `m` a 4-tuple whose tw_hash_tuple() value `hash` the caller
 * has just computed under the memo's key and laddr: a connect does so for
 * its table entry and ISN, and the first segment back (the SYN-ACK) then
 * finds it here instead of hashing again. */
static inline void tw_tuple_memo_put(tw_tuple_memo *m, uint16_t lport, uint32_t raddr,
                                     uint16_t rport, uint64_t hash) {
    m->tuple = (uint64_t)raddr << 32 | (uint64_t)lport << 16 | rport;
    m->hash = hash;
}

#endif
