/* pcap.h - a classic pcap file writer (the libpcap "savefile" format:
 * magic 0xa1b2c3d4, version 2.4, microsecond timestamps, written in host
 * byte order as readers expect) and a tap: a tw_link decorator that records
 * every packet sent and received through the link it wraps.
 *
 * Packets are whole IPv4 packets, so the link type is LINKTYPE_RAW (101,
 * "raw IPv4/IPv6": what tcpdump writes for a TUN device) by default, or
 * LINKTYPE_IPV4 (228). Files open in tshark/Wireshark/tcpdump as they are.
 * Plain C stdio only: usable by every driver (TUN tools, the simulator,
 * tests).
 *
 * Using it with a TUN device (what `tcpwave serve/connect --pcap` do):
 *
 *     tw_pcap *pc;
 *     tw_pcap_open("out.pcap", TW_PCAP_LINKTYPE_RAW, &pc);
 *     tw_pcap_tap tap;
 *     tw_pcap_tap_init(&tap, tw_tun_link(tun), pc, realtime_ns - monotonic_ns);
 *     tw_stack_new(&cfg, &tap.link, &st);   // sends are recorded
 *     ... the driver calls tap.link.ops->recv(): received packets are recorded
 *     tw_pcap_close(pc);                    // after the last packet
 *
 * Using it with the simulator (e.g. `tcpwave demo --pcap FILE`): the world
 * reads each endpoint's tw_sim link itself, so wrap nothing; install a
 * tw_sim observer and write every TW_SIM_SENT packet (what went on the wire,
 * before loss) or every TW_SIM_DELIVERED packet (what arrived) with
 * tw_pcap_write(pc, now, pkt, len). Virtual time starts at 0, which
 * Wireshark shows as 1970-01-01: harmless, or add an offset. A driver that
 * hands packets to tw_stack_input() without going through the tap's recv()
 * calls tw_pcap_tap_record() for each. */
#ifndef TW_LINK_PCAP_H
#define TW_LINK_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "tcpwave/tw_link.h"

#define TW_PCAP_LINKTYPE_RAW 101  /* raw IP; the version nibble says v4 */
#define TW_PCAP_LINKTYPE_IPV4 228 /* raw IPv4 only */
#define TW_PCAP_SNAPLEN 65535u    /* longest packet recorded whole */

typedef struct tw_pcap tw_pcap;

/* Creates (truncates) `path` and writes the file header for `linktype`.
 * Returns 0 and sets *out, -TW_EINVAL for an unknown link type, -TW_ENOMEM,
 * or a negative errno from opening or writing the file. */
int tw_pcap_open(const char *path, uint32_t linktype, tw_pcap **out);
/* Appends one packet with timestamp `t_ns` (ns since the Unix epoch as the
 * file format means it; any origin works for readers). Packets longer than
 * TW_PCAP_SNAPLEN are cut to it, keeping their original length in the record.
 * Returns 0 or a negative errno; after a failed write every later write fails. */
int tw_pcap_write(tw_pcap *p, uint64_t t_ns, const uint8_t *pkt, size_t len);
/* Pushes buffered records to the file (so a reader sees them while the writer
 * runs). Returns 0 or a negative errno. */
int tw_pcap_flush(tw_pcap *p);
/* Packets written so far. */
uint64_t tw_pcap_count(const tw_pcap *p);
/* Flushes and closes the file and frees `p` (NULL is fine). Returns 0, or a
 * negative errno if any write, the flush or the close failed. */
int tw_pcap_close(tw_pcap *p);

/* The tap: a tw_link whose send() records the packet and then passes it to
 * `inner` (a packet the inner link then fails to send is still recorded),
 * and whose recv() records each packet `inner` returns. poll_fd()
 * and next_arrival() are the inner link's; close() flushes the pcap and closes
 * the inner link (the pcap writer stays the caller's to close). The caller
 * owns the struct, which must outlive its use as a link. Recorded timestamps
 * are the link's `now` plus ts_offset_ns (e.g. CLOCK_REALTIME -
 * CLOCK_MONOTONIC so that a monotonic driver writes wall-clock times). */
typedef struct tw_pcap_tap {
    tw_link link; /* hand &tap.link to tw_stack_new() or a driver */
    tw_link *inner;
    tw_pcap *pcap;
    int64_t ts_offset_ns;
} tw_pcap_tap;

void tw_pcap_tap_init(tw_pcap_tap *tap, tw_link *inner, tw_pcap *pcap, int64_t ts_offset_ns);
/* Records a packet received at `now` that did not come through the tap's recv(). */
void tw_pcap_tap_record(tw_pcap_tap *tap, const uint8_t *pkt, size_t len, uint64_t now);

#endif
