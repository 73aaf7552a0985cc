#!/usr/bin/env bash
# tun_args.sh - `tcpwave serve` and `tcpwave connect` refuse bad arguments
# with exit status 2 and a message naming the problem, print --help with
# exit 0, and exit 4 when the pcap file cannot be created. Needs no root and
# touches no network device: every case here fails before the TUN device is
# opened (the pcap file is opened first). The real runs are tests/interop.
# Usage: bash tun_args.sh <path-to-tcpwave>
set -uo pipefail
TW="${1:?usage: tun_args.sh <path-to-tcpwave>}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# expect_exit CODE "MESSAGE PART" -- ARGS...: exit status and stderr text.
expect_exit() {
    local code="$1" want="$2"
    shift 3
    timeout 10 "$TW" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -qF -- "$want" "$TMP/err"; then
        ok "exit $code: $*"
    else
        bad "exit $rc (want $code, stderr '$(head -c 200 "$TMP/err")'): $*"
    fi
}

A=(--tun tw0 --addr 198.18.0.2)
expect_exit 2 "--tun DEV is required" -- serve
expect_exit 2 "--addr A.B.C.D is required" -- serve --tun tw0
expect_exit 2 "needs an IPv4 address" -- serve --tun tw0 --addr 198.18.0
expect_exit 2 "needs an IPv4 address" -- serve --tun tw0 --addr 198.18.0.256
expect_exit 2 "device name of 1 to 15" -- serve --tun abcdefghijklmnop --addr 198.18.0.2
expect_exit 2 "--port must be 1..65535" -- serve "${A[@]}" --port 0
expect_exit 2 "--port needs a whole number" -- serve "${A[@]}" --port 65536
expect_exit 2 "--mode is echo, http, discard or hold" -- serve "${A[@]}" --mode chargen
expect_exit 2 "--close-first is 'client' or 'server'" -- serve "${A[@]}" --close-first both
expect_exit 2 "--msl-s must be at least 1" -- serve "${A[@]}" --msl-s 0
expect_exit 2 "--count needs a value" -- serve "${A[@]}" --count
expect_exit 2 "exclude each other" -- serve "${A[@]}" --linger0 --shutdown-write
expect_exit 2 "--reply-bytes goes with --mode discard" -- serve "${A[@]}" --reply-bytes 5
expect_exit 2 "unknown option '--nope'" -- serve "${A[@]}" --nope
expect_exit 2 "--to A.B.C.D:PORT is required" -- connect "${A[@]}" --send hi
expect_exit 2 "needs ADDRESS:PORT" -- connect "${A[@]}" --to 198.18.0.1
expect_exit 2 "the port of --to" -- connect "${A[@]}" --to 198.18.0.1:70000
expect_exit 2 "--to 224.0.0.1:7: not a unicast address" -- connect "${A[@]}" --to 224.0.0.1:7
expect_exit 2 "--to 255.255.255.255:7: not a unicast address" -- connect "${A[@]}" --to 255.255.255.255:7
expect_exit 2 "--to 0.0.0.0:7: not a unicast address" -- connect "${A[@]}" --to 0.0.0.0:7
expect_exit 2 "give one of --send" -- connect "${A[@]}" --to 198.18.0.1:7 --send a --send-bytes 3
expect_exit 2 "--http needs a path" -- connect "${A[@]}" --to 198.18.0.1:7 --http index.html
expect_exit 2 "--expect-echo needs something to send" -- connect "${A[@]}" --to 198.18.0.1:7 --expect-echo
expect_exit 2 "--timeout-s needs a whole number" -- connect "${A[@]}" --to 198.18.0.1:7 --timeout-s x
expect_exit 2 "unknown option '--nope'" -- connect "${A[@]}" --to 198.18.0.1:7 --nope
expect_exit 2 "--loss needs a percentage from 0 to 100" -- serve "${A[@]}" --loss 101
expect_exit 2 "--loss-out needs a percentage" -- connect "${A[@]}" --to 198.18.0.1:7 --loss-out x
expect_exit 2 "--ce-in needs a percentage" -- serve "${A[@]}" --ce-in -1
expect_exit 2 "--cc needs 'newreno' or 'cubic', got 'vegas'" -- connect "${A[@]}" --to 198.18.0.1:7 --cc vegas
expect_exit 2 "--keepalive needs IDLE,INTVL,CNT" -- connect "${A[@]}" --to 198.18.0.1:7 --keepalive 0,1,1
expect_exit 2 "--keepalive needs IDLE,INTVL,CNT" -- serve "${A[@]}" --keepalive 5,1
expect_exit 2 "--rcvbuf must be at least 1024" -- serve "${A[@]}" --rcvbuf 10
expect_exit 2 "--seed needs a whole number" -- connect "${A[@]}" --to 198.18.0.1:7 --seed -1
expect_exit 2 "--backlog must be 1..65535" -- serve "${A[@]}" --backlog 0
expect_exit 2 "--idle-exit-s must be at least 1" -- serve "${A[@]}" --idle-exit-s 0
expect_exit 2 "--lport must be 1..65535" -- connect "${A[@]}" --to 198.18.0.1:7 --local-port 0
expect_exit 4 "cannot write pcap file" -- serve "${A[@]}" --pcap "$TMP/no/such/dir/x.pcap"
expect_exit 4 "cannot write pcap file" -- connect "${A[@]}" --to 198.18.0.1:7 --pcap "$TMP/no/dir/x.pcap"

for cmd in serve connect; do
    if "$TW" $cmd --help >"$TMP/out" 2>&1 && grep -q "Exit status" "$TMP/out" &&
        grep -q -- "--pcap FILE" "$TMP/out"; then
        ok "$cmd --help"
    else
        bad "$cmd --help"
    fi
done
if grep -q "serve" <<<"$("$TW" help)" && grep -q "connect" <<<"$("$TW" help)"; then
    ok "tcpwave help lists serve and connect"
else
    bad "tcpwave help lists serve and connect"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
