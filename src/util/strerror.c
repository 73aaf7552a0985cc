/* strerror.c - owns tw_strerror(): English text for the TW_E* codes of
 * tw_errno.h. Codes are errno values, so the texts follow POSIX wording. */
#include <limits.h>

#include <tcpwave/tw_errno.h>

const char *tw_strerror(int err) {
    /* Callers hold either the negated return value or the code itself;
     * INT_MIN has no positive counterpart and is simply unknown. */
    if (err == INT_MIN) return "unknown error";
    if (err < 0) err = -err;
    switch (err) {
    case 0: return "success";
    case TW_EINVAL: return "invalid argument";
    case TW_ENOMEM: return "out of memory (pool or buffer exhausted)";
    case TW_EAGAIN: return "resource temporarily unavailable (would block)";
    case TW_EBADF: return "bad socket handle";
    case TW_EADDRINUSE: return "address already in use";
    case TW_EADDRNOTAVAIL: return "address not available (no ephemeral port free)";
    case TW_ECONNREFUSED: return "connection refused";
    case TW_ECONNRESET: return "connection reset by peer";
    case TW_ETIMEDOUT: return "connection timed out";
    case TW_ENOTCONN: return "socket is not connected";
    case TW_EISCONN: return "socket is already connected";
    case TW_EPIPE: return "broken pipe (sending side shut down)";
    case TW_EOPNOTSUPP: return "operation not supported";
    case TW_EALREADY: return "connection already in progress";
    case TW_EINPROGRESS: return "operation now in progress";
    case TW_ECONNABORTED: return "connection aborted";
    case TW_ENOPROTOOPT: return "protocol not available (unknown socket option)";
    case TW_ENETUNREACH: return "network is unreachable";
    case TW_EHOSTUNREACH: return "no route to host";
    case TW_EMSGSIZE: return "message too long (fragmentation needed)";
    case TW_EPROTO: return "protocol error (ICMP parameter problem)";
    default: return "unknown error";
    }
}
