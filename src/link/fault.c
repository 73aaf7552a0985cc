/* fault.c - owns the seeded packet-dropping link decorator (see fault.h). */
#include "link/fault.h"

static int fault_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    tw_fault_link *f = (tw_fault_link *)l;
    f->stats.out++;
    if (tw_rng_chance(&f->rng_out, f->p_out)) {
        f->stats.out_dropped++;
        return 0; /* lost on the wire: the sender cannot tell */
    }
    return f->inner->ops->send(f->inner, pkt, len, now);
}

static int fault_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    tw_fault_link *f = (tw_fault_link *)l;
    for (;;) {
        int n = f->inner->ops->recv(f->inner, buf, cap, now);
        if (n <= 0) return n;
        f->stats.in++;
        if (!tw_rng_chance(&f->rng_in, f->p_in)) return n;
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
    f->stats = (tw_fault_stats){0, 0, 0, 0};
}
