/* tunrun.h - what `tcpwave serve` and `tcpwave connect` share: the options
 * common to both, setting up a TUN device (+ pcap tap) under one stack and
 * the real-time loop, printing the connection trace one line per event with
 * real timestamps, and the exit codes.
 *
 * Trace lines (time is seconds since the command started):
 *     0.001234  #1  new connection 198.18.0.2:80 <-> 198.18.0.1:43512
 *     0.001240  #1  <---  SYN     seq=0 len=0 win=64240
 *     0.001251  #1  LISTEN -> SYN_RECEIVED  (SYN received)
 *     0.001260  #1  --->  SYN|ACK seq=0 ack=1 len=0 win=65535
 * "<---" is a segment received from the kernel, "--->" one sent to it;
 * sequence numbers are relative to each side's ISN unless --absolute. */
#ifndef TW_TOOLS_TUNRUN_H
#define TW_TOOLS_TUNRUN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <tcpwave/tcpwave.h>

#include "drive/tunloop.h"

/* Exit codes of serve and connect (documented in their --help). */
enum {
    TW_EXIT_OK = 0,
    TW_EXIT_FAIL = 1,    /* the exchange did not go as asked (reset, wrong bytes, ...) */
    TW_EXIT_USAGE = 2,   /* bad arguments */
    TW_EXIT_TIMEOUT = 3, /* --timeout-s passed first */
    TW_EXIT_SETUP = 4,   /* the TUN device or the pcap file could not be opened */
};

enum { TW_CLOSE_FIRST_CLIENT, TW_CLOSE_FIRST_SERVER };

typedef struct tw_tunrun_opts {
    const char *cmd; /* "serve" or "connect", for messages */
    const char *tun; /* --tun DEV */
    uint32_t addr;   /* --addr A.B.C.D (host order) */
    bool have_addr;
    const char *pcap; /* --pcap FILE */
    uint64_t msl;     /* --msl-s N (ns) */
    bool delack_fin;  /* --delack-fin */
    int ecn;          /* -1: default (TW_ECN_PASSIVE); --ecn: TW_ECN_ON, --no-ecn: TW_ECN_OFF */
    uint8_t cc;       /* --cc newreno|cubic: TW_CC_* */
    bool no_hystart;  /* --no-hystart */
    bool absolute;    /* --absolute */
    bool quiet;       /* --quiet: only SYN/FIN/RST segments, no app send/recv */
    bool stats;       /* --stats: print non-zero counters at the end */
    uint64_t timeout; /* --timeout-s N (ns, 0 = none) */
    /* how the application closes */
    int close_first;       /* --close-first client|server (-1: the command's default) */
    bool linger0;          /* --linger0: abort with RST instead of closing */
    bool shutdown_write;   /* --shutdown-write: half-close, read to EOF, then close */
    uint64_t close_delay;  /* --close-delay-ms N (ns) */
    uint64_t expect_bytes; /* --expect-bytes N */
    bool have_expect;
    /* the link and the stack */
    double loss_in, loss_out; /* --loss/--loss-in/--loss-out PCT, as fractions */
    double ce_in, ce_out;     /* --ce/--ce-in/--ce-out PCT: ECN-capable packets marked CE */
    uint64_t seed;            /* --seed N: the loss and the stack's ISN secret */
    bool have_seed;
    uint32_t rcvbuf, sndbuf; /* --rcvbuf/--sndbuf N (0: the stack's default) */
    /* --keepalive IDLE,INTVL,CNT: SO_KEEPALIVE + TCP_KEEPIDLE/KEEPINTVL/KEEPCNT */
    bool keepalive;
    int ka_idle, ka_intvl, ka_cnt;
} tw_tunrun_opts;

void tw_tunrun_opts_default(tw_tunrun_opts *o, const char *cmd);
/* Parses argv[*i] if it is a common option, advancing *i past its value.
 * Returns 1 if consumed, 0 if not a common option, -1 after printing an error. */
int tw_tunrun_parse_common(tw_tunrun_opts *o, int argc, char **argv, int *i);
/* Checks the required options; prints an error and returns -1 if one is missing. */
int tw_tunrun_check(const tw_tunrun_opts *o);
/* Help text of the common options. */
void tw_tunrun_usage_common(FILE *f);
/* Sets the socket options the common options ask for (--keepalive) on
 * socket h: a connected socket, or a listener that hands them on. Prints the
 * reason and returns -1 if the stack refused one. */
int tw_tunrun_sockopts(const tw_tunrun_opts *o, tw_stack *st, int h);

/* Parsers that print "tcpwave CMD: FLAG ..." on error and return -1. */
int tw_tunrun_parse_u64(const char *cmd, const char *flag, const char *v, uint64_t max,
                        uint64_t *out);
int tw_tunrun_parse_ipv4(const char *cmd, const char *flag, const char *v, uint32_t *out);
int tw_tunrun_parse_endpoint(const char *cmd, const char *flag, const char *v, uint32_t *addr,
                             uint16_t *port);
/* "198.18.0.1" into buf. */
const char *tw_tunrun_ip_str(uint32_t a, char *buf, size_t cap);

/* The test pattern of --send-bytes and /bytes/N: byte i is i mod 251 (a
 * prime, so a lost, repeated or misplaced segment changes the bytes). */
static inline uint8_t tw_tunrun_pattern(uint64_t i) {
    return (uint8_t)(i % 251u);
}

typedef struct tw_tunrun tw_tunrun;

/* Called from the trace when connection `conn_id` reached CLOSED for good
 * (after TIME_WAIT, or at once when aborted/reset); `cause` is a tw_cause.
 * It must not call into the stack; it may call tw_tunloop_stop(). */
typedef void (*tw_tunrun_closed_fn)(void *ctx, uint32_t conn_id, int cause);

/* Opens the TUN device and the pcap file, creates the stack and the loop.
 * Prints the reason and returns TW_EXIT_SETUP or TW_EXIT_USAGE on failure. */
int tw_tunrun_start(const tw_tunrun_opts *o, const tw_tunloop_app *app,
                    tw_tunrun_closed_fn on_closed, void *closed_ctx, tw_tunrun **out);
tw_stack *tw_tunrun_stack(tw_tunrun *r);
tw_tunloop *tw_tunrun_loop(tw_tunrun *r);
/* Prints one application line ("   1.000000  #3  text") at the current time. */
void tw_tunrun_say(tw_tunrun *r, uint32_t conn_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Says how far the peer's urgent mark is, on TW_EVT_URGENT for handle h. */
void tw_tunrun_note_urgent(tw_tunrun *r, int h, uint32_t conn_id);
/* Runs the loop until stopped, a signal, or --timeout-s. Returns TW_EXIT_OK
 * when stopped, TW_EXIT_TIMEOUT, or TW_EXIT_FAIL if the link failed. Sets
 * *signalled when SIGINT/SIGTERM/SIGHUP ended it. */
int tw_tunrun_run(tw_tunrun *r, bool *signalled);
/* Prints --stats, closes the pcap file, frees everything. Returns TW_EXIT_FAIL
 * if the pcap file could not be written completely, else TW_EXIT_OK. */
int tw_tunrun_finish(tw_tunrun *r);

#endif
