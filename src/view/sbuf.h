/* sbuf.h - owns tw_sbuf, the growable NUL-terminated string the view layer
 * renders into (ladder text, SVG, lifecycle summaries), so that renderers
 * are plain C11 with no FILE juggling and tests can compare whole strings.
 *
 * Out of memory is sticky: after a failed growth every call is a no-op and
 * tw_sbuf_take() returns NULL, so callers check once at the end. */
#ifndef TW_VIEW_SBUF_H
#define TW_VIEW_SBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct tw_sbuf {
    char *s;    /* NUL-terminated text (NULL until something is added) */
    size_t len; /* characters before the NUL */
    size_t cap; /* bytes allocated */
    bool oom;   /* a growth failed: the text is incomplete */
} tw_sbuf;

void tw_sbuf_init(tw_sbuf *b);
void tw_sbuf_free(tw_sbuf *b);
void tw_sbuf_putn(tw_sbuf *b, const char *s, size_t n);
void tw_sbuf_puts(tw_sbuf *b, const char *s);
void tw_sbuf_putc(tw_sbuf *b, char c);
/* Appends `n` copies of `c`. */
void tw_sbuf_pad(tw_sbuf *b, char c, size_t n);
void tw_sbuf_printf(tw_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Removes trailing spaces (used before each newline of a text diagram). */
void tw_sbuf_rtrim(tw_sbuf *b);
/* The text ("" when empty; never NULL unless out of memory). */
const char *tw_sbuf_str(const tw_sbuf *b);
/* Hands the text to the caller (free() it) and resets `b`; NULL on OOM. */
char *tw_sbuf_take(tw_sbuf *b);

#endif
