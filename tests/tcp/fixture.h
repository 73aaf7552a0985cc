/* fixture.h - the wire-level test fixture for one tw_tcp_conn (STYLE rule 15).
 *
 * A single global fixture `F` holds the configuration, the environment (a
 * trace sink that records state changes and timer firings, and the counters),
 * the connection with its buffers, and a virtual clock. Tests play the peer:
 * send_seg() hands a segment to tw_tcp_input() exactly as the stack does
 * (an RST for TW_ACT_DROP_WITH_RST, then tw_tcp_output()), and the segments
 * the connection emitted in that step are captured in F.out[] for
 * expect_seg() / expect_segs() / expect_silence().
 *
 * Numbering used throughout the tests:
 *   we are 198.18.0.1:40000, ISS 1000  -> our first data byte is 1001
 *   peer is 198.18.0.2:80,   ISS 5000  -> its first data byte is 5001
 * Each conn_<state>() helper drives a fresh connection to <state> through real
 * segments, 10 ms (FX_RTT) per peer reply, asserting every segment on the way;
 * it then zeroes the counters, clears the captured output and marks the
 * trace, so a test sees only what its own steps did. */
#ifndef TW_TESTS_TCP_FIXTURE_H
#define TW_TESTS_TCP_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "test.h"

#include <tcpwave/tw_errno.h>
#include <tcpwave/tw_stats.h>
#include <tcpwave/tw_trace.h>

#include "tcp/tcp.h"

/* Short flag names for readable expectations. */
enum {
    FIN = TW_TH_FIN,
    SYN = TW_TH_SYN,
    RST = TW_TH_RST,
    PSH = TW_TH_PSH,
    ACK = TW_TH_ACK,
    URG = TW_TH_URG,
};

#define FX_ISS 1000u
#define FX_PEER_ISS 5000u
#define FX_LADDR 0xC6120001u /* 198.18.0.1 */
#define FX_RADDR 0xC6120002u /* 198.18.0.2 */
#define FX_LPORT 40000
#define FX_RPORT 80
#define FX_WND 65535     /* window the peer advertises unless told otherwise */
#define FX_RTT TW_MS(10) /* time the helpers let pass before each peer reply */

#define FX_MAX_OUT 256
#define FX_MAX_EVENTS 256
#define FX_MAX_PAYLOAD 4096
#define FX_BUF_CAP (1u << 20) /* ring memory: room for window-scaled buffers */

/* One captured outgoing segment (payload copied). */
typedef struct fx_seg {
    tw_time_t t; /* F.now when it was emitted */
    uint32_t src_addr, dst_addr;
    uint16_t src_port, dst_port;
    uint8_t flags;
    uint32_t seq, ack, len;
    uint16_t wnd;
    uint16_t urp;   /* urgent pointer (0 unless URG) */
    uint8_t ip_tos; /* the IPv4 TOS octet, ECN codepoint in its low two bits */
    bool has_mss;
    uint16_t mss;
    tw_tcp_opts opt; /* every option the segment carried */
    unsigned meta;   /* TW_SEGMETA_* */
    uint8_t data[FX_MAX_PAYLOAD];
} fx_seg;

typedef struct fx_event {
    tw_time_t t;
    uint8_t kind;     /* TW_EV_STATE or TW_EV_TIMER */
    uint8_t from, to; /* STATE */
    uint8_t cause;    /* tw_cause (STATE) or tw_timer_kind (TIMER) */
} fx_event;

/* Knobs a test may set with fx_next() before calling a conn_*() helper. */
typedef struct fx_opts {
    tw_tcp_cfg cfg;
    uint32_t iss, peer_iss;
    uint16_t peer_wnd; /* window in the peer's SYN / SYN-ACK / handshake ACK */
    int peer_mss;      /* MSS option in the peer's SYN / SYN-ACK; -1 = none */
    int peer_ws;       /* window scale option in the peer's SYN / SYN-ACK; -1 = none */
    bool peer_ts;      /* timestamps option in the peer's SYN / SYN-ACK (TSval peer_tsval) */
    uint32_t peer_tsval;
    bool peer_sack; /* SACK-permitted in the peer's SYN / SYN-ACK */
} fx_opts;

typedef struct fixture {
    fx_opts o; /* what the current connection was built with */
    tw_tcp_env env;
    uint64_t counters[TW_C__COUNT];
    tw_tcp_conn c;
    tw_time_t now;

    fx_event ev[FX_MAX_EVENTS];
    int nev, mark; /* events recorded; first one after the last setup */

    fx_seg out[FX_MAX_OUT];
    int nout;           /* segments captured by the last step */
    int rsts;           /* of which answered a DROP_WITH_RST (tw_tcp_make_rst) */
    uint32_t syn_tsval; /* TSval of our SYN / SYN-ACK in the conn_*() setups */
} fixture;

extern fixture F;

/* ---- configuration ---- */
/* Defaults: tw_tcp_cfg_default, ISS 1000/5000, peer window 65535, peer MSS 1460. */
fx_opts fx_defaults(void);
/* Use `o` for the next conn_*() helper only (later helpers use defaults). */
void fx_next(const fx_opts *o);

/* ---- reaching a state through real segments ---- */
void conn_closed(void);
void conn_listen(void);
void conn_syn_sent(void);     /* active open: our SYN is out */
void conn_syn_received(void); /* passive open: peer SYN in, our SYN-ACK out */
void conn_established(void);  /* active open completed */
void conn_fin_wait_1(void);   /* ESTABLISHED + shutdown(): our FIN 1001 out */
void conn_fin_wait_2(void);   /* + ACK 1002 of our FIN */
void conn_closing(void);      /* FIN_WAIT_1 + peer FIN 5001 not acking ours */
void conn_time_wait(void);    /* FIN_WAIT_2 + peer FIN 5001 */
void conn_close_wait(void);   /* ESTABLISHED + peer FIN 5001 */
void conn_last_ack(void);     /* CLOSE_WAIT + close(): our FIN 1001 out */
/* Ends a setup: zero counters, clear output, mark the trace. */
void fx_settle(void);

/* ---- one step each; every step first clears F.out ---- */
/* The peer's segment with these fields, the rest zero (addresses are filled in
 * by the send_seg* calls). */
tw_tcp_seg fx_mkseg(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload, uint32_t len,
                    uint16_t wnd);
/* A segment from the peer (src 198.18.0.2:80). Runs tw_tcp_input, answers
 * TW_ACT_DROP_WITH_RST with tw_tcp_make_rst, then runs tw_tcp_output. */
tw_tcp_result send_seg(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload, uint32_t len,
                       uint16_t wnd);
/* Same, with an MSS option (mss < 0: none). */
tw_tcp_result send_seg_mss(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, int mss);
/* Same, with the options in `opt` (NULL: none). */
tw_tcp_result send_seg_opt(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload,
                           uint32_t len, uint16_t wnd, const tw_tcp_opts *opt);
/* The peer's pure ACK at SEQ FX_PEER_ISS + 1 with window `wnd` and n SACK
 * blocks l0, r0, l1, r1, ... (RFC 2018); SACK_ACK(ack, l0, r0, ...) offers
 * FX_WND. */
tw_tcp_result send_sack(uint32_t ack, uint16_t wnd, unsigned n, const uint32_t *lr);
#define SACK_ACK(ack, ...)                                                                         \
    send_sack((ack), FX_WND, sizeof((const uint32_t[]){__VA_ARGS__}) / (2 * sizeof(uint32_t)),     \
              (const uint32_t[]){__VA_ARGS__})
/* Same, for a segment the test built whole (e.g. parsed from a packet, with
 * its urgent pointer): the fixture fills in the addresses and ports. */
tw_tcp_result send_seg_raw(tw_tcp_seg *s);
/* Options of the peer's SYN / SYN-ACK as fx_opts describes them. */
tw_tcp_opts fx_peer_syn_opts(void);
/* Only a timestamps option: TSval, TSecr. */
tw_tcp_opts fx_ts(uint32_t tsval, uint32_t tsecr);
/* A segment with `len` payload bytes of the pattern fx_byte(seq + i). */
tw_tcp_result send_data(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd);
/* A segment from the peer with URG and urgent pointer `urp`, ACK 1001 and
 * `len` pattern bytes from `seq`, emitted as a packet and parsed back. */
tw_tcp_result send_urg(uint32_t seq, uint32_t len, uint16_t urp);
/* Runs tw_tcp_output (after a user call) and captures what it emits. */
int run_output(void);
/* Moves time forward by `d`, firing every timer whose deadline is reached
 * (each at its exact deadline) followed by tw_tcp_output. Captures all the
 * segments emitted over the whole interval. */
void advance(tw_time_t d);
/* advance() until the next deadline (which must exist and be in the future). */
void advance_to_deadline(void);

/* ---- user calls with data ---- */
/* Queues `n` pattern bytes numbered from our sequence number `seq` (the
 * data's first byte on the wire); returns tw_tcp_send's result. */
int user_send(uint32_t seq, uint32_t n);
/* Pattern byte for sequence number s, used for both directions. */
uint8_t fx_byte(uint32_t s);

/* ---- expectations (macros, so failures point at the test line) ---- */
#define expect_segs(n) fx_expect_segs(__FILE__, __LINE__, (n))
#define expect_silence() fx_expect_segs(__FILE__, __LINE__, 0)
#define expect_seg(i, flags, seq, ack, len)                                                        \
    fx_expect_seg(__FILE__, __LINE__, (i), (flags), (seq), (ack), (len))
/* Segment i carries the pattern bytes for its sequence numbers. */
#define expect_payload(i) fx_expect_payload(__FILE__, __LINE__, (i))
/* Comma-separated states (optionally STATE:CAUSE) since the last setup. */
#define expect_states(s) fx_expect_states(__FILE__, __LINE__, (s), false)
/* The same for every state event since the fixture was reset. */
#define expect_history(s) fx_expect_states(__FILE__, __LINE__, (s), true)
/* Timer firings since the last setup: "retransmit,delack,..." (tw_timer_name). */
#define expect_timers(s) fx_expect_timers(__FILE__, __LINE__, (s))
/* The reason counters (DROP_*, RST_*, CHALLENGE_ACK, ACK_NOW_OOO, TW_FIN_REACK,
 * TW_RST_IGNORED, TW_REUSE, FW2_TIMEOUT, CONN_TIMEDOUT, CONN_KEEPALIVE_TIMEDOUT,
 * CONN_USER_TIMEDOUT) that are non-zero,
 * "NAME" meaning 1 and "NAME=n" meaning n; "" = all zero. */
#define expect_counters(s) fx_expect_counters(__FILE__, __LINE__, (s))
#define expect_result(r, act, reason) fx_expect_result(__FILE__, __LINE__, (r), (act), (reason))
#define expect_state(s) fx_expect_state(__FILE__, __LINE__, (s))
/* Reads exactly n bytes (one recv call) and checks they are the pattern
 * starting at peer sequence number seq. */
#define expect_recv(seq, n) fx_expect_recv(__FILE__, __LINE__, (seq), (n))
/* The next deadline is exactly F.now + d (TW_TIME_NEVER: none). */
#define expect_deadline_in(d) fx_expect_deadline_in(__FILE__, __LINE__, (d))

void fx_expect_segs(const char *file, int line, int n);
void fx_expect_seg(const char *file, int line, int i, uint8_t flags, uint32_t seq, uint32_t ack,
                   uint32_t len);
void fx_expect_payload(const char *file, int line, int i);
void fx_expect_states(const char *file, int line, const char *want, bool all);
void fx_expect_timers(const char *file, int line, const char *want);
void fx_expect_counters(const char *file, int line, const char *want);
void fx_expect_result(const char *file, int line, tw_tcp_result r, tw_tcp_action act, int reason);
void fx_expect_state(const char *file, int line, tw_state s);
void fx_expect_recv(const char *file, int line, uint32_t seq, uint32_t n);
void fx_expect_deadline_in(const char *file, int line, tw_time_t d);

#endif
