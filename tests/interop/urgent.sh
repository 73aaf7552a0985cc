# urgent.sh - urgent data with the Linux kernel (RFC 9293 §3.8.5; Linux
# reads the urgent pointer as tcpwave does, RFC 9293 MUST-62: it points just
# after the urgent data, and takes the last urgent byte out of band unless
# SO_OOBINLINE):
#   a. the kernel client sends "abc" then "!" with MSG_OOB to tcpwave serve
#      (echo): serve is told of urgent data once, reads all four bytes in
#      line and echoes them; the kernel gets "abc!" back;
#   b. tcpwave connect sends "abc!" as urgent data (--urgent): the kernel
#      server sees the exceptional condition, reads "!" with MSG_OOB and
#      "abc" in the stream; the capture shows URG with pointer 4.
# Usage: bash urgent.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

# a. the kernel sends urgent data to tcpwave
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7080 --mode echo --count 1 --msl-s 1 \
    --pcap "$WORK/a.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7080 --send abc --send-oob '!' --shutdown --expect-echo
wait_job client 20 && pass "kernel client: 'abc' + urgent '!' echoed back in line" || fail "kernel client"
wait_job serve 10 && pass "serve exited 0" || fail "serve exit status"
expect_line "$WORK/serve.log" "<---  [A-Z|]*URG[A-Z|]* .*len=1"
expect_line "$WORK/serve.log" "app: urgent data: [1-4] bytes? up to the mark"
[ "$(grep -c 'app: urgent data' "$WORK/serve.log")" = 1 ] && pass "told of the urgent data once" ||
    fail "urgent data reported $(grep -c 'app: urgent data' "$WORK/serve.log") times"
expect_line "$WORK/serve.log" "closed; received 4 bytes, sent 4 bytes"
pcap_check "$WORK/a.pcap"

# b. tcpwave sends urgent data to the kernel
tw_bg server $PEER server "$KADDR" 7081 --expect-oob '!' --expect-text abc
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7081" --send 'abc!' --urgent \
    --shutdown-write --msl-s 1 --pcap "$WORK/b.pcap" --timeout-s 30
wait_job server 20 && pass "kernel server: '!' out of band, 'abc' in the stream" || fail "kernel server"
wait_job connect 20 && pass "connect exited 0" || fail "connect exit status"
if [ -n "$(tshark -r "$WORK/b.pcap" -Y 'tcp.flags.urg == 1 && tcp.urgent_pointer == 4 && tcp.len == 4' \
    -T fields -e frame.number 2>/dev/null)" ]; then
    pass "capture: the 4 bytes carry URG with urgent pointer 4"
else
    fail "capture: no segment with URG and urgent pointer 4"
fi
pcap_check "$WORK/b.pcap"

finish
