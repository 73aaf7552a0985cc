/* pkt_run.h - internals of the script runner shared by pkt_run.c (clock,
 * capture link, segments, the event loop) and pkt_sys.c (socket calls on a
 * table of script file descriptors). Not a public header. */
#ifndef TW_DRIVE_PKT_RUN_H
#define TW_DRIVE_PKT_RUN_H

#include "drive/pkt_script.h"

#define PD_MAX_FDS 64
#define PD_FIRST_FD 3

/* A packet tcpwave sent, not yet matched against an outbound line. */
typedef struct pd_cap {
    uint64_t t; /* stack time (ns) */
    uint32_t len;
    uint8_t *data;
} pd_cap;

/* A script file descriptor. */
typedef struct pd_fd {
    bool used, nonblock, linger_on, nodelay, reuse;
    uint8_t connect_state; /* 0 none, 1 in progress, 2 reported connected */
    int h;                 /* tw socket handle */
    int64_t linger;
    int so_error; /* pending error (SO_ERROR), positive errno */
} pd_fd;

typedef struct pd_runner {
    tw_link link; /* first member: the capture link */
    const pd_script *s;
    const pd_run_opts *o;
    FILE *out;
    tw_stack *st;
    uint64_t t0;    /* stack time of script time 0 */
    uint64_t tol;   /* timing tolerance, ns */
    uint32_t laddr; /* tcpwave's address */

    pd_cap *q; /* captured segments, FIFO */
    size_t qhead, qn, qcap;

    pd_fd fd[PD_MAX_FDS];

    /* the connection the script's segments belong to */
    uint16_t lport, rport;
    bool isn_known;
    uint32_t live_isn, script_isn;
    /* tcpwave's TSval clock as the script wrote it: learnt from the first
     * outbound TS option, used to put inbound TSecr values into live terms */
    bool ts_known;
    uint32_t live_ts, script_ts;

    const pd_event *pending; /* a blocking call in progress */
    uint64_t pending_done;   /* bytes a blocking write has queued so far */

    uint8_t *io; /* read/write and packet scratch */
    size_t iocap;
    uint16_t ip_id;
    int status; /* PD_PASS until the first failure or error */
} pd_runner;

/* The result of a socket call: done (ret, err) or would block. */
typedef struct pd_result {
    bool blocked;
    int64_t ret;
    int err;
} pd_result;

/* pkt_run.c */
/* Reports the first failure (status PD_FAIL or PD_ERROR) at event e's line;
 * later reports are ignored. */
void pd_report(pd_runner *r, int status, const pd_event *e, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Script time now (ns since script time 0). */
int64_t pd_now(const pd_runner *r);

/* pkt_sys.c */
/* Executes (or retries) call event e. */
pd_result pd_sys_exec(pd_runner *r, const pd_event *e, bool retry);
/* Compares a finished call's result with the script; reports a mismatch. */
void pd_sys_check(pd_runner *r, const pd_event *e, pd_result res);
/* A socket event from the stack (CLOSED errors become SO_ERROR). */
void pd_sys_event(pd_runner *r, const tw_event *ev);

#endif
