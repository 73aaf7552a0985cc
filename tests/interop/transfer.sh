# transfer.sh - data both ways, byte for byte, between the Linux kernel and
# tcpwave over TUN, small and 4 MB:
#   1. kernel client -> tcpwave serve --mode echo: 4 MB of random bytes sent
#      and echoed back while being sent; the client half-closes, tcpwave
#      echoes the rest, then closes (CLOSE_WAIT -> LAST_ACK -> CLOSED);
#   2. tcpwave connect -> kernel echo server: 4 MB of the i%251 pattern,
#      checked by tcpwave (--expect-echo) as it comes back; tcpwave closes
#      first; captured by tcpwave (--pcap) and by tcpdump on the device;
#   3. tcpwave connect -> kernel sink: 100 KB that the kernel checks;
#   4. tcpwave connect --send-stdin from a pipe -> kernel echo server.
# Usage: bash transfer.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

MB4=4000000

# 1. kernel client, tcpwave echo server
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7 --mode echo --count 1 --msl-s 1 \
    --quiet --stats --pcap "$WORK/serve.pcap" --timeout-s 60
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7 --send-random $MB4 --shutdown --expect-echo --timeout 30
wait_job client 60 && pass "kernel client: 4 MB echoed byte for byte" || fail "kernel client (see client.log)"
wait_job serve 30 && pass "serve exited 0" || fail "serve exit status"
expect_line "$WORK/serve.log" "closed; received $MB4 bytes, sent $MB4 bytes"
expect_order "$WORK/serve.log" "ESTABLISHED -> CLOSE_WAIT" "CLOSE_WAIT -> LAST_ACK" "LAST_ACK -> CLOSED"
pcap_check "$WORK/serve.pcap" --min-packets 2000 --wave-re "FIN:\.1 (ACK:\.2 FIN:\.2|FIN\+ACK:\.2) ACK:\.1"

# 2. tcpwave client, kernel echo server, also captured by tcpdump
tcpdump_ok=0
tcpdump_start tcpdump && tcpdump_ok=1
tw_bg echo $PEER server "$KADDR" 7001 --echo --timeout 30
wait_line "$WORK/echo.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7001" --send-bytes $MB4 \
    --expect-echo --expect-bytes $MB4 --msl-s 1 --quiet --pcap "$WORK/connect.pcap" --timeout-s 60
wait_job connect 60 && pass "tcpwave connect: 4 MB echoed, verified by tcpwave" || fail "connect (see connect.log)"
wait_job echo 30 && pass "kernel echo server OK" || fail "kernel echo server"
expect_line "$WORK/connect.log" "echo verified, $MB4 bytes identical"
expect_order "$WORK/connect.log" "ESTABLISHED -> FIN_WAIT_1" "TIME_WAIT -> CLOSED"
pcap_check "$WORK/connect.pcap" --min-packets 2000 --wave-re "FIN:\.2 (ACK:\.1 FIN:\.1|FIN\+ACK:\.1) ACK:\.2"
[ $tcpdump_ok -eq 1 ] && tcpdump_check tcpdump --min-packets 2000 --wave-re "FIN:\.2 (ACK:\.1 FIN:\.1|FIN\+ACK:\.1) ACK:\.2"

# 3. tcpwave client, kernel sink checking the pattern
tw_bg sink $PEER server "$KADDR" 7002 --expect-pattern 100000 --timeout 30
wait_line "$WORK/sink.log" "peer: listening" 10
tw_bg connect2 "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7002" --send-bytes 100000 \
    --close-first client --msl-s 1 --quiet --timeout-s 30
wait_job connect2 40 && pass "tcpwave connect: 100 KB sent" || fail "connect2 (see connect2.log)"
wait_job sink 30 && pass "kernel sink received the 100 KB pattern intact" || fail "kernel sink (see sink.log)"

# 4. tcpwave connect sends what a pipe on its stdin gives (the event loop's
#    application fd), a kernel echo server returns it
head -c 300000 /dev/urandom >"$WORK/in.bin"
tw_bg echo4 $PEER server "$KADDR" 7003 --echo --timeout 30
wait_line "$WORK/echo4.log" "peer: listening" 10
tw_bg connect4 bash -c "cat '$WORK/in.bin' | '$TW' connect --tun $IFACE --addr $TADDR --to $KADDR:7003 \
    --send-stdin --expect-echo --out '$WORK/out.bin' --msl-s 1 --quiet --timeout-s 30"
wait_job connect4 40 && pass "tcpwave connect --send-stdin: 300 KB echoed" || fail "connect4 (see connect4.log)"
wait_job echo4 30 && pass "kernel echo server OK" || fail "kernel echo server (4)"
cmp -s "$WORK/in.bin" "$WORK/out.bin" && pass "stdin bytes came back identical" || fail "stdin echo differs"

finish
