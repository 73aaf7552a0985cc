# reuse_tw.sh - a 4-tuple reused while the kernel holds it in TIME_WAIT
# (RFC 9293 §3.10.7.4 MAY-2 / RFC 6191; issue 9):
#   1. a kernel server answers and closes first, so the kernel's socket
#      198.18.0.1:7300 <-> 198.18.0.2:40000 goes TIME-WAIT (ss shows it);
#   2. tcpwave connects again from the same local port (--local-port 40000)
#      to a new kernel listener on the same port. Linux takes a SYN in
#      TIME_WAIT for a new connection when its sequence number is above the
#      old RCV.NXT or its timestamp is newer (tcp_timewait_state_process).
#      Both tcpwave runs use the same --seed, so the ISN secret is the same
#      and RFC 6528's clock makes the second ISN (and TSval) larger: the SYN
#      must be accepted at once. ss shows the new connection ESTABLISHED on
#      the 4-tuple, no TIME-WAIT left on it; the capture (tcpdump on the
#      device) shows both handshakes on one 4-tuple, SYN|ACK right after the
#      second SYN, no RST (reusecheck.py).
# Usage: bash reuse_tw.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

LPORT=40000
TUPLE="( sport = :7300 and dport = :$LPORT )"
tcpdump_ok=0
tcpdump_start tcpdump && tcpdump_ok=1

# 1. first connection: the kernel closes first and keeps TIME_WAIT (60 s on Linux)
tw_bg server1 $PEER server "$KADDR" 7300 --read-bytes 3 --reply-pattern 1000
wait_line "$WORK/server1.log" "peer: listening" 10
tw_bg connect1 "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7300" --local-port $LPORT \
    --seed 42 --send 'one' --close-first server --expect-bytes 1000 --msl-s 1 --pcap "$WORK/c1.pcap" \
    --timeout-s 20
wait_job server1 10 && pass "kernel server 1: reply then close" || fail "kernel server 1"
wait_job connect1 10 && pass "tcpwave connect 1 from port $LPORT" || fail "connect 1 (see connect1.log)"
expect_order "$WORK/connect1.log" "ESTABLISHED -> CLOSE_WAIT" "LAST_ACK -> CLOSED"
tw1="$(ss -tanH state time-wait "$TUPLE")"
if [ -n "$tw1" ]; then pass "ss: the kernel holds the 4-tuple in TIME-WAIT: $(echo "$tw1" | awk '{print $3, $4}')"
else fail "ss: no kernel TIME-WAIT socket for the 4-tuple ($(ss -tanH | tr '\n' ';'))"; fi

# 2. same 4-tuple again while the kernel is in TIME_WAIT
# (no reply this time: a segment left unacknowledged for 200 ms would race
# tcpwave's delayed ACK against the kernel's 200 ms minimum RTO)
tw_bg server2 $PEER server "$KADDR" 7300 --read-bytes 3 --delay-close 1.5
wait_line "$WORK/server2.log" "peer: listening" 10
tw_bg connect2 "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7300" --local-port $LPORT \
    --seed 42 --send 'two' --close-first server --expect-bytes 0 --msl-s 1 --pcap "$WORK/c2.pcap" \
    --timeout-s 20
wait_line "$WORK/server2.log" "peer: delaying close" 10
est="$(ss -tanH state established "$TUPLE")"
tw2="$(ss -tanH state time-wait "$TUPLE")"
if [ -n "$est" ] && [ -z "$tw2" ]; then
    pass "ss: the 4-tuple is ESTABLISHED again, its TIME-WAIT gone: $(echo "$est" | awk '{print $3, $4}')"
else
    fail "ss: established '${est}', time-wait '${tw2}'"
fi
wait_job server2 10 && pass "kernel server 2: read, idled, closed" || fail "kernel server 2 (see server2.log)"
wait_job connect2 10 && pass "tcpwave connect 2 from port $LPORT: sent, closed after the kernel" || fail "connect 2 (see connect2.log)"
if grep -qE "SYN_SENT -> ESTABLISHED" "$WORK/connect2.log" && ! grep -q "retransmission" "$WORK/connect2.log"; then
    pass "the second SYN was answered at once (no retransmitted SYN)"
else
    fail "the second connection needed a retransmission or did not open"
fi
pcap_check "$WORK/c2.pcap" --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

# Both connections in one capture: the device's, or else tcpwave's two merged.
cap="$WORK/tcpdump.pcap"
if [ $tcpdump_ok -eq 1 ]; then
    # tshark's stream analysis does not always see the second handshake as a
    # new session: its gap notes are no fault of the wire (--allow-gaps).
    tcpdump_check tcpdump --allow-gaps
else
    cap="$WORK/both.pcap"
    mergecap -w "$cap" "$WORK/c1.pcap" "$WORK/c2.pcap" || fail "mergecap"
fi
if python3 "$HERE/reusecheck.py" "$cap" --client "$TADDR:$LPORT" --server "$KADDR:7300" \
    >"$WORK/reuse.out" 2>&1; then
    pass "capture: the kernel's TIME_WAIT took the second SYN"
else
    fail "capture: reuse check"
fi
sed 's/^/  /' "$WORK/reuse.out"

finish
