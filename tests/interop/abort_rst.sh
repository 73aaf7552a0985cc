# abort_rst.sh - connections that end with RST instead of the FIN wave:
#   a. tcpwave aborts (--linger0, RFC 9293 §3.10.5 ABORT): RST, no TIME_WAIT;
#      the kernel's recv() fails with ECONNRESET;
#   b. the kernel aborts (SO_LINGER 0): tcpwave goes ESTABLISHED -> CLOSED
#      (RST received) and reports the reset;
#   c. tcpwave closes with unread data (serve --mode hold): RST, not FIN
#      (RFC 9293 §3.10.4, SHLD-3 / RFC 2525);
#   d. the kernel closes with unread data: tcpwave gets the RST.
# Each time the capture must hold exactly that one RST and no FIN.
# Usage: bash abort_rst.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

# a. tcpwave connect aborts after its echo came back
tw_bg server $PEER server "$KADDR" 7040 --echo --expect-reset
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7040" --send 'hello\n' \
    --expect-bytes 6 --linger0 --pcap "$WORK/a.pcap" --timeout-s 30
wait_job connect 20 && pass "connect exited 0" || fail "connect exit status"
wait_job server 10 && pass "kernel server saw ECONNRESET" || fail "kernel server"
expect_order "$WORK/connect.log" "app: abort" "ESTABLISHED -> CLOSED  \(user abort \(RST sent\)\)" "--->  RST"
ss_gone 7040 3
pcap_check "$WORK/a.pcap" --allow-rst --wave "RST:.2"

# b. the kernel client aborts with SO_LINGER 0
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7041 --mode echo --count 1 \
    --pcap "$WORK/b.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7041 --send 'hello\n' --read-bytes 6 --expect-echo --linger0
wait_job client 10 && pass "kernel client closed with SO_LINGER 0" || fail "kernel client"
wait_job serve 10 && pass "serve exited 0" || fail "serve exit status"
expect_order "$WORK/serve.log" "<---  RST" "ESTABLISHED -> CLOSED  \(RST received\)" "connection reset by peer"
pcap_check "$WORK/b.pcap" --allow-rst --wave "RST:.1"

# c. tcpwave closes with 6 unread bytes
tw_bg hold "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7042 --mode hold --expect-bytes 6 --count 1 \
    --pcap "$WORK/c.pcap" --timeout-s 30
wait_line "$WORK/hold.log" "CLOSED -> LISTEN" 10
tw_bg client2 $PEER client "$TADDR" 7042 --send 'hello\n' --expect-reset
wait_job client2 10 && pass "kernel client saw ECONNRESET" || fail "kernel client (c)"
wait_job hold 10 && pass "serve exited 0" || fail "serve exit status (c)"
expect_order "$WORK/hold.log" "app: close" "ESTABLISHED -> CLOSED  \(user close with unread data \(RST sent\)\)" "--->  RST"
ss_gone 7042 3
pcap_check "$WORK/c.pcap" --allow-rst --wave "RST:.2"

# d. the kernel server closes with unread data
tw_bg server2 $PEER server "$KADDR" 7043 --no-read --wait-data
wait_line "$WORK/server2.log" "peer: listening" 10
tw_bg connect2 "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7043" --send 'hello\n' \
    --close-first server --expect-reset --pcap "$WORK/d.pcap" --timeout-s 30
wait_job server2 10 && pass "kernel server closed with unread data" || fail "kernel server (d)"
wait_job connect2 10 && pass "connect exited 0 (reset expected)" || fail "connect exit status (d)"
expect_order "$WORK/connect2.log" "<---  RST" "ESTABLISHED -> CLOSED  \(RST received\)" "ended: connection reset by peer"
pcap_check "$WORK/d.pcap" --allow-rst --wave "RST:.1"

finish
