/* pkt_parse.c - the packetdrill-language reader of pkt_script.h: comments and
 * header settings, times (absolute, +relative, '*', a...b blocking calls,
 * a~b windows), TCP segments with flags, seq:end(len), ack, win and <options>,
 * and socket calls with their arguments, return value and errno. Also the
 * script-syntax formatter of segments used in messages.
 *
 * The reader is strict: every statement is parsed completely, and anything it
 * does not know (a flag, an option, a call, a constant, trailing text) is an
 * error that names the file and line, so a script can never pass by having
 * part of it skipped. All scanning is bounded by the statement's end. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "drive/pkt_script.h"
#include "wire/tcp_hdr.h"

#define LINE_MAX_LEN 4096
#define MAX_IO_BYTES (1u << 20)
#define MAX_SECONDS 1000000

typedef struct cur {
    const char *p, *end; /* the statement being read */
    const char *path;
    int line;
    char *err;
    size_t errcap;
} cur;

static bool perr(cur *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool perr(cur *c, const char *fmt, ...) {
    int n = snprintf(c->err, c->errcap, "%s:%d: ", c->path, c->line);
    if (n < 0) n = 0;
    if ((size_t)n < c->errcap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errcap - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return false;
}

/* ---- names ---- */

static const char *const call_names[PD_CALL__COUNT] = {
    "socket", "bind", "listen",   "accept", "connect",    "write",      "send",
    "read",   "recv", "shutdown", "close",  "setsockopt", "getsockopt", "fcntl",
};

const char *pd_call_str(int name) {
    return (name >= 0 && name < PD_CALL__COUNT) ? call_names[name] : "?";
}

typedef struct named {
    const char *name;
    int64_t v;
} named;

/* Linux values: scripts are packetdrill scripts written for Linux. */
static const named constants[] = {
    {"AF_INET", 2},     {"PF_INET", 2},    {"SOCK_STREAM", 1}, {"SOCK_NONBLOCK", 04000},
    {"IPPROTO_TCP", 6}, {"SOL_TCP", 6},    {"SOL_SOCKET", 1},  {"SO_REUSEADDR", 2},
    {"SO_ERROR", 4},    {"SO_LINGER", 13}, {"TCP_NODELAY", 1}, {"SHUT_RD", 0},
    {"SHUT_WR", 1},     {"SHUT_RDWR", 2},  {"F_GETFL", 3},     {"F_SETFL", 4},
    {"O_RDONLY", 0},    {"O_WRONLY", 1},   {"O_RDWR", 2},      {"O_NONBLOCK", 04000},
};

static const named errnos[] = {
    {"EAGAIN", EAGAIN},
    {"EWOULDBLOCK", EWOULDBLOCK},
    {"EINPROGRESS", EINPROGRESS},
    {"EALREADY", EALREADY},
    {"EISCONN", EISCONN},
    {"ENOTCONN", ENOTCONN},
    {"ECONNREFUSED", ECONNREFUSED},
    {"ECONNRESET", ECONNRESET},
    {"ECONNABORTED", ECONNABORTED},
    {"ETIMEDOUT", ETIMEDOUT},
    {"EPIPE", EPIPE},
    {"EBADF", EBADF},
    {"EINVAL", EINVAL},
    {"EADDRINUSE", EADDRINUSE},
    {"EADDRNOTAVAIL", EADDRNOTAVAIL},
    {"ENOMEM", ENOMEM},
    {"EOPNOTSUPP", EOPNOTSUPP},
    {"ENOTSOCK", ENOTSOCK},
    {"ENOPROTOOPT", ENOPROTOOPT},
    {"EAFNOSUPPORT", EAFNOSUPPORT},
    {"EPROTONOSUPPORT", EPROTONOSUPPORT},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *pd_errno_name(int e) {
    for (size_t i = 0; i < COUNT(errnos); i++)
        if (errnos[i].v == e) return errnos[i].name;
    return NULL;
}

/* ---- low-level scanning ---- */

static bool is_space(char ch) {
    return ch == ' ' || ch == '\t' || ch == '\r';
}
static bool is_digit(char ch) {
    return ch >= '0' && ch <= '9';
}
static bool is_alpha(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}
static bool at_end(const cur *c) {
    return c->p >= c->end;
}
static char peek(const cur *c) {
    return at_end(c) ? '\0' : *c->p;
}
static char peek2(const cur *c) {
    return c->p + 1 < c->end ? c->p[1] : '\0';
}

static void skip_ws(cur *c) {
    while (!at_end(c) && is_space(*c->p)) c->p++;
}

static bool eat(cur *c, char ch) {
    skip_ws(c);
    if (peek(c) != ch) return false;
    c->p++;
    return true;
}

static bool expect(cur *c, char ch, const char *what) {
    if (eat(c, ch)) return true;
    if (at_end(c)) return perr(c, "expected '%c' %s, found the end of the line", ch, what);
    return perr(c, "expected '%c' %s, found '%c'", ch, what, *c->p);
}

/* An identifier into buf (truncated names are rejected). */
static bool ident(cur *c, char *buf, size_t cap) {
    skip_ws(c);
    size_t n = 0;
    if (!is_alpha(peek(c))) return false;
    while (!at_end(c) && (is_alpha(*c->p) || is_digit(*c->p))) {
        if (n + 1 >= cap) return perr(c, "name too long");
        buf[n++] = *c->p++;
    }
    buf[n] = '\0';
    return true;
}

/* A non-negative number, decimal or 0x hex, at most `max`. */
static bool number(cur *c, uint64_t max, uint64_t *out, const char *what) {
    skip_ws(c);
    if (!is_digit(peek(c))) {
        if (at_end(c)) return perr(c, "expected %s, found the end of the line", what);
        return perr(c, "expected %s, found '%c'", what, *c->p);
    }
    uint64_t v = 0;
    int base = 10;
    if (peek(c) == '0' && (peek2(c) == 'x' || peek2(c) == 'X')) {
        base = 16;
        c->p += 2;
    }
    int digits = 0;
    for (; !at_end(c); c->p++, digits++) {
        char ch = *c->p;
        int d;
        if (is_digit(ch))
            d = ch - '0';
        else if (base == 16 && ch >= 'a' && ch <= 'f')
            d = ch - 'a' + 10;
        else if (base == 16 && ch >= 'A' && ch <= 'F')
            d = ch - 'A' + 10;
        else
            break;
        if (v > (max - (uint64_t)d) / (uint64_t)base)
            return perr(c, "%s is too large (max %llu)", what, (unsigned long long)max);
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (digits == 0) return perr(c, "expected hex digits in %s", what);
    if (is_alpha(peek(c))) return perr(c, "unexpected '%c' after %s", *c->p, what);
    *out = v;
    return true;
}

static bool u32(cur *c, uint32_t *out, const char *what) {
    uint64_t v;
    if (!number(c, UINT32_MAX, &v, what)) return false;
    *out = (uint32_t)v;
    return true;
}

/* A time: [+]seconds with up to 6 decimals, or '*'. */
static bool time_value(cur *c, pd_time *t) {
    skip_ws(c);
    if (eat(c, '*')) {
        t->kind = PD_TIME_ANY;
        t->ns = 0;
        return true;
    }
    t->kind = PD_TIME_ABS;
    if (peek(c) == '+') {
        t->kind = PD_TIME_REL;
        c->p++;
    }
    uint64_t secs = 0, frac = 0;
    int digits = 0, fdigits = 0;
    while (is_digit(peek(c))) {
        secs = secs * 10 + (uint64_t)(*c->p++ - '0');
        if (++digits > 7) return perr(c, "time too large (max %d s)", MAX_SECONDS);
    }
    if (peek(c) == '.' && peek2(c) != '.') {
        c->p++;
        while (is_digit(peek(c))) {
            if (++fdigits > 6) return perr(c, "times have at most 6 decimals (microseconds)");
            frac = frac * 10 + (uint64_t)(*c->p++ - '0');
        }
    }
    if (digits + fdigits == 0)
        return perr(c, "expected a time (e.g. 0.100, +0.1 or *) at the start of the statement");
    if (secs > MAX_SECONDS) return perr(c, "time too large (max %d s)", MAX_SECONDS);
    for (int i = fdigits; i < 6; i++) frac *= 10;
    t->ns = (int64_t)(secs * 1000000000ull + frac * 1000ull);
    return true;
}

/* ---- segments ---- */

static bool parse_flags(cur *c, uint8_t *flags) {
    static const char chars[] = "FSRP.UEW"; /* bit i = chars[i] */
    skip_ws(c);
    *flags = 0;
    int n = 0;
    while (!at_end(c) && !is_space(*c->p)) {
        const char *f = strchr(chars, *c->p);
        if (!f || !*f) return perr(c, "unknown TCP flag '%c' (known: S F R P . U E W)", *c->p);
        uint8_t bit = (uint8_t)(1u << (f - chars));
        if (*flags & bit) return perr(c, "TCP flag '%c' given twice", *c->p);
        *flags |= bit;
        c->p++;
        n++;
    }
    if (n == 0) return perr(c, "expected TCP flags (e.g. S, S., ., P., F., R)");
    return true;
}

static int opt_len(const pd_opt *o) {
    switch (o->kind) {
    case TW_TCPOPT_EOL:
    case TW_TCPOPT_NOP: return 1;
    case TW_TCPOPT_MSS: return 4;
    case TW_TCPOPT_WS: return 3;
    case TW_TCPOPT_SACK_OK: return 2;
    case TW_TCPOPT_TS: return 10;
    default: return 2 + 8 * o->nsack;
    }
}

static bool parse_sack_blocks(cur *c, pd_opt *o) {
    o->nsack = 0;
    for (;;) {
        skip_ws(c);
        if (!is_digit(peek(c))) break;
        if (o->nsack == 4) return perr(c, "at most 4 SACK blocks");
        if (!u32(c, &o->sack[o->nsack][0], "a SACK block start")) return false;
        if (!expect(c, ':', "in a SACK block")) return false;
        if (!u32(c, &o->sack[o->nsack][1], "a SACK block end")) return false;
        o->nsack++;
    }
    if (o->nsack == 0) return perr(c, "sack needs at least one block START:END");
    return true;
}

static bool parse_one_opt(cur *c, pd_opt *o) {
    char name[32];
    uint32_t v;
    memset(o, 0, sizeof *o);
    if (!ident(c, name, sizeof name))
        return perr(c, "expected a TCP option name (mss, nop, eol, wscale, sackOK, TS, sack)");
    if (!strcmp(name, "nop"))
        o->kind = TW_TCPOPT_NOP;
    else if (!strcmp(name, "eol"))
        o->kind = TW_TCPOPT_EOL;
    else if (!strcmp(name, "sackOK"))
        o->kind = TW_TCPOPT_SACK_OK;
    else if (!strcmp(name, "mss")) {
        o->kind = TW_TCPOPT_MSS;
        if (!u32(c, &v, "the MSS value")) return false;
        if (v > 65535) return perr(c, "mss %u does not fit in 16 bits", v);
        o->mss = (uint16_t)v;
    } else if (!strcmp(name, "wscale")) {
        o->kind = TW_TCPOPT_WS;
        if (!u32(c, &v, "the window scale")) return false;
        if (v > 255) return perr(c, "wscale %u does not fit in a byte", v);
        o->ws = (uint8_t)v;
    } else if (!strcmp(name, "TS")) {
        char kw[8];
        o->kind = TW_TCPOPT_TS;
        if (!ident(c, kw, sizeof kw) || strcmp(kw, "val"))
            return perr(c, "expected 'TS val N ecr N'");
        if (!u32(c, &o->tsval, "the TS value")) return false;
        if (!ident(c, kw, sizeof kw) || strcmp(kw, "ecr"))
            return perr(c, "expected 'TS val N ecr N'");
        if (!u32(c, &o->tsecr, "the TS echo reply")) return false;
    } else if (!strcmp(name, "sack")) {
        o->kind = TW_TCPOPT_SACK;
        if (!parse_sack_blocks(c, o)) return false;
    } else {
        return perr(c,
                    "unsupported TCP option '%s' (supported: mss, nop, eol, wscale, sackOK, TS "
                    "val/ecr, sack)",
                    name);
    }
    return true;
}

static bool parse_opts(cur *c, pd_pkt *p) {
    int total = 0;
    p->has_opts = true;
    p->nopts = 0;
    skip_ws(c);
    if (peek(c) == '>') {
        c->p++;
        return true; /* <> : no options at all */
    }
    if (c->end - c->p >= 3 && memcmp(c->p, "...", 3) == 0) {
        /* <...> : any options (packetdrill's wildcard), for what tcpwave sends. */
        if (p->inbound) return perr(c, "<...> only makes sense on an outbound (>) segment");
        c->p += 3;
        skip_ws(c);
        p->has_opts = false;
        return expect(c, '>', "to close <...>");
    }
    for (;;) {
        if (p->nopts == PD_MAX_OPTS) return perr(c, "too many TCP options (max %d)", PD_MAX_OPTS);
        pd_opt *o = &p->opt[p->nopts];
        if (!parse_one_opt(c, o)) return false;
        total += opt_len(o);
        if (total > 40)
            return perr(c, "TCP options take %d bytes, more than the 40 a header holds", total);
        p->nopts++;
        if (eat(c, ',')) continue;
        return expect(c, '>', "to close the option list");
    }
}

static bool parse_packet(cur *c, pd_event *e) {
    pd_pkt *p = &e->pkt;
    memset(p, 0, sizeof *p);
    p->inbound = *c->p == '<';
    c->p++;
    if (!parse_flags(c, &p->flags)) return false;
    uint32_t end;
    if (!u32(c, &p->seq, "the sequence number (START:END(LEN))")) return false;
    if (!expect(c, ':', "between START and END of the sequence range")) return false;
    if (!u32(c, &end, "the end sequence number")) return false;
    if (!expect(c, '(', "before the payload length")) return false;
    if (!u32(c, &p->len, "the payload length")) return false;
    if (!expect(c, ')', "after the payload length")) return false;
    if (end - p->seq != p->len)
        return perr(c, "sequence range %u:%u is %u bytes but the length says %u", p->seq, end,
                    end - p->seq, p->len);
    if (p->len > 65495)
        return perr(c, "payload of %u bytes does not fit in an IPv4 packet", p->len);
    for (;;) {
        skip_ws(c);
        if (at_end(c)) break;
        char word[16];
        const char *at = c->p;
        if (peek(c) == '<') {
            if (p->has_opts) return perr(c, "TCP options given twice");
            c->p++;
            if (!parse_opts(c, p)) return false;
            continue;
        }
        if (!ident(c, word, sizeof word)) word[0] = '\0';
        if (!strcmp(word, "ack")) {
            if (p->has_ack) return perr(c, "'ack' given twice");
            if (!u32(c, &p->ack, "the ack number")) return false;
            p->has_ack = true;
        } else if (!strcmp(word, "win")) {
            if (p->has_win) return perr(c, "'win' given twice");
            if (!u32(c, &p->win, "the window")) return false;
            if (p->win > 65535)
                return perr(c, "win %u does not fit in 16 bits (no window scaling)", p->win);
            p->has_win = true;
        } else {
            return perr(c, "unexpected '%.*s' in a segment (expected ack N, win N or <options>)",
                        (int)(c->end - at < 20 ? c->end - at : 20), at);
        }
    }
    if ((p->flags & TW_TH_ACK) && !p->has_ack)
        return perr(c, "a segment with the ACK flag '.' needs 'ack N'");
    if (!(p->flags & TW_TH_ACK) && p->has_ack)
        return perr(c, "'ack N' on a segment without the ACK flag '.'");
    return true;
}

/* ---- calls ---- */

static bool lookup(const named *t, size_t n, const char *name, int64_t *v) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(t[i].name, name)) {
            *v = t[i].v;
            return true;
        }
    return false;
}

/* term ('|' term)* where a term is a number or a known constant. */
static bool expr(cur *c, int64_t *out) {
    int64_t v = 0;
    do {
        skip_ws(c);
        char name[48];
        int64_t t = 0;
        if (is_digit(peek(c))) {
            uint64_t u;
            if (!number(c, INT32_MAX, &u, "a number")) return false;
            t = (int64_t)u;
        } else if (ident(c, name, sizeof name)) {
            if (!lookup(constants, COUNT(constants), name, &t))
                return perr(c, "unknown constant '%s'", name);
        } else {
            if (at_end(c)) return perr(c, "expected an argument, found the end of the line");
            return perr(c, "expected an argument, found '%c'", *c->p);
        }
        v |= t;
    } while (eat(c, '|'));
    *out = v;
    return true;
}

static bool linger_struct(cur *c, pd_arg *a) {
    bool has_on = false, has_linger = false;
    a->kind = PD_ARG_LINGER;
    do {
        char name[16];
        int64_t v = 0;
        if (!ident(c, name, sizeof name))
            return perr(c, "expected onoff=N or linger=N inside {...}");
        if (!expect(c, '=', "after a field name")) return false;
        if (!expr(c, &v)) return false;
        if (!strcmp(name, "onoff") || !strcmp(name, "l_onoff")) {
            a->v = v;
            has_on = true;
        } else if (!strcmp(name, "linger") || !strcmp(name, "l_linger")) {
            a->v2 = v;
            has_linger = true;
        } else {
            return perr(c, "unknown field '%s' (a struct linger has onoff and linger)", name);
        }
    } while (eat(c, ','));
    if (!expect(c, '}', "to close {onoff=..., linger=...}")) return false;
    if (!has_on || !has_linger) return perr(c, "struct linger needs both onoff and linger");
    return true;
}

static bool arg(cur *c, pd_arg *a) {
    memset(a, 0, sizeof *a);
    skip_ws(c);
    if (c->end - c->p >= 3 && !memcmp(c->p, "...", 3)) {
        c->p += 3;
        a->kind = PD_ARG_ELLIPSIS;
        return true;
    }
    if (eat(c, '[')) {
        a->kind = PD_ARG_PTR;
        if (!expr(c, &a->v)) return false;
        return expect(c, ']', "to close [N]");
    }
    if (eat(c, '{')) return linger_struct(c, a);
    a->kind = PD_ARG_INT;
    return expr(c, &a->v);
}

/* Argument kinds per call: i = int, x = int or ..., v = [N] or {...},
 * l = [N], int or ..., o = optional trailing int. */
static const char *const call_args[PD_CALL__COUNT] = {
    [PD_CALL_SOCKET] = "xii",       [PD_CALL_BIND] = "ixx",    [PD_CALL_LISTEN] = "ii",
    [PD_CALL_ACCEPT] = "ixx",       [PD_CALL_CONNECT] = "ixx", [PD_CALL_WRITE] = "ixi",
    [PD_CALL_SEND] = "ixii",        [PD_CALL_READ] = "ixi",    [PD_CALL_RECV] = "ixii",
    [PD_CALL_SHUTDOWN] = "ii",      [PD_CALL_CLOSE] = "i",     [PD_CALL_SETSOCKOPT] = "iiivl",
    [PD_CALL_GETSOCKOPT] = "iiivl", [PD_CALL_FCNTL] = "iio",
};

static bool kind_ok(char want, uint8_t k) {
    switch (want) {
    case 'i':
    case 'o': return k == PD_ARG_INT;
    case 'x': return k == PD_ARG_INT || k == PD_ARG_ELLIPSIS;
    case 'v': return k == PD_ARG_PTR || k == PD_ARG_LINGER;
    default: return k != PD_ARG_LINGER;
    }
}

static bool check_sockopt(cur *c, const pd_call *k) {
    int64_t level = k->arg[1].v, name = k->arg[2].v;
    bool linger = level == 1 && name == 13;
    bool ok =
        (level == 1 && (name == 2 || name == 13 || (name == 4 && k->name == PD_CALL_GETSOCKOPT))) ||
        (level == 6 && name == 1);
    if (!ok)
        return perr(c,
                    "unsupported socket option (level %lld, name %lld): supported are "
                    "SO_REUSEADDR, SO_LINGER, SO_ERROR (get) and TCP_NODELAY",
                    (long long)level, (long long)name);
    if (linger != (k->arg[3].kind == PD_ARG_LINGER))
        return perr(c, linger ? "SO_LINGER takes {onoff=N, linger=N}" : "this option takes [N]");
    return true;
}

static bool check_call(cur *c, const pd_call *k) {
    const char *spec = call_args[k->name];
    size_t want = strlen(spec), opt = spec[want - 1] == 'o' ? 1 : 0;
    if (k->nargs > want || k->nargs + opt < want)
        return perr(c, "%s() takes %zu arguments, got %u", call_names[k->name], want - opt,
                    k->nargs);
    for (size_t i = 0; i < k->nargs; i++)
        if (!kind_ok(spec[i], k->arg[i].kind))
            return perr(c, "argument %zu of %s() has the wrong form", i + 1, call_names[k->name]);
    switch (k->name) {
    case PD_CALL_SOCKET:
        if (k->arg[0].kind == PD_ARG_INT && k->arg[0].v != 2)
            return perr(c, "socket(): only AF_INET is supported");
        if ((k->arg[1].v & ~04000) != 1)
            return perr(c, "socket(): only SOCK_STREAM (optionally |SOCK_NONBLOCK) is supported");
        if (k->arg[2].v != 6 && k->arg[2].v != 0)
            return perr(c, "socket(): only IPPROTO_TCP is supported");
        break;
    case PD_CALL_SEND:
    case PD_CALL_RECV:
        if (k->arg[3].v != 0)
            return perr(c, "%s(): flags other than 0 are not supported", call_names[k->name]);
        /* fall through */
    case PD_CALL_WRITE:
    case PD_CALL_READ:
        if (k->arg[2].v > (int64_t)MAX_IO_BYTES)
            return perr(c, "%s(): at most %u bytes per call", call_names[k->name], MAX_IO_BYTES);
        break;
    case PD_CALL_SETSOCKOPT:
    case PD_CALL_GETSOCKOPT: return check_sockopt(c, k);
    case PD_CALL_FCNTL:
        if (k->arg[1].v != 3 && k->arg[1].v != 4)
            return perr(c, "fcntl(): only F_GETFL and F_SETFL are supported");
        if ((k->arg[1].v == 4) != (k->nargs == 3))
            return perr(c, "fcntl(): F_SETFL takes a third argument, F_GETFL none");
        break;
    default: break;
    }
    return true;
}

static bool parse_result(cur *c, pd_call *k) {
    if (!expect(c, '=', "before the expected result")) return false;
    skip_ws(c);
    bool neg = false;
    if (peek(c) == '-') {
        neg = true;
        c->p++;
    }
    uint64_t v;
    if (!number(c, INT32_MAX, &v, "the expected return value")) return false;
    k->ret = neg ? -(int64_t)v : (int64_t)v;
    if (k->ret < -1) return perr(c, "a failing call returns -1 and an errno name");
    if (k->ret == -1) {
        char name[32];
        int64_t e = 0;
        if (!ident(c, name, sizeof name))
            return perr(c, "= -1 needs an errno name (e.g. = -1 ECONNRESET)");
        if (!lookup(errnos, COUNT(errnos), name, &e))
            return perr(c, "unknown errno name '%s'", name);
        k->err = (int)e;
        if (eat(c, '(')) { /* the description, as strerror() would print it */
            int depth = 1;
            while (!at_end(c) && depth) {
                if (*c->p == '(') depth++;
                if (*c->p == ')') depth--;
                c->p++;
            }
            if (depth) return perr(c, "unclosed '(' after the errno name");
        }
    }
    skip_ws(c);
    if (!at_end(c)) return perr(c, "unexpected '%.20s' after the result", c->p);
    return true;
}

static bool parse_call(cur *c, pd_event *e) {
    pd_call *k = &e->call;
    char name[32];
    memset(k, 0, sizeof *k);
    if (!ident(c, name, sizeof name)) return perr(c, "expected '<', '>' or a system call");
    int id = -1;
    for (int i = 0; i < PD_CALL__COUNT; i++)
        if (!strcmp(call_names[i], name)) id = i;
    if (id < 0) return perr(c, "unsupported system call '%s'", name);
    k->name = (uint8_t)id;
    if (!expect(c, '(', "after the call name")) return false;
    if (!eat(c, ')')) {
        do {
            if (k->nargs == PD_MAX_ARGS) return perr(c, "too many arguments");
            if (!arg(c, &k->arg[k->nargs])) return false;
            k->nargs++;
        } while (eat(c, ','));
        if (!expect(c, ')', "to close the argument list")) return false;
    }
    if (!check_call(c, k)) return false;
    return parse_result(c, k);
}

/* ---- statements ---- */

static bool add_event(cur *c, pd_script *s, pd_event **out) {
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        if (ncap > 100000) return perr(c, "too many statements");
        pd_event *n = realloc(s->ev, ncap * sizeof *n);
        if (!n) return perr(c, "out of memory");
        s->ev = n;
        s->cap = ncap;
    }
    *out = &s->ev[s->n++];
    memset(*out, 0, sizeof **out);
    return true;
}

/* Resolves start/end: "+d" counts from the previous event's start; a '*'
 * event has the previous event's time for that purpose. */
static bool resolve_times(cur *c, pd_script *s, pd_event *e) {
    int64_t prev = s->n >= 2 ? s->ev[s->n - 2].start_ns : 0;
    e->start_ns = e->t.kind == PD_TIME_ABS   ? e->t.ns
                  : e->t.kind == PD_TIME_REL ? prev + e->t.ns
                                             : prev;
    if (e->start_ns < prev)
        return perr(c, "time %.6f s is before the previous statement's %.6f s",
                    (double)e->start_ns / 1e9, (double)prev / 1e9);
    e->end_ns = e->start_ns;
    if (e->range != PD_RANGE_NONE) {
        e->end_ns = e->t_end.kind == PD_TIME_REL ? e->start_ns + e->t_end.ns : e->t_end.ns;
        if (e->end_ns < e->start_ns)
            return perr(c, "the end of the time range is before its start");
    }
    return true;
}

static bool parse_times(cur *c, pd_event *e) {
    if (!time_value(c, &e->t)) return false;
    if (c->end - c->p >= 3 && !memcmp(c->p, "...", 3)) {
        c->p += 3;
        e->range = PD_RANGE_BLOCK;
    } else if (peek(c) == '~') {
        c->p++;
        e->range = PD_RANGE_WINDOW;
    }
    if (e->range != PD_RANGE_NONE) {
        if (e->t.kind == PD_TIME_ANY) return perr(c, "'*' cannot start a time range");
        if (!time_value(c, &e->t_end)) return false;
        if (e->t_end.kind == PD_TIME_ANY) return perr(c, "'*' cannot end a time range");
    }
    if (!at_end(c) && !is_space(*c->p)) return perr(c, "unexpected '%c' after the time", *c->p);
    return true;
}

static bool parse_event(cur *c, pd_script *s) {
    pd_event *e = NULL;
    if (!add_event(c, s, &e)) return false;
    e->line = c->line;
    size_t n = (size_t)(c->end - c->p);
    if (n >= sizeof e->text) n = sizeof e->text - 1;
    memcpy(e->text, c->p, n);
    e->text[n] = '\0';
    if (!parse_times(c, e)) return false;
    skip_ws(c);
    if (peek(c) == '<' || peek(c) == '>') {
        e->type = PD_EV_PACKET;
        if (!parse_packet(c, e)) return false;
        if (e->pkt.inbound && e->t.kind == PD_TIME_ANY)
            return perr(c, "'*' is only allowed on outbound ('>') segments");
        if (e->range == PD_RANGE_BLOCK)
            return perr(c,
                        "'...' is for blocking calls; use a~b for a window on an outbound segment");
        if (e->range == PD_RANGE_WINDOW && e->pkt.inbound)
            return perr(c, "a time window a~b is only allowed on outbound ('>') segments");
    } else {
        e->type = PD_EV_CALL;
        if (!parse_call(c, e)) return false;
        if (e->t.kind == PD_TIME_ANY)
            return perr(c, "'*' is only allowed on outbound ('>') segments");
        if (e->range == PD_RANGE_WINDOW)
            return perr(
                c,
                "a time window a~b is only allowed on outbound segments; blocking calls use a...b");
    }
    return resolve_times(c, s, e);
}

static bool parse_option_line(cur *c, pd_script *s) {
    static const char key[] = "--tolerance_usecs=";
    if (s->n) return perr(c, "option lines (--name=value) must come before the first statement");
    if ((size_t)(c->end - c->p) > sizeof key - 1 && !memcmp(c->p, key, sizeof key - 1)) {
        uint64_t us;
        c->p += sizeof key - 1;
        if (!number(c, 60000000, &us, "the tolerance in microseconds")) return false;
        skip_ws(c);
        if (!at_end(c)) return perr(c, "unexpected text after the option");
        s->has_tolerance = true;
        s->tolerance_ns = us * 1000u;
        return true;
    }
    return perr(c, "unsupported option line '%.40s' (only --tolerance_usecs=N is understood)",
                c->p);
}

static bool add_flags(cur *c, pd_script *s, const char *p, const char *end) {
    size_t have = strlen(s->flags), n = (size_t)(end - p);
    if (have + n + 2 > sizeof s->flags) return perr(c, "tcpwave-flags too long");
    if (have) s->flags[have++] = ' ';
    memcpy(s->flags + have, p, n);
    s->flags[have + n] = '\0';
    return true;
}

/* Strips comments from one line (in place, tracking block comments across
 * lines) and collects `// tcpwave-flags:` headers. */
static bool strip_comments(cur *c, pd_script *s, char *line, bool *in_block) {
    static const char tag[] = "tcpwave-flags:";
    char *w = line;
    for (char *r = line; *r;) {
        if (*in_block) {
            if (r[0] == '*' && r[1] == '/') {
                *in_block = false;
                r += 2;
                *w++ = ' ';
            } else {
                r++;
            }
        } else if (r[0] == '/' && r[1] == '*') {
            *in_block = true;
            r += 2;
        } else if (r[0] == '/' && r[1] == '/') {
            char *t = r + 2;
            while (is_space(*t)) t++;
            if (!strncmp(t, tag, sizeof tag - 1) &&
                !add_flags(c, s, t + sizeof tag - 1, t + strlen(t)))
                return false;
            break;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return true;
}

static bool parse_line(cur *c, pd_script *s, char *line, bool *in_block) {
    if (!strip_comments(c, s, line, in_block)) return false;
    char *p = line, *e = line + strlen(line);
    while (p < e && is_space(*p)) p++;
    while (e > p && is_space(e[-1])) e--;
    if (p == e) return true;
    c->p = p;
    c->end = e;
    if (*p == '`') return perr(c, "shell commands (`...`) are not supported");
    if (e - p >= 2 && p[0] == '%' && p[1] == '{')
        return perr(c, "python blocks (%%{ }%%) are not supported");
    if (e - p >= 2 && p[0] == '-' && p[1] == '-') return parse_option_line(c, s);
    return parse_event(c, s);
}

int pd_parse(const char *path, const char *text, size_t len, pd_script *out, char *err,
             size_t errcap) {
    memset(out, 0, sizeof *out);
    snprintf(out->path, sizeof out->path, "%s", path);
    cur c = {NULL, NULL, path, 0, err, errcap};
    if (errcap) err[0] = '\0';
    char *line = malloc(LINE_MAX_LEN + 1);
    if (!line) return perr(&c, "out of memory"), -1;
    bool in_block = false, ok = true;
    size_t i = 0;
    while (ok && i < len) {
        c.line++;
        size_t n = 0;
        while (i < len && text[i] != '\n') {
            if (text[i] == '\0') {
                ok = perr(&c, "NUL byte in the script");
                break;
            }
            if (n == LINE_MAX_LEN) {
                ok = perr(&c, "line longer than %d characters", LINE_MAX_LEN);
                break;
            }
            line[n++] = text[i++];
        }
        if (!ok) break;
        i++; /* the newline */
        line[n] = '\0';
        ok = parse_line(&c, out, line, &in_block);
    }
    if (ok && in_block) ok = perr(&c, "unterminated /* comment");
    if (ok && out->n == 0) {
        c.line = 0;
        ok = perr(&c, "the script has no statements");
    }
    free(line);
    if (!ok) {
        pd_script_free(out);
        return -1;
    }
    return 0;
}

void pd_script_free(pd_script *s) {
    free(s->ev);
    s->ev = NULL;
    s->n = s->cap = 0;
}

/* ---- formatting ---- */

static size_t put(char *buf, size_t cap, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t put(char *buf, size_t cap, size_t n, const char *fmt, ...) {
    if (n >= cap) return n;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + n, cap - n, fmt, ap);
    va_end(ap);
    if (k < 0) return n;
    return n + (size_t)k < cap ? n + (size_t)k : cap - 1;
}

static size_t format_opt(const pd_opt *o, char *buf, size_t cap, size_t n) {
    switch (o->kind) {
    case TW_TCPOPT_EOL: return put(buf, cap, n, "eol");
    case TW_TCPOPT_NOP: return put(buf, cap, n, "nop");
    case TW_TCPOPT_MSS: return put(buf, cap, n, "mss %u", o->mss);
    case TW_TCPOPT_WS: return put(buf, cap, n, "wscale %u", o->ws);
    case TW_TCPOPT_SACK_OK: return put(buf, cap, n, "sackOK");
    case TW_TCPOPT_TS: return put(buf, cap, n, "TS val %u ecr %u", o->tsval, o->tsecr);
    case TW_TCPOPT_SACK:
        n = put(buf, cap, n, "sack");
        for (int i = 0; i < o->nsack; i++)
            n = put(buf, cap, n, " %u:%u", o->sack[i][0], o->sack[i][1]);
        return n;
    default: return put(buf, cap, n, "opt%u", o->kind);
    }
}

void pd_pkt_format(const pd_pkt *p, char *buf, size_t cap) {
    static const struct {
        uint8_t bit;
        char ch;
    } order[] = {
        {TW_TH_SYN, 'S'}, {TW_TH_FIN, 'F'}, {TW_TH_RST, 'R'}, {TW_TH_PSH, 'P'},
        {TW_TH_ACK, '.'}, {TW_TH_URG, 'U'}, {TW_TH_ECE, 'E'}, {TW_TH_CWR, 'W'},
    };
    if (!cap) return;
    buf[0] = '\0';
    size_t n = put(buf, cap, 0, "%c ", p->inbound ? '<' : '>');
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (p->flags & order[i].bit) n = put(buf, cap, n, "%c", order[i].ch);
    if (!p->flags) n = put(buf, cap, n, "(none)");
    n = put(buf, cap, n, " %u:%u(%u)", p->seq, p->seq + p->len, p->len);
    if (p->has_ack) n = put(buf, cap, n, " ack %u", p->ack);
    if (p->has_win) n = put(buf, cap, n, " win %u", p->win);
    if (p->has_opts) {
        n = put(buf, cap, n, " <");
        for (int i = 0; i < p->nopts; i++) {
            if (i) n = put(buf, cap, n, ",");
            n = format_opt(&p->opt[i], buf, cap, n);
        }
        put(buf, cap, n, ">");
    }
}
