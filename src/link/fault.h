/* fault.h - a fault injector: a tw_link decorator that drops a seeded share
 * of the packets going each way through the link it wraps, and counts them.
 * It can also play a congested ECN router (RFC 3168 §5): a seeded share of
 * the ECN-capable packets (ECT(0) or ECT(1)) each way is marked CE instead
 * of being dropped.
 *
 * It gives a real link (a TUN device) the loss the simulator has built in,
 * so both ends of a connection with the Linux kernel must recover: the
 * kernel's segments lost on the way in, tcpwave's on the way out. Each
 * direction has its own generator seeded from one seed, so whether the k-th
 * packet of a direction is dropped depends only on the seed and k (the
 * interleaving of the two directions, which real time decides, does not
 * change either pattern).
 *
 * Where it sits decides what a capture shows. `tcpwave serve/connect` put it
 * between the stack and the pcap tap (stack -> fault -> tap -> TUN): the
 * capture is the wire as the kernel sees it, so an outgoing packet dropped
 * here never appears and an incoming one appears although the stack never
 * got it, exactly as if the link had lost it in the middle. */
#ifndef TW_LINK_FAULT_H
#define TW_LINK_FAULT_H

#include <stdint.h>

#include "tcpwave/tw_link.h"
#include "util/rng.h"

typedef struct tw_fault_stats {
    uint64_t in, in_dropped;   /* packets received from the inner link / dropped */
    uint64_t out, out_dropped; /* packets handed to send() / dropped */
    uint64_t in_ce, out_ce;    /* ECN-capable packets marked CE each way */
} tw_fault_stats;

/* The caller owns the struct, which must outlive its use as a link. send()
 * drops with probability p_out (returning 0, as a lossy wire would) or passes
 * the packet on; recv() drops with probability p_in and then reads the next
 * packet, so it returns only packets that survived, or 0 when the inner link
 * has nothing more. poll_fd() and next_arrival() are the inner link's;
 * close() closes the inner link. */
typedef struct tw_fault_link {
    tw_link link; /* hand &f.link to tw_stack_new() and the driver */
    tw_link *inner;
    double p_in, p_out;
    tw_rng rng_in, rng_out;
    double ce_in, ce_out; /* CE-marking probabilities (tw_fault_link_set_ce) */
    tw_rng rng_ce_in, rng_ce_out;
    tw_fault_stats stats;
    uint8_t buf[65536]; /* an outgoing packet being marked (send() gets a const one) */
} tw_fault_link;

/* p_in, p_out in [0, 1]. */
void tw_fault_link_init(tw_fault_link *f, tw_link *inner, double p_in, double p_out, uint64_t seed);
/* Marks CE on a share ce_in / ce_out in [0, 1] of the ECN-capable IPv4
 * packets that survive the loss each way (the header checksum redone);
 * other packets pass unchanged. Off after init. */
void tw_fault_link_set_ce(tw_fault_link *f, double ce_in, double ce_out);

#endif
