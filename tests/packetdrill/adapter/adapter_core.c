/* adapter_core.c - the packetdrill adapter's stack, clock and packets.
 *
 * packetdrill calls us from two threads (its main thread injects and sniffs
 * packets and sleeps; a syscall thread runs blocking calls), so everything
 * runs under one mutex. The stack lives on a virtual clock that only moves
 * when packetdrill sleeps (usleep), polls the time in a spin loop
 * (gettimeofday called again and again), or waits for a packet the stack has
 * not sent yet (netdev_receive runs the clock to the stack's next timer).
 * Before the clock moves, blocked calls that the last step woke are given the
 * chance to finish, so they return at the time their cause happened.
 * netdev_receive ends its wait with an empty packet when the stack has
 * nothing queued, no timer running and no other call in progress: nothing
 * will ever be sent then, and packetdrill reports the missing packet instead
 * of hanging (it would retry an error for ever). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "adapter.h"
#include "wire/ipv4.h"

/* Stack time when the adapter starts: 1000 s, as in `tcpwave script`, so
 * both see the same ISNs and TS values for the same script. */
#define START_NS 1000000000000ull
#define QUIET_WAIT_NS 500000000ll  /* real time we wait for other threads */
#define IDLE_WAIT_NS 100000000ll   /* real time netdev_receive waits for activity */
#define SPIN_STEP_MAX_NS 250000ull /* largest step of a gettimeofday spin */

/* This thread returned from a call that had blocked and has not read the
 * clock since (packetdrill reads it to time the call's end). */
static _Thread_local bool t_returned;

int ad_fail(int err) {
    errno = err;
    return -1;
}

/* ---- the link the stack sends through ---- */

static int link_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    adapter *a = (adapter *)l;
    if (a->qhead + a->qn == a->qcap) {
        if (a->qhead) {
            memmove(a->q, a->q + a->qhead, a->qn * sizeof *a->q);
            a->qhead = 0;
        }
        if (a->qn == a->qcap) {
            size_t ncap = a->qcap ? a->qcap * 2 : 64;
            ad_pkt *n = realloc(a->q, ncap * sizeof *n);
            if (!n) return -TW_ENOMEM;
            a->q = n;
            a->qcap = ncap;
        }
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -TW_ENOMEM;
    memcpy(copy, pkt, len);
    a->q[a->qhead + a->qn++] = (ad_pkt){now, (uint32_t)len, copy};
    return 0;
}

static const struct tw_link_ops link_ops = TW_LINK_SEND_ONLY(link_send);

/* ---- locking and waiting ---- */

void ad_enter(adapter *a) {
    pthread_mutex_lock(&a->mu);
    a->active++;
    a->tod_polls = 0;
    if (t_returned) { /* it did not read the clock: stop waiting for that */
        t_returned = false;
        if (a->returned) a->returned--;
    }
}

void ad_leave(adapter *a) {
    a->active--;
    pthread_cond_broadcast(&a->quiet);
    pthread_mutex_unlock(&a->mu);
}

static void drain_events(adapter *a) {
    tw_event ev;
    while (tw_next_event(a->st, &ev)) ad_sock_event(a, &ev);
}

static void poll_at(adapter *a, uint64_t t) {
    if (t < tw_stack_now(a->st)) t = tw_stack_now(a->st);
    tw_stack_poll(a->st, t);
    drain_events(a);
    a->unchecked = a->nwait;
    pthread_cond_broadcast(&a->cv);
}

void ad_step(adapter *a) {
    poll_at(a, tw_stack_now(a->st));
}

void ad_wait(adapter *a) {
    a->active--;
    a->nwait++;
    pthread_cond_broadcast(&a->quiet);
    pthread_cond_wait(&a->cv, &a->mu);
    a->nwait--;
    a->active++;
    if (a->unchecked) a->unchecked--;
}

void ad_returning(adapter *a) {
    if (!t_returned) a->returned++;
    t_returned = true;
}

static struct timespec real_deadline(long long ns) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    long long t = (long long)ts.tv_nsec + ns;
    ts.tv_sec += (time_t)(t / 1000000000ll);
    ts.tv_nsec = (long)(t % 1000000000ll);
    return ts;
}

/* Lets other threads finish what the last step started: calls in progress,
 * woken waiters that have not looked again, and blocked calls that returned
 * but whose end time packetdrill has not read yet. Bounded in real time. */
static void quiesce(adapter *a) {
    struct timespec lim = real_deadline(QUIET_WAIT_NS);
    while (a->active > 1 || a->unchecked > 0 || a->returned > 0) {
        if (pthread_cond_timedwait(&a->quiet, &a->mu, &lim) == ETIMEDOUT) {
            a->unchecked = 0;
            a->returned = 0;
            break;
        }
    }
}

/* Moves the clock to stack time `target`, every timer at its deadline. */
static void advance_to(adapter *a, uint64_t target) {
    for (;;) {
        quiesce(a);
        uint64_t d = tw_stack_next_deadline(a->st);
        if (d > target) break;
        poll_at(a, d);
    }
    if (tw_stack_now(a->st) < target) poll_at(a, target);
    quiesce(a);
}

static long long now_us(const adapter *a) {
    return a->epoch_us + (long long)((tw_stack_now(a->st) - a->start_ns) / 1000u);
}

/* ---- clock ---- */

static int ad_usleep(void *u, useconds_t usec) {
    adapter *a = u;
    ad_enter(a);
    if (!a->broken) advance_to(a, tw_stack_now(a->st) + (uint64_t)usec * 1000u);
    ad_leave(a);
    return 0;
}

static int ad_gettimeofday(void *u, struct timeval *tv, void *tz) {
    adapter *a = u;
    (void)tz;
    pthread_mutex_lock(&a->mu);
    a->active++;
    if (t_returned) {
        t_returned = false;
        if (a->returned) a->returned--;
    } else if (!a->broken && ++a->tod_polls > 1) {
        /* A spin loop waiting for time to pass: let it pass, in steps that
         * grow from 1 us so a short wait is not overshot by much. */
        uint64_t stepns = 1000ull << (a->tod_polls < 10 ? a->tod_polls - 2 : 8);
        if (stepns > SPIN_STEP_MAX_NS) stepns = SPIN_STEP_MAX_NS;
        advance_to(a, tw_stack_now(a->st) + stepns);
    }
    long long us = a->broken ? a->epoch_us : now_us(a);
    if (tv) {
        tv->tv_sec = (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    ad_leave(a); /* leaves tod_polls alone: only other calls reset it */
    return 0;
}

/* ---- packets ---- */

static int ad_netdev_send(void *u, const void *buf, size_t count) {
    adapter *a = u;
    ad_enter(a);
    int rc = 0;
    if (a->broken) {
        rc = ad_fail(EINVAL);
    } else if (count < TW_IPV4_HDR_LEN || (((const uint8_t *)buf)[0] >> 4) != 4) {
        fprintf(stderr, "tw_packetdrill: netdev_send: not an IPv4 packet (tcpwave is IPv4 only)\n");
        rc = ad_fail(EINVAL);
    } else {
        tw_stack_input(a->st, tw_stack_now(a->st), buf, count);
        ad_step(a);
    }
    ad_leave(a);
    return rc;
}

static int take_packet(adapter *a, void *buf, size_t *count, long long *time_usecs) {
    ad_pkt *p = &a->q[a->qhead];
    size_t n = p->len < *count ? p->len : *count;
    if (n < p->len)
        fprintf(stderr, "tw_packetdrill: netdev_receive: packet of %u bytes cut to %zu\n", p->len,
                n);
    memcpy(buf, p->data, n);
    *count = n;
    if (time_usecs) *time_usecs = a->epoch_us + (long long)((p->t - a->start_ns) / 1000u);
    free(p->data);
    a->qhead++;
    if (--a->qn == 0) a->qhead = 0;
    return 0;
}

static int ad_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs) {
    adapter *a = u;
    ad_enter(a);
    int rc = -1, idle = 0;
    if (a->broken) errno = EINVAL;
    while (!a->broken) {
        quiesce(a);
        if (a->qn) {
            rc = take_packet(a, buf, count, time_usecs);
            break;
        }
        uint64_t d = tw_stack_next_deadline(a->st);
        if (d != UINT64_MAX) { /* the stack waits for a timer: run the clock to it */
            poll_at(a, d);
            continue;
        }
        if (idle++ == 3) {
            /* packetdrill retries a failed receive for ever; an empty
             * packet (0 bytes, success) is what makes it stop and report
             * the segment the script expected as missing. */
            fprintf(stderr, "tw_packetdrill: netdev_receive: tcpwave has nothing to send, no timer "
                            "running and no call in progress: no packet will come\n");
            *count = 0;
            if (time_usecs) *time_usecs = now_us(a);
            rc = 0;
            break;
        }
        struct timespec lim = real_deadline(IDLE_WAIT_NS);
        pthread_cond_timedwait(&a->quiet, &a->mu, &lim);
    }
    int e = errno;
    ad_leave(a);
    errno = e;
    return rc;
}

/* ---- life ---- */

static void ad_free(void *u) {
    adapter *a = u;
    if (!a) return;
    ad_sock_free_all(a);
    if (a->st) tw_stack_free(a->st);
    while (a->qn) {
        free(a->q[a->qhead++].data);
        a->qn--;
    }
    free(a->q);
    free(a->fds);
    pthread_cond_destroy(&a->cv);
    pthread_cond_destroy(&a->quiet);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

static void trace_to_stderr(void *ctx, const tw_trace_ev *ev) {
    adapter *a = ctx;
    if (ev->kind != TW_EV_STATE) return;
    fprintf(stderr, "tw_packetdrill: %.6f %s -> %s (%s)\n", (double)(ev->t - a->start_ns) / 1e9,
            tw_state_name(ev->old_state), tw_state_name(ev->new_state), tw_cause_desc(ev->cause));
}

static void setup(adapter *a, const char *flags) {
    char err[256];
    pd_settings_default(&a->set);
    a->set.cfg.addr = 0xC0A80001u; /* 192.168.0.1, packetdrill's default --local_ip */
    if (pd_settings_apply(&a->set, flags, err, sizeof err)) {
        fprintf(stderr, "tw_packetdrill: --so_flags: %s\nsettings:\n%s", err, pd_settings_help());
        a->broken = true;
        return;
    }
    const char *trace = getenv("TW_PD_TRACE");
    if (trace && *trace && strcmp(trace, "0")) {
        a->set.cfg.trace = trace_to_stderr;
        a->set.cfg.trace_ctx = a;
    }
    a->link.ops = &link_ops;
    int rc = tw_stack_new(&a->set.cfg, &a->link, &a->st);
    if (rc) {
        fprintf(stderr, "tw_packetdrill: the stack refuses the settings '%s': %s\n",
                flags ? flags : "", tw_strerror(rc));
        a->st = NULL;
        a->broken = true;
        return;
    }
    a->start_ns = START_NS;
    tw_stack_poll(a->st, a->start_ns);
}

AD_EXPORT void packetdrill_interface_init(const char *flags, struct pd_iface *ifc);

AD_EXPORT void packetdrill_interface_init(const char *flags, struct pd_iface *ifc) {
    adapter *a = calloc(1, sizeof *a);
    if (!a) {
        fprintf(stderr, "tw_packetdrill: out of memory\n");
        abort();
    }
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    pthread_cond_init(&a->quiet, NULL);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    a->epoch_us = (long long)tv.tv_sec * 1000000ll + tv.tv_usec;
    setup(a, flags);
    ifc->userdata = a;
    ifc->free = ad_free;
    ifc->netdev_send = ad_netdev_send;
    ifc->netdev_receive = ad_netdev_receive;
    ifc->usleep = ad_usleep;
    ifc->gettimeofday = ad_gettimeofday;
    ad_sock_fill(ifc);
}
