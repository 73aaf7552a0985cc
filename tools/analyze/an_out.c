/* an_out.c - owns what `tcpwave analyze` prints about a finished
 * connection: the text summary (close kind, each endpoint's states with
 * their marks, frames and dwell, the diagnoses with their frames, a
 * Wireshark display filter), the JSON-lines record, and the --stats totals
 * (close kinds, CLOSE_WAIT dwell per server port, TIME_WAIT per client). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "analyze.h"
#include "view/lifecycle.h"
#include "wire/tcp_hdr.h"

static const char *const kind_names[TW_AK__COUNT][2] = {
    {"four-way close", "four_way"},         {"three-way close (FIN+ACK merged)", "three_way"},
    {"simultaneous close", "simultaneous"}, {"half-close (data after the first FIN)", "half_close"},
    {"abort (RST, no FIN)", "abort"},       {"FIN then RST", "fin_rst"},
    {"unterminated", "unterminated"},
};

static const char *const diag_keys[TW_AD__COUNT] = {
    "long_close_wait", "final_ack_lost", "three_way",        "simultaneous",   "unread_rst",
    "abort",           "tw_reuse",       "rst_in_time_wait", "half_close",     "data_after_fin",
    "fin_seq_changed", "zero_window",    "unterminated",     "fin_retransmit", "abort_or_unread",
};

const char *tw_an_kind_name(int k) {
    return k >= 0 && k < TW_AK__COUNT ? kind_names[k][0] : "?";
}
const char *tw_an_kind_key(int k) {
    return k >= 0 && k < TW_AK__COUNT ? kind_names[k][1] : "?";
}
const char *tw_an_diag_key(int d) {
    return d >= 0 && d < TW_AD__COUNT ? diag_keys[d] : "?";
}
const char *tw_an_mark_name(int m) {
    return m == TW_AN_OBSERVED ? "observed" : m == TW_AN_INFERRED ? "inferred" : "assumed";
}

const char *tw_an_iso_time(uint64_t t_ns, char *buf, size_t cap) {
    time_t sec = (time_t)(t_ns / 1000000000u);
    struct tm tm;
    char day[40];
    /* captures hold microseconds (pcap_open_offline scales nanosecond files) */
    unsigned usec = (unsigned)(t_ns % 1000000000u / 1000u);
    if (!gmtime_r(&sec, &tm) || !strftime(day, sizeof day, "%Y-%m-%dT%H:%M:%S", &tm))
        snprintf(day, sizeof day, "@%" PRIu64, t_ns / 1000000000u);
    snprintf(buf, cap, "%s.%06uZ", day, usec);
    return buf;
}

/* A time as the text shows it: ISO 8601 UTC, or seconds since the
 * capture's first TCP frame ("+1.056000"). */
static const char *when(const tw_an_conn *c, uint64_t t, int mode, char *buf, size_t cap) {
    if (mode == TW_AN_TIME_ABS) return tw_an_iso_time(t, buf, cap);
    uint64_t d = t >= c->capture_t0 ? t - c->capture_t0 : 0;
    snprintf(buf, cap, "+%" PRIu64 ".%06" PRIu64, d / 1000000000u, d % 1000000000u / 1000u);
    return buf;
}

static const char *endpoint(const tw_an_side *s, char *buf, size_t cap) {
    char a[16];
    snprintf(buf, cap, "%s:%u", tw_vev_addr_str(s->addr, a, sizeof a), (unsigned)s->port);
    return buf;
}

const char *tw_an_filter(const tw_an_conn *c, char *buf, size_t cap) {
    char a[16], b[16];
    snprintf(buf, cap, "ip.addr==%s && tcp.port==%u && ip.addr==%s && tcp.port==%u",
             tw_vev_addr_str(c->s[0].addr, a, sizeof a), (unsigned)c->s[0].port,
             tw_vev_addr_str(c->s[1].addr, b, sizeof b), (unsigned)c->s[1].port);
    return buf;
}

static void side_text(const tw_an_conn *c, int k, int mode, tw_sbuf *out) {
    const tw_an_side *s = &c->s[k];
    char ep[32], d[40], tm[48];
    tw_sbuf_printf(out, "  %s %s: %" PRIu64 " packets, %" PRIu64 " data bytes",
                   k ? "server" : "client", endpoint(s, ep, sizeof ep), s->pkts, s->bytes);
    if (s->fin) tw_sbuf_printf(out, ", FIN in frame %" PRIu64, s->fin_frame);
    if (s->fin_retrans) tw_sbuf_printf(out, " (retransmitted %" PRIu32 "x)", s->fin_retrans);
    if (s->rst) tw_sbuf_printf(out, ", RST in frame %" PRIu64, s->rst_frame);
    tw_sbuf_puts(out, "\n");
    for (int i = 0; i < s->npath; i++) {
        const tw_an_step *st = &s->path[i];
        tw_sbuf_printf(out, "    %-12s %-9s frame %-6" PRIu64 " %-*s", tw_state_name(st->state),
                       tw_an_mark_name(st->mark), st->frame, mode == TW_AN_TIME_ABS ? 27 : 12,
                       when(c, st->t, mode, tm, sizeof tm));
        uint64_t dw = tw_an_dwell(c, k, i);
        bool last = i == s->npath - 1;
        if (dw || !last) tw_sbuf_printf(out, " %s", tw_lc_dur(dw, d, sizeof d));
        if (last && st->state != TW_CLOSED && st->state != TW_LISTEN)
            tw_sbuf_puts(out, " (until capture end)");
        if (st->cause) tw_sbuf_printf(out, "  (%s)", tw_cause_desc(st->cause));
        tw_sbuf_rtrim(out);
        tw_sbuf_puts(out, "\n");
    }
}

bool tw_an_ecn_negotiated(const tw_an_conn *c) {
    return c->s[0].syn_ecn == (TW_TH_ECE | TW_TH_CWR) && c->s[1].syn_ecn == TW_TH_ECE;
}

/* One line on ECN (RFC 3168), when any segment of the connection touched it. */
static void ecn_text(const tw_an_conn *c, tw_sbuf *out) {
    const tw_an_side *a = &c->s[0], *b = &c->s[1];
    if (!(a->syn_ecn | b->syn_ecn) && !(a->ect + a->ce + a->ece + a->cwr) &&
        !(b->ect + b->ce + b->ece + b->cwr))
        return;
    tw_sbuf_printf(out, "  ecn: %s",
                   tw_an_ecn_negotiated(c) ? "negotiated"
                   : a->syn_ecn            ? "asked for by the client, not accepted"
                                           : "not negotiated");
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k];
        tw_sbuf_printf(out,
                       "; %s sent %" PRIu64 " ECN-capable, %" PRIu64 " CE-marked, %" PRIu64
                       " with ECE, %" PRIu64 " with CWR",
                       k ? "server" : "client", s->ect, s->ce, s->ece, s->cwr);
    }
    tw_sbuf_puts(out, "\n");
}

void tw_an_text(const tw_an_conn *c, int mode, tw_sbuf *out) {
    char a[32], b[32], f[160], d[40], t1[48], t2[48];
    tw_sbuf_printf(out, "connection %" PRIu64 ": %s -> %s", c->no, endpoint(&c->s[0], a, sizeof a),
                   endpoint(&c->s[1], b, sizeof b));
    if (c->incarnation > 1) tw_sbuf_printf(out, " (incarnation %" PRIu32 ")", c->incarnation);
    tw_sbuf_printf(out, ", frames %" PRIu64 "-%" PRIu64 ", %s%s\n", c->first_frame, c->last_frame,
                   tw_lc_dur(c->last_t - c->first_t, d, sizeof d),
                   c->syn_seen ? "" : ", began before the capture");
    tw_sbuf_printf(out, "  time: first frame %s, last frame %s%s\n",
                   when(c, c->first_t, mode, t1, sizeof t1),
                   when(c, c->last_t, mode, t2, sizeof t2),
                   mode == TW_AN_TIME_ABS ? " (UTC)" : " (s since the capture's first TCP frame)");
    tw_sbuf_printf(out, "  close: %s", tw_an_kind_name(c->kind));
    if (c->first_closer >= 0) {
        const tw_an_side *s = &c->s[c->first_closer];
        bool rst = s->rst && (!s->fin || s->rst_frame < s->fin_frame);
        tw_sbuf_printf(out, ", %s closed first (%s in frame %" PRIu64 ")",
                       c->first_closer ? "server" : "client", rst ? "RST" : "FIN",
                       rst ? s->rst_frame : s->fin_frame);
    }
    tw_sbuf_puts(out, "\n");
    side_text(c, 0, mode, out);
    side_text(c, 1, mode, out);
    ecn_text(c, out);
    if (c->ndiag) tw_sbuf_puts(out, "  diagnoses:\n");
    for (int i = 0; i < c->ndiag; i++) {
        const tw_an_diag *g = &c->diag[i];
        tw_sbuf_printf(out, "    - %s", g->text);
        for (int k = 0; k < g->nframes; k++)
            tw_sbuf_printf(out, "%s%" PRIu64, k ? ", " : " [frames ", g->frames[k]);
        tw_sbuf_puts(out, g->nframes ? "]\n" : "\n");
    }
    tw_sbuf_printf(out, "  wireshark: %s\n\n", tw_an_filter(c, f, sizeof f));
}

static void json_str(tw_sbuf *out, const char *s) {
    tw_sbuf_putc(out, '"');
    for (;;) {
        size_t run = strcspn(s, "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
                                "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                "\x1c\x1d\x1e\x1f");
        tw_sbuf_putn(out, s, run); /* the plain run at once: texts are mostly plain */
        s += run;
        if (!*s) break;
        unsigned char ch = (unsigned char)*s++;
        if (ch == '"' || ch == '\\')
            tw_sbuf_printf(out, "\\%c", ch);
        else
            tw_sbuf_printf(out, "\\u%04x", ch);
    }
    tw_sbuf_putc(out, '"');
}

static void json_side(const tw_an_conn *c, int k, tw_sbuf *out) {
    const tw_an_side *s = &c->s[k];
    char ep[32], tm[48];
    tw_sbuf_printf(out, "\"%s\":{\"endpoint\":", k ? "server" : "client");
    json_str(out, endpoint(s, ep, sizeof ep));
    tw_sbuf_printf(
        out,
        ",\"packets\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"fin_frame\":%" PRIu64
        ",\"fin_retransmits\":%" PRIu32 ",\"rst_frame\":%" PRIu64 ",\"rst_verdict\":\"%s\",",
        s->pkts, s->bytes, s->fin ? s->fin_frame : 0, s->fin_retrans, s->rst ? s->rst_frame : 0,
        !s->rst                               ? "none"
        : s->rst_verdict == TW_AN_RST_UNREAD  ? "unread_data"
        : s->rst_verdict == TW_AN_RST_ABORT   ? "abort"
        : s->rst_verdict == TW_AN_RST_UNKNOWN ? "abort_or_unread"
                                              : "none");
    tw_sbuf_printf(out,
                   "\"ecn\":{\"syn_ece\":%s,\"syn_cwr\":%s,\"ect\":%" PRIu64 ",\"ce\":%" PRIu64
                   ",\"ece\":%" PRIu64 ",\"cwr\":%" PRIu64 "},\"states\":[",
                   (s->syn_ecn & TW_TH_ECE) ? "true" : "false",
                   (s->syn_ecn & TW_TH_CWR) ? "true" : "false", s->ect, s->ce, s->ece, s->cwr);
    for (int i = 0; i < s->npath; i++) {
        const tw_an_step *st = &s->path[i];
        tw_sbuf_printf(out,
                       "%s{\"state\":\"%s\",\"mark\":\"%s\",\"frame\":%" PRIu64 ",\"t\":%" PRIu64
                       ",\"time\":\"%s\",\"rel_s\":%s"
                       ",\"dwell_ns\":%" PRIu64 ",\"cause\":\"%s\"}",
                       i ? "," : "", tw_state_name(st->state), tw_an_mark_name(st->mark), st->frame,
                       st->t, tw_an_iso_time(st->t, tm, sizeof tm),
                       when(c, st->t, TW_AN_TIME_REL, ep, sizeof ep) + 1, tw_an_dwell(c, k, i),
                       tw_cause_name(st->cause));
    }
    tw_sbuf_puts(out, "]}");
}

void tw_an_json(const tw_an_conn *c, tw_sbuf *out) {
    char f[160], t1[48], t2[48];
    tw_sbuf_printf(
        out,
        "{\"conn\":%" PRIu64 ",\"incarnation\":%" PRIu32 ",\"first_frame\":%" PRIu64
        ",\"last_frame\":%" PRIu64 ",\"first_t\":%" PRIu64 ",\"last_t\":%" PRIu64
        ",\"syn_seen\":%s,\"kind\":\"%s\",\"first_closer\":\"%s\",\"at_capture_end\":%s,",
        c->no, c->incarnation, c->first_frame, c->last_frame, c->first_t, c->last_t,
        c->syn_seen ? "true" : "false", tw_an_kind_key(c->kind),
        c->first_closer < 0 ? "none"
        : c->first_closer   ? "server"
                            : "client",
        c->at_capture_end ? "true" : "false");
    tw_sbuf_printf(out, "\"first_time\":\"%s\",\"last_time\":\"%s\",",
                   tw_an_iso_time(c->first_t, t1, sizeof t1),
                   tw_an_iso_time(c->last_t, t2, sizeof t2));
    json_side(c, 0, out);
    tw_sbuf_putc(out, ',');
    json_side(c, 1, out);
    tw_sbuf_puts(out, ",\"diagnoses\":[");
    for (int i = 0; i < c->ndiag; i++) {
        const tw_an_diag *g = &c->diag[i];
        tw_sbuf_printf(out, "%s{\"code\":\"%s\",\"text\":", i ? "," : "", tw_an_diag_key(g->code));
        json_str(out, g->text);
        tw_sbuf_puts(out, ",\"frames\":[");
        for (int k = 0; k < g->nframes; k++)
            tw_sbuf_printf(out, "%s%" PRIu64, k ? "," : "", g->frames[k]);
        tw_sbuf_puts(out, "]}");
    }
    tw_sbuf_puts(out, "],\"filter\":");
    json_str(out, tw_an_filter(c, f, sizeof f));
    tw_sbuf_puts(out, "}\n");
}

void tw_an_stats_add(tw_an_stats *st, const tw_an_conn *c, const tw_an_opts *o) {
    (void)o;
    st->conns++;
    if (c->kind >= 0 && c->kind < TW_AK__COUNT) st->kinds[c->kind]++;
    for (int i = 0; i < c->ndiag; i++)
        if (c->diag[i].code >= 0 && c->diag[i].code < TW_AD__COUNT) st->diags[c->diag[i].code]++;
    for (int k = 0; k < 2; k++) {
        const tw_an_side *s = &c->s[k];
        for (int i = 0; i < s->npath; i++) {
            uint64_t d = tw_an_dwell(c, k, i);
            if (s->path[i].state == TW_CLOSE_WAIT) {
                size_t j = 0;
                while (j < st->ncw && st->cw[j].port != c->s[1].port) j++;
                if (j == st->ncw && st->ncw < TW_AN_STAT_MAX) st->cw[st->ncw++].port = c->s[1].port;
                if (j == TW_AN_STAT_MAX) {
                    st->cw_other++;
                    continue;
                }
                st->cw[j].n++;
                st->cw[j].total_ns += d;
                if (d > st->cw[j].max_ns) st->cw[j].max_ns = d;
            } else if (s->path[i].state == TW_TIME_WAIT) {
                size_t j = 0;
                while (j < st->ntw && st->tw[j].addr != c->s[0].addr) j++;
                if (j == st->ntw && st->ntw < TW_AN_STAT_MAX) st->tw[st->ntw++].addr = c->s[0].addr;
                if (j == TW_AN_STAT_MAX) {
                    st->tw_other++;
                    continue;
                }
                st->tw[j].n++;
                st->tw[j].total_ns += d;
                if (k == 1) st->tw[j].server_side++;
            }
        }
    }
}

void tw_an_stats_text(const tw_an_stats *st, tw_sbuf *out) {
    char d1[40], d2[40], a[16];
    tw_sbuf_printf(out, "totals: %" PRIu64 " connection(s)\n  close kinds:\n", st->conns);
    for (int k = 0; k < TW_AK__COUNT; k++)
        if (st->kinds[k])
            tw_sbuf_printf(out, "    %-40s %" PRIu64 "\n", tw_an_kind_name(k), st->kinds[k]);
    bool any = false;
    for (int k = 0; k < TW_AD__COUNT; k++) any |= st->diags[k] != 0;
    if (any) tw_sbuf_puts(out, "  diagnoses:\n");
    for (int k = 0; k < TW_AD__COUNT; k++)
        if (st->diags[k])
            tw_sbuf_printf(out, "    %-40s %" PRIu64 "\n", tw_an_diag_key(k), st->diags[k]);
    if (st->ncw) tw_sbuf_puts(out, "  CLOSE_WAIT dwell per server port (either side):\n");
    for (size_t j = 0; j < st->ncw; j++)
        tw_sbuf_printf(out, "    port %-5u %" PRIu64 " time(s), total %s, max %s\n",
                       (unsigned)st->cw[j].port, st->cw[j].n,
                       tw_lc_dur(st->cw[j].total_ns, d1, sizeof d1),
                       tw_lc_dur(st->cw[j].max_ns, d2, sizeof d2));
    if (st->ntw) tw_sbuf_puts(out, "  TIME_WAIT held per client address:\n");
    for (size_t j = 0; j < st->ntw; j++)
        tw_sbuf_printf(out,
                       "    %-15s %" PRIu64 " time(s) (%" PRIu64 " by the server side), total %s\n",
                       tw_vev_addr_str(st->tw[j].addr, a, sizeof a), st->tw[j].n,
                       st->tw[j].server_side, tw_lc_dur(st->tw[j].total_ns, d1, sizeof d1));
    if (st->cw_other || st->tw_other)
        tw_sbuf_printf(out,
                       "  (%" PRIu64 " more CLOSE_WAIT and %" PRIu64
                       " more TIME_WAIT entries beyond the first %d ports/clients)\n",
                       st->cw_other, st->tw_other, TW_AN_STAT_MAX);
}
