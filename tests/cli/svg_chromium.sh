#!/usr/bin/env bash
# svg_chromium.sh - opens the ladder SVG of `tcpwave demo --svg` in headless
# Chromium and checks the screenshot: a valid PNG of the requested size that
# is not blank and shows the arrows in their colours (client blue, server
# green, retransmission orange, loss red), so the SVG really renders in a
# browser, not just parses. Usage: bash svg_chromium.sh <path-to-tcpwave>
# Screenshots stay in $TW_SCREENSHOT_DIR (default $TMPDIR/tcpwave-screenshots).
# Without Chromium: exit 77 (skipped) outside CI, failure under CI=true
# (./tw deps installs the Debian package `chromium`).
set -uo pipefail
TW="${1:?usage: svg_chromium.sh <path-to-tcpwave>}"

CHROME=""
for c in chromium chromium-browser google-chrome; do
    if command -v "$c" >/dev/null 2>&1; then CHROME="$(command -v "$c")"; break; fi
done
if [ -z "$CHROME" ]; then
    if [ "${CI:-}" = "true" ]; then
        echo "FAIL: chromium is not installed; CI must install it (scripts/packages.txt, ./tw deps)"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "SKIP: chromium is not installed, so the SVG cannot be screenshot-checked;"
    echo "      install it with ./tw deps (Debian package 'chromium') to run this test"
    exit 77
fi
command -v python3 >/dev/null 2>&1 || { echo "FAIL: python3 is needed to check the PNG"; exit 1; }

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
SHOTS="${TW_SCREENSHOT_DIR:-${TMPDIR:-/tmp}/tcpwave-screenshots}"
mkdir -p "$SHOTS" || { echo "FAIL: cannot create $SHOTS"; exit 1; }
SVG="$SHOTS/lost-final-ack.svg"
PNG="$SHOTS/lost-final-ack.png"
rm -f "$PNG"

if ! "$TW" demo --scenario lost-final-ack --symbolic --svg "$SVG" >"$TMP/demo.out" 2>&1; then
    cat "$TMP/demo.out"
    echo "FAIL: tcpwave demo --svg"
    exit 1
fi

# Chromium as root needs --no-sandbox; a fresh profile keeps runs independent.
timeout 45 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$TMP/profile" --screenshot="$PNG" --window-size=1200,1600 \
    "file://$SVG" >"$TMP/chrome.log" 2>&1
rc=$?
if [ ! -s "$PNG" ]; then
    tail -20 "$TMP/chrome.log"
    echo "FAIL: chromium (exit $rc) wrote no screenshot to $PNG"
    echo "0 passed, 1 failed"
    exit 1
fi

python3 - "$PNG" <<'PY'
import struct, sys, zlib

def fail(msg):
    print("FAIL: " + msg)
    print("0 passed, 1 failed")
    sys.exit(1)

data = open(sys.argv[1], 'rb').read()
if data[:8] != b'\x89PNG\r\n\x1a\n':
    fail("not a PNG file (bad signature)")
pos, idat, hdr = 8, [], None
while pos + 12 <= len(data):
    ln, = struct.unpack('>I', data[pos:pos + 4])
    typ, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + ln]
    crc, = struct.unpack('>I', data[pos + 8 + ln:pos + 12 + ln])
    if zlib.crc32(typ + body) & 0xffffffff != crc:
        fail("bad CRC in PNG chunk %r" % typ)
    if typ == b'IHDR':
        hdr = struct.unpack('>IIBBBBB', body)
    elif typ == b'IDAT':
        idat.append(body)
    elif typ == b'IEND':
        break
    pos += 12 + ln
if not hdr or not idat:
    fail("PNG without IHDR or IDAT")
w, h, depth, ctype, _, _, interlace = hdr
if (w, h) != (1200, 1600):
    fail("screenshot is %dx%d, expected 1200x1600" % (w, h))
if depth != 8 or ctype not in (2, 6) or interlace:
    fail("unexpected PNG format %r" % (hdr,))
bpp = 3 if ctype == 2 else 4
stride = w * bpp
raw = zlib.decompress(b''.join(idat))
if len(raw) != h * (stride + 1):
    fail("PNG pixel data has the wrong size")

prev = bytes(stride)
colours = {}
for y in range(h):  # undo the PNG row filters (RFC 2083 section 6)
    f = raw[y * (stride + 1)]
    line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    if f == 1:
        for x in range(bpp, stride):
            line[x] = (line[x] + line[x - bpp]) & 255
    elif f == 2:
        line = bytearray((a + b) & 255 for a, b in zip(line, prev))
    elif f == 3:
        for x in range(stride):
            line[x] = (line[x] + ((line[x - bpp] if x >= bpp else 0) + prev[x]) // 2) & 255
    elif f == 4:
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], (prev[x - bpp] if x >= bpp else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    elif f != 0:
        fail("bad PNG filter type %d" % f)
    prev = bytes(line)
    for x in range(0, stride, bpp):
        k = bytes(line[x:x + 3])
        colours[k] = colours.get(k, 0) + 1

total = w * h
if len(colours) < 2:
    fail("the screenshot is blank: one colour only")
white = colours.get(b'\xff\xff\xff', 0)
if total - white < total // 200:
    fail("the screenshot is nearly blank: %d non-white pixels" % (total - white))

def near(rgb, tol=60):
    return sum(n for k, n in colours.items() if sum(abs(k[i] - rgb[i]) for i in range(3)) <= tol)

wanted = {"client arrows (blue)": (0x1f, 0x5f, 0xbf), "server arrows (green)": (0x1a, 0x7f, 0x37),
          "retransmission (orange)": (0xc2, 0x6a, 0x00), "loss X (red)": (0xc6, 0x28, 0x28),
          "text (black)": (0x22, 0x22, 0x22)}
for what, rgb in wanted.items():
    n = near(rgb)
    if n < 40:
        fail("no %s in the screenshot (%d pixels near #%02x%02x%02x)" % ((what, n) + rgb))
    print("ok: %s: %d pixels" % (what, n))
print("ok: %d colours, %d of %d pixels not white" % (len(colours), total - white, total))
PY
[ $? -eq 0 ] || exit 1
echo "screenshot: $PNG"
echo "1 passed, 0 failed"
