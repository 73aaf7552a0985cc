# half_close.sh - half-close each way, with data after the first FIN
# (RFC 9293 §3.6: a side that has sent FIN may go on receiving):
#   a. the kernel client sends 100 KB and shuts down its side; tcpwave
#      (serve --mode discard --reply-bytes) answers 300 KB in CLOSE_WAIT,
#      then closes;
#   b. tcpwave connect sends a request and shuts down (--shutdown-write); the
#      kernel server reads to EOF, then sends 200 KB to tcpwave in FIN_WAIT_2;
#   c. tcpwave serve echoes 6 bytes, then half-closes (--shutdown-write); the
#      kernel client reads the FIN, then sends 50 KB more.
# Usage: bash half_close.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

# a. kernel half-closes first; tcpwave sends after the kernel's FIN
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7030 --mode discard --reply-bytes 300000 \
    --count 1 --msl-s 1 --pcap "$WORK/a.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7030 --send-random 100000 --shutdown --expect-pattern 300000
wait_job client 20 && pass "kernel client: sent 100 KB + FIN, then read 300 KB" || fail "kernel client"
wait_job serve 10 && pass "serve exited 0" || fail "serve exit status"
expect_line "$WORK/serve.log" "closed; received 100000 bytes, sent 300000 bytes"
expect_order "$WORK/serve.log" "ESTABLISHED -> CLOSE_WAIT" "app: send" "CLOSE_WAIT -> LAST_ACK" "LAST_ACK -> CLOSED"
pcap_check "$WORK/a.pcap" --data-after-fin .2 --wave "FIN:.1 ACK:.2 FIN:.2 ACK:.1"

# b. tcpwave half-closes first; the kernel sends after tcpwave's FIN
tw_bg server $PEER server "$KADDR" 7031 --expect-text 'request\n' --reply-pattern 200000
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7031" --send 'request\n' \
    --shutdown-write --expect-bytes 200000 --out "$WORK/b.out" --msl-s 1 --pcap "$WORK/b.pcap" \
    --timeout-s 30
wait_job server 20 && pass "kernel server: read request + EOF, replied 200 KB" || fail "kernel server"
wait_job connect 20 && pass "connect exited 0 with 200000 bytes" || fail "connect exit status"
python3 -c "import sys; sys.path.insert(0, '$HERE'); import peer; \
sys.exit(open('$WORK/b.out','rb').read() != peer.pattern(200000))" &&
    pass "reply received byte for byte" || fail "reply bytes differ"
expect_order "$WORK/connect.log" "app: shutdown" "ESTABLISHED -> FIN_WAIT_1" "FIN_WAIT_1 -> FIN_WAIT_2" \
    "app: recv" "FIN_WAIT_2 -> TIME_WAIT" "TIME_WAIT -> CLOSED"
pcap_check "$WORK/b.pcap" --data-after-fin .1 --wave "FIN:.2 ACK:.1 FIN:.1 ACK:.2"

# c. tcpwave serve half-closes after its echo; the kernel sends 50 KB more
tw_bg serve3 "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7032 --mode echo --close-first server \
    --shutdown-write --expect-bytes 6 --count 1 --msl-s 1 --pcap "$WORK/c.pcap" --timeout-s 30
wait_line "$WORK/serve3.log" "CLOSED -> LISTEN" 10
tw_bg client3 $PEER client "$TADDR" 7032 --send 'hello\n' --expect-echo --after-eof-send 50000
wait_job client3 20 && pass "kernel client: echo, EOF, then 50 KB more" || fail "kernel client (c)"
wait_job serve3 10 && pass "serve exited 0" || fail "serve exit status (c)"
expect_line "$WORK/serve3.log" "closed; received 50006 bytes, sent 6 bytes"
expect_order "$WORK/serve3.log" "app: shutdown" "ESTABLISHED -> FIN_WAIT_1" "FIN_WAIT_1 -> FIN_WAIT_2" \
    "FIN_WAIT_2 -> TIME_WAIT" "TIME_WAIT -> CLOSED"
pcap_check "$WORK/c.pcap" --data-after-fin .1 --wave "FIN:.2 ACK:.1 FIN:.1 ACK:.2"

finish
