/* adapter_sock.c - the packetdrill adapter's socket calls, mapped onto
 * tcpwave's socket API with POSIX/Linux semantics: real descriptor numbers
 * (each socket holds an open /dev/null so the number is the process's own),
 * -1 with errno, blocking calls that really block (on the adapter's
 * condition variable, woken after every step of the stack) unless the socket
 * is non-blocking, connect() answering EINPROGRESS/EALREADY/EISCONN as Linux
 * does, close() with SO_LINGER {1, 0} aborting with RST, SO_ERROR returning
 * and clearing the error that ended the connection. Every call ends with a
 * step of the stack, so what it queued is on the wire before it returns. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "adapter.h"

/* ---- descriptors ---- */

static ad_fd *get(adapter *a, int fd) {
    if (a->broken || fd < 0 || fd >= a->nfds || !a->fds[fd].used) return NULL;
    return &a->fds[fd];
}

static int reserve(adapter *a, int h) {
    int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd < 0) return -1;
    if (fd >= a->nfds) {
        int n = fd + 16;
        ad_fd *nf = realloc(a->fds, (size_t)n * sizeof *nf);
        if (!nf) {
            close(fd);
            errno = ENOMEM;
            return -1;
        }
        memset(nf + a->nfds, 0, (size_t)(n - a->nfds) * sizeof *nf);
        a->fds = nf;
        a->nfds = n;
    }
    memset(&a->fds[fd], 0, sizeof a->fds[fd]);
    a->fds[fd].used = true;
    a->fds[fd].h = h;
    return fd;
}

static void release(adapter *a, int fd) {
    a->fds[fd].used = false;
    close(fd);
}

void ad_sock_event(adapter *a, const tw_event *ev) {
    for (int i = 0; i < a->nfds; i++) {
        ad_fd *f = &a->fds[i];
        if (!f->used || f->h != ev->sock) continue;
        if ((ev->what & TW_EVT_CLOSED) && ev->err) f->so_error = ev->err;
        if (ev->what & TW_EVT_ACCEPTABLE) f->acceptable = true;
    }
}

/* At its end packetdrill closes the descriptors the script left open with
 * the real close(), before it frees us: only close what is still our
 * /dev/null, not a number the process has reused since. */
void ad_sock_free_all(adapter *a) {
    struct stat null_st, st;
    bool have_null = stat("/dev/null", &null_st) == 0;
    for (int i = 0; i < a->nfds; i++) {
        if (!a->fds[i].used) continue;
        a->fds[i].used = false;
        if (have_null && fstat(i, &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == null_st.st_rdev)
            close(i);
    }
}

static int from_tw(int rc) {
    return rc < 0 ? ad_fail(-rc) : rc;
}

/* As in Linux, a call that reports the connection's error consumes it. */
static void consume_error(adapter *a, int fd, long rc) {
    ad_fd *f = get(a, fd);
    if (f && rc == -1 && errno == f->so_error) f->so_error = 0;
}

static int take_error(ad_fd *f, int dflt) {
    int e = f->so_error ? f->so_error : dflt;
    f->so_error = 0;
    return e;
}

static tw_state state_of(adapter *a, const ad_fd *f) {
    tw_sock_info info;
    return tw_sock_info_get(a->st, f->h, &info) ? TW_CLOSED : info.state;
}

static bool sockaddr_in_ok(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out) {
    if (!sa || len < (socklen_t)sizeof *out) return false;
    memcpy(out, sa, sizeof *out);
    return out->sin_family == AF_INET;
}

/* ---- calls (mutex held) ---- */

static int do_socket(adapter *a, int domain, int type, int protocol) {
    if (a->broken) return ad_fail(EINVAL);
    if (domain != AF_INET) return ad_fail(EAFNOSUPPORT);
    if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != SOCK_STREAM) return ad_fail(EPROTONOSUPPORT);
    if (protocol != 0 && protocol != IPPROTO_TCP) return ad_fail(EPROTONOSUPPORT);
    int h = tw_socket(a->st);
    if (h < 0) return from_tw(h);
    int fd = reserve(a, h);
    if (fd < 0) {
        tw_close(a->st, h);
        return -1;
    }
    a->fds[fd].nonblock = (type & SOCK_NONBLOCK) != 0;
    return fd;
}

static int do_bind(adapter *a, int fd, const struct sockaddr *sa, socklen_t len) {
    ad_fd *f = get(a, fd);
    struct sockaddr_in sin;
    if (!f) return ad_fail(EBADF);
    if (!sockaddr_in_ok(sa, len, &sin)) return ad_fail(EINVAL);
    uint32_t ip = ntohl(sin.sin_addr.s_addr);
    if (ip != INADDR_ANY && ip != a->set.cfg.addr) return ad_fail(EADDRNOTAVAIL);
    return from_tw(tw_bind(a->st, f->h, ntohs(sin.sin_port)));
}

static int do_accept(adapter *a, int fd, struct sockaddr *sa, socklen_t *len) {
    bool waited = false;
    for (;;) {
        ad_fd *f = get(a, fd); /* the table may move while we wait */
        if (!f) return ad_fail(EBADF);
        uint32_t raddr;
        uint16_t rport;
        int h = tw_accept(a->st, f->h, &raddr, &rport);
        if (h == -TW_EAGAIN) {
            f->acceptable = false;
            if (f->nonblock) return ad_fail(EAGAIN);
            ad_wait(a);
            waited = true;
            continue;
        }
        if (h < 0) return from_tw(h);
        int nfd = reserve(a, h);
        if (nfd < 0) {
            tw_abort(a->st, h);
            return -1;
        }
        a->fds[nfd].connect_state = 2;
        if (sa && len) {
            struct sockaddr_in sin;
            memset(&sin, 0, sizeof sin);
            sin.sin_family = AF_INET;
            sin.sin_addr.s_addr = htonl(raddr);
            sin.sin_port = htons(rport);
            socklen_t n = *len < (socklen_t)sizeof sin ? *len : (socklen_t)sizeof sin;
            memcpy(sa, &sin, n);
            *len = sizeof sin;
        }
        if (waited) ad_returning(a);
        return nfd;
    }
}

static int do_connect(adapter *a, int fd, const struct sockaddr *sa, socklen_t len) {
    ad_fd *f = get(a, fd);
    struct sockaddr_in sin;
    if (!f) return ad_fail(EBADF);
    if (f->connect_state == 0) {
        if (!sockaddr_in_ok(sa, len, &sin)) return ad_fail(EINVAL);
        int rc = tw_connect(a->st, f->h, ntohl(sin.sin_addr.s_addr), ntohs(sin.sin_port));
        if (rc < 0) return from_tw(rc);
        f->connect_state = 1;
        ad_step(a); /* the SYN */
        if (f->nonblock) return ad_fail(EINPROGRESS);
    } else if (f->connect_state == 2) {
        return ad_fail(EISCONN);
    } else if (f->nonblock) {
        tw_state s = state_of(a, f);
        if (s == TW_SYN_SENT || s == TW_SYN_RECEIVED) return ad_fail(EALREADY);
    }
    bool waited = false;
    for (;;) {
        f = get(a, fd);
        if (!f) return ad_fail(EBADF);
        tw_state s = state_of(a, f);
        if (s == TW_CLOSED) {
            f->connect_state = 0;
            if (waited) ad_returning(a);
            return ad_fail(take_error(f, ECONNABORTED));
        }
        if (s != TW_SYN_SENT && s != TW_SYN_RECEIVED) break;
        ad_wait(a);
        waited = true;
    }
    f->connect_state = 2;
    if (waited) ad_returning(a);
    return 0;
}

/* One receive: blocks (if allowed) until data, end of stream or an error. */
static ssize_t recv_once(adapter *a, int fd, void *buf, size_t n, bool may_block, bool *waited) {
    for (;;) {
        ad_fd *f = get(a, fd);
        if (!f) return ad_fail(EBADF);
        int rc = tw_recv(a->st, f->h, buf, n);
        if (rc == -TW_EAGAIN && !f->nonblock && may_block) {
            ad_wait(a);
            *waited = true;
            continue;
        }
        return from_tw(rc);
    }
}

/* One send: queues what fits, blocking until something fits if allowed. */
static ssize_t send_once(adapter *a, int fd, const void *buf, size_t n, bool may_block,
                         bool *waited) {
    for (;;) {
        ad_fd *f = get(a, fd);
        if (!f) return ad_fail(EBADF);
        int rc = tw_send(a->st, f->h, buf, n);
        if (rc == -TW_EAGAIN && !f->nonblock && may_block) {
            ad_wait(a);
            *waited = true;
            continue;
        }
        if (rc > 0) ad_step(a);
        return from_tw(rc);
    }
}

/* Scatter/gather over iovecs; blocking sends keep going until all is queued. */
static ssize_t do_io2(adapter *a, int fd, const struct iovec *iov, int iovcnt, bool out);

static ssize_t do_io(adapter *a, int fd, const struct iovec *iov, int iovcnt, bool out) {
    ssize_t r = do_io2(a, fd, iov, iovcnt, out);
    int e = errno;
    consume_error(a, fd, r);
    errno = e;
    return r;
}

static ssize_t do_io2(adapter *a, int fd, const struct iovec *iov, int iovcnt, bool out) {
    ssize_t total = 0;
    bool waited = false;
    if (iovcnt < 0) return ad_fail(EINVAL);
    for (int i = 0; i < iovcnt; i++) {
        size_t off = 0;
        while (off < iov[i].iov_len || (iov[i].iov_len == 0 && off == 0 && out)) {
            bool block = out ? true : total == 0;
            char *base = (char *)iov[i].iov_base + off;
            ssize_t r = out ? send_once(a, fd, base, iov[i].iov_len - off, block, &waited)
                            : recv_once(a, fd, base, iov[i].iov_len - off, block, &waited);
            if (r < 0) {
                if (total > 0 && (errno == EAGAIN || out)) goto done;
                if (waited) ad_returning(a);
                return -1;
            }
            total += r;
            off += (size_t)r;
            if (!out && (size_t)r < iov[i].iov_len) goto done; /* short read: stop */
            if (r == 0) break;
        }
    }
done:
    if (!out && total > 0) ad_step(a); /* the window may have opened */
    if (waited) ad_returning(a);
    return total;
}

static int do_close(adapter *a, int fd) {
    ad_fd *f = get(a, fd);
    if (!f) return ad_fail(EBADF);
    /* SO_LINGER {1, 0}: abort. A non-zero linger time would make Linux wait
     * for the FIN's ACK; tcpwave closes in the background either way. */
    int rc = (f->linger_on && f->linger == 0) ? tw_abort(a->st, f->h) : tw_close(a->st, f->h);
    release(a, fd);
    return from_tw(rc);
}

static int do_shutdown(adapter *a, int fd, int how) {
    ad_fd *f = get(a, fd);
    if (!f) return ad_fail(EBADF);
    if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) return ad_fail(EINVAL);
    int tw_how = how == SHUT_RD ? TW_SHUT_RD : how == SHUT_WR ? TW_SHUT_WR : TW_SHUT_RDWR;
    return from_tw(tw_shutdown(a->st, f->h, tw_how));
}

static int int_opt(const void *val, socklen_t len, int *out) {
    if (!val || len < (socklen_t)sizeof(int)) return ad_fail(EINVAL);
    memcpy(out, val, sizeof *out);
    return 0;
}

static int do_setsockopt(adapter *a, int fd, int level, int name, const void *val, socklen_t len) {
    ad_fd *f = get(a, fd);
    int v = 0;
    if (!f) return ad_fail(EBADF);
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l;
        if (!val || len < (socklen_t)sizeof l) return ad_fail(EINVAL);
        memcpy(&l, val, sizeof l);
        f->linger_on = l.l_onoff != 0;
        f->linger = l.l_linger;
        return 0;
    }
    if (level == SOL_SOCKET && name == SO_REUSEADDR) {
        if (int_opt(val, len, &v)) return -1;
        f->reuse = v != 0;
        return 0;
    }
    if (level == IPPROTO_TCP && name == TCP_NODELAY) {
        if (int_opt(val, len, &v)) return -1;
        f->nodelay = v != 0;
        return from_tw(tw_set_nodelay(a->st, f->h, f->nodelay));
    }
    return ad_fail(ENOPROTOOPT);
}

static int do_getsockopt(adapter *a, int fd, int level, int name, void *val, socklen_t *len) {
    ad_fd *f = get(a, fd);
    if (!f) return ad_fail(EBADF);
    if (!val || !len) return ad_fail(EFAULT);
    if (level == SOL_SOCKET && name == SO_LINGER) {
        struct linger l = {f->linger_on, f->linger};
        if (*len < (socklen_t)sizeof l) return ad_fail(EINVAL);
        memcpy(val, &l, sizeof l);
        *len = sizeof l;
        return 0;
    }
    int v;
    if (level == SOL_SOCKET && name == SO_ERROR)
        v = take_error(f, 0);
    else if (level == SOL_SOCKET && name == SO_REUSEADDR)
        v = f->reuse;
    else if (level == SOL_SOCKET && name == SO_TYPE)
        v = SOCK_STREAM;
    else if (level == IPPROTO_TCP && name == TCP_NODELAY)
        v = f->nodelay;
    else
        return ad_fail(ENOPROTOOPT);
    if (*len < (socklen_t)sizeof v) return ad_fail(EINVAL);
    memcpy(val, &v, sizeof v);
    *len = sizeof v;
    return 0;
}

/* poll() readiness of one of our descriptors. */
static short revents(adapter *a, const ad_fd *f, short want) {
    tw_sock_info info;
    if (tw_sock_info_get(a->st, f->h, &info)) return POLLNVAL;
    short r = 0;
    tw_state s = info.state;
    if (s == TW_LISTEN) return f->acceptable ? (short)(want & POLLIN) : 0;
    bool fin_or_dead = s == TW_CLOSE_WAIT || s == TW_LAST_ACK || s == TW_CLOSING ||
                       s == TW_TIME_WAIT || (s == TW_CLOSED && f->connect_state);
    if (info.unread > 0 || fin_or_dead) r |= POLLIN;
    if ((s == TW_ESTABLISHED || s == TW_CLOSE_WAIT) && info.unsent < a->set.cfg.sndbuf)
        r |= POLLOUT;
    r &= want;
    if (f->so_error) r |= POLLERR;
    if (s == TW_CLOSED && f->connect_state) r |= POLLHUP;
    return r;
}

static int do_poll(adapter *a, struct pollfd *fds, nfds_t nfds, int timeout_ms) {
    uint64_t until =
        timeout_ms < 0 ? UINT64_MAX : tw_stack_now(a->st) + (uint64_t)timeout_ms * 1000000u;
    bool waited = false;
    for (;;) {
        int ready = 0;
        for (nfds_t i = 0; i < nfds; i++) {
            ad_fd *f = get(a, fds[i].fd);
            fds[i].revents = f ? revents(a, f, fds[i].events) : (fds[i].fd < 0 ? 0 : POLLNVAL);
            if (fds[i].revents) ready++;
        }
        if (ready || tw_stack_now(a->st) >= until) {
            if (waited) ad_returning(a);
            return ready;
        }
        ad_wait(a);
        waited = true;
    }
}

/* ---- the table's entries: lock, call, step, unlock, keep errno ---- */

#define AD_CALL(u, expr)                                                                           \
    do {                                                                                           \
        adapter *a_ = (u);                                                                         \
        ad_enter(a_);                                                                              \
        long r_ = (long)(expr);                                                                    \
        int e_ = errno;                                                                            \
        if (!a_->broken) ad_step(a_);                                                              \
        ad_leave(a_);                                                                              \
        errno = e_;                                                                                \
        return r_;                                                                                 \
    } while (0)

static int e_socket(void *u, int d, int t, int p) {
    AD_CALL(u, do_socket(a_, d, t, p));
}
static int e_bind(void *u, int fd, const struct sockaddr *sa, socklen_t l) {
    AD_CALL(u, do_bind(a_, fd, sa, l));
}
static int e_listen(void *u, int fd, int backlog) {
    AD_CALL(u, get(a_, fd) ? from_tw(tw_listen(a_->st, get(a_, fd)->h, backlog)) : ad_fail(EBADF));
}
static int e_accept(void *u, int fd, struct sockaddr *sa, socklen_t *l) {
    AD_CALL(u, do_accept(a_, fd, sa, l));
}
static int e_connect(void *u, int fd, const struct sockaddr *sa, socklen_t l) {
    AD_CALL(u, do_connect(a_, fd, sa, l));
}
static ssize_t e_read(void *u, int fd, void *buf, size_t n) {
    struct iovec v = {buf, n};
    AD_CALL(u, do_io(a_, fd, &v, 1, false));
}
static ssize_t e_readv(void *u, int fd, const struct iovec *iov, int cnt) {
    AD_CALL(u, do_io(a_, fd, iov, cnt, false));
}
static ssize_t e_recv(void *u, int fd, void *buf, size_t n, int flags) {
    struct iovec v = {buf, n};
    AD_CALL(u, flags ? ad_fail(EOPNOTSUPP) : do_io(a_, fd, &v, 1, false));
}
static ssize_t e_recvfrom(void *u, int fd, void *buf, size_t n, int flags, struct sockaddr *sa,
                          socklen_t *l) {
    struct iovec v = {buf, n};
    (void)sa;
    if (l) *l = 0;
    AD_CALL(u, flags ? ad_fail(EOPNOTSUPP) : do_io(a_, fd, &v, 1, false));
}
static ssize_t e_recvmsg(void *u, int fd, struct msghdr *m, int flags) {
    AD_CALL(u, flags || !m ? ad_fail(EOPNOTSUPP)
                           : do_io(a_, fd, m->msg_iov, (int)m->msg_iovlen, false));
}
static ssize_t e_write(void *u, int fd, const void *buf, size_t n) {
    struct iovec v = {(void *)buf, n};
    AD_CALL(u, do_io(a_, fd, &v, 1, true));
}
static ssize_t e_writev(void *u, int fd, const struct iovec *iov, int cnt) {
    AD_CALL(u, do_io(a_, fd, iov, cnt, true));
}
static ssize_t e_send(void *u, int fd, const void *buf, size_t n, int flags) {
    struct iovec v = {(void *)buf, n};
    AD_CALL(u, (flags & ~MSG_NOSIGNAL) ? ad_fail(EOPNOTSUPP) : do_io(a_, fd, &v, 1, true));
}
static ssize_t e_sendto(void *u, int fd, const void *buf, size_t n, int flags,
                        const struct sockaddr *sa, socklen_t l) {
    struct iovec v = {(void *)buf, n};
    AD_CALL(u,
            (flags & ~MSG_NOSIGNAL) || (sa && l) ? ad_fail(EISCONN) : do_io(a_, fd, &v, 1, true));
}
static ssize_t e_sendmsg(void *u, int fd, const struct msghdr *m, int flags) {
    AD_CALL(u, (flags & ~MSG_NOSIGNAL) || !m ? ad_fail(EOPNOTSUPP)
                                             : do_io(a_, fd, m->msg_iov, (int)m->msg_iovlen, true));
}

static int fcntl_locked(adapter *a, int fd, int cmd, int arg) {
    ad_fd *f = get(a, fd);
    if (!f) return ad_fail(EBADF);
    switch (cmd) {
    case F_GETFL: return O_RDWR | (f->nonblock ? O_NONBLOCK : 0);
    case F_SETFL: f->nonblock = (arg & O_NONBLOCK) != 0; return 0;
    case F_GETFD: return FD_CLOEXEC;
    case F_SETFD: return 0;
    default: return ad_fail(EINVAL);
    }
}

static int e_fcntl(void *u, int fd, int cmd, ...) {
    int arg = 0;
    if (cmd == F_SETFL || cmd == F_SETFD) {
        va_list ap;
        va_start(ap, cmd);
        arg = va_arg(ap, int);
        va_end(ap);
    }
    AD_CALL(u, fcntl_locked(a_, fd, cmd, arg));
}

static int ioctl_locked(adapter *a, int fd, unsigned long req, int *out) {
    ad_fd *f = get(a, fd);
    tw_sock_info info;
    if (!f) return ad_fail(EBADF);
    if (req != FIONREAD || !out) return ad_fail(ENOTTY);
    if (tw_sock_info_get(a->st, f->h, &info)) return ad_fail(EBADF);
    *out = (int)info.unread;
    return 0;
}

static int e_ioctl(void *u, int fd, unsigned long req, ...) {
    va_list ap;
    va_start(ap, req);
    int *out = va_arg(ap, int *);
    va_end(ap);
    AD_CALL(u, ioctl_locked(a_, fd, req, out));
}

static int e_close(void *u, int fd) {
    AD_CALL(u, do_close(a_, fd));
}
static int e_shutdown(void *u, int fd, int how) {
    AD_CALL(u, do_shutdown(a_, fd, how));
}
static int e_getsockopt(void *u, int fd, int lv, int nm, void *v, socklen_t *l) {
    AD_CALL(u, do_getsockopt(a_, fd, lv, nm, v, l));
}
static int e_setsockopt(void *u, int fd, int lv, int nm, const void *v, socklen_t l) {
    AD_CALL(u, do_setsockopt(a_, fd, lv, nm, v, l));
}
static int e_poll(void *u, struct pollfd *fds, nfds_t n, int t) {
    AD_CALL(u, a_->broken ? ad_fail(EINVAL) : do_poll(a_, fds, n, t));
}

void ad_sock_fill(struct pd_iface *ifc) {
    ifc->socket = e_socket;
    ifc->bind = e_bind;
    ifc->listen = e_listen;
    ifc->accept = e_accept;
    ifc->connect = e_connect;
    ifc->read = e_read;
    ifc->readv = e_readv;
    ifc->recv = e_recv;
    ifc->recvfrom = e_recvfrom;
    ifc->recvmsg = e_recvmsg;
    ifc->write = e_write;
    ifc->writev = e_writev;
    ifc->send = e_send;
    ifc->sendto = e_sendto;
    ifc->sendmsg = e_sendmsg;
    ifc->fcntl = e_fcntl;
    ifc->ioctl = e_ioctl;
    ifc->close = e_close;
    ifc->shutdown = e_shutdown;
    ifc->getsockopt = e_getsockopt;
    ifc->setsockopt = e_setsockopt;
    ifc->poll = e_poll;
}
