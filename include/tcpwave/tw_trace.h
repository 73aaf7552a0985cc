/* tw_trace.h - the vocabulary of a connection's life: states, causes of state
 * changes, and the trace event stream.
 *
 * Every state change, segment in/out, drop, timer firing and user call is one
 * fixed-size tw_trace_ev (no pointers), so events can be queued during a step
 * and delivered after it, written as JSON lines, or drawn as a ladder.
 *
 * Stability: the trace stream is a public API, version 1.
 *   - Events of one stack come in the order they happened, each with the
 *     stack's time; all events of a step are delivered at its end.
 *   - Existing enum values, their numbers and their names (tw_state_name,
 *     tw_cause_name, tw_timer_name, tw_call_name, and the counter names of
 *     tw_stats.h used as reasons) never change meaning and are never reused.
 *     New states are not expected; new causes, timer kinds, user calls, event
 *     kinds, meta bits and counters may be added at the end of their lists.
 *     Consumers must accept values they do not know (print the number).
 *   - tw_trace_ev's fields keep their meaning; new information goes into new
 *     fields (the struct may grow), so consumers copy it by value, never
 *     depend on its size or padding.
 *   - Event kinds from 32 up are reserved for views above the stack (e.g.
 *     the link loss of src/view/trace_json.h); the stack never emits them.
 *   - The JSON-lines form (src/view/trace_json.h) writes names, not numbers,
 *     wherever a name exists; readers skip unknown keys. `tcpwave ladder`
 *     and the capture analyzer read it. */
#ifndef TCPWAVE_TW_TRACE_H
#define TCPWAVE_TW_TRACE_H

#include <stdint.h>

/* RFC 9293 §3.3.2 states. The order matters (as in BSD tcp_fsm.h): every state
 * from ESTABLISHED on is synchronized, see tw_state_synchronized(). */
#define TW_STATES(X)                                                                               \
    X(CLOSED)                                                                                      \
    X(LISTEN)                                                                                      \
    X(SYN_SENT)                                                                                    \
    X(SYN_RECEIVED)                                                                                \
    X(ESTABLISHED)                                                                                 \
    X(CLOSE_WAIT)                                                                                  \
    X(FIN_WAIT_1)                                                                                  \
    X(CLOSING)                                                                                     \
    X(LAST_ACK)                                                                                    \
    X(FIN_WAIT_2)                                                                                  \
    X(TIME_WAIT)

typedef enum tw_state {
#define TW_X_STATE(n) TW_##n,
    TW_STATES(TW_X_STATE)
#undef TW_X_STATE
        TW_STATE__COUNT
} tw_state;

/* Why a state changed (or, for the final move to CLOSED, how the connection
 * ended). The names appear in traces and ladder diagrams. */
#define TW_CAUSES(X)                                                                               \
    X(NONE, "none")                                                                                \
    X(USER_CONNECT, "user connect (active open)")                                                  \
    X(USER_LISTEN, "user listen (passive open)")                                                   \
    X(USER_CLOSE, "user close")                                                                    \
    X(USER_SHUTDOWN, "user shutdown(write)")                                                       \
    X(USER_ABORT, "user abort (RST sent)")                                                         \
    X(USER_CLOSE_UNREAD, "user close with unread data (RST sent)")                                 \
    X(RCV_SYN, "SYN received")                                                                     \
    X(RCV_SYN_ACK, "SYN+ACK received")                                                             \
    X(RCV_ACK, "ACK received")                                                                     \
    X(RCV_ACK_OF_FIN, "ACK of our FIN received")                                                   \
    X(RCV_FIN, "FIN received")                                                                     \
    X(RCV_FIN_ACK, "FIN with ACK of our FIN received")                                             \
    X(RCV_RST, "RST received")                                                                     \
    X(RCV_DATA_AFTER_CLOSE, "data after close (RST sent)")                                         \
    X(TIMEOUT_2MSL, "2MSL timer expired")                                                          \
    X(TIMEOUT_FIN_WAIT_2, "FIN_WAIT_2 timeout")                                                    \
    X(TIMEOUT_RETRANSMIT, "retransmissions exhausted")                                             \
    X(TW_REUSE, "TIME_WAIT reused by a new SYN")                                                   \
    X(TW_OVERFLOW, "TIME_WAIT cut short: no room for another record")                              \
    X(ICMP_UNREACH, "ICMP destination unreachable (hard error)")                                   \
    X(TIMEOUT_KEEPALIVE, "keep-alive probes unanswered")                                           \
    X(TIMEOUT_USER, "user timeout: data unacknowledged too long")                                  \
    X(SYN_COOKIE, "ACK returned a valid SYN cookie (SYN_RECEIVED rebuilt)")

typedef enum tw_cause {
#define TW_X_CAUSE(n, d) TW_CAUSE_##n,
    TW_CAUSES(TW_X_CAUSE)
#undef TW_X_CAUSE
        TW_CAUSE__COUNT
} tw_cause;

/* Timer kinds, for TIMER events. */
typedef enum tw_timer_kind {
    TW_TIMER_RETRANSMIT,
    TW_TIMER_DELACK,
    TW_TIMER_PERSIST,
    TW_TIMER_2MSL,
    TW_TIMER_FIN_WAIT_2,
    TW_TIMER_KEEPALIVE, /* RFC 9293 §3.8.4 keep-alive idle / probe interval */
    TW_TIMER_USER,      /* RFC 9293 §3.10.8 USER TIMEOUT (RFC 5482) */
    TW_TIMER__COUNT
} tw_timer_kind;

typedef enum tw_ev_kind {
    TW_EV_STATE,   /* old_state -> new_state, cause */
    TW_EV_SEG_IN,  /* a segment accepted for processing by a connection or listener */
    TW_EV_SEG_OUT, /* a segment sent; meta has TW_SEGMETA_* bits */
    TW_EV_DROP,    /* a segment dropped; reason = counter id */
    TW_EV_TIMER,   /* a timer fired; cause = tw_timer_kind */
    TW_EV_USER,    /* a user call; cause = tw_user_call */
} tw_ev_kind;

enum tw_segmeta {
    TW_SEGMETA_RETRANS = 1,    /* retransmission of an earlier segment */
    TW_SEGMETA_PROBE = 2,      /* zero-window probe */
    TW_SEGMETA_CHALLENGE = 4,  /* RFC 5961 challenge ACK */
    TW_SEGMETA_TW = 8,         /* sent on behalf of a TIME_WAIT record */
    TW_SEGMETA_KEEPALIVE = 16, /* keep-alive probe: SEQ = SND.NXT - 1, no data */
    TW_SEGMETA_ECT = 32,       /* the IP header said ECN-capable, ECT(0) or ECT(1) (RFC 3168) */
    TW_SEGMETA_CE = 64,        /* the IP header said CE: congestion experienced on the way */
};

typedef enum tw_user_call {
    TW_CALL_CONNECT,
    TW_CALL_LISTEN,
    TW_CALL_SEND,
    TW_CALL_RECV,
    TW_CALL_SHUTDOWN,
    TW_CALL_CLOSE,
    TW_CALL_ABORT,
    TW_CALL__COUNT
} tw_user_call;

typedef struct tw_trace_ev {
    uint64_t t;                   /* ns, the stack's clock */
    uint32_t conn_id;             /* unique per connection incarnation in a stack (0: none) */
    uint8_t kind;                 /* tw_ev_kind */
    uint8_t old_state, new_state; /* tw_state */
    uint8_t cause;                /* tw_cause, tw_timer_kind or tw_user_call by kind */
    uint16_t reason;              /* counter id (enum tw_counter) for DROP, RST reasons */
    uint8_t flags;                /* TCP flags of the segment */
    uint8_t meta;                 /* TW_SEGMETA_* */
    uint32_t seq, ack, len;       /* segment fields; for USER send/recv len = bytes */
    uint16_t wnd;
    uint16_t lport, rport;
    uint32_t laddr, raddr; /* host order */
} tw_trace_ev;

/* Names: "FIN_WAIT_1", "user close", ...; "?" when out of range. */
const char *tw_state_name(int s);
const char *tw_cause_name(int c);
const char *tw_cause_desc(int c);
const char *tw_timer_name(int k);
const char *tw_call_name(int c);

#endif
