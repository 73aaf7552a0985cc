/* connect.c - `tcpwave connect`: one TCP connection from tcpwave's stack over
 * a Linux TUN device to a server of the kernel (nc, socat, a Python socket),
 * sending what the options say, reading everything that comes back, and
 * closing the way the options say. Prints every segment and state change,
 * then checks the outcome (bytes received, echo content, how the connection
 * ended) and turns it into the exit status, so tests can assert on it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tunrun.h"
#include "util/time.h"

enum { SRC_NONE, SRC_TEXT, SRC_PATTERN, SRC_STDIN };

typedef struct client {
    tw_tunrun_opts o;
    uint32_t raddr;
    uint16_t rport, lport;
    bool have_to;
    int src;
    char *text; /* SRC_TEXT (also the --http request) */
    size_t text_len;
    uint64_t total;    /* bytes to send (SRC_TEXT, SRC_PATTERN) */
    bool expect_echo;  /* received bytes must equal the sent ones */
    bool expect_reset; /* success means: the peer reset the connection */
    bool urgent;       /* --urgent: everything sent is urgent data (tw_send_urgent) */
    const char *out_path;
    FILE *out;
    /* stdin source */
    uint8_t inbuf[65536];
    size_t in_off, in_len;
    bool in_eof, in_watch;
    /* run state */
    tw_tunrun *r;
    tw_stack *st;
    int h;
    uint32_t id;
    bool connected, eof, shut, released, done;
    uint64_t sent, rx, close_at, mismatch_at;
    bool mismatch;
    int err;
    int close_cause;
    uint8_t rbuf[65536];
    uint8_t sbuf[65536];
} client;

/* ---------------------------------------------------------------- sending */

static uint8_t src_byte(const client *c, uint64_t i) {
    return c->src == SRC_TEXT ? (uint8_t)c->text[i] : tw_tunrun_pattern(i);
}

static bool all_sent(const client *c) {
    if (c->src == SRC_STDIN) return c->in_eof && c->in_len == 0;
    return c->sent >= c->total;
}

/* stdin: fills inbuf with one read(). Called when epoll says stdin is
 * readable, or directly for a regular file (which epoll cannot watch). */
static void read_stdin(client *c) {
    if (c->in_eof || c->in_len) return;
    ssize_t n = read(STDIN_FILENO, c->inbuf, sizeof c->inbuf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
        c->in_eof = true;
        if (c->in_watch) tw_tunloop_watch_fd(tw_tunrun_loop(c->r), -1);
        return;
    }
    c->in_off = 0;
    c->in_len = (size_t)n;
}

static void pump_send(client *c) {
    while (c->connected && !c->shut && !c->released && !all_sent(c)) {
        const uint8_t *p;
        size_t k;
        if (c->src == SRC_STDIN) {
            if (!c->in_len && !c->in_watch) read_stdin(c);
            if (!c->in_len) return;
            p = c->inbuf + c->in_off;
            k = c->in_len;
        } else if (c->src == SRC_TEXT) {
            p = (const uint8_t *)c->text + c->sent;
            k = (size_t)(c->total - c->sent);
        } else {
            uint64_t left = c->total - c->sent;
            k = left < sizeof c->sbuf ? (size_t)left : sizeof c->sbuf;
            for (size_t j = 0; j < k; j++) c->sbuf[j] = tw_tunrun_pattern(c->sent + j);
            p = c->sbuf;
        }
        int n = c->urgent ? tw_send_urgent(c->st, c->h, p, k) : tw_send(c->st, c->h, p, k);
        if (n <= 0) return;
        c->sent += (uint64_t)n;
        if (c->src == SRC_STDIN) {
            c->in_off += (size_t)n;
            c->in_len -= (size_t)n;
        }
    }
}

/* ---------------------------------------------------------------- receiving */

static void check_echo(client *c, const uint8_t *p, size_t n) {
    for (size_t j = 0; j < n && !c->mismatch; j++) {
        uint64_t i = c->rx + j;
        bool ok = c->src == SRC_STDIN ? true : (i < c->total && p[j] == src_byte(c, i));
        if (!ok) {
            c->mismatch = true;
            c->mismatch_at = i;
        }
    }
}

static void pump_recv(client *c) {
    while (!c->eof && !c->released) {
        int n = tw_recv(c->st, c->h, c->rbuf, sizeof c->rbuf);
        if (n == 0) {
            c->eof = true;
            tw_tunrun_say(c->r, c->id, "app: end of stream (the peer's FIN was read)");
            return;
        }
        if (n < 0) return;
        if (c->expect_echo) check_echo(c, c->rbuf, (size_t)n);
        if (c->out && fwrite(c->rbuf, (size_t)n, 1, c->out) != 1) {
            fprintf(stderr, "tcpwave connect: writing %s failed\n", c->out_path);
            fclose(c->out);
            c->out = NULL;
        }
        c->rx += (uint64_t)n;
    }
}

/* ---------------------------------------------------------------- closing */

static void release(client *c, const char *how) {
    c->released = true;
    tw_tunrun_say(c->r, c->id, "%s; sent %" PRIu64 " bytes, received %" PRIu64 " bytes", how,
                  c->sent, c->rx);
}

static void maybe_close(client *c) {
    if (c->released || !c->connected) return;
    /* A half-close says "nothing more from me" as soon as all is sent; the
     * full close waits for the expected bytes. */
    bool expect_ok = !c->o.have_expect || c->rx >= c->o.expect_bytes || c->o.shutdown_write;
    /* --expect-echo: everything sent must be back before closing. */
    if (c->expect_echo && !c->o.shutdown_write && (c->rx < c->sent || c->mismatch))
        expect_ok = false;
    bool want = c->shut ? c->eof
                        : (c->o.close_first == TW_CLOSE_FIRST_SERVER ? c->eof && all_sent(c)
                                                                     : all_sent(c) && expect_ok);
    if (!want) return;
    if (!c->shut && c->o.close_delay) {
        uint64_t now = tw_tunloop_clock();
        if (!c->close_at) {
            c->close_at = now + c->o.close_delay;
            tw_tunloop_wake_at(tw_tunrun_loop(c->r), c->close_at);
            tw_tunrun_say(c->r, c->id, "app: closing in %" PRIu64 " ms (--close-delay-ms)",
                          c->o.close_delay / TW_MS(1));
            return;
        }
        if (now < c->close_at) return;
    }
    if (c->o.linger0) {
        tw_abort(c->st, c->h);
        release(c, "aborted (linger 0: RST sent)");
        return;
    }
    if (c->o.shutdown_write && !c->shut) {
        tw_shutdown(c->st, c->h, TW_SHUT_WR);
        c->shut = true;
        if (!c->eof) return;
    }
    tw_close(c->st, c->h);
    release(c, "closed");
}

static void step(client *c) {
    pump_send(c);
    pump_recv(c);
    maybe_close(c);
}

static void on_event(void *ctx, tw_tunloop *l, const tw_event *ev) {
    (void)l;
    client *c = ctx;
    if (ev->sock != c->h || c->released) return;
    if (ev->what & TW_EVT_CONNECTED) {
        c->connected = true;
        tw_tunrun_say(c->r, c->id, "app: connected");
    }
    if (ev->what & TW_EVT_URGENT) tw_tunrun_note_urgent(c->r, c->h, c->id);
    if (ev->what & TW_EVT_SOFT_ERROR)
        tw_tunrun_say(c->r, c->id, "app: soft error: %s (the connection goes on)",
                      tw_strerror(ev->err));
    step(c);
    if (!c->released && (ev->what & TW_EVT_CLOSED)) {
        c->err = ev->err;
        tw_close(c->st, c->h);
        release(c, ev->err ? tw_strerror(ev->err) : "connection closed");
    }
}

static void on_fd(void *ctx, tw_tunloop *l, int fd) {
    (void)l;
    (void)fd;
    client *c = ctx;
    read_stdin(c);
    step(c);
}

static void on_wake(void *ctx, tw_tunloop *l) {
    (void)l;
    step((client *)ctx);
}

static void on_closed(void *ctx, uint32_t conn_id, int cause) {
    client *c = ctx;
    if (conn_id != c->id) return;
    c->done = true;
    c->close_cause = cause;
    tw_tunloop_stop(tw_tunrun_loop(c->r));
}

/* ---------------------------------------------------------------- arguments */

static void usage(FILE *f) {
    fprintf(f, "usage: tcpwave connect --tun DEV --addr A.B.C.D --to A.B.C.D:PORT [what to send]\n"
               "                       [options]\n"
               "\n"
               "Opens one connection from tcpwave's own stack at --addr, through the TUN device\n"
               "DEV, to a server of the Linux kernel; sends, reads everything that comes back,\n"
               "closes as asked, and waits until the connection is CLOSED (TIME_WAIT included:\n"
               "use --msl-s 1 to keep it short). Prints every segment and state change.\n"
               "\n"
               "  --to A.B.C.D:PORT    the server (required)\n"
               "  --lport N, --local-port N\n"
               "                       local port (default: an ephemeral one); the same port\n"
               "                       twice reuses a 4-tuple the kernel may hold in TIME_WAIT\n"
               "  --send TEXT          send TEXT (escapes \\n \\r \\t \\\\ \\xHH)\n"
               "  --send-bytes N       send N bytes of the pattern i %% 251\n"
               "  --send-stdin         send what stdin gives until its end\n"
               "  --urgent             send it all as urgent data (URG; the urgent pointer\n"
               "                       ends after its last byte, RFC 9293 3.8.5)\n"
               "  --http PATH          send 'GET PATH HTTP/1.0' (the server closes first)\n"
               "  --expect-echo        what comes back must be what was sent, byte for byte\n"
               "                       (with --close-first client: closes once it is all back)\n"
               "  --expect-reset       success means the peer reset the connection (RST)\n"
               "  --out FILE           write the bytes received to FILE\n");
    tw_tunrun_usage_common(f);
    fprintf(f,
            "\nClosing: with --close-first client (default) tcpwave closes once everything\n"
            "is sent and --expect-bytes N bytes have arrived (--shutdown-write sends its FIN\n"
            "as soon as everything is sent); with --close-first server (default for\n"
            "--http) it closes after reading the server's FIN.\n"
            "\nExit status: 0 the connection went as asked and reached CLOSED; 1 it did not\n"
            "(refused, reset, timed out, wrong byte count, echo mismatch); 2 bad arguments;\n"
            "3 --timeout-s passed; 4 the TUN device or pcap file could not be opened.\n"
            "\nexample (the kernel side has 198.18.0.1/24 on tw0, see README):\n"
            "  nc -l 198.18.0.1 7000 &\n"
            "  tcpwave connect --tun tw0 --addr 198.18.0.2 --to 198.18.0.1:7000 --send 'hi\\n'\n");
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9') return ch - '0';
    if (ch >= 'a' && ch <= 'f') return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F') return ch - 'A' + 10;
    return -1;
}

/* Copies v with C escapes resolved into c->text. */
static int set_text(client *c, const char *v) {
    size_t n = strlen(v);
    c->text = malloc(n + 1);
    if (!c->text) return -1;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = v[i];
        if (ch == '\\' && i + 1 < n) {
            char e = v[++i];
            if (e == 'n')
                ch = '\n';
            else if (e == 'r')
                ch = '\r';
            else if (e == 't')
                ch = '\t';
            else if (e == 'x' && i + 2 < n && hexval(v[i + 1]) >= 0 && hexval(v[i + 2]) >= 0) {
                ch = (char)(hexval(v[i + 1]) * 16 + hexval(v[i + 2]));
                i += 2;
            } else
                ch = e;
        }
        c->text[k++] = ch;
    }
    c->text[k] = '\0';
    c->text_len = k;
    c->total = k;
    c->src = SRC_TEXT;
    return 0;
}

static int set_source(client *c, const char *a, const char *v) {
    if (c->src != SRC_NONE) {
        fprintf(stderr,
                "tcpwave connect: give one of --send, --send-bytes, --send-stdin, --http\n");
        return -1;
    }
    if (!strcmp(a, "--send")) return set_text(c, v);
    if (!strcmp(a, "--send-bytes")) {
        if (tw_tunrun_parse_u64("connect", a, v, 1ull << 40, &c->total)) return -1;
        c->src = SRC_PATTERN;
        return 0;
    }
    if (!strcmp(a, "--send-stdin")) {
        c->src = SRC_STDIN;
        return 0;
    }
    /* --http PATH */
    if (v[0] != '/') {
        fprintf(stderr, "tcpwave connect: --http needs a path starting with '/', got '%s'\n", v);
        return -1;
    }
    char ip[20], req[600];
    snprintf(req, sizeof req,
             "GET %.512s HTTP/1.0\\r\\nHost: %s\\r\\nUser-Agent: tcpwave\\r\\n\\r\\n", v,
             tw_tunrun_ip_str(c->raddr, ip, sizeof ip));
    if (c->o.close_first < 0) c->o.close_first = TW_CLOSE_FIRST_SERVER;
    return set_text(c, req);
}

static int parse_one(client *c, int argc, char **argv, int *i) {
    const char *a = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    uint64_t x;
    if (!strcmp(a, "--local-port")) a = "--lport";
    bool needs_value = !strcmp(a, "--to") || !strcmp(a, "--lport") || !strcmp(a, "--send") ||
                       !strcmp(a, "--send-bytes") || !strcmp(a, "--http") || !strcmp(a, "--out");
    if (needs_value && !v) {
        fprintf(stderr, "tcpwave connect: %s needs a value (see tcpwave connect --help)\n", a);
        return -1;
    }
    if (needs_value) (*i)++;
    if (!strcmp(a, "--to")) {
        if (tw_tunrun_parse_endpoint("connect", a, v, &c->raddr, &c->rport)) return -1;
        uint32_t top = c->raddr >> 24;
        if (top == 0 || top >= 224) { /* tw_connect() would refuse it (MUST-46) */
            fprintf(stderr,
                    "tcpwave connect: --to %s: not a unicast address (0/8, multicast and "
                    "240/4 are refused, RFC 9293 MUST-46)\n",
                    v);
            return -1;
        }
        c->have_to = true;
    } else if (!strcmp(a, "--lport")) {
        if (tw_tunrun_parse_u64("connect", a, v, 65535, &x)) return -1;
        if (x == 0) {
            fprintf(stderr, "tcpwave connect: --lport must be 1..65535\n");
            return -1;
        }
        c->lport = (uint16_t)x;
    } else if (!strcmp(a, "--send") || !strcmp(a, "--send-bytes") || !strcmp(a, "--http") ||
               !strcmp(a, "--send-stdin")) {
        if (!strcmp(a, "--http") && !c->have_to) {
            fprintf(stderr, "tcpwave connect: give --to before --http (it names the Host)\n");
            return -1;
        }
        return set_source(c, a, v);
    } else if (!strcmp(a, "--out")) {
        c->out_path = v;
    } else if (!strcmp(a, "--expect-echo")) {
        c->expect_echo = true;
    } else if (!strcmp(a, "--expect-reset")) {
        c->expect_reset = true;
    } else if (!strcmp(a, "--urgent")) {
        c->urgent = true;
    } else {
        fprintf(stderr, "tcpwave connect: unknown option '%s' (see tcpwave connect --help)\n", a);
        return -1;
    }
    return 0;
}

static int parse_args(client *c, int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 1;
        }
        int rc = tw_tunrun_parse_common(&c->o, argc, argv, &i);
        if (rc < 0) return -1;
        if (rc == 0 && parse_one(c, argc, argv, &i)) return -1;
    }
    if (tw_tunrun_check(&c->o)) return -1;
    if (!c->have_to) {
        fprintf(stderr,
                "tcpwave connect: --to A.B.C.D:PORT is required (e.g. --to 198.18.0.1:7000)\n");
        return -1;
    }
    if (c->expect_echo && c->src == SRC_NONE) {
        fprintf(stderr, "tcpwave connect: --expect-echo needs something to send\n");
        return -1;
    }
    if (c->o.close_first < 0) c->o.close_first = TW_CLOSE_FIRST_CLIENT;
    return 0;
}

/* ---------------------------------------------------------------- verdict */

static int verdict(client *c, int run_rc) {
    printf("connect: sent %" PRIu64 " bytes, received %" PRIu64 " bytes, ended: %s\n", c->sent,
           c->rx,
           !c->done ? "not closed"
           : c->err ? tw_strerror(c->err)
                    : tw_cause_desc(c->close_cause));
    if (run_rc) return run_rc;
    if (!c->done) return TW_EXIT_FAIL; /* stopped by a signal before CLOSED */
    int rc = TW_EXIT_OK;
    if (c->expect_reset ? c->err != TW_ECONNRESET : c->err != 0) {
        printf("connect: FAIL: %s\n", c->expect_reset ? "expected the peer to reset the connection"
                                                      : "the connection ended with an error");
        rc = TW_EXIT_FAIL;
    }
    if (c->o.have_expect && c->rx != c->o.expect_bytes) {
        printf("connect: FAIL: expected %" PRIu64 " bytes, received %" PRIu64 "\n",
               c->o.expect_bytes, c->rx);
        rc = TW_EXIT_FAIL;
    }
    if (c->expect_echo && (c->mismatch || c->rx != c->sent)) {
        if (c->mismatch)
            printf("connect: FAIL: echo differs at byte %" PRIu64 "\n", c->mismatch_at);
        else
            printf("connect: FAIL: echo has %" PRIu64 " bytes, sent %" PRIu64 "\n", c->rx, c->sent);
        rc = TW_EXIT_FAIL;
    } else if (c->expect_echo && c->rx) {
        printf("connect: echo verified, %" PRIu64 " bytes identical\n", c->rx);
    }
    return rc;
}

static int start(client *c) {
    /* The stack's clock to now first: the ISN's clock part (RFC 6528 M) and
     * the connection's timers start from the real time of the connect. */
    tw_stack_poll(c->st, tw_tunloop_clock());
    c->h = tw_socket(c->st);
    int e = c->h < 0 ? c->h : (c->lport ? tw_bind(c->st, c->h, c->lport) : 0);
    if (!e) e = tw_connect(c->st, c->h, c->raddr, c->rport);
    if (e) {
        char ip[20];
        fprintf(stderr, "tcpwave connect: cannot connect to %s:%u: %s\n",
                tw_tunrun_ip_str(c->raddr, ip, sizeof ip), c->rport, tw_strerror(e));
        return TW_EXIT_FAIL;
    }
    /* After tw_connect(): options set on a new socket do not reach its connection. */
    if (tw_tunrun_sockopts(&c->o, c->st, c->h)) return TW_EXIT_FAIL;
    tw_sock_info info;
    if (tw_sock_info_get(c->st, c->h, &info) == 0) c->id = info.conn_id;
    if (c->src == SRC_STDIN) {
        c->in_watch = tw_tunloop_watch_fd(tw_tunrun_loop(c->r), STDIN_FILENO) == 0;
    }
    char a[20], b[20];
    printf("tcpwave connect: %s -> %s:%u on TUN device %s, closes first: %s%s%s\n",
           tw_tunrun_ip_str(c->o.addr, a, sizeof a), tw_tunrun_ip_str(c->raddr, b, sizeof b),
           c->rport, c->o.tun, c->o.close_first == TW_CLOSE_FIRST_SERVER ? "server" : "client",
           c->o.linger0 ? ", linger 0 (RST)" : "", c->o.shutdown_write ? ", half-close" : "");
    tw_stack_poll(c->st, tw_tunloop_clock());
    return 0;
}

int tw_cli_connect(int argc, char **argv) {
    client *c = calloc(1, sizeof *c);
    if (!c) return TW_EXIT_SETUP;
    tw_tunrun_opts_default(&c->o, "connect");
    int rc = parse_args(c, argc, argv);
    if (rc) {
        free(c->text);
        free(c);
        return rc > 0 ? TW_EXIT_OK : TW_EXIT_USAGE;
    }
    if (c->out_path && !(c->out = fopen(c->out_path, "wb"))) {
        fprintf(stderr, "tcpwave connect: cannot write '%s': %s\n", c->out_path, strerror(errno));
        free(c->text);
        free(c);
        return TW_EXIT_SETUP;
    }
    tw_tunloop_app app = {c, on_event, on_fd, on_wake};
    rc = tw_tunrun_start(&c->o, &app, on_closed, c, &c->r);
    if (rc == 0) {
        c->st = tw_tunrun_stack(c->r);
        rc = start(c);
        bool sig = false;
        if (rc == 0) rc = tw_tunrun_run(c->r, &sig);
        rc = verdict(c, rc);
        int frc = tw_tunrun_finish(c->r);
        if (!rc) rc = frc;
    }
    if (c->out && fclose(c->out) != 0 && !rc) rc = TW_EXIT_FAIL;
    free(c->text);
    free(c);
    return rc;
}
