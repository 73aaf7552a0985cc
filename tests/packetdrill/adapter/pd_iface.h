/* pd_iface.h - our own declaration of the table of functions that packetdrill
 * loads from a shared object given with --so_filename= (packetdrill's public
 * "packetdrill_interface"): packetdrill calls the exported
 *     void packetdrill_interface_init(const char *flags, struct pd_iface *ifc);
 * with the --so_flags= string, and then goes through the function pointers for
 * every socket call, to inject (netdev_send) and sniff (netdev_receive) raw
 * IPv4 packets, and for its clock (usleep, gettimeofday), so the stack under
 * test can run on a virtual clock. packetdrill reads its clock only through
 * gettimeofday, sleeps through usleep when an event is far away, and spins
 * on gettimeofday for the last stretch (and for short waits).
 *
 * Written from packetdrill's documented interface, not copied; the member
 * order is what the ABI depends on. We declare the members up to
 * gettimeofday only: if a packetdrill version has more members after it
 * (epoll, pipe, ...) they stay NULL, and we never write past what every
 * version has. packetdrill zero-fills the table before calling us. */
#ifndef TW_PD_IFACE_H
#define TW_PD_IFACE_H

#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

struct pd_iface {
    void *userdata; /* handed back as the first argument of every call */
    void (*free)(void *userdata);
    int (*socket)(void *userdata, int domain, int type, int protocol);
    int (*bind)(void *userdata, int fd, const struct sockaddr *addr, socklen_t len);
    int (*listen)(void *userdata, int fd, int backlog);
    int (*accept)(void *userdata, int fd, struct sockaddr *addr, socklen_t *len);
    int (*connect)(void *userdata, int fd, const struct sockaddr *addr, socklen_t len);
    ssize_t (*read)(void *userdata, int fd, void *buf, size_t n);
    ssize_t (*readv)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*recv)(void *userdata, int fd, void *buf, size_t n, int flags);
    ssize_t (*recvfrom)(void *userdata, int fd, void *buf, size_t n, int flags,
                        struct sockaddr *addr, socklen_t *len);
    ssize_t (*recvmsg)(void *userdata, int fd, struct msghdr *msg, int flags);
    ssize_t (*write)(void *userdata, int fd, const void *buf, size_t n);
    ssize_t (*writev)(void *userdata, int fd, const struct iovec *iov, int iovcnt);
    ssize_t (*send)(void *userdata, int fd, const void *buf, size_t n, int flags);
    ssize_t (*sendto)(void *userdata, int fd, const void *buf, size_t n, int flags,
                      const struct sockaddr *addr, socklen_t len);
    ssize_t (*sendmsg)(void *userdata, int fd, const struct msghdr *msg, int flags);
    int (*fcntl)(void *userdata, int fd, int cmd, ...);
    int (*ioctl)(void *userdata, int fd, unsigned long request, ...);
    int (*close)(void *userdata, int fd);
    int (*shutdown)(void *userdata, int fd, int how);
    int (*getsockopt)(void *userdata, int fd, int level, int name, void *val, socklen_t *len);
    int (*setsockopt)(void *userdata, int fd, int level, int name, const void *val, socklen_t len);
    int (*poll)(void *userdata, struct pollfd *fds, nfds_t nfds, int timeout_ms);
    /* A packet from the script to the stack: 0 or -1. */
    int (*netdev_send)(void *userdata, const void *buf, size_t count);
    /* The next packet the stack sent: *count is the buffer size on entry and
     * the packet length on return; *time_usecs its send time in microseconds
     * on the clock of gettimeofday. Returns 0. packetdrill calls again after
     * -1 (for ever), so when nothing will ever come the answer is 0 with
     * *count = 0: packetdrill cannot parse an empty packet and fails the
     * script line that expected one. */
    int (*netdev_receive)(void *userdata, void *buf, size_t *count, long long *time_usecs);
    int (*usleep)(void *userdata, useconds_t usec);
    int (*gettimeofday)(void *userdata, struct timeval *tv, void *tz);
};

typedef void (*pd_iface_init_fn)(const char *flags, struct pd_iface *ifc);

#endif
