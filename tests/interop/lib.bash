# lib.bash - shared by the interop tests (tests/interop/*.sh): the Linux
# kernel as tcpwave's peer over a TUN device in a private network namespace.
#
# A test script starts with
#     source "$(dirname "$0")/lib.bash"
#     interop_init "$@"          # $1: the tcpwave binary
# which skips (exit 77) without root, /dev/net/tun or a needed tool, re-runs
# the script inside a new network namespace (unshare -n), creates the TUN
# device tw0 with the kernel side at 198.18.0.1/24 (tcpwave is 198.18.0.2;
# 198.18.0.0/15 is the benchmarking range of RFC 2544, never routed), and
# refuses to go on unless the namespace holds only lo and tw0 and no default
# route. Every wait has a timeout; on exit, background jobs are killed, the
# device is deleted and the namespace goes away with the last process. The
# work dir (logs, captures) is removed after a pass unless TW_INTEROP_KEEP=1.
#
# Helpers: tw_bg NAME CMD... (run in background, log in $WORK/NAME.log),
# wait_line FILE REGEX SECS, wait_job NAME SECS (its exit status), expect_line
# FILE REGEX, expect_order FILE REGEX..., ss_wait STATE PORT SECS, ss_gone
# PORT SECS, pcap_check FILE ARGS..., fail MSG, pass MSG.

set -u
set -o pipefail

IFACE=tw0
KADDR=198.18.0.1
TADDR=198.18.0.2
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PEER="python3 $HERE/peer.py"
export PYTHONDONTWRITEBYTECODE=1 # no __pycache__ in the source tree
TEST_NAME="$(basename "${0%.sh}")"
FAILED=0
declare -A JOB_PID=()

say() { printf '[%s] %s\n' "$TEST_NAME" "$*"; }
skip() { say "SKIP: $*"; exit 77; }

interop_init() {
    TW="${1:-}"
    [ -n "$TW" ] && [ -x "$TW" ] || { say "usage: bash $0 PATH-TO-tcpwave"; exit 2; }
    TW="$(cd "$(dirname "$TW")" && pwd)/$(basename "$TW")"
    if [ "${TW_INTEROP_NETNS:-}" != "$$" ]; then
        [ "$(id -u)" -eq 0 ] || skip "needs root (network namespace + TUN device); run as root"
        [ -c /dev/net/tun ] || skip "/dev/net/tun is missing (modprobe tun)"
        local t
        for t in unshare ip ss python3 tshark timeout pgrep ps; do
            command -v "$t" >/dev/null 2>&1 || skip "'$t' not installed (./tw deps installs it)"
        done
        unshare -n true 2>/dev/null || skip "cannot create a network namespace here (unshare -n failed)"
        # Re-run this script in a fresh network namespace; the variable names
        # the new shell's PID so a nested run cannot mistake it.
        exec unshare -n -- bash -c 'export TW_INTEROP_NETNS=$$; exec bash "$0" "$@"' "$0" "$@"
    fi
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/tw-interop-$TEST_NAME.XXXXXX")"
    trap cleanup EXIT
    trap 'exit 1' INT TERM
    ip link set lo up
    ip tuntap add dev "$IFACE" mode tun || { say "FAIL: cannot create $IFACE"; exit 1; }
    # No IPv6 on the link: keeps router solicitations out of the captures.
    if [ -w "/proc/sys/net/ipv6/conf/$IFACE/disable_ipv6" ]; then
        echo 1 >"/proc/sys/net/ipv6/conf/$IFACE/disable_ipv6"
    fi
    ip addr add "$KADDR/24" dev "$IFACE"
    ip link set "$IFACE" up
    check_isolated
    say "namespace ready: lo + $IFACE ($KADDR/24, tcpwave $TADDR), work dir $WORK"
}

# The namespace must hold only lo and the TUN device, no default route and
# only the test's own addresses: never send anything anywhere else.
check_isolated() {
    local links routes addrs
    links="$(ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')"
    routes="$(ip -4 route show default; ip -6 route show default 2>/dev/null)"
    addrs="$(ip -4 -o addr show | awk '{print $4}' | sort | tr '\n' ' ')"
    if [ "$links" != "lo $IFACE " ] || [ -n "$routes" ] || [ "$addrs" != "127.0.0.1/8 $KADDR/24 " ]; then
        say "FAIL: refusing to run: the namespace is not isolated"
        say "  links: $links; default routes: ${routes:-none}; addresses: $addrs"
        exit 1
    fi
}

cleanup() {
    local rc=$? name
    for name in "${!JOB_PID[@]}"; do
        kill "${JOB_PID[$name]}" 2>/dev/null
    done
    wait 2>/dev/null
    ip link del "$IFACE" 2>/dev/null
    if [ -n "${TW_INTEROP_KEEP:-}" ]; then
        say "work dir kept (TW_INTEROP_KEEP): $WORK"
    elif [ $rc -ne 0 ] || [ $FAILED -ne 0 ]; then
        say "logs kept in $WORK"
        local f
        for f in "$WORK"/*.log; do
            [ -e "$f" ] || continue
            echo "----- ${f##*/} (last 60 lines)"
            tail -n 60 "$f"
        done
    else
        rm -rf "$WORK"
    fi
    exit $rc
}

fail() { say "FAIL: $*"; FAILED=1; }
pass() { say "ok: $*"; }

# tw_bg NAME CMD...: runs CMD in the background (bounded by `timeout 90`),
# output in $WORK/NAME.log; its PID in JOB_PID[NAME].
tw_bg() {
    local name="$1"; shift
    timeout -k 5 90 "$@" >"$WORK/$name.log" 2>&1 &
    JOB_PID[$name]=$!
}

# signal_job NAME SIG: sends SIG to the command tw_bg started, not to the
# `timeout` wrapping it. Signalling `timeout` would make it forward the
# signal to its process group and then send SIGCONT; a SIGCONT that lands
# while an ASan build's leak checker is attaching to the exiting process
# (ptrace) can cancel the attach stop and leave the process hanging until
# timeout's SIGKILL. Returns 1 if the command is not running.
signal_job() {
    local name="$1" sig="$2" pid="${JOB_PID[$1]}" child
    child="$(pgrep -P "$pid" 2>/dev/null | head -1)"
    [ -n "$child" ] || return 1
    kill -s "$sig" "$child"
}

# job_state NAME: one line per process of the job (timeout and its command):
# pid, state, kernel wait channel and command, to show where a hang sits.
job_state() {
    local pid="${JOB_PID[$1]}" p
    for p in "$pid" $(pgrep -P "$pid" 2>/dev/null); do
        ps -o pid=,stat=,wchan:24=,args= -p "$p" 2>/dev/null
    done
}

# wait_job NAME SECS: waits for the job; returns its exit status (124 and a
# failure if it did not end in time).
wait_job() {
    local name="$1" secs="$2" pid="${JOB_PID[$1]}" i
    for ((i = 0; i < secs * 10; i++)); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            local rc=$?
            unset "JOB_PID[$name]"
            return $rc
        fi
        sleep 0.1
    done
    fail "$name still running after ${secs}s: $(job_state "$name" | tr '\n' ';')"
    kill "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "JOB_PID[$name]"
    return 124
}

# wait_line FILE REGEX SECS: until a line of FILE matches (grep -E).
wait_line() {
    local f="$1" re="$2" secs="$3" i
    for ((i = 0; i < secs * 20; i++)); do
        grep -qE -- "$re" "$f" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "no line /$re/ in ${f##*/} after ${secs}s"
    return 1
}

expect_line() {
    if grep -qE -- "$2" "$1"; then pass "${1##*/}: /$2/"; else fail "${1##*/}: no line /$2/"; fi
}

# expect_order FILE REGEX...: the regexes match lines of FILE in this order.
expect_order() {
    local f="$1"; shift
    local line=0 re n
    for re in "$@"; do
        n="$(tail -n +$((line + 1)) "$f" | grep -nE -m1 -- "$re" | cut -d: -f1)"
        if [ -z "$n" ]; then
            fail "${f##*/}: no /$re/ after line $line"
            return 1
        fi
        line=$((line + n))
    done
    pass "${f##*/}: in order: $*"
}

# ss_wait STATE PORT SECS: a kernel TCP socket with that port (either end) is
# in STATE (ss names: close-wait, fin-wait-2, time-wait, ...).
ss_wait() {
    local st="$1" port="$2" secs="$3" i out
    for ((i = 0; i < secs * 20; i++)); do
        out="$(ss -tanH state "$st" "( sport = :$port or dport = :$port )" 2>/dev/null)"
        if [ -n "$out" ]; then
            pass "kernel socket in $st: $(echo "$out" | awk '{print $3, $4}' | head -1)"
            return 0
        fi
        sleep 0.05
    done
    fail "no kernel socket in $st for port $port within ${secs}s ($(ss -tanH | tr '\n' ';'))"
    return 1
}

# ss_gone PORT SECS [STATES]: no kernel socket on that port other than in
# the listed states (default: none allowed) within SECS.
ss_gone() {
    local port="$1" secs="$2" allow="${3:-}" i out
    for ((i = 0; i < secs * 20; i++)); do
        out="$(ss -tanH state all "( sport = :$port or dport = :$port )" 2>/dev/null |
            awk '{print $1}' | grep -vE "^(LISTEN${allow:+|$allow})$")"
        if [ -z "$out" ]; then
            pass "kernel sockets on port $port gone${allow:+ (or in $allow)}"
            return 0
        fi
        sleep 0.05
    done
    fail "kernel sockets on port $port still there after ${secs}s: $(echo "$out" | tr '\n' ' ')"
    return 1
}

# tcpdump_start NAME: captures the TUN device into $WORK/NAME.pcap; returns 1
# (and the test goes on without it) if tcpdump is missing or does not start.
tcpdump_start() {
    command -v tcpdump >/dev/null 2>&1 || { say "tcpdump not installed: no device capture"; return 1; }
    # A 32 MB buffer and no per-packet flush: the capture keeps up with 4 MB
    # transfers on a loaded machine.
    tw_bg "$1" tcpdump -n -B 32768 -i "$IFACE" -w "$WORK/$1.pcap"
    wait_line "$WORK/$1.log" "listening on" 10
}

# tcpdump_check NAME ARGS...: stops the capture and checks it; packets the
# kernel dropped from tcpdump's buffer ("N packets dropped by kernel") are
# gaps in the capture, not on the wire, and are tolerated with a note.
tcpdump_check() {
    local name="$1"; shift
    sleep 0.3
    kill -INT "${JOB_PID[$name]}" 2>/dev/null
    wait_job "$name" 10
    local dropped
    dropped="$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel$/\1/p' "$WORK/$name.log")"
    if [ -n "$dropped" ] && [ "$dropped" != 0 ]; then
        say "note: tcpdump lost $dropped packets from its buffer (not from the wire)"
        set -- "$@" --allow-gaps
    fi
    pcap_check "$WORK/$name.pcap" "$@"
}

pcap_check() {
    if python3 "$HERE/pcapcheck.py" "$@" >"$WORK/pcapcheck.out" 2>&1; then
        sed 's/^/  /' "$WORK/pcapcheck.out"
        pass "capture ${1##*/} checked"
    else
        sed 's/^/  /' "$WORK/pcapcheck.out"
        fail "capture ${1##*/}"
    fi
}

# finish: the closing summary line ctest and humans read.
finish() {
    if [ $FAILED -ne 0 ]; then
        say "FAILED"
        exit 1
    fi
    say "PASSED"
    exit 0
}
