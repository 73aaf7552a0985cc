#!/usr/bin/env bash
# ladder.sh - the observability commands end to end: `tcpwave demo --trace
# --svg --ladder --stats` and `tcpwave ladder`. The ladder of each scenario's
# JSON trace equals the golden files of tests/view (so the JSON round trip
# loses nothing), every SVG is well-formed XML (xmllint), and bad arguments
# exit 2 (bad input files 1) with a message that says what is wrong.
# Usage: bash ladder.sh <path-to-tcpwave>
set -uo pipefail
TW="${1:?usage: ladder.sh <path-to-tcpwave>}"
ROOT="${TW_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
GOLDEN="$ROOT/tests/view/golden"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
PASS=0
FAIL=0

ok() { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }

command -v xmllint >/dev/null 2>&1 || { echo "xmllint is missing (Debian libxml2-utils; ./tw deps)"; exit 1; }

# expect_exit CODE "MESSAGE PART" -- command...: exit status and stderr text.
expect_exit() {
    local code="$1" want="$2"
    shift 3
    "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ "$rc" -eq "$code" ] && grep -qF -- "$want" "$TMP/err"; then
        ok "exit $code: $*"
    else
        bad "expected exit $code and '$want' from: $* (got $rc: $(head -c 300 "$TMP/err"))"
    fi
}

SCENARIOS="$("$TW" demo --list)"
[ "$(echo "$SCENARIOS" | wc -l)" -eq 8 ] && ok "8 scenarios" || bad "scenario list: $SCENARIOS"

for s in $SCENARIOS; do
    if ! "$TW" demo --scenario "$s" --trace "$TMP/$s.jsonl" --svg "$TMP/$s.svg" >"$TMP/$s.demo" 2>&1; then
        bad "demo --scenario $s --trace --svg"
        continue
    fi
    ok "demo --scenario $s --trace --svg"
    for mode in "" symbolic; do
        g="$GOLDEN/$s${mode:+.$mode}.txt"
        if "$TW" ladder "$TMP/$s.jsonl" ${mode:+--$mode} >"$TMP/$s.ladder" 2>&1 && diff -u "$g" "$TMP/$s.ladder" >"$TMP/diff"; then
            ok "ladder $s.jsonl ${mode:+--$mode} matches $(basename "$g")"
        else
            bad "ladder $s.jsonl ${mode:+--$mode} differs from $g:"
            head -40 "$TMP/diff"
        fi
    done
    # demo --ladder prints the same diagram between its header and summary.
    lines=$(wc -l <"$GOLDEN/$s.txt")
    if "$TW" demo --scenario "$s" --ladder | sed -n "4,$((lines + 3))p" | diff -q "$GOLDEN/$s.txt" - >/dev/null; then
        ok "demo --ladder --scenario $s shows the golden ladder"
    else
        bad "demo --ladder --scenario $s differs from $GOLDEN/$s.txt"
    fi
    if xmllint --noout "$TMP/$s.svg" 2>"$TMP/xml"; then ok "$s.svg is well-formed XML"; else bad "$s.svg: $(head -5 "$TMP/xml")"; fi
    grep -q "close: " "$TMP/$s.demo" && ok "demo $s ends with its close reason" || bad "demo $s: no close reason"
done

# --svg from the ladder command, one connection, no text.
if "$TW" ladder "$TMP/three-way.jsonl" --conn 1 --symbolic --svg "$TMP/l.svg" --no-text >"$TMP/out" 2>&1 &&
    [ ! -s "$TMP/out" ] && xmllint --noout "$TMP/l.svg" && grep -q "FIN+ACK merged: three-way close" "$TMP/l.svg"; then
    ok "ladder --svg --no-text"
else
    bad "ladder --svg --no-text"
fi
# Standard input, --list, --absolute.
if "$TW" ladder - <"$TMP/client-close.jsonl" | diff -q "$GOLDEN/client-close.txt" - >/dev/null; then ok "ladder - reads stdin"; else bad "ladder -"; fi
if grep -q "^1  client 198.18.0.1:[0-9]* (conn 1) <-> server 198.18.0.2:80 (conn 1)  [0-9]* events  client reset the connection" <<<"$("$TW" ladder "$TMP/abort.jsonl" --list)"; then
    ok "ladder --list"
else
    bad "ladder --list: $("$TW" ladder "$TMP/abort.jsonl" --list 2>&1)"
fi
isn=$(grep -m1 '"flags":"SYN"' "$TMP/abort.jsonl" | sed 's/.*"seq":\([0-9]*\).*/\1/')
if grep -q -- "-- SYN seq=$isn --" <<<"$("$TW" ladder "$TMP/abort.jsonl" --absolute)"; then ok "ladder --absolute"; else bad "ladder --absolute (ISN $isn)"; fi

# Lifecycle and counters in the demo.
out="$("$TW" demo --scenario client-close)"
grep -q "^   close: four-way close, client closed first$" <<<"$out" && ok "demo prints the close reason" || bad "demo close reason"
grep -q "dwell: SYN_SENT 2.000 ms, ESTABLISHED 2.000 ms, FIN_WAIT_1 2.000 ms, FIN_WAIT_2 50.000 ms, TIME_WAIT 60.000000 s" <<<"$out" &&
    ok "demo prints dwell times" || bad "demo dwell times"
out="$("$TW" demo --scenario lost-final-ack --summary --stats)"
if grep -q "counters of the client" <<<"$out" && grep -q "counters of the server" <<<"$out" &&
    grep -Eq "^ +TW_FIN_REACK +1  retransmitted FINs re-ACKed in TIME_WAIT \(2MSL restarted\)$" <<<"$out" &&
    grep -Eq "^ +TCP_RETRANS +1  TCP segments retransmitted \(RTO\)$" <<<"$out" &&
    ! grep -q "DROP_IP_SHORT" <<<"$out"; then
    ok "demo --stats prints the non-zero counters with their meaning"
else
    bad "demo --stats: $out"
fi

# Help texts name every flag and give examples.
h="$("$TW" ladder --help)"
for f in --conn --list --relative --absolute --symbolic --svg --no-text example; do
    grep -q -- "$f" <<<"$h" || bad "ladder --help lacks $f"
done
h="$("$TW" demo --help)"
for f in --scenario --seed --delay-ms --msl-s --ladder --absolute --symbolic --svg --trace --stats --summary --list example; do
    grep -q -- "$f" <<<"$h" || bad "demo --help lacks $f"
done
grep -q "ladder" <<<"$("$TW" help)" && ok "help texts" || bad "tcpwave help lacks ladder"

# Bad arguments: exit 2 and a message.
J="$TMP/client-close.jsonl"
expect_exit 2 "needs a trace file" -- "$TW" ladder
expect_exit 2 "--conn needs a connection number" -- "$TW" ladder "$J" --conn 0
expect_exit 2 "--conn needs a connection number" -- "$TW" ladder "$J" --conn x1
expect_exit 2 "--conn needs a connection number" -- "$TW" ladder "$J" --conn
expect_exit 2 "unknown option '--bogus'" -- "$TW" ladder "$J" --bogus
expect_exit 2 "choose one of --relative, --absolute and --symbolic" -- "$TW" ladder "$J" --absolute --symbolic
expect_exit 2 "one trace file only" -- "$TW" ladder "$J" "$J"
expect_exit 2 "--svg needs a file name" -- "$TW" ladder "$J" --svg
expect_exit 2 "--no-text without --svg" -- "$TW" ladder "$J" --no-text
expect_exit 2 "--trace write one scenario" -- "$TW" demo --scenario all --trace "$TMP/x.jsonl"
expect_exit 2 "--svg write one scenario" -- "$TW" demo --svg "$TMP/x.svg" --scenario all
expect_exit 2 "choose one of --absolute and --symbolic" -- "$TW" demo --absolute --symbolic
expect_exit 2 "exclude each other" -- "$TW" demo --ladder --summary
expect_exit 2 "--svg needs a value" -- "$TW" demo --svg
expect_exit 2 "unknown option '--bogus'" -- "$TW" demo --bogus
expect_exit 2 "unknown scenario 'nope'" -- "$TW" demo --scenario nope
# Bad input: exit 1 and where.
expect_exit 1 "cannot open '$TMP/none.jsonl'" -- "$TW" ladder "$TMP/none.jsonl"
head -2 "$J" >"$TMP/broken.jsonl"
echo '{"t":5,"kind":"seg_out","seq":"x"}' >>"$TMP/broken.jsonl"
expect_exit 1 "broken.jsonl: line 3: column 31: \"seq\": expected a whole number" -- "$TW" ladder "$TMP/broken.jsonl"
expect_exit 1 "no connection 2: the trace has 1" -- "$TW" ladder "$J" --conn 2
printf '{"t":1,"kind":"drop","reason":"DROP_IP_SHORT"}\n' >"$TMP/noconn.jsonl"
expect_exit 1 "the trace has no connection" -- "$TW" ladder "$TMP/noconn.jsonl"
expect_exit 1 "cannot write" -- "$TW" ladder "$J" --svg "$TMP/no/such/dir/x.svg"

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
