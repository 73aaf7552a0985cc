#!/usr/bin/env python3
"""tunpeer.py - a scripted raw TCP peer on a TUN device, so that the Linux
kernel's socket can be driven into closes that two kernel sockets on
loopback never produce, for tests/analyze/kernel_tun.sh (which captures the
device with tcpdump and runs `tcpwave analyze`).

The peer owns 198.18.0.2 on the TUN device (the kernel is 198.18.0.1). It
reads and writes whole IPv4 packets (IFF_TUN | IFF_NO_PI) and builds its own
IPv4 and TCP headers and checksums (RFC 791, RFC 9293 §3.1). The kernel side
is an ordinary socket in a thread of this script, so every step happens at a
known point. `ss -tan` lines taken at the interesting moments are printed as
"ss <tag>: <line>".

usage: tunpeer.py DEVICE SCENARIO
  simultaneous  port 80: the kernel's close() sends its FIN; the peer answers
                with its own FIN that does not ACK it (the FINs crossed), so
                the kernel goes FIN_WAIT_1 -> CLOSING; the peer ACKs the FIN
                100 ms later: CLOSING -> TIME_WAIT (RFC 9293 §3.6, figure 13)
  zero-window   port 81: the peer offers 4000 bytes, the kernel writes 3000
                and closes (data and FIN within the window); the peer takes
                1000, then answers window 0 for ever (its buffer is full): the
                kernel is stuck in FIN_WAIT_1 with its FIN sent and not ACKed
"""
import fcntl
import os
import select
import socket
import struct
import subprocess
import sys
import threading
import time

KERNEL, PEER = "198.18.0.1", "198.18.0.2"
TUNSETIFF = 0x400454CA
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10
ISS = 0x7FFFFF00  # the peer's initial sequence number


def ss(tag, port):
    out = subprocess.run(["ss", "-tan"], capture_output=True, text=True).stdout
    for line in out.splitlines():
        if f":{port} " in line + " ":
            print(f"ss {tag}: {' '.join(line.split())}", flush=True)


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


class Tun:
    def __init__(self, dev):
        self.fd = os.open("/dev/net/tun", os.O_RDWR)
        fcntl.ioctl(self.fd, TUNSETIFF, struct.pack("16sH", dev.encode(), IFF_TUN | IFF_NO_PI))
        self.ip_id = 1

    def send(self, sport, dport, seq, ack, flags, win, payload=b"", opts=b""):
        src, dst = socket.inet_aton(PEER), socket.inet_aton(KERNEL)
        off = (20 + len(opts)) // 4
        tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                          off << 4, flags, win, 0, 0) + opts + payload
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(tcp))
        tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp), self.ip_id, 0x4000, 64, 6, 0,
                         src, dst)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        self.ip_id += 1
        os.write(self.fd, ip + tcp)

    def recv(self, port, timeout):
        """The next TCP segment from the kernel to `port`, as a dict, or None."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or not select.select([self.fd], [], [], left)[0]:
                return None
            pkt = os.read(self.fd, 65535)
            if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
                continue  # not TCP/IPv4 (e.g. nothing else should come, but skip it)
            ihl = (pkt[0] & 15) * 4
            t = pkt[ihl:struct.unpack("!H", pkt[2:4])[0]]
            sport, dport, seq, ack, off, flags, win = struct.unpack("!HHIIBBH", t[:16])
            if dport != port:
                continue
            return dict(sport=sport, seq=seq, ack=ack, flags=flags, win=win,
                        data=t[(off >> 4) * 4:])


def handshake(tun, port, win, start):
    """Accepts the kernel's connection: returns (kernel port, the kernel's next seq)."""
    threading.Thread(target=start, daemon=True).start()
    syn = tun.recv(port, 5)
    assert syn and syn["flags"] & SYN, f"no SYN on port {port}: {syn}"
    kport, rcv = syn["sport"], syn["seq"] + 1
    # MSS 1460; no window scale: the window field is in bytes
    tun.send(port, kport, ISS, rcv, SYN | ACK, win, opts=struct.pack("!BBH", 2, 4, 1460))
    a = tun.recv(port, 5)
    assert a and a["flags"] & ACK and a["ack"] == ISS + 1, f"no ACK of the SYN: {a}"
    return kport, rcv


def simultaneous(tun):
    port = 80

    def kernel():
        s = socket.create_connection((PEER, port), timeout=5)
        s.sendall(b"hello\n")
        time.sleep(0.2)
        s.close()  # FIN_WAIT_1

    kport, rcv = handshake(tun, port, 65535, kernel)
    seg = tun.recv(port, 5)
    assert seg and seg["data"] == b"hello\n", f"no data: {seg}"
    rcv += len(seg["data"])
    tun.send(port, kport, ISS + 1, rcv, ACK, 65535)
    fin = tun.recv(port, 5)
    assert fin and fin["flags"] & FIN and fin["seq"] == rcv, f"no FIN: {fin}"
    # Our FIN, sent as if before theirs arrived: it does not ACK their FIN.
    tun.send(port, kport, ISS + 1, rcv, FIN | ACK, 65535)
    a = tun.recv(port, 2)
    assert a and a["ack"] == ISS + 2 and not a["flags"] & FIN, f"no ACK of our FIN: {a}"
    ss("closing", port)  # FIN_WAIT_1 + FIN (not ACKing ours) = CLOSING
    time.sleep(0.1)
    tun.send(port, kport, ISS + 2, rcv + 1, ACK, 65535)
    time.sleep(0.1)
    ss("time_wait", port)


def zero_window(tun):
    port = 81

    def kernel():
        s = socket.create_connection((PEER, port), timeout=5)
        s.sendall(b"z" * 3000)
        s.close()  # data and FIN fit in the 4000-byte window
        time.sleep(5)

    kport, rcv = handshake(tun, port, 4000, kernel)
    # The data and the FIN, all within the window: not answered until the
    # FIN is in, so no early window 0 can hold the FIN back.
    fin_seen = False
    while not fin_seen:
        seg = tun.recv(port, 2)
        assert seg, "the kernel never sent its FIN"
        fin_seen = bool(seg["flags"] & FIN)
    took, end = rcv + 1000, time.monotonic() + 4.2  # RTO backoff: ~0.2, 0.7, 1.6, 3.5 s
    tun.send(port, kport, ISS + 1, took, ACK, 0)
    # 1000 bytes taken, the buffer full: window 0 to every retransmission
    while time.monotonic() < end:
        seg = tun.recv(port, end - time.monotonic())
        if seg:
            tun.send(port, kport, ISS + 1, took, ACK, 0)
    ss("fin_wait_1", port)


def main():
    tun = Tun(sys.argv[1])
    {"simultaneous": simultaneous, "zero-window": zero_window}[sys.argv[2]](tun)


if __name__ == "__main__":
    main()
