/* tw_link.h - the link abstraction: a small vtable moving whole IPv4 packets.
 *
 * A stack transmits through link->ops->send(); a driver (the simulator loop,
 * the TUN event loop, a test) receives with ops->recv() and hands packets to
 * tw_stack_input(). Decorators (pcap tap, fault injector) wrap another link and
 * implement the same ops, so tools can be stacked around any backend. */
#ifndef TCPWAVE_TW_LINK_H
#define TCPWAVE_TW_LINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct tw_link tw_link;

struct tw_link_ops {
    /* Sends one IPv4 packet at time `now` (ns). The link copies what it keeps.
     * Returns 0 or a negative TW_E* code (the stack counts it as a drop). */
    int (*send)(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now);
    /* Receives one packet due at or before `now` into buf. Returns its length,
     * 0 when nothing is due, or a negative TW_E* code. */
    int (*recv)(tw_link *l, uint8_t *buf, size_t cap, uint64_t now);
    /* Earliest time a packet may become receivable without a send, or
     * UINT64_MAX when unknown/never (real devices return UINT64_MAX). */
    uint64_t (*next_arrival)(tw_link *l);
    /* A file descriptor to wait on, or -1 (simulated links). */
    int (*poll_fd)(tw_link *l);
    /* Releases the link's resources; the tw_link itself is owned by its creator. */
    void (*close)(tw_link *l);
};

struct tw_link {
    const struct tw_link_ops *ops;
};

/* The other four operations of a send-only link: one whose owner feeds the
 * stack with tw_stack_input() and only collects what the stack sends
 * (tests, fuzzers, benchmarks). Nothing is ever due, there is no fd, and
 * close has nothing to release. Use as TW_LINK_SEND_ONLY(my_send). */
int tw_link_nop_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now);
uint64_t tw_link_nop_next_arrival(tw_link *l);
int tw_link_nop_poll_fd(tw_link *l);
void tw_link_nop_close(tw_link *l);
#define TW_LINK_SEND_ONLY(send_fn)                                                                 \
    {                                                                                              \
        (send_fn), tw_link_nop_recv, tw_link_nop_next_arrival, tw_link_nop_poll_fd,                \
            tw_link_nop_close                                                                      \
    }

#endif
