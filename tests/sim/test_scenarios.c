/* test_scenarios.c - the eight lifecycle scenarios of src/drive/scenario.c,
 * checked on the wire: every segment each side sends (flags, sequence and
 * acknowledgment numbers relative to the ISNs, length) in order, each side's
 * state sequence, virtual-time facts (TIME_WAIT lasts exactly 2MSL from its
 * last restart, the FIN retransmission comes exactly one RTO after the FIN),
 * socket events, counters, and an empty stack at the end. Every scenario also
 * runs with other seeds, link delays (0, 1.234, 1, 50 ms) and MSLs, and must
 * keep its state sequences and segments.
 *
 * Golden files: tests/sim/golden/<scenario>.txt hold the full event stream of
 * the default run (seed 1, 1 ms delay, MSL 30 s), one line per trace or
 * socket event: "<time s.ns> <host> <kind> <details>". A mismatch fails and
 * prints the first differing line. To regenerate them after an intended
 * change of behaviour, run the test with TW_UPDATE_GOLDEN=1, e.g.
 *     TW_UPDATE_GOLDEN=1 TW_SOURCE_DIR=$PWD build/asan/tests/sim/test_scenarios
 * (with TW_SOURCE_DIR set, as ctest sets it, files go to
 * $TW_SOURCE_DIR/tests/sim/golden; without it to ./golden when run from
 * tests/sim, else ./tests/sim/golden), then review the diff. See
 * golden/README.md for the format. */
#include <inttypes.h>

#include "test.h"

#include "drive/scenario.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

#define C TW_SCN_CLIENT
#define S TW_SCN_SERVER

/* ---------------------------------------------------------------- recording */

typedef struct item {
    int host;
    bool sock_ev; /* a socket event (sev, at t) rather than a trace event */
    uint64_t t;
    tw_trace_ev ev;
    tw_event sev;
} item;

typedef struct run {
    int id;
    tw_scn_opts o;
    tw_scn_result res;
    item *v;
    size_t n, cap;
    uint32_t iss[2];
    uint64_t link_rule_drops;
} run;

static item *push(run *r) {
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 256;
        r->v = realloc(r->v, r->cap * sizeof *r->v);
        if (!r->v) abort();
    }
    item *it = &r->v[r->n++];
    memset(it, 0, sizeof *it);
    return it;
}

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    item *it = push(ctx);
    it->host = host;
    it->t = ev->t;
    it->ev = *ev;
}

static void on_event(void *ctx, int host, uint64_t now, const tw_event *ev) {
    item *it = push(ctx);
    it->host = host;
    it->sock_ev = true;
    it->t = now;
    it->sev = *ev;
}

static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)from, (void)to, (void)nth, (void)pkt, (void)len, (void)now;
    run *r = ctx;
    if (ev == TW_SIM_DROPPED_RULE) r->link_rule_drops++;
}

static void run_scn(run *r, int id, uint64_t seed, uint64_t delay, uint64_t msl) {
    memset(r, 0, sizeof *r);
    r->id = id;
    tw_scn_opts_default(&r->o);
    r->o.seed = seed;
    r->o.delay = delay;
    r->o.msl = msl;
    r->o.trace = on_trace;
    r->o.trace_ctx = r;
    r->o.event_observer = on_event;
    r->o.event_ctx = r;
    r->o.link_observer = on_link;
    r->o.link_ctx = r;
    tw_test_context("scenario=%s seed=%" PRIu64 " delay=%" PRIu64 "ns msl=%" PRIu64 "ns",
                    tw_scn_name(id), seed, delay, msl);
    ASSERT_EQ(tw_scn_run(id, &r->o, &r->res), 0);
    /* Each side's ISN, from its SYN. */
    bool have[2] = {false, false};
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->v[i];
        if (!it->sock_ev && it->ev.kind == TW_EV_SEG_OUT && (it->ev.flags & TW_TH_SYN) &&
            !have[it->host]) {
            r->iss[it->host] = it->ev.seq;
            have[it->host] = true;
        }
    }
    ASSERT_TRUE(have[C] && have[S]);
}

static void run_free(run *r) {
    free(r->v);
    r->v = NULL;
}

/* ---------------------------------------------------------------- views */

static bool is_seg(const item *it, int host, int kind) {
    return !it->sock_ev && it->host == host && it->ev.kind == kind;
}

/* "FLAGS seq ack len", relative to the ISNs ('-' for ack without ACK). */
static void seg_text(const run *r, const item *it, char *buf, size_t cap) {
    int me = it->host, peer = 1 - me;
    bool out = it->ev.kind == TW_EV_SEG_OUT;
    uint32_t seq = it->ev.seq - r->iss[out ? me : peer];
    uint32_t ack = it->ev.ack - r->iss[out ? peer : me];
    char fl[48], a[16];
    tw_tcp_flags_str(it->ev.flags, fl, sizeof fl);
    if (it->ev.flags & TW_TH_ACK)
        snprintf(a, sizeof a, "%" PRIu32, ack);
    else
        snprintf(a, sizeof a, "-");
    snprintf(buf, cap, "%s %" PRIu32 " %s %" PRIu32, fl, seq, a, it->ev.len);
}

/* The segments `host` sent, in order. */
static size_t segs_out(const run *r, int host, const item **out, size_t max) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++)
        if (is_seg(&r->v[i], host, TW_EV_SEG_OUT) && k < max) out[k++] = &r->v[i];
    return k;
}

/* The state chain of `host`'s connection ("A>B>C"), checking that every move
 * starts where the previous one ended and that there is one connection. With
 * listener, the chain of the listener (conn_id 0) instead. */
static void state_chain(const run *r, int host, bool listener, char *buf, size_t cap) {
    size_t len = 0;
    uint32_t id = 0;
    int last = -1;
    buf[0] = 0;
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->v[i];
        if (!is_seg(it, host, TW_EV_STATE) || (it->ev.conn_id == 0) != listener) continue;
        if (!listener) {
            if (id && it->ev.conn_id != id)
                FAIL("host %d: a second connection (%u)", host, it->ev.conn_id);
            id = it->ev.conn_id;
        }
        if (last < 0)
            len += (size_t)snprintf(buf + len, cap - len, "%s", tw_state_name(it->ev.old_state));
        else if (last != it->ev.old_state)
            FAIL("host %d: move from %s after reaching %s", host, tw_state_name(it->ev.old_state),
                 tw_state_name(last));
        len += (size_t)snprintf(buf + len, cap - len, ">%s", tw_state_name(it->ev.new_state));
        last = it->ev.new_state;
        if (len >= cap) FAIL("state chain too long");
    }
}

/* The n-th (0-based) state move into `to` on host's connection. */
static const item *state_ev(const run *r, int host, int to, int nth) {
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->v[i];
        if (is_seg(it, host, TW_EV_STATE) && it->ev.conn_id && it->ev.new_state == to && nth-- == 0)
            return it;
    }
    return NULL;
}

static size_t count_kind(const run *r, int host, int kind) {
    size_t k = 0;
    for (size_t i = 0; i < r->n; i++) k += is_seg(&r->v[i], host, kind);
    return k;
}

/* The last CLOSED socket event of host. */
static const item *closed_event(const run *r, int host) {
    const item *f = NULL;
    for (size_t i = 0; i < r->n; i++) {
        const item *it = &r->v[i];
        if (it->sock_ev && it->host == host && (it->sev.what & TW_EVT_CLOSED)) f = it;
    }
    return f;
}

/* ---------------------------------------------------------------- expectations */

#define MAXSEG 8
typedef struct expect {
    const char *client[MAXSEG], *server[MAXSEG];
    const char *client_states, *server_states;
    uint64_t client_rx, server_rx;
} expect;

/* clang-format off */
static const expect EXPECT[TW_SCN__COUNT] = {
    [TW_SCN_CLIENT_CLOSE] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "FIN|ACK 101 201 0", "ACK 102 202 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200", "ACK 201 102 0", "FIN|ACK 201 102 0"},
        "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED", 200, 100},
    [TW_SCN_SERVER_CLOSE] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "ACK 101 202 0", "FIN|ACK 101 202 0"},
        {"SYN|ACK 0 1 0", "FIN|PSH|ACK 1 101 200", "ACK 202 102 0"},
        "CLOSED>SYN_SENT>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED", 200, 100},
    [TW_SCN_THREE_WAY] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "FIN|ACK 101 201 0", "ACK 102 202 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200", "FIN|ACK 201 102 0"},
        "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>TIME_WAIT>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED", 200, 100},
    [TW_SCN_SIMULTANEOUS] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "FIN|ACK 101 201 0", "ACK 102 202 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200", "FIN|ACK 201 101 0", "ACK 202 102 0"},
        "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>FIN_WAIT_1>CLOSING>TIME_WAIT>CLOSED", 200, 100},
    [TW_SCN_HALF_CLOSE] = {
        {"SYN 0 - 0", "ACK 1 1 0", "FIN|PSH|ACK 1 1 100", "ACK 102 3002 0"},
        {"SYN|ACK 0 1 0", "ACK 1 102 0", "PSH|ACK 1 102 1000", "PSH|ACK 1001 102 1000",
         "FIN|PSH|ACK 2001 102 1000"},
        "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED", 3000, 100},
    [TW_SCN_LOST_FINAL_ACK] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "FIN|ACK 101 201 0", "ACK 102 202 0",
         "ACK 102 202 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200", "ACK 201 102 0", "FIN|ACK 201 102 0",
         "FIN|ACK 201 102 0"},
        "CLOSED>SYN_SENT>ESTABLISHED>FIN_WAIT_1>FIN_WAIT_2>TIME_WAIT>CLOSED",
        "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSE_WAIT>LAST_ACK>CLOSED", 200, 100},
    [TW_SCN_ABORT] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "RST 101 - 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200"},
        "CLOSED>SYN_SENT>ESTABLISHED>CLOSED", "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSED",
        200, 100},
    [TW_SCN_UNREAD_DATA] = {
        {"SYN 0 - 0", "ACK 1 1 0", "PSH|ACK 1 1 100", "RST 101 - 0"},
        {"SYN|ACK 0 1 0", "PSH|ACK 1 101 200"},
        "CLOSED>SYN_SENT>ESTABLISHED>CLOSED", "LISTEN>SYN_RECEIVED>ESTABLISHED>CLOSED",
        0, 100},
};
/* clang-format on */

static void check_segments(const run *r, int host, const char *const *want) {
    const item *segs[32];
    size_t n = segs_out(r, host, segs, 32), nwant = 0;
    while (nwant < MAXSEG && want[nwant]) nwant++;
    for (size_t i = 0; i < n && i < nwant; i++) {
        char got[96];
        seg_text(r, segs[i], got, sizeof got);
        if (strcmp(got, want[i]) != 0)
            FAIL("%s segment #%zu: got \"%s\", expected \"%s\"", host == C ? "client" : "server", i,
                 got, want[i]);
    }
    if (n != nwant)
        FAIL("%s sent %zu segments, expected %zu", host == C ? "client" : "server", n, nwant);
}

static void check_states(const run *r) {
    const expect *e = &EXPECT[r->id];
    char chain[256];
    state_chain(r, C, false, chain, sizeof chain);
    ASSERT_STREQ(chain, e->client_states);
    state_chain(r, S, false, chain, sizeof chain);
    ASSERT_STREQ(chain, e->server_states);
    state_chain(r, S, true, chain, sizeof chain);
    ASSERT_STREQ(chain, "CLOSED>LISTEN>CLOSED"); /* the listener closes at the end */
    state_chain(r, C, true, chain, sizeof chain);
    ASSERT_STREQ(chain, "");
}

/* Facts every run of every scenario has. */
static void check_common(const run *r) {
    const expect *e = &EXPECT[r->id];
    const tw_scn_result *res = &r->res;
    check_states(r);
    ASSERT_U64_EQ(res->client_rx, e->client_rx);
    ASSERT_U64_EQ(res->server_rx, e->server_rx);
    /* Nothing left in either stack. */
    ASSERT_EQ(res->client_conns, 0);
    ASSERT_EQ(res->server_conns, 0);
    ASSERT_EQ(res->client_tw, 0);
    ASSERT_EQ(res->server_tw, 0);
    /* The run ends with the last event. */
    ASSERT_U64_EQ(r->v[r->n - 1].t, res->end_time);
    for (int h = 0; h < 2; h++) {
        const uint64_t *k = res->counters[h];
        ASSERT_U64_EQ(k[TW_C_TCP_OUT], count_kind(r, h, TW_EV_SEG_OUT));
        ASSERT_U64_EQ(k[TW_C_IP_OUT], count_kind(r, h, TW_EV_SEG_OUT));
        ASSERT_U64_EQ(k[TW_C_CONN_CLOSED], 1);
        ASSERT_U64_EQ(k[TW_C_TW_ENTER], k[TW_C_TW_EXPIRE]);
        /* TIME_WAIT, where there is one, lasts 2MSL from its last restart:
         * the later of entering it and the last ACK sent from it. */
        const item *b = state_ev(r, h, TW_TIME_WAIT, 0);
        const item *end = state_ev(r, h, TW_CLOSED, 0);
        ASSERT_TRUE(end != NULL);
        if (!b) continue;
        ASSERT_EQ(end->ev.old_state, TW_TIME_WAIT);
        ASSERT_EQ(end->ev.cause, TW_CAUSE_TIMEOUT_2MSL);
        uint64_t restart = b->t;
        for (size_t i = 0; i < r->n; i++)
            if (is_seg(&r->v[i], h, TW_EV_SEG_OUT) && (r->v[i].ev.meta & TW_SEGMETA_TW))
                restart = r->v[i].t;
        ASSERT_U64_EQ(end->t - restart, 2 * r->o.msl);
    }
    /* The application that sees CLOSED sees it with the error it gets. */
    const item *ce = closed_event(r, S);
    if (ce) ASSERT_EQ(ce->sev.err, res->server_err);
}

/* ---------------------------------------------------------------- golden */

static void render(const run *r, const item *it, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "%" PRIu64 ".%09" PRIu64 " %s ", it->t / 1000000000u,
                     it->t % 1000000000u, it->host == C ? "client" : "server");
    char *p = buf + n;
    size_t left = cap - (size_t)n;
    const tw_trace_ev *e = &it->ev;
    if (it->sock_ev) {
        static const char *const names[] = {"READABLE", "WRITABLE", "CONNECTED", "ACCEPTABLE",
                                            "CLOSED"};
        int k = snprintf(p, left, "event");
        for (int b = 0; b < 5; b++)
            if (it->sev.what & (1u << b)) k += snprintf(p + k, left - (size_t)k, " %s", names[b]);
        snprintf(p + k, left - (size_t)k, " err=%d", it->sev.err);
        return;
    }
    char seg[96];
    switch (e->kind) {
    case TW_EV_STATE:
        snprintf(p, left, "state conn=%u %s -> %s (%s)", e->conn_id, tw_state_name(e->old_state),
                 tw_state_name(e->new_state), tw_cause_name(e->cause));
        break;
    case TW_EV_SEG_IN:
    case TW_EV_SEG_OUT:
        seg_text(r, it, seg, sizeof seg);
        snprintf(p, left, "%s conn=%u %s %s win=%u%s%s%s", e->kind == TW_EV_SEG_IN ? "in" : "out",
                 e->conn_id, tw_state_name(e->new_state), seg, e->wnd,
                 (e->meta & TW_SEGMETA_RETRANS) ? " retrans" : "",
                 (e->meta & TW_SEGMETA_TW) ? " tw" : "",
                 (e->meta & TW_SEGMETA_CHALLENGE) ? " challenge" : "");
        break;
    case TW_EV_DROP:
        snprintf(p, left, "drop conn=%u %s", e->conn_id, tw_counter_name(e->reason));
        break;
    case TW_EV_TIMER:
        snprintf(p, left, "timer conn=%u %s", e->conn_id, tw_timer_name(e->cause));
        break;
    case TW_EV_USER:
        snprintf(p, left, "user conn=%u %s %" PRIu32, e->conn_id, tw_call_name(e->cause), e->len);
        break;
    default: snprintf(p, left, "kind %u", e->kind); break;
    }
}

static char *render_all(const run *r, size_t *len) {
    size_t cap = r->n * 160 + 1, n = 0;
    char *s = malloc(cap);
    if (!s) abort();
    for (size_t i = 0; i < r->n; i++) {
        char line[160];
        render(r, &r->v[i], line, sizeof line);
        n += (size_t)snprintf(s + n, cap - n, "%s\n", line);
    }
    *len = n;
    return s;
}

/* $TW_SOURCE_DIR/tests/sim/golden (ctest sets it), else ./golden (run from
 * tests/sim) or ./tests/sim/golden (run from the repository root). */
static void golden_path(const char *name, char *buf, size_t cap) {
    const char *root = getenv("TW_SOURCE_DIR");
    if (root && *root) {
        snprintf(buf, cap, "%s/tests/sim/golden/%s.txt", root, name);
        return;
    }
    FILE *f = fopen("golden/README.md", "rb");
    if (f) fclose(f);
    snprintf(buf, cap, "%sgolden/%s.txt", f ? "" : "tests/sim/", name);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0;
    char *s = malloc(cap + 1);
    size_t k;
    while (s && (k = fread(s + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) {
            cap *= 2;
            char *t = realloc(s, cap + 1);
            if (!t) free(s);
            s = t;
        }
    }
    fclose(f);
    if (!s) abort();
    s[n] = 0;
    *len = n;
    return s;
}

/* Compares the rendered run with the golden file (or rewrites it). */
static void check_golden(const run *r) {
    char path[1024];
    golden_path(tw_scn_name(r->id), path, sizeof path);
    size_t glen = 0, wlen = 0;
    char *got = render_all(r, &glen);
    const char *upd = getenv("TW_UPDATE_GOLDEN");
    if (upd && *upd && strcmp(upd, "0") != 0) {
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(got, 1, glen, f) != glen || fclose(f) != 0) FAIL("cannot write %s", path);
        printf("# updated %s\n", path);
        free(got);
        return;
    }
    char *want = read_file(path, &wlen);
    if (!want) {
        free(got);
        FAIL("missing golden file %s (TW_UPDATE_GOLDEN=1 creates it)", path);
    }
    if (glen == wlen && memcmp(got, want, glen) == 0) {
        free(got);
        free(want);
        return;
    }
    /* First differing line, for the failure message. */
    const char *a = got, *b = want;
    int line = 1;
    while (*a && *b) {
        const char *ea = strchr(a, '\n'), *eb = strchr(b, '\n');
        size_t la = ea ? (size_t)(ea - a) : strlen(a), lb = eb ? (size_t)(eb - b) : strlen(b);
        if (la != lb || memcmp(a, b, la) != 0) break;
        a += la + (ea ? 1 : 0);
        b += lb + (eb ? 1 : 0);
        line++;
    }
    char ga[200] = "(end)", wb[200] = "(end)";
    if (*a) snprintf(ga, sizeof ga, "%.*s", (int)strcspn(a, "\n"), a);
    if (*b) snprintf(wb, sizeof wb, "%.*s", (int)strcspn(b, "\n"), b);
    free(got);
    free(want);
    FAIL("%s differs at line %d:\n  got:      %s\n  expected: %s\n  (TW_UPDATE_GOLDEN=1 rewrites "
         "it)",
         path, line, ga, wb);
}

/* ---------------------------------------------------------------- per-scenario */

static void check_default(int id) {
    run r;
    run_scn(&r, id, 1, TW_MS(1), TW_SEC(30));
    check_segments(&r, C, EXPECT[id].client);
    check_segments(&r, S, EXPECT[id].server);
    check_common(&r);
    check_golden(&r);
    run_free(&r);
}

TEST(client_close) {
    check_default(TW_SCN_CLIENT_CLOSE);
    run r;
    run_scn(&r, TW_SCN_CLIENT_CLOSE, 1, TW_MS(1), TW_SEC(30));
    /* The client's TIME_WAIT begins at the server's FIN + one delay. */
    const item *tw = state_ev(&r, C, TW_TIME_WAIT, 0);
    const item *segs[8];
    segs_out(&r, S, segs, 8);
    ASSERT_U64_EQ(tw->t, segs[3]->t + TW_MS(1));
    ASSERT_U64_EQ(r.res.end_time, tw->t + TW_SEC(60));
    ASSERT_EQ(r.res.client_err, 0);
    ASSERT_EQ(r.res.server_err, 0);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TW_ENTER], 1);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_TW_ENTER], 0);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TCP_RETRANS] + r.res.counters[S][TW_C_TCP_RETRANS], 0);
    run_free(&r);
}

TEST(server_close) {
    check_default(TW_SCN_SERVER_CLOSE);
    run r;
    run_scn(&r, TW_SCN_SERVER_CLOSE, 1, TW_MS(1), TW_SEC(30));
    ASSERT_U64_EQ(r.res.counters[S][TW_C_TW_ENTER], 1);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TW_ENTER], 0);
    /* The server's FIN rides on its reply. */
    const item *segs[8];
    segs_out(&r, S, segs, 8);
    ASSERT_EQ(segs[1]->ev.flags & (TW_TH_FIN | TW_TH_PSH), TW_TH_FIN | TW_TH_PSH);
    run_free(&r);
}

TEST(three_way_close) {
    check_default(TW_SCN_THREE_WAY);
    run r;
    run_scn(&r, TW_SCN_THREE_WAY, 1, TW_MS(1), TW_SEC(30));
    /* Exactly one server segment carries FIN; it also ACKs the client's FIN,
     * and the server sent no ACK between receiving that FIN and its own. */
    const item *segs[8];
    size_t n = segs_out(&r, S, segs, 8);
    int fins = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(segs[i]->ev.flags & TW_TH_FIN)) continue;
        fins++;
        ASSERT_EQ(segs[i]->ev.flags, TW_TH_FIN | TW_TH_ACK);
        ASSERT_EQ(segs[i]->ev.ack - r.iss[C], 102); /* 1 + 100 bytes + the client's FIN */
    }
    ASSERT_EQ(fins, 1);
    const item *cw = state_ev(&r, S, TW_CLOSE_WAIT, 0);
    for (size_t i = 0; i < n; i++)
        if (segs[i]->t >= cw->t) ASSERT_TRUE(segs[i]->ev.flags & TW_TH_FIN);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_DELACK_SENT], 0);
    /* The client goes FIN_WAIT_1 -> TIME_WAIT on that one segment. */
    ASSERT_EQ(state_ev(&r, C, TW_TIME_WAIT, 0)->ev.cause, TW_CAUSE_RCV_FIN_ACK);
    run_free(&r);
}

TEST(simultaneous_close) {
    check_default(TW_SCN_SIMULTANEOUS);
    run r;
    run_scn(&r, TW_SCN_SIMULTANEOUS, 1, TW_MS(1), TW_SEC(30));
    /* Both FINs leave at the same instant and cross. */
    ASSERT_U64_EQ(state_ev(&r, C, TW_FIN_WAIT_1, 0)->t, state_ev(&r, S, TW_FIN_WAIT_1, 0)->t);
    ASSERT_TRUE(state_ev(&r, C, TW_CLOSING, 0) != NULL);
    ASSERT_TRUE(state_ev(&r, S, TW_CLOSING, 0) != NULL);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TW_ENTER], 1);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_TW_ENTER], 1);
    run_free(&r);
}

TEST(half_close) {
    check_default(TW_SCN_HALF_CLOSE);
    run r;
    run_scn(&r, TW_SCN_HALF_CLOSE, 1, TW_MS(1), TW_SEC(30));
    /* All 3000 bytes reach the client after its FIN left, while it sits in
     * FIN_WAIT_2 (FIN_WAIT_2 for the last chunk, which carries the FIN). */
    const item *fw1 = state_ev(&r, C, TW_FIN_WAIT_1, 0);
    uint64_t after_fin = 0;
    for (size_t i = 0; i < r.n; i++) {
        const item *it = &r.v[i];
        if (!is_seg(it, C, TW_EV_SEG_IN) || it->ev.len == 0) continue;
        ASSERT_CMP(it->t, >, fw1->t);
        ASSERT_EQ(it->ev.new_state, TW_FIN_WAIT_2);
        after_fin += it->ev.len;
    }
    ASSERT_U64_EQ(after_fin, 3000);
    ASSERT_U64_EQ(r.res.client_rx, 3000);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TCP_DATA_IN_BYTES], 3000);
    /* The server sent them in CLOSE_WAIT. */
    const item *segs[8];
    size_t n = segs_out(&r, S, segs, 8);
    for (size_t i = 0; i < n; i++)
        if (segs[i]->ev.len)
            ASSERT_EQ(segs[i]->ev.new_state,
                      segs[i]->ev.flags & TW_TH_FIN ? TW_LAST_ACK : TW_CLOSE_WAIT);
    run_free(&r);
}

TEST(lost_final_ack) {
    check_default(TW_SCN_LOST_FINAL_ACK);
    run r;
    run_scn(&r, TW_SCN_LOST_FINAL_ACK, 1, TW_MS(1), TW_SEC(30));
    ASSERT_U64_EQ(r.link_rule_drops, 1);
    const item *s[8], *c[8];
    segs_out(&r, S, s, 8);
    segs_out(&r, C, c, 8);
    /* The FIN is retransmitted exactly one RTO (1 s) after the first. */
    ASSERT_U64_EQ(s[4]->t - s[3]->t, TW_SEC(1));
    ASSERT_TRUE(s[4]->ev.meta & TW_SEGMETA_RETRANS);
    ASSERT_FALSE(s[3]->ev.meta & TW_SEGMETA_RETRANS);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_TCP_RETRANS], 1);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_RTO_FIRED], 1);
    /* The client re-ACKs from its TIME_WAIT record one delay later... */
    ASSERT_TRUE(c[5]->ev.meta & TW_SEGMETA_TW);
    ASSERT_U64_EQ(c[5]->t, s[4]->t + TW_MS(1));
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TW_FIN_REACK], 1);
    /* ...and TIME_WAIT ends exactly 2MSL after that re-ACK, not after entry. */
    const item *tw = state_ev(&r, C, TW_TIME_WAIT, 0);
    const item *end = state_ev(&r, C, TW_CLOSED, 0);
    ASSERT_U64_EQ(end->t, c[5]->t + TW_SEC(60));
    ASSERT_U64_EQ(end->t - tw->t, TW_SEC(61));
    /* The server closes on the re-ACK. */
    ASSERT_U64_EQ(state_ev(&r, S, TW_CLOSED, 0)->t, c[5]->t + TW_MS(1));
    run_free(&r);
}

static void check_reset(int id, int client_cause, int rst_counter) {
    check_default(id);
    run r;
    run_scn(&r, id, 1, TW_MS(1), TW_SEC(30));
    const item *c[8];
    size_t n = segs_out(&r, C, c, 8);
    ASSERT_EQ(c[n - 1]->ev.flags, TW_TH_RST);
    ASSERT_EQ(state_ev(&r, C, TW_CLOSED, 0)->ev.cause, client_cause);
    ASSERT_U64_EQ(r.res.counters[C][rst_counter], 1);
    const item *sc = state_ev(&r, S, TW_CLOSED, 0);
    ASSERT_EQ(sc->ev.cause, TW_CAUSE_RCV_RST);
    ASSERT_U64_EQ(sc->t, c[n - 1]->t + TW_MS(1));
    /* The server's application gets CLOSED with ECONNRESET at that instant. */
    const item *ce = closed_event(&r, S);
    ASSERT_TRUE(ce != NULL);
    ASSERT_EQ(ce->sev.err, TW_ECONNRESET);
    ASSERT_U64_EQ(ce->t, sc->t);
    ASSERT_EQ(r.res.server_err, TW_ECONNRESET);
    ASSERT_U64_EQ(r.res.counters[S][TW_C_RST_RECEIVED], 1);
    ASSERT_U64_EQ(r.res.counters[C][TW_C_TW_ENTER] + r.res.counters[S][TW_C_TW_ENTER], 0);
    ASSERT_U64_EQ(r.res.end_time, sc->t);
    run_free(&r);
}

TEST(abort) {
    check_reset(TW_SCN_ABORT, TW_CAUSE_USER_ABORT, TW_C_RST_ABORT);
}

TEST(unread_data) {
    check_reset(TW_SCN_UNREAD_DATA, TW_CAUSE_USER_CLOSE_UNREAD, TW_C_RST_UNREAD_DATA);
}

/* ---------------------------------------------------------------- variations */

TEST(every_scenario_keeps_its_states_across_seeds_delays_and_msl) {
    static const uint64_t seeds[] = {1, 2, 0xdeadbeef};
    static const uint64_t delays[] = {0, TW_MS(1), TW_MS(50), TW_US(1234)};
    static const uint64_t msls[] = {TW_SEC(30), TW_SEC(5)};
    for (int id = 0; id < TW_SCN__COUNT; id++)
        for (size_t a = 0; a < sizeof seeds / sizeof *seeds; a++)
            for (size_t b = 0; b < sizeof delays / sizeof *delays; b++)
                for (size_t m = 0; m < sizeof msls / sizeof *msls; m++) {
                    run r;
                    run_scn(&r, id, seeds[a], delays[b], msls[m]);
                    check_common(&r);
                    check_segments(&r, C, EXPECT[id].client);
                    check_segments(&r, S, EXPECT[id].server);
                    run_free(&r);
                }
}

TEST(same_seed_same_run) {
    for (int id = 0; id < TW_SCN__COUNT; id++) {
        run a, b;
        run_scn(&a, id, 7, TW_MS(3), TW_SEC(30));
        run_scn(&b, id, 7, TW_MS(3), TW_SEC(30));
        size_t la, lb;
        char *ra = render_all(&a, &la), *rb = render_all(&b, &lb);
        ASSERT_EQ(la, lb);
        ASSERT_MEMEQ(ra, rb, la);
        ASSERT_EQ(a.iss[C], b.iss[C]);
        free(ra);
        free(rb);
        run_free(&a);
        run_free(&b);
    }
}

TEST(different_seeds_different_isns) {
    run a, b;
    run_scn(&a, TW_SCN_CLIENT_CLOSE, 1, TW_MS(1), TW_SEC(30));
    run_scn(&b, TW_SCN_CLIENT_CLOSE, 2, TW_MS(1), TW_SEC(30));
    ASSERT_NE(a.iss[C], b.iss[C]);
    ASSERT_NE(a.iss[S], b.iss[S]);
    run_free(&a);
    run_free(&b);
}

TEST_MAIN()
