/* analyze.h - owns the capture analyzer behind `tcpwave analyze`: reading
 * pcap/pcapng files through libpcap (an_pcap.c), splitting the TCP/IPv4
 * packets into connections and incarnations with one inferred close state
 * machine per endpoint (an_conn.c), the close kind and diagnoses of each
 * finished connection (an_diag.c), the text, JSON-lines and totals output
 * (an_out.c) and the trace events that let src/view draw a connection's
 * ladder (an_ladder.c).
 *
 * Streaming: packets are fed one at a time; a connection's record lives
 * while it is open or may still see packets (up to 2MSL after it closed),
 * then it is handed to the caller's callback and freed, so memory grows with
 * the number of open connections, not with the file size.
 *
 * The vantage point is the capture: a segment takes effect on its sender
 * when sent and on its receiver at the capture time. Each state an endpoint
 * is put in carries a mark:
 *   observed  the endpoint's own packets prove it (it sent the FIN, or it
 *             sent an ACK covering the segment that moved it)
 *   inferred  deduced from a packet it received (e.g. FIN_WAIT_2 on the ACK
 *             of its FIN), nothing it sent confirms it
 *   assumed   no packet at all: the start of a capture that begins mid-
 *             connection, TIME_WAIT ending after 2MSL. */
#ifndef TW_ANALYZE_H
#define TW_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "view/trace_json.h"

/* ---------------------------------------------------------------- reading */

typedef struct tw_an_pkt {
    uint64_t frame;    /* 1-based frame number in the file */
    uint64_t t;        /* ns since the epoch (the capture's timestamps) */
    uint32_t src, dst; /* host order */
    uint16_t sport, dport;
    uint32_t seq, ack, len; /* len: TCP payload bytes (from the IP length) */
    uint8_t flags;
    uint16_t wnd; /* raw window field */
    int8_t ws;    /* window scale option of a SYN, -1 when absent (RFC 7323 §2.2) */
    uint16_t mss; /* MSS option of a SYN, 0 when absent */
    uint8_t tos;  /* IPv4 TOS octet: the ECN field is its low two bits (RFC 3168 §5) */
} tw_an_pkt;

typedef struct tw_an_reader tw_an_reader;

/* Opens a pcap or pcapng file ("-" = standard input). 0, or -1 with a
 * message in err. */
int tw_an_open_file(const char *path, tw_an_reader **out, char *err, size_t cap);
/* Reads a capture from memory (the fuzz target). Same results. */
int tw_an_open_mem(const uint8_t *data, size_t n, tw_an_reader **out, char *err, size_t cap);
/* Next TCP/IPv4 packet: 1 with *p filled, 0 at the end of the file, -1 with
 * "frame N: ..." in err for a corrupt or truncated file. Frames that are
 * not TCP over IPv4 (ARP, IPv6, fragments, unparsable) are counted, not
 * returned. */
int tw_an_next(tw_an_reader *r, tw_an_pkt *p, char *err, size_t cap);
/* Frames read so far, and frames skipped as not TCP/IPv4. */
uint64_t tw_an_frames(const tw_an_reader *r);
uint64_t tw_an_skipped(const tw_an_reader *r);
/* Name of the file's link type ("EN10MB", "LINUX_SLL2", ...). */
const char *tw_an_linktype(const tw_an_reader *r);
void tw_an_close(tw_an_reader *r);

/* ---------------------------------------------------------------- model */

enum tw_an_mark { TW_AN_OBSERVED, TW_AN_INFERRED, TW_AN_ASSUMED };

typedef struct tw_an_step {
    uint8_t state;   /* tw_state */
    uint8_t mark;    /* tw_an_mark */
    uint8_t cause;   /* tw_cause, as the stack's trace would say */
    bool by_recv;    /* entered on a received segment */
    bool by_fin_ack; /* entered on the ACK of this side's FIN */
    bool need;       /* upgrades to observed when this side sends ack >= need_ack */
    uint32_t need_ack;
    uint64_t t, frame;
} tw_an_step;

#define TW_AN_PATH_MAX 24

typedef struct tw_an_side {
    uint32_t addr;
    uint16_t port;
    uint8_t state;
    tw_an_step path[TW_AN_PATH_MAX];
    uint8_t npath;
    bool have_isn;
    uint32_t isn;
    uint64_t pkts, bytes;
    /* its FIN */
    bool fin;
    uint32_t fin_seq; /* sequence number of the FIN itself */
    uint64_t fin_frame, fin_t, fin_last_frame;
    uint32_t fin_retrans;
    bool fin_retrans_after_ack; /* retransmitted after the peer's ACK of it was captured */
    bool fin_acked;             /* the peer's ACK of it was seen */
    uint64_t fin_ack_frame;
    bool merged;      /* its FIN carried the first ACK of the peer's FIN */
    bool fin_refused; /* the peer's ACK showed it outside its window: not taken yet */
    bool fin_changed; /* a later FIN with another sequence number */
    uint64_t fin_changed_frame;
    uint64_t data_after_fin; /* new payload bytes beyond its own FIN */
    uint64_t data_after_fin_frame;
    /* the peer's FIN as this side saw it */
    bool acked_peer_fin;
    uint64_t data_after_peer_fin; /* payload it sent after the peer's FIN */
    uint64_t data_after_peer_fin_frame;
    /* RSTs */
    bool rst;
    uint8_t rst_state;
    uint64_t rst_frame, rst_t;
    bool rst_unread; /* the peer's data was waiting when it reset (rst_verdict UNREAD) */
    bool rst_in_tw;  /* an RST reached it in TIME_WAIT */
    uint64_t rst_in_tw_frame;
    /* its SYN's options (RFC 7323 window scale: -1 none) */
    int8_t ws;
    uint16_t mss;
    /* ECN (RFC 3168): ECE/CWR of its SYN or SYN-ACK; its packets with an
     * ECN-capable or CE field, and its non-SYN segments with ECE or CWR */
    uint8_t syn_ecn;
    uint64_t ect, ce, ece, cwr;
    /* its receive window as its ACKs advertise it (RST segments excluded:
     * Linux frees unread data before it sends the reset), for telling a
     * close with unread data from an abort (RFC 9293 §3.10.4) */
    bool have_ack;
    bool reopened;          /* a window update (no new ACK) followed its last new ACK */
    uint32_t ack_max;       /* highest ACK it sent */
    uint32_t full_ack;      /* its ACK when the window last stood at its largest */
    uint32_t wnd_bytes_max; /* largest window (scaled when the scale is known) */
    uint16_t last_wnd;      /* raw window of its last ACK, and that frame */
    uint64_t last_ack_frame, reopen_frame;
    /* its RST: the verdict, the peer's bytes it never ACKed (pending), the
     * bytes its shrunk window shows it held (at least), the window's fall */
    uint8_t rst_verdict;  /* TW_AN_RST_* */
    bool rst_bytes_known; /* window scale known: the windows are bytes */
    uint32_t rst_held, rst_pending, rst_wnd_from, rst_wnd_to;
    /* window */
    uint16_t wnd, wnd_max;
    bool zero_wnd;
    uint64_t zero_wnd_frame, zero_wnd_t;
    /* its segments while the peer's window was zero: probes or
     * retransmissions, the sign that it has data queued (RFC 9293 §3.8.6.1) */
    uint32_t zw_probes;
    uint64_t zw_probe_frame;
    uint64_t last_data_frame, last_data_t;
    uint32_t snd_max;
    bool have_snd;
} tw_an_side;

/* What the wire says about an RST sent by an endpoint in a synchronized
 * state (an_seg.c rst_verdict): the peer's data provably still in its
 * buffer (its window fell to half or less as it ACKed them and never
 * reopened), nothing left unread (an abortive close, SO_LINGER 0), or the
 * wire cannot tell. */
enum { TW_AN_RST_NONE, TW_AN_RST_UNREAD, TW_AN_RST_ABORT, TW_AN_RST_UNKNOWN };

enum tw_an_kind {
    TW_AK_FOUR_WAY,
    TW_AK_THREE_WAY,
    TW_AK_SIMULTANEOUS,
    TW_AK_HALF_CLOSE,
    TW_AK_ABORT,
    TW_AK_FIN_RST,
    TW_AK_UNTERMINATED,
    TW_AK__COUNT
};

enum tw_an_diag_code {
    TW_AD_LONG_CLOSE_WAIT,
    TW_AD_FINAL_ACK_LOST,
    TW_AD_THREE_WAY,
    TW_AD_SIMULTANEOUS,
    TW_AD_UNREAD_RST,
    TW_AD_ABORT,
    TW_AD_TW_REUSE,
    TW_AD_RST_IN_TW,
    TW_AD_HALF_CLOSE,
    TW_AD_DATA_AFTER_FIN,
    TW_AD_FIN_SEQ_CHANGED,
    TW_AD_ZERO_WINDOW,
    TW_AD_UNTERMINATED,
    TW_AD_FIN_RETRANS,
    TW_AD_ABORT_OR_UNREAD, /* RST with the peer's data not ACKed: the wire cannot tell */
    TW_AD__COUNT
};

#define TW_AN_DIAG_MAX 12
#define TW_AN_DIAG_FRAMES 4

typedef struct tw_an_diag {
    int code; /* tw_an_diag_code */
    char text[320];
    uint64_t frames[TW_AN_DIAG_FRAMES];
    int nframes;
} tw_an_diag;

enum { TW_AN_REUSE_NONE, TW_AN_REUSE_ACCEPTED, TW_AN_REUSE_REFUSED, TW_AN_REUSE_PENDING };

typedef struct tw_an_conn {
    uint64_t no;          /* 1-based, in order of first packet */
    uint32_t incarnation; /* 1 for the first on its 4-tuple */
    tw_an_side s[2];      /* [0] client (sent the SYN, or the first packet), [1] server */
    bool syn_seen;
    uint64_t first_frame, last_frame, first_t, last_t;
    uint64_t capture_t0; /* time of the capture's first TCP frame (relative times) */
    /* this incarnation began on a 4-tuple whose previous one held TIME_WAIT */
    int reuse;      /* TW_AN_REUSE_* */
    int reuse_side; /* side that held TIME_WAIT */
    uint64_t reuse_syn_frame, reuse_answer_frame;
    /* the next incarnation ended this one's TIME_WAIT */
    bool reused_by_next;
    uint64_t next_syn_frame;
    /* decided when the record is finished */
    bool at_capture_end; /* still open or in TIME_WAIT when the capture ended */
    int kind;            /* tw_an_kind */
    int first_closer;    /* side that sent the first FIN or RST, -1 none */
    tw_an_diag diag[TW_AN_DIAG_MAX];
    int ndiag;
    struct tw_an_conn *next_in_bucket, *prev_all, *next_all; /* internal */
    size_t ladder_ix;                                        /* internal */
} tw_an_conn;

typedef struct tw_an_opts {
    uint64_t close_wait_ns; /* long CLOSE_WAIT threshold (default 5 s) */
    uint64_t msl_ns;        /* TIME_WAIT = 2 MSL (default 30 s, Linux's 60 s TIME_WAIT) */
    uint64_t zero_wnd_ns;   /* zero window long enough to call FIN_WAIT_1 stuck (default 5 s) */
    uint64_t ladder_conn;   /* keep the events of this connection (0: none) */
} tw_an_opts;

void tw_an_opts_default(tw_an_opts *o);

/* Called once per finished connection, in the order they finish (at the
 * end of the capture: in number order). The record is freed after it. */
typedef void (*tw_an_conn_fn)(void *ctx, const tw_an_conn *c);

typedef struct tw_an tw_an;

/* 0, or -1 when out of memory. */
int tw_an_new(const tw_an_opts *o, tw_an_conn_fn fn, void *ctx, tw_an **out);
/* 0, or -1 when out of memory. */
int tw_an_feed(tw_an *a, const tw_an_pkt *p);
/* The capture ended: finishes every remaining connection. 0 or -1 (OOM). */
int tw_an_finish(tw_an *a);
/* Connections seen so far. */
uint64_t tw_an_count(const tw_an *a);
/* The trace events of connection opts.ladder_conn once it finished (NULL
 * before, or when it does not exist): SEG_OUT at the sender and SEG_IN at
 * the receiver for each packet, STATE for each inferred state, client =
 * host 0, server = host 1. */
const tw_vev_list *tw_an_ladder_events(const tw_an *a);
void tw_an_free(tw_an *a);

/* ---------------------------------------------------------------- internal (an_*.c) */

void tw_an_side_push(tw_an_side *s, uint8_t state, uint8_t mark, uint8_t cause, uint64_t t,
                     uint64_t frame, bool by_recv);
/* The effect of a captured segment on its sender (side si) and on its
 * receiver (an_seg.c). */
void tw_an_on_send(tw_an_conn *c, int si, const tw_an_pkt *p);
void tw_an_on_recv(tw_an_conn *c, int ri, const tw_an_pkt *p);
/* Close kind, first closer and diagnoses of a finished record. */
void tw_an_diagnose(tw_an_conn *c, const tw_an_opts *o);
/* Ladder events of one record: segment events collected while streaming
 * plus its states, sorted. 0 or -1 (OOM). */
typedef struct tw_an_lev {
    uint64_t frame;
    int stage; /* 0 sender state, 1 SEG_OUT, 2 SEG_IN, 3 receiver state */
    tw_vev v;
} tw_an_lev;
typedef struct tw_an_levs {
    tw_an_lev *v;
    size_t n, cap;
} tw_an_levs;
int tw_an_ladder_seg(tw_an_levs *l, const tw_an_conn *c, int from, const tw_an_pkt *p);
int tw_an_ladder_finish(tw_an_levs *l, const tw_an_conn *c, tw_vev_list *out);

/* ---------------------------------------------------------------- output (an_out.c) */

const char *tw_an_kind_name(int k); /* "four-way close", ... */
const char *tw_an_kind_key(int k);  /* "four_way", ... (JSON) */
const char *tw_an_diag_key(int d);  /* "long_close_wait", ... */
const char *tw_an_mark_name(int m); /* "observed", "inferred", "assumed" */
/* "ip.addr==A && tcp.port==P && ip.addr==B && tcp.port==Q" into buf. */
const char *tw_an_filter(const tw_an_conn *c, char *buf, size_t cap);

/* Whether the handshake set ECN up (RFC 3168 §6.1.1): the client's SYN had
 * ECE and CWR, the server's SYN-ACK ECE alone. */
bool tw_an_ecn_negotiated(const tw_an_conn *c);

#include "view/sbuf.h"
/* Times in the text: seconds since the capture's first TCP frame, or
 * absolute ISO 8601 UTC (the JSON carries both). */
enum { TW_AN_TIME_REL, TW_AN_TIME_ABS };
void tw_an_text(const tw_an_conn *c, int time_mode, tw_sbuf *out);
/* ISO 8601 UTC with microseconds, "2024-05-01T04:58:41.613442Z", of a time
 * in ns since the epoch. */
const char *tw_an_iso_time(uint64_t t_ns, char *buf, size_t cap);
void tw_an_json(const tw_an_conn *c, tw_sbuf *out);

/* Totals over finished connections, for --stats. */
#define TW_AN_STAT_MAX 64
typedef struct tw_an_stats {
    uint64_t conns, kinds[TW_AK__COUNT], diags[TW_AD__COUNT];
    struct {
        uint16_t port;
        uint64_t n, total_ns, max_ns;
    } cw[TW_AN_STAT_MAX]; /* CLOSE_WAIT per server port */
    size_t ncw;
    struct {
        uint32_t addr;
        uint64_t n, total_ns;
        uint64_t server_side;
    } tw[TW_AN_STAT_MAX]; /* TIME_WAIT per client */
    size_t ntw;
    uint64_t cw_other, tw_other; /* entries beyond the tables */
} tw_an_stats;
void tw_an_stats_add(tw_an_stats *st, const tw_an_conn *c, const tw_an_opts *o);
void tw_an_stats_text(const tw_an_stats *st, tw_sbuf *out);
/* Time spent in the step k of a side's path (up to the next step, or to the
 * record's end for the last one). */
uint64_t tw_an_dwell(const tw_an_conn *c, int side, int k);

#endif
