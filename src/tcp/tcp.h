/* tcp.h - one TCP connection, with no I/O (RFC 9293 §3.10).
 *
 * A tw_tcp_conn is driven only by the calls below, each taking the current
 * time as an argument: tw_tcp_input() for a segment that arrived,
 * tw_tcp_output() to emit what is due, tw_tcp_timer() when
 * tw_tcp_next_deadline() has passed, and the user calls (open, send, recv,
 * shutdown, close, abort). The connection never reads a clock, allocates, or
 * calls user code: memory (send and receive rings) and the ISN are injected by
 * the stack, and user-visible events are left as bits in `events` for the
 * stack to deliver after the step. Every state change goes through
 * tw_tcp_set_state(), which checks the move against the RFC 9293 diagram and
 * emits a trace event. */
#ifndef TW_TCP_TCP_H
#define TW_TCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <tcpwave/tw_stats.h>
#include <tcpwave/tw_trace.h>

#include "tcp/tcp_cc.h"
#include "util/assembler.h"
#include "util/ring.h"
#include "util/time.h"
#include "wire/seq.h"
#include "wire/tcp_hdr.h"

/* Tunables shared by all connections of a stack; see tw_tcp_cfg_default(). */
typedef struct tw_tcp_cfg {
    uint16_t mss;          /* MSS we advertise and use at most (default 1460) */
    tw_time_t msl;         /* maximum segment lifetime; TIME_WAIT = 2*msl (default 30 s) */
    tw_time_t rto_initial; /* RFC 6298 §2.1 (default 1 s) */
    tw_time_t rto_min;     /* RFC 6298 §2.4 (default 1 s) */
    tw_time_t rto_max;     /* RFC 6298 §2.5 (default 60 s) */
    tw_time_t delack;      /* delayed ACK timeout, <= 500 ms (RFC 9293 SHLD-18; default 200 ms) */
    tw_time_t fin_wait_2_timeout; /* orphaned FIN_WAIT_2 lifetime (default 60 s, 0 = none) */
    uint8_t syn_retries;          /* SYN / SYN-ACK retransmissions before giving up (default 8: the
                                     last at 183 s, RFC 9293 MUST-23) */
    uint8_t r1;       /* retransmissions after which the user is told (R1, default 3, 0 = never) */
    uint8_t ttl, tos; /* IPv4 TTL and TOS of a connection's segments (64, 0) */
    uint8_t data_retries; /* data / FIN retransmissions before giving up (R2, default 15) */
    bool delack_enabled;  /* delay ACKs of data (default true) */
    bool delack_fin;      /* delay the ACK of a peer's FIN, so an application close
                             merges it with our FIN: the three-way close (default false) */
    bool delack_synack;   /* active open: delay the ACK of the peer's SYN-ACK, so data
                             written on CONNECTED carries it (default false) */
    bool nagle;           /* RFC 9293 §3.7.4 (default true) */
    uint16_t
        challenge_ack_limit; /* RFC 5961 §7: per connection and second (default 10, 0 = none) */
    uint32_t rcvbuf, sndbuf; /* ring sizes in bytes (default 65535) */
    bool ws;                 /* offer RFC 7323 window scaling on our SYN (default true) */
    bool timestamps;         /* offer RFC 7323 timestamps on our SYN (default true) */
    bool sack;               /* offer RFC 2018 SACK-permitted; send SACK blocks (default true) */
    uint8_t ecn;  /* TW_TCP_ECN_*: ask for ECN on our SYN (ON) or only accept it (PASSIVE,
                     the default) or neither (OFF) */
    uint8_t cc;   /* TW_TCP_CC_*: congestion control (default NewReno) */
    bool hystart; /* HyStart++ in the first slow start (RFC 9406; default true) */
    /* Defaults of the per-connection settings (socket options, sockopt.c). */
    bool keepalive;         /* RFC 9293 §3.8.4 keep-alives (default off, MUST-25) */
    tw_time_t keepidle;     /* idle time before the first probe (default 2 h, MUST-28) */
    tw_time_t keepintvl;    /* between unanswered probes (default 75 s) */
    uint8_t keepcnt;        /* unanswered probes before giving up (default 9) */
    tw_time_t user_timeout; /* RFC 9293 §3.10.8 USER TIMEOUT, 0 = none (default) */
} tw_tcp_cfg;

void tw_tcp_cfg_default(tw_tcp_cfg *cfg);

/* Where a connection reports: a trace sink and the stack's counters. */
typedef struct tw_tcp_env {
    void (*trace)(void *ctx, const tw_trace_ev *ev); /* may be NULL */
    void *trace_ctx;
    uint64_t *counters; /* TW_C__COUNT entries; never NULL */
} tw_tcp_env;

/* How a segment's processing ended (4.4BSD drop/dropafterack/dropwithreset). */
typedef enum tw_tcp_action {
    TW_ACT_ACCEPT,         /* processed; call tw_tcp_output() */
    TW_ACT_DROP,           /* ignored silently; reason says why */
    TW_ACT_DROP_AFTER_ACK, /* ignored, but an ACK is due (output sends it) */
    TW_ACT_DROP_WITH_RST,  /* ignored; the caller answers with tw_tcp_make_rst() */
} tw_tcp_action;

typedef struct tw_tcp_result {
    tw_tcp_action action;
    uint16_t reason; /* enum tw_counter of the drop or RST; 0 when accepted */
} tw_tcp_result;

/* Bits left in conn->events for the stack to turn into socket events. */
enum {
    TW_CEV_READABLE = 1,    /* data or EOF to read */
    TW_CEV_WRITABLE = 2,    /* send space opened */
    TW_CEV_CONNECTED = 4,   /* reached ESTABLISHED */
    TW_CEV_CLOSED = 8,      /* reached CLOSED; conn->err says why if an error */
    TW_CEV_URGENT = 16,     /* the peer's urgent pointer moved ahead of the data read */
    TW_CEV_SOFT_ERROR = 32, /* a soft error: conn->soft_err says which */
};

/* Internal flag bits (conn->flags). */
enum {
    TW_TF_ACK_NOW = 1 << 0,         /* send an ACK at the next output */
    TW_TF_DELACK = 1 << 1,          /* an ACK is owed but delayed */
    TW_TF_FIN_QUEUED = 1 << 2,      /* the user closed the send side: FIN follows the data */
    TW_TF_RCVD_FIN = 1 << 3,        /* the peer's FIN has been taken (rcv_nxt covers it) */
    TW_TF_ORPHAN = 1 << 4,          /* the user closed the socket: nobody reads any more */
    TW_TF_SEND_RST = 1 << 5,        /* output must emit an RST <SEQ=SND.NXT> */
    TW_TF_SYN_RETRIED = 1 << 6,     /* SYN was retransmitted (RFC 6298 §5.7) */
    TW_TF_NODELAY = 1 << 7,         /* Nagle off for this connection */
    TW_TF_PEER_FIN_OOO = 1 << 8,    /* a FIN arrived beyond a gap; peer_fin_seq holds it */
    TW_TF_CHALLENGE = 1 << 9,       /* the pending ACK is an RFC 5961 challenge ACK */
    TW_TF_PASSIVE = 1 << 10,        /* opened by a listener */
    TW_TF_FORCE_PROBE = 1 << 11,    /* persist timer fired: send one byte past the window */
    TW_TF_SHUT_RD = 1 << 12,        /* user shut down the receive side */
    TW_TF_RETRANSMITTING = 1 << 13, /* snd_nxt was pulled back by an RTO */
    TW_TF_SWS_OVERRIDE = 1 << 14, /* persist fired with an open but small window: send what fits */
    TW_TF_DSACK = 1 << 15,    /* dsack_left..dsack_right goes first in our next ACK (RFC 2883) */
    TW_TF_URG_RCV = 1 << 16,  /* rcv_up holds the peer's latest urgent pointer */
    TW_TF_URG_SND = 1 << 17,  /* snd_up marks urgent data not yet acknowledged */
    TW_TF_ECN = 1 << 18,      /* ECN negotiated (RFC 3168 §6.1.1): ECT on new data, ECE heeded */
    TW_TF_ECE_SEND = 1 << 19, /* a CE mark arrived: ECE on our ACKs until the peer's CWR */
    TW_TF_CWR_SEND = 1 << 20, /* cwnd was cut for an ECE: CWR on the next new data segment */
};

/* conn->hs.phase (HyStart++, RFC 9406). */
enum { TW_HS_OFF = 0, TW_HS_SLOW_START = 1, TW_HS_CSS = 2 };

/* tw_tcp_cfg.cc: the congestion control algorithm (tcp_cc.h). */
enum { TW_TCP_CC_NEWRENO = 0, TW_TCP_CC_CUBIC = 1 };

/* tw_tcp_cfg.ecn (RFC 3168), numbered as Linux's net.ipv4.tcp_ecn. */
enum { TW_TCP_ECN_OFF = 0, TW_TCP_ECN_ON = 1, TW_TCP_ECN_PASSIVE = 2 };

/* The sender's SACK scoreboard holds at most this many SACKed ranges: a
 * peer reporting many tiny blocks cannot make it grow (tcp_sack.c). A
 * drop-tail queue overflowing in slow start can leave a hole every other
 * segment of a window, so the bound is that of the receiver's ranges
 * (TW_ASM_MAX, 96) or near it: with both, a stack slot is exactly 2 KB
 * (stack.c asserts it; a power of two keeps slot addressing a shift). */
#define TW_SACK_SB_MAX 80

typedef struct tw_tcp_conn {
    tw_state state;
    uint32_t id;
    uint32_t flags;
    uint8_t events;         /* TW_CEV_* not yet collected */
    int err;                /* 0 or a TW_E* code (positive) explaining CLOSED */
    int soft_err;           /* the latest soft error (positive TW_E*), 0 if none */
    uint8_t ip_ttl, ip_tos; /* what its segments carry in the IP header (TW_IP_TTL/TOS) */
    uint8_t rcv_tos;        /* TOS octet of the latest segment taken (RFC 9293 MAY-9) */
    tw_cause close_cause;   /* cause of the move to CLOSED */
    const tw_tcp_cfg *cfg;
    const tw_tcp_env *env;

    uint32_t laddr, raddr;
    uint16_t lport, rport;

    /* Send sequence space (RFC 9293 §3.3.1). snd_max is the highest SND.NXT
     * ever sent, so a retransmission can pull snd_nxt back below it. */
    tw_seq_t iss, snd_una, snd_nxt, snd_max, snd_wl1, snd_wl2;
    uint32_t snd_wnd, max_snd_wnd;
    uint16_t snd_mss; /* effective send MSS: min(peer MSS, cfg->mss) */
    tw_seq_t fin_seq; /* sequence number of our FIN, valid with FIN_QUEUED */

    /* Receive sequence space. rcv_adv is the right edge we advertised; the
     * window never shrinks below it (RFC 9293 §3.8.6.2.1). */
    tw_seq_t irs, rcv_nxt, rcv_adv;
    tw_seq_t peer_fin_seq;
    uint32_t unacked_segs; /* in-order segments received since our last ACK */

    tw_ring sndbuf; /* unacknowledged + unsent data, starting at snd_una (after SYN) */
    tw_ring rcvbuf; /* in-order data not yet read, then out-of-order data in the free area */

    /* Timers: absolute deadlines, TW_TIME_NEVER when off. */
    tw_time_t t_rexmt, t_delack, t_persist, t_2msl, t_fw2;
    uint8_t rexmt_count; /* consecutive RTO expiries (backoff shift) */
    uint8_t persist_shift;
    uint16_t chal_count; /* challenge ACKs sent since chal_since (RFC 5961 §7) */
    tw_time_t chal_since;
    uint8_t probes_unanswered; /* zero-window probes since the peer last ACKed anything */

    /* RTT estimation (RFC 6298), one timed segment at a time (Karn). */
    tw_time_t srtt, rttvar, rto;
    bool rtt_timing;
    tw_seq_t rtt_seq;
    tw_time_t rtt_start;

    /* Life history, for close reasons and dwell times. */
    tw_time_t state_since;
    tw_time_t created;

    /* RFC 7323 (tcp_rfc7323.c): window scaling and timestamps. The shifts
     * stay 0 unless both SYNs carried a window scale option. */
    uint8_t xopts;           /* TW_XO_*: options offered on our SYN, options in use */
    uint8_t snd_wscale;      /* Snd.Wind.Shift: the peer's SEG.WND is left-shifted by it */
    uint8_t rcv_wscale;      /* Rcv.Wind.Shift: the window we advertise is right-shifted by it */
    uint16_t smss;           /* SMSS (RFC 5681 §2): payload of a full-sized segment, snd_mss
                                less the options every segment carries (12 with timestamps) */
    uint32_t ts_offset;      /* TSval = ms of the injected clock + ts_offset (RFC 7323 §5.4) */
    uint32_t ts_recent;      /* TS.Recent (RFC 7323 §4.3) */
    tw_time_t ts_recent_age; /* when TS.Recent was last set (the 24-day rule, §5.5) */
    tw_seq_t last_ack_sent;  /* Last.ACK.sent (§4.3): ACK field of our latest segment */

    /* Per-connection settings (tw_tcp_cfg defaults, changed by socket
     * options) and the keep-alive and user timers (tcp_keep.c). */
    uint8_t uflags;              /* TW_UF_* */
    uint8_t ka_cnt;              /* keep-alive probes sent unanswered before giving up */
    uint8_t ka_probes;           /* keep-alive probes sent since the peer was last heard */
    uint16_t linger_s;           /* SO_LINGER seconds (with TW_UF_LINGER) */
    tw_time_t ka_idle, ka_intvl; /* keep-alive idle time and probe interval */
    tw_time_t user_timeout;      /* 0 = none */
    tw_time_t fw2_timeout;       /* orphaned FIN_WAIT_2 lifetime, 0 = none */
    tw_time_t t_keep, t_user;    /* keep-alive and user-timeout deadlines */
    uint32_t total_retrans;      /* segments retransmitted over the connection's life */

    /* Congestion control (tcp_cc.h; cc_newreno.c). */
    const tw_tcp_cc_ops *cc;
    uint32_t cwnd, ssthresh; /* bytes (RFC 5681 §3.1) */
    uint32_t cc_acked;       /* bytes acknowledged toward the next increase in avoidance */
    tw_seq_t recover;        /* RFC 6582 "recover": highest sequence number sent at loss */
    tw_seq_t ecn_recover;    /* SND.MAX at the latest cut for ECE: one cut per window */
    struct {                 /* HyStart++ (cc_hystart.c, RFC 9406), times in ns */
        uint8_t phase;       /* TW_HS_*: slow start watched, CSS, or off */
        uint8_t css_rounds;  /* rounds spent in CSS */
        uint16_t samples;    /* RTT samples in this round */
        tw_seq_t window_end; /* the round ends when SND.UNA passes it */
        tw_time_t last_min, cur_min, css_baseline; /* 0: none */
    } hs;
    tw_time_t hs_rtt;        /* the latest RTT sample, for HyStart++ (0: taken) */
    struct {                 /* CUBIC's state (cc_cubic.c, RFC 9438 §4), bytes and ns */
        uint32_t w_max;      /* cwnd just before the latest congestion event (0: none yet) */
        uint32_t cwnd_epoch; /* cwnd when the current congestion-avoidance epoch began */
        tw_time_t epoch;     /* when it began; TW_TIME_NEVER: begins at the next ACK */
        tw_time_t k;         /* time from the epoch to reach w_max again */
        double w_est;        /* the Reno-friendly estimate (§4.3) */
    } cubic;
    uint8_t dupacks;       /* consecutive duplicate ACKs (RFC 5681 §2) */
    uint8_t ccf;           /* TW_CCF_* */
    uint32_t fast_retrans; /* fast retransmits over the connection's life */
    tw_time_t t_last_send; /* when data was last sent (restart after idle, §4.1) */

    /* SACK blocks we report (tcp_sack.c, RFC 2018 §4): a sequence number in
     * each of the latest out-of-order arrivals, most recent first. */
    tw_seq_t sack_recent[TW_TCP_MAX_SACK];
    uint8_t nsack_recent;
    uint8_t nsb; /* ranges in sb[] */
    /* D-SACK to report (RFC 2883), valid with TW_TF_DSACK. */
    tw_seq_t dsack_left, dsack_right;

    tw_seq_t high_rxt;   /* HighRxt: end of the highest retransmission of the recovery */
    tw_seq_t rescue_rxt; /* RescueRxt (RFC 6675 §4 NextSeg rule 4) */
    tw_seq_t una_fence;  /* SND.MAX when the segment at SND.UNA was last retransmitted */
    uint32_t pipe;       /* bytes estimated in the network (SetPipe, RFC 6675 §4) */

    /* Urgent data (RFC 9293 §3.8.5, tcp_user.c): RCV.UP and SND.UP, each the
     * sequence number just after the urgent data (MUST-62), valid with
     * TW_TF_URG_RCV / TW_TF_URG_SND. Urgent data stays in line. */
    tw_seq_t rcv_up, snd_up;

    /* The two range lists last: tw_tcp_init() clears everything before
     * `ooo` and only the counts of these (1.4 KB that a short connection
     * never touches). */
    tw_asm ooo; /* out-of-order ranges we hold, offsets from rcv_nxt */
    /* The sending side of SACK (tcp_sack.c, RFC 6675): the scoreboard, the
     * SACKed ranges above SND.UNA, sorted, disjoint and not touching; nsb
     * of them are valid. */
    struct {
        tw_seq_t start, end;
    } sb[TW_SACK_SB_MAX];
} tw_tcp_conn;

/* conn->uflags bits. */
enum {
    TW_UF_KEEPALIVE = 1,      /* keep-alives on (SO_KEEPALIVE) */
    TW_UF_KEEP_PROBE = 2,     /* a keep-alive probe is due at the next output */
    TW_UF_DELACK_FIN = 4,     /* delay the ACK of the peer's FIN: the three-way close */
    TW_UF_LINGER = 8,         /* SO_LINGER on; with linger_s 0 a close is an abort */
    TW_UF_DELACK_SYNACK = 16, /* delay the ACK of the SYN-ACK: the request carries it */
    TW_UF_QUIET_ERRORS = 32,  /* soft errors are kept in soft_err but not signalled */
};

/* conn->xopts bits: what our SYN offered (REQ) and what both SYNs carried. */
enum {
    TW_XO_WS_REQ = 1,   /* our SYN carried a window scale option */
    TW_XO_TS_REQ = 2,   /* our SYN carried a timestamps option */
    TW_XO_SACK_REQ = 4, /* our SYN carried SACK-permitted */
    TW_XO_WS = 8,       /* window scaling in use (RFC 7323 §2.2) */
    TW_XO_TS = 16,      /* timestamps in use (RFC 7323 §3.2) */
    TW_XO_SACK = 32,    /* SACK permitted both ways (RFC 2018 §2) */
};

/* Segment sink used by tw_tcp_output(). The payload of an emitted segment is
 * copied into `scratch` (at least cfg->mss bytes) and valid only during emit. */
typedef struct tw_tcp_tx {
    void (*emit)(void *ctx, const tw_tcp_seg *seg, unsigned meta);
    void *ctx;
    uint8_t *scratch;
    uint32_t scratch_cap;
} tw_tcp_tx;

/* Prepares `c` in CLOSED with its buffers; nothing is sent. sndmem/rcvmem
 * are cfg->sndbuf / cfg->rcvbuf bytes owned by the caller. */
void tw_tcp_init(tw_tcp_conn *c, const tw_tcp_cfg *cfg, const tw_tcp_env *env, uint32_t id,
                 uint8_t *sndmem, uint8_t *rcvmem, tw_time_t now);
/* Sets the 4-tuple. */
void tw_tcp_set_tuple(tw_tcp_conn *c, uint32_t laddr, uint16_t lport, uint32_t raddr,
                      uint16_t rport);
/* Active OPEN (RFC 9293 §3.10.1): CLOSED -> SYN_SENT with ISS `iss`; the SYN
 * goes out at the next tw_tcp_output(). */
int tw_tcp_connect(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now);
/* Passive OPEN for one incoming SYN: the new connection starts in LISTEN (a
 * copy of its listener; no trace event), so that the SYN is then handed to
 * tw_tcp_input() exactly as RFC 9293 §3.10.7.2 describes. */
int tw_tcp_listen(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now);

/* SEGMENT ARRIVES (RFC 9293 §3.10.7) for a segment of this connection. */
tw_tcp_result tw_tcp_input(tw_tcp_conn *c, tw_time_t now, const tw_tcp_seg *seg);
/* Emits every segment that is due now (SYN, data, FIN, ACK, RST, probes),
 * honouring windows, Nagle and delayed ACK. Returns the number emitted. */
int tw_tcp_output(tw_tcp_conn *c, tw_time_t now, const tw_tcp_tx *tx);
/* The earliest timer deadline, or TW_TIME_NEVER. */
tw_time_t tw_tcp_next_deadline(const tw_tcp_conn *c);
/* TIMEOUTS (RFC 9293 §3.10.8): runs every timer whose deadline is <= now.
 * Call tw_tcp_output() afterwards. */
void tw_tcp_timer(tw_tcp_conn *c, tw_time_t now);

/* SEND: queues up to n bytes; returns bytes queued, -TW_EAGAIN when the buffer
 * is full, -TW_EPIPE after shutdown/close, -TW_ENOTCONN before an open. */
int tw_tcp_send(tw_tcp_conn *c, const void *buf, uint32_t n, tw_time_t now);
/* SEND with URGENT: as tw_tcp_send(), and the data queued ends the urgent
 * data (SND.UP, RFC 9293 §3.8.5); it stays in line. */
int tw_tcp_send_urgent(tw_tcp_conn *c, const void *buf, uint32_t n, tw_time_t now);
/* Octets from the next one to read up to the peer's urgent mark (RCV.UP),
 * 0 when no urgent data is pending (RFC 9293 MUST-33). */
uint32_t tw_tcp_urgent_pending(const tw_tcp_conn *c);
/* RECEIVE: copies up to n in-order bytes; returns the count, 0 at end of
 * stream (peer FIN and nothing left), -TW_EAGAIN if nothing yet, or
 * -TW_ENOTCONN / the connection's error. */
int tw_tcp_recv(tw_tcp_conn *c, void *buf, uint32_t n, tw_time_t now);
/* shutdown(SHUT_WR): queue a FIN after the data (RFC 9293 CLOSE, half-close). */
int tw_tcp_shutdown(tw_tcp_conn *c, tw_time_t now);
/* close(): like shutdown, then the connection is orphaned. With unread data it
 * aborts with RST instead (RFC 9293 §3.10.4, SHLD-3 / RFC 2525). */
int tw_tcp_close(tw_tcp_conn *c, tw_time_t now);
/* ABORT (RFC 9293 §3.10.5): an RST is sent (in synchronized states) and the
 * connection goes to CLOSED. */
int tw_tcp_abort(tw_tcp_conn *c, tw_time_t now);
/* Bytes readable / send space free. */
uint32_t tw_tcp_readable(const tw_tcp_conn *c);
uint32_t tw_tcp_writable(const tw_tcp_conn *c);
/* True once nothing more will ever be sent or received: CLOSED with no RST pending. */
bool tw_tcp_is_dead(const tw_tcp_conn *c);

/* The one way to change state: checks the move is on the RFC 9293 diagram
 * (aborts otherwise: an illegal move is a bug) and emits a trace event. */
void tw_tcp_set_state(tw_tcp_conn *c, tw_state to, tw_cause cause, tw_time_t now);
/* True when from -> to is a legal transition. */
bool tw_tcp_move_legal(tw_state from, tw_state to);
/* Emits a STATE trace event through `env` (used for TIME_WAIT records too). */
void tw__trace_state(const tw_tcp_env *env, uint32_t id, tw_state from, tw_state to, tw_cause cause,
                     tw_time_t now, uint32_t laddr, uint16_t lport, uint32_t raddr, uint16_t rport);

/* Builds the RST answering `in` per RFC 9293 §3.10.7.1/§3.10.7.2: if `in`
 * has ACK, <SEQ=SEG.ACK><CTL=RST>; else <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>.
 * Returns false when no RST may be sent (the input is itself an RST). */
bool tw_tcp_make_rst(const tw_tcp_seg *in, tw_tcp_seg *out);
/* Sequence space a segment occupies: payload + SYN + FIN. */
static inline uint32_t tw_seg_seqlen(const tw_tcp_seg *s) {
    return s->len + ((s->flags & TW_TH_SYN) ? 1u : 0u) + ((s->flags & TW_TH_FIN) ? 1u : 0u);
}

/* ---- TIME_WAIT, shared by a connection in TIME_WAIT and by the stack's
 * compact TIME_WAIT records (RFC 9293 §3.10.7.4, RFC 1337, RFC 6191). ---- */
typedef struct tw_tcp_tw {
    tw_seq_t snd_nxt, rcv_nxt;
    uint16_t wnd;
    bool ts;            /* the incarnation used RFC 7323 timestamps */
    uint32_t ts_offset; /* its TSval clock offset (TSval = ms + ts_offset) */
    uint32_t ts_recent; /* TS.Recent: the peer's last TSval (its FIN's, normally) */
} tw_tcp_tw;

typedef enum tw_tw_verdict {
    TW_TWV_DROP,  /* nothing to send; reason tells why */
    TW_TWV_ACK,   /* send <SEQ=snd_nxt><ACK=rcv_nxt><ACK>, no restart */
    TW_TWV_REACK, /* retransmitted FIN: ACK it and restart 2MSL */
    TW_TWV_REUSE, /* an acceptable new SYN: end TIME_WAIT, open a new connection */
} tw_tw_verdict;

/* Decides what a TIME_WAIT endpoint does with `seg`; sets *reason to a counter id. */
tw_tw_verdict tw_tcp_tw_input(const tw_tcp_tw *tw, const tw_tcp_seg *seg, uint16_t *reason);
/* Fills `out` with the ACK a TIME_WAIT endpoint sends at time `now` (with a
 * TS option when the incarnation used timestamps). */
void tw_tcp_tw_ack(const tw_tcp_tw *tw, uint32_t laddr, uint16_t lport, uint32_t raddr,
                   uint16_t rport, tw_time_t now, tw_tcp_seg *out);
/* The TSval a connection with timestamp offset `offset` sends at `now`. */
uint32_t tw_tcp_tsval(uint32_t offset, tw_time_t now);
/* The per-connection timestamp offset the stack derives from a secret-keyed
 * 32-bit value of the 4-tuple, so a TIME_WAIT record can recompute it. */
uint32_t tw_tcp_ts_offset_from(uint32_t keyed);

/* Internal helpers shared by the tcp/ files. */
/* Counts one event in the stack's counters (inline: several per segment). */
static inline void tw__tcp_count(const tw_tcp_conn *c, int counter) {
    c->env->counters[counter]++;
}
void tw__tcp_arm_rexmt(tw_tcp_conn *c, tw_time_t now);
/* The zero-window probe interval (RFC 9293 §3.8.6.1, SHLD-30): RTO <<
 * persist_shift, at most rto_max; for the persist timer and for a FIN sent
 * again into a closed window (that window's probe). */
tw_time_t tw__tcp_persist_backoff(const tw_tcp_conn *c);
tw_time_t tw__tcp_backoff_rto(const tw_tcp_conn *c);
void tw__tcp_rtt_sample(tw_tcp_conn *c, tw_time_t rtt);
void tw__tcp_rtt_sample_k(tw_tcp_conn *c, tw_time_t rtt, uint32_t k);
void tw__tcp_enter_closed(tw_tcp_conn *c, tw_cause cause, int err, tw_time_t now);
void tw__tcp_enter_time_wait(tw_tcp_conn *c, tw_cause cause, tw_time_t now);
/* The window field a non-SYN segment sent now carries: tw__tcp_rcv_wnd()
 * right-shifted by Rcv.Wind.Shift (RFC 7323 §2.3), at most 65535. */
uint32_t tw__tcp_rcv_window(const tw_tcp_conn *c);
tw_seq_t tw__tcp_snd_data_start(const tw_tcp_conn *c);
void tw__tcp_trace_timer(const tw_tcp_conn *c, tw_timer_kind k, tw_time_t now);

/* tcp_rfc7323.c: window scaling, timestamps and PAWS (RFC 7323). */
/* Options of our SYN or SYN-ACK: MSS, and WS/TS as offered or negotiated. */
void tw__tcp_syn_options(tw_tcp_conn *c, tw_tcp_seg *s, tw_time_t now);
/* After the MSS of the peer's SYN or SYN-ACK is taken: which of WS and TS
 * are in use, the shifts, TS.Recent and SMSS. */
void tw__tcp_take_syn_options(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now);
/* Called for every segment the connection emits: the TS option once
 * negotiated (TSecr = TS.Recent, §4.3) and Last.ACK.sent. */
void tw__tcp_stamp(tw_tcp_conn *c, tw_tcp_seg *s, unsigned meta, tw_time_t now);
/* PAWS test R1 (RFC 7323 §5.3): true when the segment is an old duplicate. */
bool tw__tcp_paws_reject(const tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now);
/* R3 (§5.3, §4.3): TS.Recent from an acceptable segment at or below Last.ACK.sent. */
void tw__tcp_ts_recent_update(tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now);
/* An RTT sample from the TSecr of an ACK of new data (§4.1); false if none. */
bool tw__tcp_ts_rtt(const tw_tcp_conn *c, const tw_tcp_seg *seg, tw_time_t now, tw_time_t *rtt);
/* Our timestamp clock now: ms of `now` plus the connection's offset. */
uint32_t tw__tcp_ts_now(const tw_tcp_conn *c, tw_time_t now);
/* The per-connection TS offset derived from an RFC 6528 ISS (see the .c). */
void tw__tcp_ts_init(tw_tcp_conn *c, tw_seq_t iss, tw_time_t now);
/* The smallest shift that lets a 16-bit window cover `rcvbuf` bytes (<= 14). */
uint8_t tw__tcp_wscale_for(uint32_t rcvbuf);
/* The receive window we could offer now in bytes (32 bits): free ring
 * space, at most 65535 << Rcv.Wind.Shift, never below what was promised. */
uint32_t tw__tcp_rcv_wnd(const tw_tcp_conn *c);

/* tcp_sack.c: SACK blocks for out-of-order data (RFC 2018 §4). */
/* Out-of-order data starting at `seq` was stored. */
void tw__tcp_sack_note(tw_tcp_conn *c, tw_seq_t seq);
/* Fills s->opt.sack with the blocks to report, the most recent first. */
void tw__tcp_sack_fill(const tw_tcp_conn *c, tw_tcp_seg *s);
/* Bytes the SACK option of the next segment takes (0 when none). */
uint32_t tw__tcp_sack_bytes(const tw_tcp_conn *c);
/* True when our next ACK carries SACK blocks (held data or a D-SACK). */
static inline bool tw__tcp_sack_due(const tw_tcp_conn *c) {
    /* ooo.n read in place (tw_asm_empty): this runs for every segment sent. */
    return (c->ooo.n || (c->flags & TW_TF_DSACK)) && (c->xopts & TW_XO_SACK);
}
/* A segment carried sequence numbers [left, right) we had received before:
 * report them as a D-SACK block in the next ACK (RFC 2883 §4). */
void tw__tcp_dsack_note(tw_tcp_conn *c, tw_seq_t left, tw_seq_t right);
/* Out-of-order data at [off, off+len) from RCV.NXT arrived: the part of it
 * already held, if any, is reported as a D-SACK block. */
void tw__tcp_dsack_held(tw_tcp_conn *c, uint32_t off, uint32_t len);

/* tcp_sack.c, the sending side: the scoreboard and RFC 6675 loss recovery. */
/* An acceptable ACK, after SND.UNA moved by `acked` bytes (0 for none);
 * `flight` was SND.MAX - SND.UNA before, `dup` tells whether it is a
 * duplicate ACK as RFC 5681 §2 defines it. Takes the SACK blocks into the
 * scoreboard and runs RFC 6675 §5 (or, without SACK information, hands the
 * ACK to congestion control as NewReno does). */
void tw__tcp_sack_ack(tw_tcp_conn *c, const tw_tcp_seg *seg, uint32_t acked, uint32_t flight,
                      bool dup, tw_time_t now);
/* True when an ACK must go through tw__tcp_sack_ack(): SACK is in use and
 * the ACK carries blocks, the scoreboard holds ranges or pipe governs
 * sending. Otherwise the NewReno path costs nothing extra. */
static inline bool tw__tcp_sack_path(const tw_tcp_conn *c, const tw_tcp_seg *seg) {
    return (seg->opt.nsack | c->nsb | (c->ccf & TW_CCF_PIPE)) && (c->xopts & TW_XO_SACK);
}
/* The retransmission timer expired (RFC 6675 §5.1): the scoreboard is
 * cleared and SACK recovery ends (congestion control has set `recover`). */
void tw__tcp_sack_rto(tw_tcp_conn *c);
/* NextSeg (RFC 6675 §4): rules 1 (`rule` 1: a lost hole), or with rule 3
 * (`rule` 3: any hole above HighRxt below the highest SACKed byte) and 4
 * (the rescue retransmission). Returns the rule that gave [*seq, *seq +
 * *len) (len at most SMSS, within one hole), or 0. */
int tw__tcp_sack_next_seg(const tw_tcp_conn *c, int rule, tw_seq_t *seq, uint32_t *len);
/* SetPipe (RFC 6675 §4): conn->pipe from the scoreboard. */
void tw__tcp_sack_set_pipe(tw_tcp_conn *c);
/* Retransmission after an RTO (go-back-N from SND.NXT): moves SND.NXT past
 * a SACKed range it stands at and returns how many bytes may go before the
 * next SACKed range (UINT32_MAX: no limit), RFC 6675 §5.1. */
uint32_t tw__tcp_sack_skip(tw_tcp_conn *c);

/* A soft error for this connection (RFC 9293 §3.9.2.2, MUST-47): ICMP
 * destination unreachable and the like, or retransmissions reaching R1.
 * Kept in soft_err; signalled (TW_CEV_SOFT_ERROR) unless the user turned
 * reports off (SHLD-20). The connection goes on. */
void tw_tcp_soft_error(tw_tcp_conn *c, int err);

/* tcp_user.c: the URG bit of an acceptable segment (RFC 9293 §3.10.7.4
 * sixth step): moves RCV.UP and raises TW_CEV_URGENT for a new run. */
void tw__tcp_urg_input(tw_tcp_conn *c, const tw_tcp_seg *seg);

/* tcp_ecn.c: Explicit Congestion Notification (RFC 3168 §6.1). */
/* The peer's SYN or SYN-ACK: is ECN in use (TW_TF_ECN)? */
void tw__tcp_ecn_syn_in(tw_tcp_conn *c, const tw_tcp_seg *seg);
/* ECE and CWR of our SYN or SYN-ACK. */
uint8_t tw__tcp_ecn_syn_flags(const tw_tcp_conn *c);
/* An acceptable segment in a synchronized state: CE and CWR (receiver). */
void tw__tcp_ecn_input(tw_tcp_conn *c, const tw_tcp_seg *seg);
/* After the ACK was taken: ECE cuts cwnd once per window (sender). */
void tw__tcp_ecn_ack(tw_tcp_conn *c, const tw_tcp_seg *seg, uint32_t flight);
/* cwnd was cut (ECE, RTO, fast retransmit, SACK recovery): CWR on the next
 * new data segment, and no cut for an ECE within this window (§6.1.2). */
void tw__tcp_ecn_cwnd_cut(tw_tcp_conn *c);
/* A data/ACK segment about to go: ECE, CWR and the ECT codepoint. */
void tw__tcp_ecn_mark(tw_tcp_conn *c, tw_tcp_seg *s, bool retrans);

/* tcp_keep.c: keep-alives (RFC 9293 §3.8.4, RFC 1122 §4.2.3.6) and the user
 * timeout (RFC 9293 §3.10.8, RFC 5482). */
/* A segment arrived: the peer is alive; restarts the idle time. */
void tw__tcp_keep_heard(tw_tcp_conn *c, tw_time_t now);
/* The keep-alive deadline passed: probe, wait, or give up. */
void tw__tcp_keep_timeout(tw_tcp_conn *c, tw_time_t now);
/* The user-timeout deadline passed: abort if data is still unacknowledged. */
void tw__tcp_user_timeout(tw_tcp_conn *c, tw_time_t now);

/* Per-connection settings (socket options). Each takes effect at once. */
/* Keep-alives on or off; idle/intvl 0 and cnt 0 keep the current values. */
void tw_tcp_set_keepalive(tw_tcp_conn *c, bool on, tw_time_t idle, tw_time_t intvl, uint8_t cnt,
                          tw_time_t now);
/* Abort when sent data stays unacknowledged longer than `ut` (0: never). */
void tw_tcp_set_user_timeout(tw_tcp_conn *c, tw_time_t ut, tw_time_t now);

/* The per-connection settings as one value (tcp_settings.c): what a socket
 * holds before it has a connection (tw_setsockopt on a new or listening
 * socket) and hands to its connection (tw_connect) or to the children of a
 * listener, which inherit them as BSD sockets do. */
enum {
    TW_SET_KEEPALIVE = 1,      /* SO_KEEPALIVE */
    TW_SET_DELACK_FIN = 2,     /* the three-way close switch */
    TW_SET_LINGER = 4,         /* SO_LINGER on (linger_s seconds) */
    TW_SET_NODELAY = 8,        /* TCP_NODELAY */
    TW_SET_REUSEADDR = 16,     /* SO_REUSEADDR (kept for getsockopt; see sockopt.c) */
    TW_SET_DELACK_SYNACK = 32, /* the deferred handshake ACK switch */
    TW_SET_QUIET_ERRORS = 64,  /* TW_SO_SOFT_ERRORS off */
};
typedef struct tw_tcp_settings {
    uint8_t bits; /* TW_SET_* */
    uint8_t ka_cnt;
    uint8_t ttl, tos; /* IPv4 TTL and TOS (MUST-49, MUST-48) */
    uint16_t linger_s;
    uint32_t rcvbuf, sndbuf; /* ring sizes, at most the stack's (cfg) */
    tw_time_t ka_idle, ka_intvl, user_timeout, fw2_timeout;
} tw_tcp_settings;

/* The settings a new connection of `cfg` starts with. */
void tw_tcp_settings_default(tw_tcp_settings *s, const tw_tcp_cfg *cfg);
/* The settings `c` has now. */
void tw_tcp_settings_get(const tw_tcp_conn *c, tw_tcp_settings *s);
/* Gives `c` the settings `s`. Ring sizes can change only before anything
 * was sent or received (CLOSED, LISTEN, or SYN_SENT before the SYN left):
 * returns -TW_EINVAL if they differ after that, having applied the rest. */
int tw_tcp_settings_apply(tw_tcp_conn *c, const tw_tcp_settings *s, tw_time_t now);
/* Resizes the rings (within the memory of cfg->rcvbuf / cfg->sndbuf) while
 * the connection is still fresh as above; -TW_EINVAL otherwise. */
int tw_tcp_set_bufs(tw_tcp_conn *c, uint32_t rcvbuf, uint32_t sndbuf);

#endif
