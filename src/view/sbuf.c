/* sbuf.c - owns the growable string of sbuf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view/sbuf.h"

void tw_sbuf_init(tw_sbuf *b) {
    memset(b, 0, sizeof *b);
}

void tw_sbuf_free(tw_sbuf *b) {
    free(b->s);
    memset(b, 0, sizeof *b);
}

/* Makes room for `extra` more characters plus the NUL. */
static bool grow(tw_sbuf *b, size_t extra) {
    if (b->oom) return false;
    if (b->len + extra + 1 <= b->cap) return true;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->len + extra + 1) {
        if (ncap > ((size_t)-1) / 2) {
            b->oom = true;
            return false;
        }
        ncap *= 2;
    }
    char *n = realloc(b->s, ncap);
    if (!n) {
        b->oom = true;
        return false;
    }
    b->s = n;
    b->cap = ncap;
    return true;
}

void tw_sbuf_putn(tw_sbuf *b, const char *s, size_t n) {
    if (!grow(b, n)) return;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tw_sbuf_puts(tw_sbuf *b, const char *s) {
    tw_sbuf_putn(b, s, strlen(s));
}

void tw_sbuf_putc(tw_sbuf *b, char c) {
    tw_sbuf_putn(b, &c, 1);
}

void tw_sbuf_pad(tw_sbuf *b, char c, size_t n) {
    if (!grow(b, n)) return;
    memset(b->s + b->len, c, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void tw_sbuf_printf(tw_sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof small) {
        tw_sbuf_putn(b, small, (size_t)n);
        return;
    }
    if (!grow(b, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void tw_sbuf_rtrim(tw_sbuf *b) {
    while (b->len && b->s[b->len - 1] == ' ') b->s[--b->len] = '\0';
}

const char *tw_sbuf_str(const tw_sbuf *b) {
    if (b->oom) return NULL;
    return b->s ? b->s : "";
}

char *tw_sbuf_take(tw_sbuf *b) {
    if (b->oom) {
        tw_sbuf_free(b);
        return NULL;
    }
    if (!b->s && !grow(b, 0)) return NULL;
    if (b->len == 0) b->s[0] = '\0';
    char *s = b->s;
    memset(b, 0, sizeof *b);
    return s;
}
