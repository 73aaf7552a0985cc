# bulk_loss.sh - a large transfer both ways at once over a lossy link, with
# window scaling, SACK and timestamps negotiated (issue 9):
#   `tcpwave connect --send-bytes N --expect-echo` to a kernel echo server:
#   N bytes of the i % 251 pattern go to the kernel while it sends them back,
#   and tcpwave checks every byte of the echo (so both directions arrived
#   intact). tcpwave's link drops a seeded share of the packets each way
#   (--loss, default 1 %, counted), so both stacks must recover: the kernel
#   its segments lost on the way in, tcpwave its own lost on the way out.
#   Rings of 1 MB (--rcvbuf/--sndbuf) make tcpwave's window scale shift
#   non-zero. A header-only tcpdump capture of the device (its first
#   TW_BULK_CAPTURE packets, default 40000: the handshake and about 20 MB,
#   which keeps tshark's share of the time small) is then checked:
#   both SYNs offer MSS, SACK-permitted, timestamps and a window scale shift
#   above 0, every segment carries a timestamp, and each side sent SACK blocks
#   (bulkcheck.py); nothing malformed, no bad checksum (pcapcheck.py).
#   tcpwave's sender may or may not act on the SACK blocks it receives
#   (RFC 6675): the test asks for integrity and negotiation, not speed.
# TW_BULK_MB (default 64), TW_BULK_LOSS (percent, default 1) and
# TW_BULK_SEED (default 1) change the run; the figures go to the output.
# Usage: bash bulk_loss.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

command -v tcpdump >/dev/null 2>&1 || skip "tcpdump not installed (./tw deps installs it)"

MB="${TW_BULK_MB:-64}"
LOSS="${TW_BULK_LOSS:-1}"
SEED="${TW_BULK_SEED:-1}"
[[ "$MB" =~ ^[0-9]+$ ]] && [ "$MB" -ge 1 ] && [ "$MB" -le 1024 ] || { say "TW_BULK_MB must be 1..1024"; exit 2; }
N=$((MB * 1000000))

CAPTURE="${TW_BULK_CAPTURE:-40000}"
[[ "$CAPTURE" =~ ^[0-9]+$ ]] && [ "$CAPTURE" -ge 1000 ] || { say "TW_BULK_CAPTURE must be 1000 or more"; exit 2; }

# Headers only (96 bytes: IPv4 + TCP with options), so the capture stays
# small and tshark quick; checksums of cut packets show as unverified.
tw_bg tcpdump tcpdump -n -s 96 -B 32768 -c "$CAPTURE" -i "$IFACE" -w "$WORK/tcpdump.pcap"
wait_line "$WORK/tcpdump.log" "listening on" 10

tw_bg echo $PEER server "$KADDR" 7400 --echo --timeout 60
wait_line "$WORK/echo.log" "peer: listening" 10
t0=$(date +%s.%N)
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:7400" --send-bytes $N \
    --expect-echo --expect-bytes $N --rcvbuf 1048576 --sndbuf 1048576 --loss "$LOSS" --seed "$SEED" \
    --msl-s 1 --quiet --stats --timeout-s 80
wait_job connect 85 && pass "tcpwave connect: $MB MB sent and echoed back, every byte checked" ||
    fail "tcpwave connect (see connect.log)"
t1=$(date +%s.%N)
wait_job echo 10 && pass "kernel echo server: $N bytes, no error" || fail "kernel echo server (see echo.log)"
expect_line "$WORK/connect.log" "^connect: echo verified, $N bytes identical$"
loss="$(grep '^loss: ' "$WORK/connect.log")"
read -r din dout < <(echo "$loss" | sed -n 's/^loss: dropped \([0-9]*\) of .* \([0-9]*\) of [0-9]* to it.*/\1 \2/p')
if [ "${din:-0}" -gt 0 ] && [ "${dout:-0}" -gt 0 ]; then pass "$loss"; else fail "no loss both ways: ${loss:-no loss line}"; fi
rexmit="$(awk '$1 == "TCP_RETRANS" || $1 == "TCP_FAST_RETRANS" {n += $2} END {print n + 0}' "$WORK/connect.log")"
[ "$rexmit" -gt 0 ] && pass "tcpwave retransmitted $rexmit segments" || fail "tcpwave never retransmitted"

tcpdump_check tcpdump --allow-loss --min-packets 1000
if python3 "$HERE/bulkcheck.py" "$WORK/tcpdump.pcap" --a "$TADDR" --b "$KADDR" >"$WORK/bulk.out" 2>&1; then
    pass "capture: WS, SACK and timestamps negotiated, SACK blocks both ways"
else
    fail "capture: option check"
fi
sed 's/^/  /' "$WORK/bulk.out"
say "figures: $MB MB each way in $(elapsed "$t0" "$t1") s (2 s of it TIME_WAIT), loss $LOSS % seed $SEED"
grep -E "^  (TCP_RETRANS|TCP_FAST_RETRANS|RTO_FIRED|ACK_NOW_OOO|DROP_[A-Z_]+|DELACK_SENT) " "$WORK/connect.log"
finish
