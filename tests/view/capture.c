/* capture.c - test helper: scenario capture into a tw_vev_list (see capture.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "wire/tcp_hdr.h"

typedef struct capctx {
    tw_vev_list *out;
    int base;
    int oom;
} capctx;

static const char *name_of(int host) {
    return host == TW_SCN_CLIENT ? "client" : "server";
}

static void on_trace(void *ctx, int host, const tw_trace_ev *ev) {
    capctx *c = ctx;
    tw_vev v;
    tw_vev_make(&v, host + c->base, name_of(host), ev);
    if (tw_vev_list_push(c->out, &v)) c->oom = 1;
}

static void on_link(void *ctx, enum tw_sim_ev ev, int from, int to, uint64_t nth,
                    const uint8_t *pkt, size_t len, uint64_t now) {
    (void)to;
    (void)nth;
    tw_tcp_seg s;
    if ((ev != TW_SIM_DROPPED_LOSS && ev != TW_SIM_DROPPED_RULE) || tw_packet_parse(pkt, len, &s))
        return;
    tw_trace_ev e;
    memset(&e, 0, sizeof e);
    e.t = now;
    e.kind = TW_VEV_LINK_LOST;
    e.flags = s.flags;
    e.seq = s.seq.v;
    e.ack = s.ack.v;
    e.len = s.len;
    e.wnd = s.wnd;
    e.laddr = s.src_addr;
    e.raddr = s.dst_addr;
    e.lport = s.src_port;
    e.rport = s.dst_port;
    on_trace(ctx, from, &e);
}

int capture_scenario(int id, uint64_t seed, int host_base, tw_vev_list *out, tw_scn_result *res) {
    capctx c = {out, host_base, 0};
    tw_scn_opts o;
    tw_scn_opts_default(&o);
    o.seed = seed;
    o.trace = on_trace;
    o.trace_ctx = &c;
    o.link_observer = on_link;
    o.link_ctx = &c;
    tw_scn_result r;
    int rc = tw_scn_run(id, &o, res ? res : &r);
    return rc ? rc : c.oom ? -1 : 0;
}

char *report_text(const tw_vev_list *evs, tw_seqmode mode) {
    tw_sbuf text;
    tw_sbuf_init(&text);
    tw_report_opts ro = {mode, 0, NULL};
    char err[200];
    if (tw_view_report(evs->v, evs->n, &ro, &text, NULL, err, sizeof err)) {
        fprintf(stderr, "report: %s\n", err);
        tw_sbuf_free(&text);
        return NULL;
    }
    return tw_sbuf_take(&text);
}

char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (size_t k; buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0;) {
        n += k;
        if (n + 1 == cap) {
            char *g = realloc(buf, cap * 2);
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

void repo_path(const char *rel, char *buf, size_t cap) {
    const char *root = getenv("TW_SOURCE_DIR");
    snprintf(buf, cap, "%s/%s", root && *root ? root : "../..", rel);
}
