#!/usr/bin/env python3
"""pcapcheck.py - checks a capture of an interop test with tshark.

    pcapcheck.py FILE [--allow-rst] [--allow-gaps] [--allow-loss] [--wave SPEC]... [--wave-re REGEX]...
                      [--min-packets N] [--icmp-replies N] [--data-after-fin SRC]

Always: the file must open, hold at least --min-packets packets (default 1),
and have no malformed packet, no bad IPv4/TCP/ICMP checksum (checked with
tcp/ip/icmp checksum validation on), and no expert item of severity warning
or above other than flow-control notes (window full, zero window), D-SACKs
(a receiver reporting a spurious retransmission, which a loaded machine
causes) and, with --allow-rst, "Connection reset" (with --allow-gaps,
segments the capturer missed; with --allow-loss, those and the out-of-order
segments that loss on the link makes). A TCP checksum of 0xffff where 0x0000 was
computed is the same number in ones' complement (RFC 1071); Wireshark flags
it (RFC 1624 prefers 0x0000) and Linux sometimes sends it, so it is only
noted when it comes from the kernel (198.18.0.1), and fails from tcpwave.

The close of each TCP stream is summarised as a "wave": the FIN and RST
segments in frame order, each FIN followed by the segment that first
acknowledges it, written as e.g.
    FIN:.2 ACK:.1 FIN:.1 ACK:.2      (four-way close, 198.18.0.2 first)
    FIN:.2 FIN+ACK:.1 ACK:.2         (the ACK of the first FIN rides on the second)
    RST:.2                           (abort)
(".2" is 198.18.0.2, tcpwave; ".1" is 198.18.0.1, the kernel.) A FIN
retransmitted with the same sequence number (a loaded machine makes the
kernel's tail-loss probe fire before tcpwave ACKs) appears once. --wave SPEC
requires one stream's wave to equal SPEC exactly; --wave-re REGEX to match it.
--data-after-fin SRC requires payload from SRC after the other side's first
FIN (the half-close case). Prints the waves; exit 0 if all holds, 1 if not.
"""
import argparse
import re
import subprocess
import sys

KERNEL = "198.18.0.1"
GAPS = ("segment(s) not captured", "segment that wasn't captured")
FFFF = "Checksum 0xffff instead of 0x0000"
# What loss on the link makes tshark say (bulk_loss.sh): gaps where a packet
# was dropped, the retransmission that fills it out of order.
LOSS = GAPS + ("out-of-order segment",)
# A D-SACK (RFC 2883) is a receiver reporting a duplicate it got: on a loaded
# machine the kernel's tail-loss probe or RTO fires before a starved tcpwave
# ACKs, and both stacks answer the spurious retransmission correctly.
ALLOWED = ("window specified by the receiver is now completely full", "Zero Window",
           "TCP Zero Window segment", "Window is full", "D-SACK Sequence")


def tshark(path, *args):
    # Payloads are bytes, not an application protocol: decoded as "data" on
    # every port, so no heuristic dissector (Thrift, say) reads random test
    # data as a broken message of its own and raises expert items or
    # _ws.malformed that say nothing about TCP.
    cmd = ["tshark", "-n", "-r", path, "-d", "tcp.port==1-65535,data",
           "-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
           "-o", "tcp.relative_sequence_numbers:TRUE"] + list(args)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: %s" % r.stderr.strip())
    return [ln for ln in r.stdout.splitlines() if ln.strip()]


def short(ip):
    return "." + ip.rsplit(".", 1)[-1] if ip else "?"


def first(field):
    return field.split(";")[0]


def scan(path):
    """One tshark pass: TCP segments (not the TCP headers that ICMP errors
    quote), the number of ICMP echo replies, and every expert item."""
    pkts, replies, experts, total = [], 0, [], 0
    for ln in tshark(path, "-T", "fields", "-E", "separator=|", "-E", "occurrence=a",
                     "-E", "aggregator=;", "-e", "frame.number", "-e", "ip.src", "-e", "tcp.stream",
                     "-e", "tcp.flags", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len",
                     "-e", "icmp.type", "-e", "_ws.expert.severity", "-e", "_ws.expert.message"):
        f = (ln.split("|") + [""] * 10)[:10]
        total += 1
        icmp = first(f[7])
        if icmp == "0":
            replies += 1
        for sev, msg in zip(f[8].split(";"), f[9].split(";")):
            if sev:
                experts.append((f[0], int(sev), msg, first(f[1])))
        if f[2] and not icmp:
            pkts.append(dict(n=int(f[0]), src=short(first(f[1])), stream=int(first(f[2])),
                             flags=int(first(f[3]), 16), seq=int(first(f[4])),
                             ack=int(first(f[5]) or 0), len=int(first(f[6]) or 0)))
    return total, pkts, replies, experts


def wave(pkts, late=None):
    """FIN/RST events of one stream, with the first ACK covering each FIN.
    An RST from the kernel after both FINs were acknowledged is left out and
    its frame added to `late`: it answers a duplicate ACK of ours that reached
    a socket already closed (a retransmitted FIN, re-ACKed), which is correct
    on both sides."""
    events, pending = [], []  # pending: (src, seq after the FIN)
    fins = set()  # (src, seq) of every FIN seen: a retransmission is not a new event
    closed = set()  # sources whose FIN was acknowledged
    for p in pkts:
        tags = []
        acked = [q for q in pending if q[0] != p["src"] and (p["flags"] & 0x10) and p["ack"] >= q[1]]
        for q in acked:
            pending.remove(q)
            closed.add(q[0])
        if p["flags"] & 0x04 and p["src"] == ".1" and len(closed) == 2 and late is not None:
            late.add(str(p["n"]))
            continue
        if p["flags"] & 0x04:
            tags.append("RST")
        if p["flags"] & 0x01 and (p["src"], p["seq"] + p["len"]) not in fins:
            fins.add((p["src"], p["seq"] + p["len"]))
            tags.append("FIN")
            pending.append((p["src"], p["seq"] + p["len"] + 1))
        if acked:
            tags.append("ACK")
        if tags:
            events.append("+".join(tags) + ":" + p["src"])
    return " ".join(events)


def data_after_fin(pkts, src):
    fin_seen = False
    for p in pkts:
        if p["src"] != src and p["flags"] & 0x01:
            fin_seen = True
        elif fin_seen and p["src"] == src and p["len"] > 0:
            return True
    return False


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--allow-rst", action="store_true")
    ap.add_argument("--allow-gaps", action="store_true",
                    help="the capturer lost packets (tcpdump's 'dropped by kernel'): "
                         "segments not captured are no error")
    ap.add_argument("--allow-loss", action="store_true",
                    help="the link dropped packets (tcpwave --loss): gaps, out-of-order "
                         "retransmissions and D-SACKs are no error")
    ap.add_argument("--wave", action="append", default=[])
    ap.add_argument("--wave-re", action="append", default=[])
    ap.add_argument("--min-packets", type=int, default=1)
    ap.add_argument("--icmp-replies", type=int)
    ap.add_argument("--data-after-fin", metavar="SRC")
    a = ap.parse_args()
    bad = []
    try:
        # Checksum status values: 0 Bad, 1 Good, 2 Unverified (e.g. the IP
        # header an ICMP error quotes); compared by name to be explicit.
        broken = tshark(a.file, "-Y", '_ws.malformed || ip.checksum.status == "Bad" || '
                        '(tcp.checksum.status == "Bad" && !(tcp.checksum.ffff && ip.src == %s)) || '
                        'icmp.checksum.status == "Bad"' % KERNEL)
        total, pkts, replies, experts = scan(a.file)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("pcapcheck: %s: %s" % (a.file, e))
        return 1
    if total < a.min_packets:
        bad.append("%d packets, expected at least %d" % (total, a.min_packets))
    for ln in broken:
        bad.append("malformed or bad checksum: " + ln.strip())
    allowed = ALLOWED + (("Connection reset",) if a.allow_rst else ()) + (GAPS if a.allow_gaps else ()) \
        + (LOSS if a.allow_loss else ())
    streams = {}
    for p in pkts:
        streams.setdefault(p["stream"], []).append(p)
    late = set()
    waves = [wave(ps, late) for _, ps in sorted(streams.items())]
    for num, sev, msg, src in experts:
        if num in late and "Connection reset" in msg:
            print("pcapcheck: note: frame %s: the kernel reset a duplicate ACK after the close "
                  "(its socket was gone)" % num)
        elif FFFF in msg and src == KERNEL:
            print("pcapcheck: note: frame %s: the kernel sent TCP checksum 0xffff, which verifies "
                  "like 0x0000 (RFC 1624 prefers 0x0000; tcpwave never sends 0xffff)" % num)
        elif sev >= 0x00600000 and not any(x in msg for x in allowed):
            bad.append("frame %s: expert: %s" % (num, msg))
    print("pcapcheck: %s: %d packets, %d TCP, %d streams" % (a.file, total, len(pkts), len(streams)))
    for i, w in enumerate(waves):
        print("pcapcheck:   stream %d wave: %s" % (i, w or "(no FIN/RST)"))
    for spec in a.wave:
        if spec not in waves:
            bad.append("no stream has the wave '%s'" % spec)
    for rx in a.wave_re:
        if not any(re.fullmatch(rx, w) for w in waves):
            bad.append("no stream wave matches /%s/" % rx)
    if a.icmp_replies is not None and replies != a.icmp_replies:
        bad.append("%d ICMP echo replies, expected %d" % (replies, a.icmp_replies))
    if a.data_after_fin and not any(data_after_fin(ps, a.data_after_fin) for ps in streams.values()):
        bad.append("no data from %s after the other side's FIN" % a.data_after_fin)
    for b in bad[:20]:
        print("pcapcheck: FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
