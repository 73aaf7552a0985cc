/* pkt_sys.c - the socket calls of a script, on tcpwave's socket API.
 *
 * Script file descriptors start at 3 and the lowest free one is taken, as
 * POSIX does. Sockets are blocking unless SOCK_NONBLOCK or fcntl O_NONBLOCK
 * say otherwise; a call that would block reports it, and the runner retries
 * it after every step of the stack until it completes (pkt_run.c). Results
 * follow POSIX/Linux: -1 and an errno; connect() reports EINPROGRESS,
 * EALREADY and EISCONN as Linux does; close() with SO_LINGER {1, 0} aborts
 * (RST); SO_ERROR returns and clears the error that ended the connection. */
#include <string.h>

#include "drive/pkt_run.h"

/* Linux values, as written in scripts (see pkt_parse.c). */
#define L_O_NONBLOCK 04000
#define L_O_RDWR 2
#define L_SOCK_NONBLOCK 04000
#define L_SOL_SOCKET 1
#define L_SO_REUSEADDR 2
#define L_SO_ERROR 4
#define L_SO_LINGER 13
#define L_F_GETFL 3

static pd_result done(int64_t ret) {
    pd_result r = {false, ret, 0};
    return r;
}

static pd_result fail_errno(int err) {
    pd_result r = {false, -1, err};
    return r;
}

/* A negative tw_* return code as a POSIX result. */
static pd_result from_tw(int rc) {
    return rc < 0 ? fail_errno(-rc) : done(rc);
}

static pd_result blocked(void) {
    pd_result r = {true, 0, 0};
    return r;
}

static pd_fd *get_fd(pd_runner *r, int64_t fd) {
    if (fd < PD_FIRST_FD || fd >= PD_MAX_FDS || !r->fd[fd].used) return NULL;
    return &r->fd[fd];
}

static int alloc_fd(pd_runner *r, int h) {
    for (int i = PD_FIRST_FD; i < PD_MAX_FDS; i++)
        if (!r->fd[i].used) {
            memset(&r->fd[i], 0, sizeof r->fd[i]);
            r->fd[i].used = true;
            r->fd[i].h = h;
            return i;
        }
    return -1;
}

void pd_sys_event(pd_runner *r, const tw_event *ev) {
    if (!(ev->what & TW_EVT_CLOSED) || !ev->err) return;
    for (int i = PD_FIRST_FD; i < PD_MAX_FDS; i++)
        if (r->fd[i].used && r->fd[i].h == ev->sock) r->fd[i].so_error = ev->err;
}

static tw_state state_of(pd_runner *r, const pd_fd *f) {
    tw_sock_info info;
    if (tw_sock_info_get(r->st, f->h, &info)) return TW_CLOSED;
    return info.state;
}

static int take_error(pd_fd *f, int dflt) {
    int e = f->so_error ? f->so_error : dflt;
    f->so_error = 0;
    return e;
}

static pd_result sys_socket(pd_runner *r, const pd_call *k) {
    int h = tw_socket(r->st);
    if (h < 0) return from_tw(h);
    int fd = alloc_fd(r, h);
    if (fd < 0) {
        tw_close(r->st, h);
        return fail_errno(EMFILE);
    }
    r->fd[fd].nonblock = (k->arg[1].v & L_SOCK_NONBLOCK) != 0;
    return done(fd);
}

/* connect(): Linux's answers for a socket already connecting or connected. */
static pd_result sys_connect(pd_runner *r, pd_fd *f, bool retry) {
    if (f->connect_state == 0 && !retry) {
        int rc = tw_connect(r->st, f->h, PD_REMOTE_ADDR, PD_CONNECT_PORT);
        if (rc < 0) return from_tw(rc);
        f->connect_state = 1;
        if (f->nonblock) return fail_errno(EINPROGRESS);
        return blocked();
    }
    if (f->connect_state == 2) return fail_errno(EISCONN);
    tw_state s = state_of(r, f);
    if (s == TW_SYN_SENT || s == TW_SYN_RECEIVED) {
        if (f->nonblock && !retry) return fail_errno(EALREADY);
        return blocked();
    }
    if (s == TW_CLOSED) {
        f->connect_state = 0;
        return fail_errno(take_error(f, ECONNABORTED));
    }
    f->connect_state = 2;
    return done(0);
}

static pd_result sys_accept(pd_runner *r, pd_fd *f) {
    int h = tw_accept(r->st, f->h, NULL, NULL);
    if (h == -TW_EAGAIN && !f->nonblock) return blocked();
    if (h < 0) return from_tw(h);
    int fd = alloc_fd(r, h);
    if (fd < 0) {
        tw_abort(r->st, h);
        return fail_errno(EMFILE);
    }
    r->fd[fd].connect_state = 2;
    return done(fd);
}

static pd_result sys_write(pd_runner *r, pd_fd *f, int64_t n, bool retry) {
    if (!retry) r->pending_done = 0;
    memset(r->io, 0, (size_t)n);
    while ((int64_t)r->pending_done < n) {
        int rc = tw_send(r->st, f->h, r->io, (size_t)(n - (int64_t)r->pending_done));
        if (rc == -TW_EAGAIN) {
            if (f->nonblock) break;
            return blocked();
        }
        if (rc < 0) {
            if (r->pending_done) break;
            return from_tw(rc);
        }
        r->pending_done += (uint64_t)rc;
        if (n == 0) break;
    }
    if (r->pending_done == 0 && n > 0) return fail_errno(EAGAIN);
    return done((int64_t)r->pending_done);
}

static pd_result sys_read(pd_runner *r, pd_fd *f, int64_t n) {
    int rc = tw_recv(r->st, f->h, r->io, (size_t)n);
    if (rc == -TW_EAGAIN && !f->nonblock) return blocked();
    return from_tw(rc);
}

static pd_result sys_close(pd_runner *r, pd_fd *f, const pd_event *e) {
    if (f->linger_on && f->linger > 0) {
        pd_report(r, PD_ERROR, e, "close() with SO_LINGER and a non-zero timeout is not supported");
        return fail_errno(EINVAL);
    }
    int rc = f->linger_on ? tw_abort(r->st, f->h) : tw_close(r->st, f->h);
    f->used = false;
    return from_tw(rc);
}

static pd_result sys_setsockopt(pd_runner *r, pd_fd *f, const pd_call *k) {
    if (k->arg[1].v == L_SOL_SOCKET && k->arg[2].v == L_SO_LINGER) {
        f->linger_on = k->arg[3].v != 0;
        f->linger = k->arg[3].v2;
        return done(0);
    }
    if (k->arg[1].v == L_SOL_SOCKET && k->arg[2].v == L_SO_REUSEADDR) {
        f->reuse = k->arg[3].v != 0;
        return done(0);
    }
    /* IPPROTO_TCP, TCP_NODELAY (the parser allows nothing else) */
    f->nodelay = k->arg[3].v != 0;
    return from_tw(tw_set_nodelay(r->st, f->h, f->nodelay));
}

static pd_result sys_getsockopt(pd_runner *r, pd_fd *f, const pd_event *e) {
    const pd_call *k = &e->call;
    int64_t v, v2 = 0;
    if (k->arg[1].v == L_SOL_SOCKET && k->arg[2].v == L_SO_ERROR)
        v = take_error(f, 0);
    else if (k->arg[1].v == L_SOL_SOCKET && k->arg[2].v == L_SO_REUSEADDR)
        v = f->reuse;
    else if (k->arg[1].v == L_SOL_SOCKET && k->arg[2].v == L_SO_LINGER)
        v = f->linger_on, v2 = f->linger;
    else
        v = f->nodelay;
    const pd_arg *want = &k->arg[3];
    if (want->v != v || (want->kind == PD_ARG_LINGER && want->v2 != v2)) {
        if (want->kind == PD_ARG_LINGER)
            pd_report(
                r, PD_FAIL, e,
                "getsockopt() gave {onoff=%lld, linger=%lld}, expected {onoff=%lld, linger=%lld}",
                (long long)v, (long long)v2, (long long)want->v, (long long)want->v2);
        else
            pd_report(r, PD_FAIL, e, "getsockopt() gave [%lld], expected [%lld]", (long long)v,
                      (long long)want->v);
    }
    return done(0);
}

static pd_result sys_fcntl(pd_fd *f, const pd_call *k) {
    if (k->arg[1].v == L_F_GETFL) return done(L_O_RDWR | (f->nonblock ? L_O_NONBLOCK : 0));
    f->nonblock = (k->arg[2].v & L_O_NONBLOCK) != 0;
    return done(0);
}

static pd_result sys_shutdown(pd_runner *r, pd_fd *f, int64_t how) {
    if (how < 0 || how > 2) return fail_errno(EINVAL);
    return from_tw(tw_shutdown(r->st, f->h, (int)how + 1)); /* SHUT_RD 0 -> TW_SHUT_RD 1 */
}

static pd_result exec(pd_runner *r, const pd_event *e, bool retry);

/* As in Linux, a call that reports the connection's error consumes it:
 * SO_ERROR is 0 afterwards. */
pd_result pd_sys_exec(pd_runner *r, const pd_event *e, bool retry) {
    pd_result res = exec(r, e, retry);
    pd_fd *f = e->call.name == PD_CALL_SOCKET ? NULL : get_fd(r, e->call.arg[0].v);
    if (f && !res.blocked && res.ret == -1 && res.err == f->so_error) f->so_error = 0;
    return res;
}

static pd_result exec(pd_runner *r, const pd_event *e, bool retry) {
    const pd_call *k = &e->call;
    if (k->name == PD_CALL_SOCKET) return sys_socket(r, k);
    pd_fd *f = get_fd(r, k->arg[0].v);
    if (!f) return fail_errno(EBADF);
    switch (k->name) {
    case PD_CALL_BIND: return from_tw(tw_bind(r->st, f->h, PD_BIND_PORT));
    case PD_CALL_LISTEN: {
        int rc = tw_listen(r->st, f->h, (int)k->arg[1].v);
        if (rc == 0) {
            r->lport = PD_BIND_PORT;
            r->rport = PD_REMOTE_PORT;
        }
        return from_tw(rc);
    }
    case PD_CALL_ACCEPT: return sys_accept(r, f);
    case PD_CALL_CONNECT: return sys_connect(r, f, retry);
    case PD_CALL_WRITE:
    case PD_CALL_SEND: return sys_write(r, f, k->arg[2].v, retry);
    case PD_CALL_READ:
    case PD_CALL_RECV: return sys_read(r, f, k->arg[2].v);
    case PD_CALL_SHUTDOWN: return sys_shutdown(r, f, k->arg[1].v);
    case PD_CALL_CLOSE: return sys_close(r, f, e);
    case PD_CALL_SETSOCKOPT: return sys_setsockopt(r, f, k);
    case PD_CALL_GETSOCKOPT: return sys_getsockopt(r, f, e);
    case PD_CALL_FCNTL: return sys_fcntl(f, k);
    default: return fail_errno(EINVAL);
    }
}

static void describe(const pd_result *res, char *buf, size_t cap) {
    if (res->ret != -1) {
        snprintf(buf, cap, "%lld", (long long)res->ret);
        return;
    }
    const char *name = pd_errno_name(res->err);
    if (name)
        snprintf(buf, cap, "-1 %s (%s)", name, tw_strerror(res->err));
    else
        snprintf(buf, cap, "-1 errno %d", res->err);
}

void pd_sys_check(pd_runner *r, const pd_event *e, pd_result res) {
    pd_result want = {false, e->call.ret, e->call.err};
    if (res.ret == want.ret && (res.ret != -1 || res.err == want.err)) return;
    char got[96], exp[96];
    describe(&res, got, sizeof got);
    describe(&want, exp, sizeof exp);
    pd_report(r, PD_FAIL, e, "%s() returned %s, expected %s", pd_call_str(e->call.name), got, exp);
}
