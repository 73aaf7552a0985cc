/* fuzz_stack.c - libFuzzer target for the TCP state machine of a whole stack.
 *
 * Each input is a little program driving ONE stack (198.18.0.2) whose link is
 * a capture link: every packet the stack sends is parsed and checked on the
 * spot, and the latest sequence numbers per 4-tuple ("flow") are kept so the
 * program can answer with plausible SEQ/ACK values and reach deep states.
 * The fuzzer plays every peer (198.18.0.1 and 198.18.0.3).
 *
 * Input layout (all integers little-endian; a short input reads as zeros):
 *   byte 0  prologue: low nibble % 11 picks the state one connection is
 *           brought to through real segments before the program runs:
 *           none, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1,
 *           FIN_WAIT_2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK.
 *           0x10 active side (we connect) instead of passive (we listen),
 *           0x20 shutdown(WR) instead of close (keeps the handle),
 *           0x40 exchange 100 bytes each way once ESTABLISHED,
 *           0x80 the peer's SYN also carries WS, SACK_OK and TS.
 *   byte 1  configuration: 0x01 MSS 536 (else 1460), 0x02 delayed ACK off,
 *           0x04 delack_fin, 0x08 Nagle off, 0x30 receive buffer
 *           {65535, 8192, 1024, 200}, 0xc0 send buffer (same sizes).
 *   byte 2  seed (0x1f; seed & 4 picks CUBIC over NewReno; seed % 3 is the
 *           ECN mode: off, on, passive, and
 *           with ECN not off the peers' packets cycle through the four
 *           ECN codepoints); 0x20 deferred input: after the prologue, segments
 *           go in through tw_stack_input_deferred() and the stack is not
 *           polled after an operation that only delivered packets, so a run
 *           of them is one batch answered at the next poll (MUST-59);
 *           0x40 max_conns 3 (else 64), 0x80 max_time_wait 1 (else 32)
 *   u32     the peer's ISN in the prologue
 *   then up to 256 operations, one opcode byte (% OP__COUNT) each, see
 *   run_op(): advance time (<= 65 s, stopping at every timer), a segment
 *   from a peer (flags, SEQ/ACK raw or relative to what the stack sent or
 *   what the peer sent, window, payload consistent or raw, MSS/WS/SACK_OK/
 *   TS/SACK/garbage options), raw bytes as a packet, socket/bind/listen/
 *   connect/accept/send/recv/shutdown/close/abort/nodelay/info on 8 handle
 *   slots (or a stale generation, or any value), "ACK everything" (with
 *   FIN, payload, zero window, or an RST instead), the last packet again,
 *   and ICMP (echo, or an error quoting the stack's latest segment). After
 *   every operation the stack is polled at the current time and every
 *   invariant below is checked.
 *
 * Invariants (a violation prints a message and calls abort()):
 *  - tw__stack_check(); every connection that is not CLOSED is found in the
 *    4-tuple table, and so is every TIME_WAIT record; slot <-> socket,
 *    listener and accept-queue links agree; live slots == tw_stack_conn_count;
 *    a connection's wheel entry is armed exactly at its earliest deadline;
 *  - SND.UNA <= SND.NXT <= SND.MAX, and SND.MAX - SND.UNA never exceeds the
 *    buffered data plus SYN and FIN;
 *  - an RST delivered to the stack is never answered with an RST;
 *  - every packet sent parses with tw_packet_parse (checksums included) and
 *    comes from our address; payload bytes the stack sends are exactly the
 *    bytes the application queued at those sequence numbers; per connection
 *    incarnation its ACK never goes back nor covers peer bytes that were not
 *    delivered in order, no data goes past the largest window edge the peer
 *    offered (but a 1-byte probe), and the FIN never moves nor has data after
 *    it;
 *  - tw_recv returns the peer's bytes in order: never more in total than
 *    were delivered at in-order sequence positions from IRS+1, with the very
 *    bytes delivered (the fuzzer's payloads are a function of the sequence
 *    number unless raw bytes were used, which disables the content check for
 *    that 4-tuple); end of stream only where a FIN was delivered;
 *  - every traced state move is legal (tw_tcp_move_legal), continues from the
 *    previous state of that connection, and nothing moves after CLOSED;
 *  - TIME_WAIT only ends early when a new connection takes over its 4-tuple,
 *    and then with an ISS above the old incarnation's SND.NXT;
 *  - an ICMP message changes no connection's state, except that a protocol
 *    or port unreachable quoting a SEQ in flight ends a SYN_SENT connection
 *    (RFC 9293 MUST-56, SHLD-26; RFC 5927);
 *  - no connection that still has its socket dies of the retransmission
 *    timeout while its peer is answering with a zero window (RFC 9293
 *    §3.8.6.1, RFC 1122 §4.2.2.17; RFC 6429 lets orphans go);
 *  - after the program: everything closed and 10 minutes of virtual time
 *    later there is no connection and no TIME_WAIT record left; then the
 *    stack is freed (LeakSanitizer reports anything left behind).
 *
 * Build: ./tw build fuzz (build/fuzz/fuzz/fuzz_stack), or replay_stack in any
 * build. Run: fuzz_stack -max_len=4096 /tmp/new_corpus fuzz/corpus/stack
 * FUZZ_STACK_VERBOSE=1 prints every packet, state move and user call. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tcpwave.h>

#include "stack/stack.h"
#include "tcp/tcp.h"
#include "util/ring.h"
#include "util/time.h"
#include "util/wheel.h"
#include "wire/cksum.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ST_ADDR 0xc6120002u    /* 198.18.0.2: the stack */
#define PEER_ADDR 0xc6120001u  /* 198.18.0.1: the usual peer */
#define PEER2_ADDR 0xc6120003u /* 198.18.0.3: a second peer */
#define SRV_PORT 80
#define PEER_SVC_PORT 5000
#define PEER_CLI_PORT 40000

#define MAX_OPS 256
#define MAX_FLOWS 16
#define MAX_IV 256
#define MAX_FIN 32
#define NSLOTS 8
#define MAX_HANDLES 512
#define MAX_IDS 4096
#define MAX_PAYLOAD 4095
#define PKT_CAP (20 + 60 + 65536)
#define MAX_USER_IO 16384
#define ADVANCE_GUARD 100000u
#define CLEANUP_TIME TW_SEC(600)
#define RTO_MAX TW_SEC(10)
#define ZW_GRACE (2 * RTO_MAX)

/* ------------------------------------------------------------ state */

/* What we know about one 4-tuple: the stack's side as seen in its output,
 * our side as delivered, and which peer bytes/FINs went in. */
typedef struct flow {
    uint32_t raddr;
    uint16_t lport, rport;
    /* stack -> peer, for the incarnation st_conn (conn id, 0 = none) */
    uint32_t st_conn;
    bool st_fin; /* st_fin_seq: SEQ of the stack's FIN */
    uint32_t st_fin_seq;
    bool st_ack_mono; /* st_last_ack belongs to st_conn */
    bool st_syn, st_seen, st_ack;
    uint32_t st_iss;      /* SEQ of the stack's SYN / SYN-ACK */
    uint32_t st_last_seq; /* SEQ of its latest non-RST segment */
    uint32_t st_max_end;  /* highest SEQ + SEG.LEN seen (its SND.MAX) */
    uint32_t st_last_ack; /* ACK of its latest segment (its RCV.NXT) */
    /* peer -> stack */
    bool peer_syn;
    uint32_t peer_iss, peer_nxt;
    uint32_t niv;
    bool iv_full;
    struct {
        uint32_t s, len;
    } iv[MAX_IV]; /* payload delivered: absolute SEQ ranges */
    uint32_t nfin;
    bool fin_full;
    uint32_t fin[MAX_FIN]; /* SEQ of every FIN delivered */
    bool tainted;          /* some payload byte was not pat_peer(seq) */
    bool edge_valid;       /* peer_edge: largest ACK + WND the peer ever sent */
    uint32_t peer_edge;
    bool pend_valid;    /* pend_edge: largest ACK + WND since the stack's latest segment */
    uint32_t pend_edge; /* on this flow and the peer's latest SYN or RST */
    uint8_t peer_ws;    /* window scale offered by the peer's latest SYN that could
                           start a connection (RFC 7323): its non-SYN windows count
                           up to WND << peer_ws bytes */
    bool zw;            /* the peer's latest ACK at RCV.NXT closed the window ... */
    uint64_t zw_t;      /* ... at this time ... */
    uint32_t zw_conn;   /* ... of this incarnation (conn id) */
} flow;

/* Every handle tw_socket/tw_accept ever returned, with its stream offsets. */
typedef struct hent {
    int val;
    uint32_t recv_total, sent_total;
} hent;

static struct {
    tw_stack *st;
    tw_link link;
    uint64_t now;
    flow flows[MAX_FLOWS];
    uint32_t nflows;
    hent hs[MAX_HANDLES];
    uint32_t nhs;
    int slot[NSLOTS]; /* handle values the program refers to (possibly stale) */
    uint8_t idstate[MAX_IDS];
    uint32_t out_pkts, out_rst; /* counted by the capture link */
    flow *last_out;
    size_t last_in_len;
    int opi, prologue;
    bool deferred; /* b2 & 0x20: segments in through tw_stack_input_deferred() */
} G;

/* Big buffers, kept out of G so that resetting G stays cheap. */
static struct {
    uint8_t last_in[PKT_CAP]; /* the latest packet delivered, for OP_DUP */
    uint8_t pkt[PKT_CAP];
    uint8_t io[MAX_USER_IO];
    uint8_t pay[MAX_PAYLOAD + 1];
    uint8_t raw[MAX_PAYLOAD + 1];
    uint64_t counters_before[TW_C__COUNT]; /* verbose: the counters before an op */
} B;

/* FUZZ_STACK_VERBOSE=1 in the environment prints every packet, state move
 * and user call to stderr (for analysing a reproducer). */
static int verbose = -1;

#define ID_UNKNOWN 0xff
#define ID_DEAD 0xfe

/* ------------------------------------------------------------ helpers */

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void
fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_stack: invariant violated (prologue %d, op %d, t=%llu ns): ", G.prologue,
            G.opi, (unsigned long long)G.now);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

/* The harness's own byte loops (reading the input, filling and checking
 * payloads) are kept out of libFuzzer's coverage and comparison tracing:
 * they are the oracle, not the code under test, and traced they cost a
 * fifth of every execution. UBSan's pointer-overflow checks are left out
 * too: on every byte they kept the fills from vectorizing (10% of a
 * campaign); the loops index fixed buffers within bounds the callers set. */
#if defined(__clang__)
#define HARNESS_LOOP __attribute__((no_sanitize("coverage", "undefined"), noinline))
#else
#define HARNESS_LOOP
#endif

typedef struct reader {
    const uint8_t *p;
    size_t n, i;
} reader;

HARNESS_LOOP static uint8_t rd8(reader *r) {
    return r->i < r->n ? r->p[r->i++] : 0;
}
static uint16_t rd16(reader *r) {
    uint16_t lo = rd8(r);
    return (uint16_t)(lo | (uint16_t)(rd8(r) << 8));
}
static uint32_t rd32(reader *r) {
    uint32_t lo = rd16(r);
    return lo | (uint32_t)rd16(r) << 16;
}

static void put16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool sgt(uint32_t a, uint32_t b) {
    return (int32_t)(a - b) > 0;
}

/* The byte a consistent peer sends at absolute sequence number `seq`, and
 * the byte the application queues at stream offset `off` (from ISS+1). */
static uint8_t pat_peer(uint32_t seq) {
    return (uint8_t)((seq * 2654435761u) >> 24);
}
static uint8_t pat_user(uint32_t off) {
    return (uint8_t)(((off ^ 0x9e3779b9u) * 2246822519u) >> 23);
}

HARNESS_LOOP static void fill_user(uint8_t *buf, uint32_t base, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) buf[i] = pat_user(base + i);
}
HARNESS_LOOP static void fill_peer(uint8_t *buf, uint32_t seq, uint32_t len) {
    for (uint32_t i = 0; i < len; i++) buf[i] = pat_peer(seq + i);
}

/* Index of the first byte of p[0..len) that is not the peer's pattern from
 * `seq` on (the user's pattern from stream offset `seq` if user), or len. */
HARNESS_LOOP static uint32_t pat_mismatch(const uint8_t *p, uint32_t seq, uint32_t len, bool user) {
    /* Chunks of the expected bytes are made by the (vectorized) fills and
     * compared with memcmp; only a chunk that differs is walked byte by byte. */
    uint8_t want[256];
    for (uint32_t i = 0; i < len; i += (uint32_t)sizeof want) {
        uint32_t n = len - i < (uint32_t)sizeof want ? len - i : (uint32_t)sizeof want;
        if (user)
            fill_user(want, seq + i, n);
        else
            fill_peer(want, seq + i, n);
        if (memcmp(p + i, want, n) == 0) continue;
        uint32_t k = 0;
        while (want[k] == p[i + k]) k++;
        return i + k;
    }
    return len;
}

static const char *sname(int s) {
    return tw_state_name(s);
}

/* Verbose only: the counters an op moved (drop and RST reasons above all),
 * which tell why the stack answered a segment as it did. */
static void vlog_counters(void) {
    if (!G.st) return;
    for (int i = 0; i < TW_C__COUNT; i++) {
        uint64_t d = G.st->counters[i] - B.counters_before[i];
        if (d) fprintf(stderr, "  counter %s +%llu\n", tw_counter_name(i), (unsigned long long)d);
    }
}

static void vlog_seg(const char *dir, const tw_tcp_seg *s) {
    if (!verbose) return;
    char fl[48];
    fprintf(stderr, "  [t=%llu ms] %s %u -> %u %s seq %u ack %u wnd %u len %u\n",
            (unsigned long long)(G.now / 1000000u), dir, s->src_port, s->dst_port,
            tw_tcp_flags_str(s->flags, fl, sizeof fl), s->seq.v, s->ack.v, s->wnd, s->len);
}

/* ------------------------------------------------------------ flows */

static flow *flow_find(uint32_t raddr, uint16_t lport, uint16_t rport) {
    for (uint32_t i = 0; i < G.nflows; i++) {
        flow *f = &G.flows[i];
        if (f->raddr == raddr && f->lport == lport && f->rport == rport) return f;
    }
    return NULL;
}

/* Flows are never forgotten: if one is missing when a packet passes, it is
 * missing for good, so the per-flow checks never see a partial history. */
static flow *flow_get(uint32_t raddr, uint16_t lport, uint16_t rport) {
    flow *f = flow_find(raddr, lport, rport);
    if (f || G.nflows == MAX_FLOWS) return f;
    f = &G.flows[G.nflows++];
    memset(f, 0, sizeof *f);
    f->raddr = raddr;
    f->lport = lport;
    f->rport = rport;
    return f;
}

static void iv_add(flow *f, uint32_t s, uint32_t len) {
    if (len == 0 || f->iv_full) return;
    for (uint32_t i = 0; i < f->niv; i++) {
        uint32_t off = s - f->iv[i].s;
        if (off <= f->iv[i].len && (uint64_t)off + len <= f->iv[i].len) return; /* covered */
        if (off == f->iv[i].len && (uint64_t)f->iv[i].len + len < (1u << 30)) {
            f->iv[i].len += len; /* extends it */
            return;
        }
    }
    if (f->niv == MAX_IV) {
        f->iv_full = true;
        return;
    }
    f->iv[f->niv].s = s;
    f->iv[f->niv].len = len;
    f->niv++;
}

typedef struct rel_iv {
    int64_t s, e;
} rel_iv;

static int rel_cmp(const void *a, const void *b) {
    const rel_iv *x = a, *y = b;
    return (x->s > y->s) - (x->s < y->s);
}

/* Bytes delivered at consecutive positions from `base` (= IRS+1). */
static uint64_t iv_prefix(const flow *f, uint32_t base) {
    rel_iv v[MAX_IV];
    uint32_t n = 0;
    for (uint32_t i = 0; i < f->niv; i++) {
        int64_t s = (int32_t)(f->iv[i].s - base);
        int64_t e = s + f->iv[i].len;
        if (e <= 0) continue;
        if (s < 0) s = 0;
        v[n].s = s;
        v[n].e = e;
        n++;
    }
    qsort(v, n, sizeof v[0], rel_cmp);
    int64_t pos = 0;
    for (uint32_t i = 0; i < n && v[i].s <= pos; i++)
        if (v[i].e > pos) pos = v[i].e;
    return (uint64_t)pos;
}

/* Whether the 4-tuple of peer segment s belongs to a connection that has
 * already taken a SYN from the peer (SYN_RECEIVED up to, not including,
 * TIME_WAIT). Such a connection keeps the window scale of that SYN: a later
 * SYN is a duplicate or an attack, answered with an ACK (RFC 9293
 * §3.10.7.4, RFC 5961 §4), and renegotiates nothing (RFC 7323 §2.2). Any
 * other SYN (to a listener, to SYN_SENT, to TIME_WAIT) may start the
 * incarnation whose windows it scales. */
static bool synchronized_conn(const tw_tcp_seg *s) {
    uint32_t e = tw__table_lookup(G.st, s->src_addr, s->dst_port, s->src_port);
    if (e == TW_NIL || (e & TW_TWBIT)) return false;
    int st = tw__slot(G.st, e)->c.state;
    return st >= TW_SYN_RECEIVED && st < TW_TIME_WAIT;
}

/* Bookkeeping for a packet about to be delivered to the stack. */
static void note_delivered(const tw_tcp_seg *s) {
    flow *f = flow_get(s->src_addr, s->dst_port, s->src_port);
    if (!f) return;
    bool syn = s->flags & TW_TH_SYN, fin = s->flags & TW_TH_FIN;
    uint32_t dstart = s->seq.v + (syn ? 1u : 0u);
    if (s->len) {
        iv_add(f, dstart, s->len);
        if (!f->tainted && pat_mismatch(s->payload, dstart, s->len, false) != s->len)
            f->tainted = true;
    }
    if (fin) {
        uint32_t fs = dstart + s->len;
        bool known = false;
        for (uint32_t i = 0; i < f->nfin; i++) known |= f->fin[i] == fs;
        if (!known) {
            if (f->nfin == MAX_FIN)
                f->fin_full = true;
            else
                f->fin[f->nfin++] = fs;
        }
    }
    if (s->flags & TW_TH_RST) {
        f->pend_valid = false;
        return;
    }
    if (syn) f->pend_valid = false;
    if (syn && !synchronized_conn(s)) f->peer_ws = s->opt.has_ws ? s->opt.ws : 0;
    /* Only an ACK of something the stack sent can move its send window: a
     * garbage ACK field (dropped by the stack as too new or too old) must
     * not wrap the recorded edge around the sequence space. */
    if ((s->flags & TW_TH_ACK) && f->st_syn && sgt(s->ack.v, f->st_iss) &&
        !sgt(s->ack.v, f->st_max_end)) {
        /* The stack scales the window of a non-SYN segment when both SYNs
         * carried WS; the peer's offer bounds that from above. */
        uint32_t edge = s->ack.v + (syn ? s->wnd : (uint32_t)s->wnd << f->peer_ws);
        if (!f->edge_valid || sgt(edge, f->peer_edge)) f->peer_edge = edge;
        f->edge_valid = true;
        if (!f->pend_valid || sgt(edge, f->pend_edge)) f->pend_edge = edge;
        f->pend_valid = true;
    }
    if ((s->flags & TW_TH_ACK) && !syn) {
        /* A live receiver answering with a zero window: an acceptable ACK
         * (SEQ = the stack's RCV.NXT, ACK within what it sent and not below
         * what is already acknowledged: an older ACK is an old duplicate,
         * whose window the stack rightly ignores, RFC 9293 §3.10.7.4) that
         * is a window update by the same section's rule: it acks new data,
         * or SND.WL1 < SEG.SEQ, or SND.WL1 = SEG.SEQ and SND.WL2 =< SEG.ACK.
         * After an acceptable segment beyond RCV.NXT has set SND.WL1, a
         * zero window sent at RCV.NXT is older by that rule and the stack
         * keeps sending into the window it has (found by fuzz_stack). */
        bool ok = f->st_ack && s->seq.v == f->st_last_ack && f->st_syn &&
                  sgt(s->ack.v, f->st_iss) && !sgt(s->ack.v, f->st_max_end);
        uint32_t e = tw__table_lookup(G.st, s->src_addr, s->dst_port, s->src_port);
        uint32_t conn_id = 0;
        if (e == TW_NIL || (e & TW_TWBIT)) ok = false; /* no connection to answer for */
        if (ok) {
            const tw_tcp_conn *c = &tw__slot(G.st, e)->c;
            conn_id = c->id;
            bool acks_new = sgt(s->ack.v, c->snd_una.v);
            bool update = acks_new || sgt(s->seq.v, c->snd_wl1.v) ||
                          (s->seq.v == c->snd_wl1.v && !sgt(c->snd_wl2.v, s->ack.v));
            /* ... and acceptable for this incarnation: the flow's record of
             * what the stack sent spans every connection on the 4-tuple. */
            if (sgt(c->snd_una.v, s->ack.v) || sgt(s->ack.v, c->snd_max.v) || !update) ok = false;
            /* ... and to an incarnation that has taken the peer's SYN: SYN_SENT
             * drops a segment with neither SYN nor RST (RFC 9293 §3.10.7.3),
             * and the flow's SEQ record may be a former incarnation's (found
             * by fuzz_stack). */
            if (c->state < TW_SYN_RECEIVED || c->state >= TW_TIME_WAIT) ok = false;
            /* ... and not an old duplicate by its timestamp: PAWS (RFC 7323
             * §5.3 R1) drops a TSval below TS.Recent before the ACK is
             * looked at (the clock here never nears TS.Recent's 24-day
             * expiry). Found by fuzz_stack: twenty such ACKs, each dropped
             * and answered with an ACK, were taken as a live zero window. */
            if ((c->xopts & TW_XO_TS) && s->opt.has_ts &&
                (int32_t)(s->opt.tsval - c->ts_recent) < 0)
                ok = false;
        }
        if (s->wnd == 0 && ok) {
            f->zw = true;
            f->zw_t = G.now;
            f->zw_conn = conn_id;
        } else if (s->wnd != 0) {
            f->zw = false;
        }
    }
    uint32_t end = s->seq.v + tw_seg_seqlen(s);
    if (syn || !f->peer_syn) { /* (re)start our side of the flow */
        f->peer_syn = true;
        f->peer_iss = s->seq.v;
        f->peer_nxt = end;
    } else if (sgt(end, f->peer_nxt) && end - f->peer_nxt < (1u << 24)) {
        f->peer_nxt = end;
    }
}

/* ------------------------------------------------------------ capture link */

/* Checks a non-RST segment the stack sends on flow f against what the peer
 * delivered and what this incarnation sent before. */
static void check_out(flow *f, const tw_tcp_seg *s) {
    uint32_t e = tw__table_lookup(G.st, f->raddr, f->lport, f->rport);
    const tw_tcp_conn *c = NULL;
    uint32_t id = 0;
    if (e != TW_NIL && (e & TW_TWBIT)) {
        id = G.st->tw[e & ~TW_TWBIT].id;
    } else if (e != TW_NIL) {
        c = &tw__slot(G.st, e)->c;
        id = c->id;
    }
    if (id != f->st_conn || id == 0) {
        /* Another incarnation: start over. Id 0 is a stateless answer (a SYN
         * cookie SYN-ACK for a full listener): each answers its own SYN, so
         * nothing carries over from one to the next. Except into the
         * connection that the latest cookie's ACK created (the same ISS): the
         * windows the peer offered since that SYN-ACK are its own. */
        bool from_cookie = f->st_conn == 0 && c && f->st_syn && c->iss.v == f->st_iss;
        f->st_conn = id;
        f->st_fin = f->st_ack_mono = false;
        if (from_cookie) {
            /* keep */
        } else if (c && !(s->flags & TW_TH_SYN)) {
            /* A connection whose first segment is no SYN was made by a SYN
             * cookie's ACK (RFC 4987 §3.6), maybe long after the cookie's
             * SYN-ACK and after another connection from the same cookie:
             * the windows offered since the stack's previous segment on
             * the 4-tuple (and since the peer's latest SYN or RST) include
             * that ACK's, and are this connection's. */
            f->edge_valid = f->pend_valid;
            f->peer_edge = f->pend_edge;
        } else {
            f->edge_valid = false;
        }
    }
    char fl[48];
    tw_tcp_flags_str(s->flags, fl, sizeof fl);
    if (s->flags & TW_TH_ACK) {
        if (f->st_ack_mono && sgt(f->st_last_ack, s->ack.v))
            fail("conn %u (%u -> %u) sent %s with ACK %u below its earlier ACK %u", id, s->src_port,
                 s->dst_port, fl, s->ack.v, f->st_last_ack);
        f->st_ack_mono = true;
        /* RCV.NXT covers only bytes delivered in order from IRS+1, plus a FIN. */
        if (c && c->state >= TW_ESTABLISHED && !f->iv_full && !f->fin_full) {
            uint32_t base = c->irs.v + 1;
            uint64_t pre = iv_prefix(f, base);
            bool fin_there = false;
            for (uint32_t i = 0; i < f->nfin; i++) fin_there |= f->fin[i] == base + (uint32_t)pre;
            int64_t off = (int32_t)(s->ack.v - base);
            if (off > (int64_t)pre + (fin_there ? 1 : 0))
                fail("conn %u (%u -> %u) sent %s with ACK %u, IRS+1+%lld, but only %llu bytes%s "
                     "were "
                     "delivered in order",
                     id, s->src_port, s->dst_port, fl, s->ack.v, (long long)off,
                     (unsigned long long)pre, fin_there ? " and a FIN" : "");
        }
    }
    if (s->flags & TW_TH_SYN) return;
    uint32_t end = s->seq.v + s->len;
    if (s->len && f->edge_valid && sgt(end, f->peer_edge) &&
        !(s->len == 1 && end == f->peer_edge + 1))
        fail("conn %u (%u -> %u) sent data up to SEQ %u, past the largest window edge %u the peer "
             "ever offered",
             id, s->src_port, s->dst_port, end, f->peer_edge);
    if (s->len && f->st_fin && sgt(end, f->st_fin_seq))
        fail("conn %u (%u -> %u) sent data up to SEQ %u after its FIN at %u", id, s->src_port,
             s->dst_port, end, f->st_fin_seq);
    if (s->flags & TW_TH_FIN) {
        if (f->st_fin && end != f->st_fin_seq)
            fail("conn %u (%u -> %u) sent its FIN at SEQ %u, earlier at %u", id, s->src_port,
                 s->dst_port, end, f->st_fin_seq);
        f->st_fin = true;
        f->st_fin_seq = end;
    }
}

static int cap_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)l;
    (void)now;
    tw_tcp_seg s;
    int rc = tw_packet_parse(pkt, len, &s);
    if (rc == TW_C_DROP_IP_PROTO) { /* ICMP: an echo reply; checksums must hold */
        tw_ipv4_view v;
        tw_ipv4_hdr ip;
        tw_icmp_msg m;
        if (tw_ipv4_view_init(&v, pkt, len) || tw_ipv4_parse(&v, &ip) ||
            ip.proto != TW_IPPROTO_ICMP || tw_icmp_parse(ip.payload, ip.payload_len, &m))
            fail("the stack sent a non-TCP packet (%zu bytes) that is no valid ICMP message", len);
        if (ip.src != ST_ADDR) fail("the stack sent ICMP from address %08x", ip.src);
        if (m.type != TW_ICMP_ECHO_REPLY) fail("the stack sent ICMP type %u", m.type);
        G.out_pkts++;
        if (verbose) fprintf(stderr, "  OUT ICMP type %u code %u\n", m.type, m.code);
        return 0;
    }
    if (rc != 0)
        fail("the stack sent a packet (%zu bytes) that does not parse: %s", len,
             tw_counter_name(rc) ? tw_counter_name(rc) : "?");
    if (s.src_addr != ST_ADDR) fail("the stack sent from address %08x", s.src_addr);
    G.out_pkts++;
    if (s.flags & TW_TH_RST) G.out_rst++;
    vlog_seg("OUT", &s);
    /* RFC 3168 §6.1: only ECT(0), and only on data; never on a SYN or an
     * RST, and only with ECN allowed at all (retransmissions: below). */
    uint8_t ecn = s.ip_tos & 3;
    if (ecn && (ecn != 2 || s.len == 0 || (s.flags & (TW_TH_SYN | TW_TH_RST)) ||
                G.st->tcp.ecn == TW_TCP_ECN_OFF))
        fail("the stack sent ECN codepoint %u on a %s segment of %u bytes", ecn,
             (s.flags & TW_TH_SYN)   ? "SYN"
             : (s.flags & TW_TH_RST) ? "RST"
                                     : "data/ACK",
             s.len);
    flow *f = flow_get(s.dst_addr, s.src_port, s.dst_port);
    G.last_out = f;
    if (!f || (s.flags & TW_TH_RST)) return 0;
    check_out(f, &s);
    f->pend_valid = false;
    if (ecn && f->st_seen && !sgt(s.seq.v + s.len, f->st_max_end))
        fail("the stack sent a retransmission (SEQ %u, %u bytes) as ECN-capable", s.seq.v, s.len);
    if (s.flags & TW_TH_SYN) {
        if (!f->st_syn || f->st_iss != s.seq.v) f->st_seen = false; /* a new incarnation */
        f->st_syn = true;
        f->st_iss = s.seq.v;
    }
    uint32_t end = s.seq.v + tw_seg_seqlen(&s);
    f->st_last_seq = s.seq.v;
    if (!f->st_seen || sgt(end, f->st_max_end)) f->st_max_end = end;
    f->st_seen = true;
    if (s.flags & TW_TH_ACK) {
        f->st_ack = true;
        f->st_last_ack = s.ack.v;
    }
    if (s.len && f->st_syn && !(s.flags & TW_TH_SYN)) {
        uint32_t i = pat_mismatch(s.payload, s.seq.v - (f->st_iss + 1), s.len, true);
        if (i != s.len) {
            uint32_t off = s.seq.v + i - (f->st_iss + 1);
            fail("the stack sent byte %02x at SEQ %u (stream offset %u, %u:%u -> %u) but the "
                 "application queued %02x there",
                 s.payload[i], s.seq.v + i, off, s.src_port, s.dst_port, s.dst_port, pat_user(off));
        }
    }
    return 0;
}

static const struct tw_link_ops cap_ops = TW_LINK_SEND_ONLY(cap_send);

/* ------------------------------------------------------------ trace */

static void on_trace(void *ctx, const tw_trace_ev *ev) {
    (void)ctx;
    if (ev->kind != TW_EV_STATE) return;
    if (verbose)
        fprintf(stderr, "  conn %u: %s -> %s (%s)\n", ev->conn_id, sname(ev->old_state),
                sname(ev->new_state), tw_cause_name(ev->cause));
    if (!tw_tcp_move_legal((tw_state)ev->old_state, (tw_state)ev->new_state))
        fail("illegal state move %s -> %s (%s) on conn %u", sname(ev->old_state),
             sname(ev->new_state), tw_cause_name(ev->cause), ev->conn_id);
    if (ev->conn_id == 0 || ev->conn_id >= MAX_IDS) return; /* listeners */
    uint8_t *cur = &G.idstate[ev->conn_id];
    if (*cur == ID_DEAD)
        fail("conn %u moved %s -> %s (%s) after it had reached CLOSED", ev->conn_id,
             sname(ev->old_state), sname(ev->new_state), tw_cause_name(ev->cause));
    if (*cur != ID_UNKNOWN && *cur != ev->old_state)
        fail("conn %u moved %s -> %s (%s) but its previous move ended in %s", ev->conn_id,
             sname(ev->old_state), sname(ev->new_state), tw_cause_name(ev->cause), sname(*cur));
    *cur = ev->new_state == TW_CLOSED ? ID_DEAD : ev->new_state;
    if (ev->new_state == TW_CLOSED && ev->cause == TW_CAUSE_TIMEOUT_RETRANSMIT) {
        /* RFC 9293 §3.8.6.1 (RFC 1122 §4.2.2.17): as long as the receiver
         * keeps answering zero-window probes, the connection stays open. */
        const flow *f = flow_find(ev->raddr, ev->lport, ev->rport);
        /* RFC 6429 lets a stack abort an orphaned connection (the
         * application closed it) stuck in zero-window probing, so only
         * connections that still have their socket count. The slot is
         * still intact here (flushing comes after settling). */
        bool owned = false;
        for (uint32_t i = 0; i < G.st->slot_hwm; i++) {
            const tw_slot *sl = tw__slot(G.st, i);
            if (sl->c.id == ev->conn_id) owned = !(sl->c.flags & TW_TF_ORPHAN);
        }
        if (owned && f && f->zw && f->zw_conn == ev->conn_id && ev->t - f->zw_t <= ZW_GRACE)
            fail("conn %u (%u -> %u) in %s was aborted by the retransmission timeout although the "
                 "peer answered with a zero window %llu ms earlier",
                 ev->conn_id, ev->lport, ev->rport, sname(ev->old_state),
                 (unsigned long long)((ev->t - f->zw_t) / 1000000u));
    }
}

/* ------------------------------------------------------------ invariants */

__attribute__((noinline)) TW_NO_COVERAGE static void check_invariants(void) {
    tw_stack *st = G.st;
    tw__stack_check(st);
    uint32_t live = 0;
    for (uint32_t i = 0; i < st->slot_hwm; i++) {
        tw_slot *s = tw__slot(st, i);
        if (!s->in_use) continue;
        live++;
        const tw_tcp_conn *c = &s->c;
        if (tw_seq_gt(c->snd_una, c->snd_nxt) || tw_seq_gt(c->snd_nxt, c->snd_max))
            fail("conn %u in %s: SND.UNA %u, SND.NXT %u, SND.MAX %u out of order", c->id,
                 sname(c->state), c->snd_una.v, c->snd_nxt.v, c->snd_max.v);
        if (c->state != TW_CLOSED && c->state != TW_LISTEN) {
            uint32_t fl = c->snd_max.v - c->snd_una.v;
            if ((uint64_t)fl > (uint64_t)tw_ring_len(&c->sndbuf) + 2)
                fail("conn %u in %s: %u octets in flight but only %u buffered", c->id,
                     sname(c->state), fl, tw_ring_len(&c->sndbuf));
            /* s->hash was checked against the 4-tuple by tw__stack_check() */
            if (!s->in_hash || tw__table_find(st, s->hash, c->raddr, c->lport, c->rport) != s->idx)
                fail("conn %u in %s (port %u -> %u) is not found in the 4-tuple table", c->id,
                     sname(c->state), c->lport, c->rport);
        }
        tw_time_t d = tw_tcp_next_deadline(c);
        bool armed = tw_wheel_armed(&s->timer);
        if (!s->dirty && (armed != (d != TW_TIME_NEVER) || (armed && s->timer.expiry != d)))
            fail("conn %u in %s: wheel entry %s (expiry %llu) but earliest deadline %llu", c->id,
                 sname(c->state), armed ? "armed" : "unarmed", (unsigned long long)s->timer.expiry,
                 (unsigned long long)d);
        if (s->sock >= 0) {
            uint32_t si = (uint32_t)s->sock & 0xffffu;
            if (si >= st->nsocks || st->socks[si].kind != TW_SK_CONN ||
                st->socks[si].ref != s->idx ||
                (st->socks[si].gen & 0x7fff) != ((uint32_t)s->sock >> 16))
                fail("conn %u: slot says socket %d but the socket does not refer back", c->id,
                     s->sock);
        }
        if (s->listener >= 0 &&
            ((uint32_t)s->listener >= st->nlisteners || !st->listeners[s->listener].in_use))
            fail("conn %u: refers to listener %d which is not in use", c->id, s->listener);
    }
    if (live != st->nlive || tw_stack_conn_count(st) != live)
        fail("%u slots in use but nlive is %u", live, st->nlive);
    for (uint32_t i = 0; i < st->nsocks; i++) {
        const tw_sockent *e = &st->socks[i];
        if (e->kind != TW_SK_CONN) continue;
        if (e->ref >= st->nslots) fail("socket %u refers to slot %u past the pool", i, e->ref);
        const tw_slot *s = tw__slot(st, e->ref);
        if (!s->in_use || s->sock < 0 || ((uint32_t)s->sock & 0xffffu) != i)
            fail("socket %u refers to slot %u which is %s", i, e->ref,
                 s->in_use ? "owned by another socket" : "free");
    }
    for (uint32_t li = 0; li < st->nlisteners; li++) {
        const tw_listener *l = &st->listeners[li];
        if (!l->in_use) continue;
        uint32_t children = 0, queued = 0;
        for (uint32_t i = 0; i < st->slot_hwm; i++) {
            const tw_slot *s = tw__slot(st, i);
            if (s->in_use && s->listener == (int32_t)li) children++;
        }
        for (uint32_t k = l->acc_head; k != TW_NIL; k = tw__slot(st, k)->acc_next) {
            const tw_slot *s = tw__slot(st, k);
            if (!s->in_use || s->listener != (int32_t)li || !s->accept_ready)
                fail("listener %u: accept queue holds slot %u which is not its ready child", li, k);
            if (++queued > st->nslots) fail("listener %u: accept queue loops", li);
        }
        if (children != l->pending)
            fail("listener %u (port %u): %u children but pending = %u", li, l->port, children,
                 l->pending);
    }
    for (uint32_t i = st->tw_head; i != TW_NIL; i = st->tw[i].fnext) {
        const tw_twrec *r = &st->tw[i];
        /* A record a new SYN is reopening (TW_RF_SUSP) gives its 4-tuple to
         * that SYN_RECEIVED child until the handshake ends either way. */
        uint32_t want = (r->flags & TW_RF_SUSP) ? r->hnext : (i | TW_TWBIT);
        uint32_t found = (r->flags & TW_RF_SUSP)
                             ? tw__table_lookup(st, r->raddr, r->lport, r->rport)
                             : tw__table_find(st, r->hash, r->raddr, r->lport, r->rport);
        if (found != want)
            fail("TIME_WAIT record %u (port %u -> %u) is shadowed in the 4-tuple table", i,
                 r->lport, r->rport);
        if ((r->flags & TW_RF_SUSP) && tw__slot(st, r->hnext)->c.state != TW_SYN_RECEIVED)
            fail("TIME_WAIT record %u suspended for a child in %s", i,
                 tw_state_name(tw__slot(st, r->hnext)->c.state));
    }
}

static void drain_events(void) {
    tw_event ev;
    unsigned n = 0;
    while (tw_next_event(G.st, &ev)) {
        if (++n > 100000) fail("the event queue does not drain");
        /* A soft error carries one of its documented codes (tcpwave.h). */
        if ((ev.what & TW_EVT_SOFT_ERROR) && !(ev.what & TW_EVT_CLOSED) && ev.err != TW_ETIMEDOUT &&
            ev.err != TW_ENETUNREACH && ev.err != TW_EHOSTUNREACH && ev.err != TW_EMSGSIZE &&
            ev.err != TW_EPROTO && ev.err != TW_ECONNREFUSED)
            fail("soft error event with code %d", ev.err);
    }
}

/* The end of every step: send what user calls queued, then check. */
static void settle_step(void) {
    tw_stack_poll(G.st, G.now);
    drain_events();
    check_invariants();
}

/* Runs every timer up to `target`, stopping at each deadline on the way. */
static void advance_to(uint64_t target) {
    unsigned guard = 0, same = 0;
    while (guard++ < ADVANCE_GUARD) {
        uint64_t d = tw_stack_next_deadline(G.st);
        if (d > target) break;
        if (d <= G.now) {
            if (++same > 8)
                fail("the next deadline (%llu) stays at or before now (%llu) after polls",
                     (unsigned long long)d, (unsigned long long)G.now);
            d = G.now;
        } else {
            same = 0;
        }
        G.now = d;
        settle_step();
    }
    if (target > G.now) G.now = target;
    settle_step();
}

/* ------------------------------------------------------------ delivering */

static void deliver(const uint8_t *pkt, size_t len) {
    if (len > sizeof B.last_in) return;
    if (pkt != B.last_in) {
        memcpy(B.last_in, pkt, len);
        G.last_in_len = len;
    }
    tw_tcp_seg s;
    bool parsed = tw_packet_parse(pkt, len, &s) == 0;
    if (parsed && s.dst_addr == ST_ADDR) note_delivered(&s);
    if (parsed)
        vlog_seg("IN ", &s);
    else if (verbose)
        fprintf(stderr, "  IN  unparsable packet of %zu bytes\n", len);
    /* The 4-tuple's TIME_WAIT, if any, before the segment. */
    bool pre_tw = false;
    uint32_t pre_snd = 0, pre_id = 0;
    if (parsed && s.dst_addr == ST_ADDR) {
        uint32_t e = tw__table_lookup(G.st, s.src_addr, s.dst_port, s.src_port);
        if (e != TW_NIL && (e & TW_TWBIT)) {
            pre_tw = true;
            pre_snd = G.st->tw[e & ~TW_TWBIT].snd_nxt;
            pre_id = G.st->tw[e & ~TW_TWBIT].id;
        } else if (e != TW_NIL && tw__slot(G.st, e)->c.state == TW_TIME_WAIT) {
            pre_tw = true;
            pre_snd = tw__slot(G.st, e)->c.snd_max.v;
            pre_id = tw__slot(G.st, e)->c.id;
        }
    }
    if (verbose && pre_tw) fprintf(stderr, "  (4-tuple in TIME_WAIT as conn %u)\n", pre_id);
    G.out_rst = 0;
    if (G.deferred)
        tw_stack_input_deferred(G.st, G.now, pkt, len);
    else
        tw_stack_input(G.st, G.now, pkt, len);
    if (parsed && (s.flags & TW_TH_RST) && G.out_rst)
        fail("an RST (SEQ %u ACK %u, %u -> %u) was answered with an RST", s.seq.v, s.ack.v,
             s.src_port, s.dst_port);
    if (pre_tw) {
        /* TIME_WAIT lasts 2MSL (RFC 9293 MUST-13) unless a new SYN reopens
         * the 4-tuple (MAY-2), and then only with an ISS above the old
         * incarnation's sequence numbers (RFC 1122 §4.2.2.13). */
        char fl[48];
        uint32_t e = tw__table_lookup(G.st, s.src_addr, s.dst_port, s.src_port);
        if (e == TW_NIL)
            fail("TIME_WAIT of conn %u (%u -> %u) ended by a %s segment (SEQ %u) without a new "
                 "connection taking its place",
                 pre_id, s.dst_port, s.src_port, tw_tcp_flags_str(s.flags, fl, sizeof fl), s.seq.v);
        if (!(e & TW_TWBIT) && tw__slot(G.st, e)->c.id != pre_id) {
            const tw_tcp_conn *c = &tw__slot(G.st, e)->c;
            if (!sgt(c->iss.v, pre_snd))
                fail("TIME_WAIT of conn %u (%u -> %u) reopened as conn %u with ISS %u, not above "
                     "the "
                     "old incarnation's SND.NXT %u",
                     pre_id, s.dst_port, s.src_port, c->id, c->iss.v, pre_snd);
        }
    }
}

/* Builds an IPv4+TCP packet into B.pkt with correct checksums. */
static size_t build_pkt(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport, uint32_t seq,
                        uint32_t ack, uint8_t flags, uint16_t wnd, const uint8_t *opt, size_t olen,
                        const uint8_t *pay, size_t plen) {
    uint8_t *b = B.pkt;
    if (olen > 40) olen = 40;
    size_t ol = (olen + 3) & ~(size_t)3;
    size_t thl = 20 + ol;
    size_t tot = 20 + thl + plen;
    uint8_t *t = b + 20;
    put16(t, sport);
    put16(t + 2, dport);
    put32(t + 4, seq);
    put32(t + 8, ack);
    t[12] = (uint8_t)((thl / 4) << 4);
    t[13] = flags;
    put16(t + 14, wnd);
    put16(t + 16, 0);
    put16(t + 18, 0);
    if (olen) memcpy(t + 20, opt, olen);
    memset(t + 20 + olen, 0, ol - olen);
    if (plen) memcpy(t + thl, pay, plen);
    uint64_t acc = tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)(thl + plen));
    put16(t + 16, tw_cksum_fin(tw_cksum_add(acc, t, thl + plen)));
    tw_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.src = src;
    ip.dst = dst;
    ip.proto = TW_IPPROTO_TCP;
    ip.ttl = 64;
    /* Every ECN codepoint, CE included, in turn, unless ECN is off. */
    ip.tos = G.st->tcp.ecn != TW_TCP_ECN_OFF ? (uint8_t)((seq ^ (uint32_t)G.opi) & 3u) : 0;
    ip.id = (uint16_t)G.opi;
    ip.total_len = (uint16_t)tot;
    tw_ipv4_emit(&ip, b, 20);
    return tot;
}

/* The peer of flow f sends a segment; payload NULL = consistent bytes. */
static void peer_send(flow *f, uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd,
                      const uint8_t *opt, size_t olen, const uint8_t *pay, uint32_t plen) {
    if (plen > MAX_PAYLOAD) plen = MAX_PAYLOAD;
    if (!pay) {
        uint32_t d = seq + ((flags & TW_TH_SYN) ? 1u : 0u);
        fill_peer(B.pay, d, plen);
        pay = B.pay;
    }
    size_t n = build_pkt(f->raddr, ST_ADDR, f->rport, f->lport, seq, ack, flags, wnd, opt, olen,
                         pay, plen);
    deliver(B.pkt, n);
}

/* ------------------------------------------------------------ handles */

static hent *hent_find(int val) {
    for (uint32_t i = G.nhs; i-- > 0;)
        if (G.hs[i].val == val) return &G.hs[i];
    return NULL;
}

static void hent_add(int val) {
    if (val < 0 || hent_find(val)) return;
    if (G.nhs == MAX_HANDLES) fail("more than %d handles", MAX_HANDLES);
    G.hs[G.nhs].val = val;
    G.hs[G.nhs].recv_total = G.hs[G.nhs].sent_total = 0;
    G.nhs++;
}

static void check_recv(int h, int rc, const uint8_t *buf, size_t asked) {
    if (rc > (int)asked) fail("tw_recv returned %d for %zu asked", rc, asked);
    hent *he = hent_find(h);
    if (!he || rc < 0) return;
    tw_sock_info info;
    if (tw_sock_info_get(G.st, h, &info) != 0) fail("tw_recv worked on a handle sock_info rejects");
    flow *f = flow_find(info.raddr, info.lport, info.rport);
    uint32_t base = info.irs + 1;
    if (rc > 0) {
        uint32_t i = f && !f->tainted
                         ? pat_mismatch(buf, base + he->recv_total, (uint32_t)rc, false)
                         : (uint32_t)rc;
        if (i != (uint32_t)rc) {
            uint32_t seq = base + he->recv_total + i;
            fail("tw_recv returned %02x at stream offset %u (SEQ %u) but the peer sent %02x "
                 "there (%u -> %u)",
                 buf[i], he->recv_total + (uint32_t)i, seq, pat_peer(seq), info.rport, info.lport);
        }
        if (f && !f->iv_full) {
            uint64_t pre = iv_prefix(f, base);
            if ((uint64_t)he->recv_total + (uint64_t)rc > pre)
                fail("tw_recv has returned %llu bytes in all but only %llu were delivered in order "
                     "from IRS+1 = %u (%u -> %u, %s)",
                     (unsigned long long)he->recv_total + (unsigned long long)rc,
                     (unsigned long long)pre, base, info.rport, info.lport, sname(info.state));
        }
        he->recv_total += (uint32_t)rc;
    } else if (asked > 0 && f && !f->fin_full) {
        uint32_t at = base + he->recv_total;
        bool ok = false;
        for (uint32_t i = 0; i < f->nfin; i++) ok |= f->fin[i] == at;
        if (!ok)
            fail(
                "tw_recv reported end of stream at stream offset %u (SEQ %u) in %s (err %d) but no "
                "FIN was delivered there (%u -> %u)",
                he->recv_total, at, sname(info.state), info.err, info.rport, info.lport);
    }
}

/* ------------------------------------------------------------ program */

enum {
    OP_ADVANCE,
    OP_SEG,
    OP_RAW,
    OP_SOCKET,
    OP_BIND,
    OP_LISTEN,
    OP_CONNECT,
    OP_ACCEPT,
    OP_SEND,
    OP_RECV,
    OP_SHUTDOWN,
    OP_CLOSE,
    OP_ABORT,
    OP_NODELAY,
    OP_ACK_ALL,
    OP_DUP,
    OP_INFO,
    OP_ICMP,
    OP__COUNT
};

static const char *const op_names[OP__COUNT] = {
    "advance", "seg",      "raw",   "socket", "bind",    "listen",  "connect", "accept", "send",
    "recv",    "shutdown", "close", "abort",  "nodelay", "ack_all", "dup",     "info",   "icmp",
};

/* A flow: an existing one (byte % count), or for bytes >= 0xf0 a peer port
 * 40000..40003 towards local port 80, 81, 5000 or 7. */
static flow *pick_flow(reader *r) {
    uint8_t b = rd8(r);
    if (G.nflows == 0 || b >= 0xf0) {
        static const uint16_t lports[4] = {SRV_PORT, SRV_PORT + 1, PEER_SVC_PORT, 7};
        flow *f = flow_get(PEER_ADDR, lports[b & 3], (uint16_t)(PEER_CLI_PORT + ((b >> 2) & 3)));
        if (f) return f;
    }
    return &G.flows[b % G.nflows];
}

/* A handle: slot b&7; 0x40 the same index with the next generation (stale
 * or not yet issued); 0xc0 a raw 16-bit value (0xe0: -1). */
static int pick_handle(reader *r) {
    uint8_t b = rd8(r);
    int h = G.slot[b & 7];
    switch (b & 0xc0) {
    case 0x40: return h < 0 ? h : h + (1 << 16);
    case 0xc0: return (b & 0x20) ? -1 : (int)rd16(r);
    default: return h;
    }
}

static size_t build_opts(reader *r, const flow *f, uint8_t *o) {
    uint8_t m = rd8(r);
    size_t n = 0;
    if (m & 0x01) {
        o[n++] = TW_TCPOPT_MSS;
        o[n++] = 4;
        put16(o + n, rd16(r));
        n += 2;
    }
    if (m & 0x02) {
        o[n++] = TW_TCPOPT_NOP;
        o[n++] = TW_TCPOPT_WS;
        o[n++] = 3;
        o[n++] = rd8(r);
    }
    if (m & 0x04) {
        o[n++] = TW_TCPOPT_NOP;
        o[n++] = TW_TCPOPT_NOP;
        o[n++] = TW_TCPOPT_SACK_OK;
        o[n++] = 2;
    }
    if (m & 0x08) {
        o[n++] = TW_TCPOPT_NOP;
        o[n++] = TW_TCPOPT_NOP;
        o[n++] = TW_TCPOPT_TS;
        o[n++] = 10;
        put32(o + n, rd32(r));
        put32(o + n + 4, rd32(r));
        n += 8;
    }
    if (m & 0x10) {
        unsigned nb = 1 + (rd8(r) & 3);
        while (nb && n + 4 + 8 * nb > 40) nb--;
        if (nb) {
            o[n++] = TW_TCPOPT_NOP;
            o[n++] = TW_TCPOPT_NOP;
            o[n++] = TW_TCPOPT_SACK;
            o[n++] = (uint8_t)(2 + 8 * nb);
            for (unsigned k = 0; k < nb; k++) {
                uint32_t left = f->st_max_end + (uint32_t)((int32_t)(int8_t)rd8(r) * 64);
                put32(o + n, left);
                put32(o + n + 4, left + (uint32_t)rd8(r) * 16u);
                n += 8;
            }
        }
    }
    if (m & 0x20) { /* garbage option bytes */
        unsigned g = rd8(r) % 41u;
        for (unsigned k = 0; k < g && n < 40; k++) o[n++] = rd8(r);
    }
    return n;
}

static void op_seg(reader *r) {
    flow *f = pick_flow(r);
    uint8_t flags = rd8(r), mode = rd8(r);
    uint32_t sd, ad;
    if (mode & 0x80) {
        sd = rd32(r);
        ad = rd32(r);
    } else {
        sd = (uint32_t)(int32_t)(int8_t)rd8(r);
        ad = (uint32_t)(int32_t)(int8_t)rd8(r);
    }
    uint16_t wnd = rd16(r);
    uint32_t seq, ack;
    switch (mode & 3) {
    case 0: seq = f->peer_nxt + sd; break;
    case 1: seq = f->st_last_ack + sd; break;
    case 2: seq = sd; break;
    default: seq = f->peer_iss + sd; break;
    }
    switch ((mode >> 2) & 3) {
    case 0: ack = f->st_max_end + ad; break;
    case 1: ack = f->st_last_seq + ad; break;
    case 2: ack = ad; break;
    default: ack = f->st_iss + ad; break;
    }
    uint32_t plen = 0;
    const uint8_t *pay = NULL;
    if (mode & 0x10) {
        plen = rd16(r) & MAX_PAYLOAD;
        if (mode & 0x20) {
            for (uint32_t i = 0; i < plen; i++) B.raw[i] = rd8(r);
            pay = B.raw;
        }
    }
    uint8_t opt[40];
    size_t olen = (mode & 0x40) ? build_opts(r, f, opt) : 0;
    peer_send(f, flags, seq, ack, wnd, opt, olen, pay, plen);
}

/* Raw bytes as a packet; mode 0x01 sets the addresses to peer -> stack,
 * 0x02 repairs the IPv4 total length and header checksum, 0x04 the TCP
 * checksum. */
static void op_raw(reader *r) {
    uint8_t mode = rd8(r);
    size_t len = rd16(r) % 1600u;
    uint8_t *p = B.pkt;
    for (size_t i = 0; i < len; i++) p[i] = rd8(r);
    if (len >= 20) {
        size_t ihl = (size_t)(p[0] & 0x0f) * 4;
        if (mode & 0x01) {
            put32(p + 12, PEER_ADDR);
            put32(p + 16, ST_ADDR);
        }
        if ((mode & 0x02) && ihl >= 20 && ihl <= len) {
            put16(p + 2, (uint16_t)len);
            put16(p + 10, 0);
            put16(p + 10, tw_cksum_fin(tw_cksum_add(0, p, ihl)));
        }
        size_t total = (size_t)(p[2] << 8 | p[3]);
        if ((mode & 0x04) && ihl >= 20 && total <= len && total >= ihl + 20) {
            uint8_t *t = p + ihl;
            size_t tl = total - ihl;
            uint32_t src =
                (uint32_t)p[12] << 24 | (uint32_t)p[13] << 16 | (uint32_t)p[14] << 8 | p[15];
            uint32_t dst =
                (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
            put16(t + 16, 0);
            put16(t + 16, tw_cksum_fin(tw_cksum_add(
                              tw_cksum_pseudo(src, dst, TW_IPPROTO_TCP, (uint16_t)tl), t, tl)));
        }
    }
    deliver(p, len);
}

/* An ICMP message from the flow's peer (or a router on the way): t picks
 * echo request, destination unreachable (code = next byte % 6), time
 * exceeded, parameter problem or source quench; errors quote the IP header
 * and first 8 TCP bytes of a segment the stack sent on the flow, at SEQ =
 * its latest SEQ + a signed delta. */
static void op_icmp(reader *r) {
    static const uint8_t types[5] = {TW_ICMP_ECHO_REQUEST, TW_ICMP_DEST_UNREACH,
                                     TW_ICMP_TIME_EXCEEDED, TW_ICMP_PARAM_PROBLEM,
                                     TW_ICMP_SOURCE_QUENCH};
    flow *f = pick_flow(r);
    uint8_t t = rd8(r);
    uint8_t *b = B.pkt;
    uint8_t *ic = b + 20;
    size_t dlen;
    ic[0] = types[(t & 0x7f) % 5];
    ic[1] = ic[0] == TW_ICMP_DEST_UNREACH ? (uint8_t)(rd8(r) % 6) : 0;
    put16(ic + 2, 0);
    put32(ic + 4, ic[0] == TW_ICMP_ECHO_REQUEST ? rd32(r) : 0);
    if (ic[0] == TW_ICMP_ECHO_REQUEST) {
        dlen = rd8(r);
        for (size_t i = 0; i < dlen; i++) ic[8 + i] = rd8(r);
    } else {
        uint8_t *q = ic + 8; /* the quoted datagram: IPv4 header + 8 bytes */
        tw_ipv4_hdr qh;
        memset(&qh, 0, sizeof qh);
        qh.src = ST_ADDR;
        qh.dst = f->raddr;
        qh.proto = TW_IPPROTO_TCP;
        qh.ttl = 1;
        qh.total_len = 40;
        tw_ipv4_emit(&qh, q, 20);
        put16(q + 20, f->lport);
        put16(q + 22, f->rport);
        put32(q + 24, f->st_last_seq + (uint32_t)(int32_t)(int8_t)rd8(r));
        dlen = 28;
    }
    put16(ic + 2, tw_cksum_fin(tw_cksum_add(0, ic, 8 + dlen)));
    tw_ipv4_hdr ip;
    memset(&ip, 0, sizeof ip);
    ip.src = (t & 0x80) ? 0xc6120063u /* a router */ : f->raddr;
    ip.dst = ST_ADDR;
    ip.proto = TW_IPPROTO_ICMP;
    ip.ttl = 64;
    ip.total_len = (uint16_t)(20 + 8 + dlen);
    tw_ipv4_emit(&ip, b, 20);
    if (verbose) fprintf(stderr, "  IN  ICMP type %u code %u\n", ic[0], ic[1]);
    /* Snapshot the connections: ICMP may only end a SYN_SENT connection, by a
     * hard error (protocol/port unreachable) quoting a SEQ in SND.UNA ..
     * SND.MAX-1; soft errors never abort (RFC 9293 MUST-56, RFC 5927). */
    static struct {
        uint32_t id, una, max;
        tw_state state;
    } snap[TW_SLOT_CHUNK];
    uint32_t n = G.st->slot_hwm < TW_SLOT_CHUNK ? G.st->slot_hwm : TW_SLOT_CHUNK;
    for (uint32_t i = 0; i < n; i++) {
        const tw_slot *sl = tw__slot(G.st, i);
        snap[i].id = sl->in_use ? sl->c.id : 0;
        snap[i].state = sl->c.state;
        snap[i].una = sl->c.snd_una.v;
        snap[i].max = sl->c.snd_max.v;
    }
    uint32_t qseq = get32(ic + 8 + 24);
    bool hard = ic[0] == TW_ICMP_DEST_UNREACH && (ic[1] == 2 || ic[1] == 3);
    G.out_rst = 0;
    tw_stack_input(G.st, G.now, b, 20 + 8 + dlen);
    for (uint32_t i = 0; i < n; i++) {
        const tw_slot *sl = tw__slot(G.st, i);
        if (!snap[i].id || (sl->c.id == snap[i].id && sl->c.state == snap[i].state)) continue;
        bool in_flight = qseq - snap[i].una < snap[i].max - snap[i].una;
        if (!(hard && ic[0] != TW_ICMP_ECHO_REQUEST && snap[i].state == TW_SYN_SENT && in_flight &&
              f->lport == sl->c.lport && f->rport == sl->c.rport && f->raddr == sl->c.raddr))
            fail("ICMP type %u code %u (quoting SEQ %u) moved conn %u from %s to %s", ic[0], ic[1],
                 qseq, snap[i].id, sname(snap[i].state),
                 sl->c.id == snap[i].id ? sname(sl->c.state) : "released");
    }
}

static void op_send(int h, uint32_t len, bool urgent) {
    hent *he = hent_find(h);
    uint32_t base = he ? he->sent_total : 0;
    fill_user(B.io, base, len);
    int rc = urgent ? tw_send_urgent(G.st, h, B.io, len) : tw_send(G.st, h, B.io, len);
    if (verbose) fprintf(stderr, "  send%s(%d, %u) = %d\n", urgent ? "_urgent" : "", h, len, rc);
    if (rc > (int)len) fail("tw_send returned %d for %u bytes", rc, len);
    if (rc > 0 && he) he->sent_total += (uint32_t)rc;
}

static void op_recv(int h, uint32_t len) {
    int rc = tw_recv(G.st, h, B.io, len);
    if (verbose) fprintf(stderr, "  recv(%d, %u) = %d\n", h, len, rc);
    check_recv(h, rc, B.io, len);
}

static void op_info(int h) {
    tw_sock_info info;
    if (tw_sock_info_get(G.st, h, &info) != 0) return;
    if (info.state >= TW_STATE__COUNT) fail("sock_info: state %d", (int)info.state);
}

static void run_op(reader *r) {
    uint8_t op = rd8(r) % OP__COUNT;
    if (verbose) fprintf(stderr, "op %d: %s\n", G.opi, op_names[op]);
    switch (op) {
    case OP_ADVANCE: advance_to(G.now + TW_MS(rd16(r))); return;
    case OP_SEG: op_seg(r); break;
    case OP_RAW: op_raw(r); break;
    case OP_SOCKET: {
        unsigned idx = rd8(r) & 7;
        int h = tw_socket(G.st);
        if (h < 0) fail("tw_socket failed: %d", h);
        G.slot[idx] = h;
        hent_add(h);
        break;
    }
    case OP_BIND: {
        int h = pick_handle(r);
        uint8_t b = rd8(r);
        static const uint16_t ports[4] = {SRV_PORT, SRV_PORT + 1, PEER_SVC_PORT, 0};
        uint16_t port = (b & 4) ? rd16(r) : ports[b & 3];
        tw_bind(G.st, h, port);
        break;
    }
    case OP_LISTEN: {
        int h = pick_handle(r);
        tw_listen(G.st, h, rd8(r) % 8);
        break;
    }
    case OP_CONNECT: {
        int h = pick_handle(r);
        uint8_t b = rd8(r);
        static const uint16_t ports[3] = {PEER_SVC_PORT, PEER_SVC_PORT + 1, SRV_PORT};
        uint16_t port = (b & 3) == 3 ? rd16(r) : ports[b & 3];
        tw_connect(G.st, h, (b & 4) ? PEER2_ADDR : PEER_ADDR, port);
        break;
    }
    case OP_ACCEPT: {
        int h = pick_handle(r);
        unsigned idx = rd8(r) & 7;
        uint32_t ra = 0;
        uint16_t rp = 0;
        int c = tw_accept(G.st, h, &ra, &rp);
        if (c >= 0) {
            G.slot[idx] = c;
            hent_add(c);
        }
        break;
    }
    case OP_SEND: {
        int h = pick_handle(r);
        uint16_t v = rd16(r); /* the top bit: urgent (the length uses 14 bits) */
        op_send(h, v % MAX_USER_IO, v & 0x8000);
        break;
    }
    case OP_RECV: {
        int h = pick_handle(r);
        op_recv(h, rd16(r) % MAX_USER_IO);
        break;
    }
    case OP_SHUTDOWN: {
        int h = pick_handle(r);
        tw_shutdown(G.st, h, rd8(r) & 3);
        break;
    }
    case OP_CLOSE: tw_close(G.st, pick_handle(r)); break;
    case OP_ABORT: tw_abort(G.st, pick_handle(r)); break;
    case OP_NODELAY: {
        int h = pick_handle(r);
        tw_set_nodelay(G.st, h, rd8(r) & 1);
        break;
    }
    case OP_ACK_ALL: {
        /* b: 0x01 FIN, 0x02 zero window, 0x04 RST at the stack's RCV.NXT
         * instead, 0x08 PSH, 0xf0 payload of (b >> 4) * 61 bytes. */
        flow *f = pick_flow(r);
        uint8_t b = rd8(r);
        if (b & 0x04) {
            peer_send(f, TW_TH_RST | TW_TH_ACK, f->st_last_ack, f->st_max_end, 0, NULL, 0, NULL, 0);
            break;
        }
        uint8_t flags = (uint8_t)(TW_TH_ACK | (b & (TW_TH_FIN | TW_TH_PSH)));
        uint32_t seq = f->peer_syn ? f->peer_nxt : f->st_last_ack;
        peer_send(f, flags, seq, f->st_max_end, (b & 0x02) ? 0 : 65535, NULL, 0, NULL,
                  (uint32_t)(b >> 4) * 61u);
        break;
    }
    case OP_DUP:
        if (G.last_in_len) deliver(B.last_in, G.last_in_len);
        break;
    case OP_INFO: op_info(pick_handle(r)); break;
    case OP_ICMP: op_icmp(r); break;
    default: break;
    }
    if (G.deferred && (op == OP_SEG || op == OP_RAW || op == OP_ACK_ALL || op == OP_DUP)) {
        /* Part of a batch: what the stack owes goes out at the next poll. */
        drain_events();
        check_invariants();
        return;
    }
    settle_step();
}

/* ------------------------------------------------------------ prologues */

enum {
    P_NONE,
    P_LISTEN,
    P_SYN_SENT,
    P_SYN_RECEIVED,
    P_ESTABLISHED,
    P_FIN_WAIT_1,
    P_FIN_WAIT_2,
    P_CLOSING,
    P_TIME_WAIT,
    P_CLOSE_WAIT,
    P_LAST_ACK,
    P__COUNT
};

static const tw_state prologue_state[P__COUNT] = {
    TW_CLOSED,     TW_LISTEN,  TW_SYN_SENT,  TW_SYN_RECEIVED, TW_ESTABLISHED, TW_FIN_WAIT_1,
    TW_FIN_WAIT_2, TW_CLOSING, TW_TIME_WAIT, TW_CLOSE_WAIT,   TW_LAST_ACK,
};

static tw_state flow_state(const flow *f) {
    uint32_t e = tw__table_lookup(G.st, f->raddr, f->lport, f->rport);
    if (e == TW_NIL) return TW_CLOSED;
    if (e & TW_TWBIT) return TW_TIME_WAIT;
    return tw__slot(G.st, e)->c.state;
}

static void user_close(int h, bool use_shutdown) {
    if (use_shutdown)
        tw_shutdown(G.st, h, TW_SHUT_WR);
    else
        tw_close(G.st, h);
    settle_step();
}

static void prologue(uint8_t b0, uint32_t piss) {
    int p = (b0 & 0x0f) % P__COUNT;
    bool active = (b0 & 0x10) && p != P_LISTEN;
    if (p == P_SYN_SENT) active = true;
    bool use_shutdown = b0 & 0x20, data = b0 & 0x40, opts = b0 & 0x80;
    G.prologue = p;
    if (p == P_NONE) return;

    if (!active) {
        int l = tw_socket(G.st);
        hent_add(l);
        G.slot[0] = l;
        if (tw_bind(G.st, l, SRV_PORT) || tw_listen(G.st, l, 4)) fail("prologue: listen failed");
        settle_step();
        if (p == P_LISTEN) {
            if (!tw__port_listening(G.st, SRV_PORT, NULL)) fail("prologue: not listening");
            return;
        }
    }

    flow *f;
    int h;
    uint8_t o[40];
    size_t olen = 0;
    o[olen++] = TW_TCPOPT_MSS;
    o[olen++] = 4;
    put16(o + olen, 1460);
    olen += 2;
    if (opts) {
        static const uint8_t more[] = {1, 3, 3, 7, 1, 1, 4, 2, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
        memcpy(o + olen, more, sizeof more);
        olen += sizeof more;
    }
    /* With ECN not off, the peers' handshakes ask for it and accept it. */
    bool ecn = G.st->tcp.ecn != TW_TCP_ECN_OFF;
    uint8_t ecn_ask = ecn ? (uint8_t)(TW_TH_ECE | TW_TH_CWR) : 0, ecn_answer = ecn ? TW_TH_ECE : 0;
    if (active) {
        h = tw_socket(G.st);
        hent_add(h);
        G.slot[1] = h;
        if (tw_connect(G.st, h, PEER_ADDR, PEER_SVC_PORT) != 0) fail("prologue: connect failed");
        G.last_out = NULL;
        settle_step();
        f = G.last_out;
        if (!f || f->rport != PEER_SVC_PORT || !f->st_syn) fail("prologue: no SYN sent");
        if (p == P_SYN_SENT) goto verify;
        if (p == P_SYN_RECEIVED) { /* simultaneous open */
            peer_send(f, TW_TH_SYN, piss, 0, 65535, o, olen, NULL, 0);
            settle_step();
            goto verify;
        }
        /* The peer accepts ECN whenever the stack asks (RFC 3168 §6.1.1). */
        peer_send(f, (uint8_t)(TW_TH_SYN | TW_TH_ACK | ecn_answer), piss, f->st_iss + 1, 65535, o,
                  olen, NULL, 0);
        settle_step();
    } else {
        f = flow_get(PEER_ADDR, SRV_PORT, PEER_CLI_PORT);
        peer_send(f, (uint8_t)(TW_TH_SYN | ecn_ask), piss, 0, 65535, o, olen, NULL, 0);
        settle_step();
        if (!f->st_syn) fail("prologue: no SYN-ACK sent");
        if (p == P_SYN_RECEIVED) goto verify;
        peer_send(f, TW_TH_ACK, piss + 1, f->st_iss + 1, 65535, NULL, 0, NULL, 0);
        settle_step();
        h = tw_accept(G.st, G.slot[0], NULL, NULL);
        if (h < 0) fail("prologue: accept failed: %d", h);
        hent_add(h);
        G.slot[1] = h;
        settle_step();
    }
    if (data) {
        op_send(h, 100, false);
        settle_step();
        peer_send(f, TW_TH_ACK | TW_TH_PSH, f->peer_nxt, f->st_max_end, 65535, NULL, 0, NULL, 100);
        settle_step();
        op_recv(h, 200);
        settle_step();
    }
    switch (p) {
    case P_FIN_WAIT_1:
    case P_FIN_WAIT_2:
    case P_CLOSING:
    case P_TIME_WAIT:
        user_close(h, use_shutdown);
        if (p == P_FIN_WAIT_2 || p == P_TIME_WAIT) {
            peer_send(f, TW_TH_ACK, f->peer_nxt, f->st_max_end, 65535, NULL, 0, NULL, 0);
            settle_step();
        }
        if (p == P_CLOSING || p == P_TIME_WAIT) {
            uint32_t ack = p == P_CLOSING ? f->st_max_end - 1 : f->st_max_end;
            peer_send(f, TW_TH_FIN | TW_TH_ACK, f->peer_nxt, ack, 65535, NULL, 0, NULL, 0);
            settle_step();
        }
        break;
    case P_CLOSE_WAIT:
    case P_LAST_ACK:
        peer_send(f, TW_TH_FIN | TW_TH_ACK, f->peer_nxt, f->st_max_end, 65535, NULL, 0, NULL, 0);
        settle_step();
        if (p == P_LAST_ACK) user_close(h, use_shutdown);
        break;
    default: break;
    }
verify:;
    tw_state got = flow_state(f);
    if (got != prologue_state[p])
        fail("prologue for %s (byte 0 = %02x) ended in %s", sname(prologue_state[p]), b0,
             sname(got));
}

/* ------------------------------------------------------------ cleanup */

static void dump_leftovers(void) {
    tw_stack *st = G.st;
    for (uint32_t i = 0; i < st->slot_hwm; i++) {
        tw_slot *s = tw__slot(st, i);
        if (!s->in_use) continue;
        const tw_tcp_conn *c = &s->c;
        fprintf(stderr,
                "  slot %u: conn %u %s flags %#x sock %d listener %d ports %u->%u una %u nxt %u "
                "max %u wnd %u (wl1 %u wl2 %u, max %u) sndbuf %u rcvbuf %u rexmt %llu delack %llu "
                "persist %llu 2msl %llu fw2 %llu\n",
                i, c->id, sname(c->state), c->flags, s->sock, s->listener, c->lport, c->rport,
                c->snd_una.v, c->snd_nxt.v, c->snd_max.v, c->snd_wnd, c->snd_wl1.v, c->snd_wl2.v,
                c->max_snd_wnd, tw_ring_len(&c->sndbuf), tw_ring_len(&c->rcvbuf),
                (unsigned long long)c->t_rexmt, (unsigned long long)c->t_delack,
                (unsigned long long)c->t_persist, (unsigned long long)c->t_2msl,
                (unsigned long long)c->t_fw2);
    }
    for (uint32_t i = st->tw_head; i != TW_NIL; i = st->tw[i].fnext)
        fprintf(stderr, "  TIME_WAIT record %u: conn %u ports %u->%u expiry %llu\n", i,
                st->tw[i].id, st->tw[i].lport, st->tw[i].rport,
                (unsigned long long)st->tw[i].expiry);
}

static void cleanup(void) {
    for (uint32_t i = 0; i < G.nhs; i++) tw_close(G.st, G.hs[i].val);
    settle_step();
    advance_to(G.now + CLEANUP_TIME);
    size_t nc = tw_stack_conn_count(G.st), nt = tw_stack_time_wait_count(G.st);
    if (nc || nt) {
        dump_leftovers();
        G.opi = -1;
        fail("10 minutes after closing everything: %zu connections and %zu TIME_WAIT records left",
             nc, nt);
    }
}

/* ------------------------------------------------------------ entry */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size > 65536) return 0;
    if (verbose < 0) verbose = getenv("FUZZ_STACK_VERBOSE") != NULL;
    memset(&G, 0, sizeof G);
    memset(G.idstate, ID_UNKNOWN, sizeof G.idstate);
    for (int i = 0; i < NSLOTS; i++) G.slot[i] = -1;
    G.link.ops = &cap_ops;
    G.opi = -1;

    reader r = {data, size, 0};
    uint8_t b0 = rd8(&r), b1 = rd8(&r), b2 = rd8(&r);
    uint32_t piss = rd32(&r);

    static const uint32_t bufs[4] = {65535, 8192, 1024, 200};
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.addr = ST_ADDR;
    cfg.seed = (b2 & 0x1f) ? (b2 & 0x1fu) : 64u; /* never TW_SEED_RANDOM: runs must replay */
    cfg.ecn = (uint8_t)(cfg.seed % 3);           /* TW_ECN_OFF, ON, PASSIVE */
    cfg.cc = (cfg.seed & 4) ? TW_CC_CUBIC : TW_CC_NEWRENO;
    cfg.mss = (b1 & 0x01) ? 536 : 1460;
    cfg.msl = TW_SEC(10);
    cfg.rto_initial = TW_SEC(1);
    cfg.rto_min = TW_MS(200);
    cfg.rto_max = RTO_MAX;
    cfg.fin_wait_2_timeout = TW_SEC(30);
    cfg.syn_retries = 4;
    cfg.data_retries = 8;
    cfg.delack_enabled = !(b1 & 0x02);
    cfg.delack_fin = b1 & 0x04;
    cfg.nagle = !(b1 & 0x08);
    cfg.rcvbuf = bufs[(b1 >> 4) & 3];
    cfg.sndbuf = bufs[(b1 >> 6) & 3];
    cfg.max_conns = (b2 & 0x40) ? 3 : 64;
    cfg.max_time_wait = (b2 & 0x80) ? 1 : 32;
    cfg.trace = on_trace;
    cfg.trace_ctx = NULL;
    G.now = TW_SEC(1);
    if (tw_stack_new(&cfg, &G.link, &G.st) != 0) fail("tw_stack_new failed");
    tw_stack_poll(G.st, G.now);

    G.deferred = false;
    prologue(b0, piss);
    G.deferred = b2 & 0x20; /* the prologue's handshakes go one segment at a time */
    for (G.opi = 0; G.opi < MAX_OPS && r.i < r.n; G.opi++) {
        if (verbose) memcpy(B.counters_before, G.st->counters, sizeof B.counters_before);
        run_op(&r);
        if (verbose) vlog_counters();
    }
    cleanup();
    tw_stack_free(G.st);
    G.st = NULL;
    return 0;
}
