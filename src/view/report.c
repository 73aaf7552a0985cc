/* report.c - owns the whole-trace views of report.h: connection selection,
 * ladder + lifecycle per connection, the connection list and the counter
 * listing. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_stats.h>

#include "view/report.h"

static int build_lc(const tw_vev *ev, size_t n, tw_lc *lc) {
    tw_lc_init(lc);
    for (size_t i = 0; i < n; i++)
        if (tw_lc_feed(lc, &ev[i])) return -1;
    return 0;
}

/* The lifecycle records of a connection's two sides (NULL when absent). */
static void conn_halves(const tw_vindex *ix, const tw_lc *lc, size_t c, const tw_lc_half *out[2]) {
    for (int k = 0; k < 2; k++) {
        int h = ix->c[c].half[k];
        out[k] = h >= 0 ? tw_lc_find(lc, ix->h[h].host, ix->h[h].conn_id) : NULL;
    }
}

static void footer(const tw_ladder *l, const tw_vindex *ix, const tw_lc *lc, size_t c,
                   tw_sbuf *out) {
    const tw_lc_half *h[2];
    conn_halves(ix, lc, c, h);
    char lab[2][64];
    for (int k = 0; k < 2; k++)
        snprintf(lab[k], sizeof lab[k], "%.31s %.23s", l->name[k], l->addr[k]);
    const char *const labels[2] = {lab[0], lab[1]};
    const char *const names[2] = {l->name[0], l->name[1]};
    tw_lc_format(out, "", h, labels, names);
}

int tw_view_report(const tw_vev *ev, size_t n, const tw_report_opts *o, tw_sbuf *text, tw_sbuf *svg,
                   char *err, size_t errcap) {
    tw_vindex ix;
    tw_lc lc;
    int rc = -1;
    if (tw_vindex_build(ev, n, &ix)) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    if (build_lc(ev, n, &lc)) {
        snprintf(err, errcap, "out of memory");
        goto out;
    }
    if (ix.nc == 0) {
        snprintf(err, errcap, "the trace has no connection (no event with a conn id)");
        goto out;
    }
    if (o->conn > ix.nc) {
        snprintf(err, errcap, "no connection %zu: the trace has %zu (see --list)", o->conn, ix.nc);
        goto out;
    }
    size_t first = o->conn ? o->conn - 1 : 0, last = o->conn ? o->conn : ix.nc;
    size_t m = last - first;
    tw_ladder *lad = calloc(m, sizeof *lad);
    tw_sbuf *foot = calloc(m, sizeof *foot);
    const tw_ladder **lp = calloc(m, sizeof *lp);
    const char **fp = calloc(m, sizeof *fp);
    rc = (lad && foot && lp && fp) ? 0 : -1;
    for (size_t k = 0; k < m && rc == 0; k++) {
        if (tw_ladder_build(ev, n, &ix, first + k, o->mode, &lad[k])) {
            rc = -1;
            break;
        }
        footer(&lad[k], &ix, &lc, first + k, &foot[k]);
        if (text) {
            if (k) tw_sbuf_putc(text, '\n');
            tw_ladder_text(&lad[k], text);
            tw_sbuf_putc(text, '\n');
            tw_sbuf_puts(text, tw_sbuf_str(&foot[k]) ? tw_sbuf_str(&foot[k]) : "");
        }
        lp[k] = &lad[k];
        fp[k] = tw_sbuf_str(&foot[k]);
    }
    if (rc == 0 && svg) tw_ladder_svg(lp, fp, m, o->title ? o->title : "tcpwave ladder", svg);
    if (rc) snprintf(err, errcap, "out of memory");
    for (size_t k = 0; lad && foot && k < m; k++) {
        tw_ladder_free(&lad[k]);
        tw_sbuf_free(&foot[k]);
    }
    free(lad);
    free(foot);
    free(lp);
    free(fp);
out:
    tw_lc_free(&lc);
    tw_vindex_free(&ix);
    return rc;
}

int tw_view_lifecycle(const tw_vev *ev, size_t n, tw_sbuf *out) {
    tw_vindex ix;
    tw_lc lc;
    if (tw_vindex_build(ev, n, &ix)) return -1;
    int rc = build_lc(ev, n, &lc);
    for (size_t c = 0; rc == 0 && c < ix.nc; c++) {
        tw_ladder l; /* only its names and addresses are used */
        if (tw_ladder_build(ev, 0, &ix, c, TW_SEQ_RELATIVE, &l)) {
            rc = -1;
            break;
        }
        tw_sbuf_printf(out, "connection %zu: %s %s <-> %s %s\n", c + 1, l.name[0], l.addr[0],
                       l.name[1], l.addr[1]);
        footer(&l, &ix, &lc, c, out);
        tw_ladder_free(&l);
    }
    tw_lc_free(&lc);
    tw_vindex_free(&ix);
    return rc;
}

int tw_view_list(const tw_vev *ev, size_t n, tw_sbuf *out) {
    tw_vindex ix;
    tw_lc lc;
    if (tw_vindex_build(ev, n, &ix)) return -1;
    if (build_lc(ev, n, &lc)) {
        tw_lc_free(&lc);
        tw_vindex_free(&ix);
        return -1;
    }
    size_t *count = calloc(ix.nc ? ix.nc : 1, sizeof *count);
    for (size_t i = 0; count && i < n; i++)
        if (ix.ev_half[i] >= 0 && ix.h[ix.ev_half[i]].conn >= 0) count[ix.h[ix.ev_half[i]].conn]++;
    for (size_t c = 0; count && c < ix.nc; c++) {
        char side[2][96], a[16], buf[256];
        const tw_lc_half *h[2];
        const char *nm[2];
        conn_halves(&ix, &lc, c, h);
        for (int k = 0; k < 2; k++) {
            int hi = ix.c[c].half[k];
            const tw_vhalf *hf = hi >= 0 ? &ix.h[hi] : NULL;
            nm[k] = hf && hf->host_name[0] ? hf->host_name : hf ? "host" : "peer";
            if (hf)
                snprintf(side[k], sizeof side[k], "%s %s:%u (conn %" PRIu32 ")", nm[k],
                         tw_vev_addr_str(hf->laddr, a, sizeof a), (unsigned)hf->lport, hf->conn_id);
            else
                snprintf(side[k], sizeof side[k], "peer (not traced)");
        }
        tw_sbuf_printf(out, "%zu  %s <-> %s  %zu events  %s\n", c + 1, side[0], side[1], count[c],
                       tw_lc_conn_text(h[0], h[1], nm[0], nm[1], buf, sizeof buf));
    }
    int rc = count ? (int)ix.nc : -1;
    free(count);
    tw_lc_free(&lc);
    tw_vindex_free(&ix);
    return rc;
}

void tw_view_counters(tw_sbuf *out, const char *indent, const uint64_t *counters) {
    for (int c = 0; c < TW_C__COUNT; c++)
        if (counters[c])
            tw_sbuf_printf(out, "%s%-22s %10" PRIu64 "  %s\n", indent, tw_counter_name(c),
                           counters[c], tw_counter_desc(c));
}
