# ecn.sh - Explicit Congestion Notification with the Linux kernel (RFC 3168
# §6.1; RFC 9293 SHLD-8). The namespace has no queueing discipline that
# marks, so tcpwave's own fault link plays the congested router: it marks CE
# on a seeded share of the ECN-capable packets going one way (--ce-in,
# --ce-out), after (in) or before (out) its capture tap.
#   a. the kernel client asks for ECN (net.ipv4.tcp_ecn=1, this namespace
#      only) and tcpwave serve accepts: SYN ECE|CWR, SYN-ACK ECE alone; both
#      sides send new data ECT(0); 5% of the kernel's packets arrive CE:
#      tcpwave echoes ECE, the kernel answers with CWR; 1 MB echoed intact;
#   b. tcpwave connect --ecn --cc cubic to a kernel server, 5% of tcpwave's
#      packets marked CE on the way out: the kernel echoes ECE, tcpwave cuts
#      cwnd (ECN_CWND_CUT, CUBIC's 0.7) and sends CWR; 1 MB echoed intact;
#   c. tcpwave connect --ecn to a kernel that refuses ECN (tcp_ecn=0): its
#      SYN-ACK has no ECE and tcpwave's data goes Not-ECT.
# `tcpwave analyze` reads captures a and c back: ECN negotiated with the
# marks and echoes counted per side, or asked for and not accepted.
# Usage: bash ecn.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

MB=1000000

# count FILE FILTER: frames of the capture that match the display filter
count() { tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | wc -l; }
# want_some FILE FILTER WHAT / want_none FILE FILTER WHAT
want_some() {
    local n
    n="$(count "$1" "$2")"
    [ "$n" -gt 0 ] && pass "$3 ($n)" || fail "$3: no frame matches '$2'"
}
want_none() {
    local n
    n="$(count "$1" "$2")"
    [ "$n" -eq 0 ] && pass "$3" || fail "$3: $n frames match '$2'"
}
SYN_ONLY='tcp.flags.syn == 1 && tcp.flags.ack == 0'
SYN_ACK='tcp.flags.syn == 1 && tcp.flags.ack == 1'
K="ip.src == $KADDR"
T="ip.src == $TADDR"

# a. kernel client asks, tcpwave accepts, CE on the way in
echo 1 >/proc/sys/net/ipv4/tcp_ecn # this namespace only
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 7 --mode echo --count 1 --msl-s 1 \
    --ce-in 5 --seed 3 --quiet --stats --pcap "$WORK/a.pcap" --timeout-s 60
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
tw_bg client $PEER client "$TADDR" 7 --send-random $MB --shutdown --expect-echo --timeout 30
wait_job client 60 && pass "kernel client: 1 MB echoed byte for byte" || fail "kernel client"
wait_job serve 30 && pass "serve exited 0" || fail "serve exit status"
expect_line "$WORK/serve.log" "closed; received $MB bytes, sent $MB bytes"
expect_line "$WORK/serve.log" "ecn: marked CE on [1-9][0-9]* packets from the kernel"
expect_line "$WORK/serve.log" "ECN_CE_IN +[1-9]"
A="$WORK/a.pcap"
want_some "$A" "$K && $SYN_ONLY && tcp.flags.ece == 1 && tcp.flags.cwr == 1" "kernel SYN asks for ECN"
want_some "$A" "$T && $SYN_ACK && tcp.flags.ece == 1 && tcp.flags.cwr == 0" "tcpwave SYN-ACK: ECE alone"
want_none "$A" "tcp.flags.syn == 1 && ip.dsfield.ecn != 0" "SYNs are Not-ECT"
want_some "$A" "$T && tcp.len > 0 && ip.dsfield.ecn == 2" "tcpwave data ECT(0)"
want_none "$A" "$T && tcp.len > 0 && ip.dsfield.ecn != 2 && !tcp.analysis.retransmission &&
    !tcp.analysis.fast_retransmission && !tcp.analysis.spurious_retransmission" \
    "every first transmission of tcpwave data is ECT(0)"
want_none "$A" "$T && tcp.len == 0 && ip.dsfield.ecn != 0" "tcpwave pure ACKs are Not-ECT"
want_some "$A" "$K && tcp.len > 0 && ip.dsfield.ecn == 2" "kernel data ECT(0)"
want_some "$A" "$T && tcp.flags.syn == 0 && tcp.flags.ece == 1" "tcpwave echoes CE with ECE"
want_some "$A" "$K && tcp.flags.syn == 0 && tcp.flags.cwr == 1" "kernel answers the echo with CWR"
pcap_check "$A" --min-packets 100
"$TW" analyze "$A" >"$WORK/a.analyze" 2>&1 || fail "tcpwave analyze a.pcap"
expect_line "$WORK/a.analyze" "ecn: negotiated; client sent [1-9][0-9]* ECN-capable, 0 CE-marked, 0 with ECE, [1-9][0-9]* with CWR; server sent [1-9][0-9]* ECN-capable, 0 CE-marked, [1-9][0-9]* with ECE"

# b. tcpwave asks, the kernel accepts, CE on the way out
tw_bg echo $PEER server "$KADDR" 7001 --echo --timeout 30
wait_line "$WORK/echo.log" "peer: listening" 10
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7001" --send-bytes $MB \
    --expect-echo --expect-bytes $MB --ecn --cc cubic --ce-out 5 --seed 4 --msl-s 1 --quiet --stats \
    --pcap "$WORK/b.pcap" --timeout-s 60
wait_job connect 60 && pass "tcpwave connect --ecn: 1 MB echoed, verified" || fail "connect"
wait_job echo 30 && pass "kernel echo server OK" || fail "kernel echo server"
expect_line "$WORK/connect.log" "echo verified, $MB bytes identical"
expect_line "$WORK/connect.log" "ecn: marked CE on 0 packets from the kernel, [1-9][0-9]* to it"
expect_line "$WORK/connect.log" "ECN_CWND_CUT +[1-9]"
B="$WORK/b.pcap"
want_some "$B" "$T && $SYN_ONLY && tcp.flags.ece == 1 && tcp.flags.cwr == 1" "tcpwave SYN asks for ECN"
want_some "$B" "$K && $SYN_ACK && tcp.flags.ece == 1 && tcp.flags.cwr == 0" "kernel SYN-ACK: ECE alone"
want_some "$B" "$T && tcp.len > 0 && ip.dsfield.ecn == 3" "CE marks on tcpwave's data"
want_some "$B" "$K && tcp.flags.syn == 0 && tcp.flags.ece == 1" "kernel echoes CE with ECE"
want_some "$B" "$T && tcp.flags.syn == 0 && tcp.flags.cwr == 1" "tcpwave answers the echo with CWR"
pcap_check "$B" --min-packets 100

# c. the kernel refuses ECN
echo 0 >/proc/sys/net/ipv4/tcp_ecn
tw_bg echo3 $PEER server "$KADDR" 7002 --echo --timeout 30
wait_line "$WORK/echo3.log" "peer: listening" 10
tw_bg connect3 "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7002" --send-bytes 100000 \
    --expect-echo --expect-bytes 100000 --ecn --msl-s 1 --quiet --pcap "$WORK/c.pcap" --timeout-s 30
wait_job connect3 40 && pass "tcpwave connect --ecn to a non-ECN kernel: 100 KB echoed" ||
    fail "connect3"
wait_job echo3 30 && pass "kernel echo server OK" || fail "kernel echo server (c)"
C="$WORK/c.pcap"
want_some "$C" "$T && $SYN_ONLY && tcp.flags.ece == 1 && tcp.flags.cwr == 1" "tcpwave SYN asks for ECN"
want_none "$C" "$K && tcp.flags.ece == 1" "the kernel never sets ECE"
want_none "$C" "ip.dsfield.ecn != 0" "no packet is ECN-capable"
pcap_check "$C" --min-packets 10
"$TW" analyze "$C" >"$WORK/c.analyze" 2>&1 || fail "tcpwave analyze c.pcap"
expect_line "$WORK/c.analyze" "ecn: asked for by the client, not accepted; client sent 0 ECN-capable"

finish
