/* stack.h - internals of a tw_stack: the connection pool, the 4-tuple table,
 * compact TIME_WAIT records, listeners, the timing wheel, queued trace and
 * socket events. Shared by stack/ and sock/; not a public header.
 *
 * Table axioms (checked by tw__stack_check() in tests):
 * - every live connection slot that is not CLOSED is in the 4-tuple table
 *   exactly once, and no two entries (slots or TIME_WAIT records) share a
 *   4-tuple;
 * - a TIME_WAIT record is in the table and in the expiry FIFO, which is
 *   ordered by expiry (2MSL is the same for all records, so a new or
 *   restarted record goes to the tail; only a connection that sat in
 *   TIME_WAIT with its socket open is inserted further up);
 * - a slot's wheel entry is armed exactly when its connection has a deadline
 *   (checked for slots with no output pending);
 * - live slots, listeners' pending counts and accept queues, and sockets
 *   agree with each other. */
#ifndef TW_STACK_STACK_H
#define TW_STACK_STACK_H

#include <tcpwave/tcpwave.h>

#include "tcp/tcp.h"
#include "wire/ipv4.h"
#include "util/attr.h"
#include "util/hash.h"
#include "util/rng.h"
#include "util/wheel.h"

#define TW_NIL UINT32_MAX
#define TW_TWBIT 0x80000000u /* table entry refers to a TIME_WAIT record */
#define TW_SLOT_CHUNK 256u
#define TW_PORT_CTRS 4096u  /* RFC 6056 Algorithm 4: counters, one per destination hash */
#define TW_DESTC 256u       /* destinations remembered by the port choice (table.c) */
#define TW_MAX_SOCKS 65536u /* socket indices are 16 bits of a handle */

typedef struct tw_slot {
    /* hash and hnext first: a chain walk reads them from every entry it
     * passes, and compares the 4-tuple (in c) only when the hash matches. */
    uint32_t hash;  /* low 32 bits of the 4-tuple's hash (tw__tuple_hash), set while in_hash */
    uint32_t hnext; /* next entry in the hash chain */
    tw_tcp_conn c;
    tw_wheel_entry timer;
    uint32_t idx;
    uint32_t tw_susp;    /* the TIME_WAIT record this SYN_RECEIVED child reopened, or TW_NIL */
    uint32_t dirty_next; /* next slot with pending output */
    uint32_t acc_next;   /* next slot in its listener's accept queue */
    int32_t sock;        /* owning socket handle, -1 when orphaned */
    int32_t listener;    /* listener index while not yet accepted, -1 otherwise */
    uint8_t in_use, in_hash, dirty, accept_ready;
    uint8_t *mem; /* sndbuf + rcvbuf */
} tw_slot;

/* A connection in TIME_WAIT, reduced to what RFC 9293 §3.10.7.4, RFC 7323
 * and RFC 6191 need: 52 bytes instead of a full connection with its buffers.
 * Its TSval offset is not stored: tw_tcp_ts_offset_from(hash) gives it back,
 * since the stack derived the connection's offset from the same half of the
 * 4-tuple hash. */
typedef struct __attribute__((packed, aligned(4))) tw_twrec {
    uint64_t expiry; /* 4-byte aligned: the record stays 52 bytes */
    uint32_t hash;   /* low 32 bits of the 4-tuple's hash: no rehash to remove */
    uint32_t raddr;
    uint16_t lport, rport;
    uint32_t snd_nxt, rcv_nxt;
    uint32_t hnext;
    uint32_t fprev, fnext; /* expiry FIFO */
    uint32_t id;
    uint32_t ts_recent; /* TS.Recent when ts (RFC 7323 §4.3; RFC 6191 compares SYNs to it) */
    uint16_t wnd;
    uint8_t live;
    uint8_t flags; /* TW_RF_*; with TW_RF_TS the offset is recomputed from hash */
} tw_twrec;

enum {
    TW_RF_TS = 1, /* the incarnation used RFC 7323 timestamps */
    /* A new SYN reopened the 4-tuple and the new incarnation has not yet
     * completed its handshake: the record is out of the 4-tuple table (the
     * SYN_RECEIVED child holds the 4-tuple; hnext is that child's slot) but
     * keeps its place in the FIFO, so that if the SYN proves an old
     * duplicate (the child dies before ESTABLISHED, e.g. on the peer's RST)
     * the 4-tuple returns to TIME_WAIT with its old timer (RFC 1122
     * §4.2.2.13, RFC 9293 MAY-2 condition (2)). */
    TW_RF_SUSP = 2,
};

/* What the port choice remembers of a recent destination (table.c): its
 * hash F/G, and the 4-tuple hash of its next candidate port, computed (and
 * its bucket warmed) when the previous port was taken. */
typedef struct tw_destc {
    uint64_t f;         /* tw_hash_tuple(laddr, 0, raddr, rport) */
    uint64_t next_hash; /* tw__tuple_hash of the candidate for counter value next_ctr */
    uint32_t raddr, next_ctr;
    uint16_t rport;
    uint8_t valid, next_valid;
} tw_destc;

typedef struct tw_listener {
    uint16_t port;
    int32_t sock;
    uint32_t backlog;
    uint32_t pending; /* children not yet accepted (any state) */
    uint32_t acc_head, acc_tail;
    uint64_t cookie_tick; /* syncookie.c: cookie clock tick of the latest cookie sent + 1
                             (0: none); ACKs are checked for cookies only while one can live */
    uint8_t in_use;
} tw_listener;

typedef struct tw_sockent {
    uint16_t gen;
    uint8_t kind; /* TW_SK_* */
    uint8_t nodelay;
    uint16_t port;   /* bound port */
    uint32_t ref;    /* slot or listener index */
    uint32_t ev_seq; /* queue number of the latest event queued for this index
                        (tw__queue_event); stale once ev_popped has passed it */
} tw_sockent;

enum { TW_SK_FREE, TW_SK_NEW, TW_SK_LISTENER, TW_SK_CONN };

/* The settings (socket options) of a socket that has no connection yet: a
 * new socket until tw_connect, a listener for the children it accepts
 * (src/sock/sockopt.c). Entry i belongs to the handle `handle` of socket
 * index i; it is stale once that handle is closed (handles carry a
 * generation), and -1 when never set. */
typedef struct tw_sockset {
    int handle;
    tw_tcp_settings s;
} tw_sockset;

struct tw_stack {
    tw_stack_cfg cfg;
    tw_tcp_cfg tcp;
    tw_tcp_env env;
    uint64_t counters[TW_C__COUNT];
    tw_link *link;
    uint64_t now;
    uint8_t key[16];       /* hash + ISN secret (RFC 6528) */
    tw_tuple_memo in_memo; /* 4-tuple hash of the last segment in (tw_stack_input) */
    tw_rng rng;
    uint32_t next_conn_id;
    uint16_t ip_id;

    /* connection slots, in chunks so pointers stay valid as the pool grows */
    tw_slot **chunks;
    uint32_t nchunks, nslots, slot_free, nlive;
    /* One past the highest slot index ever handed out. The free list is
     * LIFO and starts at index 0, so this stays near the peak number of
     * connections: scans over every slot (checkers, closing a listener)
     * stop here rather than at nslots (a 2 KB stride the cache handles
     * badly). */
    uint32_t slot_hwm;
    uint8_t **mem_free; /* recycled buffer blocks */
    uint32_t nmem_free, cap_mem_free;

    /* 4-tuple hash: chained through 32-bit indices */
    uint32_t *buckets;
    uint32_t nbuckets; /* power of two, grown with nhashed (table.c) */
    uint32_t nhashed;  /* entries in the table: slots and records */

    /* TIME_WAIT records: growable array, FIFO by expiry, free list */
    tw_twrec *tw;
    uint32_t tw_cap, tw_count, tw_free, tw_head, tw_tail;
    uint32_t tw_nsusp; /* records of tw_count suspended by a reopening SYN (TW_RF_SUSP) */

    tw_listener *listeners;
    uint32_t nlisteners;
    /* port -> listener index + 1 (0: none), in 256-port pages made on demand,
     * so that a SYN finds its listener in O(1) whatever their number */
    uint32_t *lmap[256];

    /* Ephemeral ports (RFC 6056 §3.3.4, Algorithm 4): per-destination-hash
     * counters, each drawn at random on first use (port_ctr_set) */
    uint32_t port_ctr[TW_PORT_CTRS];
    uint64_t port_ctr_set[TW_PORT_CTRS / 64];
    tw_destc destc[TW_DESTC];
    uint32_t warm_bucket; /* bucket whose first entry the next connect warms, or TW_NIL */
    /* bit p set: a socket holds local port p (bound, listening or connected);
     * at most one socket holds a port, so a bit is exact */
    uint64_t port_used[65536 / 64];

    tw_sockent *socks;
    uint32_t nsocks;
    tw_sockset *sockset; /* by socket index, grown on demand by sockopt.c */
    uint32_t nsockset;
    /* free socket indices: bit set = free; sock_sum bit w = word w has one.
     * The lowest free index is found in O(1) (two find-first-set steps). */
    uint64_t *sock_free;
    uint64_t sock_sum[TW_MAX_SOCKS / 64 / 64];

    tw_wheel wheel;
    uint32_t dirty_head;

    /* queued trace events and socket events, delivered after each step */
    tw_trace_ev *trace_q;
    uint32_t trace_n, trace_cap;
    tw_event *ev_q;
    uint32_t ev_head, ev_n, ev_cap;
    uint32_t ev_popped; /* events taken so far (mod 2^32): queue number of ev_q[ev_head] */

    tw_tcp_tx tx; /* segment sink of tw_tcp_output(), for tx_conn (stack.c) */
    tw_tcp_conn *tx_conn;
    uint8_t defer_output; /* inside tw_stack_input_deferred(): conn_input marks, poll sends */
    uint8_t txbuf[TW_IPV4_HDR_LEN + TW_TCP_MAX_HDR_LEN + 65536];
    uint8_t scratch[65536];
};

/* slot access */
/* always_inline: an -O1 fuzz build otherwise keeps it a call, instrumented
 * for coverage on its own, in every loop over the slots. */
__attribute__((always_inline)) static inline tw_slot *tw__slot(const tw_stack *st, uint32_t i) {
    return &st->chunks[i / TW_SLOT_CHUNK][i % TW_SLOT_CHUNK];
}

/* The settings set on socket handle h before it had a connection, or NULL:
 * a connection it opens, or accepts as a listener, starts with them. */
static inline const tw_tcp_settings *tw__sock_settings(const tw_stack *st, int h) {
    uint32_t i = (uint32_t)h & 0xffffu;
    if (h < 0 || i >= st->nsockset || st->sockset[i].handle != h) return NULL;
    return &st->sockset[i].s;
}

/* table.c. A 4-tuple's hash (tw__tuple_hash: SipHash-2-4 under the stack's
 * secret) is computed once per packet, connect or passive open: its low 32
 * bits pick the bucket and are stored in the entry (so removes never rehash
 * and chain walks compare it before the 4-tuple), its high 32 bits are the
 * RFC 6528 ISN offset (tw__isn). */
int tw__table_init(tw_stack *st);
void tw__table_free(tw_stack *st);
uint64_t tw__tuple_hash(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport);
uint32_t tw__table_find(const tw_stack *st, uint32_t hash, uint32_t raddr, uint16_t lport,
                        uint16_t rport);
uint32_t tw__table_lookup(const tw_stack *st, uint32_t raddr, uint16_t lport, uint16_t rport);
void tw__table_insert_slot(tw_stack *st, tw_slot *s, uint32_t hash);
void tw__table_remove_slot(tw_stack *st, tw_slot *s);
uint32_t tw__tw_insert(tw_stack *st, const tw_tcp_conn *c, uint32_t hash);
void tw__tw_remove(tw_stack *st, uint32_t i);
/* Record i is reopened by a SYN whose child is slot `slot` (TW_RF_SUSP):
 * out of the 4-tuple table, still in the FIFO. */
void tw__tw_suspend(tw_stack *st, uint32_t i, uint32_t slot);
/* The child of suspended record i died before ESTABLISHED (and is out of
 * the table): the record holds the 4-tuple in TIME_WAIT again. */
void tw__tw_resume(tw_stack *st, uint32_t i);
void tw__tw_restart(tw_stack *st, uint32_t i, uint64_t expiry);
void tw__tw_prefetch(const tw_stack *st);
/* An ephemeral port for a connection to raddr:rport whose 4-tuple is free;
 * *hash is that 4-tuple's tw__tuple_hash. */
int tw__pick_port(tw_stack *st, uint32_t raddr, uint16_t rport, uint16_t *out, uint64_t *hash);
bool tw__port_listening(const tw_stack *st, uint16_t port, uint32_t *li);
bool tw__port_used(const tw_stack *st, uint16_t port);
void tw__port_hold(tw_stack *st, uint16_t port);
void tw__port_drop(tw_stack *st, uint16_t port);
int tw__listener_map(tw_stack *st, uint16_t port, uint32_t li);
void tw__listener_unmap(tw_stack *st, uint16_t port);
TW_CHECKER void tw__stack_check(const tw_stack *st);

/* sock/sockopt.c: hands the options set on new socket `s` to the connection
 * tw_connect() just made for it (to be called by tw_connect). */
void tw__sockopt_on_connect(tw_stack *st, int s, tw_tcp_conn *c);

/* stack.c */
tw_slot *tw__slot_new(tw_stack *st);
void tw__slot_release(tw_stack *st, tw_slot *s);
void tw__mark_dirty(tw_stack *st, tw_slot *s);
void tw__settle(tw_stack *st, tw_slot *s);
tw_seq_t tw__isn(const tw_stack *st, uint64_t tuple_hash);
void tw__queue_event(tw_stack *st, int sock, uint32_t what, int err);
void tw__trace_user(tw_stack *st, const tw_tcp_conn *c, tw_user_call call, uint32_t len);

/* syncookie.c: SYN cookies (RFC 4987 §3.6) for a listener that cannot take
 * another SYN. `hash` is the segment's tw__tuple_hash in both. */
/* Fills `out` with the cookie SYN-ACK answering `syn` for listener li and
 * returns true; false (nothing done) when cookies are off (cfg.syn_cookies). */
bool tw__cookie_synack(tw_stack *st, uint32_t li, const tw_tcp_seg *syn, uint64_t hash,
                       tw_tcp_seg *out);
/* An ACK (no SYN, no RST) for listener li and no connection. If it returns
 * a live cookie, the connection the SYN would have made, rebuilt in
 * SYN_RECEIVED and in the table: the caller hands it the ACK. Else NULL,
 * with *reason the drop counter when the ACK is dropped here (accept queue
 * or pool full), or 0 when the listener answers it as usual (RST). */
tw_slot *tw__cookie_ack(tw_stack *st, uint32_t li, const tw_tcp_seg *ack, uint64_t hash,
                        uint16_t *reason);

/* icmp.c: an IPv4 packet that is not TCP. Returns 0 when it was an ICMP
 * message put to use, else the drop reason (DROP_IP_PROTO if not ICMP). */
int tw__icmp_input(tw_stack *st, const uint8_t *pkt, size_t len);

#endif
