/* report.h - owns the views of a whole trace that the CLI prints: for each
 * selected connection its ladder (text and/or SVG) followed by its
 * lifecycle summary (close reason, dwell per state), a list of the
 * connections, and the non-zero counters of a stack. One function per
 * output, so `tcpwave demo`, `tcpwave ladder` and the tests print exactly
 * the same text. */
#ifndef TW_VIEW_REPORT_H
#define TW_VIEW_REPORT_H

#include "view/ladder.h"
#include "view/lifecycle.h"

typedef struct tw_report_opts {
    tw_seqmode mode;
    size_t conn;       /* 0: every connection; else its 1-based number */
    const char *title; /* heads the SVG (NULL: "tcpwave ladder") */
} tw_report_opts;

/* Renders n events (stream order). text and/or svg may be NULL. Returns 0,
 * or -1 with a message in err (no connection in the trace, no connection
 * with that number, out of memory). */
int tw_view_report(const tw_vev *ev, size_t n, const tw_report_opts *o, tw_sbuf *text, tw_sbuf *svg,
                   char *err, size_t errcap);
/* The lifecycle summary alone (no ladder) of every connection, each headed
 * by "connection N: ..."; 0, or -1 when out of memory. */
int tw_view_lifecycle(const tw_vev *ev, size_t n, tw_sbuf *out);
/* One line per connection: number, sides, events, close phrase. Returns the
 * number of connections, or -1 when out of memory. */
int tw_view_list(const tw_vev *ev, size_t n, tw_sbuf *out);
/* Every non-zero counter of an array of TW_C__COUNT entries, one per line:
 * indent, name, value, description. Nothing when all are zero. */
void tw_view_counters(tw_sbuf *out, const char *indent, const uint64_t *counters);

#endif
