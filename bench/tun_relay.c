/* tun_relay.c - a small netem substitute: forwards IPv4 packets between two
 * TUN devices with a seeded loss probability, a fixed one-way delay and an
 * optional rate limit, so that the Linux kernel's TCP can be measured over a
 * lossy, long path on a machine without sch_netem (bench/kernel_grid.sh).
 *
 *   kernel (client ns) -- TUN A --> tun_relay --> TUN B -- kernel (server ns)
 *                      <-------------  (the same, the other way)
 *
 * Each direction is its own link: a bounded FIFO of packets, each with the
 * time it leaves. A packet read from one device is lost with probability
 * --loss (its own seeded generator per direction, so a run with the same
 * seed and the same packet order drops the same packets), else queued to
 * leave --delay-ms later; with --rate-mbit it first waits for the link to
 * finish sending the packets ahead of it (a serialisation delay of
 * len*8/rate), as netem's rate does. The queue bound (--queue, packets) holds
 * every packet not yet delivered, waiting or in flight, as netem's limit
 * does; a packet that finds it full is dropped and counted. Delivery is
 * driven by ppoll() with a nanosecond timeout (timer slack 1 us), so the
 * delay is accurate to tens of microseconds on an idle machine.
 *
 * The devices are attached by name (TUNSETIFF, IFF_TUN | IFF_NO_PI). With
 * --netns-a/--netns-b the relay enters that network namespace (setns) to
 * attach the device and comes back: the file descriptor keeps working
 * wherever the process runs. A name that does not exist yet is created as a
 * non-persistent device (reported as "created"); kernel_grid.sh creates and
 * configures both devices first, so the relay only attaches.
 *
 * It prints "tun_relay: ready ..." on stderr once both devices are attached,
 * runs until SIGTERM/SIGINT or --max-seconds, then prints its counters on
 * stdout, one line per direction and a total:
 *   tun_relay: a->b rx N forwarded N lost N queue_full N not_ipv4 N too_big N write_err N
 * left_in_queue N tun_relay: total forwarded N dropped_loss N dropped_queue N Only IPv4 packets are
 * forwarded; anything else is dropped as not_ipv4.
 *
 * usage: tun_relay [--netns-a PATH] [--netns-b PATH] [--loss PCT]
 *                  [--delay-ms MS] [--rate-mbit R] [--queue N] [--seed N]
 *                  [--max-seconds S] DEV_A DEV_B
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/if_tun.h>
#include <math.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048u     /* largest packet queued: TUN MTU 1500 + slack */
#define READ_BYTES 65536u    /* one read; a longer packet would be truncated */
#define READ_BATCH 64        /* packets read from one device per wakeup */
#define QUEUE_MAX (1u << 20) /* upper bound of --queue */

typedef struct opts {
    const char *dev[2], *netns[2];
    double loss;       /* probability, 0..1 */
    uint64_t delay_ns; /* one way */
    double rate_bps;   /* 0: no rate limit */
    uint32_t queue;    /* packets per direction */
    uint64_t seed;
    double max_seconds;
} opts;

/* One direction of the path: packets read from in_fd wait in a FIFO ring
 * until their due time, then are written to out_fd. Due times never
 * decrease (fixed delay, one serialising link), so the head is always the
 * next to leave. */
typedef struct dir {
    const char *name;
    int in_fd, out_fd;
    uint8_t *data; /* queue slots of SLOT_BYTES */
    uint64_t *due; /* due time of each slot, CLOCK_MONOTONIC ns */
    uint16_t *len;
    uint32_t cap, head, count;
    uint64_t link_free; /* with a rate: when the link finishes the last packet */
    uint64_t rng;
    uint64_t rx, fwd, lost, qfull, not_ipv4, too_big, write_err;
} dir;

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) {
    stop_signal = sig;
}

static void usage(FILE *f) {
    fprintf(
        f,
        "usage: tun_relay [options] DEV_A DEV_B\n"
        "  forwards IPv4 packets between two TUN devices (IFF_TUN|IFF_NO_PI), both ways\n"
        "  --netns-a PATH   attach DEV_A inside this network namespace (e.g. /proc/PID/ns/net)\n"
        "  --netns-b PATH   the same for DEV_B\n"
        "  --loss PCT       loss probability per packet and direction, percent 0..100 (default 0)\n"
        "  --delay-ms MS    one-way delay of each direction, 0..60000 (default 0)\n"
        "  --rate-mbit R    rate limit of each direction in Mbit/s, 0 = off (default 0)\n"
        "  --queue N        packets queued per direction, 1..%u (default 8192)\n"
        "  --seed N         seed of the loss generators (default 1)\n"
        "  --max-seconds S  exit after S seconds, 0 = only on a signal (default 600)\n"
        "  counters are printed on stdout at exit (SIGTERM, SIGINT or --max-seconds)\n",
        QUEUE_MAX);
}

static void die_usage(const char *fmt, const char *arg) {
    fprintf(stderr, "tun_relay: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    usage(stderr);
    exit(2);
}

/* A finite number in [lo, hi], the whole argument, or exit with a message. */
static double parse_num(const char *opt, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi) {
        fprintf(stderr, "tun_relay: %s: '%s' is not a number in [%g, %g]\n", opt, s, lo, hi);
        usage(stderr);
        exit(2);
    }
    return v;
}

static void parse_args(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    o->queue = 8192;
    o->seed = 1;
    o->max_seconds = 600;
    int npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            exit(0);
        }
        if (a[0] == '-' && a[1] == '-') {
            if (i + 1 >= argc) die_usage("%s needs a value", a);
            const char *v = argv[++i];
            if (!strcmp(a, "--netns-a"))
                o->netns[0] = v;
            else if (!strcmp(a, "--netns-b"))
                o->netns[1] = v;
            else if (!strcmp(a, "--loss"))
                o->loss = parse_num(a, v, 0, 100) / 100.0;
            else if (!strcmp(a, "--delay-ms"))
                o->delay_ns = (uint64_t)(parse_num(a, v, 0, 60000) * 1e6 + 0.5);
            else if (!strcmp(a, "--rate-mbit"))
                o->rate_bps = parse_num(a, v, 0, 1e6) * 1e6;
            else if (!strcmp(a, "--queue")) {
                double q = parse_num(a, v, 1, QUEUE_MAX);
                if (q != (double)(uint32_t)q) die_usage("--queue: '%s' is not a whole number", v);
                o->queue = (uint32_t)q;
            } else if (!strcmp(a, "--seed")) {
                char *end;
                errno = 0;
                unsigned long long s = strtoull(v, &end, 0);
                if (errno || end == v || *end || v[0] == '-')
                    die_usage("--seed: '%s' is not an unsigned number", v);
                o->seed = (uint64_t)s;
            } else if (!strcmp(a, "--max-seconds"))
                o->max_seconds = parse_num(a, v, 0, 86400);
            else
                die_usage("unknown option %s", a);
            continue;
        }
        if (npos >= 2) die_usage("unexpected argument '%s' (two device names expected)", a);
        o->dev[npos++] = a;
    }
    if (npos != 2) die_usage("%s", "two TUN device names are needed: DEV_A DEV_B");
    for (int k = 0; k < 2; k++) {
        size_t n = strlen(o->dev[k]);
        if (n == 0 || n >= IFNAMSIZ || strchr(o->dev[k], '/') || strchr(o->dev[k], ' ') ||
            o->dev[k][0] == '-')
            die_usage("'%s' is not a valid interface name (1..15 characters, no '/' or space, not "
                      "starting with '-')",
                      o->dev[k]);
    }
    bool same_ns = (!o->netns[0] && !o->netns[1]) ||
                   (o->netns[0] && o->netns[1] && !strcmp(o->netns[0], o->netns[1]));
    if (same_ns && !strcmp(o->dev[0], o->dev[1]))
        die_usage("DEV_A and DEV_B are the same device '%s'", o->dev[0]);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* splitmix64: small, seedable, good enough for a loss coin. */
static uint64_t rng_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static bool coin(uint64_t *s, double p) {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return (double)(rng_next(s) >> 11) * 0x1.0p-53 < p;
}

/* Attaches to (or creates) TUN device `name`, inside the network namespace
 * at `ns` when given, and returns to the namespace of `home_fd`. Returns the
 * non-blocking fd, or exits with a message. */
static int tun_attach(const char *name, const char *ns, int home_fd) {
    int ns_fd = -1;
    if (ns) {
        ns_fd = open(ns, O_RDONLY | O_CLOEXEC);
        if (ns_fd < 0) {
            fprintf(stderr, "tun_relay: open %s: %s\n", ns, strerror(errno));
            exit(1);
        }
        if (setns(ns_fd, CLONE_NEWNET) < 0) {
            fprintf(stderr, "tun_relay: setns %s: %s (needs root)\n", ns, strerror(errno));
            exit(1);
        }
    }
    bool existed = if_nametoindex(name) != 0;
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "tun_relay: open /dev/net/tun: %s\n", strerror(errno));
        exit(1);
    }
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
        fprintf(stderr, "tun_relay: TUNSETIFF %s: %s%s\n", name, strerror(errno),
                errno == EINVAL  ? " (not a TUN device made with IFF_TUN|IFF_NO_PI?)"
                : errno == EBUSY ? " (already attached by another process?)"
                                 : "");
        exit(1);
    }
    fprintf(stderr, "tun_relay: %s %s%s%s\n", existed ? "attached" : "created", name,
            ns ? " in " : "", ns ? ns : "");
    if (ns) {
        if (setns(home_fd, CLONE_NEWNET) < 0) {
            fprintf(stderr, "tun_relay: setns back: %s\n", strerror(errno));
            exit(1);
        }
        close(ns_fd);
    }
    return fd;
}

static void dir_init(dir *d, const char *name, int in_fd, int out_fd, const opts *o,
                     uint64_t salt) {
    memset(d, 0, sizeof *d);
    d->name = name;
    d->in_fd = in_fd;
    d->out_fd = out_fd;
    d->cap = o->queue;
    d->data = malloc((size_t)o->queue * SLOT_BYTES);
    d->due = malloc((size_t)o->queue * sizeof *d->due);
    d->len = malloc((size_t)o->queue * sizeof *d->len);
    if (!d->data || !d->due || !d->len) {
        fprintf(stderr, "tun_relay: out of memory for a queue of %" PRIu32 " packets\n", o->queue);
        exit(1);
    }
    d->rng = o->seed ^ salt;
}

/* One packet of `n` bytes arrived at `now`: lose it, drop it, or queue it. */
static void dir_offer(dir *d, const opts *o, const uint8_t *pkt, size_t n, uint64_t now) {
    d->rx++;
    if (n < 20 || (pkt[0] >> 4) != 4) {
        d->not_ipv4++;
        return;
    }
    if (n > SLOT_BYTES) {
        d->too_big++;
        return;
    }
    if (coin(&d->rng, o->loss)) {
        d->lost++;
        return;
    }
    if (d->count == d->cap) {
        d->qfull++;
        return;
    }
    uint64_t leave = now;
    if (o->rate_bps > 0) {
        uint64_t start = d->link_free > now ? d->link_free : now;
        d->link_free = start + (uint64_t)((double)n * 8e9 / o->rate_bps);
        leave = d->link_free;
    }
    uint32_t tail = (d->head + d->count) % d->cap;
    memcpy(d->data + (size_t)tail * SLOT_BYTES, pkt, n);
    d->len[tail] = (uint16_t)n;
    d->due[tail] = leave + o->delay_ns;
    d->count++;
}

/* Writes every packet due by `now`; returns the next due time, or 0. */
static uint64_t dir_flush(dir *d, uint64_t now) {
    while (d->count) {
        if (d->due[d->head] > now) return d->due[d->head];
        ssize_t w = write(d->out_fd, d->data + (size_t)d->head * SLOT_BYTES, d->len[d->head]);
        if (w == (ssize_t)d->len[d->head])
            d->fwd++;
        else
            d->write_err++;
        d->head = (d->head + 1) % d->cap;
        d->count--;
    }
    return 0;
}

/* Reads up to READ_BATCH packets from the direction's input device. */
static void dir_read(dir *d, const opts *o, uint8_t *buf) {
    for (int i = 0; i < READ_BATCH; i++) {
        ssize_t n = read(d->in_fd, buf, READ_BYTES);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            fprintf(stderr, "tun_relay: read (%s): %s\n", d->name, strerror(errno));
            stop_signal = -1;
            return;
        }
        dir_offer(d, o, buf, (size_t)n, now_ns());
    }
}

static void dir_report(const dir *d) {
    printf("tun_relay: %s rx %" PRIu64 " forwarded %" PRIu64 " lost %" PRIu64 " queue_full %" PRIu64
           " not_ipv4 %" PRIu64 " too_big %" PRIu64 " write_err %" PRIu64 " left_in_queue %" PRIu32
           "\n",
           d->name, d->rx, d->fwd, d->lost, d->qfull, d->not_ipv4, d->too_big, d->write_err,
           d->count);
}

int main(int argc, char **argv) {
    opts o;
    parse_args(argc, argv, &o);

    int home_fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (home_fd < 0 && (o.netns[0] || o.netns[1])) {
        fprintf(stderr, "tun_relay: open /proc/self/ns/net: %s\n", strerror(errno));
        return 1;
    }
    int fd_a = tun_attach(o.dev[0], o.netns[0], home_fd);
    int fd_b = tun_attach(o.dev[1], o.netns[1], home_fd);
    if (home_fd >= 0) close(home_fd);

    static dir d[2];
    dir_init(&d[0], "a->b", fd_a, fd_b, &o, 0x0a0a0a0a0a0a0a0au);
    dir_init(&d[1], "b->a", fd_b, fd_a, &o, 0xb0b0b0b0b0b0b0b0u);
    uint8_t *buf = malloc(READ_BYTES);
    if (!buf) return 1;

    /* Signals stay blocked except inside ppoll(), so none is missed between
     * the check of stop_signal and the wait. */
    sigset_t block, waitmask;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    sigprocmask(SIG_BLOCK, &block, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    sigdelset(&waitmask, SIGHUP);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0); /* 1 us: the delay is the point */

    uint64_t start = now_ns();
    uint64_t end = o.max_seconds > 0 ? start + (uint64_t)(o.max_seconds * 1e9) : UINT64_MAX;
    fprintf(stderr,
            "tun_relay: ready: %s <-> %s, loss %g%%, delay %.3f ms, rate %s, queue %" PRIu32
            ", seed %" PRIu64 "\n",
            o.dev[0], o.dev[1], o.loss * 100, (double)o.delay_ns / 1e6,
            o.rate_bps > 0 ? "limited" : "off", o.queue, o.seed);
    if (o.rate_bps > 0)
        fprintf(stderr, "tun_relay: rate %.3f Mbit/s per direction\n", o.rate_bps / 1e6);

    struct pollfd pfd[2] = {{.fd = fd_a, .events = POLLIN}, {.fd = fd_b, .events = POLLIN}};
    while (!stop_signal) {
        uint64_t now = now_ns();
        if (now >= end) break;
        uint64_t next = end;
        for (int k = 0; k < 2; k++) {
            uint64_t due = dir_flush(&d[k], now);
            if (due && due < next) next = due;
        }
        uint64_t wait = next - now;
        struct timespec ts = {.tv_sec = (time_t)(wait / 1000000000u),
                              .tv_nsec = (long)(wait % 1000000000u)};
        int r = ppoll(pfd, 2, &ts, &waitmask);
        if (r < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "tun_relay: ppoll: %s\n", strerror(errno));
            break;
        }
        for (int k = 0; k < 2; k++) {
            if (pfd[k].revents & (POLLERR | POLLHUP | POLLNVAL)) {
                fprintf(stderr, "tun_relay: device %s: poll error (device deleted?)\n", o.dev[k]);
                stop_signal = -1;
            } else if (pfd[k].revents & POLLIN) {
                dir_read(&d[k], &o, buf);
            }
        }
    }
    if (stop_signal > 0)
        fprintf(stderr, "tun_relay: %s, exiting\n", strsignal(stop_signal));
    else if (stop_signal == 0)
        fprintf(stderr, "tun_relay: --max-seconds reached, exiting\n");

    dir_report(&d[0]);
    dir_report(&d[1]);
    printf("tun_relay: total forwarded %" PRIu64 " dropped_loss %" PRIu64 " dropped_queue %" PRIu64
           "\n",
           d[0].fwd + d[1].fwd, d[0].lost + d[1].lost, d[0].qfull + d[1].qfull);
    fflush(stdout);
    close(fd_a);
    close(fd_b);
    for (int k = 0; k < 2; k++) {
        free(d[k].data);
        free(d[k].due);
        free(d[k].len);
    }
    free(buf);
    return stop_signal < 0 ? 1 : 0;
}
