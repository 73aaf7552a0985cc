/* bench_linux.c - the Linux kernel peer of the benchmarks: the same program
 * shapes as the tcpwave benches, over loopback sockets.
 *
 * Run it only the way bench/run does: inside a fresh network namespace
 * (`unshare -n`, then `ip link set lo up mtu 1500` so that the MSS is 1460)
 * and pinned to one CPU with taskset. It refuses to run when it sees any
 * network interface besides lo, so it never touches a real network.
 *
 * A server process (forked; epoll, non-blocking) and a blocking client run
 * on the same CPU. CPU time is user + system time of both processes
 * (getrusage); wall time is reported too.
 *
 *   --mode churn   --lifecycles N [--max-seconds S]: connect, 64-byte
 *                  request, 64-byte reply, close (client first, so the
 *                  client's side holds TIME_WAIT for the kernel's 60 s).
 *   --mode bulk    --bytes B [--write 65536]: one connection, B bytes one
 *                  way in 64 KiB writes, read into a 64 KiB buffer.
 *   --mode latency --rounds N: 1-byte ping-pong, TCP_NODELAY both ends. */
#define _GNU_SOURCE
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define REQ 64
#define PORT 5555

static void only_loopback(void) {
    FILE *f = fopen("/proc/net/dev", "r");
    if (!f) bench_die("cannot read /proc/net/dev");
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (!colon) continue;
        *colon = 0;
        char *name = line;
        while (*name == ' ') name++;
        if (strcmp(name, "lo") != 0) {
            fclose(f);
            bench_die("interface %s present: run me in a fresh network namespace (bench/run does)",
                      name);
        }
        n++;
    }
    fclose(f);
    if (n != 1) bench_die("no loopback interface");
}

static struct sockaddr_in lo_addr(void) {
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(PORT);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

static double tv_ns(struct timeval tv) {
    return (double)tv.tv_sec * 1e9 + (double)tv.tv_usec * 1e3;
}

static double rusage_ns(int who) {
    struct rusage ru;
    getrusage(who, &ru);
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
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

/* ---- the server: epoll, non-blocking ---- */

enum { SRV_CHURN, SRV_SINK, SRV_ECHO };

static int listen_sock(void) {
    int l = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = lo_addr();
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1024))
        bench_die("bind/listen: %s", strerror(errno));
    return l;
}

static void server(int l, int kind, int ready_fd) {
    int ep = epoll_create1(0);
    struct epoll_event e = {.events = EPOLLIN, .data.fd = l};
    epoll_ctl(ep, EPOLL_CTL_ADD, l, &e);
    static uint8_t buf[1 << 16];
    static uint8_t got[1 << 16];
    if (write(ready_fd, "r", 1) != 1) _exit(2);
    close(ready_fd);
    struct epoll_event evs[64];
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) _exit(3);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == l) {
                int c;
                while ((c = accept4(l, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= (int)sizeof got) _exit(4);
                    got[c] = 0;
                    int one = 1;
                    if (kind == SRV_ECHO) setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            for (;;) {
                ssize_t r = read(fd, buf, sizeof buf);
                if (r > 0) {
                    if (kind == SRV_CHURN) {
                        got[fd] = (uint8_t)(got[fd] + r);
                        if (got[fd] == REQ && write(fd, buf, REQ) != REQ) _exit(5);
                    } else if (kind == SRV_ECHO) {
                        if (write(fd, buf, (size_t)r) != r) _exit(5);
                    }
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

static pid_t start_server(int kind) {
    int l = listen_sock();
    int p[2];
    if (pipe(p)) bench_die("pipe");
    pid_t pid = fork();
    if (pid < 0) bench_die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the client */
        if (getppid() == 1) _exit(0);
        close(p[0]);
        server(l, kind, p[1]);
        _exit(0);
    }
    close(l);
    close(p[1]);
    char c;
    if (read(p[0], &c, 1) != 1) bench_die("server did not start");
    close(p[0]);
    return pid;
}

/* Stops the server and returns its CPU ns (user + system). */
static double stop_server(pid_t pid) {
    kill(pid, SIGKILL);
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid) bench_die("wait4");
    return tv_ns(ru.ru_utime) + tv_ns(ru.ru_stime);
}

static int dial(bool nodelay) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) bench_die("socket: %s", strerror(errno));
    if (nodelay) {
        int one = 1;
        setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    struct sockaddr_in a = lo_addr();
    if (connect(s, (struct sockaddr *)&a, sizeof a)) bench_die("connect: %s", strerror(errno));
    return s;
}

static void read_full(int s, uint8_t *b, size_t n) {
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(s, b + got, n - got);
        if (r <= 0) bench_die("read: %s", r == 0 ? "EOF" : strerror(errno));
        got += (size_t)r;
    }
}

static void run_churn(uint64_t n, double max_s) {
    pid_t srv = start_server(SRV_CHURN);
    uint8_t msg[REQ], buf[REQ];
    memset(msg, 'x', sizeof msg);
    double c0 = rusage_ns(RUSAGE_SELF), w0 = bench_wall_ns();
    uint64_t i;
    for (i = 0; i < n; i++) {
        int s = dial(false);
        if (write(s, msg, REQ) != REQ) bench_die("write");
        read_full(s, buf, REQ);
        close(s);
        if (max_s > 0 && (i & 255) == 255 && bench_wall_ns() - w0 > max_s * 1e9) {
            i++;
            break;
        }
    }
    double w1 = bench_wall_ns(), c1 = rusage_ns(RUSAGE_SELF);
    int tw = time_wait_count();
    double srv_ns = stop_server(srv);
    double cpu_ns = (c1 - c0 + srv_ns) / (double)i;
    bench_json j;
    bj_begin(&j, "churn", "linux");
    bj_num(&j, "lifecycles", (double)i);
    bj_num(&j, "conn_per_s", 1e9 / cpu_ns);
    bj_num(&j, "cpu_ns", cpu_ns);
    bj_num(&j, "wall_ns", (w1 - w0) / (double)i);
    bj_num(&j, "conn_per_s_wall", (double)i * 1e9 / (w1 - w0));
    bj_num(&j, "time_wait_end", tw);
    bj_end(&j);
}

static void run_bulk(uint64_t bytes, uint32_t wsize) {
    pid_t srv = start_server(SRV_SINK);
    uint8_t *src = malloc(wsize);
    if (!src) bench_die("out of memory");
    for (uint32_t k = 0; k < wsize; k++) src[k] = (uint8_t)(k * 7 + 1);
    double c0 = rusage_ns(RUSAGE_SELF), w0 = bench_wall_ns();
    int s = dial(false);
    for (uint64_t sent = 0; sent < bytes;) {
        size_t want = bytes - sent < wsize ? (size_t)(bytes - sent) : wsize;
        ssize_t r = write(s, src, want);
        if (r <= 0) bench_die("write: %s", strerror(errno));
        sent += (uint64_t)r;
    }
    shutdown(s, SHUT_WR);
    uint8_t c;
    if (read(s, &c, 1) != 0) bench_die("bulk: expected EOF"); /* the server read everything */
    double w1 = bench_wall_ns(), c1 = rusage_ns(RUSAGE_SELF);
    close(s);
    double srv_ns = stop_server(srv);
    double cpu = c1 - c0 + srv_ns;
    bench_json j;
    bj_begin(&j, "bulk", "linux");
    bj_num(&j, "bytes", (double)bytes);
    bj_num(&j, "gbit_per_s", (double)bytes * 8 / cpu);
    bj_num(&j, "gbit_per_s_wall", (double)bytes * 8 / (w1 - w0));
    bj_num(&j, "cpu_s", cpu / 1e9);
    bj_num(&j, "wall_s", (w1 - w0) / 1e9);
    bj_end(&j);
    free(src);
}

static void run_latency(uint64_t rounds) {
    pid_t srv = start_server(SRV_ECHO);
    int s = dial(true);
    double *rt = malloc(sizeof *rt * rounds);
    if (!rt) bench_die("out of memory");
    uint8_t b = 'p';
    for (int i = 0; i < 2000; i++) { /* warm-up, as in bench_flow */
        if (write(s, &b, 1) != 1) bench_die("write");
        read_full(s, &b, 1);
    }
    double c0 = rusage_ns(RUSAGE_SELF);
    for (uint64_t i = 0; i < rounds; i++) {
        double t0 = bench_wall_ns();
        if (write(s, &b, 1) != 1) bench_die("write");
        read_full(s, &b, 1);
        rt[i] = bench_wall_ns() - t0;
    }
    double c1 = rusage_ns(RUSAGE_SELF);
    close(s);
    double srv_ns = stop_server(srv);
    bench_json j;
    bj_begin(&j, "latency", "linux");
    bj_num(&j, "rounds", (double)rounds);
    bj_num(&j, "cpu_ns", (c1 - c0 + srv_ns) / (double)rounds);
    bj_num(&j, "p50_ns", bench_quantile(rt, rounds, 0.50));
    bj_num(&j, "p99_ns", bench_quantile(rt, rounds, 0.99));
    bj_end(&j);
    free(rt);
}

int main(int argc, char **argv) {
    bench_check_args(argc, argv, "--bytes= --lifecycles= --max-seconds= --mode= --rounds= --write=",
                     "usage: bench_linux [--mode churn|bulk|latency] [--lifecycles N] "
                     "[--max-seconds S] [--bytes N] [--write N] [--rounds N]\n");
    only_loopback();
    signal(SIGPIPE, SIG_IGN);
    const char *mode = bench_arg(argc, argv, "--mode", "churn");
    if (strcmp(mode, "churn") == 0)
        run_churn((uint64_t)bench_argf(argc, argv, "--lifecycles", 50000),
                  bench_argf(argc, argv, "--max-seconds", 10));
    else if (strcmp(mode, "bulk") == 0)
        run_bulk((uint64_t)bench_argf(argc, argv, "--bytes", 1 << 30),
                 (uint32_t)bench_argf(argc, argv, "--write", 65536));
    else if (strcmp(mode, "latency") == 0)
        run_latency((uint64_t)bench_argf(argc, argv, "--rounds", 100000));
    else
        bench_die("unknown --mode %s", mode);
    return 0;
}
