/* pkt_script.h - packetdrill-language scripts run against one tcpwave stack.
 *
 * Three parts, one file each:
 *   pkt_parse.c  reads a script (the subset of the packetdrill language that
 *                tests/packetdrill uses) into a list of events; anything it
 *                does not understand is an error naming the line.
 *   pkt_flags.c  the "so flags": key=value settings that choose stack options
 *                (delayed ACK, delack_fin, MSL, RTO, ...), shared with the
 *                packetdrill adapter in tests/packetdrill/adapter.
 *   pkt_run.c    runs the events against a stack on a virtual clock through
 *   pkt_sys.c    a capture link: inbound segments are injected, every
 *                segment the stack sends must match the next outbound line,
 *                socket calls go to the tw_* API (pkt_sys.c) and their
 *                results and errno are checked.
 *
 * Sequence numbers follow packetdrill: inbound segments carry the script's
 * numbers as written (the script's ISN is whatever its SYN says); outbound
 * seq numbers are relative to tcpwave's ISN, learned from each SYN or
 * SYN-ACK tcpwave sends (the script's SYN line gives the number it stands
 * for, usually 0); inbound ack numbers are mapped the same way.
 *
 * Times are in seconds: "0.100" absolute, "+0.1" after the previous
 * statement's start (a '*' statement does not move it), "*" any time
 * (outbound segments only), "A~B" an outbound segment anywhere in [A, B],
 * "A...B" a blocking call that starts at A and must return at B. Each
 * outbound time is checked within a tolerance (default ±10 ms).
 *
 * Settings for the stack come from `// tcpwave-flags: key=value ...` comment
 * lines anywhere in the script (pd_settings_apply() syntax), then from the
 * runner's options; `--tolerance_usecs=N` before the first statement sets
 * the tolerance.
 *
 * The script's side is 198.18.0.1 (port 40000 towards a listener), tcpwave is
 * 198.18.0.2; bind() takes port 8080 and connect() goes to 198.18.0.1:8080. */
#ifndef TW_DRIVE_PKT_SCRIPT_H
#define TW_DRIVE_PKT_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <tcpwave/tcpwave.h>

#define PD_REMOTE_ADDR 0xC6120001u /* 198.18.0.1: the script's side */
#define PD_LOCAL_ADDR 0xC6120002u  /* 198.18.0.2: tcpwave */
#define PD_BIND_PORT 8080
#define PD_CONNECT_PORT 8080
#define PD_REMOTE_PORT 40000
#define PD_DEFAULT_TOLERANCE_NS 10000000ull /* ±10 ms */

#define PD_MAX_OPTS 16
#define PD_MAX_ARGS 6
#define PD_TEXT_MAX 200

/* ---- events ---- */

enum pd_time_kind { PD_TIME_NONE, PD_TIME_ABS, PD_TIME_REL, PD_TIME_ANY };

typedef struct pd_time {
    uint8_t kind; /* pd_time_kind */
    int64_t ns;   /* as written: absolute, or relative to the previous event */
} pd_time;

/* One TCP option as written in <...>. kind is a TW_TCPOPT_* value. */
typedef struct pd_opt {
    uint8_t kind;
    uint16_t mss;
    uint8_t ws;
    uint32_t tsval, tsecr;
    uint8_t nsack;
    uint32_t sack[4][2];
} pd_opt;

typedef struct pd_pkt {
    bool inbound;      /* '<' from the script's side, '>' sent by tcpwave */
    uint8_t flags;     /* TW_TH_* */
    uint32_t seq, len; /* seq:seq+len(len) */
    bool has_ack, has_win, has_opts;
    uint32_t ack;
    uint32_t win;
    uint8_t nopts;
    pd_opt opt[PD_MAX_OPTS];
} pd_pkt;

enum pd_arg_kind {
    PD_ARG_ELLIPSIS, /* ... */
    PD_ARG_INT,      /* 3, SOCK_STREAM, O_RDWR|O_NONBLOCK */
    PD_ARG_PTR,      /* [1]: an int passed by pointer */
    PD_ARG_LINGER,   /* {onoff=1, linger=0} */
};

typedef struct pd_arg {
    uint8_t kind;
    int64_t v, v2; /* value; for LINGER onoff (v) and linger (v2) */
} pd_arg;

enum pd_call_name {
    PD_CALL_SOCKET,
    PD_CALL_BIND,
    PD_CALL_LISTEN,
    PD_CALL_ACCEPT,
    PD_CALL_CONNECT,
    PD_CALL_WRITE,
    PD_CALL_SEND,
    PD_CALL_READ,
    PD_CALL_RECV,
    PD_CALL_SHUTDOWN,
    PD_CALL_CLOSE,
    PD_CALL_SETSOCKOPT,
    PD_CALL_GETSOCKOPT,
    PD_CALL_FCNTL,
    PD_CALL__COUNT
};

typedef struct pd_call {
    uint8_t name; /* pd_call_name */
    uint8_t nargs;
    pd_arg arg[PD_MAX_ARGS];
    int64_t ret; /* expected return value */
    int err;     /* expected errno (positive) when ret is -1, else 0 */
} pd_call;

enum pd_ev_type { PD_EV_PACKET, PD_EV_CALL };
enum pd_range { PD_RANGE_NONE, PD_RANGE_BLOCK /* a...b */, PD_RANGE_WINDOW /* a~b */ };

typedef struct pd_event {
    int line;
    uint8_t type;             /* pd_ev_type */
    uint8_t range;            /* pd_range; t_end is set with BLOCK and WINDOW */
    pd_time t, t_end;         /* as written */
    int64_t start_ns, end_ns; /* resolved script times; end = start without a range */
    pd_pkt pkt;
    pd_call call;
    char text[PD_TEXT_MAX]; /* the statement as written, for messages */
} pd_event;

typedef struct pd_script {
    char path[256];
    pd_event *ev;
    size_t n, cap;
    char flags[1024];   /* `// tcpwave-flags:` header comments, joined */
    bool has_tolerance; /* a --tolerance_usecs=N option line */
    uint64_t tolerance_ns;
} pd_script;

/* Parses a whole script. Returns 0, or -1 with "PATH:LINE: what is wrong" in
 * err (the script is freed then). Never reads past text[len]. */
int pd_parse(const char *path, const char *text, size_t len, pd_script *out, char *err,
             size_t errcap);
void pd_script_free(pd_script *s);
/* The packetdrill name of a call ("socket", ...). */
const char *pd_call_str(int name);
/* Name of a POSIX errno value ("ECONNRESET"), or NULL if the runner does not know it. */
const char *pd_errno_name(int e);

/* ---- settings ("so flags") ---- */

typedef struct pd_settings {
    tw_stack_cfg cfg;
    uint64_t tolerance_ns; /* the runner's default timing tolerance */
} pd_settings;

/* tw_stack_cfg_default() with addr 198.18.0.2, tolerance ±10 ms. */
void pd_settings_default(pd_settings *s);
/* Applies "key=value" settings separated by commas or blanks:
 *   delack=DUR|off  delack_fin=0|1  msl=DUR  rto_min=DUR  rto_initial=DUR
 *   rto_max=DUR  fin_wait_2_timeout=DUR|off  syn_retries=N  data_retries=N
 *   mss=N  nagle=0|1  rcvbuf=N  sndbuf=N  seed=N  addr=A.B.C.D  tolerance=DUR
 * DUR is a number with a unit: ns, us, ms or s (e.g. 200ms, 1.5s).
 * Returns 0, or -1 with a message in err. */
int pd_settings_apply(pd_settings *s, const char *flags, char *err, size_t errcap);
/* One line of help per key, for --help texts. */
const char *pd_settings_help(void);

/* ---- running ---- */

typedef struct pd_run_opts {
    bool verbose;      /* print every event, segment and state change */
    FILE *out;         /* where results and failures go */
    const char *flags; /* settings applied after the script's own (may be NULL) */
    bool has_tolerance;
    uint64_t tolerance_ns; /* overrides script and settings */
} pd_run_opts;

enum { PD_PASS = 0, PD_FAIL = 1, PD_ERROR = 2 };

/* Runs one parsed script on a fresh stack. Returns PD_PASS, PD_FAIL (tcpwave
 * did not behave as the script says; the first mismatch is printed) or
 * PD_ERROR (bad settings, or a script the runner cannot execute). */
int pd_run(const pd_script *s, const pd_run_opts *o);

/* Formats a segment in script syntax ("F. 1001:1001(0) ack 1 win 65535"). */
void pd_pkt_format(const pd_pkt *p, char *buf, size_t cap);

#endif
