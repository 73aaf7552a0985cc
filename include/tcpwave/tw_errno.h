/* tw_errno.h - error codes returned (negated) by every tcpwave call.
 *
 * Each code maps one-to-one onto a POSIX errno so that adapters (packetdrill,
 * a socket shim) can translate without a table of special cases. */
#ifndef TCPWAVE_TW_ERRNO_H
#define TCPWAVE_TW_ERRNO_H

#include <errno.h>

#define TW_EINVAL EINVAL               /* bad argument */
#define TW_ENOMEM ENOMEM               /* a fixed pool or buffer is exhausted */
#define TW_EAGAIN EAGAIN               /* would block: no data / no buffer space */
#define TW_EBADF EBADF                 /* stale or unknown socket handle */
#define TW_EADDRINUSE EADDRINUSE       /* local address/4-tuple already taken */
#define TW_EADDRNOTAVAIL EADDRNOTAVAIL /* no ephemeral port free */
#define TW_ECONNREFUSED ECONNREFUSED   /* RST in answer to our SYN */
#define TW_ECONNRESET ECONNRESET       /* connection reset by the peer */
#define TW_ETIMEDOUT ETIMEDOUT         /* retransmissions exhausted / user timeout */
#define TW_ENOTCONN ENOTCONN           /* not connected */
#define TW_EISCONN EISCONN             /* already connected */
#define TW_EPIPE EPIPE                 /* send after shutdown(WR) or close */
#define TW_EOPNOTSUPP EOPNOTSUPP       /* operation not valid for this socket kind */
#define TW_EALREADY EALREADY           /* connect already in progress */
#define TW_EINPROGRESS EINPROGRESS     /* non-blocking connect started */
#define TW_ECONNABORTED ECONNABORTED   /* aborted locally */
#define TW_ENOPROTOOPT ENOPROTOOPT     /* unknown socket option (tw_setsockopt) */
/* Soft errors (TW_EVT_SOFT_ERROR): reported, the connection goes on. */
#define TW_ENETUNREACH ENETUNREACH   /* ICMP network unreachable */
#define TW_EHOSTUNREACH EHOSTUNREACH /* ICMP host unreachable, time exceeded */
#define TW_EMSGSIZE EMSGSIZE         /* ICMP fragmentation needed */
#define TW_EPROTO EPROTO             /* ICMP parameter problem */

/* Returns a static English description of a (negative or positive) code. */
const char *tw_strerror(int err);

#endif
