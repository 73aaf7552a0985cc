/* pkt_run.c - runs a parsed packetdrill-language script (pkt_script.h)
 * against one tcpwave stack on a virtual clock.
 *
 * The stack sends through a capture link that queues every packet with its
 * send time. Before each inbound segment or call, the clock is moved to the
 * statement's time, firing the stack's timers on the way (each at its exact
 * deadline); anything the stack sent meanwhile that no outbound line has
 * claimed is an unexpected segment. An outbound line takes the oldest
 * captured packet, waiting (in virtual time) up to its time plus the
 * tolerance, and compares flags, seq, len, ack, and the window and options
 * when the script gives them. The first difference ends the run with the
 * script line, the expected and the actual segment. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "drive/pkt_run.h"
#include "wire/cksum.h"
#include "wire/ipv4.h"
#include "wire/tcp_hdr.h"

#define T0 1000000000000ull /* script time 0 on the stack's clock: 1000 s */
#define IO_CAP (1u << 20)
#define PKT_CAP (TW_IPV4_HDR_LEN + TW_TCP_MAX_HDR_LEN + 65536)
#define MAX_STEPS 10000000

/* ---- reporting ---- */

void pd_report(pd_runner *r, int status, const pd_event *e, const char *fmt, ...) {
    if (r->status != PD_PASS) return;
    r->status = status;
    if (e)
        fprintf(r->out, "%s:%d: ", r->s->path, e->line);
    else
        fprintf(r->out, "%s: ", r->s->path);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(r->out, fmt, ap);
    va_end(ap);
    fputc('\n', r->out);
    if (e) fprintf(r->out, "  script:   %s\n", e->text);
}

int64_t pd_now(const pd_runner *r) {
    return (int64_t)(tw_stack_now(r->st) - r->t0);
}

static double secs(int64_t ns) {
    return (double)ns / 1e9;
}

/* ---- capture link ---- */

static int cap_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    pd_runner *r = (pd_runner *)l;
    if (r->qhead + r->qn == r->qcap) {
        if (r->qhead) { /* slide down first */
            memmove(r->q, r->q + r->qhead, r->qn * sizeof *r->q);
            r->qhead = 0;
        }
        if (r->qn == r->qcap) {
            size_t ncap = r->qcap ? r->qcap * 2 : 16;
            pd_cap *n = realloc(r->q, ncap * sizeof *n);
            if (!n) return -TW_ENOMEM;
            r->q = n;
            r->qcap = ncap;
        }
    }
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy) return -TW_ENOMEM;
    memcpy(copy, pkt, len);
    r->q[r->qhead + r->qn++] = (pd_cap){now, (uint32_t)len, copy};
    return 0;
}

static const struct tw_link_ops cap_ops = TW_LINK_SEND_ONLY(cap_send);

static void pop_cap(pd_runner *r) {
    free(r->q[r->qhead].data);
    r->qhead++;
    r->qn--;
    if (!r->qn) r->qhead = 0;
}

/* ---- verbose trace ---- */

static void on_trace(void *ctx, const tw_trace_ev *ev) {
    pd_runner *r = ctx;
    if (ev->kind != TW_EV_STATE) return;
    fprintf(r->out, "  %11.6f        %s -> %s  (%s)\n", secs((int64_t)(ev->t - r->t0)),
            tw_state_name(ev->old_state), tw_state_name(ev->new_state), tw_cause_desc(ev->cause));
}

/* ---- segments as the script sees them ---- */

/* Reads a captured packet into script terms (relative seq, raw options). */
static bool decode(pd_runner *r, const pd_cap *c, pd_pkt *p, tw_tcp_seg *seg) {
    memset(p, 0, sizeof *p);
    if (tw_packet_parse(c->data, c->len, seg) != 0) return false;
    size_t ihl = (size_t)(c->data[0] & 0x0f) * 4;
    const uint8_t *tcp = c->data + ihl;
    size_t doff = (size_t)(tcp[12] >> 4) * 4;
    p->flags = seg->flags;
    p->seq = seg->seq.v;
    if (r->isn_known) p->seq = p->seq - r->live_isn + r->script_isn;
    p->len = seg->len;
    p->has_ack = seg->flags & TW_TH_ACK;
    p->ack = seg->ack.v;
    p->has_win = true;
    p->win = seg->wnd;
    p->has_opts = doff > TW_TCP_HDR_LEN;
    for (size_t i = TW_TCP_HDR_LEN; i < doff && p->nopts < PD_MAX_OPTS;) {
        pd_opt *o = &p->opt[p->nopts++];
        memset(o, 0, sizeof *o);
        o->kind = tcp[i];
        if (o->kind == TW_TCPOPT_EOL) break;
        if (o->kind == TW_TCPOPT_NOP) {
            i++;
            continue;
        }
        size_t ol = tcp[i + 1]; /* lengths were checked by tw_packet_parse */
        const uint8_t *v = tcp + i + 2;
        if (o->kind == TW_TCPOPT_MSS) o->mss = (uint16_t)(v[0] << 8 | v[1]);
        if (o->kind == TW_TCPOPT_WS) o->ws = v[0];
        if (o->kind == TW_TCPOPT_TS) {
            o->tsval = (uint32_t)v[0] << 24 | (uint32_t)v[1] << 16 | (uint32_t)v[2] << 8 | v[3];
            o->tsecr = (uint32_t)v[4] << 24 | (uint32_t)v[5] << 16 | (uint32_t)v[6] << 8 | v[7];
        }
        if (o->kind == TW_TCPOPT_SACK) {
            o->nsack = (uint8_t)((ol - 2) / 8);
            for (int k = 0; k < o->nsack && k < 4; k++) {
                const uint8_t *b = v + 8 * k;
                o->sack[k][0] =
                    (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
                o->sack[k][1] =
                    (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
            }
        }
        i += ol;
    }
    return true;
}

static bool opts_equal(const pd_pkt *a, const pd_pkt *b) {
    if (a->nopts != b->nopts) return false;
    for (int i = 0; i < a->nopts; i++) {
        const pd_opt *x = &a->opt[i], *y = &b->opt[i];
        if (x->kind != y->kind || x->mss != y->mss || x->ws != y->ws || x->tsval != y->tsval ||
            x->tsecr != y->tsecr || x->nsack != y->nsack)
            return false;
        for (int k = 0; k < x->nsack; k++)
            if (x->sack[k][0] != y->sack[k][0] || x->sack[k][1] != y->sack[k][1]) return false;
    }
    return true;
}

/* As packetdrill does, an outbound TSval is not checked (it is tcpwave's own
 * clock, with a secret per-connection offset, RFC 7323 §5.4 and §7.1): the
 * first one seen maps the script's TSval to the live one, so inbound TSecr
 * values written as echoes of the script's TSvals reach tcpwave as echoes of
 * its real ones. TSecr is still checked: it echoes the script's TSval. */
static void map_outbound_ts(pd_runner *r, const pd_pkt *want, pd_pkt *got) {
    for (int i = 0; i < got->nopts && i < want->nopts; i++) {
        pd_opt *g = &got->opt[i];
        const pd_opt *w = &want->opt[i];
        if (g->kind != TW_TCPOPT_TS || w->kind != TW_TCPOPT_TS) continue;
        if (!r->ts_known) {
            r->ts_known = true;
            r->live_ts = g->tsval;
            r->script_ts = w->tsval;
        }
        g->tsval = w->tsval;
    }
}

/* The first field where the actual segment differs from the line, or NULL. */
static const char *differs(const pd_pkt *want, const pd_pkt *got) {
    if (want->flags != got->flags) return "flags";
    if (want->seq != got->seq) return "sequence number";
    if (want->len != got->len) return "payload length";
    if (want->has_ack && want->ack != got->ack) return "ack number";
    if (want->has_win && want->win != got->win) return "window";
    if (want->has_opts && !opts_equal(want, got)) return "TCP options";
    return NULL;
}

static void print_actual(pd_runner *r, const char *label, const pd_cap *c) {
    pd_pkt p;
    tw_tcp_seg seg;
    char buf[512];
    if (!decode(r, c, &p, &seg)) {
        fprintf(r->out, "  %s a packet that does not parse (%u bytes) at %.6f\n", label, c->len,
                secs((int64_t)(c->t - r->t0)));
        return;
    }
    pd_pkt_format(&p, buf, sizeof buf);
    fprintf(r->out, "  %s %s  (at %.6f s)\n", label, buf, secs((int64_t)(c->t - r->t0)));
}

/* ---- time ---- */

static void after_step(pd_runner *r);

static void step(pd_runner *r, uint64_t t) {
    if (t < tw_stack_now(r->st)) t = tw_stack_now(r->st);
    tw_stack_poll(r->st, t);
    after_step(r);
}

/* Moves the clock to script time `ns`, firing every deadline on the way. */
static void advance_to(pd_runner *r, int64_t ns, const pd_event *e) {
    uint64_t target = r->t0 + (uint64_t)ns;
    for (long n = 0; r->status == PD_PASS; n++) {
        uint64_t d = tw_stack_next_deadline(r->st);
        if (d > target) break;
        if (n > MAX_STEPS) {
            pd_report(r, PD_ERROR, e, "the stack keeps waking up without time passing");
            return;
        }
        step(r, d);
    }
    if (r->status == PD_PASS && tw_stack_now(r->st) < target) step(r, target);
}

/* ---- outbound lines ---- */

static void expect_outbound(pd_runner *r, const pd_event *e) {
    const pd_pkt *want = &e->pkt;
    bool any = e->t.kind == PD_TIME_ANY;
    int64_t lo = e->start_ns - (int64_t)r->tol;
    int64_t hi = (e->range == PD_RANGE_WINDOW ? e->end_ns : e->start_ns) + (int64_t)r->tol;
    uint64_t limit = any ? UINT64_MAX - 1 : r->t0 + (uint64_t)hi;
    for (long n = 0; r->qn == 0 && r->status == PD_PASS; n++) {
        uint64_t d = tw_stack_next_deadline(r->st);
        if (d > limit || n > MAX_STEPS) break;
        step(r, d);
    }
    if (r->status != PD_PASS) return;
    char buf[512];
    pd_pkt_format(want, buf, sizeof buf);
    if (r->qn == 0) {
        if (any)
            pd_report(r, PD_FAIL, e, "expected segment never sent (the stack has no timer left)");
        else
            pd_report(r, PD_FAIL, e, "expected segment not sent by %.6f s", secs(hi));
        fprintf(r->out, "  expected: %s\n", buf);
        return;
    }
    const pd_cap *c = &r->q[r->qhead];
    pd_pkt got;
    tw_tcp_seg seg;
    if (!decode(r, c, &got, &seg)) {
        pd_report(r, PD_FAIL, e, "tcpwave sent a packet that does not parse");
        return;
    }
    if ((seg.flags & TW_TH_SYN) && (want->flags & TW_TH_SYN)) {
        /* A SYN or SYN-ACK of tcpwave's: its ISN is what the script wrote. */
        r->isn_known = true;
        r->live_isn = seg.seq.v;
        r->script_isn = want->seq;
        got.seq = want->seq;
        if (!(seg.flags & TW_TH_ACK)) {
            r->lport = seg.src_port;
            r->rport = seg.dst_port;
        }
    }
    map_outbound_ts(r, want, &got);
    int64_t at = (int64_t)(c->t - r->t0);
    const char *what = differs(want, &got);
    if (!what &&
        (seg.src_port != r->lport || seg.dst_port != r->rport || seg.dst_addr != PD_REMOTE_ADDR))
        what = "connection (addresses or ports)";
    if (!what && !any && (at < lo || at > hi)) what = "time";
    if (what) {
        pd_report(r, PD_FAIL, e, "segment differs from the script: %s", what);
        if (any)
            fprintf(r->out, "  expected: %s\n", buf);
        else if (e->range == PD_RANGE_WINDOW)
            fprintf(r->out, "  expected: %s  (at %.6f~%.6f s, tolerance %.6f s)\n", buf,
                    secs(e->start_ns), secs(e->end_ns), secs((int64_t)r->tol));
        else
            fprintf(r->out, "  expected: %s  (at %.6f s, tolerance %.6f s)\n", buf,
                    secs(e->start_ns), secs((int64_t)r->tol));
        print_actual(r, "actual:  ", c);
        return;
    }
    if (r->o->verbose) {
        pd_pkt_format(&got, buf, sizeof buf);
        fprintf(r->out, "  %11.6f  %4d  %s\n", secs(at), e->line, buf);
    }
    pop_cap(r);
}

static bool unexpected(pd_runner *r, const pd_event *e) {
    if (r->qn == 0) return false;
    if (e)
        pd_report(r, PD_FAIL, e,
                  "tcpwave sent a segment the script does not expect (before this statement)");
    else
        pd_report(r, PD_FAIL, NULL,
                  "tcpwave sent a segment the script does not expect (after the last statement)");
    print_actual(r, "unexpected:", &r->q[r->qhead]);
    return true;
}

/* ---- inbound lines ---- */

static size_t encode_opts(const pd_runner *r, const pd_pkt *p, uint8_t *o) {
    size_t n = 0;
    for (int i = 0; i < p->nopts; i++) {
        const pd_opt *x = &p->opt[i];
        o[n++] = x->kind;
        switch (x->kind) {
        case TW_TCPOPT_EOL:
        case TW_TCPOPT_NOP: break;
        case TW_TCPOPT_MSS:
            o[n++] = 4;
            o[n++] = (uint8_t)(x->mss >> 8);
            o[n++] = (uint8_t)x->mss;
            break;
        case TW_TCPOPT_WS:
            o[n++] = 3;
            o[n++] = x->ws;
            break;
        case TW_TCPOPT_SACK_OK: o[n++] = 2; break;
        case TW_TCPOPT_TS:
            o[n++] = 10;
            for (int k = 3; k >= 0; k--) o[n++] = (uint8_t)(x->tsval >> (8 * k));
            uint32_t ecr = x->tsecr;
            if (ecr && r->ts_known) ecr = ecr - r->script_ts + r->live_ts; /* map_outbound_ts */
            for (int k = 3; k >= 0; k--) o[n++] = (uint8_t)(ecr >> (8 * k));
            break;
        default: /* SACK */
            o[n++] = (uint8_t)(2 + 8 * x->nsack);
            for (int b = 0; b < x->nsack; b++)
                for (int e = 0; e < 2; e++)
                    for (int k = 3; k >= 0; k--) o[n++] = (uint8_t)(x->sack[b][e] >> (8 * k));
        }
    }
    while (n % 4) o[n++] = 0; /* zero padding (RFC 9293 MUST-69) */
    return n;
}

static void put16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v) {
    put16(p, v >> 16), put16(p + 2, v);
}

static size_t build_inbound(pd_runner *r, const pd_pkt *p, uint8_t *buf) {
    uint8_t opts[48];
    size_t ol = encode_opts(r, p, opts);
    size_t hl = TW_TCP_HDR_LEN + ol, tl = hl + p->len;
    uint8_t *t = buf + TW_IPV4_HDR_LEN;
    uint32_t ack = p->ack;
    if (p->has_ack && r->isn_known) ack = ack - r->script_isn + r->live_isn;
    memset(t, 0, tl);
    put16(t, r->rport);
    put16(t + 2, r->lport);
    put32(t + 4, p->seq);
    put32(t + 8, p->has_ack ? ack : 0);
    t[12] = (uint8_t)((hl / 4) << 4);
    t[13] = p->flags;
    put16(t + 14, p->has_win ? p->win : 65535);
    memcpy(t + TW_TCP_HDR_LEN, opts, ol);
    return tl; /* the payload is zeros */
}

static void inject(pd_runner *r, const pd_event *e) {
    uint32_t laddr = r->laddr;
    size_t tl = build_inbound(r, &e->pkt, r->io);
    uint8_t *t = r->io + TW_IPV4_HDR_LEN;
    uint64_t acc = tw_cksum_pseudo(PD_REMOTE_ADDR, laddr, TW_IPPROTO_TCP, (uint16_t)tl);
    put16(t + 16, tw_cksum_fin(tw_cksum_add(acc, t, tl)));
    tw_ipv4_hdr ip = {.src = PD_REMOTE_ADDR,
                      .dst = laddr,
                      .proto = TW_IPPROTO_TCP,
                      .ttl = 64,
                      .id = r->ip_id++,
                      .total_len = (uint16_t)(TW_IPV4_HDR_LEN + tl)};
    tw_ipv4_emit(&ip, r->io, TW_IPV4_HDR_LEN);
    if (r->o->verbose) {
        char buf[512];
        pd_pkt_format(&e->pkt, buf, sizeof buf);
        fprintf(r->out, "  %11.6f  %4d  %s\n", secs(pd_now(r)), e->line, buf);
    }
    tw_stack_input(r->st, tw_stack_now(r->st), r->io, TW_IPV4_HDR_LEN + tl);
    step(r, tw_stack_now(r->st));
}

/* ---- calls ---- */

static void finish_call(pd_runner *r, const pd_event *e, pd_result res) {
    if (e->range == PD_RANGE_BLOCK) {
        int64_t now = pd_now(r);
        if (now < e->end_ns - (int64_t)r->tol || now > e->end_ns + (int64_t)r->tol) {
            pd_report(r, PD_FAIL, e,
                      "%s() returned at %.6f s, expected at %.6f s (tolerance %.6f s)",
                      pd_call_str(e->call.name), secs(now), secs(e->end_ns), secs((int64_t)r->tol));
            return;
        }
    }
    pd_sys_check(r, e, res);
    if (r->status == PD_PASS && r->o->verbose)
        fprintf(r->out, "  %11.6f  %4d  %s\n", secs(pd_now(r)), e->line, e->text);
}

static void drain_events(pd_runner *r) {
    tw_event ev;
    while (tw_next_event(r->st, &ev)) pd_sys_event(r, &ev);
}

/* After every step of the stack: socket events, then the blocked call. */
static void after_step(pd_runner *r) {
    drain_events(r);
    if (!r->pending || r->status != PD_PASS) return;
    const pd_event *e = r->pending;
    pd_result res = pd_sys_exec(r, e, true);
    if (res.blocked) return;
    r->pending = NULL;
    finish_call(r, e, res);
    tw_stack_poll(r->st, tw_stack_now(r->st)); /* what the call queued */
    drain_events(r);
}

static void run_call(pd_runner *r, const pd_event *e) {
    if (r->pending) {
        pd_report(r, PD_ERROR, e, "a call while %s() of line %d is still blocked is not supported",
                  pd_call_str(r->pending->call.name), r->pending->line);
        return;
    }
    pd_result res = pd_sys_exec(r, e, false);
    if (r->status != PD_PASS) return;
    if (res.blocked) {
        if (e->range != PD_RANGE_BLOCK) {
            pd_report(r, PD_FAIL, e,
                      "%s() blocked; the script expects it to return at once "
                      "(a blocking call is written START...END)",
                      pd_call_str(e->call.name));
            return;
        }
        r->pending = e;
    } else {
        finish_call(r, e, res);
    }
    step(r, tw_stack_now(r->st));
}

/* ---- the event loop ---- */

static void run_event(pd_runner *r, const pd_event *e) {
    if (e->type == PD_EV_PACKET && !e->pkt.inbound) {
        expect_outbound(r, e);
        return;
    }
    advance_to(r, e->start_ns, e);
    if (r->status != PD_PASS || unexpected(r, e)) return;
    if (e->type == PD_EV_PACKET)
        inject(r, e);
    else
        run_call(r, e);
}

static int setup(pd_runner *r, const pd_script *s, const pd_run_opts *o) {
    pd_settings set;
    char err[256];
    pd_settings_default(&set);
    if (pd_settings_apply(&set, s->flags, err, sizeof err)) {
        fprintf(r->out, "%s: tcpwave-flags: %s\n", s->path, err);
        return PD_ERROR;
    }
    if (pd_settings_apply(&set, o->flags, err, sizeof err)) {
        fprintf(r->out, "%s: --so-flags: %s\n", s->path, err);
        return PD_ERROR;
    }
    r->tol = set.tolerance_ns;
    if (s->has_tolerance) r->tol = s->tolerance_ns;
    if (o->has_tolerance) r->tol = o->tolerance_ns;
    r->laddr = set.cfg.addr;
    if (o->verbose) {
        set.cfg.trace = on_trace;
        set.cfg.trace_ctx = r;
    }
    r->link.ops = &cap_ops;
    r->iocap = IO_CAP > PKT_CAP ? IO_CAP : PKT_CAP;
    r->io = malloc(r->iocap);
    if (!r->io) {
        fprintf(r->out, "%s: out of memory\n", s->path);
        return PD_ERROR;
    }
    int rc = tw_stack_new(&set.cfg, &r->link, &r->st);
    if (rc) {
        fprintf(r->out, "%s: the stack refuses these settings (%s)\n", s->path, tw_strerror(rc));
        return PD_ERROR;
    }
    r->t0 = T0;
    r->lport = PD_BIND_PORT;
    r->rport = PD_REMOTE_PORT;
    tw_stack_poll(r->st, r->t0);
    return PD_PASS;
}

int pd_run(const pd_script *s, const pd_run_opts *o) {
    pd_runner *r = calloc(1, sizeof *r);
    if (!r) return PD_ERROR;
    r->s = s;
    r->o = o;
    r->out = o->out ? o->out : stdout;
    int status = setup(r, s, o);
    if (status == PD_PASS) {
        for (size_t i = 0; i < s->n && r->status == PD_PASS; i++) run_event(r, &s->ev[i]);
        if (r->status == PD_PASS && r->pending)
            pd_report(r, PD_FAIL, r->pending, "%s() never returned",
                      pd_call_str(r->pending->call.name));
        if (r->status == PD_PASS) unexpected(r, NULL);
        status = r->status;
    }
    if (r->st) tw_stack_free(r->st);
    while (r->qn) pop_cap(r);
    free(r->q);
    free(r->io);
    free(r);
    return status;
}
