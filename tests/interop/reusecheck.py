#!/usr/bin/env python3
"""reusecheck.py - checks a capture in which one 4-tuple carries two
connections, the second opened while the server side of the first was in
TIME_WAIT (reuse_tw.sh), read with tshark.

    reusecheck.py FILE --client A.B.C.D:PORT --server A.B.C.D:PORT

Checks: exactly two SYNs from the client and two SYN|ACKs from the server on
that 4-tuple, and no RST; the first connection ends with the server's FIN
(so the server held TIME_WAIT); the second SYN is what Linux accepts in
TIME_WAIT (tcp_timewait_state_process): its sequence number above the first
connection's RCV.NXT at the server (the client's last SEQ + LEN + FIN), or a
TSval newer than the last one the server saw; and the server answered it with
a SYN|ACK at once, not with the old connection's ACK (which would have meant
a refused SYN and a RST-then-retry recovery). Prints what it found; exit 0
if all holds, 1 if not.
"""
import argparse
import subprocess
import sys

M = 2**32


def after(a, b):
    return 0 < (a - b) % M < 2**31


def rows(path, client, server):
    (ca, cp), (sa, sp) = client, server
    flt = ("ip.addr==%s && ip.addr==%s && tcp.port==%d && tcp.port==%d" % (ca, sa, cp, sp))
    cmd = ["tshark", "-n", "-r", path, "-Y", flt, "-T", "fields", "-E", "separator=|",
           "-e", "frame.number", "-e", "ip.src", "-e", "tcp.flags", "-e", "tcp.seq_raw",
           "-e", "tcp.ack_raw", "-e", "tcp.len", "-e", "tcp.options.timestamp.tsval"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise RuntimeError("tshark failed: %s" % r.stderr.strip())
    out = []
    for ln in r.stdout.splitlines():
        f = (ln.split("|") + [""] * 7)[:7]
        out.append(dict(n=int(f[0]), src=f[1], flags=int(f[2], 16), seq=int(f[3]),
                        ack=int(f[4] or 0), len=int(f[5] or 0), tsval=int(f[6]) if f[6] else None))
    return out


def endpoint(s):
    h, _, p = s.rpartition(":")
    return h, int(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--client", required=True, type=endpoint)
    ap.add_argument("--server", required=True, type=endpoint)
    a = ap.parse_args()
    try:
        pkts = rows(a.file, a.client, a.server)
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        print("reusecheck: %s" % e)
        return 1
    cli, srv = a.client[0], a.server[0]
    bad = []
    syns = [i for i, p in enumerate(pkts) if p["src"] == cli and p["flags"] & 0x12 == 0x02]
    synacks = [i for i, p in enumerate(pkts) if p["src"] == srv and p["flags"] & 0x12 == 0x12]
    rsts = [p["n"] for p in pkts if p["flags"] & 0x04]
    print("reusecheck: %d packets on the 4-tuple, SYNs in frames %s, SYN|ACKs in frames %s" %
          (len(pkts), [pkts[i]["n"] for i in syns], [pkts[i]["n"] for i in synacks]))
    if len(syns) != 2 or len(synacks) != 2:
        bad.append("want 2 SYNs and 2 SYN|ACKs, got %d and %d" % (len(syns), len(synacks)))
    if rsts:
        bad.append("RST in frames %s" % rsts)
    if len(syns) == 2:
        first, second = pkts[:syns[1]], pkts[syns[1]]
        fins = [p for p in first if p["flags"] & 0x01]
        if not fins or fins[0]["src"] != srv:
            bad.append("the first connection was not closed first by the server")
        # The server's RCV.NXT at the end of the first connection.
        rcv_nxt, ts_recent = None, None
        for p in first:
            if p["src"] != cli:
                continue
            end = (p["seq"] + p["len"] + (1 if p["flags"] & 0x03 else 0)) % M
            if rcv_nxt is None or after(end, rcv_nxt):
                rcv_nxt = end
            if p["tsval"] is not None:
                ts_recent = p["tsval"]
        seq_ok = rcv_nxt is not None and after(second["seq"], rcv_nxt)
        ts_ok = (ts_recent is not None and second["tsval"] is not None and
                 0 < (second["tsval"] - ts_recent) % M < 2**31)
        print("reusecheck: first connection: the server's RCV.NXT %s, last TSval %s" %
              (rcv_nxt, ts_recent))
        print("reusecheck: second SYN (frame %d): seq %d (%s RCV.NXT by %d), TSval %s (%s)" %
              (second["n"], second["seq"], "above" if seq_ok else "NOT above",
               (second["seq"] - (rcv_nxt or 0)) % M if seq_ok else 0, second["tsval"],
               "newer" if ts_ok else "not newer"))
        if not (seq_ok or ts_ok):
            bad.append("the second SYN is neither above RCV.NXT nor newer by TSval")
        reply = next((p for p in pkts[syns[1] + 1:] if p["src"] == srv), None)
        if not reply or reply["flags"] & 0x12 != 0x12 or reply["ack"] != (second["seq"] + 1) % M:
            bad.append("the server's next segment after the second SYN is not its SYN|ACK "
                       "(frame %s)" % (reply["n"] if reply else "none"))
        else:
            print("reusecheck: answered by SYN|ACK in frame %d: TIME_WAIT gave way to the new "
                  "connection" % reply["n"])
    for b in bad:
        print("reusecheck: FAIL: " + b)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
