/* tun.c - owns the Linux TUN link (see tun.h): opening /dev/net/tun with
 * TUNSETIFF, the non-blocking read/write of one packet per call, and the
 * device's counters. The only Linux-specific file under src/link/. */
#define _GNU_SOURCE /* ioctl, struct ifreq, O_CLOEXEC, nanosleep: Linux/POSIX APIs */

#include "link/tun.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <tcpwave/tw_errno.h>

struct tw_tun {
    tw_link link; /* first: the link ops cast back to the tw_tun */
    int fd;
    char name[IFNAMSIZ];
    tw_tun_stats stats;
};

static int tun_send(tw_link *l, const uint8_t *pkt, size_t len, uint64_t now) {
    (void)now;
    tw_tun *t = (tw_tun *)l;
    if (t->fd < 0) return -TW_EBADF;
    ssize_t n;
    do {
        n = write(t->fd, pkt, len);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int e = errno;
        t->stats.tx_dropped++;
        /* EAGAIN: the device's queue is full. EIO: the interface is down.
         * Either way the packet is lost, as on a real wire. */
        return e == EWOULDBLOCK ? -TW_EAGAIN : -e;
    }
    t->stats.tx_packets++;
    t->stats.tx_bytes += (uint64_t)n;
    return 0;
}

static int tun_recv(tw_link *l, uint8_t *buf, size_t cap, uint64_t now) {
    (void)now;
    tw_tun *t = (tw_tun *)l;
    if (t->fd < 0) return -TW_EBADF;
    ssize_t n;
    do {
        n = read(t->fd, buf, cap);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        t->stats.rx_errors++;
        return -errno;
    }
    if (n == 0) return 0;
    t->stats.rx_packets++;
    t->stats.rx_bytes += (uint64_t)n;
    return (int)n;
}

static uint64_t tun_next_arrival(tw_link *l) {
    (void)l;
    return UINT64_MAX; /* a real device: only the fd says when */
}

static int tun_poll_fd(tw_link *l) {
    return ((tw_tun *)l)->fd;
}

static void tun_close(tw_link *l) {
    tw_tun *t = (tw_tun *)l;
    if (t->fd >= 0) close(t->fd);
    t->fd = -1;
}

static const struct tw_link_ops tun_ops = {
    tun_send, tun_recv, tun_next_arrival, tun_poll_fd, tun_close,
};

int tw_tun_open(const char *name, tw_tun **out) {
    if (!name || strlen(name) >= IFNAMSIZ) return -TW_EINVAL;
    tw_tun *t = calloc(1, sizeof *t);
    if (!t) return -TW_ENOMEM;
    t->link.ops = &tun_ops;
    int rc;
    t->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (t->fd < 0) goto fail_errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    /* IFF_TUN: IP packets, no Ethernet header. IFF_NO_PI: no 4-byte packet
     * information prefix, so a read is exactly one IPv4 packet. */
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
    memcpy(ifr.ifr_name, name, strlen(name));
    if (ioctl(t->fd, TUNSETIFF, &ifr) < 0) goto fail_errno;
    memcpy(t->name, ifr.ifr_name, IFNAMSIZ);
    t->name[IFNAMSIZ - 1] = '\0';
    *out = t;
    return 0;
fail_errno:
    rc = -errno;
    if (t->fd >= 0) close(t->fd);
    free(t);
    return rc;
}

tw_link *tw_tun_link(tw_tun *t) {
    return &t->link;
}
const char *tw_tun_name(const tw_tun *t) {
    return t->name;
}

int tw_tun_mtu(const tw_tun *t) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
    int rc = ioctl(s, SIOCGIFMTU, &ifr) < 0 ? -errno : ifr.ifr_mtu;
    close(s);
    return rc;
}

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int tw_tun_wait_running(const tw_tun *t, uint64_t timeout_ns) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return -errno;
    uint64_t end = mono_ns() + timeout_ns;
    int rc;
    for (;;) {
        struct ifreq ifr;
        memset(&ifr, 0, sizeof ifr);
        memcpy(ifr.ifr_name, t->name, IFNAMSIZ);
        if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
            rc = -errno;
            break;
        }
        /* IFF_RUNNING mirrors the operational state the link watcher sets. */
        if ((ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING)) {
            rc = 0;
            break;
        }
        if (mono_ns() >= end) {
            rc = -TW_EAGAIN;
            break;
        }
        struct timespec pause = {0, 10000000};
        nanosleep(&pause, NULL);
    }
    close(s);
    return rc;
}

void tw_tun_get_stats(const tw_tun *t, tw_tun_stats *out) {
    *out = t->stats;
}

void tw_tun_free(tw_tun *t) {
    if (!t) return;
    tun_close(&t->link);
    free(t);
}
