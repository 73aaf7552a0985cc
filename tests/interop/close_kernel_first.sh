# close_kernel_first.sh - the Linux kernel closes first (RFC 9293 §3.6,
# case 1 seen from the other end): the kernel's socket goes FIN-WAIT-2 (seen
# with ss) while tcpwave sits in CLOSE_WAIT for --close-delay-ms 2000, then
# TIME-WAIT once tcpwave closes; tcpwave goes CLOSE_WAIT -> LAST_ACK ->
# CLOSED. Once with tcpwave as the server, once as the client; then the
# three-way close: with --delack-fin tcpwave holds back the ACK of the
# kernel's FIN and sends it on its own FIN (FIN, FIN+ACK, ACK).
# Usage: bash close_kernel_first.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

STATES=("ESTABLISHED -> CLOSE_WAIT  \(FIN received\)" "CLOSE_WAIT -> LAST_ACK  \(user close\)"
        "LAST_ACK -> CLOSED  \(ACK of our FIN received\)")

# a. kernel client closes first; tcpwave serve waits 2 s in CLOSE_WAIT
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7020 --mode echo --close-first client \
    --close-delay-ms 2000 --count 1 --msl-s 1 --pcap "$WORK/a.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7020 --send 'hello\n' --read-bytes 6 --expect-echo
wait_job client 10 && pass "kernel client: echo then close" || fail "kernel client"
wait_line "$WORK/serve.log" "ESTABLISHED -> CLOSE_WAIT" 5
ss_wait fin-wait-2 7020 3
wait_line "$WORK/serve.log" "LAST_ACK -> CLOSED" 5
ss_wait time-wait 7020 3
wait_job serve 10 && pass "serve exited 0" || fail "serve exit status"
expect_order "$WORK/serve.log" "${STATES[@]}"
pcap_check "$WORK/a.pcap" --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

# b. kernel server answers and closes first; tcpwave connect waits 2 s in CLOSE_WAIT
tw_bg server $PEER server "$KADDR" 7021 --read-bytes 3 --reply-pattern 1000
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7021" --send 'hi\n' \
    --close-first server --close-delay-ms 2000 --expect-bytes 1000 --out "$WORK/b.out" --msl-s 1 \
    --pcap "$WORK/b.pcap" --timeout-s 30
wait_job server 10 && pass "kernel server: reply then close" || fail "kernel server"
ss_wait fin-wait-2 7021 3
wait_line "$WORK/connect.log" "LAST_ACK -> CLOSED" 5
ss_wait time-wait 7021 3
wait_job connect 10 && pass "connect exited 0 with 1000 bytes" || fail "connect exit status"
python3 -c "import sys; sys.path.insert(0, '$HERE'); import peer; \
sys.exit(open('$WORK/b.out','rb').read() != peer.pattern(1000))" &&
    pass "reply received byte for byte" || fail "reply bytes differ"
expect_order "$WORK/connect.log" "${STATES[@]}"
pcap_check "$WORK/b.pcap" --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

# c. three-way close: --delack-fin merges tcpwave's ACK of the FIN with its FIN
tw_bg serve3 "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7022 --mode echo --close-first client \
    --delack-fin --count 1 --msl-s 1 --pcap "$WORK/c.pcap" --timeout-s 30
wait_line "$WORK/serve3.log" "CLOSED -> LISTEN" 10
tw_bg client3 $PEER client "$TADDR" 7022 --send 'hello\n' --read-bytes 6 --expect-echo
wait_job client3 10 && pass "kernel client: echo then close" || fail "kernel client (c)"
wait_job serve3 10 && pass "serve exited 0" || fail "serve exit status (c)"
expect_order "$WORK/serve3.log" "${STATES[0]}" "${STATES[1]}" "--->  FIN\|ACK" "${STATES[2]}"
pcap_check "$WORK/c.pcap" --wave "FIN:.1 FIN+ACK:.2 ACK:.1"

finish
