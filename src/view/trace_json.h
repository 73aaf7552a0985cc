/* trace_json.h - owns the JSON-lines form of the trace stream ("tcpwave
 * trace, version 1"): one JSON object per line per event, written by
 * `tcpwave demo --trace FILE` and read by `tcpwave ladder` and any later
 * tool (the capture analyzer), so every view works on traces from any source.
 *
 * The view layer sits above the public headers only (include/tcpwave/ and
 * src/util): it never sees stack internals, just tw_trace_ev records.
 *
 * A line, with every key always written, in this order:
 *   {"t":4000000,"host":0,"host_name":"client","conn":1,"kind":"seg_out",
 *    "old_state":"FIN_WAIT_1","new_state":"FIN_WAIT_1","cause":0,
 *    "reason":null,"flags":"FIN|ACK","meta":"","seq":101,"ack":201,"len":0,
 *    "wnd":65335,"laddr":"198.18.0.1","lport":49152,"raddr":"198.18.0.2",
 *    "rport":80}
 *   t          ns on the producing stack's clock
 *   host       index of the stack in the run; host_name its name
 *   conn       the stack's conn_id (0: no connection, e.g. a listener or an
 *              RST for a closed port; link events)
 *   kind       state | seg_in | seg_out | drop | timer | user | link_lost
 *   old_state, new_state  state names (tw_state_name)
 *   cause      by kind: state -> cause name ("USER_CLOSE", tw_cause_name),
 *              timer -> timer name ("retransmit"), user -> call name
 *              ("close"); other kinds -> a number (normally 0)
 *   reason     counter name ("DROP_TW_SEGMENT", tw_counter_name) or null
 *   flags      TCP flags "SYN|ACK" ("" for none); meta "RETRANS|PROBE|
 *              CHALLENGE|TW|KEEPALIVE" ("" for none)
 *   seq, ack, len, wnd, lport, rport  numbers; laddr, raddr dotted quads
 * State lines also carry "cause_desc", lines with a reason "reason_desc"
 * (English, for people; readers ignore them).
 *
 * Reading: keys may come in any order; unknown keys are skipped (any JSON
 * value, so later versions may add keys); missing keys read as 0 / "",
 * except "t" and "kind", which are required. Names are matched exactly.
 * Numbers must be whole and within the field's range. Empty lines are
 * skipped. A bad line gives an error naming the line and column and what was
 * expected; the reader never crashes and never reads past a line. */
#ifndef TW_VIEW_TRACE_JSON_H
#define TW_VIEW_TRACE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tcpwave/tw_trace.h>

/* A view-only event kind, past the stack's tw_ev_kind values: a segment lost
 * on a (simulated) link, reported by the link's observer rather than a stack.
 * host is the sender; the segment fields are as sent; conn is 0. */
#define TW_VEV_LINK_LOST 32

#define TW_VEV_HOST_NAME_MAX 32

/* One trace event with the host that produced it. */
typedef struct tw_vev {
    tw_trace_ev ev;                       /* kind: tw_ev_kind or TW_VEV_LINK_LOST */
    uint16_t host;                        /* index of the stack in the run */
    char host_name[TW_VEV_HOST_NAME_MAX]; /* "client", "server", ... ("" if unknown) */
} tw_vev;

/* A growable array of events. */
typedef struct tw_vev_list {
    tw_vev *v;
    size_t n, cap;
} tw_vev_list;

void tw_vev_list_init(tw_vev_list *l);
void tw_vev_list_free(tw_vev_list *l);
/* Appends a copy; 0 or -1 when out of memory. */
int tw_vev_list_push(tw_vev_list *l, const tw_vev *e);
/* Fills a tw_vev from a stack event (host_name is copied, truncated to fit). */
void tw_vev_make(tw_vev *out, int host, const char *host_name, const tw_trace_ev *ev);

/* Name of an event kind ("seg_out", "link_lost"), "?" if unknown. */
const char *tw_vev_kind_name(int kind);
/* "FIN|ACK" ("" for 0) and "RETRANS|TW" ("" for 0) into buf (>= 40 bytes). */
const char *tw_vev_flags_str(uint8_t flags, char *buf, size_t cap);
const char *tw_vev_meta_str(uint8_t meta, char *buf, size_t cap);
/* Length (1..4) of the valid UTF-8 sequence at p (NUL-terminated), 0 if
 * invalid: the writer and the reader agree on what a name may hold. */
size_t tw_vev_utf8_len(const unsigned char *p);
/* "198.18.0.1" into buf (>= 16 bytes). */
const char *tw_vev_addr_str(uint32_t addr, char *buf, size_t cap);

/* The JSON line for `e`, with its '\n', into buf. Returns the length it
 * needs (like snprintf: the line is complete only when < cap; 1024 bytes are
 * always enough). */
size_t tw_tj_format(const tw_vev *e, char *buf, size_t cap);
/* Writes one line; 0, or -1 on a write error. */
int tw_tj_write(FILE *f, const tw_vev *e);

/* Parses one line (without its '\n'; a trailing '\r' is allowed) of `len`
 * bytes. Returns 0 with *out filled, 1 for an empty line (nothing stored),
 * or -1 with a message in err ("column 17: ...", NUL-terminated). */
int tw_tj_parse_line(const char *line, size_t len, tw_vev *out, char *err, size_t errcap);
/* Reads a whole stream, appending to `out`. Returns 0, or -1 with
 * "line N: column C: ..." in err (events before the bad line stay in out). */
int tw_tj_read(FILE *f, tw_vev_list *out, char *err, size_t errcap);

#endif
