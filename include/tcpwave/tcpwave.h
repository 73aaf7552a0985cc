/* tcpwave.h - the public API: a stack bound to one IPv4 address and one link,
 * and BSD-like non-blocking sockets on it.
 *
 * Driving: a driver hands received packets to tw_stack_input(), calls
 * tw_stack_poll() to run due timers and send what user calls queued, and
 * sleeps until tw_stack_next_deadline(). Time is always an argument (ns of a
 * monotonic clock, real or virtual); the stack never reads a clock.
 * Socket calls never send by themselves: their effect goes out at the next
 * tw_stack_poll(). Events (readable, writable, connected, closed, ...) are
 * queued during a step and read with tw_next_event() after it, so no user
 * code runs inside the state machine. */
#ifndef TCPWAVE_TCPWAVE_H
#define TCPWAVE_TCPWAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_link.h>
#include <tcpwave/tw_stats.h>
#include <tcpwave/tw_trace.h>

typedef struct tw_stack tw_stack;

#define TW_SEED_RANDOM 0u /* tw_stack_cfg.seed: a secret drawn from the system */

/* tw_stack_cfg.ecn: Explicit Congestion Notification (RFC 3168), numbered as
 * Linux's net.ipv4.tcp_ecn. */
#define TW_ECN_OFF 0u     /* never: SYNs do not ask, a peer's request is declined */
#define TW_ECN_ON 1u      /* our SYNs ask for it; a peer's request is accepted */
#define TW_ECN_PASSIVE 2u /* the default: accepted when a peer's SYN asks, never asked */

/* tw_stack_cfg.cc: the congestion control of every connection. */
#define TW_CC_NEWRENO 0u /* the default: RFC 5681 + RFC 6582 (RFC 6675 with SACK) */
#define TW_CC_CUBIC 1u   /* RFC 9438: the same loss recovery, cubic window growth */

typedef struct tw_stack_cfg {
    uint32_t addr; /* our IPv4 address, host order */
    uint64_t seed; /* TW_SEED_RANDOM (0, the default): the ISN secret and port selection
                      come from the system's random source (getrandom), so nobody outside
                      can compute the ISNs (RFC 6528, RFC 9293 MUST-9). Any other value
                      seeds them deterministically: simulations, tests, replays */
    /* TCP tunables (durations in ns) */
    uint16_t mss;                           /* default 1460 */
    uint64_t msl;                           /* default 30 s: TIME_WAIT lasts 2*msl */
    uint64_t rto_initial, rto_min, rto_max; /* defaults 1 s, 1 s, 60 s (RFC 6298) */
    uint64_t delack;                        /* default 200 ms */
    uint64_t fin_wait_2_timeout;            /* default 60 s; 0 = wait for ever */
    uint8_t syn_retries, data_retries;      /* defaults 8 (SYNs for 183 s), 15 (R2) */
    uint8_t r1;          /* retransmissions after which TW_EVT_SOFT_ERROR (TW_ETIMEDOUT) tells the
                            application the path may be failing (R1, default 3, 0 = never) */
    uint8_t ttl, tos;    /* IPv4 TTL (default 64; 0 means 64) and TOS (default 0; the two
                            ECN bits are always sent 0) of what the stack sends; a socket
                            can change its own (TW_IP_TTL, TW_IP_TOS) */
    bool delack_enabled; /* default true */
    bool delack_fin;     /* delay the ACK of a FIN: three-way close (default false) */
    bool delack_synack;  /* delay the ACK of the SYN-ACK (active open), so data written
                            on TW_EVT_CONNECTED carries it (default false) */
    bool nagle;          /* default true */
    uint32_t rcvbuf, sndbuf; /* per-connection ring sizes (default 65535) */
    bool ws;                 /* offer RFC 7323 window scaling, the shift sized to
                                rcvbuf (default true) */
    bool timestamps;         /* offer RFC 7323 timestamps: RTT per ACK, PAWS (default true) */
    bool sack;               /* offer RFC 2018 SACK-permitted; SACK blocks in our ACKs while
                                out-of-order data is held (default true) */
    uint8_t cc;              /* TW_CC_* (default TW_CC_NEWRENO) */
    bool hystart;            /* HyStart++ (RFC 9406): the first slow start ends when the
                                RTT grows, before the bottleneck's queue overflows (default
                                true; it needs timestamps for its RTT samples) */
    uint8_t ecn;             /* TW_ECN_* (default TW_ECN_PASSIVE). With ECN in use new data
                                goes ECT(0), a CE mark is echoed (ECE) and an echo halves
                                cwnd once per window (CWR) */
    /* limits */
    uint32_t max_conns;                  /* full connections (default 4096) */
    uint32_t max_time_wait;              /* compact TIME_WAIT records (default 262144) */
    uint16_t ephemeral_lo, ephemeral_hi; /* default 32768..60999 (as Linux) */
    bool syn_cookies;                    /* answer a SYN that finds its listener's backlog (or the
                                            connection pool) full with a SYN cookie instead of
                                            dropping it (RFC 4987 §3.6; default true) */
    /* observation: called with each trace event at the end of the step that
     * produced it. It must not call into the stack. May be NULL. */
    void (*trace)(void *ctx, const tw_trace_ev *ev);
    void *trace_ctx;
} tw_stack_cfg;

/* Fills `cfg` with the documented defaults (addr 0: set it). */
void tw_stack_cfg_default(tw_stack_cfg *cfg);
/* Creates a stack that sends through `link` (not owned). Returns 0 and sets
 * *out, or -TW_EINVAL / -TW_ENOMEM. */
int tw_stack_new(const tw_stack_cfg *cfg, tw_link *link, tw_stack **out);
/* Frees the stack and every connection, record and socket in it. */
void tw_stack_free(tw_stack *st);

/* Processes one received IPv4 packet at time `now`. Returns 0, or the
 * positive counter id (enum tw_counter) of the drop reason. */
int tw_stack_input(tw_stack *st, uint64_t now, const uint8_t *pkt, size_t len);
/* As tw_stack_input(), but what the packet makes a connection send (its ACK,
 * data the ACK let out) waits for the next tw_stack_poll(): a driver with
 * several packets at hand feeds them all this way, then polls, and each
 * connection answers the whole batch with one ACK (RFC 9293 MUST-59). */
int tw_stack_input_deferred(tw_stack *st, uint64_t now, const uint8_t *pkt, size_t len);
/* Runs timers due at `now` and sends everything user calls queued. Returns
 * the number of segments sent. */
int tw_stack_poll(tw_stack *st, uint64_t now);
/* The earliest time tw_stack_poll() has work, or UINT64_MAX. */
uint64_t tw_stack_next_deadline(tw_stack *st);
/* The stack's time: the `now` of the latest input or poll. */
uint64_t tw_stack_now(const tw_stack *st);

/* Counter array of TW_C__COUNT entries (see tw_stats.h). */
const uint64_t *tw_stack_counters(const tw_stack *st);
/* Live full connections, and 4-tuples held in TIME_WAIT by compact records
 * (a record whose 4-tuple a new SYN is reopening counts again only if the
 * new incarnation dies before ESTABLISHED). */
size_t tw_stack_conn_count(const tw_stack *st);
size_t tw_stack_time_wait_count(const tw_stack *st);
/* Socket handles open (listeners and new sockets included): what a leak
 * check compares with the handles the application still holds. O(handles). */
size_t tw_stack_sock_count(const tw_stack *st);
/* Bytes used by one TIME_WAIT record, including its share of the index. */
size_t tw_stack_time_wait_record_size(void);

/* ---- sockets ---- */

enum { TW_SHUT_RD = 1, TW_SHUT_WR = 2, TW_SHUT_RDWR = 3 };

/* Event bits of tw_event.what. */
enum {
    TW_EVT_READABLE = 1,    /* data or end of stream can be read */
    TW_EVT_WRITABLE = 2,    /* send space available */
    TW_EVT_CONNECTED = 4,   /* an active open completed */
    TW_EVT_ACCEPTABLE = 8,  /* a listener has a connection to accept */
    TW_EVT_CLOSED = 16,     /* the connection reached CLOSED; err says why (0 = orderly) */
    TW_EVT_URGENT = 32,     /* the peer marked urgent data ahead of what was read: once per run
                               of urgent data (tw_sock_info.urgent says how far) */
    TW_EVT_SOFT_ERROR = 64, /* a soft error, err says which: ICMP unreachable (TW_ENETUNREACH,
                               TW_EHOSTUNREACH, TW_ECONNREFUSED once synchronized), time
                               exceeded (TW_EHOSTUNREACH), fragmentation needed (TW_EMSGSIZE),
                               parameter problem (TW_EPROTO), or R1 retransmissions
                               (TW_ETIMEDOUT). The connection goes on (RFC 9293 MUST-47) */
};

typedef struct tw_event {
    int sock;
    uint32_t what;
    int err; /* positive TW_E* code with TW_EVT_CLOSED or TW_EVT_SOFT_ERROR, else 0 */
} tw_event;

/* Creates an unbound socket. Returns a handle >= 0 or -TW_ENOMEM. */
int tw_socket(tw_stack *st);
/* Binds the socket to a local port (0 = pick an ephemeral one at connect). */
int tw_bind(tw_stack *st, int s, uint16_t port);
/* Passive open: SYNs to the bound port create connections, at most `backlog`
 * of them waiting (SYN_RECEIVED or not yet accepted). */
int tw_listen(tw_stack *st, int s, int backlog);
/* Takes one established connection from a listener; returns its handle, or
 * -TW_EAGAIN. raddr/rport may be NULL. */
int tw_accept(tw_stack *st, int s, uint32_t *raddr, uint16_t *rport);
/* Active open to raddr:rport; the SYN leaves at the next poll. Picks an
 * ephemeral port that avoids live and TIME_WAIT 4-tuples. Returns 0, or
 * -TW_EINVAL for port 0 or a destination that is not unicast (0/8,
 * multicast 224/4, reserved 240/4 with broadcast: RFC 9293 MUST-46). */
int tw_connect(tw_stack *st, int s, uint32_t raddr, uint16_t rport);
/* Behaves like send(2) on a non-blocking socket: bytes queued, or -TW_EAGAIN,
 * -TW_EPIPE (after shutdown), -TW_ENOTCONN, or the connection's error. */
int tw_send(tw_stack *st, int s, const void *buf, size_t len);
/* As tw_send(), and the bytes queued end the urgent data (RFC 9293 §3.8.5):
 * segments up to them carry URG and the urgent pointer, and they are sent
 * without waiting for Nagle. The data stays in line. */
int tw_send_urgent(tw_stack *st, int s, const void *buf, size_t len);
/* Behaves like recv(2) on a non-blocking socket: bytes read, 0 at end of
 * stream, -TW_EAGAIN, or the connection's error (e.g. -TW_ECONNRESET). */
int tw_recv(tw_stack *st, int s, void *buf, size_t len);
/* shutdown(2): TW_SHUT_WR sends our FIN after queued data (half-close). */
int tw_shutdown(tw_stack *st, int s, int how);
/* close(2): the handle is released at once; the connection closes in the
 * background (FIN, or RST when unread data is left, RFC 9293 §3.10.4). */
int tw_close(tw_stack *st, int s);
/* Abortive close (SO_LINGER 0): RST, then CLOSED; the handle is released. */
int tw_abort(tw_stack *st, int s);
/* Disables Nagle's algorithm for the socket when on is true (TCP_NODELAY). */
int tw_set_nodelay(tw_stack *st, int s, bool on);

typedef struct tw_sock_info {
    tw_state state;
    uint32_t conn_id;
    uint32_t laddr, raddr;
    uint16_t lport, rport;
    uint32_t snd_una, snd_nxt, rcv_nxt; /* absolute sequence numbers */
    uint32_t iss, irs;
    uint32_t snd_wnd;
    uint16_t snd_mss;
    uint64_t srtt, rttvar, rto; /* ns */
    uint8_t retransmits;        /* consecutive RTO backoffs */
    uint32_t unread, unsent;    /* bytes in the receive / send rings */
    int err;
    uint32_t urgent; /* octets from the next one to read up to the peer's urgent mark,
                        0 if none is pending (RFC 9293 MUST-33); they are read in line */
    int soft_err;    /* the latest soft error (positive TW_E*), 0 if none */
    bool ecn;        /* ECN is in use on this connection (RFC 3168 §6.1.1) */
    uint8_t tos_in;  /* IPv4 TOS octet (Diffserv and ECN field) of the latest segment taken
                        from the peer (RFC 9293 MAY-9) */
} tw_sock_info;

/* Fills `info` for a socket. Returns 0 or -TW_EBADF. */
int tw_sock_info_get(tw_stack *st, int s, tw_sock_info *info);

/* ---- socket options (src/sock/sockopt.c), with their BSD meanings ----
 * Set on a connected or accepted socket, an option acts on its connection
 * at once (after tw_connect() that includes the SYN, which leaves at the
 * next poll). Set on a listener, it is inherited by every connection the
 * listener accepts from then on. Set on a new socket, it is kept and
 * reported by tw_getsockopt(), but not yet handed to the connection
 * tw_connect() opens (see sockopt.c): set it after tw_connect() instead.
 * Values are ints unless said otherwise. */
typedef enum tw_sockopt {
    TW_SO_LINGER = 1,     /* struct tw_linger. On with l_linger 0: tw_close() is an abort
                             (RST, no TIME_WAIT). On with l_linger > 0: tw_close() never
                             blocks, so it is the ordinary graceful close, as BSD's close()
                             of a non-blocking socket with a linger time */
    TW_SO_KEEPALIVE,      /* 0/1: keep-alive probes on an idle connection (default off) */
    TW_SO_RCVBUF,         /* receive ring in bytes: before connect/listen only (-TW_EINVAL
                             once the connection has sent or received anything); at most
                             tw_stack_cfg.rcvbuf, larger values are cut to it */
    TW_SO_SNDBUF,         /* send ring in bytes: as TW_SO_RCVBUF, at most tw_stack_cfg.sndbuf */
    TW_SO_REUSEADDR,      /* 0/1: accepted and reported; tw_bind() already lets a port be
                             bound while old connections on it sit in TIME_WAIT */
    TW_TCP_NODELAY,       /* 0/1: Nagle's algorithm off (as tw_set_nodelay) */
    TW_TCP_KEEPIDLE,      /* seconds idle before the first keep-alive probe, 1..32767
                             (default 7200) */
    TW_TCP_KEEPINTVL,     /* seconds between unanswered probes, 1..32767 (default 75) */
    TW_TCP_KEEPCNT,       /* unanswered probes before the connection is aborted with
                             ETIMEDOUT, 1..255 (default 9) */
    TW_TCP_LINGER2,       /* seconds an orphaned connection may wait in FIN_WAIT_2 for the
                             peer's FIN; 0: the stack's fin_wait_2_timeout; < 0: for ever */
    TW_TCP_DELACK_FIN,    /* 0/1: delay the ACK of the peer's FIN so that our close merges
                             it with our FIN: the three-way close (default: delack_fin) */
    TW_TCP_USER_TIMEOUT,  /* unsigned int, ms: abort with ETIMEDOUT when sent data stays
                            unacknowledged that long (RFC 5482); 0 = none (default) */
    TW_TCP_DELACK_SYNACK, /* 0/1: delay the ACK of the peer's SYN-ACK (as a delayed ACK),
                           so that data written on TW_EVT_CONNECTED carries it: the
                           handshake ends with the request (default: delack_synack) */
    TW_SO_SOFT_ERRORS,    /* 0/1: report soft errors as TW_EVT_SOFT_ERROR (default 1); with
                             0 they are only kept in tw_sock_info.soft_err (RFC 9293 SHLD-20) */
    TW_IP_TTL,            /* 1..255: IPv4 TTL of the connection's segments (default
                             tw_stack_cfg.ttl; RFC 9293 MUST-49) */
    TW_IP_TOS,            /* 0..255: IPv4 TOS (Diffserv) byte of the connection's segments,
                             any time (MUST-48, SHLD-21); the two ECN bits are sent 0 */
} tw_sockopt;

typedef struct tw_linger {
    int l_onoff;  /* 0 or 1 */
    int l_linger; /* seconds */
} tw_linger;

/* setsockopt(2): `val` points at `len` bytes (an int, or a tw_linger).
 * Returns 0, -TW_EBADF, -TW_ENOPROTOOPT (unknown option), -TW_EINVAL (bad
 * size or value, or a ring size once the connection has started), or
 * -TW_ENOMEM. */
int tw_setsockopt(tw_stack *st, int s, int opt, const void *val, size_t len);
/* getsockopt(2): `*len` is the room at `val` on entry and the bytes written
 * on return. Returns 0, -TW_EBADF, -TW_ENOPROTOOPT or -TW_EINVAL. */
int tw_getsockopt(tw_stack *st, int s, int opt, void *val, size_t *len);

/* Options both ends agreed on (tw_tcp_info.options). */
enum {
    TW_TI_OPT_WSCALE = 1,     /* RFC 7323 window scaling */
    TW_TI_OPT_TIMESTAMPS = 2, /* RFC 7323 timestamps */
    TW_TI_OPT_SACK = 4,       /* RFC 2018 SACK permitted (we send SACK blocks) */
};

/* The TCP state of a connection, as Linux's TCP_INFO (times in ns). */
typedef struct tw_tcp_info {
    tw_state state;
    uint8_t options;           /* TW_TI_OPT_* */
    uint8_t snd_wscale;        /* the peer's shift: its windows are this many bits larger */
    uint8_t rcv_wscale;        /* our shift */
    uint16_t snd_mss;          /* effective send MSS (min of the peer's and ours) */
    uint16_t smss;             /* payload of a full segment: snd_mss less per-segment options */
    uint16_t rcv_mss;          /* the MSS we advertised */
    uint64_t rtt, rttvar, rto; /* smoothed RTT and its variation (RFC 6298), current RTO */
    uint32_t cwnd, ssthresh;   /* congestion window and slow-start threshold (bytes) */
    uint32_t bytes_in_flight;  /* sent, not yet acknowledged (SND.MAX - SND.UNA) */
    uint32_t snd_wnd;          /* the peer's window (scaled) */
    uint32_t rcv_wnd;          /* the window we advertise now (bytes) */
    uint32_t unacked_backoffs; /* consecutive RTO expiries of the current segment */
    uint32_t total_retrans;    /* segments retransmitted over the connection's life */
    uint32_t keepalive_probes; /* keep-alive probes sent since the peer was last heard */
    uint32_t fast_retrans;     /* fast retransmits (third duplicate ACK) over its life */
    uint8_t in_recovery;       /* 1 while in fast recovery (RFC 5681 §3.2, RFC 6582) */
} tw_tcp_info;

/* Fills `info` for a connected or accepted socket (a listener or a new
 * socket reports only its state). Returns 0 or -TW_EBADF. */
int tw_tcp_info_get(tw_stack *st, int s, tw_tcp_info *info);
/* Reads the next queued event; returns 1 if one was stored, 0 if none. */
int tw_next_event(tw_stack *st, tw_event *ev);

#endif
