/* adapter.h - internals of tw_packetdrill.so, the packetdrill adapter:
 * one tcpwave stack behind one mutex, its virtual clock, the queue of packets
 * it sent, and the table that maps real file descriptors (reserved by opening
 * /dev/null, so packetdrill's own close() of them is harmless) to tcpwave
 * socket handles. Shared by adapter_core.c (clock, packets, waiting, init)
 * and adapter_sock.c (socket calls). */
#ifndef TW_PD_ADAPTER_H
#define TW_PD_ADAPTER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <tcpwave/tcpwave.h>

#include "drive/pkt_script.h"
#include "pd_iface.h"

#define AD_EXPORT __attribute__((visibility("default")))

typedef struct ad_pkt {
    uint64_t t; /* stack time, ns */
    uint32_t len;
    uint8_t *data;
} ad_pkt;

typedef struct ad_fd {
    bool used, nonblock, linger_on, nodelay, reuse, acceptable;
    uint8_t connect_state; /* 0 none, 1 connecting, 2 reported connected */
    int h;                 /* tcpwave socket handle */
    int linger;
    int so_error;
} ad_fd;

typedef struct adapter {
    tw_link link; /* first member: the link the stack sends through */
    pthread_mutex_t mu;
    pthread_cond_t cv;    /* broadcast after every step of the stack */
    pthread_cond_t quiet; /* broadcast when a thread leaves or re-checks */
    tw_stack *st;
    pd_settings set;
    bool broken;      /* bad --so_flags: every call fails */
    int64_t epoch_us; /* gettimeofday() value at stack time start_ns */
    uint64_t start_ns;

    ad_pkt *q;
    size_t qhead, qn, qcap;

    ad_fd *fds; /* indexed by the real descriptor number */
    int nfds;

    int active;    /* threads inside a call and not waiting */
    int nwait;     /* threads waiting for the stack to change */
    int unchecked; /* waiters woken that have not looked again yet */
    int returned;  /* blocked calls returned, end time not yet read */
    int tod_polls; /* gettimeofday() calls in a row */
} adapter;

/* adapter_core.c (all with the mutex held) */
void ad_enter(adapter *a);
void ad_leave(adapter *a);
/* Runs the stack at its current time: timers due, queued output, events. */
void ad_step(adapter *a);
/* Waits for the stack to change; marks the calling thread as a blocked call. */
void ad_wait(adapter *a);
/* Records that a call that had waited is about to return. */
void ad_returning(adapter *a);
/* Sets errno and returns -1. */
int ad_fail(int err);

/* adapter_sock.c */
void ad_sock_fill(struct pd_iface *ifc);
void ad_sock_event(adapter *a, const tw_event *ev);
void ad_sock_free_all(adapter *a);

#endif
