/* icmp.c - owns what the stack does with an ICMP message (IPv4 protocol 1):
 * answer echo requests (RFC 1122 §3.2.2.6) and hand ICMP errors to the TCP
 * connection they quote (RFC 9293 §3.9.2.2, MUST-54).
 *
 * tw_stack_input() calls tw__icmp_input() for every packet that is not TCP;
 * the return value is what tw_stack_input() returns and counts: 0 when the
 * message was used, or the counter id of the drop reason.
 *
 * Treatment of errors for a connection:
 * - the quote must name one of our live connections and a sequence number in
 *   SND.UNA..SND.MAX-1, else the message is dropped: a blind attacker must
 *   then guess the sequence space, not just the 4-tuple (RFC 5927,
 *   "TCP sequence number checking");
 * - source quench is silently discarded (MUST-55, RFC 6633);
 * - soft errors (unreachable codes 0, 1, 5, time exceeded, parameter
 *   problem) never abort (MUST-56); they are counted and reported to the
 *   application as TW_EVT_SOFT_ERROR with an errno-style code (SHLD-25,
 *   MUST-47) unless it turned reports off (TW_SO_SOFT_ERRORS, SHLD-20);
 * - hard errors (protocol and port unreachable, codes 2 and 3) abort a
 *   connection in SYN_SENT with ECONNREFUSED (SHLD-26). In synchronized
 *   states they are kept as soft errors, as RFC 9293 §3.9.2.2 notes many
 *   implementations do and RFC 5927 recommends against blind resets;
 * - "fragmentation needed" (code 4) is the path MTU discovery signal
 *   (RFC 1191); tcpwave does not do PMTUD yet, so it is counted as soft
 *   rather than aborting a connection that merely needs smaller segments. */
#include <string.h>

#include "stack/stack.h"
#include "wire/icmp.h"

/* RFC 1122 §3.2.2.6 / §3.2.1.3: no answer to a source that cannot be a
 * single host: 0.0.0.0, limited broadcast, multicast (224/4), class E. */
static bool bad_source(uint32_t a) {
    return a == 0 || (a >> 28) >= 0xe;
}

static int echo_reply(tw_stack *st, const tw_ipv4_hdr *ip, const tw_icmp_msg *req) {
    if (bad_source(ip->src)) return TW_C_DROP_IP_BAD_SRC;
    /* RFC 792: the reply carries the identifier, sequence number and data of
     * the request unchanged; only the type (0) and the checksum differ. */
    tw_icmp_msg rep = *req;
    rep.type = TW_ICMP_ECHO_REPLY;
    rep.code = 0;
    uint8_t *buf = st->txbuf;
    int n = tw_icmp_emit(&rep, buf + TW_IPV4_HDR_LEN, sizeof st->txbuf - TW_IPV4_HDR_LEN);
    if (n < 0) return TW_C_DROP_ICMP_BAD;
    tw_ipv4_hdr h;
    memset(&h, 0, sizeof h);
    h.src = st->cfg.addr;
    h.dst = ip->src;
    h.proto = TW_IPPROTO_ICMP;
    h.ttl = st->tcp.ttl;
    h.tos = ip->tos;
    h.id = st->ip_id++;
    h.total_len = (uint16_t)(TW_IPV4_HDR_LEN + n);
    tw_ipv4_emit(&h, buf, TW_IPV4_HDR_LEN);
    st->counters[TW_C_ICMP_ECHO_REPLIED]++;
    st->counters[TW_C_IP_OUT]++;
    if (st->link) st->link->ops->send(st->link, buf, (size_t)h.total_len, st->now);
    return 0;
}

static bool hard_error(const tw_icmp_msg *m) {
    return m->type == TW_ICMP_DEST_UNREACH &&
           (m->code == TW_ICMP_UNREACH_PROTO || m->code == TW_ICMP_UNREACH_PORT);
}

/* The code a soft error is reported with (the errno values BSD and Linux
 * give these messages). */
static int soft_errno(const tw_icmp_msg *m) {
    if (m->type == TW_ICMP_PARAM_PROBLEM) return TW_EPROTO;
    if (m->type != TW_ICMP_DEST_UNREACH) return TW_EHOSTUNREACH; /* time exceeded */
    switch (m->code) {
    case TW_ICMP_UNREACH_NET: return TW_ENETUNREACH;
    case TW_ICMP_UNREACH_PROTO:
    case TW_ICMP_UNREACH_PORT: return TW_ECONNREFUSED; /* kept soft once synchronized */
    case TW_ICMP_UNREACH_NEEDFRAG: return TW_EMSGSIZE;
    default: return TW_EHOSTUNREACH;
    }
}

/* An error about a datagram we sent: find the connection, check the quoted
 * sequence number, then act per the classes in the file comment. */
static int icmp_error(tw_stack *st, const tw_icmp_msg *m) {
    tw_icmp_quote q;
    int rc = tw_icmp_quote_parse(m, &q);
    if (rc) return rc;
    if (q.proto != TW_IPPROTO_TCP || q.src != st->cfg.addr) return TW_C_DROP_ICMP_NO_CONN;
    uint32_t e = tw__table_lookup(st, q.dst, q.sport, q.dport);
    if (e == TW_NIL || (e & TW_TWBIT)) return TW_C_DROP_ICMP_NO_CONN;
    tw_slot *s = tw__slot(st, e);
    tw_tcp_conn *c = &s->c;
    tw_seq_t seq = tw_seq(q.seq);
    if (tw_seq_lt(seq, c->snd_una) || !tw_seq_lt(seq, c->snd_max)) return TW_C_DROP_ICMP_NO_CONN;
    if (hard_error(m) && c->state == TW_SYN_SENT) {
        st->counters[TW_C_ICMP_ERR_HARD]++;
        tw__tcp_enter_closed(c, TW_CAUSE_ICMP_UNREACH, TW_ECONNREFUSED, st->now);
        tw__settle(st, s);
        return 0;
    }
    st->counters[TW_C_ICMP_ERR_SOFT]++;
    tw_tcp_soft_error(c, soft_errno(m));
    tw__settle(st, s); /* the event goes out with this step */
    return 0;
}

int tw__icmp_input(tw_stack *st, const uint8_t *pkt, size_t len) {
    tw_ipv4_view v;
    tw_ipv4_hdr ip;
    if (tw_ipv4_view_init(&v, pkt, len) != 0 || tw_ipv4_parse(&v, &ip) != 0 ||
        ip.proto != TW_IPPROTO_ICMP)
        return TW_C_DROP_IP_PROTO;
    if (ip.dst != st->cfg.addr) return TW_C_DROP_IP_NOT_US;
    st->counters[TW_C_ICMP_IN]++;
    tw_icmp_msg m;
    int rc = tw_icmp_parse(ip.payload, ip.payload_len, &m);
    if (rc) return rc;
    switch (m.type) {
    case TW_ICMP_ECHO_REQUEST: return echo_reply(st, &ip, &m);
    case TW_ICMP_DEST_UNREACH:
    case TW_ICMP_TIME_EXCEEDED:
    case TW_ICMP_PARAM_PROBLEM: return icmp_error(st, &m);
    case TW_ICMP_SOURCE_QUENCH: /* MUST-55: silently discarded */
    default: return TW_C_DROP_ICMP_IGNORED;
    }
}
