#!/usr/bin/env bash
# kernel_grid.sh - the Linux kernel's TCP goodput over a lossy, delayed path,
# on the loss x delay grid of issue 9 (loss 0/0.1/1/5 %, one-way delay
# 1/20/100 ms), for comparison with tcpwave's grid over its simulated link
# (tests/sim/test_goodput.c, golden tests/sim/golden/goodput.txt).
#
# netem is the usual tool for this, but it needs the sch_netem module, which
# kernels without loadable modules (like this project's CI machine) lack. So
# the path is two TUN devices joined by bench/tun_relay.c, a userspace netem
# substitute (seeded loss, fixed delay, bounded queue):
#
#   client ns                 outer ns (private)                server ns
#   198.18.1.1/24 twg-c  <->  tun_relay --loss L --delay-ms D  <->  twg-s 198.18.1.2/24
#
# Isolation (checked, or it refuses to run): the script re-runs itself under
# `unshare --mount --net` (a private mount namespace and an empty network
# namespace, the "outer" one, where the relay runs), then makes two more
# network namespaces, each held by a bounded `sleep` (unshare -n), creates the
# TUN devices in the outer namespace and moves one into each. Before any packet
# is sent it checks that the outer namespace holds only lo and that each inner
# one holds only lo and its TUN device, with only its own 198.18.1.x/24
# address (198.18.0.0/15: RFC 2544's benchmarking range, never routed) and no
# default route. Every process runs under `timeout`; on exit the jobs are
# stopped, the devices deleted and the namespaces vanish with their holders.
#
# Each cell: a fresh relay (loss L each way, delay D each way, seed fixed),
# a Python server in the server namespace and a Python client in the client
# namespace; the client connects and writes as fast as it can; the server
# reads for SECONDS (default 4) from accept(). Goodput = bytes the server read
# in those SECONDS / SECONDS, so it includes slow start (like the sim's grid,
# which times a 4 MiB transfer from connect() to the last byte) but not the
# handshake; the JSON also has the goodput after the first 0.5 s
# ("steady_mbit"). The kernel's own settings are left at their defaults except
# the congestion control, set to --cc (default cubic) on both sockets with
# TCP_CONGESTION (a fresh namespace inherits the host's default, which may be
# bbr, and may not set a restricted one as its own default), and
# tcp_no_metrics_save=1 (plus a tcp_metrics flush before each cell) so no
# cell inherits an ssthresh from the one before. The header prints these
# sysctls, and each cell's client reads back TCP_INFO: the options negotiated
# (SACK/TS/WS) and its retransmissions.
#
# The figures are of this machine. The 0 % row has no loss on the relay: its
# bottleneck is the relay's CPU (it shares 2 cores with Python and the
# kernel), and the kernel drops only where the client's TUN queue (txqueuelen
# 500) overflows ahead of the relay; those drops are counted per cell ("tun
# drops c->s"), with the relay's own counters (forwarded, lost, queue_full),
# on stderr and in the JSON. The sim's grid uses 256 KiB socket buffers and a
# fixed 4 MiB transfer; `--buf 262144` brings the kernel's buffers closer.
#
# usage: bash bench/kernel_grid.sh [--quick] [--json FILE] [--seconds S]
#                                  [--cc NAME] [--buf BYTES] [--relay PATH] [--seed N]
#   --quick       two cells only (0 % x 1 ms and 1 % x 20 ms)
#   --json FILE   also write the grid and every cell's raw figures as JSON
#   --seconds S   measuring time per cell, 1..30 (default 4)
#   --cc NAME     congestion control of both sockets (default cubic)
#   --buf BYTES   SO_SNDBUF and SO_RCVBUF of both sockets, set before
#                 connect()/listen() (the kernel doubles it for overhead);
#                 default 0: the kernel's autotuning (tcp_rmem/tcp_wmem)
#   --relay PATH  a built tun_relay (e.g. BUILD/bench/bench_tun_relay);
#                 default: compile bench/tun_relay.c into the work dir with cc
#   --seed N      the relay's loss seed (default 1)
# Needs root, /dev/net/tun, ip, unshare, nsenter, timeout and python3.
# Full grid: 12 cells, about 12 x (SECONDS + 2) s (66 s at the default here).
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
say() { printf 'kernel_grid: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }
usage() { sed -n '/^# usage:/,/^# Full grid/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }

QUICK=0 JSON="" SECS=4 CC=cubic RELAY="" SEED=1 BUF=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --json) [ $# -ge 2 ] || die "--json needs a file"; JSON="$2"; shift ;;
        --seconds) [ $# -ge 2 ] || die "--seconds needs a value"; SECS="$2"; shift ;;
        --cc) [ $# -ge 2 ] || die "--cc needs a name"; CC="$2"; shift ;;
        --buf) [ $# -ge 2 ] || die "--buf needs a value"; BUF="$2"; shift ;;
        --relay) [ $# -ge 2 ] || die "--relay needs a path"; RELAY="$2"; shift ;;
        --seed) [ $# -ge 2 ] || die "--seed needs a value"; SEED="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) say "unknown argument '$1'"; usage >&2; exit 2 ;;
    esac
    shift
done
[[ "$SECS" =~ ^[0-9]+$ ]] && [ "$SECS" -ge 1 ] && [ "$SECS" -le 30 ] || die "--seconds: '$SECS' is not a whole number in 1..30"
[[ "$SEED" =~ ^[0-9]+$ ]] || die "--seed: '$SEED' is not an unsigned number"
[[ "$BUF" =~ ^[0-9]+$ ]] && [ "$BUF" -le 268435456 ] || die "--buf: '$BUF' is not a byte count in 0..268435456"
[[ "$CC" =~ ^[a-z0-9_]+$ ]] || die "--cc: '$CC' is not a congestion control name"

# ---------------------------------------------------------------- stage 1: host side
if [ "${TW_GRID_NS:-}" != "$$" ]; then
    # 77: "skipped" for ctest (bench.kernel_grid_quick) on a machine without root or TUN
    [ "$(id -u)" -eq 0 ] || { say "needs root (network namespaces + TUN devices): skipped"; exit 77; }
    [ -c /dev/net/tun ] || { say "/dev/net/tun is missing: skipped"; exit 77; }
    for t in ip unshare nsenter timeout python3; do
        command -v "$t" >/dev/null 2>&1 || die "'$t' is not installed"
    done
    if [ -n "$RELAY" ]; then
        [ -x "$RELAY" ] || die "--relay: '$RELAY' is not an executable"
        RELAY="$(cd "$(dirname "$RELAY")" && pwd)/$(basename "$RELAY")"
    else
        command -v cc >/dev/null 2>&1 || die "no --relay given and no C compiler (cc) to build bench/tun_relay.c"
    fi
    if [ -n "$JSON" ]; then
        case "$JSON" in /*) ;; *) JSON="$PWD/$JSON" ;; esac
        [ -d "$(dirname "$JSON")" ] || die "--json: directory of '$JSON' does not exist"
    fi
    grep -qw "$CC" /proc/sys/net/ipv4/tcp_available_congestion_control 2>/dev/null ||
        die "--cc $CC: not available (have: $(cat /proc/sys/net/ipv4/tcp_available_congestion_control 2>/dev/null))"
    unshare --mount --propagation private --net true 2>/dev/null || die "cannot create namespaces here (unshare failed)"
    HOST_CC="$(cat /proc/sys/net/ipv4/tcp_congestion_control)"
    export HOST_CC
    args=(--seconds "$SECS" --cc "$CC" --seed "$SEED" --buf "$BUF")
    [ "$QUICK" -eq 1 ] && args+=(--quick)
    [ -n "$JSON" ] && args+=(--json "$JSON")
    [ -n "$RELAY" ] && args+=(--relay "$RELAY")
    # The variable names the new shell's PID, so a nested run cannot mistake it.
    exec unshare --mount --propagation private --net -- \
        bash -c 'export TW_GRID_NS=$$; exec bash "$0" "$@"' "${BASH_SOURCE[0]}" "${args[@]}"
fi

# ---------------------------------------------------------------- stage 2: in the outer namespace
# The interpreter itself, not a wrapper (pyenv's shim costs ~0.5 s a start).
PY="$(python3 -c 'import sys; print(sys.executable)')" && [ -x "$PY" ] || PY="$(command -v python3)"
DEV_C=twg-c DEV_S=twg-s
ADDR_C=198.18.1.1 ADDR_S=198.18.1.2
WORK="$(mktemp -d "${TMPDIR:-/tmp}/tw-kgrid.XXXXXX")" || exit 1
HOLD_C="" HOLD_S="" RELAY_PID="" MADE_DEVS=0
BG_PIDS=()

cleanup() {
    local rc=$? p
    trap - EXIT INT TERM
    for p in "${BG_PIDS[@]}" $RELAY_PID; do kill "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}" $RELAY_PID; do wait "$p" 2>/dev/null; done
    # Only devices this run made (wherever they are now).
    if [ "$MADE_DEVS" -eq 1 ]; then
        [ -n "$HOLD_C" ] && nsenter --net="/proc/$HOLD_C/ns/net" ip link del "$DEV_C" 2>/dev/null
        [ -n "$HOLD_S" ] && nsenter --net="/proc/$HOLD_S/ns/net" ip link del "$DEV_S" 2>/dev/null
        ip link del "$DEV_C" 2>/dev/null
        ip link del "$DEV_S" 2>/dev/null
    fi
    for p in $HOLD_C $HOLD_S; do kill "$p" 2>/dev/null; done
    for p in $HOLD_C $HOLD_S; do wait "$p" 2>/dev/null; done
    if [ $rc -ne 0 ]; then
        say "failed (exit $rc); logs kept in $WORK"
    else
        rm -rf "$WORK"
    fi
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_c() { nsenter --net="/proc/$HOLD_C/ns/net" "$@"; }
in_s() { nsenter --net="/proc/$HOLD_S/ns/net" "$@"; }

if [ -z "$RELAY" ]; then
    cc -std=c11 -O2 -Wall -Wextra -Werror -o "$WORK/tun_relay" "$HERE/tun_relay.c" 2>"$WORK/cc.log" ||
        { cat "$WORK/cc.log" >&2; die "cannot compile bench/tun_relay.c"; }
    RELAY="$WORK/tun_relay"
fi

if [ "$QUICK" -eq 1 ]; then
    CELLS=("0 1" "1 20")
    LOSSES=(0 1) DELAYS=(1 20)
else
    CELLS=()
    LOSSES=(0 0.1 1 5) DELAYS=(1 20 100)
    for l in "${LOSSES[@]}"; do for d in "${DELAYS[@]}"; do CELLS+=("$l $d"); done; done
fi
HOLD_SECS=$(( ${#CELLS[@]} * (SECS + 25) + 60 ))

# Refuse to go on unless every namespace is what we built: the outer one is
# checked before anything is created in it (so a run that somehow is not in
# a fresh namespace stops here), all three again before any packet is sent.
ns_links() { ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' '; }
ns_addrs() { ip -4 -o addr show | awk '{print $4}' | sort | tr '\n' ' '; }
ns_default() { ip -4 route show default; ip -6 route show default 2>/dev/null; }
ns_offnet() { ip -4 route show table all | grep -vE '^(local |broadcast )?(127\.|198\.1[89]\.)' | grep -v '^$'; }
check_ns() { # WHO EXPECTED-LINKS EXPECTED-ADDRS CMD-PREFIX...
    local who="$1" want_links="$2" want_addrs="$3"; shift 3
    local links addrs def off
    links="$("$@" bash -c "$(declare -f ns_links); ns_links")"
    addrs="$("$@" bash -c "$(declare -f ns_addrs); ns_addrs")"
    def="$("$@" bash -c "$(declare -f ns_default); ns_default")"
    off="$("$@" bash -c "$(declare -f ns_offnet); ns_offnet")"
    if [ "$links" != "$want_links" ] || [ "$addrs" != "$want_addrs" ] || [ -n "$def" ] || [ -n "$off" ]; then
        say "refusing to run: the $who namespace is not isolated"
        say "  links: '$links' (want '$want_links'); addresses: '$addrs' (want '$want_addrs')"
        say "  default routes: '${def:-none}'; routes outside 127/8 and 198.18/15: '${off:-none}'"
        exit 1
    fi
}
[ "$(readlink /proc/self/ns/net)" != "$(readlink /proc/1/ns/net)" ] || die "refusing to run: still in the host's network namespace"
ip link set lo up
check_ns outer "lo " "127.0.0.1/8 " env

# The two inner namespaces, each held by a bounded sleep.
my_ns="$(readlink /proc/self/ns/net)"
unshare --net -- sleep "$HOLD_SECS" & HOLD_C=$!
unshare --net -- sleep "$HOLD_SECS" & HOLD_S=$!
for i in $(seq 50); do
    nc="$(readlink "/proc/$HOLD_C/ns/net" 2>/dev/null)"; ns="$(readlink "/proc/$HOLD_S/ns/net" 2>/dev/null)"
    [ -n "$nc" ] && [ -n "$ns" ] && [ "$nc" != "$my_ns" ] && [ "$ns" != "$my_ns" ] && [ "$nc" != "$ns" ] && break
    sleep 0.1
done
[ "$nc" != "$my_ns" ] && [ "$ns" != "$my_ns" ] && [ "$nc" != "$ns" ] || die "the inner namespaces did not come up"

# TUN devices made here (the relay attaches to them later), then moved.
setup_side() { # HOLDER DEV ADDR
    local pid="$1" dev="$2" addr="$3"
    ip tuntap add dev "$dev" mode tun || die "cannot create TUN device $dev"
    MADE_DEVS=1
    ip link set "$dev" mtu 1500 netns "$pid" || die "cannot move $dev into its namespace"
    nsenter --net="/proc/$pid/ns/net" bash -c '
        set -e
        ip link set lo up
        echo 1 >/proc/sys/net/ipv6/conf/'"$dev"'/disable_ipv6 2>/dev/null || true
        ip addr add '"$addr"'/24 dev '"$dev"'
        ip link set '"$dev"' up
        echo 1 >/proc/sys/net/ipv4/tcp_no_metrics_save' || die "cannot configure $dev"
}
setup_side "$HOLD_C" "$DEV_C" "$ADDR_C"
setup_side "$HOLD_S" "$DEV_S" "$ADDR_S"

check_ns outer "lo " "127.0.0.1/8 " env
check_ns client "lo $DEV_C " "127.0.0.1/8 $ADDR_C/24 " in_c
check_ns server "lo $DEV_S " "127.0.0.1/8 $ADDR_S/24 " in_s

# The bulk client and server (Python, kernel sockets).
cat >"$WORK/bulk.py" <<'PYEOF'
"""bulk.py server|client ADDR PORT SECONDS CC BUF: one bulk TCP transfer."""
import json, select, socket, struct, sys, time

WARMUP = 0.5

def set_buf(s, buf):
    if buf > 0:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, buf)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, buf)

def server(addr, port, secs, cc, buf):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    set_buf(ls, buf)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    ls.bind((addr, port))
    ls.listen(1)
    print("listening", file=sys.stderr, flush=True)
    ls.settimeout(15)
    conn, _ = ls.accept()
    t0 = time.monotonic()
    end = t0 + secs
    buf = bytearray(1 << 20)
    total = after = 0
    eof = False
    while True:
        now = time.monotonic()
        if now >= end:
            break
        r, _, _ = select.select([conn], [], [], end - now)
        if not r:
            continue
        n = conn.recv_into(buf)
        if n == 0:
            eof = True
            break
        total += n
        if time.monotonic() - t0 >= WARMUP:
            after += n
    print(json.dumps({"bytes": total, "bytes_after_warmup": after, "seconds": secs,
                      "warmup": WARMUP, "eof_early": eof}), flush=True)
    conn.close()  # unread data: RST, which ends the client

TCPI_OPT = {1: "TS", 2: "SACK", 4: "WS", 8: "ECN"}

def tcp_info(s):
    raw = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
    u8 = struct.unpack_from("8B", raw, 0)
    u32 = struct.unpack_from("24I", raw, 8)
    opts = [name for bit, name in TCPI_OPT.items() if u8[5] & bit]
    return {"options": opts, "snd_wscale": u8[6] & 15, "rcv_wscale": u8[6] >> 4,
            "rtt_ms": u32[15] / 1000.0, "snd_cwnd": u32[18], "snd_ssthresh": u32[17],
            "snd_mss": u32[2], "total_retrans": u32[23]}

def client(addr, port, secs, cc, buf):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    set_buf(s, buf)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, cc.encode())
    s.settimeout(10)
    s.connect((addr, port))
    got_cc = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).split(b"\0")[0].decode()
    s.setblocking(False)
    chunk = memoryview(bytearray(b"x" * (256 << 10)))
    end = time.monotonic() + secs + 1  # the server reads secs from accept(), <= 1 RTT later
    info = tcp_info(s)
    sent = 0
    why = "deadline"
    while time.monotonic() < end:
        _, w, _ = select.select([], [s], [], 0.2)
        if not w:
            continue
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            continue
        except OSError as e:
            why = e.__class__.__name__
            break
        info = tcp_info(s)
    info.update({"cc": got_cc, "sent": sent, "ended": why})
    print(json.dumps(info), flush=True)
    s.close()

if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
    else:
        client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5], int(sys.argv[6]))
PYEOF

# drops NSFN DEV: "tx_dropped qdisc_drops" of a device (its queue towards the
# relay: where the kernel drops when the relay does not keep up).
drops() {
    local tx q
    tx="$("$1" ip -s link show dev "$2" | awk '/TX:/ { getline; print $4; exit }')"
    q="$("$1" tc -s qdisc show dev "$2" | sed -n 's/.*(dropped \([0-9]*\),.*/\1/p' | awk '{ n += $1 } END { print n + 0 }')"
    echo "${tx:-0} ${q:-0}"
}

wait_line() { # FILE REGEX SECS
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -qE -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

sysctl_in() { in_c cat "/proc/sys/net/ipv4/$1" | tr '\t' ' '; }
{
    echo "== Linux kernel TCP goodput over TUN + tun_relay (netem substitute), Mbit/s"
    echo "   kernel $(uname -r); client $ADDR_C -> server $ADDR_S; MTU 1500; $SECS s per cell from accept(); relay seed $SEED"
    echo "   congestion control: $CC on both sockets (TCP_CONGESTION; namespace default $(sysctl_in tcp_congestion_control), host ${HOST_CC:-?})"
    echo "   sysctl: tcp_sack=$(sysctl_in tcp_sack) tcp_timestamps=$(sysctl_in tcp_timestamps)" \
        "tcp_window_scaling=$(sysctl_in tcp_window_scaling) tcp_ecn=$(sysctl_in tcp_ecn)" \
        "tcp_no_metrics_save=$(sysctl_in tcp_no_metrics_save)"
    echo "   sysctl: tcp_rmem='$(sysctl_in tcp_rmem)' tcp_wmem='$(sysctl_in tcp_wmem)'; socket buffers:" \
        "$([ "$BUF" -gt 0 ] && echo "SO_SNDBUF=SO_RCVBUF=$BUF" || echo "autotuning")"
    echo "   loss: each packet, each direction; delay: one way, each direction (RTT = 2 x delay)"
} >"$WORK/header"
cat "$WORK/header"

# ---------------------------------------------------------------- the cells
declare -A GOOD=()
: >"$WORK/cells.jsonl"
port=5001
for cell in "${CELLS[@]}"; do
    read -r loss delay <<<"$cell"
    port=$((port + 1))
    tag="l${loss}_d${delay}"
    cell_t0=$SECONDS
    in_c ip tcp_metrics flush all 2>/dev/null
    in_s ip tcp_metrics flush all 2>/dev/null
    read -r c_tx0 c_q0 <<<"$(drops in_c "$DEV_C")"
    read -r s_tx0 s_q0 <<<"$(drops in_s "$DEV_S")"
    timeout -k 2 $((SECS + 30)) "$RELAY" --netns-a "/proc/$HOLD_C/ns/net" --netns-b "/proc/$HOLD_S/ns/net" \
        --loss "$loss" --delay-ms "$delay" --seed "$SEED" --max-seconds $((SECS + 25)) \
        "$DEV_C" "$DEV_S" >"$WORK/$tag.relay" 2>"$WORK/$tag.relay.err" &
    RELAY_PID=$!
    wait_line "$WORK/$tag.relay.err" "tun_relay: ready" 10 || { cat "$WORK/$tag.relay.err" >&2; die "relay did not start"; }
    timeout -k 2 $((SECS + 20)) nsenter --net="/proc/$HOLD_S/ns/net" \
        "$PY" "$WORK/bulk.py" server "$ADDR_S" "$port" "$SECS" "$CC" "$BUF" >"$WORK/$tag.server" 2>"$WORK/$tag.server.err" &
    spid=$!
    BG_PIDS=("$spid")
    wait_line "$WORK/$tag.server.err" "listening" 10 || { cat "$WORK/$tag.server.err" >&2; die "server did not start"; }
    timeout -k 2 $((SECS + 20)) nsenter --net="/proc/$HOLD_C/ns/net" \
        "$PY" "$WORK/bulk.py" client "$ADDR_S" "$port" "$SECS" "$CC" "$BUF" >"$WORK/$tag.client" 2>"$WORK/$tag.client.err" &
    cpid=$!
    BG_PIDS+=("$cpid")
    wait "$spid"; src=$?
    wait "$cpid"; crc=$?
    BG_PIDS=()
    kill -TERM "$RELAY_PID" 2>/dev/null
    wait "$RELAY_PID"
    RELAY_PID=""
    read -r c_tx1 c_q1 <<<"$(drops in_c "$DEV_C")"
    read -r s_tx1 s_q1 <<<"$(drops in_s "$DEV_S")"
    devdrops="{\"client_tun_tx_dropped\": $((c_tx1 - c_tx0)), \"client_qdisc_drops\": $((c_q1 - c_q0)),"
    devdrops+=" \"server_tun_tx_dropped\": $((s_tx1 - s_tx0)), \"server_qdisc_drops\": $((s_q1 - s_q0))}"
    if [ $src -ne 0 ] || [ $crc -ne 0 ] || ! [ -s "$WORK/$tag.server" ]; then
        say "cell loss $loss% delay $delay ms failed (server exit $src, client exit $crc)"
        cat "$WORK/$tag.server.err" "$WORK/$tag.client.err" >&2
        GOOD[$tag]="fail"
        continue
    fi
    # One line of JSON for the cell appended to cells.jsonl; on stdout the
    # goodput, the goodput after the warm-up, and a summary.
    line="$("$PY" - "$WORK/$tag.server" "$WORK/$tag.client" "$WORK/$tag.relay" "$loss" "$delay" "$devdrops" \
        "$WORK/cells.jsonl" <<'PYEOF'
import json, re, sys
srv = json.load(open(sys.argv[1]))
try:
    cli = json.load(open(sys.argv[2]))
except Exception:
    cli = {}
relay = {}
for ln in open(sys.argv[3]):
    m = re.match(r"tun_relay: total forwarded (\d+) dropped_loss (\d+) dropped_queue (\d+)", ln)
    if m:
        relay = {"forwarded": int(m[1]), "dropped_loss": int(m[2]), "dropped_queue": int(m[3])}
good = srv["bytes"] * 8 / srv["seconds"] / 1e6
steady = srv["bytes_after_warmup"] * 8 / (srv["seconds"] - srv["warmup"]) / 1e6
dd = json.loads(sys.argv[6])
cell = {"loss_pct": float(sys.argv[4]), "delay_ms": float(sys.argv[5]), "goodput_mbit": round(good, 3),
        "steady_mbit": round(steady, 3), "server": srv, "client": cli, "relay": relay, "device_drops": dd}
with open(sys.argv[7], "a") as f:
    f.write(json.dumps(cell) + "\n")
print("%.2f %.2f %s/%s retrans=%s relay: fwd=%s lost=%s qfull=%s; tun drops c->s %d s->c %d" % (
      good, steady, cli.get("cc", "?"), "+".join(cli.get("options", [])) or "-",
      cli.get("total_retrans", "?"), relay.get("forwarded", "?"), relay.get("dropped_loss", "?"),
      relay.get("dropped_queue", "?"), dd["client_tun_tx_dropped"] + dd["client_qdisc_drops"],
      dd["server_tun_tx_dropped"] + dd["server_qdisc_drops"]))
PYEOF
)" || die "cannot read the results of cell $tag"
    read -r g s info <<<"$line"
    GOOD[$tag]="$g"
    say "loss $loss% delay $delay ms: $g Mbit/s (after 0.5 s: $s) $info ($((SECONDS - cell_t0)) s)"
done

# ---------------------------------------------------------------- the table
{
    printf '\n%-8s' "loss"
    for d in "${DELAYS[@]}"; do printf '%12s' "${d} ms"; done
    printf '\n'
    for l in "${LOSSES[@]}"; do
        printf '%-8s' "${l}%"
        for d in "${DELAYS[@]}"; do printf '%12s' "${GOOD[l${l}_d${d}]:--}"; done
        printf '\n'
    done
    printf '\n(goodput = bytes read by the server in %s s from accept() / %s s; rows loss, columns one-way delay)\n' "$SECS" "$SECS"
    printf "tcpwave's grid over its simulated link: tests/sim/test_goodput.c (golden tests/sim/golden/goodput.txt)\n"
} | tee "$WORK/table"

if [ -n "$JSON" ]; then
    "$PY" - "$WORK/cells.jsonl" "$WORK/header" "$JSON" "$SECS" "$CC" "$SEED" "$(uname -r)" "$BUF" <<'PYEOF' || die "cannot write $JSON"
import json, sys
cells = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = {"what": "Linux kernel TCP goodput over TUN + tun_relay (netem substitute)",
       "kernel": sys.argv[7], "cc": sys.argv[5], "seconds_per_cell": float(sys.argv[4]),
       "relay_seed": int(sys.argv[6]), "socket_buf": int(sys.argv[8]), "header": open(sys.argv[2]).read().splitlines(),
       "goodput": "bytes read by the server in seconds_per_cell from accept(), Mbit/s; "
                  "steady_mbit: the same after the first 0.5 s",
       "cells": cells}
with open(sys.argv[3], "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
PYEOF
    say "JSON written to $JSON"
fi
exit 0
