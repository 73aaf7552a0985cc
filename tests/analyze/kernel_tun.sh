#!/bin/bash
# kernel_tun.sh - `tcpwave analyze` on the Linux kernel's closes that need a
# scripted peer: a real simultaneous close (the kernel in FIN_WAIT_1 gets a
# FIN that does not ACK its own: CLOSING, then TIME_WAIT) and a kernel stuck
# in FIN_WAIT_1 behind a zero window with its FIN sent. Loopback cannot show
# the first (two kernel sockets serialise it into a three-way close).
#
# In a private network namespace (unshare -n) holding only lo and the TUN
# device twa0 (the kernel 198.18.0.1/24; tunpeer.py, a raw TCP peer written
# in Python, is 198.18.0.2; the script refuses to run if anything else is
# there or a default route exists), tcpdump records twa0 (link type RAW)
# while tunpeer.py runs each scenario; the analyzer's verdict is checked
# against what `ss` showed of the kernel's socket. Root only (exit 77
# otherwise). Usage: bash kernel_tun.sh TCPWAVE
set -u
TW="${1:?usage: bash kernel_tun.sh PATH-TO-tcpwave}"
TW="$(cd "$(dirname "$TW")" && pwd)/$(basename "$TW")"
HERE="$(cd "$(dirname "$0")" && pwd)"
TEST=kernel_tun
NS_TUN=1
source "$HERE/nslib.bash"
ns_enter "$0" "$@"
ip tuntap add dev twa0 mode tun || { say "FAIL: cannot create twa0"; exit 1; }
[ -w /proc/sys/net/ipv6/conf/twa0/disable_ipv6 ] && echo 1 >/proc/sys/net/ipv6/conf/twa0/disable_ipv6
ip addr add 198.18.0.1/24 dev twa0
ip link set twa0 up
ns_isolated "lo twa0 "

tcpdump -i twa0 -U --immediate-mode -n -w "$WORK/tun.pcap" tcp >"$WORK/tcpdump.log" 2>&1 &
TCPDUMP_PID=$!
for _ in $(seq 50); do grep -qs "listening on" "$WORK/tcpdump.log" && break; sleep 0.1; done
for scn in simultaneous zero-window; do
    timeout 20 python3 "$HERE/tunpeer.py" twa0 "$scn" >"$WORK/$scn.log" 2>&1 ||
        { cat "$WORK/$scn.log"; say "FAIL: tunpeer.py $scn"; exit 1; }
done
sleep 0.5
kill -INT "$TCPDUMP_PID"
wait "$TCPDUMP_PID" 2>/dev/null
TCPDUMP_PID=""

# the zero-window scenario holds the window closed for 4 s
"$TW" analyze "$WORK/tun.pcap" --zero-window-ms 1500 >"$WORK/analyze.txt" || { say "FAIL: analyze"; exit 1; }
"$TW" analyze "$WORK/tun.pcap" --zero-window-ms 1500 --json >"$WORK/analyze.jsonl" ||
    { say "FAIL: analyze --json"; exit 1; }
cat "$WORK"/*.log | grep "^ss " | sed 's/^/  /'

python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
conns = {int(c["server"]["endpoint"].split(":")[1]): c
         for c in (json.loads(l) for l in open(f"{work}/analyze.jsonl"))}
fails = []
def expect(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        fails.append(msg)
def ss(scn, tag):
    return [l.split() for l in open(f"{work}/{scn}.log") if l.startswith(f"ss {tag}:")]
def states(c, side):
    return [s["state"] for s in c[side]["states"]]
def diags(c, code):
    return [d for d in c["diagnoses"] if d["code"] == code]

c = conns.get(80)
expect(c is not None, "simultaneous: connection to port 80 analyzed")
if c:
    expect(c["kind"] == "simultaneous", f"simultaneous: kind {c['kind']}")
    # the kernel (client) really went FIN_WAIT_1 -> CLOSING -> TIME_WAIT
    expect(states(c, "client") == ["CLOSED", "SYN_SENT", "ESTABLISHED", "FIN_WAIT_1", "CLOSING",
                                   "TIME_WAIT", "CLOSED"],
           f"simultaneous: kernel states {states(c, 'client')}")
    cl = [s for s in c["client"]["states"] if s["state"] == "CLOSING"]
    expect(bool(cl) and cl[0]["mark"] == "observed",
           f"simultaneous: CLOSING observed (the kernel ACKed the peer's FIN, not FIN|ACK): {cl}")
    d = diags(c, "simultaneous")
    # the peer's FIN did not ACK the kernel's either: CLOSING on both sides
    expect(bool(d) and "(CLOSING on both sides)" in d[0]["text"]
           and d[0]["frames"] == [c["client"]["fin_frame"], c["server"]["fin_frame"]],
           f"simultaneous: diagnosis {d}")
    expect(not diags(c, "three_way"), "simultaneous: not called a three-way close")
expect(any(l[2] == "CLOSING" and l[6] == "198.18.0.2:80" for l in ss("simultaneous", "closing")),
       "simultaneous: ss showed the kernel in CLOSING")
expect(any(l[2] == "TIME-WAIT" and l[6] == "198.18.0.2:80" for l in ss("simultaneous", "time_wait")),
       "simultaneous: ss showed the kernel in TIME-WAIT after the peer's ACK")

c = conns.get(81)
expect(c is not None, "zero-window: connection to port 81 analyzed")
if c:
    expect(c["client"]["fin_frame"] > 0 and states(c, "client")[-1] == "FIN_WAIT_1",
           f"zero-window: kernel FIN sent, still FIN_WAIT_1 at capture end: {states(c, 'client')}")
    d = diags(c, "zero_window")
    expect(len(d) == 1 and d[0]["text"].startswith("stuck in FIN_WAIT_1 behind a zero window: the client's FIN"),
           f"zero-window: diagnosis {d}")
    expect(bool(d) and c["client"]["fin_frame"] in d[0]["frames"] and len(d[0]["frames"]) >= 3,
           f"zero-window: frames name the zero window, the FIN and the probes: {d[0]['frames'] if d else None}")
    # the peer's ACKs (window 0, below the FIN) show it never took the FIN
    expect(states(c, "server")[-1] == "ESTABLISHED" and "CLOSE_WAIT" not in states(c, "server"),
           f"zero-window: the peer never accepted the FIN: {states(c, 'server')}")
    expect(bool(diags(c, "unterminated")), "zero-window: unterminated at capture end")
expect(any(l[2] == "FIN-WAIT-1" and l[6] == "198.18.0.2:81" for l in ss("zero-window", "fin_wait_1")),
       "zero-window: ss showed the kernel in FIN-WAIT-1")
sys.exit(1 if fails else 0)
EOF
ns_verdict $?
