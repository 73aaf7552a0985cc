#!/bin/bash
# linktypes.sh - the analysis must not depend on the capture's framing:
# three demo scenarios' captures (tcpwave demo --pcap: link type RAW) is
# rewritten by relink.py into Ethernet, Linux cooked SLL and SLL2 (what
# tcpdump -i any writes), BSD loopback (DLT_NULL, little-endian family) and
# OpenBSD loopback (DLT_LOOP), each as pcap and as pcapng; `tcpwave analyze
# --json` must print exactly the same records for all of them, and the text
# must name the link type libpcap reports. No root needed.
# Usage: bash linktypes.sh PATH-TO-tcpwave
set -u
TW="${1:?usage: bash linktypes.sh PATH-TO-tcpwave}"
HERE="$(cd "$(dirname "$0")" && pwd)"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 not installed"; exit 77; }
export PYTHONDONTWRITEBYTECODE=1
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tw-an-link.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fails=0 n=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
declare -A NAME=([raw]=RAW [en10mb]=EN10MB [sll]=LINUX_SLL [sll2]=LINUX_SLL2 [null]=NULL [loop]=LOOP)

for scn in client-close simultaneous lost-final-ack; do
    "$TW" demo --scenario "$scn" --pcap "$WORK/$scn.pcap" --summary >/dev/null || { fail "demo $scn"; continue; }
    "$TW" analyze "$WORK/$scn.pcap" --json >"$WORK/$scn.ref" || { fail "analyze $scn"; continue; }
    [ -s "$WORK/$scn.ref" ] || { fail "$scn: no record"; continue; }
    for fmt in raw en10mb sll sll2 null loop; do
        f="$WORK/$scn.$fmt.pcap"
        python3 "$HERE/relink.py" "$WORK/$scn.pcap" "$f" "$fmt" || { fail "relink $scn $fmt"; continue; }
        python3 "$HERE/relink.py" "$f" "$f.pcapng" pcapng || { fail "relink $scn $fmt pcapng"; continue; }
        for g in "$f" "$f.pcapng"; do
            n=$((n + 1))
            "$TW" analyze "$g" --json >"$WORK/out" 2>"$WORK/err" || { fail "$(basename "$g"): $(cat "$WORK/err")"; continue; }
            cmp -s "$WORK/out" "$WORK/$scn.ref" ||
                fail "$(basename "$g"): records differ from the RAW capture's: $(diff "$WORK/$scn.ref" "$WORK/out" | head -c 400)"
            "$TW" analyze "$g" | grep -q "link type ${NAME[$fmt]}, " ||
                fail "$(basename "$g"): the text does not name link type ${NAME[$fmt]}"
        done
    done
done
# the right diagnosis survives the rewriting, e.g. the lost final ACK in SLL2 pcapng
"$TW" analyze "$WORK/lost-final-ack.sll2.pcap.pcapng" | grep -q "final ACK lost: the server's FIN was retransmitted 1 time" ||
    fail "lost-final-ack in SLL2 pcapng: diagnosis missing"
# --time: absolute ISO 8601 UTC times in the text; a bad value is a usage error
"$TW" analyze "$WORK/client-close.pcap" --time abs | grep -q "^  time: first frame 1970-01-01T00:00:00.001000Z, last frame 1970-01-01T00:00:00.057000Z (UTC)$" ||
    fail "--time abs: header line"
"$TW" analyze "$WORK/client-close.pcap" --time often >/dev/null 2>&1
[ $? -eq 2 ] || fail "--time often must exit 2"
echo "$n rewritten captures analyzed, $fails failure(s)"
[ $fails -eq 0 ]
