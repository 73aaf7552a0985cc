/* bench_tun.c - the TUN workloads of issue 11: the Linux kernel's TCP client
 * talking to tcpwave's server (`tcpwave serve`, unchanged) through a TUN
 * device, against the same client talking to the kernel's own server over a
 * veth pair; and the raw cost of moving packets through a TUN device with no
 * TCP at all, which is the floor of the TUN path.
 *
 * Isolation (checked, or it refuses to run): the program needs root; it
 * first moves itself into a fresh network namespace (unshare(CLONE_NEWNET)),
 * where it creates only its own devices, all with addresses in 198.18.0.0/15
 * (RFC 2544's benchmarking range, never routed):
 *   twt0  TUN, kernel 198.18.0.1/24, `tcpwave serve --mode echo` at .2   (churn)
 *   twt1  TUN, kernel 198.18.2.1/24, `tcpwave serve --mode discard` at .2 (bulk)
 *   twt2  TUN, kernel 198.18.4.1/24, opened by this program              (raw)
 *   twv0  veth, 198.18.1.1/24; its peer twv1 (198.18.1.2/24) lives in a
 *         second fresh namespace holding the kernel's epoll server
 * Before any packet is sent it checks that each namespace holds only lo and
 * those devices and that every route stays inside 198.18.0.0/15 (no default
 * route). The namespaces, and with them every device, vanish when the
 * processes exit (also when killed); the devices are deleted explicitly too.
 * Every workload is bounded in time (--churn-seconds, alarm()).
 *
 * Both client paths use the same client code, pinned with the servers to the
 * caller's CPU (bench/run runs it under taskset): a blocking kernel socket
 * that connects, writes 64 bytes, reads the 64-byte echo and closes first
 * (churn), or writes --bulk-bytes in 64 KiB writes, shuts down and waits for
 * the server's close (bulk). The client's ephemeral range is 1024-65535 so
 * that a run's TIME_WAIT population (the client's, 60 s in real time) never
 * wraps it. CPU time is the client's (getrusage) plus the server process's
 * (its CPU clock), user + system: the kernel's receive path runs inside the
 * system call that hands it a packet (tcpwave's write() to the TUN fd, or
 * the sender's on veth), so it is charged to one of the two.
 *
 * Output: JSON lines (bench/run collects them):
 *   tun_churn  impl tcpwave_tun / linux_veth / tcpwave_tun_lib (the same
 *              echo server on the library, without serve's trace printer):
 *              rates and per-connection costs
 *              (client and server user/system ns, packets each way, the
 *              server's read/write system calls and context switches)
 *   tun_bulk   impl tcpwave_tun / linux_veth: Gbit/s per CPU second and wall
 *   tun_raw    per-packet CPU ns of write()/read() on a TUN fd without TCP
 *
 * usage: bench_tun --tcpwave PATH [--churn-seconds S] [--bulk-bytes B]
 *                  [--raw-packets N] [--veth-first] [--no-tun] [--no-veth]
 *                  [--only serve|lib|veth|bulk-tun|bulk-veth|raw]
 * (--only runs one workload, e.g. under `perf record` to profile it.)
 */
#define _GNU_SOURCE
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "drive/tunloop.h"
#include "link/tun.h"

#define REQ 64
#define PORT_CHURN 5555
#define PORT_BULK 5556
#define WSIZE 65536

#define NET(c) (0xC6120000u | ((uint32_t)(c) << 8)) /* 198.18.c.0 */
#define TUN_CHURN "twt0"
#define TUN_BULK "twt1"
#define TUN_RAW "twt2"
#define TUN_LIB "twt3"
#define VETH_C "twv0"
#define VETH_S "twv1"

/* ---------------------------------------------------------------- small helpers */

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...) {
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* A device's counter from /proc/net/dev (sysfs shows the namespace that
 * mounted it, not ours): what = 0 rx_bytes, 1 rx_packets, 8 tx_bytes,
 * 9 tx_packets. */
static uint64_t dev_stat(const char *dev, int what) {
    FILE *f = fopen("/proc/net/dev", "r");
    char line[512];
    uint64_t v = 0;
    while (f && fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *name = line;
        while (*name == ' ') name++;
        if (strcmp(name, dev)) continue;
        char *q = colon + 1;
        for (int k = 0; k <= what; k++) {
            char *end;
            unsigned long long x = strtoull(q, &end, 10);
            q = end;
            if (k == what) v = x;
        }
    }
    if (f) fclose(f);
    return v;
}

static double tv_ns(struct timeval tv) {
    return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3;
}

/* Refuses to go on unless this namespace holds exactly the interfaces in
 * `want` (space-separated, lo included) and every IPv4 route's destination
 * is inside 198.18.0.0/15 (so there is no default route and no way out). */
static void check_isolated(const char *want, const char *who) {
    char have[512] = "";
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f) bench_die("%s: cannot read /proc/net/dev", who);
    char line[512];
    int n = 0, nwant = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *name = line;
        while (*name == ' ') name++;
        char pat[40];
        if (strlen(name) > 16) bench_die("%s: odd interface name in /proc/net/dev", who);
        snprintf(pat, sizeof pat, " %.16s ", name);
        char w[520];
        snprintf(w, sizeof w, " %s ", want);
        if (!strstr(w, pat)) {
            fclose(f);
            bench_die("%s: refusing to run: interface %s in the namespace (expected only: %s)", who,
                      name, want);
        }
        strncat(have, name, sizeof have - strlen(have) - 2);
        strcat(have, " ");
        n++;
    }
    fclose(f);
    for (const char *p = want; *p;) {
        while (*p == ' ') p++;
        if (*p) nwant++;
        while (*p && *p != ' ') p++;
    }
    if (n != nwant) bench_die("%s: interfaces are '%s', expected '%s'", who, have, want);
    f = fopen("/proc/net/route", "r");
    if (!f) bench_die("%s: cannot read /proc/net/route", who);
    while (fgets(line, sizeof line, f)) {
        char ifn[32];
        unsigned dst, gw, flags, mask;
        if (sscanf(line, "%31s %x %x %x %*d %*d %*d %x", ifn, &dst, &gw, &flags, &mask) != 5)
            continue;
        uint32_t d = ntohl(dst), m = ntohl(mask);
        if ((d & 0xFFFE0000u) != 0xC6120000u || (m & 0xFFFE0000u) != 0xFFFE0000u)
            bench_die("%s: refusing to run: route to %08x/%08x via %s leaves 198.18.0.0/15", who, d,
                      m, ifn);
    }
    fclose(f);
}

static struct sockaddr_in sin_of(uint32_t addr, uint16_t port) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(addr);
    return a;
}

static void read_full(int s, uint8_t *b, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(s, b + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) bench_die("read: %s", r == 0 ? "EOF" : strerror(errno));
        got += (size_t)r;
    }
}

static int dial(uint32_t addr, uint16_t port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) bench_die("socket: %s", strerror(errno));
    struct sockaddr_in a = sin_of(addr, port);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) bench_die("connect: %s", strerror(errno));
    return s;
}

/* Waits (at most `secs`) until a TCP connection to addr:port succeeds. */
static bool wait_listening(uint32_t addr, uint16_t port, double secs) {
    double end = bench_wall_ns() + secs * 1e9;
    while (bench_wall_ns() < end) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
        struct sockaddr_in a = sin_of(addr, port);
        int rc = connect(s, (struct sockaddr *)&a, sizeof a);
        if (rc && errno == EINPROGRESS) {
            struct pollfd p = {.fd = s, .events = POLLOUT};
            if (poll(&p, 1, 300) == 1) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el);
                rc = err ? -1 : 0;
            } else {
                rc = -1;
            }
        }
        close(s);
        if (rc == 0) return true;
        usleep(50000);
    }
    return false;
}

/* ---------------------------------------------------------------- a process's costs */

typedef struct pcost {
    double cpu_ns;          /* precise (CPU clock / rusage) */
    double user_ns, sys_ns; /* split (ticks, scaled to cpu_ns for another process) */
    double syscr, syscw;    /* read/write system calls (/proc/PID/io) */
    double vcsw, ivcsw;     /* voluntary / involuntary context switches */
} pcost;

static void proc_sample(pid_t pid, pcost *c) {
    memset(c, 0, sizeof *c);
    if (pid == 0) { /* this process */
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        c->user_ns = tv_ns(ru.ru_utime);
        c->sys_ns = tv_ns(ru.ru_stime);
        c->cpu_ns = c->user_ns + c->sys_ns;
        c->vcsw = (double)ru.ru_nvcsw;
        c->ivcsw = (double)ru.ru_nivcsw;
        pid = getpid();
    } else {
        clockid_t cid;
        struct timespec ts;
        if (clock_getcpuclockid(pid, &cid) == 0 && clock_gettime(cid, &ts) == 0)
            c->cpu_ns = (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
        char p[64], buf[1024];
        snprintf(p, sizeof p, "/proc/%d/stat", (int)pid);
        FILE *f = fopen(p, "r");
        if (f && fgets(buf, sizeof buf, f)) {
            char *q = strrchr(buf, ')');
            unsigned long ut = 0, st = 0;
            if (q && sscanf(q + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut,
                            &st) == 2) {
                double tick = 1e9 / (double)sysconf(_SC_CLK_TCK);
                c->user_ns = (double)ut * tick;
                c->sys_ns = (double)st * tick;
            }
        }
        if (f) fclose(f);
        snprintf(p, sizeof p, "/proc/%d/status", (int)pid);
        f = fopen(p, "r");
        while (f && fgets(buf, sizeof buf, f)) {
            unsigned long long v;
            if (sscanf(buf, "voluntary_ctxt_switches: %llu", &v) == 1) c->vcsw = (double)v;
            if (sscanf(buf, "nonvoluntary_ctxt_switches: %llu", &v) == 1) c->ivcsw = (double)v;
        }
        if (f) fclose(f);
    }
    char p[64], buf[256];
    snprintf(p, sizeof p, "/proc/%d/io", (int)pid);
    FILE *f = fopen(p, "r");
    while (f && fgets(buf, sizeof buf, f)) {
        unsigned long long v;
        if (sscanf(buf, "syscr: %llu", &v) == 1) c->syscr = (double)v;
        if (sscanf(buf, "syscw: %llu", &v) == 1) c->syscw = (double)v;
    }
    if (f) fclose(f);
}

/* b - a, with the user/system split of another process (tick-sampled)
 * scaled to its precise CPU time. */
static pcost pcost_delta(const pcost *a, const pcost *b) {
    pcost d;
    d.cpu_ns = b->cpu_ns - a->cpu_ns;
    d.user_ns = b->user_ns - a->user_ns;
    d.sys_ns = b->sys_ns - a->sys_ns;
    double split = d.user_ns + d.sys_ns;
    if (split > 0 && d.cpu_ns > 0) {
        d.user_ns *= d.cpu_ns / split;
        d.sys_ns *= d.cpu_ns / split;
    }
    d.syscr = b->syscr - a->syscr;
    d.syscw = b->syscw - a->syscw;
    d.vcsw = b->vcsw - a->vcsw;
    d.ivcsw = b->ivcsw - a->ivcsw;
    return d;
}

static void bj_cost(bench_json *j, const char *who, const pcost *c, double per) {
    char k[48];
    snprintf(k, sizeof k, "%s_user_ns", who);
    bj_num(j, k, c->user_ns / per);
    snprintf(k, sizeof k, "%s_sys_ns", who);
    bj_num(j, k, c->sys_ns / per);
    snprintf(k, sizeof k, "%s_cpu_ns", who);
    bj_num(j, k, c->cpu_ns / per);
    snprintf(k, sizeof k, "%s_reads", who);
    bj_num(j, k, c->syscr / per);
    snprintf(k, sizeof k, "%s_writes", who);
    bj_num(j, k, c->syscw / per);
    snprintf(k, sizeof k, "%s_vcsw", who);
    bj_num(j, k, c->vcsw / per);
    snprintf(k, sizeof k, "%s_ivcsw", who);
    bj_num(j, k, c->ivcsw / per);
    snprintf(k, sizeof k, "%s_csw", who);
    bj_num(j, k, (c->vcsw + c->ivcsw) / per);
}

static int time_wait_count(void) {
    FILE *f = fopen("/proc/net/tcp", "r");
    if (!f) return -1;
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned st;
        if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x", &st) == 1 && st == 6) n++;
    }
    fclose(f);
    return n;
}

/* ---------------------------------------------------------------- the kernel's server (veth) */

enum { K_LISTEN_CHURN = 1, K_LISTEN_BULK, K_ECHO, K_SINK };

static int klisten(uint32_t addr, uint16_t port) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = sin_of(addr, port);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1024))
        bench_die("kernel server: bind/listen: %s", strerror(errno));
    return l;
}

static void kadd(int ep, int fd, int kind) {
    struct epoll_event e = {.events = EPOLLIN, .data.u64 = (uint64_t)kind << 32 | (uint32_t)fd};
    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e);
}

/* Echo on PORT_CHURN (64 bytes in, the same 64 out), sink on PORT_BULK,
 * closing on the client's FIN: what `tcpwave serve` does in echo and discard
 * modes. Runs until killed. */
static void kernel_server(uint32_t addr) {
    int ep = epoll_create1(0);
    kadd(ep, klisten(addr, PORT_CHURN), K_LISTEN_CHURN);
    kadd(ep, klisten(addr, PORT_BULK), K_LISTEN_BULK);
    static uint8_t buf[WSIZE];
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) _exit(3);
        for (int i = 0; i < n; i++) {
            int fd = (int)(uint32_t)evs[i].data.u64, kind = (int)(evs[i].data.u64 >> 32);
            if (kind == K_LISTEN_CHURN || kind == K_LISTEN_BULK) {
                int c;
                while ((c = accept4(fd, NULL, NULL, SOCK_NONBLOCK)) >= 0)
                    kadd(ep, c, kind == K_LISTEN_CHURN ? K_ECHO : K_SINK);
                continue;
            }
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    if (kind == K_ECHO && write(fd, buf, (size_t)r) != r) _exit(5);
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
                    close(fd); /* EOF: the client closed first */
                }
                break;
            }
        }
    }
}

/* Forks the kernel server into its own fresh namespace joined to this one by
 * the veth pair twv0 (here, 198.18.1.1) - twv1 (there, 198.18.1.2). */
static pid_t start_veth_server(void) {
    int up[2], down[2];
    if (pipe(up) || pipe(down)) bench_die("pipe");
    pid_t pid = fork();
    if (pid < 0) bench_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() == 1) _exit(0);
        close(up[0]);
        close(down[1]);
        if (unshare(CLONE_NEWNET)) {
            fprintf(stderr, "bench: veth server: unshare: %s\n", strerror(errno));
            _exit(2);
        }
        char c = 'n';
        if (write(up[1], &c, 1) != 1 || read(down[0], &c, 1) != 1) _exit(2);
        if (sh("ip link set lo up && ip addr add 198.18.1.2/24 dev " VETH_S
               " && ip link set " VETH_S " up"))
            _exit(2);
        check_isolated("lo " VETH_S, "veth server");
        c = 'r';
        if (write(up[1], &c, 1) != 1) _exit(2);
        close(up[1]);
        kernel_server(NET(1) | 2);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char c;
    if (read(up[0], &c, 1) != 1) bench_die("veth server did not start");
    if (sh("ip link add " VETH_C " type veth peer name " VETH_S " netns %d", (int)pid))
        bench_die("cannot create the veth pair");
    if (sh("ip addr add 198.18.1.1/24 dev " VETH_C " && ip link set " VETH_C " up"))
        bench_die("cannot configure " VETH_C);
    c = 'g';
    if (write(down[1], &c, 1) != 1) bench_die("veth server gone");
    if (read(up[0], &c, 1) != 1) bench_die("veth server failed to set up its namespace");
    close(up[0]);
    close(down[1]);
    return pid;
}

/* ---------------------------------------------------------------- tcpwave's server (TUN) */

static void make_tun(const char *dev, int net) {
    if (sh("ip tuntap add dev %s mode tun", dev)) bench_die("cannot create TUN device %s", dev);
    char p[96];
    snprintf(p, sizeof p, "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
    write_file(p, "1"); /* no IPv6 chatter (router solicitations) on the link */
    if (sh("ip addr add 198.18.%d.1/24 dev %s && ip link set %s up", net, dev, dev))
        bench_die("cannot configure %s", dev);
}

static pid_t start_serve(const char *tcpwave, const char *dev, int net, uint16_t port,
                         const char *mode) {
    pid_t pid = fork();
    if (pid < 0) bench_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        int dn = open("/dev/null", O_WRONLY);
        if (dn < 0 || dup2(dn, 1) < 0) _exit(2);
        char addr[32], portstr[16];
        snprintf(addr, sizeof addr, "198.18.%d.2", net);
        snprintf(portstr, sizeof portstr, "%u", port);
        execl(tcpwave, tcpwave, "serve", "--tun", dev, "--addr", addr, "--port", portstr, "--mode",
              mode, "--quiet", (char *)NULL);
        fprintf(stderr, "bench: cannot run %s: %s\n", tcpwave, strerror(errno));
        _exit(2);
    }
    return pid;
}

static void stop_child(pid_t pid, int sig) {
    if (pid <= 0) return;
    kill(pid, sig);
    for (int i = 0; i < 300; i++) { /* 3 s, then SIGKILL */
        if (waitpid(pid, NULL, WNOHANG) == pid) return;
        usleep(10000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

/* The same echo server written on the library (src/link/tun + src/drive/
 * tunloop, as `tcpwave serve` uses them) but without the CLI's trace
 * printer: what tcpwave costs over TUN when nothing is printed. A forked
 * child; twt3, tcpwave at 198.18.6.2. */
typedef struct libsrv {
    tw_stack *st;
    int ls;
    uint8_t buf[WSIZE];
} libsrv;

static void lib_conn(libsrv *s, int h) {
    for (;;) {
        int n = tw_recv(s->st, h, s->buf, sizeof s->buf);
        if (n == 0) { /* the client's FIN: close our half too */
            tw_close(s->st, h);
            return;
        }
        if (n < 0) return;
        if (tw_send(s->st, h, s->buf, (size_t)n) != n) { /* never with 64 bytes */
            tw_abort(s->st, h);
            return;
        }
    }
}

static void lib_event(void *ctx, tw_tunloop *l, const tw_event *ev) {
    (void)l;
    libsrv *s = ctx;
    if (ev->sock == s->ls) {
        int h;
        while ((h = tw_accept(s->st, s->ls, NULL, NULL)) >= 0) lib_conn(s, h);
        return;
    }
    if (ev->what & TW_EVT_CLOSED) {
        tw_close(s->st, ev->sock); /* releases a handle we did not close yet */
        return;
    }
    if (ev->what & TW_EVT_READABLE) lib_conn(s, ev->sock);
}

static tw_tunloop *g_libloop;
static void lib_stop(int sig) {
    (void)sig;
    if (g_libloop) tw_tunloop_stop(g_libloop);
}

static pid_t start_lib_server(void) {
    pid_t pid = fork();
    if (pid < 0) bench_die("fork");
    if (pid) return pid;
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    static libsrv s;
    tw_tun *t;
    if (tw_tun_open(TUN_LIB, &t)) _exit(2);
    tw_tun_wait_running(t, 3000000000ull);
    tw_stack_cfg cfg;
    tw_stack_cfg_default(&cfg);
    cfg.addr = NET(6) | 2;
    cfg.seed = (uint64_t)bench_wall_ns() ^ ((uint64_t)getpid() << 32);
    tw_tunloop_app app = {&s, lib_event, NULL, NULL};
    tw_tunloop *l;
    if (tw_stack_new(&cfg, tw_tun_link(t), &s.st) || tw_tunloop_new(s.st, tw_tun_link(t), &app, &l))
        _exit(2);
    s.ls = tw_socket(s.st);
    if (s.ls < 0 || tw_bind(s.st, s.ls, PORT_CHURN) || tw_listen(s.st, s.ls, 64)) _exit(2);
    g_libloop = l;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = lib_stop;
    sigaction(SIGTERM, &sa, NULL);
    tw_stack_poll(s.st, tw_tunloop_clock());
    tw_tunloop_run(l, UINT64_MAX);
    tw_tunloop_free(l);
    tw_stack_free(s.st);
    tw_tun_free(t);
    _exit(0);
}

/* ---------------------------------------------------------------- the workloads */

typedef struct path {
    const char *impl, *dev; /* dev: where packets are counted */
    uint32_t srv;           /* the server's address */
    pid_t pid;              /* the server process */
    bool tun;               /* dev is a TUN device: rx = from tcpwave, tx = to tcpwave */
} path;

static void churn(const path *p, double secs, uint64_t max_n) {
    uint8_t msg[REQ], buf[REQ];
    memset(msg, 'x', sizeof msg);
    for (int i = 0; i < 200; i++) { /* warm-up */
        int s = dial(p->srv, PORT_CHURN);
        if (write(s, msg, REQ) != REQ) bench_die("write");
        read_full(s, buf, REQ);
        close(s);
    }
    pcost c0, c1, s0, s1;
    uint64_t rx0 = dev_stat(p->dev, 1), tx0 = dev_stat(p->dev, 9);
    proc_sample(p->pid, &s0);
    proc_sample(0, &c0);
    double w0 = bench_wall_ns();
    uint64_t n;
    for (n = 0; n < max_n;) {
        int s = dial(p->srv, PORT_CHURN);
        if (write(s, msg, REQ) != REQ) bench_die("write");
        read_full(s, buf, REQ);
        close(s);
        n++;
        if ((n & 63) == 0 && bench_wall_ns() - w0 > secs * 1e9) break;
    }
    double w1 = bench_wall_ns();
    proc_sample(0, &c1);
    proc_sample(p->pid, &s1);
    uint64_t rx1 = dev_stat(p->dev, 1), tx1 = dev_stat(p->dev, 9);
    pcost cc = pcost_delta(&c0, &c1), sc = pcost_delta(&s0, &s1);
    double per = (double)n, cpu = cc.cpu_ns + sc.cpu_ns;
    bench_json j;
    bj_begin(&j, "tun_churn", p->impl);
    bj_num(&j, "lifecycles", per);
    bj_num(&j, "conn_per_s", per * 1e9 / cpu);
    bj_num(&j, "cpu_ns", cpu / per);
    bj_num(&j, "wall_ns", (w1 - w0) / per);
    bj_num(&j, "conn_per_s_wall", per * 1e9 / (w1 - w0));
    bj_cost(&j, "client", &cc, per);
    bj_cost(&j, "server", &sc, per);
    /* Packets each way. TUN: the kernel's tx goes to tcpwave. veth: twv0 is
     * the client's end, its tx goes to the server. */
    bj_num(&j, "pkts_to_server", (double)(tx1 - tx0) / per);
    bj_num(&j, "pkts_to_client", (double)(rx1 - rx0) / per);
    bj_num(&j, "time_wait_end", time_wait_count());
    bj_end(&j);
}

static void bulk(const path *p, uint64_t bytes) {
    static uint8_t src[WSIZE];
    for (uint32_t k = 0; k < WSIZE; k++) src[k] = (uint8_t)(k * 7 + 1);
    pcost c0, c1, s0, s1;
    uint64_t rx0 = dev_stat(p->dev, 1), tx0 = dev_stat(p->dev, 9);
    uint64_t txb0 = dev_stat(p->dev, 8);
    proc_sample(p->pid, &s0);
    proc_sample(0, &c0);
    double w0 = bench_wall_ns();
    int s = dial(p->srv, PORT_BULK);
    for (uint64_t sent = 0; sent < bytes;) {
        size_t want = bytes - sent < WSIZE ? (size_t)(bytes - sent) : WSIZE;
        ssize_t r = write(s, src, want);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) bench_die("bulk write: %s", strerror(errno));
        sent += (uint64_t)r;
    }
    shutdown(s, SHUT_WR);
    uint8_t c;
    if (read(s, &c, 1) != 0) bench_die("bulk: expected EOF"); /* the server read it all */
    double w1 = bench_wall_ns();
    proc_sample(0, &c1);
    proc_sample(p->pid, &s1);
    close(s);
    uint64_t rx1 = dev_stat(p->dev, 1), tx1 = dev_stat(p->dev, 9);
    uint64_t txb1 = dev_stat(p->dev, 8);
    pcost cc = pcost_delta(&c0, &c1), sc = pcost_delta(&s0, &s1);
    double cpu = cc.cpu_ns + sc.cpu_ns, mb = (double)bytes / 1e6;
    bench_json j;
    bj_begin(&j, "tun_bulk", p->impl);
    bj_num(&j, "bytes", (double)bytes);
    bj_num(&j, "gbit_per_s", (double)bytes * 8 / cpu);
    bj_num(&j, "gbit_per_s_wall", (double)bytes * 8 / (w1 - w0));
    bj_num(&j, "mbyte_per_s", (double)bytes * 1e3 / cpu);
    bj_num(&j, "mbyte_per_s_wall", (double)bytes * 1e3 / (w1 - w0));
    bj_num(&j, "cpu_s", cpu / 1e9);
    bj_num(&j, "wall_s", (w1 - w0) / 1e9);
    bj_cost(&j, "client", &cc, mb); /* per MB */
    bj_num(&j, "pkts_to_server_per_mb", (double)(tx1 - tx0) / mb);
    bj_num(&j, "pkts_to_client_per_mb", (double)(rx1 - rx0) / mb);
    bj_num(&j, "bytes_per_pkt_to_server",
           tx1 > tx0 ? (double)(txb1 - txb0) / (double)(tx1 - tx0) : 0);
    bj_cost(&j, "server", &sc, mb);
    bj_end(&j);
}

/* ---------------------------------------------------------------- raw TUN costs */

static uint16_t csum16(const uint8_t *p, size_t n) {
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1) s += (uint32_t)p[n - 1] << 8;
    while (s >> 16) s = (s & 0xFFFF) + (s >> 16);
    return (uint16_t)~s;
}

/* An IPv4 ICMP echo request of `len` bytes from 198.18.4.2 to the kernel's
 * 198.18.4.1; with bad_ip_csum the kernel drops it in ip_rcv at once. */
static size_t echo_pkt(uint8_t *b, size_t len, uint16_t seq, bool bad_ip_csum) {
    memset(b, 0, len);
    b[0] = 0x45;
    b[2] = (uint8_t)(len >> 8), b[3] = (uint8_t)len;
    b[6] = 0x40; /* DF */
    b[8] = 64, b[9] = 1;
    uint32_t src = htonl(NET(4) | 2), dst = htonl(NET(4) | 1);
    memcpy(b + 12, &src, 4);
    memcpy(b + 16, &dst, 4);
    uint16_t c = csum16(b, 20);
    if (bad_ip_csum) c ^= 0x5a5a;
    b[10] = (uint8_t)(c >> 8), b[11] = (uint8_t)c;
    uint8_t *ic = b + 20;
    ic[0] = 8;
    ic[4] = 0x12, ic[5] = 0x34;
    ic[6] = (uint8_t)(seq >> 8), ic[7] = (uint8_t)seq;
    for (size_t k = 28; k < len; k++) b[k] = (uint8_t)k;
    c = csum16(ic, len - 20);
    ic[2] = (uint8_t)(c >> 8), ic[3] = (uint8_t)c;
    return len;
}

static int open_tun_fd(const char *dev) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
    if (fd < 0) bench_die("open /dev/net/tun: %s", strerror(errno));
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", dev);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) bench_die("TUNSETIFF %s: %s", dev, strerror(errno));
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

/* Reads until `want` packets came (waiting briefly for stragglers). */
static uint64_t drain(int fd, uint8_t *buf, uint64_t want) {
    uint64_t got = 0;
    int idle = 0;
    while (got < want && idle < 200) {
        ssize_t r = read(fd, buf, 2048);
        if (r > 0) {
            got++;
            idle = 0;
        } else {
            idle++;
            usleep(100);
        }
    }
    return got;
}

/* Per-packet CPU ns (this thread's CPU clock: the kernel's work inside the
 * system call counts, time taken by other processes does not) of: write() of a packet the kernel
 * drops at once, write() of an ICMP echo request (the kernel's IP input,
 * ICMP and the reply's transmit to the TUN queue), read() of a queued
 * packet, read() of an empty queue (EAGAIN: a poll loop's last read), and one
 * trace line printed to a line-buffered /dev/null (as `tcpwave serve` does
 * for each event). Small packets are 92 bytes (a 64-byte payload), full ones
 * 1500. */
static void raw(uint64_t n) {
    int fd = open_tun_fd(TUN_RAW);
    /* The kernel starts sending through a new reader only after its link
     * watcher ran: wait until it answers an echo. */
    static uint8_t pkt[2048], buf[2048];
    bool ok = false;
    for (int i = 0; i < 300 && !ok; i++) {
        size_t len = echo_pkt(pkt, 92, (uint16_t)i, false);
        if (write(fd, pkt, len) != (ssize_t)len) bench_die("raw: write: %s", strerror(errno));
        usleep(10000);
        while (read(fd, buf, sizeof buf) > 0) ok = true;
    }
    if (!ok) bench_die("raw: the kernel never answered an echo on " TUN_RAW);
    const int B = 64;       /* below the device queue (500) */
    double r[2][4] = {{0}}; /* [small/full][write drop, write echo, read, -] */
    for (int sz = 0; sz < 2; sz++) {
        size_t len = sz ? 1500 : 92;
        uint64_t rounds = n / B, got = 0;
        double t_drop = 0, t_echo = 0, t_read = 0;
        echo_pkt(pkt, len, 0, true);
        for (uint64_t k = 0; k < rounds; k++) {
            double t0 = bench_cpu_ns();
            for (int i = 0; i < B; i++)
                if (write(fd, pkt, len) != (ssize_t)len)
                    bench_die("raw: write: %s", strerror(errno));
            t_drop += bench_cpu_ns() - t0;
        }
        for (uint64_t k = 0; k < rounds; k++) {
            echo_pkt(pkt, len, (uint16_t)k, false);
            double t0 = bench_cpu_ns();
            for (int i = 0; i < B; i++)
                if (write(fd, pkt, len) != (ssize_t)len)
                    bench_die("raw: write: %s", strerror(errno));
            double t1 = bench_cpu_ns();
            int cnt = 0;
            while (cnt < B && read(fd, buf, sizeof buf) > 0) cnt++;
            t_read += bench_cpu_ns() - t1;
            t_echo += t1 - t0;
            got += (uint64_t)cnt;
            if (cnt < B) got += drain(fd, buf, (uint64_t)(B - cnt));
        }
        if (got < rounds * B * 9 / 10)
            bench_die("raw: %llu of %llu echo replies", (unsigned long long)got,
                      (unsigned long long)(rounds * B));
        r[sz][0] = t_drop / (double)(rounds * B);
        r[sz][1] = t_echo / (double)(rounds * B);
        r[sz][2] = t_read / (double)got;
    }
    double t0 = bench_cpu_ns();
    for (uint64_t k = 0; k < n; k++) (void)!read(fd, buf, sizeof buf);
    double empty = (bench_cpu_ns() - t0) / (double)n;
    /* A trace line as serve prints it: line-buffered stdout on /dev/null. */
    FILE *dn = fopen("/dev/null", "w");
    double line = 0;
    if (dn) {
        setvbuf(dn, NULL, _IOLBF, 0);
        t0 = bench_cpu_ns();
        for (uint64_t k = 0; k < n; k++)
            fprintf(dn, "%4llu.%06llu  #%-3u <---  %-7s seq=%u ack=%u len=%u win=%u\n",
                    (unsigned long long)(k / 1000000), (unsigned long long)(k % 1000000),
                    (unsigned)(k & 255), "FIN|ACK", (unsigned)k * 7u, (unsigned)k * 13u, 0u,
                    65535u);
        line = (bench_cpu_ns() - t0) / (double)n;
        fclose(dn);
    }
    close(fd);
    bench_json j;
    bj_begin(&j, "tun_raw", "tun");
    bj_num(&j, "packets", (double)n);
    bj_num(&j, "write_drop_small_ns", r[0][0]);
    bj_num(&j, "write_echo_small_ns", r[0][1]);
    bj_num(&j, "read_small_ns", r[0][2]);
    bj_num(&j, "write_drop_full_ns", r[1][0]);
    bj_num(&j, "write_echo_full_ns", r[1][1]);
    bj_num(&j, "read_full_ns", r[1][2]);
    bj_num(&j, "read_empty_ns", empty);
    bj_num(&j, "trace_line_ns", line);
    bj_end(&j);
}

/* ---------------------------------------------------------------- main */

static pid_t g_kids[4]; /* serve (churn), serve (bulk), veth server, library server */

static void cleanup(void) {
    for (int i = 0; i < 4; i++) {
        if (g_kids[i] > 0) stop_child(g_kids[i], i == 2 ? SIGKILL : SIGTERM);
        g_kids[i] = 0;
    }
    /* The namespace takes its devices with it; deleting them is tidier. */
    sh("ip link del " TUN_CHURN " 2>/dev/null; ip link del " TUN_BULK " 2>/dev/null; "
       "ip link del " TUN_RAW " 2>/dev/null; ip link del " TUN_LIB
       " 2>/dev/null; ip link del " VETH_C " 2>/dev/null; true");
}

int main(int argc, char **argv) {
    bench_check_args(
        argc, argv,
        "--bulk-bytes= --churn-max= --churn-seconds= --only= --raw-packets= --tcpwave= --no-tun "
        "--no-veth --veth-first",
        "usage: bench_tun --tcpwave PATH [--churn-seconds S] [--bulk-bytes B] [--raw-packets N] "
        "[--veth-first] [--no-tun] [--no-veth] [--only serve|lib|veth|bulk-tun|bulk-veth|raw]\n");
    const char *tcpwave = bench_arg(argc, argv, "--tcpwave", NULL);
    double secs = bench_argf(argc, argv, "--churn-seconds", 2);
    uint64_t max_n = (uint64_t)bench_argf(argc, argv, "--churn-max", 1e7);
    uint64_t bytes = (uint64_t)bench_argf(argc, argv, "--bulk-bytes", 256 << 20);
    uint64_t raw_n = (uint64_t)bench_argf(argc, argv, "--raw-packets", 100000);
    bool veth_first = bench_flag(argc, argv, "--veth-first");
    const char *only = bench_arg(argc, argv, "--only", NULL);
#define WANT(name) (!only || strcmp(only, name) == 0)
    bool do_tun = !bench_flag(argc, argv, "--no-tun"),
         do_veth = !bench_flag(argc, argv, "--no-veth");
    if (do_tun && (!tcpwave || access(tcpwave, X_OK)))
        bench_die("--tcpwave PATH (the tcpwave CLI) is required for the TUN workloads");
    if (geteuid() != 0) bench_die("needs root (network namespaces, TUN and veth devices)");
    if (access("/dev/net/tun", R_OK | W_OK)) bench_die("no /dev/net/tun");
    if (unshare(CLONE_NEWNET)) bench_die("unshare(CLONE_NEWNET): %s", strerror(errno));
    check_isolated("lo", "fresh namespace");
    signal(SIGPIPE, SIG_IGN);
    /* Every workload is bounded: churn by --churn-seconds, the rest by this. */
    alarm((unsigned)(60 + 4 * secs + (double)bytes / 20e6));
    if (sh("ip link set lo up")) bench_die("cannot bring lo up");
    write_file("/proc/sys/net/ipv4/ip_local_port_range", "1024 65535");
    atexit(cleanup);

    char want[128] = "lo";
    if (do_tun) {
        make_tun(TUN_CHURN, 0);
        make_tun(TUN_BULK, 2);
        make_tun(TUN_RAW, 4);
        make_tun(TUN_LIB, 6);
        strcat(want, " " TUN_CHURN " " TUN_BULK " " TUN_RAW " " TUN_LIB);
    }
    if (do_veth) {
        g_kids[2] = start_veth_server();
        strcat(want, " " VETH_C);
    }
    check_isolated(want, "client namespace");
    path pt = {"tcpwave_tun", TUN_CHURN, NET(0) | 2, 0, true};
    path pb = {"tcpwave_tun", TUN_BULK, NET(2) | 2, 0, true};
    path pv = {"linux_veth", VETH_C, NET(1) | 2, g_kids[2], false};
    path pl = {"tcpwave_tun_lib", TUN_LIB, NET(6) | 2, 0, true};
    if (do_tun) {
        pt.pid = g_kids[0] = start_serve(tcpwave, TUN_CHURN, 0, PORT_CHURN, "echo");
        pb.pid = g_kids[1] = start_serve(tcpwave, TUN_BULK, 2, PORT_BULK, "discard");
        if (!wait_listening(pt.srv, PORT_CHURN, 10) || !wait_listening(pb.srv, PORT_BULK, 10))
            bench_die("tcpwave serve did not answer over TUN within 10 s");
        pl.pid = g_kids[3] = start_lib_server();
        if (!wait_listening(pl.srv, PORT_CHURN, 10))
            bench_die("the library server did not answer over TUN within 10 s");
    }
    if (do_veth && !wait_listening(pv.srv, PORT_CHURN, 10))
        bench_die("the kernel server did not answer over veth within 10 s");

    const path *order[2] = {veth_first ? &pv : &pt, veth_first ? &pt : &pv};
    for (int i = 0; i < 2; i++)
        if (order[i]->tun ? do_tun && WANT("serve") : do_veth && WANT("veth"))
            churn(order[i], secs, max_n);
    if (do_tun && WANT("lib")) churn(&pl, secs, max_n);
    const path *border[2] = {veth_first ? &pv : &pb, veth_first ? &pb : &pv};
    for (int i = 0; i < 2; i++)
        if (border[i]->tun ? do_tun && WANT("bulk-tun") : do_veth && WANT("bulk-veth"))
            bulk(border[i], bytes);
    if (do_tun && raw_n && WANT("raw")) raw(raw_n);
    return 0;
}
