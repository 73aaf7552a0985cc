/* conns.h - owns the grouping of a trace's events into connections, shared by
 * the ladder, the lifecycle report and (later) the capture analyzer.
 *
 * A "half" is one stack's view of a connection: the events of one host with
 * one conn_id (a conn_id is unique per connection incarnation in a stack,
 * and a TIME_WAIT record keeps it). A connection pairs at most two halves
 * whose 4-tuples mirror each other on different hosts, in order of first
 * appearance (so a reused 4-tuple gives a new connection). A trace of one
 * stack talking to an outside peer gives connections with one half.
 * Events without a conn_id (an RST for a closed port, a segment lost on the
 * link) join the latest half of their host with the same 4-tuple that began
 * at or before them. The active opener (SYN without ACK, connect) is the
 * left side ([0], "client"); the passive side is [1]. */
#ifndef TW_VIEW_CONNS_H
#define TW_VIEW_CONNS_H

#include "view/trace_json.h"

enum { TW_ROLE_UNKNOWN, TW_ROLE_ACTIVE, TW_ROLE_PASSIVE };

typedef struct tw_vhalf {
    uint16_t host;
    uint32_t conn_id;
    char host_name[TW_VEV_HOST_NAME_MAX];
    uint32_t laddr, raddr; /* host order */
    uint16_t lport, rport;
    uint64_t first_t, last_t;
    int role; /* TW_ROLE_* */
    int conn; /* index into tw_vindex.c */
    int next; /* internal: chain of halves with the same 4-tuple */
} tw_vhalf;

typedef struct tw_vconn {
    int half[2]; /* [0] left/active, [1] right/passive; -1 = not in the trace */
    uint64_t first_t;
} tw_vconn;

typedef struct tw_vindex {
    tw_vhalf *h;
    size_t nh;
    tw_vconn *c; /* in order of first appearance; connection k is numbered k + 1 */
    size_t nc;
    int *ev_half;       /* per event: its half, or -1 (listener, unparsable packet) */
    size_t *ev_by_conn; /* event indices grouped by connection, in stream order: */
    size_t *conn_start; /* connection c owns ev_by_conn[conn_start[c] .. conn_start[c + 1]) */
} tw_vindex;

/* Indexes n events (in stream order). 0, or -1 when out of memory. */
int tw_vindex_build(const tw_vev *ev, size_t n, tw_vindex *ix);
void tw_vindex_free(tw_vindex *ix);
/* Side (0 left, 1 right) of event i within connection `conn`, or -1 if the
 * event is not part of it. */
int tw_vindex_side(const tw_vindex *ix, size_t conn, size_t i);

#endif
