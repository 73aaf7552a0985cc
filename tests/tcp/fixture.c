/* fixture.c - the state-machine test fixture (see fixture.h): conn_<state>()
 * helpers that reach each RFC 9293 state through real segments, a peer that
 * sends segments the way the stack delivers them, output capture, a virtual
 * clock that fires timers at their exact deadlines, and exact expectations on
 * segments, state traces and reason counters. */
#include "fixture.h"

#include <stdio.h>
#include <string.h>

#include "wire/tcp_hdr.h"

fixture F;

static uint8_t sndmem[FX_BUF_CAP], rcvmem[FX_BUF_CAP];
static uint8_t scratch[FX_MAX_PAYLOAD];
static uint8_t patbuf[FX_BUF_CAP];
static fx_opts pending;
static bool have_pending;

/* ------------------------------------------------------------ configuration */

fx_opts fx_defaults(void) {
    fx_opts o;
    memset(&o, 0, sizeof o);
    tw_tcp_cfg_default(&o.cfg);
    o.iss = FX_ISS;
    o.peer_iss = FX_PEER_ISS;
    o.peer_wnd = FX_WND;
    o.peer_mss = 1460;
    o.peer_ws = -1;
    return o;
}

void fx_next(const fx_opts *o) {
    pending = *o;
    have_pending = true;
}

uint8_t fx_byte(uint32_t s) {
    return (uint8_t)((s * 31u) ^ (s >> 8) ^ 0x5a);
}

/* ------------------------------------------------------------ sinks */

static void on_trace(void *ctx, const tw_trace_ev *ev) {
    (void)ctx;
    if (ev->kind != TW_EV_STATE && ev->kind != TW_EV_TIMER) return;
    if (F.nev >= FX_MAX_EVENTS) FAIL("fixture: more than %d trace events", FX_MAX_EVENTS);
    fx_event *e = &F.ev[F.nev++];
    e->t = ev->t;
    e->kind = ev->kind;
    e->from = ev->old_state;
    e->to = ev->new_state;
    e->cause = ev->cause;
}

static void capture(const tw_tcp_seg *s, unsigned meta) {
    if (F.nout >= FX_MAX_OUT) FAIL("fixture: more than %d segments in one step", FX_MAX_OUT);
    if (s->len > FX_MAX_PAYLOAD) FAIL("fixture: payload of %u bytes", (unsigned)s->len);
    /* Every segment of this connection goes from us to the peer. */
    if (s->src_addr != FX_LADDR || s->dst_addr != FX_RADDR || s->src_port != FX_LPORT ||
        s->dst_port != FX_RPORT)
        FAIL("fixture: segment with wrong addresses %08x:%u -> %08x:%u", (unsigned)s->src_addr,
             (unsigned)s->src_port, (unsigned)s->dst_addr, (unsigned)s->dst_port);
    fx_seg *o = &F.out[F.nout++];
    o->t = F.now;
    o->src_addr = s->src_addr;
    o->dst_addr = s->dst_addr;
    o->src_port = s->src_port;
    o->dst_port = s->dst_port;
    o->flags = s->flags;
    o->seq = s->seq.v;
    o->ack = s->ack.v;
    o->len = s->len;
    o->wnd = s->wnd;
    o->urp = s->urp;
    o->ip_tos = s->ip_tos;
    o->has_mss = s->opt.has_mss;
    o->mss = s->opt.mss;
    o->opt = s->opt;
    o->meta = meta;
    if (s->len) memcpy(o->data, s->payload, s->len);
}

static void emit_cb(void *ctx, const tw_tcp_seg *s, unsigned meta) {
    (void)ctx;
    capture(s, meta);
}

static int output_capture(void) {
    tw_tcp_tx tx = {emit_cb, NULL, scratch, sizeof scratch};
    return tw_tcp_output(&F.c, F.now, &tx);
}

/* ------------------------------------------------------------ steps */

static tw_tcp_result input(tw_tcp_seg *seg) {
    F.nout = 0;
    F.rsts = 0;
    seg->src_addr = FX_RADDR;
    seg->dst_addr = FX_LADDR;
    seg->src_port = FX_RPORT;
    seg->dst_port = FX_LPORT;
    tw_tcp_result r = tw_tcp_input(&F.c, F.now, seg);
    /* The header's contract: a reason exactly when the segment was not accepted. */
    if (r.action == TW_ACT_ACCEPT && r.reason != 0)
        FAIL("fixture: accepted segment with reason %s", tw_counter_name(r.reason));
    if (r.action != TW_ACT_ACCEPT && r.reason == 0)
        FAIL("fixture: segment not accepted (action %d) but no reason", (int)r.action);
    if (r.action == TW_ACT_DROP_WITH_RST) {
        tw_tcp_seg rst;
        if (tw_tcp_make_rst(seg, &rst)) {
            capture(&rst, 0);
            F.rsts++;
        }
    }
    output_capture();
    return r;
}

tw_tcp_seg fx_mkseg(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload, uint32_t len,
                    uint16_t wnd) {
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.flags = flags;
    s.seq = tw_seq(seq);
    s.ack = tw_seq(ack);
    s.wnd = wnd;
    s.payload = payload;
    s.len = len;
    return s;
}

tw_tcp_result send_seg(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload, uint32_t len,
                       uint16_t wnd) {
    tw_tcp_seg s = fx_mkseg(flags, seq, ack, payload, len, wnd);
    return input(&s);
}

tw_tcp_result send_seg_mss(uint8_t flags, uint32_t seq, uint32_t ack, uint16_t wnd, int mss) {
    tw_tcp_seg s = fx_mkseg(flags, seq, ack, NULL, 0, wnd);
    if (mss >= 0) {
        s.opt.has_mss = true;
        s.opt.mss = (uint16_t)mss;
    }
    return input(&s);
}

tw_tcp_result send_seg_opt(uint8_t flags, uint32_t seq, uint32_t ack, const void *payload,
                           uint32_t len, uint16_t wnd, const tw_tcp_opts *opt) {
    tw_tcp_seg s = fx_mkseg(flags, seq, ack, payload, len, wnd);
    if (opt) s.opt = *opt;
    return input(&s);
}

tw_tcp_result send_sack(uint32_t ack, uint16_t wnd, unsigned n, const uint32_t *lr) {
    tw_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.nsack = (uint8_t)n;
    for (unsigned k = 0; k < n; k++) {
        o.sack[k].left = lr[2 * k];
        o.sack[k].right = lr[2 * k + 1];
    }
    return send_seg_opt(TW_TH_ACK, FX_PEER_ISS + 1, ack, NULL, 0, wnd, &o);
}

tw_tcp_result send_seg_raw(tw_tcp_seg *s) {
    return input(s);
}

/* A segment from the peer with URG set and urgent pointer `urp`, carrying
 * `len` pattern bytes from `seq`, built as a packet and parsed back, so it
 * is exactly what the stack would hand the connection. */
tw_tcp_result send_urg(uint32_t seq, uint32_t len, uint16_t urp) {
    uint8_t data[64];
    for (uint32_t i = 0; i < len; i++) data[i] = fx_byte(seq + i);
    tw_tcp_seg s;
    memset(&s, 0, sizeof s);
    s.src_addr = FX_RADDR;
    s.dst_addr = FX_LADDR;
    s.src_port = FX_RPORT;
    s.dst_port = FX_LPORT;
    s.seq = tw_seq(seq);
    s.ack = tw_seq(1001);
    s.flags = TW_TH_URG | ACK | (len ? PSH : 0);
    s.wnd = FX_WND;
    s.urp = urp;
    s.payload = data;
    s.len = len;
    uint8_t pkt[256];
    int n = tw_packet_emit(&s, 1, pkt, sizeof pkt);
    ASSERT_CMP(n, >, 0);
    tw_tcp_seg in;
    ASSERT_EQ(tw_packet_parse(pkt, (size_t)n, &in), 0); /* the wire layer lets it through */
    ASSERT_EQ(in.urp, urp);
    ASSERT_EQ(in.flags, s.flags);
    ASSERT_EQ(in.len, len);
    return send_seg_raw(&in);
}

tw_tcp_opts fx_peer_syn_opts(void) {
    tw_tcp_opts o;
    memset(&o, 0, sizeof o);
    if (F.o.peer_mss >= 0) {
        o.has_mss = true;
        o.mss = (uint16_t)F.o.peer_mss;
    }
    if (F.o.peer_ws >= 0) {
        o.has_ws = true;
        o.ws = (uint8_t)F.o.peer_ws;
    }
    if (F.o.peer_ts) {
        o.has_ts = true;
        o.tsval = F.o.peer_tsval;
    }
    o.sack_ok = F.o.peer_sack;
    return o;
}

tw_tcp_opts fx_ts(uint32_t tsval, uint32_t tsecr) {
    tw_tcp_opts o;
    memset(&o, 0, sizeof o);
    o.has_ts = true;
    o.tsval = tsval;
    o.tsecr = tsecr;
    return o;
}

static const uint8_t *pattern(uint32_t seq, uint32_t len) {
    if (len > sizeof patbuf) FAIL("fixture: pattern of %u bytes", (unsigned)len);
    for (uint32_t i = 0; i < len; i++) patbuf[i] = fx_byte(seq + i);
    return patbuf;
}

tw_tcp_result send_data(uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len, uint16_t wnd) {
    return send_seg(flags, seq, ack, pattern(seq, len), len, wnd);
}

int run_output(void) {
    F.nout = 0;
    F.rsts = 0;
    return output_capture();
}

void advance(tw_time_t d) {
    F.nout = 0;
    F.rsts = 0;
    tw_time_t target = F.now + d;
    for (int guard = 0;; guard++) {
        if (guard > 100000)
            FAIL("fixture: timers keep firing at t=%llu", (unsigned long long)F.now);
        tw_time_t dl = tw_tcp_next_deadline(&F.c);
        if (dl == TW_TIME_NEVER || dl > target) break;
        if (dl > F.now) F.now = dl;
        tw_tcp_timer(&F.c, F.now);
        output_capture();
    }
    F.now = target;
}

void advance_to_deadline(void) {
    tw_time_t dl = tw_tcp_next_deadline(&F.c);
    if (dl == TW_TIME_NEVER) FAIL("fixture: advance_to_deadline with no timer armed");
    if (dl <= F.now)
        FAIL("fixture: deadline %llu is not after now %llu", (unsigned long long)dl,
             (unsigned long long)F.now);
    advance(dl - F.now);
}

int user_send(uint32_t seq, uint32_t n) {
    return tw_tcp_send(&F.c, pattern(seq, n), n, F.now);
}

/* ------------------------------------------------------------ formatting */

static void seg_str(const fx_seg *s, char *buf, size_t cap) {
    char fl[64];
    tw_tcp_flags_str(s->flags, fl, sizeof fl);
    snprintf(buf, cap, "%s seq=%u ack=%u len=%u wnd=%u%s t=%.3fs", fl, (unsigned)s->seq,
             (unsigned)s->ack, (unsigned)s->len, (unsigned)s->wnd,
             (s->meta & TW_SEGMETA_RETRANS) ? " [rexmt]" : "", (double)s->t / 1e9);
}

static const char *out_str(void) {
    static char buf[8192];
    size_t n = 0;
    buf[0] = 0;
    if (F.nout == 0) snprintf(buf, sizeof buf, "(nothing)");
    for (int i = 0; i < F.nout && n < sizeof buf - 200; i++) {
        char s[160];
        seg_str(&F.out[i], s, sizeof s);
        n += (size_t)snprintf(buf + n, sizeof buf - n, "\n    [%d] %s", i, s);
    }
    return buf;
}

/* ------------------------------------------------------------ expectations */

void fx_expect_segs(const char *file, int line, int n) {
    if (F.nout != n)
        tw_test_fail(file, line, "expected %d segment(s), got %d:%s", n, F.nout, out_str());
}

void fx_expect_seg(const char *file, int line, int i, uint8_t flags, uint32_t seq, uint32_t ack,
                   uint32_t len) {
    if (i >= F.nout) tw_test_fail(file, line, "no segment [%d]; got:%s", i, out_str());
    const fx_seg *s = &F.out[i];
    if (s->flags != flags || s->seq != seq || s->ack != ack || s->len != len) {
        char fl[64];
        tw_tcp_flags_str(flags, fl, sizeof fl);
        tw_test_fail(file, line, "segment [%d]: expected %s seq=%u ack=%u len=%u; got:%s", i, fl,
                     (unsigned)seq, (unsigned)ack, (unsigned)len, out_str());
    }
}

void fx_expect_payload(const char *file, int line, int i) {
    if (i >= F.nout) tw_test_fail(file, line, "no segment [%d]; got:%s", i, out_str());
    const fx_seg *s = &F.out[i];
    for (uint32_t k = 0; k < s->len; k++)
        if (s->data[k] != fx_byte(s->seq + k))
            tw_test_fail(file, line, "segment [%d]: byte %u (seq %u) is 0x%02x, expected 0x%02x", i,
                         (unsigned)k, (unsigned)(s->seq + k), s->data[k], fx_byte(s->seq + k));
}

static void state_events_str(int from, char *buf, size_t cap) {
    size_t n = 0;
    buf[0] = 0;
    for (int i = from; i < F.nev && n < cap - 64; i++) {
        if (F.ev[i].kind != TW_EV_STATE) continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s:%s", n ? "," : "", tw_state_name(F.ev[i].to),
                              tw_cause_name(F.ev[i].cause));
    }
}

void fx_expect_states(const char *file, int line, const char *want, bool all) {
    int from = all ? 0 : F.mark;
    char got[2048];
    state_events_str(from, got, sizeof got);
    /* The recorded moves must chain: each starts where the previous ended. */
    int prev = -1;
    for (int i = 0; i < F.nev; i++) {
        if (F.ev[i].kind != TW_EV_STATE) continue;
        if (prev >= 0 && F.ev[i].from != prev)
            tw_test_fail(file, line, "trace does not chain: %s then %s -> %s", tw_state_name(prev),
                         tw_state_name(F.ev[i].from), tw_state_name(F.ev[i].to));
        prev = F.ev[i].to;
    }
    char w[1024];
    snprintf(w, sizeof w, "%s", want);
    char *save = NULL;
    char *tok = strtok_r(w, ",", &save);
    int i = from;
    for (; tok; tok = strtok_r(NULL, ",", &save)) {
        while (i < F.nev && F.ev[i].kind != TW_EV_STATE) i++;
        if (i >= F.nev) tw_test_fail(file, line, "states: expected \"%s\", got \"%s\"", want, got);
        char one[128];
        if (strchr(tok, ':'))
            snprintf(one, sizeof one, "%s:%s", tw_state_name(F.ev[i].to),
                     tw_cause_name(F.ev[i].cause));
        else
            snprintf(one, sizeof one, "%s", tw_state_name(F.ev[i].to));
        if (strcmp(one, tok) != 0)
            tw_test_fail(file, line, "states: expected \"%s\", got \"%s\"", want, got);
        i++;
    }
    while (i < F.nev && F.ev[i].kind != TW_EV_STATE) i++;
    if (i < F.nev) tw_test_fail(file, line, "states: expected \"%s\", got \"%s\"", want, got);
}

void fx_expect_timers(const char *file, int line, const char *want) {
    char got[2048];
    size_t n = 0;
    got[0] = 0;
    for (int i = F.mark; i < F.nev && n < sizeof got - 64; i++) {
        if (F.ev[i].kind != TW_EV_TIMER) continue;
        n += (size_t)snprintf(got + n, sizeof got - n, "%s%s", n ? "," : "",
                              tw_timer_name(F.ev[i].cause));
    }
    if (strcmp(got, want) != 0)
        tw_test_fail(file, line, "timers: expected \"%s\", got \"%s\"", want, got);
}

static bool is_reason_counter(int id) {
    static const char *const extra[] = {
        "CHALLENGE_ACK",     "ACK_NOW_OOO", "TW_FIN_REACK",  "TW_RST_IGNORED",
        "TW_REUSE",          "FW2_TIMEOUT", "CONN_TIMEDOUT", "CONN_KEEPALIVE_TIMEDOUT",
        "CONN_USER_TIMEDOUT"};
    const char *n = tw_counter_name(id);
    if (strncmp(n, "DROP_", 5) == 0 || strncmp(n, "RST_", 4) == 0) return true;
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++)
        if (strcmp(n, extra[i]) == 0) return true;
    return false;
}

void fx_expect_counters(const char *file, int line, const char *want) {
    uint64_t expect[TW_C__COUNT];
    memset(expect, 0, sizeof expect);
    char w[1024];
    snprintf(w, sizeof w, "%s", want);
    char *save = NULL;
    for (char *tok = strtok_r(w, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        uint64_t v = 1;
        char *eq = strchr(tok, '=');
        if (eq) {
            *eq = 0;
            v = strtoull(eq + 1, NULL, 10);
        }
        int id = -1;
        for (int k = 0; k < TW_C__COUNT; k++)
            if (strcmp(tw_counter_name(k), tok) == 0) id = k;
        if (id < 0 || !is_reason_counter(id))
            tw_test_fail(file, line, "expect_counters: \"%s\" is not a reason counter", tok);
        expect[id] = v;
    }
    char got[2048];
    size_t n = 0;
    got[0] = 0;
    bool bad = false;
    for (int k = 0; k < TW_C__COUNT; k++) {
        if (!is_reason_counter(k)) continue;
        if (F.counters[k] != expect[k]) bad = true;
        if (F.counters[k] && n < sizeof got - 64)
            n += (size_t)snprintf(got + n, sizeof got - n, "%s%s=%llu", n ? "," : "",
                                  tw_counter_name(k), (unsigned long long)F.counters[k]);
    }
    if (bad) tw_test_fail(file, line, "counters: expected \"%s\", got \"%s\"", want, got);
}

void fx_expect_result(const char *file, int line, tw_tcp_result r, tw_tcp_action act, int reason) {
    static const char *const acts[] = {"ACCEPT", "DROP", "DROP_AFTER_ACK", "DROP_WITH_RST"};
    if (r.action != act || r.reason != reason)
        tw_test_fail(file, line, "result: expected %s/%s, got %s/%s", acts[act],
                     reason ? tw_counter_name(reason) : "0", acts[r.action],
                     r.reason ? tw_counter_name(r.reason) : "0");
}

void fx_expect_state(const char *file, int line, tw_state s) {
    if (F.c.state != s)
        tw_test_fail(file, line, "state: expected %s, got %s", tw_state_name(s),
                     tw_state_name(F.c.state));
}

void fx_expect_recv(const char *file, int line, uint32_t seq, uint32_t n) {
    static uint8_t buf[FX_BUF_CAP];
    if (n > sizeof buf) tw_test_fail(file, line, "expect_recv: %u bytes", (unsigned)n);
    int rc = tw_tcp_recv(&F.c, buf, n, F.now);
    if (rc != (int)n) tw_test_fail(file, line, "recv: expected %u bytes, got %d", (unsigned)n, rc);
    for (uint32_t k = 0; k < n; k++)
        if (buf[k] != fx_byte(seq + k))
            tw_test_fail(file, line, "recv: byte %u (seq %u) is 0x%02x, expected 0x%02x",
                         (unsigned)k, (unsigned)(seq + k), buf[k], fx_byte(seq + k));
}

void fx_expect_deadline_in(const char *file, int line, tw_time_t d) {
    tw_time_t dl = tw_tcp_next_deadline(&F.c);
    tw_time_t want = d == TW_TIME_NEVER ? TW_TIME_NEVER : F.now + d;
    if (dl != want) {
        if (dl == TW_TIME_NEVER)
            tw_test_fail(file, line, "deadline: expected now+%.9fs, got none", (double)d / 1e9);
        if (want == TW_TIME_NEVER)
            tw_test_fail(file, line, "deadline: expected none, got now+%.9fs",
                         (double)(dl - F.now) / 1e9);
        tw_test_fail(file, line, "deadline: expected now+%.9fs, got now%+.9fs", (double)d / 1e9,
                     ((double)dl - (double)F.now) / 1e9);
    }
}

/* ------------------------------------------------------------ setups */

void fx_settle(void) {
    memset(F.counters, 0, sizeof F.counters);
    F.nout = 0;
    F.rsts = 0;
    F.mark = F.nev;
    F.c.events = 0;
}

void conn_closed(void) {
    fx_opts o = have_pending ? pending : fx_defaults();
    have_pending = false;
    memset(&F, 0, sizeof F);
    F.o = o;
    if (F.o.cfg.sndbuf > FX_BUF_CAP || F.o.cfg.rcvbuf > FX_BUF_CAP)
        FAIL("fixture: buffers larger than %u", (unsigned)FX_BUF_CAP);
    F.env.trace = on_trace;
    F.env.trace_ctx = NULL;
    F.env.counters = F.counters;
    tw_tcp_init(&F.c, &F.o.cfg, &F.env, 1, sndmem, rcvmem, 0);
    tw_tcp_set_tuple(&F.c, FX_LADDR, FX_LPORT, FX_RADDR, FX_RPORT);
    expect_state(TW_CLOSED);
    fx_settle();
}

void conn_listen(void) {
    conn_closed();
    ASSERT_EQ(tw_tcp_listen(&F.c, tw_seq(F.o.iss), F.now), 0);
    expect_state(TW_LISTEN);
    fx_settle();
}

void conn_syn_sent(void) {
    conn_closed();
    ASSERT_EQ(tw_tcp_connect(&F.c, tw_seq(F.o.iss), F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, SYN, F.o.iss, 0, 0);
    ASSERT_TRUE(F.out[0].has_mss);
    ASSERT_EQ(F.out[0].mss, F.o.cfg.mss);
    F.syn_tsval = F.out[0].opt.tsval;
    expect_state(TW_SYN_SENT);
    fx_settle();
}

void conn_syn_received(void) {
    conn_listen();
    tw_tcp_opts po = fx_peer_syn_opts();
    send_seg_opt(SYN, F.o.peer_iss, 0, NULL, 0, F.o.peer_wnd, &po);
    expect_segs(1);
    expect_seg(0, SYN | ACK, F.o.iss, F.o.peer_iss + 1, 0);
    ASSERT_TRUE(F.out[0].has_mss);
    F.syn_tsval = F.out[0].opt.tsval;
    expect_state(TW_SYN_RECEIVED);
    fx_settle();
}

void conn_established(void) {
    conn_syn_sent();
    advance(FX_RTT);
    expect_silence();
    tw_tcp_opts po = fx_peer_syn_opts();
    if (po.has_ts) po.tsecr = F.syn_tsval; /* echo our SYN's TSval */
    send_seg_opt(SYN | ACK, F.o.peer_iss, F.o.iss + 1, NULL, 0, F.o.peer_wnd, &po);
    if (F.o.cfg.delack_synack && F.o.cfg.delack_enabled && F.o.peer_wnd) {
        expect_silence(); /* the handshake ACK waits for our data (or the delayed-ACK timer) */
    } else {
        expect_segs(1);
        expect_seg(0, ACK, F.o.iss + 1, F.o.peer_iss + 1, 0);
    }
    expect_state(TW_ESTABLISHED);
    fx_settle();
}

void conn_fin_wait_1(void) {
    conn_established();
    advance(FX_RTT);
    ASSERT_EQ(tw_tcp_shutdown(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, F.o.iss + 1, F.o.peer_iss + 1, 0);
    expect_state(TW_FIN_WAIT_1);
    fx_settle();
}

void conn_fin_wait_2(void) {
    conn_fin_wait_1();
    advance(FX_RTT);
    send_seg(ACK, F.o.peer_iss + 1, F.o.iss + 2, NULL, 0, F.o.peer_wnd);
    expect_silence();
    expect_state(TW_FIN_WAIT_2);
    fx_settle();
}

void conn_closing(void) {
    conn_fin_wait_1();
    advance(FX_RTT);
    send_seg(FIN | ACK, F.o.peer_iss + 1, F.o.iss + 1, NULL, 0, F.o.peer_wnd);
    expect_segs(1);
    expect_seg(0, ACK, F.o.iss + 2, F.o.peer_iss + 2, 0);
    expect_state(TW_CLOSING);
    fx_settle();
}

void conn_time_wait(void) {
    conn_fin_wait_2();
    advance(FX_RTT);
    send_seg(FIN | ACK, F.o.peer_iss + 1, F.o.iss + 2, NULL, 0, F.o.peer_wnd);
    expect_segs(1);
    expect_seg(0, ACK, F.o.iss + 2, F.o.peer_iss + 2, 0);
    expect_state(TW_TIME_WAIT);
    fx_settle();
}

void conn_close_wait(void) {
    conn_established();
    advance(FX_RTT);
    send_seg(FIN | ACK, F.o.peer_iss + 1, F.o.iss + 1, NULL, 0, F.o.peer_wnd);
    if (F.o.cfg.delack_fin && F.o.cfg.delack_enabled) {
        expect_silence(); /* the ACK of the FIN waits for our close */
    } else {
        expect_segs(1);
        expect_seg(0, ACK, F.o.iss + 1, F.o.peer_iss + 2, 0);
    }
    expect_state(TW_CLOSE_WAIT);
    fx_settle();
}

void conn_last_ack(void) {
    conn_close_wait();
    advance(FX_RTT);
    ASSERT_EQ(tw_tcp_close(&F.c, F.now), 0);
    run_output();
    expect_segs(1);
    expect_seg(0, FIN | ACK, F.o.iss + 1, F.o.peer_iss + 2, 0);
    expect_state(TW_LAST_ACK);
    fx_settle();
}
