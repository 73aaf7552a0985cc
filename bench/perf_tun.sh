#!/usr/bin/env bash
# perf_tun.sh - where the TUN path's CPU goes: profiles one TUN churn workload
# of bench_tun (kernel client -> TUN -> tcpwave) with `perf record -e
# cpu-clock -g` (a software clock: works without hardware counters, e.g. in a
# VM) and prints the inclusive share of the kernel's and tcpwave's entry
# points. docs/performance.md quotes its output.
#
#   bash bench/perf_tun.sh BUILD [lib|serve|veth] [SECONDS]
#
# BUILD is a build tree with bench/bench_tun and tcpwave (bench/run's
# build/bench). Needs root (bench_tun's namespaces) and perf (linux-perf).
# Shares are of the samples of the workload's processes (client + server),
# the namespace set-up included (a few %), and overlap where one entry point
# runs inside another (tcp_v4_rcv inside tun_get_user).
set -uo pipefail
build="${1:?usage: perf_tun.sh BUILD [lib|serve|veth] [SECONDS]}"
what="${2:-lib}"
secs="${3:-2}"
command -v perf >/dev/null || { echo "perf_tun: perf not installed (linux-perf)"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "perf_tun: needs root"; exit 77; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tw-perf-tun.XXXXXX")" || exit 1
trap 'rm -rf "$tmp"' EXIT
cpu=$(( $(nproc) - 1 ))
perf record -q -e cpu-clock -F 4000 -g -o "$tmp/perf.data" -- \
    taskset -c "$cpu" "$build/bench/bench_tun" --tcpwave "$build/tcpwave" --only "$what" \
    --churn-seconds "$secs" --churn-max 20000 >"$tmp/out.json" 2>"$tmp/err" ||
    { cat "$tmp/err"; exit 1; }
cat "$tmp/out.json"
comms=bench_tun,tcpwave
echo "-- by process and object (self, % of all samples):"
perf report -i "$tmp/perf.data" --no-children --sort comm,dso --stdio -g none 2>/dev/null |
    grep -E '^ +[0-9].*(bench_tun|tcpwave) ' | head -8
echo "-- inclusive share of entry points:"
perf report -i "$tmp/perf.data" --comm "$comms" --children --sort sym --stdio -g none 2>/dev/null >"$tmp/rep"
for sym in tun_get_user tcp_v4_rcv __sys_connect __inet_hash_connect tcp_sendmsg __dev_queue_xmit \
    tun_net_xmit veth_xmit net_rx_action tcp_recvmsg tcp_close __sys_accept4 tun_do_read do_epoll_wait \
    do_timerfd_settime __schedule tw_tunloop_run tw_stack_input tw_stack_poll __vfprintf_internal; do
    line="$(grep -E "\] ${sym}\$" "$tmp/rep" | head -1)"
    [ -n "$line" ] && printf '  %-22s %s\n' "$sym" "$(echo "$line" | awk '{print $1}')"
done
