#!/usr/bin/env python3
"""relink.py - rewrites a classic pcap capture (link type RAW or Ethernet)
into another link type or into pcapng, keeping every packet and timestamp,
for tests/analyze/linktypes.sh: the analysis must not depend on how the
capture framed the packets.

usage: relink.py IN OUT FORMAT
FORMAT: en10mb, raw, sll (Linux cooked v1, 113), sll2 (Linux cooked v2,
        276), null (BSD loopback, 0: AF_INET in the writer's byte order,
        written little-endian), loop (OpenBSD loopback, 108: big-endian),
        pcapng (same link type as IN, Section Header + Interface
        Description + Enhanced Packet Blocks)
Header layouts: https://www.tcpdump.org/linktypes.html
"""
import struct
import sys

LINKTYPE = {"en10mb": 1, "raw": 101, "sll": 113, "sll2": 276, "null": 0, "loop": 108}


def read_pcap(path):
    data = open(path, "rb").read()
    magic = struct.unpack("<I", data[:4])[0]
    e = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    nano = magic in (0xA1B23C4D, 0x4D3CB2A1)
    _, _, _, _, snap, lt = struct.unpack(e + "HHiIII", data[4:24])
    off, recs = 24, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec, frac // 1000 if nano else frac, data[off + 16:off + 16 + incl], orig))
        off += 16 + incl
    return lt, snap, recs


def ip_of(lt, frame):
    """The IPv4 packet inside a frame of the input's link type, or None."""
    if lt == 101:
        return frame
    if lt == 1 and len(frame) >= 14 and frame[12:14] == b"\x08\x00":
        return frame[14:]
    return None


def frame_of(fmt, ip, outgoing):
    if fmt == "raw":
        return ip
    if fmt == "en10mb":
        return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + b"\x08\x00" + ip
    if fmt == "sll":
        # packet type (4 = sent by us, 0 = to us), ARPHRD_ETHER, address
        return struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, b"\x02\0\0\0\0\x01\0\0",
                           0x0800) + ip
    if fmt == "sll2":
        # protocol, reserved, ifindex, ARPHRD_ETHER, packet type, addr len, addr
        return struct.pack("!HHIHBB8s", 0x0800, 0, 2, 1, 4 if outgoing else 0, 6,
                           b"\x02\0\0\0\0\x01\0\0") + ip
    if fmt == "null":
        return struct.pack("<I", 2) + ip
    if fmt == "loop":
        return struct.pack(">I", 2) + ip
    raise SystemExit(f"unknown format {fmt}")


def write_pcap(path, lt, snap, recs):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snap, lt))
        for sec, usec, frame, orig in recs:
            f.write(struct.pack("<IIII", sec, usec, len(frame), orig) + frame)


def pad4(b):
    return b + b"\0" * (-len(b) % 4)


def block(btype, body):
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def write_pcapng(path, lt, snap, recs):
    with open(path, "wb") as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack("<HHI", lt, 0, snap)))  # default if_tsresol: microseconds
        for sec, usec, frame, orig in recs:
            ts = sec * 1000000 + usec
            f.write(block(6, struct.pack("<IIIII", 0, ts >> 32, ts & 0xFFFFFFFF, len(frame), orig)
                          + pad4(frame)))


def main():
    src, dst, fmt = sys.argv[1:4]
    lt, snap, recs = read_pcap(src)
    if fmt == "pcapng":
        return write_pcapng(dst, lt, snap, recs)
    out, first_src = [], None
    for sec, usec, frame, orig in recs:
        ip = ip_of(lt, frame)
        if ip is None:
            raise SystemExit(f"{src}: a frame that is not IPv4 in link type {lt}")
        first_src = first_src or ip[12:16]
        new = frame_of(fmt, ip, ip[12:16] == first_src)
        out.append((sec, usec, new, orig - len(frame) + len(new)))
    write_pcap(dst, LINKTYPE[fmt], max(snap, 65535), out)


if __name__ == "__main__":
    main()
