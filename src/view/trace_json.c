/* trace_json.c - owns the writing side of the JSON-lines trace (see
 * trace_json.h): the event list, the names of kinds, flags and meta bits,
 * and the one-line formatter. The reader is trace_json_read.c. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_stats.h>

#include "view/trace_json.h"

void tw_vev_list_init(tw_vev_list *l) {
    memset(l, 0, sizeof *l);
}

void tw_vev_list_free(tw_vev_list *l) {
    free(l->v);
    memset(l, 0, sizeof *l);
}

int tw_vev_list_push(tw_vev_list *l, const tw_vev *e) {
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 256;
        if (ncap > ((size_t)-1) / sizeof *l->v) return -1;
        tw_vev *n = realloc(l->v, ncap * sizeof *n);
        if (!n) return -1;
        l->v = n;
        l->cap = ncap;
    }
    l->v[l->n++] = *e;
    return 0;
}

void tw_vev_make(tw_vev *out, int host, const char *host_name, const tw_trace_ev *ev) {
    memset(out, 0, sizeof *out);
    out->ev = *ev;
    out->host = (uint16_t)host;
    if (host_name) {
        size_t n = strlen(host_name);
        if (n >= sizeof out->host_name) n = sizeof out->host_name - 1;
        memcpy(out->host_name, host_name, n);
    }
}

const char *tw_vev_kind_name(int kind) {
    switch (kind) {
    case TW_EV_STATE: return "state";
    case TW_EV_SEG_IN: return "seg_in";
    case TW_EV_SEG_OUT: return "seg_out";
    case TW_EV_DROP: return "drop";
    case TW_EV_TIMER: return "timer";
    case TW_EV_USER: return "user";
    case TW_VEV_LINK_LOST: return "link_lost";
    default: return "?";
    }
}

/* Joins the names of the set bits with '|'. */
static const char *bits_str(unsigned v, const char *const *names, int nnames, char *buf,
                            size_t cap) {
    size_t n = 0;
    if (cap) buf[0] = '\0';
    for (int i = 0; i < nnames; i++) {
        if (!(v & (1u << i))) continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? "|" : "", names[i]);
        if (w < 0 || (size_t)w >= cap - n) break;
        n += (size_t)w;
    }
    return buf;
}

static const char *const flag_names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
static const char *const meta_names[7] = {"RETRANS",   "PROBE", "CHALLENGE", "TW",
                                          "KEEPALIVE", "ECT",   "CE"};

const char *tw_vev_flags_str(uint8_t flags, char *buf, size_t cap) {
    return bits_str(flags, flag_names, 8, buf, cap);
}

const char *tw_vev_meta_str(uint8_t meta, char *buf, size_t cap) {
    return bits_str(meta, meta_names, 7, buf, cap);
}

const char *tw_vev_addr_str(uint32_t a, char *buf, size_t cap) {
    snprintf(buf, cap, "%u.%u.%u.%u", (unsigned)(a >> 24), (unsigned)(a >> 16) & 255u,
             (unsigned)(a >> 8) & 255u, (unsigned)a & 255u);
    return buf;
}

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if it is not one
 * (overlong forms, surrogates and values past U+10FFFF are invalid). */
static size_t utf8_len(const unsigned char *p) {
    unsigned c = p[0];
    size_t n = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
    if (n == 0 || c > 0xf4) return 0;
    for (size_t k = 1; k < n; k++)
        if ((p[k] & 0xc0) != 0x80) return 0;
    if ((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] >= 0xa0) || (c == 0xf0 && p[1] < 0x90) ||
        (c == 0xf4 && p[1] >= 0x90))
        return 0;
    return n;
}

/* A JSON string literal (with quotes) of s into out; bytes that are not
 * UTF-8 become '?', so every line stays valid JSON. */
static const char *jstr(const char *s, char *out, size_t cap) {
    size_t n = 0;
    if (cap < 3) {
        if (cap) out[0] = '\0';
        return out;
    }
    out[n++] = '"';
    for (const unsigned char *p = (const unsigned char *)s; *p && n + 8 < cap; p++) {
        size_t u = *p >= 0x80 ? utf8_len(p) : 0;
        if (*p == '"' || *p == '\\') {
            out[n++] = '\\';
            out[n++] = (char)*p;
        } else if (*p < 0x20) {
            n += (size_t)snprintf(out + n, cap - n, "\\u%04x", *p);
        } else if (u) {
            for (size_t k = 0; k < u; k++) out[n++] = (char)p[k];
            p += u - 1;
        } else if (*p >= 0x80) {
            out[n++] = '?';
        } else {
            out[n++] = (char)*p;
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    return out;
}

/* A name as a JSON string, or the number when the value has no name. */
static const char *name_or_num(const char *name, unsigned v, char *out, size_t cap) {
    if (name && strcmp(name, "?") != 0) return jstr(name, out, cap);
    snprintf(out, cap, "%u", v);
    return out;
}

static const char *cause_json(const tw_trace_ev *v, char *out, size_t cap) {
    switch (v->kind) {
    case TW_EV_STATE: return name_or_num(tw_cause_name(v->cause), v->cause, out, cap);
    case TW_EV_TIMER: return name_or_num(tw_timer_name(v->cause), v->cause, out, cap);
    case TW_EV_USER: return name_or_num(tw_call_name(v->cause), v->cause, out, cap);
    default: return name_or_num(NULL, v->cause, out, cap);
    }
}

/* Flags or meta as a string of names, or a number when a bit has no name. */
static const char *bits_json(unsigned v, unsigned named_mask, const char *s, char *out,
                             size_t cap) {
    if (v & ~named_mask)
        snprintf(out, cap, "%u", v);
    else
        snprintf(out, cap, "\"%s\"", s);
    return out;
}

size_t tw_vev_utf8_len(const unsigned char *p) {
    return utf8_len(p);
}

size_t tw_tj_format(const tw_vev *e, char *buf, size_t cap) {
    const tw_trace_ev *v = &e->ev;
    char name[TW_VEV_HOST_NAME_MAX * 6 + 3], kind[24], os[32], ns[32], cause[48], reason[64];
    char fl[48], flj[56], meta[48], metaj[56], la[16], ra[16], extra[160];
    const char *rname = v->reason ? tw_counter_name(v->reason) : NULL;
    if (v->reason == 0)
        snprintf(reason, sizeof reason, "null");
    else
        name_or_num(rname, v->reason, reason, sizeof reason);
    extra[0] = '\0';
    char desc[128];
    if (v->kind == TW_EV_STATE && strcmp(tw_cause_desc(v->cause), "?") != 0)
        snprintf(extra, sizeof extra, ",\"cause_desc\":%s",
                 jstr(tw_cause_desc(v->cause), desc, sizeof desc));
    else if (rname)
        snprintf(extra, sizeof extra, ",\"reason_desc\":%s",
                 jstr(tw_counter_desc(v->reason), desc, sizeof desc));
    char hn[TW_VEV_HOST_NAME_MAX];
    memcpy(hn, e->host_name, sizeof hn);
    hn[sizeof hn - 1] = '\0';
    int n = snprintf(
        buf, cap,
        "{\"t\":%" PRIu64 ",\"host\":%u,\"host_name\":%s,\"conn\":%" PRIu32 ",\"kind\":%s,"
        "\"old_state\":%s,\"new_state\":%s,\"cause\":%s,\"reason\":%s,\"flags\":%s,\"meta\":%s,"
        "\"seq\":%" PRIu32 ",\"ack\":%" PRIu32 ",\"len\":%" PRIu32 ",\"wnd\":%u,"
        "\"laddr\":\"%s\",\"lport\":%u,\"raddr\":\"%s\",\"rport\":%u%s}\n",
        v->t, (unsigned)e->host, jstr(hn, name, sizeof name), v->conn_id,
        name_or_num(tw_vev_kind_name(v->kind), v->kind, kind, sizeof kind),
        name_or_num(tw_state_name(v->old_state), v->old_state, os, sizeof os),
        name_or_num(tw_state_name(v->new_state), v->new_state, ns, sizeof ns),
        cause_json(v, cause, sizeof cause), reason,
        bits_json(v->flags, 0xffu, tw_vev_flags_str(v->flags, fl, sizeof fl), flj, sizeof flj),
        bits_json(v->meta, 0x7fu, tw_vev_meta_str(v->meta, meta, sizeof meta), metaj, sizeof metaj),
        v->seq, v->ack, v->len, (unsigned)v->wnd, tw_vev_addr_str(v->laddr, la, sizeof la),
        (unsigned)v->lport, tw_vev_addr_str(v->raddr, ra, sizeof ra), (unsigned)v->rport, extra);
    return n < 0 ? 0 : (size_t)n;
}

int tw_tj_write(FILE *f, const tw_vev *e) {
    char buf[1024];
    size_t n = tw_tj_format(e, buf, sizeof buf);
    if (n >= sizeof buf) return -1;
    return fwrite(buf, 1, n, f) == n ? 0 : -1;
}
