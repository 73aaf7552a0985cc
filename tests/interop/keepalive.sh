# keepalive.sh - keep-alive probes (RFC 9293 §3.8.4) across the TUN link,
# each side probing the other on an idle connection (issue 9):
#   a. tcpwave probes the kernel: `tcpwave connect --keepalive 1,1,2` sends
#      3 bytes to a kernel server that reads them and then sits idle 5.5 s
#      before closing. tcpwave must send probes <SEQ=SND.NXT-1><ACK> with no
#      data about every second, the kernel must answer each with an ACK, and
#      the connection must stay up (a normal close afterwards, no ETIMEDOUT);
#   b. the kernel probes tcpwave: a Python client with SO_KEEPALIVE,
#      TCP_KEEPIDLE 1, TCP_KEEPINTVL 1, TCP_KEEPCNT 2 (ss shows its keepalive
#      timer) talks to `tcpwave serve --mode echo` and then idles 5.5 s.
#      tcpwave must answer every probe with an ACK (a segment below RCV.NXT:
#      not acceptable, ACK sent), or the kernel would reset after 3 s.
# Each capture is checked by keepcheck.py (probe SEQ, the ACK answering it)
# and pcapcheck.py.
# Usage: bash keepalive.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

# a. tcpwave probes the kernel
tw_bg server $PEER server "$KADDR" 7200 --read-bytes 3 --delay-close 5.5
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7200" --send 'hi\n' \
    --close-first server --keepalive 1,1,2 --msl-s 1 --stats --pcap "$WORK/a.pcap" --timeout-s 30
wait_job server 20 && pass "kernel server: read, idled 5.5 s, closed" || fail "kernel server (see server.log)"
wait_job connect 20 && pass "tcpwave connect: the connection stayed up and closed normally" ||
    fail "tcpwave connect (see connect.log)"
expect_line "$WORK/connect.log" "ended: ACK of our FIN received"
probes="$(awk '$1 == "KEEPALIVE_PROBE" {print $2}' "$WORK/connect.log")"
if [ -n "$probes" ] && [ "$probes" -ge 3 ]; then pass "tcpwave counted $probes keep-alive probes"; else fail "KEEPALIVE_PROBE ${probes:-0}, expected 3 or more"; fi
grep -q "CONN_KEEPALIVE_TIMEDOUT" "$WORK/connect.log" && fail "tcpwave gave up on the kernel"
if python3 "$HERE/keepcheck.py" "$WORK/a.pcap" --prober "$TADDR" --min 3 --max-gap 2.5 >"$WORK/keep-a.out" 2>&1; then
    pass "capture a: tcpwave's probes have SEQ=SND.NXT-1 and the kernel ACKed each"
else
    fail "capture a: keep-alive check"
fi
sed 's/^/  /' "$WORK/keep-a.out"
pcap_check "$WORK/a.pcap" --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

# b. the kernel probes tcpwave
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7201 --mode echo --count 1 --msl-s 1 \
    --stats --pcap "$WORK/b.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7201 --send 'hello\n' --read-bytes 6 --expect-echo \
    --keepalive 1,1,2 --delay-close 5.5
wait_line "$WORK/client.log" "peer: delaying close" 10
sleep 1.5
timer="$(ss -tanoH state established '( dport = :7201 )')"
if grep -q "timer:(keepalive" <<<"$timer"; then
    pass "ss: the kernel's socket runs its keepalive timer: $(echo "$timer" | grep -o 'timer:([^)]*)')"
else
    fail "ss shows no keepalive timer: $timer"
fi
wait_job client 20 && pass "kernel client: echo, 5.5 s idle with probes, closed, no reset" ||
    fail "kernel client (see client.log)"
wait_job serve 20 && pass "serve exited 0" || fail "serve exit status"
expect_order "$WORK/serve.log" "ESTABLISHED -> CLOSE_WAIT" "LAST_ACK -> CLOSED  \(ACK of our FIN received\)"
if python3 "$HERE/keepcheck.py" "$WORK/b.pcap" --prober "$KADDR" --min 3 --max-gap 2.5 >"$WORK/keep-b.out" 2>&1; then
    pass "capture b: the kernel's probes have SEQ=SND.NXT-1 and tcpwave ACKed each"
else
    fail "capture b: keep-alive check"
fi
sed 's/^/  /' "$WORK/keep-b.out"
pcap_check "$WORK/b.pcap" --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

finish
