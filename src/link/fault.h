/* fault.h - a fault injector: a tw_link decorator that drops a seeded share
 * of the packets going each way through the link it wraps, and counts them.
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
    tw_fault_stats stats;
} tw_fault_link;

/* p_in, p_out in [0, 1]. */
void tw_fault_link_init(tw_fault_link *f, tw_link *inner, double p_in, double p_out, uint64_t seed);

#endif
