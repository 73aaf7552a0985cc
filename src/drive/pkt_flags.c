/* pkt_flags.c - the "so flags" of pkt_script.h: key=value settings that pick
 * stack options for a script run (delayed ACK and the three-way close switch,
 * MSL, RTO bounds, retries, buffers, the address, the runner's tolerance).
 * Used by `tcpwave script` (script headers and --so-flags) and by the
 * packetdrill adapter (--so_flags=). Unknown keys and bad values are errors. */
#include <stdlib.h>
#include <string.h>

#include "drive/pkt_script.h"

void pd_settings_default(pd_settings *s) {
    memset(s, 0, sizeof *s);
    tw_stack_cfg_default(&s->cfg);
    s->cfg.seed = 1; /* scripts replay exactly unless a seed= flag says otherwise */
    s->cfg.addr = PD_LOCAL_ADDR;
    s->tolerance_ns = PD_DEFAULT_TOLERANCE_NS;
}

const char *pd_settings_help(void) {
    return "  delack=DUR|off            delayed-ACK timeout, or no delayed ACKs (default 200ms)\n"
           "  delack_fin=0|1            delay the ACK of a FIN: three-way close (default 0)\n"
           "  msl=DUR                   maximum segment lifetime; TIME_WAIT = 2*MSL (default 30s)\n"
           "  rto_initial=DUR, rto_min=DUR, rto_max=DUR   RFC 6298 bounds (1s, 1s, 60s)\n"
           "  fin_wait_2_timeout=DUR|off orphaned FIN_WAIT_2 lifetime (default 60s)\n"
           "  syn_retries=N, data_retries=N   retransmissions before giving up (6, 15)\n"
           "  mss=N, rcvbuf=N, sndbuf=N, nagle=0|1, seed=N, addr=A.B.C.D\n"
           "  tolerance=DUR             timing tolerance of the script runner (default 10ms)\n"
           "  DUR = number + unit: ns, us, ms or s (200ms, 1.5s)\n";
}

static int fail(char *err, size_t cap, const char *what, const char *key, size_t klen) {
    snprintf(err, cap, "%s '%.*s'", what, (int)klen, key);
    return -1;
}

/* Parses "1.5s", "200ms", "40us", "10ns" into ns. */
static bool duration(const char *v, size_t n, uint64_t *out) {
    uint64_t whole = 0, frac = 0, scale = 1;
    size_t i = 0;
    int digits = 0;
    for (; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
        if (whole > 100000000ull) return false;
        whole = whole * 10 + (uint64_t)(v[i] - '0');
    }
    if (i < n && v[i] == '.') {
        for (i++; i < n && v[i] >= '0' && v[i] <= '9'; i++, digits++) {
            if (scale >= 1000000000ull) return false;
            frac = frac * 10 + (uint64_t)(v[i] - '0');
            scale *= 10;
        }
    }
    if (!digits) return false;
    const char *u = v + i;
    size_t ul = n - i;
    uint64_t mul;
    if (ul == 1 && u[0] == 's')
        mul = 1000000000ull;
    else if (ul == 2 && !memcmp(u, "ms", 2))
        mul = 1000000ull;
    else if (ul == 2 && !memcmp(u, "us", 2))
        mul = 1000ull;
    else if (ul == 2 && !memcmp(u, "ns", 2))
        mul = 1ull;
    else
        return false;
    *out = whole * mul + frac * mul / scale;
    return true;
}

static bool whole_number(const char *v, size_t n, uint64_t max, uint64_t *out) {
    uint64_t x = 0;
    if (n == 0 || n > 20) return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9') return false;
        if (x > (max - (uint64_t)(v[i] - '0')) / 10) return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

static bool ipv4(const char *v, size_t n, uint32_t *out) {
    uint32_t a = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        size_t s = i;
        while (i < n && v[i] != '.') i++;
        uint64_t x;
        if (!whole_number(v + s, i - s, 255, &x) || i - s > 3) return false;
        a = a << 8 | (uint32_t)x;
        if (part < 3) {
            if (i >= n) return false;
            i++;
        }
    }
    if (i != n) return false;
    *out = a;
    return true;
}

static bool is_key(const char *k, size_t kl, const char *name) {
    return strlen(name) == kl && !memcmp(k, name, kl);
}

/* Applies one key=value. */
static int apply_one(pd_settings *s, const char *k, size_t kl, const char *v, size_t vl, char *err,
                     size_t cap) {
    tw_stack_cfg *c = &s->cfg;
    uint64_t x;
    bool off = vl == 3 && !memcmp(v, "off", 3);
    if (is_key(k, kl, "delack")) {
        if (off)
            c->delack_enabled = false;
        else if (duration(v, vl, &x) && x > 0)
            c->delack = x, c->delack_enabled = true;
        else
            return fail(err, cap, "delack needs a duration or 'off', not", v, vl);
    } else if (is_key(k, kl, "fin_wait_2_timeout")) {
        if (off)
            c->fin_wait_2_timeout = 0;
        else if (duration(v, vl, &x) && x > 0)
            c->fin_wait_2_timeout = x;
        else
            return fail(err, cap, "fin_wait_2_timeout needs a duration or 'off', not", v, vl);
    } else if (is_key(k, kl, "msl") || is_key(k, kl, "rto_min") || is_key(k, kl, "rto_initial") ||
               is_key(k, kl, "rto_max") || is_key(k, kl, "tolerance")) {
        if (!duration(v, vl, &x))
            return fail(err, cap, "a duration with a unit (ns, us, ms, s) is needed, not", v, vl);
        if (is_key(k, kl, "msl"))
            c->msl = x;
        else if (is_key(k, kl, "rto_min"))
            c->rto_min = x;
        else if (is_key(k, kl, "rto_initial"))
            c->rto_initial = x;
        else if (is_key(k, kl, "rto_max"))
            c->rto_max = x;
        else
            s->tolerance_ns = x;
    } else if (is_key(k, kl, "delack_fin") || is_key(k, kl, "nagle")) {
        if (!whole_number(v, vl, 1, &x)) return fail(err, cap, "0 or 1 is needed, not", v, vl);
        if (is_key(k, kl, "nagle"))
            c->nagle = x;
        else
            c->delack_fin = x;
    } else if (is_key(k, kl, "syn_retries") || is_key(k, kl, "data_retries")) {
        if (!whole_number(v, vl, 255, &x))
            return fail(err, cap, "a count of 0..255 is needed, not", v, vl);
        if (is_key(k, kl, "syn_retries"))
            c->syn_retries = (uint8_t)x;
        else
            c->data_retries = (uint8_t)x;
    } else if (is_key(k, kl, "mss")) {
        if (!whole_number(v, vl, 65535, &x))
            return fail(err, cap, "mss needs 64..65535, not", v, vl);
        c->mss = (uint16_t)x;
    } else if (is_key(k, kl, "rcvbuf") || is_key(k, kl, "sndbuf")) {
        if (!whole_number(v, vl, 1u << 30, &x) || x == 0)
            return fail(err, cap, "a buffer size in bytes is needed, not", v, vl);
        if (is_key(k, kl, "rcvbuf"))
            c->rcvbuf = (uint32_t)x;
        else
            c->sndbuf = (uint32_t)x;
    } else if (is_key(k, kl, "seed")) {
        if (!whole_number(v, vl, UINT64_MAX, &x))
            return fail(err, cap, "seed needs a whole number, not", v, vl);
        c->seed = x;
    } else if (is_key(k, kl, "addr")) {
        if (!ipv4(v, vl, &c->addr)) return fail(err, cap, "addr needs an IPv4 address, not", v, vl);
    } else {
        return fail(err, cap, "unknown setting", k, kl);
    }
    return 0;
}

int pd_settings_apply(pd_settings *s, const char *flags, char *err, size_t errcap) {
    if (errcap) err[0] = '\0';
    if (!flags) return 0;
    const char *p = flags;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',') p++;
        if (!*p) break;
        const char *k = p;
        while (*p && *p != '=' && *p != ' ' && *p != '\t' && *p != ',') p++;
        size_t kl = (size_t)(p - k);
        if (*p != '=') return fail(err, errcap, "expected key=value, found", k, kl);
        const char *v = ++p;
        while (*p && *p != ' ' && *p != '\t' && *p != ',') p++;
        if (apply_one(s, k, kl, v, (size_t)(p - v), err, errcap)) return -1;
    }
    return 0;
}
