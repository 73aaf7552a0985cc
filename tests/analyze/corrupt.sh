#!/bin/bash
# corrupt.sh - `tcpwave analyze` on damaged captures: a capture written by
# `tcpwave demo --pcap` (and its pcapng form, when editcap is installed) is
# truncated at every offset of its first 200 bytes and at several offsets
# further on, and has bytes flipped at many positions. Every run must end
# with exit status 0 (still a valid capture) or 1 with an error that names
# the frame (or the file header) - never a crash, a hang or another status.
# Usage: bash corrupt.sh PATH-TO-tcpwave
set -u
TW="${1:?usage: bash corrupt.sh PATH-TO-tcpwave}"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tw-an-corrupt.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

"$TW" demo --scenario lost-final-ack --pcap "$WORK/good.pcap" --summary >/dev/null ||
    { echo "FAIL: demo --pcap"; exit 1; }
"$TW" analyze "$WORK/good.pcap" >"$WORK/out" 2>&1 || { cat "$WORK/out"; echo "FAIL: good capture"; exit 1; }
grep -q "final ACK lost" "$WORK/out" || { cat "$WORK/out"; echo "FAIL: diagnosis missing"; exit 1; }
files=("$WORK/good.pcap")
if command -v editcap >/dev/null 2>&1; then
    editcap -F pcapng "$WORK/good.pcap" "$WORK/good.pcapng" &&
        "$TW" analyze "$WORK/good.pcapng" | grep -q "final ACK lost" &&
        files+=("$WORK/good.pcapng") || fail "pcapng form not analyzed alike"
fi

# check FILE WHAT: exit 0, or 1 with "frame N:" / "file header:" in the message
check() {
    local f="$1" what="$2" rc
    timeout 10 "$TW" analyze "$f" >"$WORK/o" 2>"$WORK/e"
    rc=$?
    case $rc in
    0) ;;
    1) grep -qE "(frame [0-9]+|file header): " "$WORK/e" ||
        fail "$what: exit 1 without a frame number: $(head -c 300 "$WORK/e")" ;;
    *) fail "$what: exit status $rc (crash or hang?): $(head -c 300 "$WORK/e")" ;;
    esac
    return 0
}

n=0
for f in "${files[@]}"; do
    size=$(stat -c %s "$f")
    offsets="$(seq 0 199) $(seq 200 37 "$size")"
    for off in $offsets; do
        [ "$off" -lt "$size" ] || continue
        head -c "$off" "$f" >"$WORK/cut"
        check "$WORK/cut" "$(basename "$f") cut at $off"
        n=$((n + 1))
    done
    # a cut inside the second record must name frame 2 (classic pcap: 24-byte
    # file header, 16-byte record headers)
    if [ "${f##*.}" = pcap ]; then
        len1=$(od -An -t u4 -j 32 -N 4 "$f" | tr -d ' ')
        head -c $((24 + 16 + len1 + 20)) "$f" >"$WORK/cut2"
        "$TW" analyze "$WORK/cut2" >/dev/null 2>"$WORK/e"
        rc=$?
        [ $rc -eq 1 ] && grep -q "frame 2: " "$WORK/e" ||
            fail "cut in record 2: status $rc, message: $(cat "$WORK/e")"
    fi
    for pos in $(seq 0 11 "$size"); do
        for val in 0 255; do
            cp "$f" "$WORK/flip"
            printf "$(printf '\\%03o' "$val")" |
                dd of="$WORK/flip" bs=1 seek="$pos" conv=notrunc status=none
            check "$WORK/flip" "$(basename "$f") byte $pos = $val"
            n=$((n + 1))
        done
    done
done
# not a capture at all
echo "hello" >"$WORK/text"
check "$WORK/text" "a text file"
"$TW" analyze "$WORK/text" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a text file must give exit status 1"
"$TW" analyze "$WORK/missing.pcap" >/dev/null 2>&1
[ $? -eq 1 ] || fail "a missing file must give exit status 1"

echo "$n damaged captures analyzed, $fails failure(s)"
[ $fails -eq 0 ]
