/* tun.h - a tw_link over a Linux TUN device: /dev/net/tun opened with
 * IFF_TUN | IFF_NO_PI, so each read() or write() is exactly one IP packet
 * with no extra header. The fd is non-blocking and is what poll_fd() returns;
 * a driver waits on it (src/drive/tunloop.h) and calls recv() until it
 * returns 0.
 *
 * The device is found or made by name: TUNSETIFF attaches to an existing
 * persistent device (`ip tuntap add dev NAME mode tun`) or creates a new one
 * that disappears when the fd is closed. Either needs CAP_NET_ADMIN unless the
 * persistent device was made for this user. Giving the kernel side its
 * address and bringing the link up is left to `ip` (the README shows how):
 * tcpwave is the host at the other end of the point-to-point link, so the
 * kernel's address on the device is the peer tcpwave talks to.
 *
 * Errors are negative errno values (tw_errno.h codes are errno values too):
 * e.g. -ENOENT when /dev/net/tun is missing, -EPERM without CAP_NET_ADMIN,
 * -EBUSY when another process holds the device. */
#ifndef TW_LINK_TUN_H
#define TW_LINK_TUN_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwave/tw_link.h"

typedef struct tw_tun tw_tun;

typedef struct tw_tun_stats {
    uint64_t rx_packets, rx_bytes; /* read from the device (kernel -> tcpwave) */
    uint64_t tx_packets, tx_bytes; /* written to the device (tcpwave -> kernel) */
    uint64_t tx_dropped;           /* writes that failed (EAGAIN, link down, ...) */
    uint64_t rx_errors;            /* reads that failed other than EAGAIN */
} tw_tun_stats;

/* Opens the TUN device `name` (at most 15 characters, as IFNAMSIZ allows;
 * "" lets the kernel pick tunN). Returns 0 and sets *out, or a negative errno. */
int tw_tun_open(const char *name, tw_tun **out);
/* The link (owned by the tw_tun; valid until tw_tun_free). send() writes one
 * packet and returns 0 or a negative errno (-TW_EAGAIN when the device queue
 * is full: the packet is dropped and TCP recovers it); recv() reads one
 * packet, returning its length, 0 when none is waiting, or a negative errno;
 * next_arrival() is UINT64_MAX; close() closes the fd. */
tw_link *tw_tun_link(tw_tun *t);
/* The device's name as the kernel knows it (e.g. after "" picked one). */
const char *tw_tun_name(const tw_tun *t);
/* Waits (at most timeout_ns, polling every 10 ms) until the kernel reports
 * the device IFF_UP and IFF_RUNNING. Right after a device gets its reader,
 * the kernel turns the carrier on but starts transmitting only when its
 * link watcher runs, up to a second later: until then whatever the kernel
 * sends to tcpwave is dropped (e.g. the SYN+ACK to our first SYN), which a
 * tool can avoid by waiting here before it sends. Returns 0 when running,
 * -TW_EAGAIN on timeout (e.g. nobody ran `ip link set DEV up`), or a
 * negative errno from SIOCGIFFLAGS. */
int tw_tun_wait_running(const tw_tun *t, uint64_t timeout_ns);
/* The device's MTU from the kernel (SIOCGIFMTU), or a negative errno. */
int tw_tun_mtu(const tw_tun *t);
void tw_tun_get_stats(const tw_tun *t, tw_tun_stats *out);
/* Closes the fd (if the link's close() did not already) and frees `t`. */
void tw_tun_free(tw_tun *t);

#endif
