# close_tcpwave_first.sh - tcpwave closes first (RFC 9293 §3.6, case 1):
# tcpwave goes FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED while the
# kernel's socket sits in CLOSE_WAIT (seen with ss) until its application
# closes 2 s later, then LAST_ACK, then gone. Once with tcpwave as the client
# (connect) and once as the server (serve --close-first server).
# Usage: bash close_tcpwave_first.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

WAVE="FIN:.2 ACK:.1 FIN:.1 ACK:.2"
STATES=("ESTABLISHED -> FIN_WAIT_1" "FIN_WAIT_1 -> FIN_WAIT_2" "FIN_WAIT_2 -> TIME_WAIT"
        "TIME_WAIT -> CLOSED  \(2MSL timer expired\)")

# a. tcpwave client closes first
tw_bg server $PEER server "$KADDR" 7010 --expect-text 'hello\n' --delay-close 2
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7010" --send 'hello\n' \
    --close-first client --msl-s 1 --pcap "$WORK/a.pcap" --timeout-s 30
wait_line "$WORK/server.log" "peer: delaying close" 10
ss_wait close-wait 7010 3
wait_line "$WORK/connect.log" "FIN_WAIT_1 -> FIN_WAIT_2" 3
wait_job connect 20 && pass "connect exited 0" || fail "connect exit status"
wait_job server 10 && pass "kernel server read 'hello' then EOF" || fail "kernel server"
ss_gone 7010 5
expect_order "$WORK/connect.log" "${STATES[@]}"
pcap_check "$WORK/a.pcap" --wave "$WAVE"

# b. tcpwave server closes first (after echoing 6 bytes)
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7011 --mode echo --close-first server \
    --expect-bytes 6 --count 1 --msl-s 1 --pcap "$WORK/b.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7011 --send 'hello\n' --expect-echo --delay-close 2
wait_line "$WORK/client.log" "peer: delaying close" 10
ss_wait close-wait 7011 3
wait_line "$WORK/serve.log" "FIN_WAIT_1 -> FIN_WAIT_2" 3
wait_job serve 20 && pass "serve exited 0" || fail "serve exit status"
wait_job client 10 && pass "kernel client got its echo then EOF" || fail "kernel client"
ss_gone 7011 5
expect_order "$WORK/serve.log" "${STATES[@]}"
pcap_check "$WORK/b.pcap" --wave "$WAVE"

finish
