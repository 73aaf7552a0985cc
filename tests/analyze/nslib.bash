# nslib.bash - the private network namespace of the kernel_*.sh analyzer
# tests. Source it after setting TEST (the name in messages); then:
#   ns_enter "$0" "$@"  - checks root, the tools in NS_TOOLS and /dev/net/tun
#                         when NS_TUN=1 (else exit 77: skipped), then re-runs
#                         the script inside a new network namespace
#                         (unshare -n); returns only inside it.
#   ns_isolated LINKS   - exit 1 unless the namespace holds exactly LINKS
#                         (sorted, space-separated) and no default route.
#   ns_verdict RC       - PASS for RC 0; else shows the analyzer's report,
#                         keeps WORK and exits 1.
# Inside, WORK is a fresh directory (kept with KEEP=1) and TCPDUMP_PID (one
# or more PIDs), if set, is stopped at exit.
say() { echo "[$TEST] $*"; }

ns_enter() {
    local script="$1" t
    shift
    [ "${TW_AN_NETNS:-}" = "$$" ] && { ns_inside; return 0; }
    [ "$(id -u)" -eq 0 ] || { say "SKIP: needs root (a network namespace and tcpdump)"; exit 77; }
    if [ "${NS_TUN:-0}" = 1 ] && [ ! -c /dev/net/tun ]; then
        say "SKIP: /dev/net/tun is missing"
        exit 77
    fi
    for t in unshare ip ss tcpdump python3 timeout ${NS_TOOLS:-}; do
        command -v "$t" >/dev/null 2>&1 || { say "SKIP: '$t' not installed (./tw deps)"; exit 77; }
    done
    unshare -n true 2>/dev/null || { say "SKIP: cannot create a network namespace"; exit 77; }
    exec unshare -n -- bash -c 'export TW_AN_NETNS=$$; exec bash "$0" "$@"' "$script" "$@"
}

ns_cleanup() {
    [ -n "${TCPDUMP_PID:-}" ] && kill $TCPDUMP_PID 2>/dev/null
    [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}

ns_inside() {
    export PYTHONDONTWRITEBYTECODE=1
    WORK="$(mktemp -d "${TMPDIR:-/tmp}/tw-$TEST.XXXXXX")"
    TCPDUMP_PID=""
    trap ns_cleanup EXIT
    ip link set lo up
}

ns_isolated() {
    local want="$1" links routes
    links="$(ip -o link show | awk -F': ' '{print $2}' | sort | tr '\n' ' ')"
    routes="$(ip -4 route show default)"
    if [ "$links" != "$want" ] || [ -n "$routes" ]; then
        say "FAIL: refusing to run: the namespace is not isolated (links: $links; routes: $routes)"
        exit 1
    fi
}

ns_verdict() {
    if [ "$1" -ne 0 ]; then
        KEEP=1
        cat "$WORK/analyze.txt"
        say "FAIL (files kept in $WORK)"
        exit 1
    fi
    say "PASS"
}
