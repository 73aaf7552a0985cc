/* tw_stats.h - every counter the stack keeps, declared once.
 *
 * TW_COUNTERS(X) lists X(name, "description") for each counter. The enum, the
 * CLI's `stats` output, the JSON trace and docs all expand this one table, so
 * a drop reason has the same name everywhere. Drop and RST reasons are
 * counters too: a segment that is dropped bumps exactly one DROP_* counter and
 * a generated RST bumps exactly one RST_* counter. */
#ifndef TCPWAVE_TW_STATS_H
#define TCPWAVE_TW_STATS_H

#include <stdint.h>

#define TW_COUNTERS(X)                                                                             \
    X(IP_IN, "IPv4 packets received")                                                              \
    X(IP_OUT, "IPv4 packets sent")                                                                 \
    X(TCP_IN, "TCP segments accepted for processing")                                              \
    X(TCP_OUT, "TCP segments sent")                                                                \
    X(TCP_RETRANS, "TCP segments retransmitted (RTO)")                                             \
    X(TCP_DATA_IN_BYTES, "payload bytes delivered in order")                                       \
    X(TCP_DATA_OUT_BYTES, "payload bytes sent (first transmission)")                               \
    X(CONN_ACTIVE_OPEN, "connections opened actively (connect)")                                   \
    X(CONN_PASSIVE_OPEN, "connections opened passively (listener)")                                \
    X(CONN_CLOSED, "connections that reached CLOSED")                                              \
    X(TW_ENTER, "connections that entered TIME_WAIT")                                              \
    X(TW_EXPIRE, "TIME_WAIT records expired after 2MSL")                                           \
    X(TW_FIN_REACK, "retransmitted FINs re-ACKed in TIME_WAIT (2MSL restarted)")                   \
    X(TW_REUSE, "TIME_WAIT 4-tuples reopened by an acceptable new SYN")                            \
    X(TW_OVERFLOW, "TIME_WAIT ended early: the record table was full")                             \
    X(TW_RST_IGNORED, "RSTs ignored in TIME_WAIT (RFC 1337)")                                      \
    X(FW2_TIMEOUT, "orphaned FIN_WAIT_2 connections closed by the timeout")                        \
    X(RTO_FIRED, "retransmission timeouts")                                                        \
    X(CONN_TIMEDOUT, "connections aborted after too many retransmissions")                         \
    X(DELACK_SENT, "delayed ACKs sent when their timer fired")                                     \
    X(PERSIST_PROBE, "zero-window probes sent")                                                    \
    X(CHALLENGE_ACK, "challenge ACKs sent (RFC 5961)")                                             \
    X(CHALLENGE_ACK_LIMITED, "challenge ACKs not sent: per-connection limit (RFC 5961 7)")         \
    X(ACK_NOW_OOO, "immediate ACKs for out-of-order segments")                                     \
    X(URG_IN, "urgent pointers that moved RCV.UP ahead (RFC 9293 3.8.5)")                          \
    X(ICMP_IN, "ICMP messages received for our address")                                           \
    X(ICMP_ECHO_REPLIED, "ICMP echo requests answered (ping, RFC 1122 3.2.2.6)")                   \
    X(ICMP_ERR_SOFT, "ICMP soft errors for a connection (kept, RFC 9293 MUST-56)")                 \
    X(ICMP_ERR_HARD, "ICMP hard errors that aborted a SYN_SENT connection (SHLD-26)")              \
    X(DROP_IP_SHORT, "drop: packet shorter than an IPv4 header")                                   \
    X(DROP_IP_VERSION, "drop: IP version is not 4")                                                \
    X(DROP_IP_IHL, "drop: IPv4 header length < 20 or past the packet")                             \
    X(DROP_IP_TOTLEN, "drop: IPv4 total length inconsistent with the packet")                      \
    X(DROP_IP_CKSUM, "drop: bad IPv4 header checksum")                                             \
    X(DROP_IP_FRAG, "drop: IPv4 fragment (reassembly not supported)")                              \
    X(DROP_IP_PROTO, "drop: not TCP")                                                              \
    X(DROP_IP_NOT_US, "drop: destination address is not ours")                                     \
    X(DROP_IP_BAD_SRC, "drop: source is broadcast/multicast/zero")                                 \
    X(DROP_ICMP_BAD, "drop: ICMP message short, bad checksum or bad quote")                        \
    X(DROP_ICMP_IGNORED, "drop: ICMP type not acted on (e.g. source quench, MUST-55)")             \
    X(DROP_ICMP_NO_CONN, "drop: ICMP error for no connection or a sequence number outside "        \
                         "SND.UNA..SND.NXT (RFC 5927)")                                            \
    X(DROP_TCP_SHORT, "drop: segment shorter than a TCP header")                                   \
    X(DROP_TCP_DOFF, "drop: data offset < 5 or past the segment")                                  \
    X(DROP_TCP_CKSUM, "drop: bad TCP checksum")                                                    \
    X(DROP_TCP_OPT, "drop: malformed TCP option (length 0/1, overrun, bad size)")                  \
    X(DROP_TCP_PORT0, "drop: source or destination port 0")                                        \
    X(DROP_TCP_FLAGS, "drop: impossible flag mix (SYN+RST, SYN+FIN, none)")                        \
    X(DROP_NO_SOCKET, "drop: no connection or listener (RST sent unless RST)")                     \
    X(DROP_LISTEN_NOT_SYN, "drop: non-SYN to a listener")                                          \
    X(DROP_LISTEN_OVERFLOW, "drop: SYN to a listener whose backlog is full")                       \
    X(DROP_NO_MEMORY, "drop: connection pool exhausted")                                           \
    X(DROP_UNACCEPTABLE, "drop: sequence number outside the window (ACK sent)")                    \
    X(DROP_RST_OUT_OF_WINDOW, "drop: RST outside the window")                                      \
    X(DROP_NO_ACK, "drop: no ACK bit in a synchronized state")                                     \
    X(DROP_ACK_TOO_NEW, "drop: ACK for data never sent (ACK sent)")                                \
    X(DROP_ACK_TOO_OLD, "drop: ACK below the acceptable range (RFC 5961)")                         \
    X(DROP_SYN_SENT_BAD_ACK, "drop: bad ACK in SYN_SENT (RST sent)")                               \
    X(DROP_SYN_SENT_NO_SYN, "drop: neither SYN nor RST in SYN_SENT")                               \
    X(DROP_DATA_AFTER_FIN, "drop: data or FIN beyond the peer's FIN")                              \
    X(DROP_DATA_AFTER_CLOSE, "drop: data after the user closed (RST sent)")                        \
    X(DROP_TW_SEGMENT, "drop: non-FIN segment in TIME_WAIT")                                       \
    X(DROP_OOO_FULL, "drop: out-of-order data that does not fit (window/queue)")                   \
    X(RST_CLOSED_PORT, "RST sent: segment for no connection (RFC 9293 3.10.7.1)")                  \
    X(RST_BAD_ACK, "RST sent: unacceptable ACK in SYN_SENT/SYN_RECEIVED/LISTEN")                   \
    X(RST_ABORT, "RST sent: user abort (linger 0)")                                                \
    X(RST_UNREAD_DATA, "RST sent: close with unread data (RFC 9293 SHLD-3)")                       \
    X(RST_DATA_AFTER_CLOSE, "RST sent: data arrived after the user closed")                        \
    X(RST_RECEIVED, "RSTs accepted (connection reset)")                                            \
    X(DROP_PAWS,                                                                                   \
      "drop: timestamp older than TS.Recent, an old duplicate (PAWS, RFC 7323 5.3; ACK sent)")     \
    X(KEEPALIVE_PROBE, "keep-alive probes sent (RFC 9293 3.8.4)")                                  \
    X(CONN_KEEPALIVE_TIMEDOUT, "connections aborted: keep-alive probes unanswered")                \
    X(CONN_USER_TIMEDOUT, "connections aborted by the user timeout (data unacknowledged)")         \
    X(TCP_FAST_RETRANS, "fast retransmits: third duplicate ACK (RFC 5681 3.2, RFC 6582)")          \
    X(SACK_RECOVERY, "SACK-based loss recoveries entered (RFC 6675 5)")                            \
    X(SACK_RESCUE, "rescue retransmissions in SACK recovery (RFC 6675 4, NextSeg rule 4)")         \
    X(SACK_RXT_LOST,                                                                               \
      "retransmissions at SND.UNA lost again, seen from SACKs of data sent after them")            \
    X(SACK_BLOCK_BAD, "received SACK blocks ignored: empty, below the ACK or beyond SND.MAX")      \
    X(SACK_SB_FULL, "received SACK blocks not kept: the scoreboard was full (bounded)")            \
    X(DSACK_SENT, "D-SACK blocks sent: a duplicate segment reported (RFC 2883)")                   \
    X(DSACK_RCVD, "D-SACK blocks received (RFC 2883; noted, not acted on)")                        \
    X(SYNCOOKIE_SENT,                                                                              \
      "SYN cookies sent: SYN-ACKs for a full listener, no state kept (RFC 4987 3.6)")              \
    X(SYNCOOKIE_ACCEPTED, "connections opened by an ACK that returned a valid SYN cookie")         \
    X(SYNCOOKIE_REJECTED,                                                                          \
      "ACKs to a listener sending cookies whose cookie is forged or stale (RST sent)")             \
    X(DROP_SYNCOOKIE_ACCEPT_FULL,                                                                  \
      "drop: valid SYN-cookie ACK, but the listener's accept queue is full")                       \
    X(TW_REUSE_UNDONE, "reopened TIME_WAIT 4-tuples back in TIME_WAIT: the new SYN was an old "    \
                       "duplicate (RFC 1122 4.2.2.13)")                                            \
    X(ECN_CE_IN, "segments that arrived marked CE, congestion experienced (RFC 3168)")             \
    X(ECN_CWND_CUT, "congestion windows halved for an ECN-Echo (RFC 3168 6.1.2)")                  \
    X(HYSTART_EXIT, "slow starts left for CSS on a growing RTT (HyStart++, RFC 9406)")

enum tw_counter {
#define TW_X_ENUM(name, desc) TW_C_##name,
    TW_COUNTERS(TW_X_ENUM)
#undef TW_X_ENUM
        TW_C__COUNT
};

/* Short name ("DROP_TCP_CKSUM") and description of a counter; NULL if out of range. */
const char *tw_counter_name(int c);
const char *tw_counter_desc(int c);

#endif
