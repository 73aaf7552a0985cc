#!/usr/bin/env python3
"""keepcheck.py - checks keep-alive probes in a capture of one connection
(keepalive.sh), read with tshark.

    keepcheck.py FILE --prober SRC --min N [--max-gap S]

A probe (RFC 9293 3.8.4) is a segment from SRC with no SYN/FIN/RST, 0 or 1
byte of payload and SEQ = SND.NXT - 1, where SND.NXT is the highest ACK the
other side has sent: a sequence number the other side has already
acknowledged, so it must answer with an ACK. Checks: at least N probes; every
one of them has SEQ exactly one below that ACK; each is answered by an ACK
from the other side with ACK = SEQ + 1 before the next probe; with
--max-gap, no two probes are more than S seconds apart. Wireshark's own
keep-alive flags (tcp.analysis.keep_alive, keep_alive_ack) are counted and
must agree. Prints one line per probe; exit 0 if all holds, 1 if not.
"""
import argparse
import subprocess
import sys


def rows(path):
    cmd = ["tshark", "-n", "-r", path, "-Y", "tcp", "-T", "fields", "-E", "separator=|",
           "-e", "frame.number", "-e", "frame.time_relative", "-e", "ip.src", "-e", "tcp.flags",
           "-e", "tcp.seq_raw", "-e", "tcp.ack_raw", "-e", "tcp.len",
           "-e", "tcp.analysis.keep_alive", "-e", "tcp.analysis.keep_alive_ack"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: %s" % r.stderr.strip())
    out = []
    for ln in r.stdout.splitlines():
        f = ln.split("|")
        if len(f) < 9 or not f[4]:
            continue
        out.append(dict(n=int(f[0]), t=float(f[1]), src=f[2], flags=int(f[3], 16),
                        seq=int(f[4]), ack=int(f[5] or 0), len=int(f[6] or 0),
                        ws_probe=bool(f[7]), ws_ack=bool(f[8])))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--prober", required=True, help="IPv4 source of the probes")
    ap.add_argument("--min", type=int, default=1)
    ap.add_argument("--max-gap", type=float)
    a = ap.parse_args()
    try:
        pkts = rows(a.file)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("keepcheck: %s" % e)
        return 1
    bad, probes = [], []
    peer_ack = None  # highest ACK from the other side: the prober's SND.NXT
    open_probe = None
    ws_acks = 0
    for p in pkts:
        mine = p["src"] == a.prober
        if not mine:
            if p["ws_ack"]:
                ws_acks += 1
            if p["flags"] & 0x10:
                if open_probe and p["ack"] == (open_probe["seq"] + 1) % 2**32:
                    open_probe["answered"] = p["n"]
                    open_probe = None
                if peer_ack is None or (p["ack"] - peer_ack) % 2**32 < 2**31:
                    peer_ack = p["ack"]
            continue
        control = p["flags"] & 0x07  # FIN, SYN, RST
        if control or p["len"] > 1 or peer_ack is None:
            continue
        if p["seq"] != (peer_ack - 1) % 2**32:
            continue  # ordinary data or a pure ACK
        if open_probe:
            bad.append("probe in frame %d was not answered before the next one" % open_probe["n"])
        p["answered"] = None
        probes.append(p)
        open_probe = p
    for p in probes:
        print("keepcheck: probe frame %d at %.3f s from %s: seq=%d (SND.NXT-1) len=%d%s" %
              (p["n"], p["t"], a.prober, p["seq"], p["len"],
               ", answered by frame %d" % p["answered"] if p["answered"] else ", NOT answered"))
    if open_probe:
        bad.append("the last probe (frame %d) was not answered" % open_probe["n"])
    if len(probes) < a.min:
        bad.append("%d probes from %s, expected at least %d" % (len(probes), a.prober, a.min))
    ws_probes = sum(1 for p in pkts if p["src"] == a.prober and p["ws_probe"])
    if ws_probes != len(probes):
        bad.append("Wireshark flags %d keep-alives from %s, this check found %d" %
                   (ws_probes, a.prober, len(probes)))
    if ws_acks < len(probes):
        bad.append("Wireshark flags %d keep-alive ACKs for %d probes" % (ws_acks, len(probes)))
    if a.max_gap is not None:
        for x, y in zip(probes, probes[1:]):
            if y["t"] - x["t"] > a.max_gap:
                bad.append("%.3f s between the probes of frames %d and %d (more than %.1f)" %
                           (y["t"] - x["t"], x["n"], y["n"], a.max_gap))
    print("keepcheck: %s: %d probes from %s, %d answered; Wireshark: %d keep-alives, %d ACKs" %
          (a.file, len(probes), a.prober, sum(1 for p in probes if p["answered"]), ws_probes,
           ws_acks))
    for b in bad:
        print("keepcheck: FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
