/* lifecycle.h - owns the close reason and the dwell time per state of each
 * connection, computed by folding trace events (so it works on traces from
 * any source: a live stack, a JSON file, later a capture).
 *
 * tw_lc_feed() takes events one at a time in stream order and keeps one
 * record per half (host, conn_id); events without a conn_id are ignored.
 * The close reason of a half is decided by the move that took it to CLOSED:
 *   active close      sent the first FIN, left through TIME_WAIT (2MSL)
 *   active close, TIME_WAIT reused   as above, ended early by a new SYN
 *   passive close     the peer's FIN came first: CLOSE_WAIT, LAST_ACK
 *   simultaneous close  FINs crossed: through CLOSING, then TIME_WAIT
 *   abort sent        the user aborted (RST sent)
 *   RST on close with unread data   RFC 9293 SHLD-3
 *   RST for data after close
 *   reset received    an acceptable RST (in state X)
 *   timeout           retransmissions exhausted (in state X)
 *   FIN_WAIT_2 timeout  orphaned FIN_WAIT_2 closed by its timer
 *   closed in state X   a user close before synchronization, ...
 *   still open        the trace ended before CLOSED (in state X) */
#ifndef TW_VIEW_LIFECYCLE_H
#define TW_VIEW_LIFECYCLE_H

#include "view/sbuf.h"
#include "view/trace_json.h"

typedef enum tw_close_reason {
    TW_CR_OPEN,
    TW_CR_ACTIVE,
    TW_CR_ACTIVE_REUSED,
    TW_CR_PASSIVE,
    TW_CR_SIMULTANEOUS,
    TW_CR_ABORT_SENT,
    TW_CR_UNREAD_RST,
    TW_CR_DATA_AFTER_CLOSE,
    TW_CR_RESET_RECEIVED,
    TW_CR_TIMEOUT,
    TW_CR_FW2_TIMEOUT,
    TW_CR_OTHER,
    TW_CR__COUNT
} tw_close_reason;

#define TW_LC_PATH_MAX 24

typedef struct tw_lc_half {
    uint16_t host;
    uint32_t conn_id;
    bool started;                    /* a state event was seen */
    uint8_t state;                   /* current (final) state */
    uint64_t since;                  /* when it entered `state` */
    uint64_t first_t, end_t;         /* first event; the move to CLOSED (or last event) */
    uint64_t dwell[TW_STATE__COUNT]; /* ns spent in each state (CLOSED excluded) */
    uint8_t path[TW_LC_PATH_MAX];    /* states entered, in order, from the first one */
    uint8_t npath;
    bool path_cut;       /* more moves than TW_LC_PATH_MAX */
    bool closing_seen;   /* passed through CLOSING */
    bool merged_fin_ack; /* FIN_WAIT_1 -> TIME_WAIT on one segment (three-way) */
    tw_close_reason reason;
    uint8_t reason_state; /* the state it timed out / was reset in / is still in */
    uint8_t reason_cause; /* cause of the final move (tw_cause) */
    uint32_t segs_out, segs_in, retrans, drops;
} tw_lc_half;

typedef struct tw_lc {
    tw_lc_half *h;
    size_t n, cap;
} tw_lc;

void tw_lc_init(tw_lc *lc);
void tw_lc_free(tw_lc *lc);
/* Folds one event in; 0, or -1 when out of memory. */
int tw_lc_feed(tw_lc *lc, const tw_vev *e);
/* The record of (host, conn_id), or NULL. */
const tw_lc_half *tw_lc_find(const tw_lc *lc, uint16_t host, uint32_t conn_id);

/* Short name ("active close") of a reason; "?" if out of range. */
const char *tw_close_reason_name(int r);
/* One phrase for a half: "timeout in state FIN_WAIT_1", "reset received in
 * ESTABLISHED", "active close" ... into buf. */
const char *tw_lc_reason_text(const tw_lc_half *h, char *buf, size_t cap);
/* One phrase for a connection of two halves (either may be NULL):
 * "four-way close, client closed first", "simultaneous close", ... */
const char *tw_lc_conn_text(const tw_lc_half *left, const tw_lc_half *right, const char *lname,
                            const char *rname, char *buf, size_t cap);
/* A duration in ns as "2.000 ms", "60.000000 s", "850 ns" (exact, no floats). */
const char *tw_lc_dur(uint64_t ns, char *buf, size_t cap);
/* Appends the summary lines of one connection: its close phrase, then for
 * each side its label (e.g. "client 198.18.0.1:49152"), reason, and dwell
 * times in path order. Each line starts with `indent`. */
void tw_lc_format(tw_sbuf *out, const char *indent, const tw_lc_half *h[2],
                  const char *const label[2], const char *const name[2]);

#endif
