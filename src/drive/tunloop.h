/* tunloop.h - the real-time event loop of one stack over a real link (a TUN
 * device, possibly wrapped in a pcap tap): the loop of drive/world.h with the kernel's
 * CLOCK_MONOTONIC instead of the simulator's virtual clock.
 *
 * Each turn: read every packet waiting on the link and hand it to
 * tw_stack_input(), run tw_stack_poll(), give the stack's socket events to
 * the application (polling again after it so what it did is sent at once),
 * then sleep in epoll until the earliest of: the link fd readable, the
 * application's fd readable, the stack's next deadline, the application's
 * wake-up time, the run's end. Deadlines are kept by a timerfd armed at the
 * absolute deadline, so timers fire to the nanosecond the kernel allows and
 * there is no fixed tick: an idle stack sleeps until something happens.
 *
 * SIGINT, SIGTERM and SIGHUP are blocked while the loop runs and unblocked
 * only inside epoll_pwait(), so a handler that calls tw_tunloop_stop() is
 * never lost between the check and the sleep. */
#ifndef TW_DRIVE_TUNLOOP_H
#define TW_DRIVE_TUNLOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <tcpwave/tcpwave.h>

typedef struct tw_tunloop tw_tunloop;

/* The application on top of the stack. Every callback is optional (NULL)
 * and runs outside the stack's state machine, so it may call any socket
 * function. */
typedef struct tw_tunloop_app {
    void *ctx;
    /* One socket event of the stack. */
    void (*on_event)(void *ctx, tw_tunloop *l, const tw_event *ev);
    /* The watched fd (tw_tunloop_watch_fd) is readable, or hung up. */
    void (*on_fd)(void *ctx, tw_tunloop *l, int fd);
    /* The wake-up time set with tw_tunloop_wake_at() has come. */
    void (*on_wake)(void *ctx, tw_tunloop *l);
} tw_tunloop_app;

/* The loop's clock: CLOCK_MONOTONIC in ns (the stack's time base). */
uint64_t tw_tunloop_clock(void);

/* Creates a loop driving `st`, which sends through (and here receives from)
 * `link`; link->ops->poll_fd() must be a pollable fd. The stack and link stay
 * the caller's. Returns 0 and sets *out, -TW_EINVAL, -TW_ENOMEM, or a
 * negative errno from epoll/timerfd. */
int tw_tunloop_new(tw_stack *st, tw_link *link, const tw_tunloop_app *app, tw_tunloop **out);
void tw_tunloop_free(tw_tunloop *l);

/* Watches one more fd (e.g. stdin) for readability; -1 stops watching.
 * Returns 0 or a negative errno. */
int tw_tunloop_watch_fd(tw_tunloop *l, int fd);
/* Calls the application's on_wake at time t (one pending wake-up; a later call
 * replaces it; TW_TIME_NEVER cancels). */
void tw_tunloop_wake_at(tw_tunloop *l, uint64_t t);
/* Makes tw_tunloop_run() return after the current turn. Async-signal-safe. */
void tw_tunloop_stop(tw_tunloop *l);

/* Runs until tw_tunloop_stop() or until the clock reaches `until`
 * (UINT64_MAX: no end). Returns 0 when stopped, 1 when `until` came first, or
 * a negative errno if waiting or reading the link failed for good. */
int tw_tunloop_run(tw_tunloop *l, uint64_t until);

/* Packets read from the link and handed to the stack so far. */
uint64_t tw_tunloop_packets_in(const tw_tunloop *l);

#endif
