#!/usr/bin/env bash
# pkt_script.sh - `tcpwave script` (the in-process packetdrill-language
# runner) on scripts that must NOT pass: malformed or unsupported syntax is
# an error naming the file and line (exit 2, never a crash and never a silent
# pass), a behaviour mismatch names the line with the expected and the actual
# segment (exit 1), an extra segment or a call that blocks is a failure, and
# bad options exit 2. The good scripts are run by ctest -L packetdrill.
# Usage: bash pkt_script.sh <path-to-tcpwave>
set -uo pipefail
TW="${1:?usage: pkt_script.sh <path-to-tcpwave>}"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

# A server-side prelude: listen, handshake, accept.
PRELUDE='0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460>
+.01 < . 1:1(0) ack 1 win 65535
+0 accept(3, ..., ...) = 4'

# expect NAME CODE "OUTPUT PART" SCRIPT-TEXT [tcpwave script options...]
expect() {
    local name="$1" code="$2" want="$3" text="$4"
    shift 4
    printf '%s\n' "$text" >"$TMP/$name.pkt"
    timeout 20 "$TW" script "$@" "$TMP/$name.pkt" >"$TMP/out" 2>&1
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -qF -- "$want" "$TMP/out"; then
        ok "$name: exit $code, '$want'"
    else
        bad "$name: want exit $code and '$want', got exit $rc: $(head -c 400 "$TMP/out")"
    fi
}

# ---- syntax: exit 2 with FILE:LINE
expect bad_flag 2 "bad_flag.pkt:2: unknown TCP flag 'X'" "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 < SX 0:0(0) win 100"
expect bad_range 2 "bad_range.pkt:1: sequence range 1:10 is 9 bytes but the length says 10" \
    "0 < P. 1:10(10) ack 1 win 100"
expect ack_missing 2 "ack_missing.pkt:1: a segment with the ACK flag '.' needs 'ack N'" "0 < . 1:1(0) win 100"
expect bad_option 2 "bad_option.pkt:1: unsupported TCP option 'md5'" "0 < S 0:0(0) win 100 <mss 1460,md5 abc>"
expect options_too_long 2 "more than the 40 a header holds" \
    "0 < S 0:0(0) win 100 <TS val 1 ecr 0,TS val 1 ecr 0,TS val 1 ecr 0,TS val 1 ecr 0,mss 1>"
expect unclosed_options 2 "unclosed_options.pkt:1: expected '>' to close the option list" "0 < S 0:0(0) <mss 1460"
expect bad_call 2 "bad_call.pkt:1: unsupported system call 'epoll_create'" "0 epoll_create(1) = 3"
expect bad_arity 2 "bad_arity.pkt:1: listen() takes 2 arguments, got 1" "0 listen(3) = 0"
expect bad_const 2 "bad_const.pkt:1: unknown constant 'SOCK_DGRAM'" "0 socket(..., SOCK_DGRAM, IPPROTO_UDP) = 3"
expect bad_sockopt 2 "bad_sockopt.pkt:1: unsupported socket option" "0 setsockopt(3, SOL_SOCKET, 7, [1], 4) = 0"
expect bad_errno 2 "bad_errno.pkt:1: unknown errno name 'EFOO'" "0 close(3) = -1 EFOO (Foo)"
expect no_errno 2 "no_errno.pkt:1: = -1 needs an errno name" "0 close(3) = -1"
expect trailing 2 "trailing.pkt:1: unexpected 'extra' after the result" "0 close(3) = 0 extra"
expect backwards 2 "backwards.pkt:2: time 0.100000 s is before the previous statement's 0.200000 s" \
    "0.2 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
0.1 close(3) = 0"
expect no_time 2 "no_time.pkt:1: expected a time" "socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"
expect seven_decimals 2 "at most 6 decimals" "0.1234567 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"
expect shell 2 "shell.pkt:1: shell commands" '`sysctl -q net.ipv4.tcp_timestamps=0`'
expect python 2 "python.pkt:2: python blocks" "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
%{ print(tcpi_state) }%"
expect option_line 2 "option_line.pkt:1: unsupported option line '--ip_version=ipv6'" "--ip_version=ipv6
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"
expect any_inbound 2 "'*' is only allowed on outbound" "* < S 0:0(0) win 100"
expect comment_open 2 "unterminated /* comment" "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
/* never closed"
expect empty 2 "the script has no statements" "// nothing but a comment"
expect big_number 2 "is too large" "0 < S 99999999999:99999999999(0) win 100"
expect bad_flags_header 2 "tcpwave-flags: unknown setting 'msll'" "// tcpwave-flags: msll=1s
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"
expect bad_duration 2 "a duration with a unit" "// tcpwave-flags: msl=30
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"
expect refused_cfg 2 "the stack refuses these settings" "// tcpwave-flags: delack=600ms
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3"

# Binary garbage and a NUL byte: an error, not a crash.
head -c 3000 /dev/urandom >"$TMP/garbage.pkt"
timeout 20 "$TW" script "$TMP/garbage.pkt" >"$TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -q "garbage.pkt:[0-9]*: " "$TMP/out"; then ok "random bytes: exit 2 with a line"; else bad "random bytes: exit $rc: $(head -c 300 "$TMP/out")"; fi
printf '0 socket(..., SOCK_STREAM,\0 IPPROTO_TCP) = 3\n' >"$TMP/nul.pkt"
timeout 20 "$TW" script "$TMP/nul.pkt" >"$TMP/out" 2>&1
rc=$?
if [ "$rc" -eq 2 ] && grep -qF "nul.pkt:1: NUL byte" "$TMP/out"; then ok "NUL byte: exit 2"; else bad "NUL byte: exit $rc: $(head -c 300 "$TMP/out")"; fi

# ---- behaviour mismatches: exit 1, the first one with expected and actual
expect wrong_flags 1 "wrong_flags.pkt:9: segment differs from the script: flags" "$PRELUDE
+0 close(4) = 0
+0 > . 1:1(0) ack 1"
grep -qF "actual:   > F. 1:1(0) ack 1 win 65535" "$TMP/out" && ok "mismatch shows the actual segment" || bad "no actual segment in: $(cat "$TMP/out")"
expect wrong_ack 1 "segment differs from the script: ack number" "$PRELUDE
+0 close(4) = 0
+0 > F. 1:1(0) ack 7"
expect wrong_window 1 "segment differs from the script: window" "$PRELUDE
+0 close(4) = 0
+0 > F. 1:1(0) ack 1 win 100"
expect wrong_options 1 "segment differs from the script: TCP options" "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < S 0:0(0) win 65535 <mss 1460>
+0 > S. 0:0(0) ack 1 <mss 1460,nop,wscale 7>"
expect too_early 1 "segment differs from the script: time" "$PRELUDE
+0 close(4) = 0
+1 > F. 1:1(0) ack 1"
expect never_sent 1 "expected segment not sent by 0.520000 s" "$PRELUDE
+.5 > . 1:1(0) ack 1"
expect extra_segment 1 "tcpwave sent a segment the script does not expect (before this statement)" "$PRELUDE
+0 close(4) = 0
+.01 < . 1:1(0) ack 2 win 65535"
expect extra_at_end 1 "(after the last statement)" "$PRELUDE
+0 close(4) = 0"
expect retransmission_unexpected 1 "unexpected: > F. 1:1(0) ack 1" "$PRELUDE
+0 close(4) = 0
+0 > F. 1:1(0) ack 1
+2 < . 1:1(0) ack 2 win 65535"
expect wrong_result 1 "read() returned -1 EAGAIN" "$PRELUDE
+0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
+0 read(4, ..., 10) = 10"
expect blocked 1 "read() blocked; the script expects it to return at once" "$PRELUDE
+0 read(4, ..., 10) = 10"
expect blocked_late 1 "read() returned at 0.110000 s, expected at 0.060000 s" "$PRELUDE
+0...0.06 read(4, ..., 10) = 10
+.1 < P. 1:11(10) ack 1 win 65535"
expect never_returned 1 "read() never returned" "$PRELUDE
+0...1 read(4, ..., 10) = 10"
expect wrong_errno 1 "close() returned -1 EBADF" "0 close(9) = 0"
expect linger_timeout 2 "SO_LINGER and a non-zero timeout is not supported" "$PRELUDE
+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=5}, 8) = 0
+0 close(4) = 0"

# A blocking call that does return in time passes.
expect blocking_ok 0 "ok" "$PRELUDE
+0...0.11 read(4, ..., 10) = 10
+.1 < P. 1:11(10) ack 1 win 65535
+.2 > . 1:1(0) ack 11"

# <...> accepts any options on what tcpwave sends, and is refused inbound.
expect any_opts_outbound 0 "ok" "$PRELUDE
+0 close(4) = 0
+0 > F. 1:1(0) ack 1 <...>"
expect any_opts_inbound 2 "<...> only makes sense on an outbound (>) segment" "$PRELUDE
+0 < . 1:1(0) ack 1 win 65535 <...>"

# ---- options of the command
expect so_flags_override 1 "actual:   > . 1:1(0) ack 11 win 65525  (at 0.010000 s)" "$PRELUDE
+0 < P. 1:11(10) ack 1 win 65535
+.2 > . 1:1(0) ack 11" --so-flags delack=off
expect tolerance 0 "ok" "$PRELUDE
+0 close(4) = 0
+.05 > F. 1:1(0) ack 1" --tolerance-usecs 60000

timeout 10 "$TW" script >"$TMP/out" 2>&1
[ $? -eq 2 ] && grep -qF "no script given" "$TMP/out" && ok "no file: exit 2" || bad "no file: $(cat "$TMP/out")"
timeout 10 "$TW" script "$TMP/does-not-exist.pkt" >"$TMP/out" 2>&1
[ $? -eq 2 ] && grep -qF "cannot open" "$TMP/out" && ok "missing file: exit 2" || bad "missing file: $(cat "$TMP/out")"
timeout 10 "$TW" script --so-flags "rto_min=fast" "$TMP/wrong_flags.pkt" >"$TMP/out" 2>&1
[ $? -eq 2 ] && grep -qF "a duration with a unit" "$TMP/out" && ok "bad --so-flags: exit 2" || bad "bad --so-flags: $(cat "$TMP/out")"
timeout 10 "$TW" script --bogus x.pkt >"$TMP/out" 2>&1
[ $? -eq 2 ] && grep -qF "unknown option --bogus" "$TMP/out" && ok "unknown option: exit 2" || bad "unknown option: $(cat "$TMP/out")"
timeout 10 "$TW" script --help >"$TMP/out" 2>&1
[ $? -eq 0 ] && grep -qF "delack_fin=0|1" "$TMP/out" && ok "--help lists the settings" || bad "--help: $(cat "$TMP/out")"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
