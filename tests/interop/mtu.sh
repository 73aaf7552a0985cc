# mtu.sh - the MSS follows the TUN device's MTU (RFC 9293 MUST-67, SHLD-6):
# with tw0 at MTU 1280, tcpwave offers MSS 1240 on its SYN-ACK (serve) and
# its SYN (connect), and no segment it sends carries more than 1240 bytes;
# a 40 KB echo each way arrives byte for byte.
# Usage: bash mtu.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"
ip link set "$IFACE" mtu 1280

# serve: the kernel connects
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7090 --mode echo --count 1 --msl-s 1 \
    --pcap "$WORK/a.pcap" --timeout-s 30
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7090 --send-pattern 40000 --shutdown --expect-echo
wait_job client 20 && pass "kernel client: 40 KB echoed" || fail "kernel client"
wait_job serve 10 && pass "serve exited 0" || fail "serve exit status"
pcap_check "$WORK/a.pcap"

# connect: tcpwave connects to the kernel
tw_bg server $PEER server "$KADDR" 7091 --echo
wait_line "$WORK/server.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7091" --send-bytes 40000 \
    --expect-echo --msl-s 1 --pcap "$WORK/b.pcap" --timeout-s 30
wait_job connect 20 && pass "connect: 40 KB echoed" || fail "connect exit status"
wait_job server 10 && pass "kernel server done" || fail "kernel server"
pcap_check "$WORK/b.pcap"

for f in a b; do
    mss="$(tshark -r "$WORK/$f.pcap" -Y "tcp.flags.syn == 1 && ip.src == $TADDR" -T fields \
        -e tcp.options.mss_val 2>/dev/null | head -1)"
    [ "$mss" = 1240 ] && pass "$f.pcap: tcpwave's SYN offers MSS 1240" ||
        fail "$f.pcap: tcpwave's SYN offers MSS '$mss', expected 1240"
    big="$(tshark -r "$WORK/$f.pcap" -Y "ip.src == $TADDR && tcp.len > 1240" -T fields \
        -e frame.number 2>/dev/null | wc -l)"
    most="$(tshark -r "$WORK/$f.pcap" -Y "ip.src == $TADDR" -T fields -e tcp.len 2>/dev/null |
        sort -n | tail -1)"
    [ "$big" = 0 ] && [ "${most:-0}" -gt 1000 ] && pass "$f.pcap: tcpwave's largest segment is $most bytes" ||
        fail "$f.pcap: $big segments from tcpwave over 1240 bytes (largest $most)"
done

finish
