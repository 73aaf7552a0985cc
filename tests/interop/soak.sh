# soak.sh - many kernel connections to `tcpwave serve`, a share of them cut
# short, then a leak check on both sides (issue 8):
#   - the kernel (soak_client.py, 32 at a time) makes TW_TUN_SOAK connections
#     (default 1000, the CI size, about 10 s; TW_TUN_SOAK=10000 for the full
#     soak, about 25 s on two cores) to `serve --mode http`: 80 % normal
#     GET /bytes/N read to the end and checked byte for byte, 5 % closed
#     with SO_LINGER 0 mid-transfer, 5 % closed with unread data (the kernel
#     sends RST), 5 % giving up early (FIN before the request, or half a
#     request head), 5 % in child processes killed with SIGKILL mid-transfer;
#   - the kernel must then hold no socket on the port but TIME-WAIT (ss);
#   - tcpwave (--msl-s 1: TIME_WAIT 2 s) must empty itself and exit on its
#     own (--idle-exit-s 2): its leak check reports no live connection, no
#     TIME_WAIT record, only the listener's socket handle and no application
#     slot, every connection that entered TIME_WAIT accounted for (expired or
#     reused), opened = closed; its counters (every RST and drop reason) are
#     printed, and it accepted exactly the connections the kernel made.
# TW_TUN_SOAK_SEED picks the mix (default 1). Figures go to the test output.
# Usage: [TW_TUN_SOAK=N] bash soak.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"

elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

N="${TW_TUN_SOAK:-1000}"
SEED="${TW_TUN_SOAK_SEED:-1}"
[[ "$N" =~ ^[0-9]+$ ]] && [ "$N" -ge 20 ] && [ "$N" -le 100000 ] ||
    { say "TW_TUN_SOAK must be 20..100000, got '$N'"; exit 2; }
# Time bounds grow with the count: 40 s per 1000 connections, at least 60 s
# (a hang then fails within ctest's 120 s).
LIMIT=$((N * 40 / 1000))
[ $LIMIT -lt 60 ] && LIMIT=60

# bg NAME SECS CMD...: tw_bg with its own time bound.
bg() {
    local name="$1" secs="$2"; shift 2
    timeout -k 5 "$secs" "$@" >"$WORK/$name.log" 2>&1 &
    JOB_PID[$name]=$!
}

say "soak: $N connections, seed $SEED"
bg serve $((LIMIT + 30)) "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 80 --mode http \
    --msl-s 1 --backlog 128 --idle-exit-s 2 --quiet --stats --timeout-s $((LIMIT + 20))
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
t0=$(date +%s.%N)
bg client $((LIMIT + 10)) python3 "$HERE/soak_client.py" "$TADDR" 80 --count "$N" --seed "$SEED" \
    --concurrency 32 --timeout 20
if wait_job client $((LIMIT + 10)); then pass "kernel clients: every connection behaved"; else fail "kernel clients (see client.log)"; fi
t1=$(date +%s.%N)
sed 's/^/  /' "$WORK/client.log" | grep -v "^  victim" | tail -n 14

# The kernel: nothing left on port 80 but TIME-WAIT (from clients that closed first).
ss_gone 80 10 "TIME-WAIT"
say "kernel sockets on port 80 by state: $(ss -tanH state all '( sport = :80 or dport = :80 )' |
    awk '{print $1}' | sort | uniq -c | tr -s ' \n' ' ')"

# tcpwave: empty after 2MSL, then it exits by itself.
if wait_job serve $((LIMIT + 30)); then pass "serve emptied and exited by itself (--idle-exit-s)"; else fail "serve did not empty itself (see serve.log)"; fi
t2=$(date +%s.%N)
expect_line "$WORK/serve.log" "idle for 2 s: no connection, no TIME_WAIT record"
expect_line "$WORK/serve.log" "^serve: at exit: 0 live connections, 0 TIME_WAIT records, 1 socket handles open \(1 is the listener\), 0 application slots in use$"
expect_line "$WORK/serve.log" "^serve: leak check: clean"
if grep -q "MISMATCH" "$WORK/serve.log"; then fail "serve's accounting does not add up"; else pass "serve's accounting adds up"; fi
conns="$(sed -n 's/^soak: \([0-9]*\) connections in.*/\1/p' "$WORK/client.log")"
accepted="$(sed -n 's/^serve: \([0-9]*\) connections accepted.*/\1/p' "$WORK/serve.log")"
if [ -n "$conns" ] && [ "$conns" = "$accepted" ]; then
    pass "serve accepted exactly the $conns connections the kernel made"
else
    fail "the kernel made ${conns:-?} connections, serve accepted ${accepted:-?}"
fi
rst="$(awk '$1 == "RST_RECEIVED" {print $2}' "$WORK/serve.log")"
aborted="$(sed -n 's/^soak: aborted midway (RST from the kernel): \([0-9]*\);.*/\1/p' "$WORK/client.log")"
if [ -n "$rst" ] && [ -n "$aborted" ] && [ "$rst" -ge "$aborted" ]; then
    pass "tcpwave took ${rst} RSTs for the $aborted connections the kernel aborted"
else
    fail "RSTs received ${rst:-0}, connections aborted ${aborted:-?}"
fi

say "figures: $N connections; clients ran $(elapsed "$t0" "$t1") s; serve empty and gone $(elapsed "$t1" "$t2") s later"
grep -E "^serve: " "$WORK/serve.log" | sed 's/^/  /'
sed -n '/^counters:/,$p' "$WORK/serve.log" | sed 's/^/  /'
finish
