/* scenario.h - the connection-lifecycle scenarios of the demo, as a library,
 * so that `tcpwave demo` prints them and the tests assert on them.
 *
 * Every scenario runs a client (198.18.0.1) and a server (198.18.0.2, port
 * 80) over the simulated link: handshake, a request and a reply, then one way
 * of closing. The run ends when both stacks are idle (after TIME_WAIT). */
#ifndef TW_DRIVE_SCENARIO_H
#define TW_DRIVE_SCENARIO_H

#include "drive/world.h"

typedef enum tw_scn_id {
    TW_SCN_CLIENT_CLOSE,   /* client closes first: the four-way close */
    TW_SCN_SERVER_CLOSE,   /* server closes first */
    TW_SCN_THREE_WAY,      /* delayed ACK merges the server's ACK and FIN */
    TW_SCN_SIMULTANEOUS,   /* both close at once: CLOSING on both sides */
    TW_SCN_HALF_CLOSE,     /* client shuts down writing; server sends data, then closes */
    TW_SCN_LOST_FINAL_ACK, /* the client's final ACK is lost: FIN retransmitted, 2MSL restarted */
    TW_SCN_ABORT,          /* client aborts: RST */
    TW_SCN_UNREAD_DATA,    /* client closes with unread data: RST instead of FIN */
    TW_SCN__COUNT
} tw_scn_id;

#define TW_SCN_CLIENT 0
#define TW_SCN_SERVER 1
#define TW_SCN_CLIENT_ADDR 0xC6120001u /* 198.18.0.1 */
#define TW_SCN_SERVER_ADDR 0xC6120002u /* 198.18.0.2 */
#define TW_SCN_SERVER_PORT 80

typedef struct tw_scn_opts {
    uint64_t seed;
    uint64_t delay; /* one-way link delay, ns (default 1 ms) */
    uint64_t msl;   /* default 30 s */
    /* observers (may be NULL) */
    tw_world_trace_fn trace;
    void *trace_ctx;
    tw_sim_observer_fn link_observer;
    void *link_ctx;
    tw_world_event_fn event_observer; /* socket events, as the applications get them */
    void *event_ctx;
} tw_scn_opts;

typedef struct tw_scn_result {
    uint64_t end_time;             /* virtual time when both sides were idle */
    uint64_t client_rx, server_rx; /* bytes each application read */
    int client_err, server_err;    /* error of the CLOSED event (0 = orderly) */
    size_t client_conns, server_conns, client_tw, server_tw; /* left at the end (expect 0) */
    uint64_t counters[2][TW_C__COUNT];
} tw_scn_result;

void tw_scn_opts_default(tw_scn_opts *o);
/* Name ("client-close"), one-line description; NULL when out of range. */
const char *tw_scn_name(int id);
const char *tw_scn_desc(int id);
/* Scenario by name, or -1. */
int tw_scn_lookup(const char *name);
/* Runs scenario `id`; returns 0, or a negative TW_E* code if it could not be set up. */
int tw_scn_run(int id, const tw_scn_opts *o, tw_scn_result *res);

#endif
