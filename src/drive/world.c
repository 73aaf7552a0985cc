/* world.c - the discrete-event loop joining stacks over the simulated link.
 * See world.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drive/world.h"
#include "util/time.h"

#define MAX_HOSTS 16

typedef struct host {
    char name[32];
    uint32_t addr;
    int ep;
    tw_stack *st;
    tw_app_fn app;
    void *app_ctx;
    uint64_t wake;
    struct tw_world *w;
    int index;
} host;

struct tw_world {
    tw_sim *sim;
    host hosts[MAX_HOSTS];
    int nhosts;
    uint64_t now;
    tw_world_trace_fn trace;
    void *trace_ctx;
    tw_world_event_fn on_event;
    void *event_ctx;
    uint8_t buf[65536 + 128];
};

static void host_trace(void *ctx, const tw_trace_ev *ev) {
    host *h = ctx;
    if (h->w->trace) h->w->trace(h->w->trace_ctx, h->index, ev);
}

tw_world *tw_world_new(uint64_t seed) {
    tw_world *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->sim = tw_sim_new(seed);
    if (!w->sim) {
        free(w);
        return NULL;
    }
    return w;
}

void tw_world_free(tw_world *w) {
    if (!w) return;
    for (int i = 0; i < w->nhosts; i++) tw_stack_free(w->hosts[i].st);
    tw_sim_free(w->sim);
    free(w);
}

int tw_world_add_host(tw_world *w, const char *name, uint32_t addr, const tw_stack_cfg *cfg,
                      const tw_sim_cfg *link) {
    if (w->nhosts >= MAX_HOSTS) return -TW_ENOMEM;
    tw_sim_cfg perfect;
    memset(&perfect, 0, sizeof perfect);
    int ep = tw_sim_add_endpoint(w->sim, addr, link ? link : &perfect);
    if (ep < 0) return ep;
    host *h = &w->hosts[w->nhosts];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    h->addr = addr;
    h->ep = ep;
    h->w = w;
    h->index = w->nhosts;
    h->wake = TW_TIME_NEVER;
    tw_stack_cfg c = *cfg;
    c.addr = addr;
    /* One seed per host, derived from the world's: a simulation replays
     * exactly, so never TW_SEED_RANDOM. */
    c.seed = cfg->seed ^ ((uint64_t)addr * 0x9e3779b97f4a7c15ull);
    if (c.seed == TW_SEED_RANDOM) c.seed = 1;
    c.trace = host_trace;
    c.trace_ctx = h;
    int rc = tw_stack_new(&c, tw_sim_link(w->sim, ep), &h->st);
    if (rc) return rc;
    return w->nhosts++;
}

tw_stack *tw_world_stack(tw_world *w, int i) {
    return w->hosts[i].st;
}
const char *tw_world_host_name(const tw_world *w, int i) {
    return w->hosts[i].name;
}
uint32_t tw_world_host_addr(const tw_world *w, int i) {
    return w->hosts[i].addr;
}
int tw_world_host_count(const tw_world *w) {
    return w->nhosts;
}
tw_sim *tw_world_sim(tw_world *w) {
    return w->sim;
}
uint64_t tw_world_now(const tw_world *w) {
    return w->now;
}

void tw_world_set_app(tw_world *w, int i, tw_app_fn fn, void *ctx) {
    w->hosts[i].app = fn;
    w->hosts[i].app_ctx = ctx;
}

void tw_world_wake_at(tw_world *w, int i, uint64_t t) {
    w->hosts[i].wake = t;
}

void tw_world_set_trace(tw_world *w, tw_world_trace_fn fn, void *ctx) {
    w->trace = fn;
    w->trace_ctx = ctx;
}

void tw_world_set_event_observer(tw_world *w, tw_world_event_fn fn, void *ctx) {
    w->on_event = fn;
    w->event_ctx = ctx;
}

static uint64_t next_time(tw_world *w) {
    uint64_t t = tw_sim_next_arrival(w->sim);
    for (int i = 0; i < w->nhosts; i++) {
        uint64_t d = tw_stack_next_deadline(w->hosts[i].st);
        if (d < t) t = d;
        if (w->hosts[i].wake < t) t = w->hosts[i].wake;
    }
    return t;
}

bool tw_world_idle(tw_world *w) {
    return next_time(w) == TW_TIME_NEVER;
}

/* Hands queued socket events and due wake-ups to the applications, polling
 * the stacks after each round so what the applications did is sent within
 * the same instant. Bounded: an application that keeps making events without
 * progress cannot hang the loop. */
static void run_apps(tw_world *w) {
    for (int round = 0; round < 64; round++) {
        bool any = false;
        for (int i = 0; i < w->nhosts; i++) {
            host *h = &w->hosts[i];
            tw_event ev;
            while (tw_next_event(h->st, &ev)) {
                any = true;
                if (w->on_event) w->on_event(w->event_ctx, i, w->now, &ev);
                if (h->app) h->app(w, i, &ev, h->app_ctx);
            }
            if (h->wake <= w->now) {
                h->wake = TW_TIME_NEVER;
                any = true;
                if (h->app) h->app(w, i, NULL, h->app_ctx);
            }
        }
        for (int i = 0; i < w->nhosts; i++) tw_stack_poll(w->hosts[i].st, w->now);
        if (!any) return;
    }
}

uint64_t tw_world_run(tw_world *w, uint64_t until, uint64_t max_steps) {
    uint64_t steps = 0;
    run_apps(w);
    while (steps < max_steps) {
        uint64_t t = next_time(w);
        if (t == TW_TIME_NEVER || t > until) break;
        if (t > w->now) w->now = t;
        for (int i = 0; i < w->nhosts; i++) {
            host *h = &w->hosts[i];
            tw_link *l = tw_sim_link(w->sim, h->ep);
            int n;
            while ((n = l->ops->recv(l, w->buf, sizeof w->buf, w->now)) > 0)
                tw_stack_input(h->st, w->now, w->buf, (size_t)n);
        }
        for (int i = 0; i < w->nhosts; i++) tw_stack_poll(w->hosts[i].st, w->now);
        run_apps(w);
        steps++;
    }
    return steps;
}
