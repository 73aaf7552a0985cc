#!/usr/bin/env python3
"""icmp_forge.py - answers tcpwave's SYN with forged ICMP errors, as a router
on the path would, to test RFC 9293 §3.9.2.2 (MUST-54/56, SHLD-26) and the
RFC 5927 sequence-number check.

    icmp_forge.py IFACE DST_PORT

Waits (at most 10 s) for a TCP SYN to DST_PORT on the TUN device IFACE
(AF_PACKET sees tcpwave's packets as they reach the kernel), then sends to
the SYN's source, through the kernel's raw ICMP socket, in this order:
  1. destination unreachable, port (3/3), quoting a sequence number outside
     SND.UNA..SND.NXT: must be ignored (DROP_ICMP_NO_CONN);
  2. destination unreachable, host (3/1): a soft error, the connection must
     live on (MUST-56);
  3. destination unreachable, port (3/3) quoting the SYN as it was: a hard
     error, which aborts a connection in SYN_SENT (SHLD-26).
Prints one line per step; exit 0 when all three were sent.
"""
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800


def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp_error(code, quote):
    hdr = struct.pack("!BBHI", 3, code, 0, 0)
    c = cksum(hdr + quote)
    return struct.pack("!BBHI", 3, code, c, 0) + quote


def main():
    iface, port = sys.argv[1], int(sys.argv[2])
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
    sniff.bind((iface, ETH_P_IP))
    sniff.settimeout(0.5)
    print("forge: watching %s for a SYN to port %d" % (iface, port), flush=True)
    deadline = time.time() + 10
    syn = None
    while time.time() < deadline and syn is None:
        try:
            pkt = sniff.recv(65535)
        except socket.timeout:
            continue
        if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
            continue
        ihl = (pkt[0] & 15) * 4
        dport = struct.unpack("!H", pkt[ihl + 2:ihl + 4])[0]
        flags = pkt[ihl + 13]
        if dport == port and flags & 0x02 and not flags & 0x10:
            syn = pkt
    if syn is None:
        print("forge: FAIL: no SYN seen", flush=True)
        return 1
    ihl = (syn[0] & 15) * 4
    src = socket.inet_ntoa(syn[12:16])
    seq = struct.unpack("!I", syn[ihl + 4:ihl + 8])[0]
    quote = syn[:ihl + 8]  # the IP header and the first 8 bytes of TCP (RFC 792)
    bad = quote[:ihl + 4] + struct.pack("!I", (seq + 100000) & 0xFFFFFFFF)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
    steps = [(3, bad, "port unreachable quoting a wrong sequence number"),
             (1, quote, "host unreachable (soft error)"),
             (3, quote, "port unreachable (hard error)")]
    for code, q, what in steps:
        raw.sendto(icmp_error(code, q), (src, 0))
        print("forge: sent %s to %s (SYN seq %d)" % (what, src, seq), flush=True)
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main())
