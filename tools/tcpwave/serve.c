/* serve.c - `tcpwave serve`: a TCP server on tcpwave's stack over a Linux TUN
 * device, for the kernel (curl, nc, a Python socket) to talk to. It prints
 * every segment and state change of each connection with real timestamps,
 * and closes the way the options say (who closes first, after how long,
 * half-close, abort), so each close of RFC 9293 §3.6 can be played against
 * the Linux stack and checked from both sides.
 *
 * Modes: echo (send back what arrives), http (a minimal HTTP/1.0 responder:
 * GET / and GET /bytes/N), discard (read and count), hold (never read, so a
 * close leaves unread data and must send RST, RFC 9293 §3.10.4). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tunrun.h"
#include "util/time.h"

#define MAX_CONNS 256 /* connections the application holds at once; more wait in the backlog */
#define IDLE_CHECK TW_MS(100) /* how often --idle-exit-s looks at the stack */
#define PEND_CAP 65536u
#define REQ_CAP 2048u

enum { MODE_ECHO, MODE_HTTP, MODE_DISCARD, MODE_HOLD };
static const char *const mode_names[] = {"echo", "http", "discard", "hold"};

typedef struct sconn {
    int h; /* socket handle; -1: slot free */
    uint32_t id;
    uint64_t rx, tx;
    bool eof, shut;
    uint64_t close_at; /* 0: no close scheduled */
    uint8_t *pend;     /* echo: read, not yet sent */
    uint32_t pend_off, pend_len;
    char req[REQ_CAP]; /* http: the request head */
    uint32_t req_len;
    bool req_done;
    char hdr[256];
    uint32_t hdr_len, hdr_sent;
    const char *body_text; /* NULL: the body is the test pattern */
    uint64_t body_len, body_sent;
    uint64_t reply_sent; /* discard: pattern bytes sent after the peer's FIN */
} sconn;

typedef struct server {
    tw_tunrun_opts o;
    int mode;
    uint16_t port;
    uint64_t reply_bytes; /* --reply-bytes N (discard mode) */
    uint64_t count;       /* --count N: stop after N connections reached CLOSED (0: never) */
    uint64_t closed;      /* connections that reached CLOSED for good */
    uint64_t accepted, resets;
    uint64_t backlog;    /* --backlog N */
    uint64_t idle_exit;  /* --idle-exit-s N (ns; 0: never) */
    uint64_t idle_since; /* when the stack was last seen empty (0: not empty) */
    bool idle_exited;
    int ls;
    tw_tunrun *r;
    tw_stack *st;
    sconn c[MAX_CONNS];
    uint8_t scratch[65536];
} server;

/* ---------------------------------------------------------------- http */

static void http_respond(sconn *c) {
    const char *status = "200 OK";
    c->body_text = NULL;
    c->body_len = 0;
    char method[8] = "", path[256] = "";
    unsigned long long n;
    char extra;
    if (sscanf(c->req, "%7s %255s", method, path) != 2 || strcmp(method, "GET") != 0) {
        status = "400 Bad Request";
        c->body_text = "bad request: tcpwave serves GET only\n";
    } else if (!strcmp(path, "/")) {
        c->body_text = "hello from tcpwave\n";
    } else if (sscanf(path, "/bytes/%llu%c", &n, &extra) == 1 && n <= (1ull << 32)) {
        c->body_len = n; /* the pattern of tw_tunrun_pattern() */
    } else {
        status = "404 Not Found";
        c->body_text = "not found: try / or /bytes/N\n";
    }
    if (c->body_text) c->body_len = strlen(c->body_text);
    int k = snprintf(c->hdr, sizeof c->hdr,
                     "HTTP/1.0 %s\r\nServer: tcpwave\r\nContent-Type: %s\r\n"
                     "Content-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
                     status, c->body_text ? "text/plain" : "application/octet-stream", c->body_len);
    c->hdr_len = (uint32_t)k;
    c->req_done = true;
}

/* The peer's FIN came before the end of a request head: answer what there
 * is (most likely 400), or nothing when nothing came, so the connection
 * still closes instead of sitting in CLOSE_WAIT. */
static void http_at_eof(sconn *c) {
    if (c->req_len) {
        http_respond(c);
        return;
    }
    c->req_done = true; /* hdr_len = body_len = 0: nothing to send */
}

static bool http_out_done(const sconn *c) {
    return c->req_done && c->hdr_sent == c->hdr_len && c->body_sent == c->body_len;
}

/* Returns true when something was sent. */
static bool http_write(server *s, sconn *c) {
    bool progress = false;
    while (c->req_done && c->hdr_sent < c->hdr_len) {
        int n = tw_send(s->st, c->h, c->hdr + c->hdr_sent, c->hdr_len - c->hdr_sent);
        if (n <= 0) return progress;
        c->hdr_sent += (uint32_t)n;
        c->tx += (uint64_t)n;
        progress = true;
    }
    while (c->req_done && c->body_sent < c->body_len) {
        uint64_t left = c->body_len - c->body_sent;
        size_t k = left < sizeof s->scratch ? (size_t)left : sizeof s->scratch;
        if (c->body_text) {
            memcpy(s->scratch, c->body_text + c->body_sent, k);
        } else {
            for (size_t j = 0; j < k; j++) s->scratch[j] = tw_tunrun_pattern(c->body_sent + j);
        }
        int n = tw_send(s->st, c->h, s->scratch, k);
        if (n <= 0) return progress;
        c->body_sent += (uint64_t)n;
        c->tx += (uint64_t)n;
        progress = true;
    }
    return progress;
}

/* ---------------------------------------------------------------- per connection */

static sconn *conn_of(server *s, int h) {
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->c[i].h == h) return &s->c[i];
    return NULL;
}

static void release(server *s, sconn *c, const char *how) {
    tw_tunrun_say(s->r, c->id, "%s; received %" PRIu64 " bytes, sent %" PRIu64 " bytes", how, c->rx,
                  c->tx);
    free(c->pend);
    memset(c, 0, sizeof *c);
    c->h = -1;
}

/* Where a read lands: the echo buffer, the request head, or the scratch. */
static uint8_t *read_target(server *s, sconn *c, size_t *cap) {
    if (s->mode == MODE_ECHO && !c->shut) {
        if (c->pend_len == 0) c->pend_off = 0;
        *cap = PEND_CAP - c->pend_off - c->pend_len;
        return c->pend + c->pend_off + c->pend_len;
    }
    if (s->mode == MODE_HTTP && !c->req_done) {
        *cap = REQ_CAP - 1 - c->req_len;
        return (uint8_t *)c->req + c->req_len;
    }
    *cap = sizeof s->scratch;
    return s->scratch;
}

/* Reads what is there. Returns true when something was read. */
static bool conn_read(server *s, sconn *c) {
    bool progress = false;
    if (s->mode == MODE_HOLD) return false;
    while (!c->eof) {
        size_t cap;
        uint8_t *p = read_target(s, c, &cap);
        if (cap == 0) break;
        int n = tw_recv(s->st, c->h, p, cap);
        if (n == 0) {
            c->eof = true;
            tw_tunrun_say(s->r, c->id, "app: end of stream (the peer's FIN was read)");
            if (s->mode == MODE_HTTP && !c->req_done) http_at_eof(c);
            progress = true;
            break;
        }
        if (n < 0) break; /* -EAGAIN, or an error reported by TW_EVT_CLOSED */
        c->rx += (uint64_t)n;
        progress = true;
        if (s->mode == MODE_ECHO && !c->shut) {
            c->pend_len += (uint32_t)n;
        } else if (s->mode == MODE_HTTP && !c->req_done) {
            c->req_len += (uint32_t)n;
            c->req[c->req_len] = '\0';
            if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n") || c->req_len == REQ_CAP - 1)
                http_respond(c);
        }
    }
    return progress;
}

/* discard --reply-bytes N: the answer to a half-closed request, sent once
 * the peer's FIN was read (data in CLOSE_WAIT, RFC 9293 §3.6). */
static bool reply_write(server *s, sconn *c) {
    bool progress = false;
    while (c->eof && c->reply_sent < s->reply_bytes) {
        uint64_t left = s->reply_bytes - c->reply_sent;
        size_t k = left < sizeof s->scratch ? (size_t)left : sizeof s->scratch;
        for (size_t j = 0; j < k; j++) s->scratch[j] = tw_tunrun_pattern(c->reply_sent + j);
        int n = tw_send(s->st, c->h, s->scratch, k);
        if (n <= 0) break;
        c->reply_sent += (uint64_t)n;
        c->tx += (uint64_t)n;
        progress = true;
    }
    return progress;
}

static bool conn_write(server *s, sconn *c) {
    if (s->mode == MODE_HTTP) return http_write(s, c);
    if (s->mode == MODE_DISCARD) return reply_write(s, c);
    bool progress = false;
    while (s->mode == MODE_ECHO && c->pend_len) {
        int n = tw_send(s->st, c->h, c->pend + c->pend_off, c->pend_len);
        if (n <= 0) break;
        c->pend_off += (uint32_t)n;
        c->pend_len -= (uint32_t)n;
        c->tx += (uint64_t)n;
        progress = true;
    }
    return progress;
}

static bool out_done(const server *s, const sconn *c) {
    if (s->mode == MODE_ECHO) return c->pend_len == 0;
    if (s->mode == MODE_HTTP) return http_out_done(c);
    if (s->mode == MODE_DISCARD) return c->reply_sent >= s->reply_bytes;
    return true;
}

/* The server's part of the exchange is over: time to close if it closes first. */
static bool reply_done(server *s, sconn *c) {
    uint64_t want = s->o.have_expect ? s->o.expect_bytes : 1;
    switch (s->mode) {
    case MODE_ECHO:
    case MODE_DISCARD: return out_done(s, c) && c->rx >= want;
    case MODE_HTTP: return http_out_done(c);
    default: { /* hold: enough unread bytes are waiting */
        tw_sock_info info;
        return tw_sock_info_get(s->st, c->h, &info) == 0 && info.unread >= want;
    }
    }
}

/* Closes (or half-closes, or aborts) when it is this side's turn. Returns
 * true when the handle was released. */
static bool maybe_close(server *s, sconn *c) {
    /* Once the peer's FIN is read and our part is out, nothing more can
     * come: close even if the exchange was cut short (no CLOSE_WAIT left
     * behind by a client that gave up). */
    bool ended = c->eof && out_done(s, c);
    bool want =
        c->shut ? c->eof
                : (s->o.close_first == TW_CLOSE_FIRST_SERVER ? reply_done(s, c) || ended : ended);
    if (!want) return false;
    if (!c->shut && s->o.close_delay) {
        uint64_t now = tw_tunloop_clock();
        if (!c->close_at) {
            c->close_at = now + s->o.close_delay;
            tw_tunrun_say(s->r, c->id, "app: closing in %" PRIu64 " ms (--close-delay-ms)",
                          s->o.close_delay / TW_MS(1));
            return false;
        }
        if (now < c->close_at) return false;
    }
    if (s->o.linger0) {
        tw_abort(s->st, c->h);
        release(s, c, "aborted (linger 0: RST sent)");
        return true;
    }
    if (s->o.shutdown_write && !c->shut) {
        tw_shutdown(s->st, c->h, TW_SHUT_WR);
        c->shut = true;
        if (!c->eof) return false;
    }
    tw_close(s->st, c->h);
    release(s, c, "closed");
    return true;
}

static void conn_step(server *s, sconn *c) {
    for (int k = 0; k < 64 && c->h >= 0; k++) {
        bool progress = conn_read(s, c);
        progress |= conn_write(s, c);
        if (maybe_close(s, c) || !progress) break;
    }
}

/* ---------------------------------------------------------------- events */

static void schedule_wake(server *s) {
    uint64_t t = TW_TIME_NEVER;
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->c[i].h >= 0 && s->c[i].close_at && s->c[i].close_at < t) t = s->c[i].close_at;
    /* TIME_WAIT records expire inside the stack without an event: look again soon. */
    if (s->idle_exit && s->accepted) {
        uint64_t next = tw_tunloop_clock() + IDLE_CHECK;
        if (next < t) t = next;
    }
    tw_tunloop_wake_at(tw_tunrun_loop(s->r), t);
}

static uint64_t slots_in_use(const server *s) {
    uint64_t n = 0;
    for (int i = 0; i < MAX_CONNS; i++) n += s->c[i].h >= 0;
    return n;
}

/* --idle-exit-s: once a connection was accepted, stop after the stack has
 * held no connection, no TIME_WAIT record and the application no handle but
 * the listener's for that long. A leak never gets there. */
static void check_idle(server *s) {
    if (!s->idle_exit || !s->accepted || s->idle_exited) return;
    uint64_t now = tw_tunloop_clock();
    if (tw_stack_conn_count(s->st) || tw_stack_time_wait_count(s->st) || slots_in_use(s)) {
        s->idle_since = 0;
        return;
    }
    if (!s->idle_since) s->idle_since = now;
    if (now - s->idle_since < s->idle_exit) return;
    s->idle_exited = true;
    tw_tunrun_say(s->r, 0,
                  "idle for %" PRIu64 " s: no connection, no TIME_WAIT record "
                  "(--idle-exit-s)",
                  s->idle_exit / TW_SEC(1));
    tw_tunloop_stop(tw_tunrun_loop(s->r));
}

static void accept_all(server *s) {
    for (;;) {
        uint32_t ra;
        uint16_t rp;
        sconn *c = conn_of(s, -1);
        if (!c) return; /* table full: the rest waits in the backlog */
        int h = tw_accept(s->st, s->ls, &ra, &rp);
        if (h < 0) return;
        memset(c, 0, sizeof *c);
        c->h = h;
        s->idle_since = 0;
        tw_sock_info info;
        if (tw_sock_info_get(s->st, h, &info) == 0) c->id = info.conn_id;
        if (s->mode == MODE_ECHO && !(c->pend = malloc(PEND_CAP))) {
            tw_abort(s->st, h);
            release(s, c, "aborted: out of memory");
            continue;
        }
        s->accepted++;
        char ip[20];
        tw_tunrun_say(s->r, c->id, "app: accepted %s:%u", tw_tunrun_ip_str(ra, ip, sizeof ip), rp);
    }
}

static void on_event(void *ctx, tw_tunloop *l, const tw_event *ev) {
    (void)l;
    server *s = ctx;
    if (ev->sock == s->ls) {
        if (ev->what & TW_EVT_ACCEPTABLE) accept_all(s);
        return;
    }
    sconn *c = conn_of(s, ev->sock);
    if (!c) return;
    if (ev->what & TW_EVT_URGENT) tw_tunrun_note_urgent(s->r, c->h, c->id);
    if (ev->what & TW_EVT_SOFT_ERROR)
        tw_tunrun_say(s->r, c->id, "app: soft error: %s (the connection goes on)",
                      tw_strerror(ev->err));
    conn_step(s, c);
    if (c->h >= 0 && (ev->what & TW_EVT_CLOSED)) {
        if (ev->err) s->resets++;
        tw_close(s->st, c->h); /* releases the handle of a CLOSED connection */
        release(s, c, ev->err ? tw_strerror(ev->err) : "connection closed");
    }
    accept_all(s); /* a freed slot takes the next connection waiting in the backlog */
    schedule_wake(s);
}

static void on_wake(void *ctx, tw_tunloop *l) {
    (void)l;
    server *s = ctx;
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->c[i].h >= 0) conn_step(s, &s->c[i]);
    accept_all(s);
    check_idle(s);
    schedule_wake(s);
}

static void on_closed(void *ctx, uint32_t conn_id, int cause) {
    (void)conn_id;
    (void)cause;
    server *s = ctx;
    s->closed++;
    if (s->count && s->closed >= s->count) tw_tunloop_stop(tw_tunrun_loop(s->r));
}

/* ---------------------------------------------------------------- leaks */

/* What is left in the stack and the application when serve stops, and
 * where every connection that entered TIME_WAIT went: 2MSL expiry, reuse
 * by a new SYN, an early end for want of room, or still held (a record, or
 * a connection whose handle is open). */
static void leak_report(server *s) {
    tw_stack_poll(s->st, tw_tunloop_clock());
    const uint64_t *c = tw_stack_counters(s->st);
    uint64_t live = tw_stack_conn_count(s->st), tw = tw_stack_time_wait_count(s->st);
    uint64_t socks = tw_stack_sock_count(s->st), slots = slots_in_use(s);
    uint64_t gone = c[TW_C_TW_EXPIRE] + c[TW_C_TW_REUSE] + c[TW_C_TW_OVERFLOW];
    printf("serve: at exit: %" PRIu64 " live connections, %" PRIu64 " TIME_WAIT records, %" PRIu64
           " socket handles open (1 is the listener), %" PRIu64 " application slots in use\n",
           live, tw, socks, slots);
    printf("serve: TIME_WAIT: %" PRIu64 " entered = %" PRIu64 " expired + %" PRIu64
           " reused + %" PRIu64 " cut short (table full) + %" PRIu64 " still held%s\n",
           c[TW_C_TW_ENTER], c[TW_C_TW_EXPIRE], c[TW_C_TW_REUSE], c[TW_C_TW_OVERFLOW],
           c[TW_C_TW_ENTER] - gone,
           c[TW_C_TW_ENTER] >= gone && c[TW_C_TW_ENTER] - gone <= tw + live ? "" : " (MISMATCH)");
    printf("serve: opened %" PRIu64 " = closed %" PRIu64 " + live %" PRIu64
           " + TIME_WAIT records %" PRIu64 "%s\n",
           c[TW_C_CONN_PASSIVE_OPEN] + c[TW_C_CONN_ACTIVE_OPEN], c[TW_C_CONN_CLOSED], live, tw,
           c[TW_C_CONN_PASSIVE_OPEN] + c[TW_C_CONN_ACTIVE_OPEN] == c[TW_C_CONN_CLOSED] + live + tw
               ? ""
               : " (MISMATCH)");
    bool clean = !live && !tw && socks == 1 && !slots;
    printf("serve: leak check: %s\n",
           clean ? "clean (no connection, no TIME_WAIT record, only the listener's handle)"
                 : "NOT CLEAN (something is still held; see above)");
}

/* ---------------------------------------------------------------- command */

static void usage(FILE *f) {
    fprintf(f, "usage: tcpwave serve --tun DEV --addr A.B.C.D [--port N] [--mode MODE] [options]\n"
               "\n"
               "Runs a TCP server on tcpwave's own stack at --addr, reached by the Linux kernel\n"
               "through the TUN device DEV, and prints every segment (flags, seq, ack, len,\n"
               "window) and state change of each connection with timestamps.\n"
               "\n"
               "  --port N             port to listen on (default 80)\n"
               "  --mode MODE          echo: send back what arrives (default)\n"
               "                       http: HTTP/1.0; GET / says hello, GET /bytes/N sends N\n"
               "                             bytes of the pattern i %% 251\n"
               "                       discard: read and count; with --reply-bytes N,\n"
               "                             answer N pattern bytes after the client's FIN\n"
               "                       hold: never read (closing then sends RST)\n"
               "  --count N            exit after N connections reached CLOSED, TIME_WAIT\n"
               "                       included (use --msl-s 1 to keep it short)\n"
               "  --backlog N          connections waiting to be accepted (default 16; a SYN\n"
               "                       to a full backlog is dropped and counted)\n"
               "  --idle-exit-s N      once a connection came, exit after N s with no\n"
               "                       connection and no TIME_WAIT record left (soak tests)\n");
    tw_tunrun_usage_common(f);
    fprintf(f, "\nClosing: with --close-first client (default for echo and discard) the server\n"
               "closes once it has read the client's FIN and sent everything; with\n"
               "--close-first server (default for http and hold) it closes as soon as its reply\n"
               "is queued (echo/discard: after --expect-bytes N bytes, default 1).\n"
               "\nAt exit (however it ends) a leak check: live connections, TIME_WAIT records\n"
               "and how the ones that entered TIME_WAIT left it, socket handles still open,\n"
               "and the application's connection slots; with --stats every counter.\n"
               "\nExit status: 0 stopped (--count reached, --idle-exit-s, or a signal),\n"
               "2 bad arguments, 3 --timeout-s passed, 4 the TUN device or pcap file could\n"
               "not be opened.\n"
               "\nexample (the kernel side has 198.18.0.1/24 on tw0, see README):\n"
               "  tcpwave serve --tun tw0 --addr 198.18.0.2 --port 80 --mode http\n"
               "  curl http://198.18.0.2/\n");
}

static int parse_args(server *s, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        int rc = tw_tunrun_parse_common(&s->o, argc, argv, &i);
        if (rc < 0) return -1;
        if (rc > 0) continue;
        bool valued = !strcmp(a, "--port") || !strcmp(a, "--count") || !strcmp(a, "--mode") ||
                      !strcmp(a, "--reply-bytes") || !strcmp(a, "--backlog") ||
                      !strcmp(a, "--idle-exit-s");
        if (valued && !v) {
            fprintf(stderr, "tcpwave serve: %s needs a value (see tcpwave serve --help)\n", a);
            return -1;
        }
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--port")) {
            if (tw_tunrun_parse_u64("serve", a, v, 65535, &x)) return -1;
            if (x == 0) {
                fprintf(stderr, "tcpwave serve: --port must be 1..65535\n");
                return -1;
            }
            s->port = (uint16_t)x;
            i++;
        } else if (!strcmp(a, "--reply-bytes")) {
            if (tw_tunrun_parse_u64("serve", a, v, 1ull << 40, &s->reply_bytes)) return -1;
            i++;
        } else if (!strcmp(a, "--backlog")) {
            if (tw_tunrun_parse_u64("serve", a, v, 65535, &s->backlog)) return -1;
            if (s->backlog == 0) {
                fprintf(stderr, "tcpwave serve: --backlog must be 1..65535\n");
                return -1;
            }
            i++;
        } else if (!strcmp(a, "--idle-exit-s")) {
            if (tw_tunrun_parse_u64("serve", a, v, 86400, &x)) return -1;
            if (x == 0) {
                fprintf(stderr, "tcpwave serve: --idle-exit-s must be at least 1\n");
                return -1;
            }
            s->idle_exit = TW_SEC(x);
            i++;
        } else if (!strcmp(a, "--count")) {
            if (tw_tunrun_parse_u64("serve", a, v, 1000000000, &s->count)) return -1;
            i++;
        } else if (!strcmp(a, "--mode")) {
            int m = -1;
            for (int k = 0; k < 4 && v; k++)
                if (!strcmp(v, mode_names[k])) m = k;
            if (m < 0) {
                fprintf(stderr, "tcpwave serve: --mode is echo, http, discard or hold, got '%s'\n",
                        v ? v : "(nothing)");
                return -1;
            }
            s->mode = m;
            i++;
        } else {
            fprintf(stderr, "tcpwave serve: unknown option '%s' (see tcpwave serve --help)\n", a);
            return -1;
        }
    }
    if (tw_tunrun_check(&s->o)) return -1;
    if (s->reply_bytes && s->mode != MODE_DISCARD) {
        fprintf(stderr, "tcpwave serve: --reply-bytes goes with --mode discard\n");
        return -1;
    }
    if (s->o.close_first < 0)
        s->o.close_first = (s->mode == MODE_HTTP || s->mode == MODE_HOLD) ? TW_CLOSE_FIRST_SERVER
                                                                          : TW_CLOSE_FIRST_CLIENT;
    return 0;
}

int tw_cli_serve(int argc, char **argv) {
    server *s = calloc(1, sizeof *s);
    if (!s) return TW_EXIT_SETUP;
    tw_tunrun_opts_default(&s->o, "serve");
    s->port = 80;
    s->backlog = 16;
    for (int i = 0; i < MAX_CONNS; i++) s->c[i].h = -1;
    int rc = parse_args(s, argc, argv);
    if (rc) {
        free(s);
        return rc > 0 ? TW_EXIT_OK : TW_EXIT_USAGE;
    }
    tw_tunloop_app app = {s, on_event, NULL, on_wake};
    rc = tw_tunrun_start(&s->o, &app, on_closed, s, &s->r);
    if (rc) {
        free(s);
        return rc;
    }
    s->st = tw_tunrun_stack(s->r);
    s->ls = tw_socket(s->st);
    int e = s->ls < 0 ? s->ls : tw_bind(s->st, s->ls, s->port);
    if (!e) e = tw_listen(s->st, s->ls, (int)s->backlog);
    if (!e && tw_tunrun_sockopts(&s->o, s->st, s->ls)) e = -TW_EINVAL;
    char ip[20];
    if (e) {
        fprintf(stderr, "tcpwave serve: cannot listen on port %u: %s\n", s->port, tw_strerror(e));
        tw_tunrun_finish(s->r);
        free(s);
        return TW_EXIT_SETUP;
    }
    printf("tcpwave serve: %s:%u on TUN device %s, mode %s, closes first: %s%s%s\n",
           tw_tunrun_ip_str(s->o.addr, ip, sizeof ip), s->port, s->o.tun, mode_names[s->mode],
           s->o.close_first == TW_CLOSE_FIRST_SERVER ? "server" : "client",
           s->o.linger0 ? ", linger 0 (RST)" : "", s->o.shutdown_write ? ", half-close" : "");
    tw_stack_poll(s->st, tw_tunloop_clock());
    bool sig;
    rc = tw_tunrun_run(s->r, &sig);
    printf("serve: %" PRIu64 " connections accepted, %" PRIu64 " reached CLOSED, %" PRIu64
           " ended by an error\n",
           s->accepted, s->closed, s->resets);
    leak_report(s);
    for (int i = 0; i < MAX_CONNS; i++)
        if (s->c[i].h >= 0) free(s->c[i].pend);
    int frc = tw_tunrun_finish(s->r);
    free(s);
    return rc ? rc : frc;
}
