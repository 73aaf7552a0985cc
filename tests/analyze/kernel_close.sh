#!/bin/bash
# kernel_close.sh - `tcpwave analyze` on captures of the Linux kernel's own
# closes. In a private network namespace (unshare -n: only lo, holding
# 198.18.0.1 and 198.18.0.2 of the 198.18.0.0/15 benchmarking range; the
# script refuses to run if anything else is there), tcpdump records lo while
# kpeer.py runs each scenario between kernel sockets, one server port per
# scenario; the analyzer's close kind, first closer and diagnoses are then
# checked per port, and `ss -tan` observations against its states. The
# abort (linger 0 after reading) and unread (close with 3000 bytes unread)
# clients use a 4 KB receive buffer so their windows show what they hold;
# zero-window leaves the sender in FIN-WAIT-1 with its FIN queued behind
# data a never-reading receiver does not take (3 s). A second, live
# `tcpdump -i any` (Linux cooked v2) records the same traffic: its analysis
# must give every connection the same kind, closer, states and diagnoses.
# Needs root (exit 77, skipped, otherwise). Usage: bash kernel_close.sh TCPWAVE
set -u
TW="${1:?usage: bash kernel_close.sh PATH-TO-tcpwave}"
TW="$(cd "$(dirname "$TW")" && pwd)/$(basename "$TW")"
HERE="$(cd "$(dirname "$0")" && pwd)"
TEST=kernel_close
source "$HERE/nslib.bash"
ns_enter "$0" "$@"
ip addr add 198.18.0.1/32 dev lo
ip addr add 198.18.0.2/32 dev lo
ns_isolated "lo "

tcpdump -i lo -U --immediate-mode -n -w "$WORK/lo.pcap" tcp >"$WORK/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
# The same traffic through the "any" device: Linux cooked capture v2 (SLL2),
# live, as a user would take it; its analysis must say the same.
tcpdump -i any -U --immediate-mode -B 8192 -n -w "$WORK/any.pcap" tcp >"$WORK/tcpdump-any.log" 2>&1 &
TCPDUMP_PID="$TCPDUMP_PID $!"
for _ in $(seq 50); do grep -qs "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done
for _ in $(seq 50); do grep -qs "listening on" "$WORK/tcpdump-any.log" && break; sleep 0.1; done

declare -A PORT=([client-first]=8001 [server-first]=8002 [three-way]=8003 [simultaneous]=8004
    [half-close]=8005 [abort]=8006 [unread]=8007 [reuse]=8008 [zero-window]=8009)
for scn in client-first server-first three-way simultaneous half-close abort unread reuse zero-window; do
    timeout 20 python3 "$HERE/kpeer.py" "$scn" "${PORT[$scn]}" >"$WORK/$scn.log" 2>&1 ||
        { cat "$WORK/$scn.log"; say "FAIL: kpeer.py $scn"; exit 1; }
done
sleep 1
kill -INT $TCPDUMP_PID
wait $TCPDUMP_PID 2>/dev/null
TCPDUMP_PID=""
grep -q "LINUX_SLL2" "$WORK/tcpdump-any.log" || { cat "$WORK/tcpdump-any.log"; say "FAIL: -i any is not SLL2"; exit 1; }
grep -q "^0 packets dropped by kernel" "$WORK/tcpdump-any.log" ||
    { cat "$WORK/tcpdump-any.log"; say "FAIL: tcpdump -i any dropped packets"; exit 1; }

# the zero-window scenario holds its window closed for 3 s
"$TW" analyze "$WORK/lo.pcap" --zero-window-ms 2000 >"$WORK/analyze.txt" || { say "FAIL: analyze"; exit 1; }
"$TW" analyze "$WORK/lo.pcap" --zero-window-ms 2000 --json >"$WORK/analyze.jsonl" || { say "FAIL: analyze --json"; exit 1; }
"$TW" analyze "$WORK/any.pcap" --zero-window-ms 2000 --json >"$WORK/analyze-any.jsonl" ||
    { say "FAIL: analyze --json of the -i any capture"; exit 1; }
cat "$WORK"/*.log | grep "^ss " | sed 's/^/  /'

python3 - "$WORK" <<'EOF'
import json, sys, re
work = sys.argv[1]
conns = [json.loads(l) for l in open(f"{work}/analyze.jsonl")]
by_port = {}
for c in conns:
    port = int(c["server"]["endpoint"].split(":")[1])
    by_port.setdefault(port, []).append(c)
fails = []
def ss_lines(scn, tag):
    return [l for l in open(f"{work}/{scn}.log") if l.startswith(f"ss {tag}:")]
def diag(c, code):
    return any(d["code"] == code for d in c["diagnoses"])
def states(c, side):
    return [s["state"] for s in c[side]["states"]]
def expect(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        fails.append(msg)

c = by_port[8001][0]
expect(c["kind"] == "four_way" and c["first_closer"] == "client", f"client-first: {c['kind']}, {c['first_closer']} first")
expect("FIN_WAIT_2" in states(c, "client") and "TIME_WAIT" in states(c, "client"), "client-first: client FIN_WAIT_2 then TIME_WAIT")
expect("CLOSE_WAIT" in states(c, "server") and "LAST_ACK" in states(c, "server"), "client-first: server CLOSE_WAIT, LAST_ACK")
expect(any("CLOSE-WAIT" in l and "198.18.0.2:8001" == l.split()[5] for l in ss_lines("client-first", "close_wait")) or
       any("CLOSE-WAIT" in l for l in ss_lines("client-first", "close_wait")), "client-first: ss saw CLOSE-WAIT while the analyzer did")
cw = [s for s in c["server"]["states"] if s["state"] == "CLOSE_WAIT"][0]
expect(cw["dwell_ns"] >= 250_000_000, f"client-first: server CLOSE_WAIT dwell {cw['dwell_ns']} ns >= 0.25 s (the script slept 0.3 s)")

c = by_port[8002][0]
expect(c["kind"] == "four_way" and c["first_closer"] == "server", f"server-first: {c['kind']}, {c['first_closer']} first")
expect("TIME_WAIT" in states(c, "server"), "server-first: the server holds TIME_WAIT")
expect(any("TIME-WAIT" in l and l.split()[5].endswith(":8002") for l in ss_lines("server-first", "after")), "server-first: ss shows TIME-WAIT on the server's side")

c = by_port[8003][0]
expect(c["kind"] in ("three_way", "four_way"), f"three-way: kind {c['kind']} (kernel merges ACK+FIN when it closes at once)")
if c["kind"] == "three_way":
    expect(diag(c, "three_way"), "three-way: diagnosis three_way")
    expect("LAST_ACK" in states(c, "server") and "FIN_WAIT_2" not in states(c, "client"), "three-way: client goes FIN_WAIT_1 -> TIME_WAIT")
else:
    print("note three-way: this kernel sent the ACK of the FIN before its own FIN")

c = by_port[8004][0]
crossed = "CLOSING" in states(c, "client") or "CLOSING" in states(c, "server")
expect(c["kind"] == ("simultaneous" if crossed else c["kind"]) and c["kind"] in ("simultaneous", "four_way", "three_way"),
       f"simultaneous (best effort): kind {c['kind']}, CLOSING seen: {crossed}")

c = by_port[8005][0]
expect(c["kind"] == "half_close" and diag(c, "half_close"), f"half-close: {c['kind']}")
hd = [d for d in c["diagnoses"] if d["code"] == "half_close"]
expect(bool(hd) and "3000 byte" in hd[0]["text"], "half-close: 3000 bytes after the first FIN")

c = by_port[8006][0]
expect(c["kind"] == "abort" and c["first_closer"] == "client" and diag(c, "abort")
       and not diag(c, "unread_rst") and c["client"]["rst_verdict"] == "abort",
       f"abort: {c['kind']}, diagnoses {[d['code'] for d in c['diagnoses']]}, verdict {c['client']['rst_verdict']}")
expect("TIME_WAIT" not in states(c, "client"), "abort: no TIME_WAIT")
ab = [d for d in c["diagnoses"] if d["code"] == "abort"]
expect(bool(ab) and len(ab[0]["frames"]) == 3 and ab[0]["frames"][-1] == c["client"]["rst_frame"],
       f"abort: evidence frames (last data, window update, RST): {ab[0]['frames'] if ab else None}")

c = by_port[8007][0]
expect(c["kind"] == "abort" and diag(c, "unread_rst") and not diag(c, "abort")
       and c["client"]["rst_verdict"] == "unread_data",
       f"unread: {c['kind']}, diagnoses {[d['code'] for d in c['diagnoses']]}, verdict {c['client']['rst_verdict']}")
ur = [d for d in c["diagnoses"] if d["code"] == "unread_rst"]
expect(bool(ur) and ur[0]["frames"][-1] == c["client"]["rst_frame"] and "never reopened" in ur[0]["text"],
       f"unread: evidence frames end at the RST: {ur[0]['frames'] if ur else None}")
expect(any(l.split()[3] == "3000" and l.split()[2] == "ESTAB" for l in ss_lines("unread", "unread")),
       "unread: ss showed Recv-Q 3000 on the client before its close")

cs = by_port[8008]
expect(len(cs) == 2 and cs[1]["incarnation"] == 2, f"reuse: {len(cs)} incarnations on one 4-tuple")
if len(cs) == 2:
    expect(diag(cs[1], "tw_reuse") and "accepted" in [d for d in cs[1]["diagnoses"] if d["code"] == "tw_reuse"][0]["text"],
           "reuse: new SYN accepted while the server held TIME_WAIT")
    expect(any("TIME-WAIT" in l for l in ss_lines("reuse", "time_wait")), "reuse: ss saw the TIME-WAIT that was reused")

c = by_port[8009][0]
zw = [d for d in c["diagnoses"] if d["code"] == "zero_window"]
expect(len(zw) == 1 and "the client probed" in zw[0]["text"] and "FIN_WAIT_1" in zw[0]["text"],
       f"zero-window: diagnosis {zw[0]['text'] if zw else None}")
expect(bool(zw) and len(zw[0]["frames"]) == 2 and zw[0]["frames"][0] < zw[0]["frames"][1],
       f"zero-window: frames (first window 0, last probe) {zw[0]['frames'] if zw else None}")
expect(any(l.split()[2] == "FIN-WAIT-1" and l.split()[6] == "198.18.0.2:8009" for l in ss_lines("zero-window", "zero_window")),
       "zero-window: ss showed the sender in FIN-WAIT-1 (Send-Q full, FIN queued)")
expect(c["server"]["rst_verdict"] == "unread_data", f"zero-window: the receiver's final RST has unread data: {c['server']['rst_verdict']}")
# The live "any" (SLL2) capture: the same connections, each with the same
# close kind, first closer, per-side states, RST verdicts and diagnoses.
def gist(c):
    side = lambda s: (states(c, s), c[s]["rst_verdict"], c[s]["fin_retransmits"])
    return (c["server"]["endpoint"], c["kind"], c["first_closer"], side("client"), side("server"),
            sorted(d["code"] for d in c["diagnoses"]))
anyc = [json.loads(l) for l in open(f"{work}/analyze-any.jsonl")]
diff = [(a, b) for a, b in zip(map(gist, anyc), map(gist, conns)) if a != b]
expect(len(anyc) == len(conns) and not diff,
       f"tcpdump -i any (SLL2): {len(anyc)} connections against {len(conns)} on lo; "
       f"first difference: {diff[0] if diff else None}")
sys.exit(1 if fails else 0)
EOF
ns_verdict $?
