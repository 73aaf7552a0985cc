/* scenario.c - scripted client and server applications for the lifecycle
 * scenarios (see scenario.h). Each application reacts only to socket events
 * and its own wake-ups, like a real non-blocking program. */
#include <string.h>

#include "drive/scenario.h"
#include "util/time.h"
#include "wire/tcp_hdr.h"

#define REQ_LEN 100
#define REPLY_LEN 200
#define HALF_CHUNKS 3
#define HALF_CHUNK_LEN 1000

typedef struct app {
    tw_scn_id id;
    int sock;        /* client socket / server's accepted socket */
    int lsock;       /* server listener */
    uint64_t rx;     /* bytes read */
    uint64_t expect; /* bytes expected before acting */
    int err;
    int step; /* scenario-specific progress */
    bool eof, closed;
} app;

typedef struct scn_ctx {
    app client, server;
    tw_scn_id id;
    uint32_t server_fin_end; /* seq after the server's FIN, from the link */
    bool dropped_final_ack;
} scn_ctx;

static const struct {
    const char *name, *desc;
} scns[TW_SCN__COUNT] = {
    {"client-close", "client closes first: FIN, ACK, FIN, ACK (the four-way close)"},
    {"server-close", "server closes first, right after its reply"},
    {"three-way", "delayed ACK of the FIN: the server's ACK and FIN leave as one segment"},
    {"simultaneous", "both sides close at the same instant: FINs cross, CLOSING on both"},
    {"half-close", "client shuts down writing; server sends more data in CLOSE_WAIT, then closes"},
    {"lost-final-ack", "the client's last ACK is lost: the server retransmits its FIN, the "
                       "client re-ACKs and restarts 2MSL"},
    {"abort", "client aborts (linger 0): RST, no TIME_WAIT"},
    {"unread-data", "client closes with unread data: RST instead of FIN (RFC 9293 SHLD-3)"},
};

const char *tw_scn_name(int id) {
    return id >= 0 && id < TW_SCN__COUNT ? scns[id].name : NULL;
}
const char *tw_scn_desc(int id) {
    return id >= 0 && id < TW_SCN__COUNT ? scns[id].desc : NULL;
}

int tw_scn_lookup(const char *name) {
    for (int i = 0; i < TW_SCN__COUNT; i++)
        if (!strcmp(name, scns[i].name)) return i;
    return -1;
}

void tw_scn_opts_default(tw_scn_opts *o) {
    memset(o, 0, sizeof *o);
    o->seed = 1;
    o->delay = TW_MS(1);
    o->msl = TW_SEC(30);
}

/* Reads everything available; notes end of stream and errors. */
static void drain(tw_stack *st, app *a) {
    uint8_t buf[4096];
    for (;;) {
        int n = tw_recv(st, a->sock, buf, sizeof buf);
        if (n > 0) {
            a->rx += (uint64_t)n;
            continue;
        }
        if (n == 0)
            a->eof = true;
        else if (n != -TW_EAGAIN)
            a->err = -n;
        return;
    }
}

static void send_bytes(tw_stack *st, int sock, size_t n, uint8_t fill) {
    uint8_t buf[HALF_CHUNK_LEN > REPLY_LEN ? HALF_CHUNK_LEN : REPLY_LEN];
    memset(buf, fill, sizeof buf);
    tw_send(st, sock, buf, n);
}

static void close_once(tw_stack *st, app *a) {
    if (a->closed) return;
    a->closed = true;
    tw_close(st, a->sock);
}

/* ---- client ---- */

static void client_got_reply(tw_world *w, tw_stack *st, scn_ctx *s, app *a) {
    uint64_t now = tw_world_now(w);
    switch (s->id) {
    case TW_SCN_CLIENT_CLOSE:
    case TW_SCN_THREE_WAY:
    case TW_SCN_LOST_FINAL_ACK: close_once(st, a); break;
    case TW_SCN_SIMULTANEOUS: tw_world_wake_at(w, TW_SCN_CLIENT, now + TW_MS(100)); break;
    case TW_SCN_ABORT:
        a->closed = true;
        tw_abort(st, a->sock);
        break;
    default: break;
    }
}

static void client_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    scn_ctx *s = ctx;
    app *a = &s->client;
    tw_stack *st = tw_world_stack(w, host);
    if (!ev) { /* wake-up */
        close_once(st, a);
        return;
    }
    if (a->closed) return;
    if (ev->what & TW_EVT_CONNECTED) {
        send_bytes(st, a->sock, REQ_LEN, 'q');
        if (s->id == TW_SCN_HALF_CLOSE) tw_shutdown(st, a->sock, TW_SHUT_WR);
    }
    if (ev->what & TW_EVT_READABLE) {
        if (s->id == TW_SCN_UNREAD_DATA) {
            close_once(st, a); /* without reading the reply */
            return;
        }
        uint64_t before = a->rx;
        drain(st, a);
        if (before < REPLY_LEN && a->rx >= REPLY_LEN) client_got_reply(w, st, s, a);
        if (a->eof && !a->closed) {
            if (s->id == TW_SCN_SERVER_CLOSE)
                tw_world_wake_at(w, TW_SCN_CLIENT, tw_world_now(w) + TW_MS(50));
            else if (s->id == TW_SCN_HALF_CLOSE)
                close_once(st, a);
        }
    }
    if (ev->what & TW_EVT_CLOSED) {
        a->err = ev->err;
        close_once(st, a); /* release the handle, as a program would */
    }
}

/* ---- server ---- */

static void server_wake(tw_world *w, tw_stack *st, scn_ctx *s, app *a) {
    if (s->id == TW_SCN_HALF_CLOSE && a->step < HALF_CHUNKS) {
        /* Half-close: data keeps flowing towards the client after its FIN. */
        send_bytes(st, a->sock, HALF_CHUNK_LEN, 'h');
        if (++a->step < HALF_CHUNKS) {
            tw_world_wake_at(w, TW_SCN_SERVER, tw_world_now(w) + TW_MS(10));
            return;
        }
    }
    close_once(st, a);
}

static void server_got_request(tw_world *w, tw_stack *st, scn_ctx *s, app *a) {
    if (s->id == TW_SCN_HALF_CLOSE) return; /* replies after the client's FIN */
    send_bytes(st, a->sock, REPLY_LEN, 'r');
    if (s->id == TW_SCN_SERVER_CLOSE) close_once(st, a);
    if (s->id == TW_SCN_SIMULTANEOUS) {
        /* Close when the client does: its reply arrives one delay later, and
         * the client closes 100 ms after that. */
        (void)w;
    }
}

static void server_app(tw_world *w, int host, const tw_event *ev, void *ctx) {
    scn_ctx *s = ctx;
    app *a = &s->server;
    tw_stack *st = tw_world_stack(w, host);
    if (!ev) {
        server_wake(w, st, s, a);
        return;
    }
    if (ev->sock == a->lsock && (ev->what & TW_EVT_ACCEPTABLE)) {
        int c = tw_accept(st, a->lsock, NULL, NULL);
        if (c >= 0) {
            a->sock = c;
            /* Half-close shows data after the FIN: send each chunk at once. */
            if (s->id == TW_SCN_HALF_CLOSE) tw_set_nodelay(st, c, true);
            tw_close(st, a->lsock); /* one connection per scenario */
            a->lsock = -1;
        }
        return;
    }
    if (ev->sock != a->sock || a->closed) return;
    if (ev->what & TW_EVT_READABLE) {
        uint64_t before = a->rx;
        drain(st, a);
        if (before < REQ_LEN && a->rx >= REQ_LEN) server_got_request(w, st, s, a);
        if (a->eof && !a->closed) {
            uint64_t now = tw_world_now(w);
            switch (s->id) {
            case TW_SCN_CLIENT_CLOSE:
            case TW_SCN_LOST_FINAL_ACK: tw_world_wake_at(w, TW_SCN_SERVER, now + TW_MS(50)); break;
            case TW_SCN_THREE_WAY:
                close_once(st, a); /* at once: within the delayed-ACK time */
                break;
            case TW_SCN_HALF_CLOSE: tw_world_wake_at(w, TW_SCN_SERVER, now + TW_MS(10)); break;
            default: break;
            }
        }
    }
    if (ev->what & TW_EVT_CLOSED) {
        a->err = ev->err;
        close_once(st, a);
    }
}

/* lost-final-ack: drop the client's first pure ACK that acknowledges the
 * server's FIN. The filter sees every packet, so it learns the FIN first. */
static bool lose_final_ack(void *ctx, int from, uint64_t nth, const uint8_t *pkt, size_t len,
                           uint64_t now) {
    (void)nth;
    (void)now;
    scn_ctx *s = ctx;
    tw_tcp_seg seg;
    if (s->dropped_final_ack || tw_packet_parse(pkt, len, &seg) != 0) return false;
    if (from == TW_SCN_SERVER && (seg.flags & TW_TH_FIN)) {
        s->server_fin_end = seg.seq.v + seg.len + 1;
        return false;
    }
    if (from == TW_SCN_CLIENT && s->server_fin_end && seg.flags == TW_TH_ACK && seg.len == 0 &&
        seg.ack.v == s->server_fin_end) {
        s->dropped_final_ack = true;
        return true;
    }
    return false;
}

static int setup(tw_world *w, scn_ctx *s, const tw_scn_opts *o) {
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.seed = o->seed;
    cfg.msl = o->msl;
    cfg.delack_fin = s->id == TW_SCN_THREE_WAY;
    tw_sim_cfg link;
    memset(&link, 0, sizeof link);
    link.delay_ns = o->delay;
    int c = tw_world_add_host(w, "client", TW_SCN_CLIENT_ADDR, &cfg, &link);
    if (c < 0) return c;
    int sv = tw_world_add_host(w, "server", TW_SCN_SERVER_ADDR, &cfg, &link);
    if (sv < 0) return sv;
    tw_stack *cs = tw_world_stack(w, c), *ss = tw_world_stack(w, sv);
    s->server.lsock = tw_socket(ss);
    s->server.sock = -1;
    if (tw_bind(ss, s->server.lsock, TW_SCN_SERVER_PORT) || tw_listen(ss, s->server.lsock, 8))
        return -TW_EINVAL;
    s->client.sock = tw_socket(cs);
    s->client.lsock = -1;
    int rc = tw_connect(cs, s->client.sock, TW_SCN_SERVER_ADDR, TW_SCN_SERVER_PORT);
    if (rc) return rc;
    tw_world_set_app(w, c, client_app, s);
    tw_world_set_app(w, sv, server_app, s);
    if (s->id == TW_SCN_LOST_FINAL_ACK) tw_sim_set_filter(tw_world_sim(w), lose_final_ack, s);
    if (s->id == TW_SCN_SIMULTANEOUS) {
        /* The server closes at the instant the client will: the reply leaves
         * the server at 2 delays + 0, reaches the client one delay later,
         * and the client closes 100 ms after that. */
        tw_world_wake_at(w, sv, 4 * o->delay + TW_MS(100));
    }
    return 0;
}

int tw_scn_run(int id, const tw_scn_opts *o, tw_scn_result *res) {
    if (id < 0 || id >= TW_SCN__COUNT) return -TW_EINVAL;
    memset(res, 0, sizeof *res);
    scn_ctx s;
    memset(&s, 0, sizeof s);
    s.id = (tw_scn_id)id;
    s.client.id = s.server.id = s.id;
    tw_world *w = tw_world_new(o->seed);
    if (!w) return -TW_ENOMEM;
    if (o->trace) tw_world_set_trace(w, o->trace, o->trace_ctx);
    if (o->link_observer) tw_sim_set_observer(tw_world_sim(w), o->link_observer, o->link_ctx);
    if (o->event_observer) tw_world_set_event_observer(w, o->event_observer, o->event_ctx);
    int rc = setup(w, &s, o);
    if (rc == 0) {
        /* Generous bound: every scenario ends within a few 2MSL periods. */
        tw_world_run(w, 20 * o->msl + TW_SEC(600), 1000000);
        res->end_time = tw_world_now(w);
        res->client_rx = s.client.rx;
        res->server_rx = s.server.rx;
        res->client_err = s.client.err;
        res->server_err = s.server.err;
        for (int h = 0; h < 2; h++) {
            tw_stack *st = tw_world_stack(w, h);
            memcpy(res->counters[h], tw_stack_counters(st), sizeof res->counters[h]);
        }
        res->client_conns = tw_stack_conn_count(tw_world_stack(w, 0));
        res->server_conns = tw_stack_conn_count(tw_world_stack(w, 1));
        res->client_tw = tw_stack_time_wait_count(tw_world_stack(w, 0));
        res->server_tw = tw_stack_time_wait_count(tw_world_stack(w, 1));
    }
    tw_world_free(w);
    return rc;
}
