# close_tcpwave_first.sh - tcpwave closes first (RFC 9293 §3.6, case 1):
# tcpwave goes FIN_WAIT_1 -> FIN_WAIT_2 -> TIME_WAIT -> CLOSED while the
# kernel's socket sits in CLOSE_WAIT (seen with ss) until its application
# closes 2 s later, then LAST_ACK, then gone. Once with tcpwave as the client
# (connect) and once as the server (serve --close-first server); then the
# kernel reopens the 4-tuple tcpwave holds in TIME_WAIT.
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

# c. a new SYN on the 4-tuple tcpwave holds in TIME_WAIT (2 s here): the
# kernel client reconnects from the same port; its ISN is above the old RCV.NXT, so
# tcpwave ends TIME_WAIT and opens the new connection (RFC 9293 §3.10.7.4,
# RFC 6191 by ISN)
tw_bg serve3 "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7012 --mode echo --close-first server \
    --expect-bytes 5 --count 2 --msl-s 1 --pcap "$WORK/c.pcap" --timeout-s 30
wait_line "$WORK/serve3.log" "CLOSED -> LISTEN" 10
# our LAST_ACK must be over before the kernel reuses the port: 0.3 s apart
tw_bg client3 bash -c "$PEER client $TADDR 7012 --bind-port 40012 --send hello --expect-text hello &&
    sleep 0.3 && $PEER client $TADDR 7012 --bind-port 40012 --send hello --expect-text hello"
wait_job client3 20 && pass "kernel client: two connections from port 40012" || fail "kernel client (c)"
wait_job serve3 10 && pass "serve exited 0 (the reused TIME_WAIT counted as closed)" || fail "serve (c)"
# The old incarnation's TIME_WAIT ends once the new one is established (until
# then an RST from the kernel would prove the SYN an old duplicate and put the
# 4-tuple back in TIME_WAIT: RFC 9293 MAY-2 (2)).
expect_order "$WORK/serve3.log" "#1 .*FIN_WAIT_1 -> TIME_WAIT" "#1 .*<---  SYN" \
    "#2 .*LISTEN -> SYN_RECEIVED" "#2 .*SYN_RECEIVED -> ESTABLISHED" \
    "#1 .*TIME_WAIT -> CLOSED  \(TIME_WAIT reused by a new SYN\)"
pcap_check "$WORK/c.pcap" --wave-re "FIN:\.2 (ACK:\.1 FIN:\.1|FIN\+ACK:\.1) ACK:\.2"

finish
