#!/usr/bin/env python3
"""bulkcheck.py - checks the options of a bulk transfer over a lossy link
(bulk_loss.sh) in a capture of the TUN device, read with tshark in one pass.

    bulkcheck.py FILE --a A.B.C.D --b A.B.C.D [--min-sack N]

Checks: each side's SYN (A's SYN, B's SYN|ACK) offers MSS, SACK-permitted,
timestamps and window scaling with a shift above 0 (RFC 7323, RFC 2018);
every later segment of both sides carries a timestamp (RFC 7323 §3.2: once
negotiated, on every segment but RSTs); each side sent at least --min-sack
(default 1) ACKs with SACK blocks, i.e. each saw holes that the other side's
retransmissions filled. Prints the figures; exit 0 if all holds, 1 if not.
"""
import argparse
import subprocess
import sys

FIELDS = ["frame.number", "ip.src", "tcp.flags", "tcp.options.mss_val",
          "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.options.timestamp.tsval",
          "tcp.options.sack_le", "tcp.options.sack.dsack", "tcp.len"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--a", required=True, help="the side that sent the SYN")
    ap.add_argument("--b", required=True, help="the side that answered it")
    ap.add_argument("--min-sack", type=int, default=1)
    a = ap.parse_args()
    # Options only: no sequence analysis, which is most of tshark's time.
    cmd = ["tshark", "-n", "-r", a.file, "-o", "tcp.analyze_sequence_numbers:FALSE",
           "-Y", "tcp", "-T", "fields", "-E", "separator=|",
           "-E", "occurrence=a", "-E", "aggregator=;"]
    for f in FIELDS:
        cmd += ["-e", f]
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        print("bulkcheck: tshark took too long")
        return 1
    if r.returncode != 0:
        print("bulkcheck: tshark failed: %s" % r.stderr.strip())
        return 1
    bad = []
    syn = {}
    segs = {a.a: 0, a.b: 0}
    no_ts = {a.a: 0, a.b: 0}
    sack = {a.a: 0, a.b: 0}
    blocks = {a.a: 0, a.b: 0}
    dsack = {a.a: 0, a.b: 0}
    data = {a.a: 0, a.b: 0}
    for ln in r.stdout.splitlines():
        f = (ln.split("|") + [""] * len(FIELDS))[:len(FIELDS)]
        src, flags = f[1], int(f[2], 16)
        if src not in segs:
            continue
        segs[src] += 1
        data[src] += int(f[9] or 0)
        if flags & 0x02:
            syn.setdefault(src, dict(frame=f[0], synack=bool(flags & 0x10), mss=f[3], ws=f[4],
                                     sack_perm=f[5] != "", ts=f[6] != ""))
        elif not flags & 0x04 and not f[6]:
            no_ts[src] += 1
        if f[7]:
            sack[src] += 1
            blocks[src] += len(f[7].split(";"))
        if f[8]:
            dsack[src] += 1
    for side, want_synack in ((a.a, False), (a.b, True)):
        s = syn.get(side)
        if not s:
            bad.append("no SYN from %s" % side)
            continue
        what = "SYN|ACK" if want_synack else "SYN"
        print("bulkcheck: %s's %s (frame %s): MSS %s, window scale shift %s, SACK-permitted %s, "
              "timestamps %s" % (side, what, s["frame"], s["mss"] or "-", s["ws"] or "-",
                                 "yes" if s["sack_perm"] else "no", "yes" if s["ts"] else "no"))
        if s["synack"] != want_synack:
            bad.append("%s's first SYN segment is not a %s" % (side, what))
        if not s["mss"]:
            bad.append("%s's %s has no MSS" % (side, what))
        if not s["ws"] or int(s["ws"].split(";")[0]) <= 0:
            bad.append("%s's %s has no window scale shift above 0" % (side, what))
        if not s["sack_perm"]:
            bad.append("%s's %s has no SACK-permitted" % (side, what))
        if not s["ts"]:
            bad.append("%s's %s has no timestamps" % (side, what))
    for side in (a.a, a.b):
        print("bulkcheck: %s: %d segments, %d payload bytes on the wire, %d without a timestamp, "
              "%d ACKs with SACK blocks (%d blocks, %d D-SACK)" %
              (side, segs[side], data[side], no_ts[side], sack[side], blocks[side], dsack[side]))
        if no_ts[side]:
            bad.append("%d segments from %s without a timestamp" % (no_ts[side], side))
        if sack[side] < a.min_sack:
            bad.append("%d ACKs with SACK blocks from %s, expected at least %d" %
                       (sack[side], side, a.min_sack))
    for b in bad:
        print("bulkcheck: FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
