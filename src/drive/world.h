/* world.h - a deterministic little internet: several stacks joined by the
 * simulated link, one virtual clock, and scripted applications.
 *
 * The world is the stack's discrete-event loop: the clock jumps to the
 * earliest of the next packet delivery, the next stack deadline and the next
 * application wake-up; packets due are delivered, stacks are polled, and
 * socket events are handed to each host's application callback after the
 * step. The same seed and the same applications give the same run, byte for
 * byte. Used by `tcpwave demo`, the simulation tests and benchmarks. */
#ifndef TW_DRIVE_WORLD_H
#define TW_DRIVE_WORLD_H

#include <tcpwave/tcpwave.h>

#include "link/sim.h"

typedef struct tw_world tw_world;

/* An application: called with each socket event of its host, and with
 * ev == NULL when its wake-up time (tw_world_wake_at) has come. */
typedef void (*tw_app_fn)(tw_world *w, int host, const tw_event *ev, void *ctx);
/* Observes every trace event of every host (host index given). */
typedef void (*tw_world_trace_fn)(void *ctx, int host, const tw_trace_ev *ev);
/* Observes every socket event of every host at virtual time `now`, just
 * before the host's application gets it. */
typedef void (*tw_world_event_fn)(void *ctx, int host, uint64_t now, const tw_event *ev);

/* Creates an empty world; `seed` drives the link's randomness. NULL on ENOMEM. */
tw_world *tw_world_new(uint64_t seed);
/* Frees hosts, stacks and the link. */
void tw_world_free(tw_world *w);
/* Adds a host with address `addr` (host order): a stack configured by `cfg`
 * (its addr, trace and seed fields are set by the world) on a simulated link
 * endpoint impaired by `link` (NULL = perfect). Returns the host index or a
 * negative TW_E* code. */
int tw_world_add_host(tw_world *w, const char *name, uint32_t addr, const tw_stack_cfg *cfg,
                      const tw_sim_cfg *link);
tw_stack *tw_world_stack(tw_world *w, int host);
const char *tw_world_host_name(const tw_world *w, int host);
uint32_t tw_world_host_addr(const tw_world *w, int host);
int tw_world_host_count(const tw_world *w);
tw_sim *tw_world_sim(tw_world *w);
/* Sets the host's application (replacing any earlier one). */
void tw_world_set_app(tw_world *w, int host, tw_app_fn fn, void *ctx);
/* Asks for the host's application to be called (ev == NULL) at time t. One
 * pending wake-up per host; a later call replaces an earlier one. */
void tw_world_wake_at(tw_world *w, int host, uint64_t t);
void tw_world_set_trace(tw_world *w, tw_world_trace_fn fn, void *ctx);
void tw_world_set_event_observer(tw_world *w, tw_world_event_fn fn, void *ctx);
uint64_t tw_world_now(const tw_world *w);
/* Runs until nothing is left to do, the clock would pass `until`, or
 * `max_steps` steps ran. Returns the number of steps. */
uint64_t tw_world_run(tw_world *w, uint64_t until, uint64_t max_steps);
/* True when no packet is in flight, no host has a deadline or a wake-up. */
bool tw_world_idle(tw_world *w);

#endif
