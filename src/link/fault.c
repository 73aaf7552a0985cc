/* fault.c - owns the seeded packet-dropping link decorator (see fault.h). */
#include "link/fault.h"

#include <string.h>

#include "wire/ipv4.h"

static int fault_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    tw_fault_link *f = (tw_fault_link *)l;
    f->stats.out++;
    if (tw_rng_chance(&f->rng_out, f->p_out)) {
        f->stats.out_dropped++;
        return 0; /* lost on the wire: the sender cannot tell */
    }
    if (f->ce_out > 0 && len <= sizeof f->buf && (pkt[1] & 3u) &&
        tw_rng_chance(&f->rng_ce_out, f->ce_out)) {
        memcpy(f->buf, pkt, len);
        if (tw_ipv4_mark_ce(f->buf, len)) {
            f->stats.out_ce++;
            return f->inner->ops->send(f->inner, f->buf, len, now);
        }
    }
    return f->inner->ops->send(f->inner, pkt, len, now);
}

static int fault_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    tw_fault_link *f = (tw_fault_link *)l;
    for (;;) {
        int n = f->inner->ops->recv(f->inner, buf, cap, now);
        if (n <= 0) return n;
        f->stats.in++;
        if (!tw_rng_chance(&f->rng_in, f->p_in)) {
            if (f->ce_in > 0 && n >= 20 && (buf[1] & 3u) &&
                tw_rng_chance(&f->rng_ce_in, f->ce_in) && tw_ipv4_mark_ce(buf, (size_t)n))
                f->stats.in_ce++;
            return n;
        }
        f->stats.in_dropped++;
    }
}

static uint64_t fault_next_arrival(tw_link *l) {
    tw_fault_link *f = (tw_fault_link *)l;
    return f->inner->ops->next_arrival(f->inner);
}

static int fault_poll_fd(tw_link *l) {
    tw_fault_link *f = (tw_fault_link *)l;
    return f->inner->ops->poll_fd(f->inner);
}

static void fault_close(tw_link *l) {
    tw_fault_link *f = (tw_fault_link *)l;
    f->inner->ops->close(f->inner);
}

static const struct tw_link_ops fault_ops = {
    fault_send, fault_recv, fault_next_arrival, fault_poll_fd, fault_close,
};

void tw_fault_link_init(tw_fault_link *f, tw_link *inner, double p_in, double p_out,
                        uint64_t seed) {
    f->link.ops = &fault_ops;
    f->inner = inner;
    f->p_in = p_in;
    f->p_out = p_out;
    /* Two streams from one seed: the golden-ratio constant splits them. */
    tw_rng_seed(&f->rng_in, seed);
    tw_rng_seed(&f->rng_out, seed ^ 0x9e3779b97f4a7c15ull);
    f->stats = (tw_fault_stats){0, 0, 0, 0, 0, 0};
    f->ce_in = f->ce_out = 0;
    tw_rng_seed(&f->rng_ce_in, seed ^ 0x243f6a8885a308d3ull);
    tw_rng_seed(&f->rng_ce_out, seed ^ 0x13198a2e03707344ull);
}

void tw_fault_link_set_ce(tw_fault_link *f, double ce_in, double ce_out) {
    f->ce_in = ce_in;
    f->ce_out = ce_out;
}
