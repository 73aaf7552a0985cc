# http.sh - HTTP/1.0 both ways over TUN, with the kernel's everyday tools:
#   a. curl -> tcpwave serve --mode http: GET / (hello), GET /bytes/4000000
#      (4 MB of the i%251 pattern, checked by sha256), GET /nope (404); the
#      server closes first each time; captured by tcpdump on the device too;
#   b. tcpwave connect --http -> python3 -m http.server (the kernel serves a
#      1 MB file); the response body must match the file.
# Usage: bash http.sh PATH-TO-tcpwave
source "$(dirname "$0")/lib.bash"
interop_init "$@"
command -v curl >/dev/null 2>&1 || skip "'curl' not installed (./tw deps installs it)"

# a. curl against tcpwave
tcpdump_ok=0
tcpdump_start tcpdump && tcpdump_ok=1
tw_bg serve "$TW" serve --tun "$IFACE" --addr "$TADDR" --port 80 --mode http --count 3 --msl-s 1 \
    --quiet --pcap "$WORK/a.pcap" --timeout-s 60
wait_line "$WORK/serve.log" "CLOSED -> LISTEN" 10
body="$(curl -sS -m 10 "http://$TADDR/")"
[ "$body" = "hello from tcpwave" ] && pass "curl /: '$body'" || fail "curl /: got '$body'"
curl -sS -m 30 -o "$WORK/big" "http://$TADDR/bytes/4000000" || fail "curl /bytes/4000000"
want="$(python3 -c "import sys, hashlib; sys.path.insert(0, '$HERE'); import peer; \
print(hashlib.sha256(peer.pattern(4000000)).hexdigest())")"
got="$(sha256sum "$WORK/big" | cut -d' ' -f1)"
[ "$got" = "$want" ] && pass "curl /bytes/4000000: sha256 matches the pattern" ||
    fail "curl /bytes/4000000: sha256 $got, want $want ($(stat -c %s "$WORK/big" 2>/dev/null) bytes)"
code="$(curl -s -m 10 -o /dev/null -w '%{http_code}' "http://$TADDR/nope")"
[ "$code" = 404 ] && pass "curl /nope: 404" || fail "curl /nope: status $code"
wait_job serve 20 && pass "serve exited 0 after 3 connections" || fail "serve exit status"
[ "$(grep -c 'LAST_ACK -> CLOSED\|TIME_WAIT -> CLOSED' "$WORK/serve.log")" -eq 3 ] &&
    pass "3 connections reached CLOSED" || fail "not 3 connections closed"
pcap_check "$WORK/a.pcap" --min-packets 2000 --wave-re "FIN:\.2 (ACK:\.1 FIN:\.1|FIN\+ACK:\.1) ACK:\.2"
[ $tcpdump_ok -eq 1 ] && tcpdump_check tcpdump --min-packets 2000 --wave-re "FIN:\.2 (ACK:\.1 FIN:\.1|FIN\+ACK:\.1) ACK:\.2"

# b. tcpwave fetches a file from the kernel's python3 -m http.server
mkdir -p "$WORK/www"
head -c 1000000 /dev/urandom >"$WORK/www/file.bin"
tw_bg httpd python3 -m http.server --bind "$KADDR" --directory "$WORK/www" 8080
for ((i = 0; i < 100; i++)); do
    ss -tlnH "( sport = :8080 )" | grep -q 8080 && break
    sleep 0.1
done
tw_bg connect "$TW" connect --tun "$IFACE" --addr "$TADDR" --to "$KADDR:8080" --http /file.bin \
    --out "$WORK/resp" --msl-s 1 --quiet --pcap "$WORK/b.pcap" --timeout-s 30
wait_job connect 30 && pass "connect --http exited 0" || fail "connect --http exit status"
python3 - "$WORK/resp" "$WORK/www/file.bin" <<'PY' && pass "HTTP body == the served file (1 MB)" || fail "HTTP body differs"
import sys
resp, want = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
head, _, body = resp.partition(b"\r\n\r\n")
sys.exit(not (head.startswith(b"HTTP/1.0 200") and body == want))
PY
expect_order "$WORK/connect.log" "ESTABLISHED -> CLOSE_WAIT" "CLOSE_WAIT -> LAST_ACK" "LAST_ACK -> CLOSED"
pcap_check "$WORK/b.pcap" --min-packets 500 --wave-re "FIN:\.1 (ACK:\.2 FIN:\.2|FIN\+ACK:\.2) ACK:\.1"

finish
