# icmp.sh - tcpwave's ICMP (RFC 792, RFC 1122 §3.2.2.6, RFC 9293 §3.9.2.2):
#   a. the kernel's ping gets echo replies from tcpwave (odd, small and large
#      payloads), checked byte for byte by ping and by tshark's checksums;
#      serve stops cleanly on SIGTERM;
#   b. ICMP errors for a connection in SYN_SENT, forged as a router would
#      send them: one quoting a wrong sequence number is ignored (RFC 5927),
#      a soft error (host unreachable) keeps the connection (MUST-56) and is
#      reported to the application as "no route to host" (MUST-47), a hard
#      one (port unreachable) aborts it with "connection refused" (SHLD-26).
# Usage: bash icmp.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"
command -v ping >/dev/null 2>&1 || skip "'ping' not installed (./tw deps installs iputils-ping)"

# a. ping
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7050 --stats --pcap "$WORK/a.pcap" \
    --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
n=0
for size in 56 33 1400; do
    if timeout 10 ping -n -c 2 -i 0.2 -W 2 -s $size "$TADDR" >>"$WORK/ping.log" 2>&1; then
        pass "ping -s $size: 2 replies"
        n=$((n + 2))
    else
        fail "ping -s $size (see ping.log)"
    fi
done
signal_job serve TERM || fail "serve was not running when SIGTERM was due"
wait_job serve 10 && pass "serve stopped by SIGTERM, exit 0" || fail "serve exit status after SIGTERM"
expect_line "$WORK/serve.log" "stopped by signal 15"
expect_line "$WORK/serve.log" "ICMP_ECHO_REPLIED +$n "
pcap_check "$WORK/a.pcap" --icmp-replies $n

# b. forged ICMP errors against a connect in SYN_SENT (198.18.0.3 does not
# exist: the kernel drops the SYN, only the forger answers)
tw_bg forge python3 "$HERE/icmp_forge.py" "$IFACE" 9
wait_line "$WORK/forge.log" "forge: watching" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to 198.18.0.3:9 --send x --stats \
    --pcap "$WORK/b.pcap" --timeout-s 20
wait_job forge 15 && pass "forger sent its three ICMP errors" || fail "forger"
wait_job connect 10
rc=$?
[ $rc -eq 1 ] && pass "connect exit status 1 (refused)" || fail "connect exit status $rc, expected 1"
expect_order "$WORK/connect.log" "drop: ICMP error for no connection" \
    "app: soft error: no route to host \(the connection goes on\)" \
    "SYN_SENT -> CLOSED  \(ICMP destination unreachable \(hard error\)\)" "ended: connection refused"
expect_line "$WORK/connect.log" "ICMP_ERR_SOFT +1 "
expect_line "$WORK/connect.log" "ICMP_ERR_HARD +1 "
expect_line "$WORK/connect.log" "DROP_ICMP_NO_CONN +1 "
pcap_check "$WORK/b.pcap"

finish
