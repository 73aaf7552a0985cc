/* trace_json_read.c - owns the reading side of the JSON-lines trace: a small
 * strict JSON parser for one flat object per line (nested values are
 * accepted and skipped for unknown keys) and the mapping of keys and names
 * back onto tw_vev. Every error names the column and what was expected; the
 * parser only ever looks inside [line, line + len). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <tcpwave/tw_stats.h>

#include "view/trace_json.h"

#define MAX_DEPTH 32
#define MAX_LINE 65536

typedef struct jp {
    const char *s;
    size_t n, i;
    char *err;
    size_t errcap;
} jp;

enum { JV_STR, JV_NUM, JV_NULL, JV_BOOL, JV_COMPOUND };

typedef struct jv {
    int type;
    bool is_uint; /* a whole number >= 0 that fits in 64 bits */
    uint64_t u;
    bool str_long; /* the string did not fit in str */
    char str[128];
    size_t col; /* 1-based column where the value starts */
} jv;

static int fail_at(jp *p, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(jp *p, size_t col, const char *fmt, ...) {
    if (!p->errcap) return -1;
    int k = snprintf(p->err, p->errcap, "column %zu: ", col);
    if (k < 0 || (size_t)k >= p->errcap) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + k, p->errcap - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* Describes the character at the cursor for error messages. */
static const char *here(const jp *p, char *buf, size_t cap) {
    if (p->i >= p->n) return "the end of the line";
    unsigned char c = (unsigned char)p->s[p->i];
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", c);
    return buf;
}

static void ws(jp *p) {
    /* Most calls find a token at once: anything above ' ' ends the run. */
    while (p->i < p->n && (unsigned char)p->s[p->i] <= ' ' &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r'))
        p->i++;
}

static int hex4(jp *p, unsigned *out) {
    if (p->n - p->i < 4) return fail_at(p, p->i + 1, "\\u needs four hex digits");
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        char c = p->s[p->i + (size_t)k];
        unsigned d = (c >= '0' && c <= '9')   ? (unsigned)(c - '0')
                     : (c >= 'a' && c <= 'f') ? (unsigned)(c - 'a' + 10)
                     : (c >= 'A' && c <= 'F') ? (unsigned)(c - 'A' + 10)
                                              : 16u;
        if (d == 16) return fail_at(p, p->i + (size_t)k + 1, "\\u needs four hex digits");
        v = v * 16 + d;
    }
    p->i += 4;
    *out = v;
    return 0;
}

static void put_byte(jv *v, size_t *n, unsigned char b) {
    if (*n + 1 < sizeof v->str)
        v->str[(*n)++] = (char)b;
    else
        v->str_long = true;
}

static void put_utf8(jv *v, size_t *n, unsigned cp) {
    if (cp < 0x80) {
        put_byte(v, n, (unsigned char)cp);
    } else if (cp < 0x800) {
        put_byte(v, n, (unsigned char)(0xc0 | (cp >> 6)));
        put_byte(v, n, (unsigned char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        put_byte(v, n, (unsigned char)(0xe0 | (cp >> 12)));
        put_byte(v, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
        put_byte(v, n, (unsigned char)(0x80 | (cp & 0x3f)));
    } else {
        put_byte(v, n, (unsigned char)(0xf0 | (cp >> 18)));
        put_byte(v, n, (unsigned char)(0x80 | ((cp >> 12) & 0x3f)));
        put_byte(v, n, (unsigned char)(0x80 | ((cp >> 6) & 0x3f)));
        put_byte(v, n, (unsigned char)(0x80 | (cp & 0x3f)));
    }
}

/* \uXXXX (the cursor is after the 'u'), with surrogate pairs. */
static int unicode_escape(jp *p, jv *v, size_t *n) {
    size_t col = p->i - 1;
    unsigned cp;
    if (hex4(p, &cp)) return -1;
    if (cp >= 0xdc00 && cp <= 0xdfff) return fail_at(p, col, "lone low surrogate \\u%04x", cp);
    if (cp >= 0xd800 && cp <= 0xdbff) {
        unsigned lo;
        if (p->n - p->i < 2 || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u')
            return fail_at(p, col, "high surrogate \\u%04x without its low half", cp);
        p->i += 2;
        if (hex4(p, &lo)) return -1;
        if (lo < 0xdc00 || lo > 0xdfff)
            return fail_at(p, col, "high surrogate \\u%04x without its low half", cp);
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
    }
    if (cp == 0) return fail_at(p, col, "\\u0000 is not allowed in a string");
    put_utf8(v, n, cp);
    return 0;
}

/* Bytes a string holds as they are: 0x20..0x7f but '"' (0x22) and '\\'
 * (0x5c), one bit each over all 256 byte values (one table load per byte,
 * no range test). */
static const uint64_t plain_bits[4] = {0xfffffffb00000000u, 0xffffffffefffffffu, 0, 0};

static bool plain_byte(unsigned char c) {
    return (plain_bits[c >> 6] >> (c & 63u)) & 1u;
}

/* Copies the run of plain bytes at the cursor into v->str at *n (a test and
 * a copy per run rather than four tests and a call per byte: traces are
 * mostly names and numbers). */
static void plain_run(jp *p, jv *v, size_t *n) {
    size_t j = p->i;
    while (j < p->n && plain_byte((unsigned char)p->s[j])) j++;
    size_t len = j - p->i, room = sizeof v->str - 1 - *n;
    if (len > room) {
        len = room;
        v->str_long = true;
    }
    memcpy(v->str + *n, p->s + p->i, len);
    *n += len;
    p->i = j;
}

static int parse_string(jp *p, jv *v) {
    v->type = JV_STR;
    v->str_long = false;
    size_t n = 0;
    size_t start = p->i + 1;
    p->i++; /* opening quote */
    for (;;) {
        plain_run(p, v, &n);
        if (p->i >= p->n) return fail_at(p, start, "string not closed before the end of the line");
        unsigned char c = (unsigned char)p->s[p->i];
        if (c == '"') {
            p->i++;
            break;
        }
        if (c < 0x20) return fail_at(p, p->i + 1, "control byte 0x%02x inside a string", c);
        if (c >= 0x80) { /* raw UTF-8: must be valid, and within the line */
            unsigned char seq[5] = {0};
            size_t avail = p->n - p->i < 4 ? p->n - p->i : 4;
            memcpy(seq, p->s + p->i, avail);
            size_t u = tw_vev_utf8_len(seq);
            if (!u) return fail_at(p, p->i + 1, "invalid UTF-8 byte 0x%02x in a string", c);
            for (size_t k = 0; k < u; k++) put_byte(v, &n, seq[k]);
            p->i += u;
            continue;
        }
        if (++p->i >= p->n) return fail_at(p, p->i, "string not closed before the end of the line");
        char e = p->s[p->i++];
        const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
        const char *k = strchr(from, e);
        if (e == 'u') {
            if (unicode_escape(p, v, &n)) return -1;
        } else if (e && k) {
            put_byte(v, &n, (unsigned char)to[k - from]);
        } else {
            return fail_at(p, p->i, "unknown escape '\\%c' in a string", e ? e : '0');
        }
    }
    v->str[n] = '\0';
    return 0;
}

static bool is_digit(const jp *p) {
    return p->i < p->n && (unsigned)(p->s[p->i] - '0') < 10u;
}

static int parse_number(jp *p, jv *v) {
    size_t col = p->i + 1;
    v->type = JV_NUM;
    v->is_uint = true;
    v->u = 0;
    if (p->s[p->i] == '-') {
        v->is_uint = false;
        p->i++;
    }
    if (!is_digit(p)) return fail_at(p, col, "a number needs digits");
    if (p->s[p->i] == '0' && p->i + 1 < p->n && p->s[p->i + 1] >= '0' && p->s[p->i + 1] <= '9')
        return fail_at(p, col, "numbers may not have leading zeros");
    while (is_digit(p)) {
        unsigned d = (unsigned)(p->s[p->i++] - '0');
        if (v->u > (UINT64_MAX - d) / 10)
            v->is_uint = false;
        else
            v->u = v->u * 10 + d;
    }
    if (p->i < p->n && p->s[p->i] == '.') {
        p->i++;
        v->is_uint = false;
        if (!is_digit(p)) return fail_at(p, p->i + 1, "digits must follow a decimal point");
        while (is_digit(p)) p->i++;
    }
    if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
        p->i++;
        v->is_uint = false;
        if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-')) p->i++;
        if (!is_digit(p)) return fail_at(p, p->i + 1, "digits must follow an exponent");
        while (is_digit(p)) p->i++;
    }
    return 0;
}

static int parse_value(jp *p, jv *v, int depth);

/* An array or object whose content is checked and thrown away. */
static int skip_compound(jp *p, jv *v, int depth) {
    char open = p->s[p->i], close = open == '[' ? ']' : '}';
    char buf[24];
    if (depth >= MAX_DEPTH) return fail_at(p, p->i + 1, "values nested deeper than %d", MAX_DEPTH);
    p->i++;
    ws(p);
    if (p->i < p->n && p->s[p->i] == close) {
        p->i++;
        v->type = JV_COMPOUND;
        return 0;
    }
    for (;;) {
        jv item;
        ws(p);
        if (open == '{') {
            if (p->i >= p->n || p->s[p->i] != '"')
                return fail_at(p, p->i + 1, "expected a key in double quotes, found %s",
                               here(p, buf, sizeof buf));
            if (parse_string(p, &item)) return -1;
            ws(p);
            if (p->i >= p->n || p->s[p->i] != ':')
                return fail_at(p, p->i + 1, "expected ':' after a key, found %s",
                               here(p, buf, sizeof buf));
            p->i++;
        }
        if (parse_value(p, &item, depth + 1)) return -1;
        ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == close) break;
        return fail_at(p, p->i + 1, "expected ',' or '%c', found %s", close,
                       here(p, buf, sizeof buf));
    }
    p->i++;
    v->type = JV_COMPOUND;
    return 0;
}

static int parse_value(jp *p, jv *v, int depth) {
    char buf[24];
    ws(p);
    v->col = p->i + 1;
    if (p->i >= p->n) return fail_at(p, p->i + 1, "expected a value, found the end of the line");
    char c = p->s[p->i];
    if (c == '"') return parse_string(p, v);
    if (c == '-' || (c >= '0' && c <= '9')) return parse_number(p, v);
    if (c == '[' || c == '{') return skip_compound(p, v, depth);
    static const struct {
        const char *word;
        int type;
    } lit[] = {{"null", JV_NULL}, {"true", JV_BOOL}, {"false", JV_BOOL}};
    for (size_t k = 0; k < sizeof lit / sizeof lit[0]; k++) {
        size_t wl = strlen(lit[k].word);
        if (p->n - p->i >= wl && !memcmp(p->s + p->i, lit[k].word, wl)) {
            p->i += wl;
            v->type = lit[k].type;
            return 0;
        }
    }
    return fail_at(p, p->i + 1,
                   "expected a value (string, number, true, false, null, array or "
                   "object), found %s",
                   here(p, buf, sizeof buf));
}

/* ---- mapping keys onto the event ---- */

typedef struct pstate {
    tw_vev *out;
    bool has_t, has_kind;
    jv cause;
    bool has_cause;
} pstate;

static int want_uint(jp *p, const char *key, const jv *v, uint64_t max, uint64_t *out) {
    if (v->type != JV_NUM || !v->is_uint || v->u > max)
        return fail_at(p, v->col, "\"%s\": expected a whole number from 0 to %llu", key,
                       (unsigned long long)max);
    *out = v->u;
    return 0;
}

typedef const char *(*name_fn)(int);

static const char *kind_name_fn(int k) {
    return tw_vev_kind_name(k);
}
static const char *counter_name_fn(int k) {
    const char *s = tw_counter_name(k);
    return s ? s : "?";
}

/* A name from a table (0..count-1), or a number up to max. */
static int want_name(jp *p, const char *key, const jv *v, name_fn fn, int count, uint64_t max,
                     uint64_t *out) {
    if (v->type == JV_NUM) return want_uint(p, key, v, max, out);
    if (v->type != JV_STR)
        return fail_at(p, v->col, "\"%s\": expected a name in double quotes", key);
    for (int k = 0; k < count && !v->str_long; k++) {
        const char *name = fn(k); /* "?" marks an unnamed value */
        if (name[0] == v->str[0] && name[0] != '?' && !strcmp(name, v->str)) {
            *out = (uint64_t)k;
            return 0;
        }
    }
    return fail_at(p, v->col, "\"%s\": unknown name \"%.60s\"", key, v->str);
}

/* "FIN|ACK" style bit names, or a number. */
static int want_bits(jp *p, const char *key, const jv *v, const char *const *names, int nnames,
                     uint8_t *out) {
    uint64_t x = 0;
    if (v->type == JV_NUM) {
        if (want_uint(p, key, v, 255, &x)) return -1;
        *out = (uint8_t)x;
        return 0;
    }
    if (v->type != JV_STR || v->str_long)
        return fail_at(p, v->col, "\"%s\": expected names joined by '|' in double quotes", key);
    unsigned bits = 0;
    const char *s = v->str;
    while (*s) {
        size_t l = strcspn(s, "|");
        int k = 0;
        while (k < nnames && !(strlen(names[k]) == l && !memcmp(names[k], s, l))) k++;
        if (k == nnames)
            return fail_at(p, v->col, "\"%s\": unknown name \"%.*s\"", key, (int)(l > 40 ? 40 : l),
                           s);
        bits |= 1u << k;
        s += l;
        if (*s == '|') {
            s++;
            if (!*s) return fail_at(p, v->col, "\"%s\": a name must follow '|'", key);
        }
    }
    *out = (uint8_t)bits;
    return 0;
}

static int want_addr(jp *p, const char *key, const jv *v, uint32_t *out) {
    unsigned a[4];
    int used = 0;
    if (v->type != JV_STR || v->str_long ||
        sscanf(v->str, "%3u.%3u.%3u.%3u%n", &a[0], &a[1], &a[2], &a[3], &used) != 4 ||
        v->str[used] != '\0' || a[0] > 255 || a[1] > 255 || a[2] > 255 || a[3] > 255 ||
        strspn(v->str, "0123456789.") != strlen(v->str))
        return fail_at(p, v->col, "\"%s\": expected an IPv4 address like \"198.18.0.1\"", key);
    *out = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
    return 0;
}

static const char *const flag_names[8] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
static const char *const meta_names[7] = {"RETRANS",   "PROBE", "CHALLENGE", "TW",
                                          "KEEPALIVE", "ECT",   "CE"};

/* The keys a line may carry (others are skipped). The numeric ones come
 * first, with their byte offset in tw_trace_ev, width and maximum. */
enum {
    K_T,
    K_CONN,
    K_SEQ,
    K_ACK,
    K_LEN,
    K_WND,
    K_LPORT,
    K_RPORT, /* numeric */
    K_HOST,
    K_HOST_NAME,
    K_CAUSE,
    K_KIND,
    K_OLD_STATE,
    K_NEW_STATE,
    K_REASON,
    K_FLAGS,
    K_META,
    K_LADDR,
    K_RADDR,
    K__COUNT
};
#define NUM_KEY(k, field, max)                                                                     \
    { k, offsetof(tw_trace_ev, field), sizeof(((tw_trace_ev *)0)->field), max }
#define NAMED_KEY(k)                                                                               \
    { k, 0, 0, 0 }
static const struct key {
    const char *key;
    size_t off, size;
    uint64_t max;
} keys[K__COUNT] = {
    NUM_KEY("t", t, UINT64_MAX),
    NUM_KEY("conn", conn_id, UINT32_MAX),
    NUM_KEY("seq", seq, UINT32_MAX),
    NUM_KEY("ack", ack, UINT32_MAX),
    NUM_KEY("len", len, UINT32_MAX),
    NUM_KEY("wnd", wnd, UINT16_MAX),
    NUM_KEY("lport", lport, UINT16_MAX),
    NUM_KEY("rport", rport, UINT16_MAX),
    NAMED_KEY("host"),
    NAMED_KEY("host_name"),
    NAMED_KEY("cause"),
    NAMED_KEY("kind"),
    NAMED_KEY("old_state"),
    NAMED_KEY("new_state"),
    NAMED_KEY("reason"),
    NAMED_KEY("flags"),
    NAMED_KEY("meta"),
    NAMED_KEY("laddr"),
    NAMED_KEY("raddr"),
};

/* The K_ index of `key`, or -1. A line carries about fifteen keys: the
 * first byte picks the (at most three) keys that can match, so a key costs
 * one or two string compares, not a walk over all of them. Every key of
 * keys[] must be reachable here (the writer's output parses back: tested). */
static int key_index(const char *key) {
    int c[3] = {-1, -1, -1};
    switch (key[0]) {
    case 't': c[0] = K_T; break;
    case 'c': c[0] = K_CONN, c[1] = K_CAUSE; break;
    case 's': c[0] = K_SEQ; break;
    case 'a': c[0] = K_ACK; break;
    case 'l': c[0] = K_LEN, c[1] = K_LPORT, c[2] = K_LADDR; break;
    case 'w': c[0] = K_WND; break;
    case 'r': c[0] = K_RPORT, c[1] = K_REASON, c[2] = K_RADDR; break;
    case 'h': c[0] = K_HOST, c[1] = K_HOST_NAME; break;
    case 'k': c[0] = K_KIND; break;
    case 'o': c[0] = K_OLD_STATE; break;
    case 'n': c[0] = K_NEW_STATE; break;
    case 'f': c[0] = K_FLAGS; break;
    case 'm': c[0] = K_META; break;
    default: return -1;
    }
    for (int i = 0; i < 3 && c[i] >= 0; i++)
        if (!strcmp(keys[c[i]].key, key)) return c[i];
    return -1;
}

static void store(void *field, size_t size, uint64_t x) {
    if (size == 8) {
        uint64_t v = x;
        memcpy(field, &v, 8);
    } else if (size == 4) {
        uint32_t v = (uint32_t)x;
        memcpy(field, &v, 4);
    } else if (size == 2) {
        uint16_t v = (uint16_t)x;
        memcpy(field, &v, 2);
    } else {
        uint8_t v = (uint8_t)x;
        memcpy(field, &v, 1);
    }
}

static int apply_named(jp *p, pstate *ps, int k, const char *key, const jv *v) {
    tw_trace_ev *e = &ps->out->ev;
    uint64_t x = 0;
    switch (k) {
    case K_KIND:
        if (want_name(p, key, v, kind_name_fn, TW_VEV_LINK_LOST + 1, 255, &x)) return -1;
        e->kind = (uint8_t)x;
        ps->has_kind = true;
        return 0;
    case K_OLD_STATE:
    case K_NEW_STATE:
        if (want_name(p, key, v, tw_state_name, TW_STATE__COUNT, 255, &x)) return -1;
        if (k == K_OLD_STATE)
            e->old_state = (uint8_t)x;
        else
            e->new_state = (uint8_t)x;
        return 0;
    case K_REASON:
        if (v->type == JV_NULL)
            e->reason = 0;
        else if (want_name(p, key, v, counter_name_fn, TW_C__COUNT, UINT16_MAX, &x))
            return -1;
        else
            e->reason = (uint16_t)x;
        return 0;
    case K_FLAGS: return want_bits(p, key, v, flag_names, 8, &e->flags);
    case K_META: return want_bits(p, key, v, meta_names, 7, &e->meta);
    case K_LADDR: return want_addr(p, key, v, &e->laddr);
    case K_RADDR: return want_addr(p, key, v, &e->raddr);
    default: return 0;
    }
}

static int apply(jp *p, pstate *ps, const char *key, const jv *v) {
    uint64_t x = 0;
    int k = key_index(key);
    if (k < 0) return 0; /* unknown keys are skipped */
    if (k <= K_RPORT) {
        if (want_uint(p, key, v, keys[k].max, &x)) return -1;
        store((char *)&ps->out->ev + keys[k].off, keys[k].size, x);
        if (k == K_T) ps->has_t = true;
        return 0;
    }
    if (k == K_HOST) {
        if (want_uint(p, key, v, UINT16_MAX, &x)) return -1;
        ps->out->host = (uint16_t)x;
    } else if (k == K_HOST_NAME) {
        if (v->type != JV_STR || strlen(v->str) >= TW_VEV_HOST_NAME_MAX || v->str_long)
            return fail_at(p, v->col, "\"host_name\": expected a string of at most %d bytes",
                           TW_VEV_HOST_NAME_MAX - 1);
        memset(ps->out->host_name, 0, sizeof ps->out->host_name);
        memcpy(ps->out->host_name, v->str, strlen(v->str));
    } else if (k == K_CAUSE) {
        ps->cause = *v; /* its meaning depends on "kind", which may come later */
        ps->has_cause = true;
    } else {
        return apply_named(p, ps, k, key, v);
    }
    return 0;
}

static int resolve_cause(jp *p, pstate *ps) {
    tw_trace_ev *e = &ps->out->ev;
    uint64_t x = 0;
    if (!ps->has_cause) return 0;
    const jv *v = &ps->cause;
    if (v->type == JV_NUM) {
        if (want_uint(p, "cause", v, 255, &x)) return -1;
    } else if (e->kind == TW_EV_STATE) {
        if (want_name(p, "cause", v, tw_cause_name, TW_CAUSE__COUNT, 255, &x)) return -1;
    } else if (e->kind == TW_EV_TIMER) {
        if (want_name(p, "cause", v, tw_timer_name, TW_TIMER__COUNT, 255, &x)) return -1;
    } else if (e->kind == TW_EV_USER) {
        if (want_name(p, "cause", v, tw_call_name, TW_CALL__COUNT, 255, &x)) return -1;
    } else {
        return fail_at(p, v->col,
                       "\"cause\": a name is only valid for kinds state, timer and "
                       "user; use a number for kind %s",
                       tw_vev_kind_name(e->kind));
    }
    e->cause = (uint8_t)x;
    return 0;
}

static int parse_members(jp *p, pstate *ps) {
    char buf[24];
    for (;;) {
        jv key, val;
        ws(p);
        if (p->i >= p->n || p->s[p->i] != '"')
            return fail_at(p, p->i + 1, "expected a key in double quotes, found %s",
                           here(p, buf, sizeof buf));
        if (parse_string(p, &key)) return -1;
        ws(p);
        if (p->i >= p->n || p->s[p->i] != ':')
            return fail_at(p, p->i + 1, "expected ':' after \"%.40s\", found %s", key.str,
                           here(p, buf, sizeof buf));
        p->i++;
        if (parse_value(p, &val, 1)) return -1;
        if (!key.str_long && apply(p, ps, key.str, &val)) return -1;
        ws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') {
            p->i++;
            return 0;
        }
        return fail_at(p, p->i + 1, "expected ',' or '}' after a value, found %s",
                       here(p, buf, sizeof buf));
    }
}

int tw_tj_parse_line(const char *line, size_t len, tw_vev *out, char *err, size_t errcap) {
    jp p = {line, len, 0, err, errcap};
    char buf[24];
    if (errcap) err[0] = '\0';
    ws(&p);
    if (p.i == p.n) return 1;
    tw_vev e;
    memset(&e, 0, sizeof e);
    pstate ps;
    memset(&ps, 0, sizeof ps);
    ps.out = &e;
    if (p.s[p.i] != '{')
        return fail_at(&p, p.i + 1, "expected '{' (each line is one JSON object), found %s",
                       here(&p, buf, sizeof buf));
    p.i++;
    ws(&p);
    if (p.i < p.n && p.s[p.i] == '}')
        p.i++;
    else if (parse_members(&p, &ps))
        return -1;
    ws(&p);
    if (p.i < p.n)
        return fail_at(&p, p.i + 1, "unexpected %s after the object (one object per line)",
                       here(&p, buf, sizeof buf));
    if (!ps.has_t) return fail_at(&p, p.n + 1, "missing key \"t\" (the event's time in ns)");
    if (!ps.has_kind) return fail_at(&p, p.n + 1, "missing key \"kind\"");
    if (resolve_cause(&p, &ps)) return -1;
    *out = e;
    return 0;
}

int tw_tj_read(FILE *f, tw_vev_list *out, char *err, size_t errcap) {
    size_t cap = 4096, n = 0, lineno = 1;
    char *line = malloc(cap);
    char msg[256];
    int rc = 0;
    if (!line) {
        snprintf(err, errcap, "out of memory");
        return -1;
    }
    for (;;) {
        int c = getc(f);
        if (c != EOF && c != '\n') {
            if (n + 1 >= MAX_LINE) {
                snprintf(err, errcap, "line %zu: longer than %d bytes", lineno, MAX_LINE);
                rc = -1;
                break;
            }
            if (n + 1 >= cap) {
                char *g = realloc(line, cap * 2);
                if (!g) {
                    snprintf(err, errcap, "line %zu: out of memory", lineno);
                    rc = -1;
                    break;
                }
                line = g;
                cap *= 2;
            }
            line[n++] = (char)c;
            continue;
        }
        if (c == EOF && n == 0) break;
        tw_vev e;
        int r = tw_tj_parse_line(line, n, &e, msg, sizeof msg);
        if (r < 0) {
            snprintf(err, errcap, "line %zu: %s", lineno, msg);
            rc = -1;
            break;
        }
        if (r == 0 && tw_vev_list_push(out, &e)) {
            snprintf(err, errcap, "line %zu: out of memory", lineno);
            rc = -1;
            break;
        }
        n = 0;
        lineno++;
        if (c == EOF) break;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errcap, "line %zu: read error", lineno);
        rc = -1;
    }
    free(line);
    return rc;
}
