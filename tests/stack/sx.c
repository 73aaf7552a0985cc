/* sx.c - see sx.h. */
#include "sx.h"

#include "test.h"
#include "util/time.h"

/* ---- capture link ---- */

static int cap_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    sx *x = (sx *)l;
    if (x->nout == x->capout) {
        x->capout = x->capout ? 2 * x->capout : 64;
        x->out = realloc(x->out, x->capout * sizeof *x->out);
        if (!x->out) abort();
    }
    sx_pkt *p = &x->out[x->nout++];
    memset(p, 0, sizeof *p);
    p->t = now;
    if (tw_packet_parse(pkt, len, &p->seg) != 0) {
        fprintf(stderr, "sx: the stack sent a packet that does not parse\n");
        abort();
    }
    if (p->seg.len > sizeof p->payload) abort();
    memcpy(p->payload, p->seg.payload, p->seg.len);
    p->seg.payload = p->payload;
    return 0;
}

static const struct tw_link_ops cap_ops = TW_LINK_SEND_ONLY(cap_send);

static void on_trace(void *ctx, const tw_trace_ev *ev) {
    sx *x = ctx;
    if (x->nev == x->capev) {
        x->capev = x->capev ? 2 * x->capev : 256;
        x->ev = realloc(x->ev, x->capev * sizeof *x->ev);
        if (!x->ev) abort();
    }
    x->ev[x->nev++] = *ev;
}

void sx_init(sx *x, const tw_stack_cfg *cfg) {
    memset(x, 0, sizeof *x);
    x->link.ops = &cap_ops;
    tw_stack_cfg c;
    if (cfg)
        c = *cfg;
    else
        tw_stack_cfg_default(&c);
    if (c.seed == TW_SEED_RANDOM) c.seed = 1; /* tests replay exactly */
    c.addr = SX_ADDR;
    c.trace = on_trace;
    c.trace_ctx = x;
    x->now = SX_T0;
    int rc = tw_stack_new(&c, &x->link, &x->st);
    if (rc) FAIL("tw_stack_new: %d", rc);
    /* Start the stack's clock at SX_T0. */
    tw_stack_poll(x->st, x->now);
}

void sx_free(sx *x) {
    tw_stack_free(x->st);
    free(x->out);
    free(x->ev);
    memset(x, 0, sizeof *x);
}

/* ---- packets in ---- */

sx_seg sx_mk(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack) {
    sx_seg s;
    memset(&s, 0, sizeof s);
    s.src = SX_PEER;
    s.dst = SX_ADDR;
    s.sport = sport;
    s.dport = dport;
    s.flags = flags;
    s.seq = seq;
    s.ack = ack;
    s.wnd = 65535;
    return s;
}

size_t sx_build(const sx_seg *s, uint8_t *buf, size_t cap) {
    tw_tcp_seg seg;
    memset(&seg, 0, sizeof seg);
    seg.src_addr = s->src;
    seg.dst_addr = s->dst;
    seg.src_port = s->sport;
    seg.dst_port = s->dport;
    seg.seq = tw_seq(s->seq);
    seg.ack = tw_seq(s->ack);
    seg.flags = s->flags;
    seg.wnd = s->wnd;
    seg.urp = s->urp;
    seg.ip_tos = s->tos;
    seg.payload = s->data;
    seg.len = s->len;
    if (s->mss) {
        seg.opt.has_mss = true;
        seg.opt.mss = s->mss;
    }
    if (s->opt) seg.opt = *s->opt;
    int n = tw_packet_emit(&seg, 7, buf, cap);
    if (n <= 0) FAIL("tw_packet_emit failed: %d", n);
    return (size_t)n;
}

int sx_input_raw(sx *x, uint64_t t, const uint8_t *pkt, size_t len) {
    if (t > x->now) x->now = t;
    return tw_stack_input(x->st, x->now, pkt, len);
}

int sx_input(sx *x, uint64_t t, const sx_seg *s) {
    uint8_t buf[2048];
    size_t n = sx_build(s, buf, sizeof buf);
    return sx_input_raw(x, t, buf, n);
}

int sx_input_deferred(sx *x, uint64_t t, const sx_seg *s) {
    uint8_t buf[2048];
    size_t n = sx_build(s, buf, sizeof buf);
    if (t > x->now) x->now = t;
    return tw_stack_input_deferred(x->st, x->now, buf, n);
}

int sx_poll(sx *x, uint64_t t) {
    if (t > x->now) x->now = t;
    return tw_stack_poll(x->st, x->now);
}

void sx_run_until(sx *x, uint64_t t) {
    for (int guard = 0; guard < 100000; guard++) {
        uint64_t d = tw_stack_next_deadline(x->st);
        if (d > t) break;
        sx_poll(x, d > x->now ? d : x->now);
    }
    sx_poll(x, t);
}

/* ---- packets out ---- */

size_t sx_nsent(const sx *x) {
    return x->nout;
}
const sx_pkt *sx_sent(const sx *x, size_t i) {
    return i < x->nout ? &x->out[i] : NULL;
}

const sx_pkt *sx_take(sx *x, size_t *cursor) {
    if (*cursor >= x->nout)
        FAIL("expected the stack to have sent segment #%zu, it sent %zu", *cursor, x->nout);
    return &x->out[(*cursor)++];
}

void sx_expect_seg(const sx_pkt *p, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                   const char *file, int line) {
    char got[64], want[64];
    tw_tcp_flags_str(p->seg.flags, got, sizeof got);
    tw_tcp_flags_str(flags, want, sizeof want);
    bool ack_ok = !(flags & TW_TH_ACK) || p->seg.ack.v == ack;
    if (p->seg.flags != flags || p->seg.seq.v != seq || !ack_ok || p->seg.len != len)
        tw_test_fail(file, line,
                     "segment: got %s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32
                     ", expected %s seq=%" PRIu32 " ack=%" PRIu32 " len=%" PRIu32,
                     got, p->seg.seq.v, p->seg.ack.v, p->seg.len, want, seq, ack, len);
}

/* ---- trace ---- */

size_t sx_count_ev(const sx *x, int kind) {
    size_t n = 0;
    for (size_t i = 0; i < x->nev; i++) n += x->ev[i].kind == kind;
    return n;
}

uint64_t sx_state_time(const sx *x, int from, int to, int nth) {
    for (size_t i = 0; i < x->nev; i++) {
        const tw_trace_ev *e = &x->ev[i];
        if (e->kind == TW_EV_STATE && e->old_state == from && e->new_state == to && nth-- == 0)
            return e->t;
    }
    return UINT64_MAX;
}

const uint64_t *sx_ctr(const sx *x) {
    return tw_stack_counters(x->st);
}

/* ---- scripted connections ---- */

int sx_listen(sx *x, uint16_t port, int backlog) {
    int s = tw_socket(x->st);
    ASSERT_CMP(s, >=, 0);
    ASSERT_EQ(tw_bind(x->st, s, port), 0);
    ASSERT_EQ(tw_listen(x->st, s, backlog), 0);
    return s;
}

void sx_passive_open(sx *x, sx_conn *c, int lsock, uint16_t lport, uint16_t rport, uint32_t isn,
                     size_t *cursor) {
    memset(c, 0, sizeof *c);
    c->lport = lport;
    c->rport = rport;
    c->irs = isn;
    sx_seg syn = sx_mk(rport, lport, TW_TH_SYN, isn, 0);
    syn.mss = 1460;
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &syn), 0);
    const sx_pkt *sa = sx_take(x, cursor);
    ASSERT_EQ(sa->seg.flags, TW_TH_SYN | TW_TH_ACK);
    ASSERT_EQ(sa->seg.ack.v, isn + 1);
    ASSERT_TRUE(sa->seg.opt.has_mss);
    c->iss = sa->seg.seq.v;
    c->snd = c->iss + 1;
    c->rcv = isn + 1;
    sx_seg ack = sx_mk(rport, lport, TW_TH_ACK, c->rcv, c->snd);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &ack), 0);
    sx_poll(x, x->now);
    c->sock = tw_accept(x->st, lsock, NULL, NULL);
    ASSERT_CMP(c->sock, >=, 0);
    sx_poll(x, x->now);
}

void sx_active_open(sx *x, sx_conn *c, uint16_t rport, uint32_t isn, size_t *cursor) {
    memset(c, 0, sizeof *c);
    c->rport = rport;
    c->irs = isn;
    c->sock = tw_socket(x->st);
    ASSERT_CMP(c->sock, >=, 0);
    ASSERT_EQ(tw_connect(x->st, c->sock, SX_PEER, rport), 0);
    sx_poll(x, x->now);
    const sx_pkt *syn = sx_take(x, cursor);
    ASSERT_EQ(syn->seg.flags, TW_TH_SYN);
    c->lport = syn->seg.src_port;
    c->iss = syn->seg.seq.v;
    c->snd = c->iss + 1;
    c->rcv = isn + 1;
    sx_seg sa = sx_mk(rport, c->lport, TW_TH_SYN | TW_TH_ACK, isn, c->snd);
    sa.mss = 1460;
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &sa), 0);
    SX_EXPECT(sx_take(x, cursor), TW_TH_ACK, c->snd, c->rcv, 0);
    sx_poll(x, x->now);
}

uint64_t sx_active_close(sx *x, sx_conn *c, size_t *cursor) {
    ASSERT_EQ(tw_close(x->st, c->sock), 0);
    sx_poll(x, x->now + TW_MS(1));
    SX_EXPECT(sx_take(x, cursor), TW_TH_FIN | TW_TH_ACK, c->snd, c->rcv, 0);
    c->snd++;
    sx_seg ack = sx_mk(c->rport, c->lport, TW_TH_ACK, c->rcv, c->snd);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &ack), 0);
    sx_seg fin = sx_mk(c->rport, c->lport, TW_TH_FIN | TW_TH_ACK, c->rcv, c->snd);
    ASSERT_EQ(sx_input(x, x->now + TW_MS(1), &fin), 0);
    c->rcv++;
    SX_EXPECT(sx_take(x, cursor), TW_TH_ACK, c->snd, c->rcv, 0);
    sx_poll(x, x->now);
    return x->now;
}
