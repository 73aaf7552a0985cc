/* tunloop.c - owns the real-time driver of one stack: epoll over the link fd,
 * an optional application fd and a timerfd holding the next deadline (see
 * tunloop.h). Linux-specific by design; the TCP core stays clock-free and is
 * only ever told the time. */
#define _GNU_SOURCE /* epoll, timerfd, sigprocmask, clock_gettime */

#include "drive/tunloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/time.h"

/* Packets read per turn before timers and the application get their go:
 * bounds the latency a flood can add to a due timer, and keeps a turn's
 * worth of full segments (16 x 1460) well inside a 64 KB receive window so
 * the application reads before the window closes. */
#define BATCH 16
/* Rounds of "events -> application -> poll" per turn, as in the simulator:
 * an application that keeps making events without progress cannot hang it. */
#define APP_ROUNDS 64

struct tw_tunloop {
    tw_stack *st;
    tw_link *link;
    tw_tunloop_app app;
    int ep, tfd, link_fd, app_fd;
    uint64_t armed; /* deadline the timerfd is set to (0: not armed) */
    uint64_t wake;  /* the application's wake-up time */
    volatile sig_atomic_t stop;
    uint64_t pkts_in;
    uint8_t buf[65536 + 256];
};

uint64_t tw_tunloop_clock(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int watch(int ep, int fd) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

int tw_tunloop_new(tw_stack *st, tw_link *link, const tw_tunloop_app *app, tw_tunloop **out) {
    if (!st || !link || link->ops->poll_fd(link) < 0) return -TW_EINVAL;
    tw_tunloop *l = calloc(1, sizeof *l);
    if (!l) return -TW_ENOMEM;
    l->st = st;
    l->link = link;
    if (app) l->app = *app;
    l->link_fd = link->ops->poll_fd(link);
    l->app_fd = -1;
    l->wake = TW_TIME_NEVER;
    int rc;
    l->tfd = -1;
    l->ep = epoll_create1(EPOLL_CLOEXEC);
    if (l->ep < 0) goto fail_errno;
    l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (l->tfd < 0) goto fail_errno;
    if ((rc = watch(l->ep, l->link_fd)) != 0 || (rc = watch(l->ep, l->tfd)) != 0) goto fail;
    *out = l;
    return 0;
fail_errno:
    rc = -errno;
fail:
    tw_tunloop_free(l);
    return rc;
}

void tw_tunloop_free(tw_tunloop *l) {
    if (!l) return;
    if (l->tfd >= 0) close(l->tfd);
    if (l->ep >= 0) close(l->ep);
    free(l);
}

int tw_tunloop_watch_fd(tw_tunloop *l, int fd) {
    if (l->app_fd >= 0) epoll_ctl(l->ep, EPOLL_CTL_DEL, l->app_fd, NULL);
    l->app_fd = -1;
    if (fd < 0) return 0;
    int rc = watch(l->ep, fd);
    if (rc == 0) l->app_fd = fd;
    return rc;
}

void tw_tunloop_wake_at(tw_tunloop *l, uint64_t t) {
    l->wake = t;
}
void tw_tunloop_stop(tw_tunloop *l) {
    l->stop = 1;
}
uint64_t tw_tunloop_packets_in(const tw_tunloop *l) {
    return l->pkts_in;
}

/* Sets the timerfd to fire at absolute time d (TW_TIME_NEVER: disarmed). */
static void arm(tw_tunloop *l, uint64_t d) {
    uint64_t want = d == TW_TIME_NEVER ? 0 : d;
    if (want == l->armed) return;
    struct itimerspec its;
    memset(&its, 0, sizeof its);
    its.it_value.tv_sec = (time_t)(want / 1000000000u);
    its.it_value.tv_nsec = (long)(want % 1000000000u);
    timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL);
    l->armed = want;
}

/* Hands queued socket events and a due wake-up to the application, polling
 * the stack after each round so what it did goes out within the same turn. */
static void run_app(tw_tunloop *l) {
    for (int round = 0; round < APP_ROUNDS; round++) {
        bool any = false;
        tw_event ev;
        /* The stack's clock moves to now, so the user calls below are
         * stamped (and their timers armed) at the time they really happen. */
        tw_stack_poll(l->st, tw_tunloop_clock());
        while (tw_next_event(l->st, &ev)) {
            any = true;
            if (l->app.on_event) l->app.on_event(l->app.ctx, l, &ev);
        }
        if (l->wake <= tw_tunloop_clock()) {
            l->wake = TW_TIME_NEVER;
            any = true;
            if (l->app.on_wake) l->app.on_wake(l->app.ctx, l);
        }
        tw_stack_poll(l->st, tw_tunloop_clock());
        if (!any) return;
    }
}

/* Reads up to BATCH packets into the stack. Their output waits for the poll
 * that follows (tw_stack_input_deferred): a connection answers everything
 * that arrived together with one ACK (RFC 9293 MUST-59). Returns 1 if more
 * may be waiting, 0 if the link is drained, or a negative errno. */
static int read_link(tw_tunloop *l) {
    for (int i = 0; i < BATCH; i++) {
        /* Each packet gets its own arrival time (a vDSO clock read is cheap). */
        uint64_t now = tw_tunloop_clock();
        int n = l->link->ops->recv(l->link, l->buf, sizeof l->buf, now);
        if (n < 0) return n;
        if (n == 0) return 0;
        l->pkts_in++;
        tw_stack_input_deferred(l->st, now, l->buf, (size_t)n);
    }
    return 1;
}

/* Sleeps until an fd is readable or the timerfd fires, then serves the
 * application fd. Returns 0 or a negative errno. */
static int wait_once(tw_tunloop *l, uint64_t deadline, const sigset_t *waitmask) {
    arm(l, deadline);
    struct epoll_event evs[4];
    int k = epoll_pwait(l->ep, evs, 4, -1, waitmask);
    if (k < 0) return errno == EINTR ? 0 : -errno;
    for (int i = 0; i < k; i++) {
        int fd = evs[i].data.fd;
        if (fd == l->tfd) {
            uint64_t expirations;
            if (read(l->tfd, &expirations, sizeof expirations) < 0) { /* spurious: fine */
            }
            l->armed = 0;
        } else if (fd == l->app_fd && l->app.on_fd) {
            l->app.on_fd(l->app.ctx, l, fd);
        }
    }
    return 0;
}

int tw_tunloop_run(tw_tunloop *l, uint64_t until) {
    /* Block the stop signals while awake; epoll_pwait() sleeps with the
     * caller's own mask, so a signal lands only while sleeping. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    int rc = 0;
    for (;;) {
        int more = read_link(l);
        if (more < 0) {
            rc = more;
            break;
        }
        tw_stack_poll(l->st, tw_tunloop_clock());
        run_app(l);
        if (l->stop) break;
        uint64_t now = tw_tunloop_clock();
        if (now >= until) {
            rc = 1;
            break;
        }
        if (more) continue;
        uint64_t d = tw_stack_next_deadline(l->st);
        if (l->wake < d) d = l->wake;
        if (until < d) d = until;
        if (d <= now) continue;
        if ((rc = wait_once(l, d, &waitmask)) != 0) break;
    }
    sigprocmask(SIG_SETMASK, &waitmask, NULL);
    return rc;
}
