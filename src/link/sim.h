/* sim.h - a simulated network: an in-memory, seeded, deterministic medium
 * joining two or more endpoints, each seen by its stack as a tw_link.
 *
 * Time is virtual: the sim never reads a clock; every send() and recv() is
 * told `now` (ns) and a packet sent at t is delivered at
 *     t + delay_ns [+ reorder_extra_ns if drawn for reordering] + U[0, jitter_ns]
 * to the endpoint whose address equals the packet's IPv4 destination (bytes
 * 16..19). Each endpoint's recv(now) hands out its packets due at or before
 * `now` in delivery-time order, ties in send order. A driver advances its
 * clock to the next interesting time (tw_sim_next_arrival() / the link's
 * next_arrival() and the stacks' timers).
 *
 * Impairments are configured per sending endpoint (tw_sim_cfg). For every
 * send the sim draws, from its one seeded tw_rng and always in this order,
 * and only for the features whose probability is > 0 (jitter: > 0 ns):
 *     loss, corrupt (+ the bit to flip), dup, reorder, jitter.
 * All of them are drawn even for a packet that ends up dropped (by loss, a
 * rule or as unroutable), so each send consumes the same draws whatever the
 * outcome: e.g. adding a drop_nth rule or raising the loss rate does not
 * change the jitter of the surviving packets. Same seed + same calls =>
 * identical behaviour, events and statistics.
 *
 * Semantics of the impairments:
 *   loss     - the packet is dropped.
 *   corrupt  - exactly one uniformly chosen bit of the packet is flipped
 *              (anywhere, headers included); checksums are not fixed up.
 *   dup      - a second copy (identical, including any corruption) is
 *              delivered at the same time, right after the first.
 *   reorder  - the packet is held back by reorder_extra_ns, so later packets
 *              overtake it.
 *   jitter   - uniform extra delay in [0, jitter_ns]; it may reorder too.
 *   ce       - an ECN-capable packet (ECT(0)/ECT(1)) is marked CE, its IPv4
 *              header checksum redone (RFC 3168 §5); drawn last.
 *
 * A bottleneck (rate_bps > 0, no randomness): the endpoint's packets leave
 * one after the other at rate_bps, each taking len * 8 / rate_bps to send,
 * so a burst queues and the queueing delay adds to delay_ns. With
 * queue_bytes > 0 a packet that finds that many bytes already queued is
 * dropped (a drop-tail router); with ce_queue_bytes > 0 an ECN-capable one
 * that finds at least that many is marked CE (a step-marking AQM). Both
 * happen before the random impairments, which see only the packets that
 * got through.
 *
 * Deterministic rules, applied before the random impairments: drop the n-th
 * packet an endpoint sends (tw_sim_drop_nth) and a user filter callback.
 * An observer sees every event, for traces and ladder diagrams.
 *
 * The tw_link of an endpoint is owned by the sim (valid until tw_sim_free);
 * its close() does nothing and its poll_fd() is -1. */
#ifndef TW_LINK_SIM_H
#define TW_LINK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tcpwave/tw_link.h"

typedef struct tw_sim tw_sim;

/* Impairments of the packets an endpoint sends. All zero = a perfect wire
 * with no delay. Probabilities are in [0, 1]. */
typedef struct tw_sim_cfg {
    uint64_t delay_ns;         /* one-way base delay */
    uint64_t jitter_ns;        /* extra uniform delay in [0, jitter_ns] */
    double loss;               /* probability a packet is dropped */
    double dup;                /* probability a packet is delivered twice */
    double reorder;            /* probability a packet gets reorder_extra_ns more delay */
    double corrupt;            /* probability one random bit is flipped */
    uint64_t reorder_extra_ns; /* hold-back of a reordered packet */
    double ce;                 /* probability an ECN-capable packet is marked CE (RFC 3168 §5) */
    uint64_t rate_bps;         /* bottleneck rate; 0 = infinite (no queueing) */
    uint32_t queue_bytes;      /* drop-tail limit of the bottleneck queue; 0 = unlimited */
    uint32_t ce_queue_bytes;   /* queue from which ECN-capable packets are marked CE; 0 = never */
} tw_sim_cfg;

/* Creates an empty network whose randomness comes from `seed`. NULL if out of memory. */
tw_sim *tw_sim_new(uint64_t seed);
/* Frees the network, its endpoints (and their tw_links) and any packets in flight. */
void tw_sim_free(tw_sim *s);

/* Adds an endpoint with IPv4 address `ipv4_addr` (host byte order) and the
 * impairments of its outgoing packets (NULL = all zero). Returns the endpoint
 * index (0, 1, 2, ... in order of addition), -TW_EADDRINUSE if another
 * endpoint has that address, -TW_ENOMEM. */
int tw_sim_add_endpoint(tw_sim *s, uint32_t ipv4_addr, const tw_sim_cfg *cfg);
/* The endpoint's link; NULL for a bad index. */
tw_link *tw_sim_link(tw_sim *s, int ep);
/* Replaces the endpoint's impairments for packets sent from now on
 * (NULL = all zero). Packets already in flight keep their delivery time. */
void tw_sim_set_cfg(tw_sim *s, int ep, const tw_sim_cfg *cfg);
/* Current impairments of an endpoint (all zero for a bad index). */
tw_sim_cfg tw_sim_get_cfg(const tw_sim *s, int ep);

int tw_sim_endpoint_count(const tw_sim *s);
/* Address of an endpoint (host order), 0 for a bad index. */
uint32_t tw_sim_endpoint_addr(const tw_sim *s, int ep);
/* Index of the endpoint with that address (host order), or -1. */
int tw_sim_find_endpoint(const tw_sim *s, uint32_t ipv4_addr);
/* Number of packets `ep` has sent so far; its next packet is number this + 1. */
uint64_t tw_sim_sent_count(const tw_sim *s, int ep);

/* Drops the n-th packet (1-based, counting every send() of from_ep, whatever
 * its fate) sent by from_ep. Any number of rules may be registered; a rule
 * for a packet number already passed never fires. */
void tw_sim_drop_nth(tw_sim *s, int from_ep, uint64_t n);

/* Called for every packet sent (before loss/corruption, after drop_nth), with
 * the sender, its packet number and the packet as sent; return true to drop
 * it (counted as rule_dropped). NULL fn removes the filter. */
typedef bool (*tw_sim_filter_fn)(void *ctx, int from_ep, uint64_t nth, const uint8_t *pkt,
                                 size_t len, uint64_t now);
void tw_sim_set_filter(tw_sim *s, tw_sim_filter_fn fn, void *ctx);

/* Events, in the order they happen for one send():
 *   SENT, then one of
 *     UNROUTABLE | DROPPED_RULE | DROPPED_QUEUE | DROPPED_LOSS, or
 *     [CE_MARKED] [CORRUPTED] [DUPLICATED] [REORDERED]   (now in flight)
 * and later DELIVERED once per copy, from the receiver's recv().
 * to_ep is the destination endpoint (-1 when unroutable); nth the sender's
 * packet number; pkt/len the packet (as corrupted for CORRUPTED and after);
 * now is the time of the send() for all events except DELIVERED, where it is
 * the packet's delivery time (recv()'s `now` may be later). */
enum tw_sim_ev {
    TW_SIM_SENT,
    TW_SIM_DROPPED_LOSS,
    TW_SIM_DROPPED_RULE,
    TW_SIM_DUPLICATED,
    TW_SIM_CORRUPTED,
    TW_SIM_DELIVERED,
    TW_SIM_UNROUTABLE,
    TW_SIM_REORDERED,
    TW_SIM_CE_MARKED,
    TW_SIM_DROPPED_QUEUE,
};
/* Short lowercase name of an event ("sent", "dropped_loss", ...), "?" if unknown. */
const char *tw_sim_ev_name(enum tw_sim_ev ev);

typedef void (*tw_sim_observer_fn)(void *ctx, enum tw_sim_ev ev, int from_ep, int to_ep,
                                   uint64_t nth, const uint8_t *pkt, size_t len, uint64_t now);
/* Installs the observer (NULL fn removes it). It must not call back into the sim. */
void tw_sim_set_observer(tw_sim *s, tw_sim_observer_fn fn, void *ctx);

/* Earliest pending delivery time over all endpoints, UINT64_MAX if none. */
uint64_t tw_sim_next_arrival(const tw_sim *s);

struct tw_sim_stats {
    uint64_t sent;          /* send() calls accepted (every packet, whatever its fate) */
    uint64_t delivered;     /* copies handed out by recv() */
    uint64_t lost;          /* dropped by the random loss */
    uint64_t rule_dropped;  /* dropped by drop_nth or the filter */
    uint64_t duplicated;    /* extra copies created */
    uint64_t corrupted;     /* packets with a flipped bit */
    uint64_t reordered;     /* packets held back by reorder_extra_ns */
    uint64_t unroutable;    /* no endpoint with the destination address (or < 20 bytes) */
    uint64_t ce_marked;     /* ECN-capable packets marked CE (randomly or by the queue) */
    uint64_t queue_dropped; /* dropped by a full bottleneck queue */
};
void tw_sim_get_stats(const tw_sim *s, struct tw_sim_stats *out);

/* Copies in flight (sent, not yet received) over all endpoints. */
size_t tw_sim_in_flight(const tw_sim *s);

#endif
