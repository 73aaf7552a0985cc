/* test_differential.c - the capture analyzer against tcpwave itself: each
 * demo scenario runs once with a trace observer (the states tcpwave's
 * stacks went through) and the pcap writer (what the link delivered or
 * lost, as `tcpwave demo --pcap` writes it); the analyzer's per-endpoint
 * states read from the capture must equal the traced ones, and the close
 * kind and diagnoses must match the scenario. Also a few hand-made packet
 * sequences for what the scenarios do not show (incarnations, RST in
 * TIME_WAIT, data after FIN, long CLOSE_WAIT). */
#include <stdlib.h>
#include <unistd.h>

#include "analyze.h"
#include "drive/scenario.h"
#include "drive/world.h"
#include "util/time.h"
#include "link/pcap.h"
#include "test.h"
#include "view/ladder.h"
#include "wire/tcp_hdr.h"

#define MAXC 8

typedef struct run {
    uint8_t traced[2][32]; /* states entered per host, from the trace */
    int ntraced[2];
    tw_pcap *pc;
    tw_an_conn got[MAXC];
    int ngot;
} run;

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    run *r = ctx;
    if (ev->kind != TW_EV_STATE || ev->conn_id == 0 || host < 0 || host > 1) return;
    if (r->ntraced[host] < 32) r->traced[host][r->ntraced[host]++] = ev->new_state;
}

static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)from, (void)to, (void)nth;
    run *r = ctx;
    if (ev == TW_SIM_DELIVERED || ev == TW_SIM_DROPPED_LOSS || ev == TW_SIM_DROPPED_RULE)
        ASSERT_EQ(tw_pcap_write(r->pc, now, pkt, len), 0);
}

static void on_conn(void *ctx, const tw_an_conn *c) {
    run *r = ctx;
    if (r->ngot < MAXC) r->got[r->ngot++] = *c;
}

static void analyze_file(const char *path, run *r) {
    tw_an_opts o;
    tw_an_opts_default(&o);
    tw_an *a;
    tw_an_reader *rd;
    char err[256];
    ASSERT_EQ(tw_an_new(&o, on_conn, r, &a), 0);
    ASSERT_EQ(tw_an_open_file(path, &rd, err, sizeof err), 0);
    tw_an_pkt p;
    int rc;
    while ((rc = tw_an_next(rd, &p, err, sizeof err)) == 1) ASSERT_EQ(tw_an_feed(a, &p), 0);
    ASSERT_EQ(rc, 0);
    ASSERT_EQ(tw_an_finish(a), 0);
    tw_an_close(rd);
    tw_an_free(a);
}

static void run_scenario(int id, run *r) {
    memset(r, 0, sizeof *r);
    char path[] = "/tmp/tw-an-diff-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_RAW, &r->pc), 0);
    tw_scn_opts o;
    tw_scn_opts_default(&o);
    o.trace = on_trace;
    o.trace_ctx = r;
    o.link_observer = on_link;
    o.link_ctx = r;
    tw_scn_result res;
    ASSERT_EQ(tw_scn_run(id, &o, &res), 0);
    ASSERT_EQ(tw_pcap_close(r->pc), 0);
    analyze_file(path, r);
    unlink(path);
}

static bool has_diag(const tw_an_conn *c, int code) {
    for (int i = 0; i < c->ndiag; i++)
        if (c->diag[i].code == code) return true;
    return false;
}

static void check_states(int id, int kind, int diag) {
    run r;
    tw_test_context("scenario %s", tw_scn_name(id));
    run_scenario(id, &r);
    ASSERT_EQ(r.ngot, 1);
    const tw_an_conn *c = &r.got[0];
    for (int h = 0; h < 2; h++) {
        const tw_an_side *s = &c->s[h];
        /* path[0] is the assumed start (CLOSED / LISTEN) the trace does not move into */
        char want[400] = "", got[400] = "";
        for (int k = 0; k < r.ntraced[h]; k++)
            snprintf(want + strlen(want), sizeof want - strlen(want), " %s",
                     tw_state_name(r.traced[h][k]));
        for (int k = 1; k < s->npath; k++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %s",
                     tw_state_name(s->path[k].state));
        if (strcmp(want, got))
            tw_test_fail(__FILE__, __LINE__, "%s %s: traced%s, analyzed%s", tw_scn_name(id),
                         h ? "server" : "client", want, got);
    }
    ASSERT_EQ(c->kind, kind);
    if (diag >= 0) ASSERT_TRUE(has_diag(c, diag));
    ASSERT_FALSE(has_diag(c, TW_AD_UNTERMINATED));
}

TEST(client_close) {
    check_states(TW_SCN_CLIENT_CLOSE, TW_AK_FOUR_WAY, -1);
}
TEST(server_close) {
    check_states(TW_SCN_SERVER_CLOSE, TW_AK_FOUR_WAY, -1);
}
TEST(three_way) {
    check_states(TW_SCN_THREE_WAY, TW_AK_THREE_WAY, TW_AD_THREE_WAY);
}
TEST(simultaneous) {
    check_states(TW_SCN_SIMULTANEOUS, TW_AK_SIMULTANEOUS, TW_AD_SIMULTANEOUS);
}
TEST(half_close) {
    check_states(TW_SCN_HALF_CLOSE, TW_AK_HALF_CLOSE, TW_AD_HALF_CLOSE);
}
TEST(lost_final_ack) {
    check_states(TW_SCN_LOST_FINAL_ACK, TW_AK_FOUR_WAY, TW_AD_FINAL_ACK_LOST);
}
/* The demo's abort and unread-data runs put the same bytes on the wire:
 * the client resets 1 ms after the reply arrived, before its delayed ACK,
 * so nothing shows whether it read the reply. The analyzer must say so,
 * not guess. */
static void check_rst_unknown(int id) {
    run r;
    check_states(id, TW_AK_ABORT, TW_AD_ABORT_OR_UNREAD);
    run_scenario(id, &r);
    const tw_an_conn *c = &r.got[0];
    ASSERT_EQ(c->s[0].rst_verdict, TW_AN_RST_UNKNOWN);
    ASSERT_EQ(c->s[0].rst_pending, 200); /* the reply, never ACKed */
    ASSERT_FALSE(has_diag(c, TW_AD_ABORT));
    ASSERT_FALSE(has_diag(c, TW_AD_UNREAD_RST));
}
TEST(abort) {
    check_rst_unknown(TW_SCN_ABORT);
}
TEST(unread_data) {
    check_rst_unknown(TW_SCN_UNREAD_DATA);
}

TEST(first_closer_and_marks) {
    run r;
    run_scenario(TW_SCN_SERVER_CLOSE, &r);
    const tw_an_conn *c = &r.got[0];
    ASSERT_EQ(c->first_closer, 1);
    /* the server's FIN_WAIT_1 is proven by its FIN; FIN_WAIT_2 only by the ACK it got */
    const tw_an_side *s = &c->s[1];
    int fw1 = -1, fw2 = -1;
    for (int k = 0; k < s->npath; k++) {
        if (s->path[k].state == TW_FIN_WAIT_1) fw1 = k;
        if (s->path[k].state == TW_FIN_WAIT_2) fw2 = k;
    }
    ASSERT_TRUE(fw1 > 0 && fw2 > 0);
    ASSERT_EQ(s->path[fw1].mark, TW_AN_OBSERVED);
    ASSERT_EQ(s->path[fw2].mark, TW_AN_INFERRED);
    ASSERT_EQ(s->path[s->npath - 1].mark, TW_AN_ASSUMED); /* CLOSED after 2MSL */
}

/* ---- abort vs close with unread data, told apart by the window ----
 * tcpwave's own stacks, the client with a 4 KB receive ring: the server
 * sends 3000 bytes; the client's delayed ACK shows its window fallen to
 * 1096; 300 ms later it either reads them (its window update gives the room
 * back) and aborts 100 ms after, or closes without reading (RST, RFC 9293
 * 3.10.4). */

typedef struct rst_app {
    bool read_first; /* abort after reading, else close unread */
    int lsock, ssock, csock;
    int step;
} rst_app;

static void rst_client(tw_world *w, int host, const tw_event *ev, void *ctx) {
    rst_app *a = ctx;
    tw_stack *st = tw_world_stack(w, host);
    uint8_t buf[4096];
    if (!ev) {
        if (a->step == 1 && a->read_first) {
            while (tw_recv(st, a->csock, buf, sizeof buf) > 0) {
            }
            a->step = 2;
            tw_world_wake_at(w, host, tw_world_now(w) + TW_MS(100));
        } else if (a->step == 1) {
            tw_close(st, a->csock); /* 3000 bytes unread: RST */
            a->step = 3;
        } else if (a->step == 2) {
            tw_abort(st, a->csock);
            a->step = 3;
        }
        return;
    }
    if (ev->sock != a->csock) return;
    if (ev->what & TW_EVT_CONNECTED) {
        memset(buf, 'q', 100);
        tw_send(st, a->csock, buf, 100);
    }
    if ((ev->what & TW_EVT_READABLE) && a->step == 0) {
        a->step = 1;
        tw_world_wake_at(w, host, tw_world_now(w) + TW_MS(300));
    }
}

static void rst_server(tw_world *w, int host, const tw_event *ev, void *ctx) {
    rst_app *a = ctx;
    tw_stack *st = tw_world_stack(w, host);
    uint8_t buf[3000];
    if (!ev) return;
    if (ev->sock == a->lsock && (ev->what & TW_EVT_ACCEPTABLE)) {
        a->ssock = tw_accept(st, a->lsock, NULL, NULL);
        tw_close(st, a->lsock);
        return;
    }
    if (ev->sock != a->ssock) return;
    if (ev->what & TW_EVT_READABLE) {
        int n = tw_recv(st, a->ssock, buf, sizeof buf);
        if (n == 100) {
            memset(buf, 'r', sizeof buf);
            ASSERT_EQ(tw_send(st, a->ssock, buf, sizeof buf), 3000);
        }
    }
    if (ev->what & TW_EVT_CLOSED) tw_close(st, a->ssock);
}

static void run_rst_variant(bool read_first, run *r) {
    memset(r, 0, sizeof *r);
    char path[] = "/tmp/tw-an-rst-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_RAW, &r->pc), 0);
    tw_world *w = tw_world_new(1);
    ASSERT_TRUE(w != NULL);
    tw_world_set_trace(w, on_trace, r);
    tw_sim_set_observer(tw_world_sim(w), on_link, r);
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    tw_sim_cfg link;
    memset(&link, 0, sizeof link);
    link.delay_ns = TW_MS(1);
    cfg.rcvbuf = 4096;
    int ch = tw_world_add_host(w, "client", TW_SCN_CLIENT_ADDR, &cfg, &link);
    tw_stack_cfg_default(&cfg);
    cfg.seed = 1; /* reproducible runs (the default is TW_SEED_RANDOM) */
    int sh = tw_world_add_host(w, "server", TW_SCN_SERVER_ADDR, &cfg, &link);
    ASSERT_TRUE(ch >= 0 && sh >= 0);
    rst_app app;
    memset(&app, 0, sizeof app);
    app.read_first = read_first;
    tw_stack *cs = tw_world_stack(w, ch), *ss = tw_world_stack(w, sh);
    app.lsock = tw_socket(ss);
    ASSERT_EQ(tw_bind(ss, app.lsock, 80), 0);
    ASSERT_EQ(tw_listen(ss, app.lsock, 4), 0);
    app.csock = tw_socket(cs);
    ASSERT_EQ(tw_connect(cs, app.csock, TW_SCN_SERVER_ADDR, 80), 0);
    tw_world_set_app(w, ch, rst_client, &app);
    tw_world_set_app(w, sh, rst_server, &app);
    tw_world_run(w, TW_SEC(600), 100000);
    ASSERT_TRUE(tw_world_idle(w));
    ASSERT_EQ(app.step, 3);
    tw_world_free(w);
    ASSERT_EQ(tw_pcap_close(r->pc), 0);
    analyze_file(path, r);
    unlink(path);
}

/* the analyzed states equal the traced ones, and the verdict is right */
static const tw_an_conn *check_rst_variant(bool read_first, run *r) {
    run_rst_variant(read_first, r);
    ASSERT_EQ(r->ngot, 1);
    const tw_an_conn *c = &r->got[0];
    for (int h = 0; h < 2; h++) {
        ASSERT_EQ(c->s[h].npath, r->ntraced[h] + 1);
        for (int k = 0; k < r->ntraced[h]; k++)
            ASSERT_EQ(c->s[h].path[k + 1].state, r->traced[h][k]);
    }
    ASSERT_EQ(c->kind, TW_AK_ABORT);
    ASSERT_EQ(c->first_closer, 0);
    ASSERT_TRUE(c->s[0].rst);
    ASSERT_FALSE(has_diag(c, TW_AD_ABORT_OR_UNREAD));
    return c;
}

TEST(abort_after_reading_is_an_abortive_close) {
    run r;
    const tw_an_conn *c = check_rst_variant(true, &r);
    ASSERT_EQ(c->s[0].rst_verdict, TW_AN_RST_ABORT);
    ASSERT_TRUE(has_diag(c, TW_AD_ABORT));
    ASSERT_FALSE(has_diag(c, TW_AD_UNREAD_RST));
    ASSERT_EQ(c->s[0].path[c->s[0].npath - 1].cause, TW_CAUSE_USER_ABORT);
    /* evidence: the server's data, the client's window update, the RST */
    const tw_an_diag *d = NULL;
    for (int i = 0; i < c->ndiag; i++)
        if (c->diag[i].code == TW_AD_ABORT) d = &c->diag[i];
    ASSERT_EQ(d->nframes, 3);
    ASSERT_EQ(d->frames[1], c->s[0].reopen_frame);
    ASSERT_EQ(d->frames[2], c->s[0].rst_frame);
    ASSERT_TRUE(c->s[0].reopen_frame > c->s[1].last_data_frame);
}

TEST(close_unread_is_rst_with_unread_data) {
    run r;
    const tw_an_conn *c = check_rst_variant(false, &r);
    ASSERT_EQ(c->s[0].rst_verdict, TW_AN_RST_UNREAD);
    ASSERT_TRUE(has_diag(c, TW_AD_UNREAD_RST));
    ASSERT_FALSE(has_diag(c, TW_AD_ABORT));
    ASSERT_EQ(c->s[0].path[c->s[0].npath - 1].cause, TW_CAUSE_USER_CLOSE_UNREAD);
    /* the window fell by exactly the 3000 unread bytes */
    ASSERT_EQ(c->s[0].rst_wnd_from, 4096);
    ASSERT_EQ(c->s[0].rst_wnd_to, 1096);
    ASSERT_EQ(c->s[0].rst_held, 3000);
    ASSERT_EQ(c->s[0].rst_pending, 0);
}

/* ---- times: relative and absolute (ISO 8601 UTC) in text and JSON ---- */

TEST(times_text_and_json) {
    char b[48];
    ASSERT_STREQ(tw_an_iso_time(1796015227746205000ull, b, sizeof b),
                 "2026-11-30T05:07:07.746205Z");
    ASSERT_STREQ(tw_an_iso_time(0, b, sizeof b), "1970-01-01T00:00:00.000000Z");
    run r;
    run_scenario(TW_SCN_ABORT, &r); /* frames at 1..5 ms of the virtual clock */
    const tw_an_conn *c = &r.got[0];
    ASSERT_EQ(c->capture_t0, 1000000);
    tw_sbuf out;
    tw_sbuf_init(&out);
    tw_an_text(c, TW_AN_TIME_ABS, &out);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "  time: first frame 1970-01-01T00:00:00.001000Z, last "
                                          "frame 1970-01-01T00:00:00.005000Z (UTC)\n") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "    CLOSED       observed  frame 6      "
                                          "1970-01-01T00:00:00.005000Z  (user abort") != NULL);
    out.len = 0;
    tw_an_text(c, TW_AN_TIME_REL, &out);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out),
                       "  time: first frame +0.000000, last frame +0.004000 (s") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out),
                       "    ESTABLISHED  observed  frame 2      +0.001000    3.000 ms") != NULL);
    out.len = 0;
    tw_an_json(c, &out);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out),
                       "\"first_time\":\"1970-01-01T00:00:00.001000Z\",\"last_time\":"
                       "\"1970-01-01T00:00:00.005000Z\"") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "{\"state\":\"CLOSED\",\"mark\":\"observed\",\"frame\":6,"
                                          "\"t\":5000000,\"time\":\"1970-01-01T00:00:00.005000Z\","
                                          "\"rel_s\":0.004000,") != NULL);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "\"rst_verdict\":\"abort_or_unread\"") != NULL);
    tw_sbuf_free(&out);
}

/* ---- hand-made packet sequences ---- */

typedef struct hand {
    tw_an *a;
    run r;
    uint64_t frame;
    uint8_t tos; /* the IPv4 TOS octet of the packets pkt() makes */
} hand;

#define CLI 0xC6120001u
#define SRV 0xC6120002u

static void hand_open(hand *h, tw_an_opts *o) {
    memset(h, 0, sizeof *h);
    tw_an_opts def;
    tw_an_opts_default(&def);
    ASSERT_EQ(tw_an_new(o ? o : &def, on_conn, &h->r, &h->a), 0);
}

static void pkt(hand *h, uint64_t t_ms, bool from_client, uint16_t cport, uint8_t flags,
                uint32_t seq, uint32_t ack, uint32_t len) {
    tw_an_pkt p;
    memset(&p, 0, sizeof p);
    p.frame = ++h->frame;
    p.t = t_ms * 1000000ull;
    p.src = from_client ? CLI : SRV;
    p.dst = from_client ? SRV : CLI;
    p.sport = from_client ? cport : 80;
    p.dport = from_client ? 80 : cport;
    p.flags = flags;
    p.seq = seq;
    p.ack = ack;
    p.len = len;
    p.wnd = 1000;
    p.tos = h->tos;
    ASSERT_EQ(tw_an_feed(h->a, &p), 0);
}

enum { S = TW_TH_SYN, A = TW_TH_ACK, F = TW_TH_FIN, R = TW_TH_RST };

/* handshake: client ISN 100, server ISN 500 */
static void handshake(hand *h, uint64_t t, uint16_t port, uint32_t ciss) {
    pkt(h, t, true, port, S, ciss, 0, 0);
    pkt(h, t + 1, false, port, S | A, 500, ciss + 1, 0);
    pkt(h, t + 2, true, port, A, ciss + 1, 501, 0);
}

TEST(reuse_in_time_wait_accepted_and_rst_in_time_wait) {
    hand h;
    hand_open(&h, NULL);
    handshake(&h, 0, 40000, 100);
    /* server closes first: it holds TIME_WAIT */
    pkt(&h, 10, false, 40000, F | A, 501, 101, 0);
    pkt(&h, 11, true, 40000, A, 101, 502, 0);
    pkt(&h, 12, true, 40000, F | A, 101, 502, 0);
    pkt(&h, 13, false, 40000, A, 502, 102, 0);
    /* late duplicate ACK: same incarnation */
    pkt(&h, 14, true, 40000, A, 102, 502, 0);
    /* the client reuses the port 1 s later: accepted */
    pkt(&h, 1000, true, 40000, S, 9000, 0, 0);
    pkt(&h, 1001, false, 40000, S | A, 7000, 9001, 0);
    pkt(&h, 1002, true, 40000, A, 9001, 7001, 0);
    /* abort; then a third incarnation closes, and an RST hits TIME_WAIT */
    pkt(&h, 1003, true, 40000, R, 9001, 0, 0);
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 2);
    const tw_an_conn *c1 = &h.r.got[0], *c2 = &h.r.got[1];
    ASSERT_EQ(c1->incarnation, 1);
    ASSERT_EQ(c1->kind, TW_AK_FOUR_WAY);
    ASSERT_EQ(c1->first_closer, 1);
    ASSERT_TRUE(has_diag(c1, TW_AD_TW_REUSE));
    ASSERT_EQ(c1->s[1].path[c1->s[1].npath - 1].cause, TW_CAUSE_TW_REUSE);
    ASSERT_EQ(c2->incarnation, 2);
    ASSERT_EQ(c2->reuse, TW_AN_REUSE_ACCEPTED);
    ASSERT_EQ(c2->reuse_side, 1);
    ASSERT_TRUE(has_diag(c2, TW_AD_TW_REUSE));
    ASSERT_EQ(c2->kind, TW_AK_ABORT);
    tw_an_free(h.a);

    hand_open(&h, NULL);
    handshake(&h, 0, 40001, 100);
    pkt(&h, 10, true, 40001, F | A, 101, 501, 0);
    pkt(&h, 11, false, 40001, F | A, 501, 102, 0);
    pkt(&h, 12, true, 40001, A, 102, 502, 0);
    pkt(&h, 20, false, 40001, R, 502, 0, 0); /* RST to the client in TIME_WAIT */
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 1);
    ASSERT_TRUE(has_diag(&h.r.got[0], TW_AD_RST_IN_TW));
    ASSERT_TRUE(has_diag(&h.r.got[0], TW_AD_THREE_WAY));
    tw_an_free(h.a);
}

TEST(ecn_negotiation_and_marks_are_counted) {
    /* RFC 3168: the client asks (SYN ECE|CWR), the server accepts (SYN-ACK
     * ECE); data ECT(0), one segment CE-marked on the way, echoed by ECE
     * until the client's CWR. */
    enum { E = TW_TH_ECE, W = TW_TH_CWR };
    hand h;
    hand_open(&h, NULL);
    pkt(&h, 0, true, 40000, S | E | W, 100, 0, 0);
    pkt(&h, 1, false, 40000, S | A | E, 500, 101, 0);
    pkt(&h, 2, true, 40000, A, 101, 501, 0);
    h.tos = 0x02;
    pkt(&h, 3, true, 40000, A, 101, 501, 100);
    h.tos = 0x03;
    pkt(&h, 4, true, 40000, A, 201, 501, 100);
    h.tos = 0;
    pkt(&h, 5, false, 40000, A | E, 501, 301, 0);
    h.tos = 0x02;
    pkt(&h, 6, true, 40000, A | W, 301, 501, 100);
    h.tos = 0;
    pkt(&h, 7, false, 40000, A, 501, 401, 0);
    pkt(&h, 10, true, 40000, F | A, 401, 501, 0);
    pkt(&h, 11, false, 40000, F | A, 501, 402, 0);
    pkt(&h, 12, true, 40000, A, 402, 502, 0);
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 1);
    const tw_an_conn *c = &h.r.got[0];
    ASSERT_TRUE(tw_an_ecn_negotiated(c));
    ASSERT_U64_EQ(c->s[0].ect, 2);
    ASSERT_U64_EQ(c->s[0].ce, 1);
    ASSERT_U64_EQ(c->s[0].cwr, 1);
    ASSERT_U64_EQ(c->s[1].ece, 1);
    tw_sbuf out;
    tw_sbuf_init(&out);
    tw_an_text(c, TW_AN_TIME_REL, &out);
    tw_an_json(c, &out);
    const char *t = tw_sbuf_str(&out);
    ASSERT_TRUE(strstr(t, "  ecn: negotiated; client sent 2 ECN-capable, 1 CE-marked, 0 with ECE, "
                          "1 with CWR; server sent 0 ECN-capable, 0 CE-marked, 1 with ECE, 0 "
                          "with CWR\n") != NULL);
    ASSERT_TRUE(strstr(t, "\"ecn\":{\"syn_ece\":true,\"syn_cwr\":true,\"ect\":2,\"ce\":1,"
                          "\"ece\":0,\"cwr\":1}") != NULL);
    tw_sbuf_free(&out);
    tw_an_free(h.a);
    /* A SYN-ACK with ECE and CWR is no ECN-setup SYN-ACK; no line when
     * nothing touched ECN. */
    hand_open(&h, NULL);
    pkt(&h, 0, true, 40001, S | E | W, 100, 0, 0);
    pkt(&h, 1, false, 40001, S | A | E | W, 500, 101, 0);
    pkt(&h, 2, true, 40001, A, 101, 501, 0);
    handshake(&h, 3, 40002, 700);
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 2);
    ASSERT_FALSE(tw_an_ecn_negotiated(&h.r.got[0]));
    tw_sbuf_init(&out);
    tw_an_text(&h.r.got[0], TW_AN_TIME_REL, &out);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "  ecn: asked for by the client, not accepted;") != NULL);
    tw_sbuf_free(&out);
    tw_sbuf_init(&out);
    tw_an_text(&h.r.got[1], TW_AN_TIME_REL, &out);
    ASSERT_TRUE(strstr(tw_sbuf_str(&out), "ecn:") == NULL);
    tw_sbuf_free(&out);
    tw_an_free(h.a);
}

TEST(refused_reuse_data_after_fin_long_close_wait_unterminated) {
    hand h;
    tw_an_opts o;
    tw_an_opts_default(&o);
    o.close_wait_ns = 1000000000ull;
    hand_open(&h, &o);
    handshake(&h, 0, 40002, 100);
    pkt(&h, 10, true, 40002, F | A, 101, 501, 0);
    pkt(&h, 11, false, 40002, A, 501, 102, 0);
    pkt(&h, 12, true, 40002, A, 102, 501, 10);    /* data beyond the FIN */
    pkt(&h, 13, true, 40002, F | A, 112, 501, 0); /* FIN moved */
    /* the server never closes: long CLOSE_WAIT, unterminated */
    pkt(&h, 3000, false, 40002, A, 501, 102, 0);
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 1);
    const tw_an_conn *c = &h.r.got[0];
    ASSERT_TRUE(has_diag(c, TW_AD_DATA_AFTER_FIN));
    ASSERT_TRUE(has_diag(c, TW_AD_FIN_SEQ_CHANGED));
    ASSERT_TRUE(has_diag(c, TW_AD_LONG_CLOSE_WAIT));
    ASSERT_TRUE(has_diag(c, TW_AD_UNTERMINATED));
    ASSERT_EQ(c->kind, TW_AK_UNTERMINATED);
    ASSERT_EQ(c->s[1].state, TW_CLOSE_WAIT);
    tw_an_free(h.a);

    /* a SYN refused by the server's TIME_WAIT (answered with an ACK) */
    hand_open(&h, NULL);
    handshake(&h, 0, 40003, 100);
    pkt(&h, 10, false, 40003, F | A, 501, 101, 0);
    pkt(&h, 11, true, 40003, F | A, 101, 502, 0);
    pkt(&h, 12, false, 40003, A, 502, 102, 0);
    pkt(&h, 100, true, 40003, S, 50, 0, 0);
    pkt(&h, 101, false, 40003, A, 502, 102, 0);
    ASSERT_EQ(tw_an_finish(h.a), 0);
    ASSERT_EQ(h.r.ngot, 2);
    ASSERT_EQ(h.r.got[1].reuse, TW_AN_REUSE_REFUSED);
    tw_an_free(h.a);
}

TEST(ladder_events_for_one_connection) {
    run r;
    memset(&r, 0, sizeof r);
    char path[] = "/tmp/tw-an-lad-XXXXXX";
    int fd = mkstemp(path);
    ASSERT_TRUE(fd >= 0);
    close(fd);
    ASSERT_EQ(tw_pcap_open(path, TW_PCAP_LINKTYPE_RAW, &r.pc), 0);
    tw_scn_opts o;
    tw_scn_opts_default(&o);
    o.link_observer = on_link;
    o.link_ctx = &r;
    tw_scn_result res;
    ASSERT_EQ(tw_scn_run(TW_SCN_CLIENT_CLOSE, &o, &res), 0);
    ASSERT_EQ(tw_pcap_close(r.pc), 0);
    tw_an_opts ao;
    tw_an_opts_default(&ao);
    ao.ladder_conn = 1;
    tw_an *a;
    tw_an_reader *rd;
    char err[256];
    ASSERT_EQ(tw_an_new(&ao, NULL, NULL, &a), 0);
    ASSERT_EQ(tw_an_open_file(path, &rd, err, sizeof err), 0);
    tw_an_pkt p;
    while (tw_an_next(rd, &p, err, sizeof err) == 1) ASSERT_EQ(tw_an_feed(a, &p), 0);
    ASSERT_EQ(tw_an_finish(a), 0);
    tw_an_close(rd);
    unlink(path);
    const tw_vev_list *evs = tw_an_ladder_events(a);
    ASSERT_TRUE(evs != NULL);
    tw_vindex ix;
    tw_ladder l;
    ASSERT_EQ(tw_vindex_build(evs->v, evs->n, &ix), 0);
    ASSERT_EQ(ix.nc, 1);
    ASSERT_EQ(tw_ladder_build(evs->v, evs->n, &ix, 0, TW_SEQ_SYMBOLIC, &l), 0);
    bool fin_u = false, ack_w = false;
    for (size_t k = 0; k < l.nsegs; k++) {
        if (!strncmp(l.segs[k].label, "FIN|ACK seq=u", 13) && l.segs[k].from == 0) fin_u = true;
        if (!strncmp(l.segs[k].label, "ACK seq=u+1 ack=w+1", 19)) ack_w = true;
    }
    ASSERT_TRUE(fin_u && ack_w);
    tw_ladder_free(&l);
    tw_vindex_free(&ix);
    tw_an_free(a);
}

TEST_MAIN()
