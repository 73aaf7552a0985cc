/* sx.h - a stack under test, driven packet by packet: a capture tw_link that
 * keeps every packet the stack sends, a trace recorder, and a scripted peer
 * that builds raw packets with tw_packet_emit() and hands them to
 * tw_stack_input(). Shared by the tests in tests/stack/. */
#ifndef TW_TESTS_STACK_SX_H
#define TW_TESTS_STACK_SX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <tcpwave/tcpwave.h>

#include "wire/tcp_hdr.h"

#define SX_ADDR 0x0a000001u    /* 10.0.0.1: the stack under test */
#define SX_PEER 0x0a000002u    /* 10.0.0.2: the scripted peer */
#define SX_PEER2 0x0a000003u   /* 10.0.0.3: a second peer */
#define SX_T0 1000000000000ull /* 1000 s: where every test's clock starts */

/* One packet the stack sent, parsed (payload copied). */
typedef struct sx_pkt {
    uint64_t t;
    tw_tcp_seg seg;
    uint8_t payload[1500];
} sx_pkt;

typedef struct sx {
    tw_link link; /* first member: the capture link */
    tw_stack *st;
    uint64_t now;
    sx_pkt *out;
    size_t nout, capout;
    tw_trace_ev *ev;
    size_t nev, capev;
    uint16_t ip_id;
} sx;

/* Creates the stack at SX_ADDR with `cfg` (NULL: defaults), msl 30 s. */
void sx_init(sx *x, const tw_stack_cfg *cfg);
void sx_free(sx *x);

/* Raw packet from (src, sport) to the stack's (dst, dport). */
typedef struct sx_seg {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    uint16_t wnd;
    uint16_t urp; /* the urgent pointer; meant with TW_TH_URG */
    uint8_t tos;  /* the IPv4 TOS octet */
    const void *data;
    uint32_t len;
    uint16_t mss;           /* 0: no MSS option */
    const tw_tcp_opts *opt; /* NULL: none but the MSS above; else all the options */
} sx_seg;

/* A segment from SX_PEER:sport to SX_ADDR:dport with window 65535. */
sx_seg sx_mk(uint16_t sport, uint16_t dport, uint8_t flags, uint32_t seq, uint32_t ack);
/* Builds the packet into buf; returns its length. */
size_t sx_build(const sx_seg *s, uint8_t *buf, size_t cap);
/* Sets the clock to `t` (never backwards), feeds the packet, returns
 * tw_stack_input()'s result. */
int sx_input_raw(sx *x, uint64_t t, const uint8_t *pkt, size_t len);
int sx_input(sx *x, uint64_t t, const sx_seg *s);
/* As sx_input, through tw_stack_input_deferred(): output waits for a poll. */
int sx_input_deferred(sx *x, uint64_t t, const sx_seg *s);
/* tw_stack_poll at `t` (clock never moves back); returns segments sent. */
int sx_poll(sx *x, uint64_t t);
/* Polls at every deadline up to and including `t`, then at `t`. */
void sx_run_until(sx *x, uint64_t t);

/* Captured packets: count, and the i-th (0-based). sx_take() returns the
 * oldest not yet taken and asserts there is one; sx_none() asserts nothing
 * new was sent. */
size_t sx_nsent(const sx *x);
const sx_pkt *sx_sent(const sx *x, size_t i);
const sx_pkt *sx_take(sx *x, size_t *cursor);
void sx_expect_seg(const sx_pkt *p, uint8_t flags, uint32_t seq, uint32_t ack, uint32_t len,
                   const char *file, int line);
#define SX_EXPECT(p, flags, seq, ack, len)                                                         \
    sx_expect_seg((p), (flags), (seq), (ack), (len), __FILE__, __LINE__)

/* Trace queries. */
size_t sx_count_ev(const sx *x, int kind);
/* The time of the n-th (0-based) state move old->new (any connection);
 * UINT64_MAX when there is none. */
uint64_t sx_state_time(const sx *x, int from, int to, int nth);
const uint64_t *sx_ctr(const sx *x);

/* Connections scripted from the peer's side. */
typedef struct sx_conn {
    int sock;
    uint16_t lport, rport; /* the stack's port, the peer's port */
    uint32_t iss, irs;     /* the stack's ISS, the peer's ISN */
    uint32_t snd, rcv;     /* the stack's SND.NXT and RCV.NXT as the peer sees them */
} sx_conn;

/* Opens a listener on `port`; returns its socket. */
int sx_listen(sx *x, uint16_t port, int backlog);
/* Peer connects from `rport` to a listener on `lport`: SYN, SYN-ACK, ACK,
 * then accept. Asserts the wire exchange. */
void sx_passive_open(sx *x, sx_conn *c, int lsock, uint16_t lport, uint16_t rport, uint32_t isn,
                     size_t *cursor);
/* The stack connects to SX_PEER:rport: SYN, SYN-ACK, ACK. */
void sx_active_open(sx *x, sx_conn *c, uint16_t rport, uint32_t isn, size_t *cursor);
/* The stack closes `c` first and the peer answers with ACK then FIN: the
 * stack ends in TIME_WAIT. With close_socket the handle is closed at once
 * (the connection becomes a compact record); returns the time the stack
 * entered TIME_WAIT. */
uint64_t sx_active_close(sx *x, sx_conn *c, size_t *cursor);

#endif
